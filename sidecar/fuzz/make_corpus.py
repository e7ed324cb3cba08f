#!/usr/bin/env python3
"""Writes the fuzz seed corpus: one valid request of every type (built by
the Python client, so from the schema) and a few near-misses.

    bindings/python/routing_sidecar/generate.sh
    PYTHONPATH=bindings/python python3 sidecar/fuzz/make_corpus.py \
        sidecar/fuzz/corpus
"""

import os
import sys

from routing_sidecar import Client


class Capture:
    """Stands in for the DEALER socket: keeps what is sent, never answers."""

    def __init__(self):
        self.sent = []

    def send(self, payload):
        self.sent.append(bytes(payload))

    def poll(self, timeout):
        return 0

    def close(self):
        pass


def main(out):
    client = Client("inproc://unused")
    client._socket.close()
    capture = client._socket = Capture()
    calls = {
        "add_agent": lambda: client.add_agent(
            "alice", skills={"billing": 4, "sales": 2}, languages={"en": 5},
            capacity={"chat": 2, "voice": 1}, team="blue"),
        "update_agent": lambda: client.add_agent(
            "alice", skills={"billing": 5}, capacity={"chat": 3}, update=True),
        "set_state": lambda: client.set_agent_state("alice", "available"),
        "remove_agent": lambda: client.remove_agent("alice"),
        "list_agents": client.list_agents,
        "route": lambda: client.route(
            "chat-1", channel="chat", skills={"billing": 2},
            desired={"sales": 1}, languages=["en", "es"], priority=3,
            customer_id="c-9",
            handoff={"intent": "billing.dispute", "language": "en",
                     "sentiment": "negative", "summary": "charged twice",
                     "attributes": {"invoice": "INV-1"}}),
        "requeue": lambda: client.route("chat-1", channel="voice",
                                        skills={"sales": 1}, requeue=True),
        "cancel": lambda: client.cancel("chat-1"),
        "release": lambda: client.release("chat-1", "resolved"),
        "reload_path": lambda: client.reload_rules(path="/etc/rules.lua"),
        "reload_source": lambda: client.reload_rules(source="return {}"),
        "stats": lambda: client.stats(60),
        "health": client.health,
        "release_survey": lambda: client.release("chat-1", "resolved",
                                                 csat=4, nps=9),
        "get_contact": lambda: client.get_contact("chat-1"),
        "list_contacts": lambda: client.list_contacts("billing", limit=50),
    }
    os.makedirs(out, exist_ok=True)
    for name, call in calls.items():
        try:
            call()
        except TimeoutError:
            pass
        payload = capture.sent[-1]
        with open(os.path.join(out, f"{name}.bin"), "wb") as f:
            f.write(payload)
    route = capture.sent[5]
    near_misses = {
        "wrong_identifier": route[:4] + b"XXXX" + route[8:],
        "truncated": route[: len(route) // 2],
        "empty": b"",
    }
    for name, payload in near_misses.items():
        with open(os.path.join(out, f"{name}.bin"), "wb") as f:
            f.write(payload)
    print(f"wrote {len(calls) + len(near_misses)} seeds to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sidecar/fuzz/corpus")
