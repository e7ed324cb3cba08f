#!/usr/bin/python3
"""Where the glue's RouteContact time goes, outside Kamailio: the same Python
client (bindings/python/routing_sidecar) and the same request as
integrations/kamailio/routing_glue.py's route_call (voice, one skill, the
queue, a language, a customer id), against a routingd given on the command
line, timed in three parts per call:

  encode  route() entered to the request's bytes handed to ZeroMQ (building
          the FlatBuffers request in Python);
  wire    send() to recv() returning: ZeroMQ both ways, routingd's I/O
          thread and worker, and the decision itself;
  decode  recv() returned to route() returning (reading the reply into a
          dict).

Every routed contact is released at once, so the agents stay free and every
decision assigns. Run it on the core Kamailio would use, with routingd where
it would be (bench/telephony/call_setup_compare.sh does: GLUE_COST=1).

Usage: glue_client_cost.py --server tcp://127.0.0.1:PORT [--calls 2000]
           [--agents 100] [--rate 50 (calls/s; 0: back to back)]
Prints one JSON object: p50/p99 in microseconds of each part and the total.
"""

import argparse
import json
import time

from routing_sidecar import Client


def percentile(values, q):
    values = sorted(values)
    return values[max(0, -(-len(values) * q // 100) - 1)]


class TimedSocket:
    """Wraps the client's DEALER socket to time the send and the receive."""

    def __init__(self, socket):
        self._socket = socket
        self.sent_ns = 0
        self.received_ns = 0

    def send(self, data):
        self.sent_ns = time.perf_counter_ns()
        return self._socket.send(data)

    def recv(self):
        data = self._socket.recv()
        self.received_ns = time.perf_counter_ns()
        return data

    def __getattr__(self, name):
        return getattr(self._socket, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50)
    args = parser.parse_args()

    client = Client(args.server, timeout_ms=5000)
    for i in range(1, args.agents + 1):
        agent = f"cost{i:03d}"
        client.add_agent(agent, skills={"billing": 5}, languages={"en": 5},
                         capacity={"voice": 1})
        client.set_agent_state(agent, "available")
    timed = TimedSocket(client._socket)
    client._socket = timed

    parts = {"encode": [], "wire": [], "decode": [], "total": []}
    period = 1 / args.rate if args.rate > 0 else 0
    next_at = time.monotonic()
    for n in range(args.calls + 50):
        if period:
            next_at += period
            time.sleep(max(0, next_at - time.monotonic()))
        contact = f"cost-{n}"
        start = time.perf_counter_ns()
        decision = client.route(contact, channel="voice", skills={"billing": 1},
                                queue="billing", languages=["en"],
                                customer_id=f"cust-{n}")
        end = time.perf_counter_ns()
        sent, received = timed.sent_ns, timed.received_ns  # before release() reuses them
        if decision["outcome"] != "assigned":
            raise SystemExit(f"glue_client_cost: {contact} was {decision['outcome']}")
        client.release(contact, "resolved")
        if n < 50:
            continue  # warm-up: connection, first allocations
        parts["encode"].append(sent - start)
        parts["wire"].append(received - sent)
        parts["decode"].append(end - received)
        parts["total"].append(end - start)

    out = {"calls": args.calls, "rate": args.rate}
    for name, values in parts.items():
        out[f"{name}_p50_us"] = round(percentile(values, 50) / 1000, 1)
        out[f"{name}_p99_us"] = round(percentile(values, 99) / 1000, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
