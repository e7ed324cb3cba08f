"""End-to-end tests of NativeClient (bindings/python/routing_sidecar/
native_client.py over librouting_sidecar_native.so) against the real
routingd on free loopback ports: its decisions agree with the pure-Python
Client's, errors raise Client's classes with the daemon's messages, and a
call the library refuses changes nothing in the daemon.

Run by native_client_test.sh with PYTHONPATH set to the package's runfiles
(the library beside the modules) and ROUTINGD naming the daemon binary.
"""

import ctypes
import os
import signal
import socket
import subprocess
import time
import unittest

from routing_sidecar import (Client, NativeArgumentError, NativeClient,
                             NativeTimeoutError, RoutingError,
                             native_available)
from routing_sidecar import native_client

ROUTINGD = os.environ["ROUTINGD"]

# The keys both clients return, compared decision by decision.
DECISION_KEYS = ("contact_id", "outcome", "queue", "channel", "agent_id",
                 "eligible_agents", "queue_position", "estimated_wait_ms",
                 "policy_version", "rules_version", "rules_step",
                 "rules_fallback", "rules_suspended")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """routingd on two free loopback ports, without HTTP."""

    def __init__(self):
        requests = free_port()
        events = free_port()
        while events == requests:
            events = free_port()
        self.server = f"tcp://127.0.0.1:{requests}"
        self.process = subprocess.Popen(
            [ROUTINGD, f"--listen={self.server}",
             f"--events=tcp://127.0.0.1:{events}", "--http=", "--workers=1"])
        probe = Client(self.server, timeout_ms=200)
        deadline = time.time() + 20
        while True:
            try:
                probe.health()
                break
            except (TimeoutError, RoutingError) as error:
                if isinstance(error, RoutingError) and error.code != "Busy":
                    raise
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError("routingd did not start")
        probe.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


class NativeClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def setUp(self):
        self.assertTrue(native_available(), native_client.library_path())
        self.client = Client(self.daemon.server)
        self.addCleanup(self.client.close)
        self.native = NativeClient(self.daemon.server, timeout_ms=5000)
        self.addCleanup(self.native.close)
        # Each test its own agents, contacts and queue: the daemon is shared.
        self.tag = self.id().rsplit(".", 1)[-1]
        self.stats_before = self.client.stats(60)

    def agents(self, *names, skill_level=5):
        ids = []
        for name in names:
            agent = f"{self.tag}-{name}"
            self.client.add_agent(agent, skills={self.tag: skill_level},
                                  languages={"en": 5}, capacity={"voice": 1})
            self.client.set_agent_state(agent, "available")
            ids.append(agent)
        return ids

    def call(self, n):
        return dict(channel="voice", skills={self.tag: 2}, queue=self.tag,
                    languages=["en"], customer_id=f"cust-{n}")

    def test_decisions_agree_with_python_client(self):
        # The same requests, NativeClient to the shared daemon and Client to
        # a twin started with the same roster: the same decisions. The
        # agents' levels differ, so the best agent never depends on a tie.
        twin = Daemon()
        self.addCleanup(twin.stop)
        python = Client(twin.server)
        self.addCleanup(python.close)
        for client in (self.client, python):
            for name, level in (("a1", 5), ("a2", 3)):
                agent = f"{self.tag}-{name}"
                client.add_agent(agent, skills={self.tag: level},
                                 languages={"en": 5}, capacity={"voice": 1})
                client.set_agent_state(agent, "available")

        def both(method, contact, *args, **fields):
            got = [getattr(client, method)(f"{self.tag}-{contact}", *args,
                                           **fields)
                   for client in (self.native, python)]
            if method == "route":
                for key in DECISION_KEYS:
                    self.assertEqual(got[0][key], got[1][key],
                                     f"{contact}: {key}")
                self.assertAlmostEqual(got[0]["score"], got[1]["score"],
                                       delta=0.05)
            return got[0]

        outcomes = [both("route", n, **self.call(n)) for n in (1, 2, 3, 4)]
        self.assertEqual([d["outcome"] for d in outcomes],
                         ["assigned", "assigned", "queued", "queued"])
        self.assertEqual(outcomes[0]["agent_id"], f"{self.tag}-a1")
        self.assertEqual(outcomes[1]["agent_id"], f"{self.tag}-a2")
        self.assertEqual([d["queue_position"] for d in outcomes[2:]], [1, 2])
        self.assertGreater(outcomes[3]["estimated_wait_ms"], 0)
        # The daemon holds what NativeClient routed, as it said.
        held = self.client.get_contact(f"{self.tag}-4")
        self.assertEqual((held["state"], held["queue_position"],
                          held["customer_id"], held["queue"]),
                         ("queued", 2, "cust-4", self.tag))
        # a1 is freed: call 3 goes to it from the queue; call 2's agent does
        # not answer, so call 2 is requeued behind call 4.
        both("release", 1, "resolved", csat=5, nps=9)
        for client in (self.client, python):
            client.set_agent_state(f"{self.tag}-a2", "break")
        requeued = both("route", 2, requeue=True, **self.call(2))
        self.assertEqual((requeued["outcome"], requeued["queue_position"]),
                         ("queued", 2))
        both("cancel", 4)
        for client in (self.client, python):
            self.assertEqual(client.get_contact(f"{self.tag}-3")["agent_id"],
                             f"{self.tag}-a1")
            self.assertEqual(
                client.get_contact(f"{self.tag}-2")["queue_position"], 1)
        both("cancel", 2)
        both("release", 3, "transferred")
        native_stats, python_stats = self.client.stats(60), python.stats(60)
        for key in ("decisions", "queued", "assigned_immediately",
                    "assigned_from_queue", "cancelled", "released",
                    "contacts_held"):
            self.assertEqual(native_stats[key] - self.stats_before[key],
                             python_stats[key], key)

    def test_errors_raise_client_classes(self):
        self.agents("a1")
        contact = f"{self.tag}-1"
        self.native.route(contact, **self.call(1))
        with self.assertRaises(RoutingError) as error:
            self.native.route(contact, **self.call(1))
        self.assertEqual(error.exception.code, "AlreadyExists")
        self.assertIn(contact, error.exception.message)
        with self.assertRaises(RoutingError) as python_error:
            self.client.route(contact, **self.call(1))
        self.assertIs(type(error.exception), type(python_error.exception))
        self.assertEqual(error.exception.message,
                         python_error.exception.message)

        with self.assertRaises(RoutingError) as error:
            self.native.cancel(f"{self.tag}-unknown")
        self.assertEqual(error.exception.code, "NotFound")
        self.assertIn(f"{self.tag}-unknown", str(error.exception))
        # Releasing a queued contact, a survey out of range: refused by the
        # daemon as by Client.
        self.native.route(f"{self.tag}-2", **self.call(2))
        with self.assertRaises(RoutingError) as error:
            self.native.release(f"{self.tag}-2", "resolved")
        self.assertEqual(error.exception.code, "FailedPrecondition")
        with self.assertRaises(RoutingError) as error:
            self.native.release(contact, "resolved", csat=6)
        self.assertEqual(error.exception.code, "InvalidArgument")
        self.assertNotIsInstance(error.exception, NativeArgumentError)
        self.assertIn("csat", error.exception.message)
        # A priority out of range is the daemon's to refuse.
        with self.assertRaises(RoutingError) as error:
            self.native.route(f"{self.tag}-3", priority=42, **self.call(3))
        self.assertEqual(error.exception.code, "InvalidArgument")
        self.assertIn("priority", error.exception.message)

    def test_refused_arguments_change_nothing(self):
        self.agents("a1")
        before = self.client.stats(60)
        refusals = [
            (lambda: self.native.route(f"{self.tag}-1",
                                       **dict(self.call(1), channel="fax")),
             "fax"),
            (lambda: self.native.route("x" * 129, **self.call(1)),
             "contact.id"),
            (lambda: self.native.route(
                f"{self.tag}-1",
                **dict(self.call(1),
                       skills={f"s{i}": 1 for i in range(17)})),
             "required_skill_count"),
            (lambda: self.native.route(
                f"{self.tag}-1",
                **dict(self.call(1), languages=["en"] * 9)),
             "language_count"),
            (lambda: self.native.route(
                f"{self.tag}-1", **dict(self.call(1), queue="q" * 65)),
             "contact.queue"),
            (lambda: self.native.route(f"{self.tag}-1", skills={"a\0b": 1}),
             "skill"),
            (lambda: self.native.release(f"{self.tag}-1", "happy"),
             "happy"),
            (lambda: self.native.cancel(None), "contact_id"),
        ]
        for refuse, named in refusals:
            with self.assertRaises(NativeArgumentError) as error:
                refuse()
            self.assertEqual(error.exception.code, "InvalidArgument")
            self.assertIn(named, str(error.exception))
            # Client raises ValueError for unknown names: so does this.
            self.assertIsInstance(error.exception, ValueError)
            self.assertIsInstance(error.exception, RoutingError)
        with self.assertRaises(RoutingError):
            self.client.get_contact(f"{self.tag}-1")
        after = self.client.stats(60)
        for key in ("decisions", "queued", "cancelled", "released",
                    "contacts_held"):
            self.assertEqual(after[key], before[key], key)
        # The refusals left the connection usable.
        decision = self.native.route(f"{self.tag}-1", **self.call(1))
        self.assertEqual(decision["outcome"], "assigned")
        self.native.release(f"{self.tag}-1")

    def test_requeue(self):
        first, second = self.agents("a1", "a2")
        contact = f"{self.tag}-1"
        assigned = self.native.route(contact, **self.call(1))
        self.assertIn(assigned["agent_id"], (first, second))
        # No answer from that agent: it goes on break, the call is requeued
        # and goes to the other one.
        self.client.set_agent_state(assigned["agent_id"], "break")
        again = self.native.route(contact, requeue=True, **self.call(1))
        self.assertEqual(again["outcome"], "assigned")
        other = second if assigned["agent_id"] == first else first
        self.assertEqual(again["agent_id"], other)
        self.assertEqual(self.client.get_contact(contact)["agent_id"], other)
        # Nobody left: requeued into its queue.
        self.client.set_agent_state(other, "break")
        queued = self.native.requeue(contact, **self.call(1))
        self.assertEqual(queued["outcome"], "queued")
        self.assertEqual(queued["queue_position"], 1)
        self.assertEqual(self.client.get_contact(contact)["state"], "queued")
        with self.assertRaises(RoutingError) as error:
            self.native.requeue(f"{self.tag}-unknown", **self.call(2))
        self.assertEqual(error.exception.code, "NotFound")
        self.native.cancel(contact)

    def test_timeout_and_closed_client(self):
        # Nobody listens there: the call times out as Client's would.
        silent = NativeClient(f"tcp://127.0.0.1:{free_port()}",
                              timeout_ms=100)
        with self.assertRaises(TimeoutError) as error:
            silent.route(f"{self.tag}-1", **self.call(1))
        self.assertIsInstance(error.exception, NativeTimeoutError)
        self.assertNotIsInstance(error.exception, RoutingError)
        silent.close()
        silent.close()
        with self.assertRaises(NativeArgumentError):
            silent.cancel(f"{self.tag}-1")
        for endpoint, timeout, named in (("nonsense", 100, "nonsense"),
                                         ("tcp://127.0.0.1:1", 0,
                                          "timeout_ms")):
            with self.assertRaises(NativeArgumentError) as error:
                NativeClient(endpoint, timeout_ms=timeout)
            self.assertIn(named, str(error.exception))

    def test_c_boundary_refuses_null_arguments(self):
        # The C API itself, through ctypes: NULL handles, structs and
        # error buffers are refused, never dereferenced.
        lib = native_client._load()
        error = native_client._Error()
        decision = native_client._Decision()
        contact = native_client._Contact()
        self.assertEqual(lib.routing_sidecar_route(None, ctypes.byref(contact),
                                                   ctypes.byref(decision),
                                                   ctypes.byref(error)), 1)
        self.assertEqual(error.message, b"client is NULL")
        handle = lib.routing_sidecar_connect(self.daemon.server.encode(),
                                             1000, None)
        self.assertTrue(handle)
        try:
            self.assertEqual(lib.routing_sidecar_route(
                handle, None, ctypes.byref(decision), ctypes.byref(error)), 1)
            self.assertEqual(error.message, b"contact is NULL")
            self.assertEqual(lib.routing_sidecar_route(
                handle, ctypes.byref(contact), None, ctypes.byref(error)), 1)
            self.assertEqual(error.message, b"decision is NULL")
            self.assertEqual(lib.routing_sidecar_route(
                handle, ctypes.byref(contact), ctypes.byref(decision),
                ctypes.byref(error)), 1)
            self.assertEqual(error.message, b"contact.id is NULL")
            contact.id = f"{self.tag}-1".encode()
            contact.channel = b"voice"
            contact.required_skill_count = 2
            self.assertEqual(lib.routing_sidecar_route(
                handle, ctypes.byref(contact), ctypes.byref(decision),
                ctypes.byref(error)), 1)
            self.assertIn(b"contact.required_skill_names is NULL",
                          error.message)
            contact.required_skill_count = 0
            contact.language_count = 1
            self.assertEqual(lib.routing_sidecar_route(
                handle, ctypes.byref(contact), ctypes.byref(decision), None),
                1)
            self.assertEqual(lib.routing_sidecar_release(
                handle, b"x", None, 0, 0, ctypes.byref(error)), 1)
            self.assertEqual(error.message, b"outcome is NULL")
        finally:
            lib.routing_sidecar_close(handle)
        lib.routing_sidecar_close(None)
        self.assertFalse(lib.routing_sidecar_connect(None, 1000,
                                                     ctypes.byref(error)))
        self.assertEqual(error.code, b"InvalidArgument")
        self.assertEqual(error.message, b"endpoint is NULL")


if __name__ == "__main__":
    unittest.main(verbosity=2)
