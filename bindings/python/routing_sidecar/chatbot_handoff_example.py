#!/usr/bin/env python3
"""A chatbot hands a conversation to a human agent through routingd.

The bot has learned the customer's intent and a summary; it routes the chat
with that context, then waits on the contact's event topic for the agent
assignment, which carries the context back so the agent can greet the
customer without asking again.

    bazel run //bindings/python/routing_sidecar:chatbot_handoff_example
    # or, against a running daemon (package on PYTHONPATH):
    python3 chatbot_handoff_example.py --server=tcp://127.0.0.1:5555 \
        --events=tcp://127.0.0.1:5556
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

from routing_sidecar import Client, EventSubscriber, contact_topic


def start_routingd(path, workdir):
    server = f"ipc://{workdir}/routingd.sock"
    events = f"ipc://{workdir}/routingd-events.sock"
    # --http= : the example needs no metrics or supervisor page, and must
    # not fail when another routingd holds the default HTTP port.
    process = subprocess.Popen([path, f"--listen={server}",
                                f"--events={events}", "--http="])
    client = Client(server, timeout_ms=200)
    for _ in range(100):
        try:
            client.health()
            break
        except TimeoutError:
            time.sleep(0.05)
    client.close()
    return process, server, events


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="routingd request endpoint")
    parser.add_argument("--events", help="routingd event endpoint")
    parser.add_argument("--routingd", help="routingd binary to start when "
                        "--server is not given")
    args = parser.parse_args()

    process = None
    with tempfile.TemporaryDirectory(prefix="handoff-") as workdir:
        if args.server:
            server, events = args.server, args.events or "tcp://127.0.0.1:5556"
        elif args.routingd:
            process, server, events = start_routingd(args.routingd, workdir)
        else:
            parser.error("give --server (and --events) or --routingd")
        try:
            run(server, events)
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=10)
                print(f"routingd stopped (exit code {code})")


def run(server, events):
    client = Client(server)
    # The contact center's roster: one billing agent, already on a chat.
    client.add_agent("alice", skills={"billing": 5}, languages={"en": 5},
                     capacity={"chat": 1})
    client.set_agent_state("alice", "available")
    client.route("chat-earlier", channel="chat", skills={"billing": 1})

    # The bot's side. It subscribes first, so the assignment is not missed.
    contact_id = f"chat-{os.getpid()}"
    # contact_topic ends with NUL: this chat's events alone.
    subscriber = EventSubscriber(events, topics=[contact_topic(contact_id)])
    time.sleep(0.2)  # Let the subscription reach the publisher.
    print("bot: I can't fix a double charge myself; let me get you a person.")
    decision = client.route(
        contact_id, channel="chat", skills={"billing": 3}, languages=["en"],
        customer_id="cust-1001",
        handoff={"intent": "billing.dispute", "language": "en",
                 "sentiment": "frustrated",
                 "summary": "Charged twice for invoice INV-88 in May; "
                            "wants one charge refunded.",
                 "attributes": {"invoice": "INV-88", "bot_turns": "7"}})
    if decision["outcome"] == "queued":
        print(f"bot: you are number {decision['queue_position']} in the "
              f"{decision['queue']} queue (about "
              f"{decision['estimated_wait_ms'] // 1000} s).")
        # Elsewhere, alice finishes her earlier chat.
        client.release("chat-earlier", "resolved")
        # The contact's topic hears its whole life: skip to the assignment.
        while True:
            topic, event = subscriber.next(timeout_ms=5000)
            if event["type"] == "assigned":
                break
        topic = topic.rstrip("\0")
    else:
        topic, event = None, {"agent_id": decision["agent_id"],
                              "context": {}, "waited_ms": 0}
    context = event["context"]
    print(f"[{topic}] assigned to {event['agent_id']} after "
          f"{event['waited_ms']} ms")
    print(f"agent desktop: intent={context.get('intent')} "
          f"sentiment={context.get('sentiment')}")
    print(f"agent desktop: summary: {context.get('summary')}")
    print(f"agent desktop: details: {context.get('attributes')}")
    print(f"{event['agent_id']}: Hi! I see you were charged twice for "
          f"{context.get('attributes', {}).get('invoice')}; let me fix that.")
    subscriber.close()
    client.close()


if __name__ == "__main__":
    sys.exit(main())
