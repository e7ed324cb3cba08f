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

With --native the same calls go through NativeClient (native_client.py:
the C++ client in librouting_sidecar_native.so, called through ctypes),
where building the request and reading the reply happen inside one foreign
call: only the total is timed ("encode", "wire" and "decode" are left out of
the JSON), and "client" says which client ran.

Every routed contact is released at once, so the agents stay free and every
decision assigns. Run it on the core Kamailio would use, with routingd where
it would be (bench/telephony/call_setup_compare.sh does: GLUE_COST=1).

Usage: glue_client_cost.py --server tcp://127.0.0.1:PORT [--calls 2000]
           [--agents 100] [--rate 50 (calls/s; 0: back to back)] [--native]
Prints one JSON object: p50/p99 in microseconds of each part and the total
(--native: the total only). --native needs the package's native library:
bazel build //bindings/python/routing_sidecar:librouting_sidecar_native.so
and ROUTING_SIDECAR_NATIVE_LIB=bazel-bin/bindings/python/routing_sidecar/
librouting_sidecar_native.so, or the package from the runfiles of
//tests/bindings/python:native_client_test, which has it beside its modules.
"""

import argparse
import json
import sys
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
    parser.add_argument("--native", action="store_true",
                        help="time NativeClient.route (total only)")
    args = parser.parse_args()
    if args.native:
        from routing_sidecar import native_available
        if not native_available():
            from routing_sidecar import native_client
            sys.exit("glue_client_cost: --native: no native library at "
                     f"{native_client.library_path()}")

    client = Client(args.server, timeout_ms=5000)
    for i in range(1, args.agents + 1):
        agent = f"cost{i:03d}"
        client.add_agent(agent, skills={"billing": 5}, languages={"en": 5},
                         capacity={"voice": 1})
        client.set_agent_state(agent, "available")
    if args.native:
        from routing_sidecar import NativeClient
        client.close()
        client = NativeClient(args.server, timeout_ms=5000)
        timed = None
        parts = {"total": []}
    else:
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
        if timed is not None:  # before release() reuses them
            sent, received = timed.sent_ns, timed.received_ns
        if decision["outcome"] != "assigned":
            raise SystemExit(f"glue_client_cost: {contact} was {decision['outcome']}")
        client.release(contact, "resolved")
        if n < 50:
            continue  # warm-up: connection, first allocations
        if timed is not None:
            parts["encode"].append(sent - start)
            parts["wire"].append(received - sent)
            parts["decode"].append(end - received)
        parts["total"].append(end - start)

    out = {"calls": args.calls, "rate": args.rate,
           "client": "native" if args.native else "python"}
    for name, values in parts.items():
        out[f"{name}_p50_us"] = round(percentile(values, 50) / 1000, 1)
        out[f"{name}_p99_us"] = round(percentile(values, 99) / 1000, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
