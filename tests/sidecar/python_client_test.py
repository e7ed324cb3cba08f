"""End-to-end tests of the Python client (bindings/python/routing_sidecar)
against the real routingd, over tcp:// and ipc://.

Run by python_client_test.sh with PYTHONPATH set to the package's runfiles
and ROUTINGD naming the daemon binary.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import zmq

from routing_sidecar import (RULES_RELOAD_TOPIC, RULES_SUSPENDED_TOPIC,
                             Client, EventSubscriber, PermissionDeniedError,
                             RoutingError, agent_topic, contact_topic,
                             subscription_for)

ROUTINGD = os.environ["ROUTINGD"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, transport, workdir, *flags):
        if transport == "tcp":
            requests = free_port()
            events = free_port()
            while events == requests:
                events = free_port()
            self.server = f"tcp://127.0.0.1:{requests}"
            self.events = f"tcp://127.0.0.1:{events}"
        else:
            self.server = f"ipc://{workdir}/req.sock"
            self.events = f"ipc://{workdir}/pub.sock"
        self.process = subprocess.Popen(
            [ROUTINGD, f"--listen={self.server}", f"--events={self.events}",
             "--http=", *flags])
        probe = Client(self.server, timeout_ms=200)
        deadline = time.time() + 20
        while True:
            try:
                probe.health()
                break
            except (TimeoutError, RoutingError) as error:
                # A probe that timed out on a loaded machine may still be
                # in flight when the next one arrives: with --max_in_flight=1
                # that one is answered Busy. Either way, probe again.
                if isinstance(error, RoutingError) and error.code != "Busy":
                    raise
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError("routingd did not start")
        probe.close()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class PythonClientTest:
    transport = None

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="rsd-", dir="/tmp")
        self.daemon = Daemon(self.transport, self.workdir)
        self.addCleanup(self.daemon.kill)
        self.client = Client(self.daemon.server)
        self.addCleanup(self.client.close)

    def test_roster_and_routing(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              languages={"en": 5}, capacity={"chat": 2})
        self.client.set_agent_state("alice", "available")
        with self.assertRaises(RoutingError) as error:
            self.client.add_agent("alice", capacity={"chat": 1})
        self.assertEqual(error.exception.code, "AlreadyExists")
        decision = self.client.route("chat-1", channel="chat",
                                     skills={"billing": 2}, languages=["en"],
                                     explain=True)
        self.assertEqual(decision["outcome"], "assigned")
        self.assertEqual(decision["agent_id"], "alice")
        self.assertIn("agent alice", decision["explanation"])
        agents = self.client.list_agents()
        self.assertEqual(agents[0]["id"], "alice")
        self.assertEqual(agents[0]["load"], {"chat": 1})
        # Without explain, the components explain it and no text is made.
        decision = self.client.route("chat-2", channel="chat",
                                     skills={"billing": 2})
        self.assertEqual(decision["agent_id"], "alice")
        self.assertEqual(decision["explanation"], "")
        self.assertEqual(len(decision["components"]), 6)
        skill = decision["components"][0]
        self.assertEqual(skill["name"], "skill")
        self.assertIn("billing 4/", skill["detail"])
        self.assertAlmostEqual(
            sum(c["contribution"] for c in decision["components"]),
            decision["score"], places=6)
        self.client.release("chat-2", "resolved")
        self.client.release("chat-1", "resolved")
        with self.assertRaises(RoutingError) as error:
            self.client.cancel("chat-1")
        self.assertEqual(error.exception.code, "NotFound")
        stats = self.client.stats(60)
        self.assertEqual(stats["decisions"], 2)
        self.assertEqual(stats["assigned_immediately"], 2)
        self.assertEqual(stats["released"], 2)
        self.assertEqual(stats["cancelled"], 0)
        self.assertEqual(stats["contacts_held"], 0)
        self.assertTrue(self.client.health()["serving"])
        self.assertEqual(self.daemon.stop(), 0)

    def test_handoff_waits_for_assignment_event_with_context(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              capacity={"chat": 1})
        self.client.set_agent_state("alice", "available")
        self.client.route("chat-1", channel="chat", skills={"billing": 1})
        subscriber = EventSubscriber(self.daemon.events,
                                     topics=[contact_topic("chat-2"),
                                             "agent/"])
        self.addCleanup(subscriber.close)
        # Wait until the subscription is live: agent events come through.
        for _ in range(100):
            self.client.set_agent_state("alice", "available")
            try:
                subscriber.next(timeout_ms=50)
                break
            except TimeoutError:
                pass
        else:
            self.fail("subscription never became live")
        decision = self.client.route(
            "chat-2", channel="chat", skills={"billing": 2},
            customer_id="cust-7",
            handoff={"intent": "refund", "sentiment": "angry",
                     "summary": "wants a refund for order 12",
                     "attributes": {"order": "12"}})
        self.assertEqual(decision["outcome"], "queued")
        self.assertEqual(decision["queue_position"], 1)
        self.client.release("chat-1")
        while True:
            topic, event = subscriber.next(timeout_ms=5000)
            if event["type"] == "assigned":
                break
        self.assertEqual(topic, contact_topic("chat-2"))
        self.assertFalse(event["immediate"])
        self.assertEqual(event["agent_id"], "alice")
        self.assertEqual(event["customer_id"], "cust-7")
        self.assertEqual(event["context"]["intent"], "refund")
        self.assertEqual(event["context"]["summary"],
                         "wants a refund for order 12")
        self.assertEqual(event["context"]["attributes"], {"order": "12"})
        self.assertEqual(self.daemon.stop(), 0)

    # Kept separate so the rules engine's arrival extends just this case.
    def test_exact_contact_topic_hears_its_whole_life_and_no_sibling(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              capacity={"chat": 1})
        subscriber = EventSubscriber(
            self.daemon.events,
            topics=[subscription_for("contact/chat-1"), agent_topic("alice")])
        self.addCleanup(subscriber.close)
        for _ in range(100):
            self.client.set_agent_state("alice", "break")
            try:
                subscriber.next(timeout_ms=50)
                break
            except TimeoutError:
                pass
        else:
            self.fail("subscription never became live")
        run_id = self.client.health()["run_id"]
        self.assertNotEqual(run_id, 0)
        self.client.route("chat-10", channel="chat", skills={"billing": 1})
        self.client.route("chat-1", channel="chat", skills={"billing": 1})
        self.client.set_agent_state("alice", "available")  # takes chat-10
        self.client.cancel("chat-10")                      # alice takes chat-1
        self.client.release("chat-1", "resolved")
        heard = []
        while len(heard) < 3:
            topic, event = subscriber.next(timeout_ms=5000)
            self.assertEqual(event["run_id"], run_id)
            if topic.startswith("contact/"):  # never chat-10's
                self.assertEqual(topic, contact_topic("chat-1"))
                heard.append((event["type"], event.get("change"),
                              event["topic_sequence"]))
        self.assertEqual(heard, [("changed", "queued", 1),
                                 ("assigned", None, 2),
                                 ("changed", "released", 3)])

    def test_reload_rules(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              capacity={"chat": 1})
        self.client.add_agent("bob", skills={"billing": 2},
                              capacity={"chat": 1})
        self.client.set_agent_state("alice", "available")
        self.client.set_agent_state("bob", "available")
        # Rules read the chatbot's handoff context: refunds go to bob.
        reloaded = self.client.reload_rules(source=(
            "return { score = function(c, a)\n"
            "  if attr(c, 'intent') == 'refund' and a.id == 'bob' then\n"
            "    return 10 end\n"
            "  return a.score\n"
            "end }\n"))
        self.assertEqual(reloaded, {"accepted": True, "version": 1,
                                    "problems": []})
        decision = self.client.route("chat-1", channel="chat",
                                     skills={"billing": 1},
                                     handoff={"intent": "refund"})
        self.assertEqual((decision["agent_id"], decision["rules_version"],
                          decision["rules_fallback"]), ("bob", 1, False))
        refused = self.client.reload_rules(source="return { scor = 1 }")
        self.assertFalse(refused["accepted"])
        self.assertEqual(refused["version"], 1)
        self.assertIn("request.lua:1: unknown hook 'scor'",
                      refused["problems"][0])
        refused = self.client.reload_rules(path="/no/such/rules.lua")
        self.assertFalse(refused["accepted"])
        self.assertIn("cannot read rules file", refused["problems"][0])
        self.assertEqual(self.client.stats()["rules_version"], 1)
        with self.assertRaises(RoutingError) as error:
            self.client.reload_rules()
        self.assertEqual(error.exception.code, "InvalidArgument")

    def test_rules_health_in_stats_and_rules_events(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              capacity={"chat": 60})
        self.client.set_agent_state("alice", "available")
        subscriber = EventSubscriber(self.daemon.events,
                                     topics=["rules/", "agent/"])
        self.addCleanup(subscriber.close)
        for _ in range(100):
            self.client.set_agent_state("alice", "available")
            try:
                subscriber.next(timeout_ms=50)
                break
            except TimeoutError:
                pass
        else:
            self.fail("subscription never became live")

        def next_on(wanted):
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    topic, event = subscriber.next(timeout_ms=1000)
                except TimeoutError:
                    continue
                if topic == wanted:
                    return event
            self.fail(f"no event on {wanted}")

        # Fails on line 3 for contacts whose handoff says explode=yes.
        source = ("return {\n  score = function(c, a)\n"
                  "    if attr(c, 'explode') == 'yes' then error('boom') end\n"
                  "    return a.score\n  end,\n}\n")
        self.assertTrue(self.client.reload_rules(source=source)["accepted"])
        event = next_on(RULES_RELOAD_TOPIC)
        self.assertEqual((event["type"], event["accepted"], event["version"],
                          event["name"], event["problems"]),
                         ("rules_reload", True, 1, "request.lua", []))
        # Past the default breaker (20 failures within 10 s).
        for i in range(21):
            self.client.route(f"bad-{i}", skills={"billing": 1},
                              handoff={"attributes": {"explode": "yes"}})
        decision = self.client.route("plain", skills={"billing": 1})
        self.assertTrue(decision["rules_suspended"])
        self.assertTrue(decision["rules_fallback"])
        event = next_on(RULES_SUSPENDED_TOPIC)
        self.assertEqual((event["type"], event["version"], event["name"],
                          event["errors"]),
                         ("rules_suspended", 1, "request.lua", 21))
        self.assertIn("request.lua:3:", event["last_error"])
        self.assertGreater(event["suspended_at_unix_ms"], 0)
        stats = self.client.stats()
        self.assertEqual((stats["rules_name"], stats["rules_errors"],
                          stats["rules_overruns"], stats["rules_suspended"],
                          stats["rules_suspended_decisions"]),
                         ("request.lua", 21, 0, True, 1))
        self.assertIn("request.lua:3:", stats["rules_last_error"])
        # A reload re-arms.
        self.assertTrue(self.client.reload_rules(source=source)["accepted"])
        stats = self.client.stats()
        self.assertEqual((stats["rules_version"], stats["rules_suspended"],
                          stats["rules_errors"], stats["rules_last_error"]),
                         (2, False, 0, ""))

    def test_contacts_survey_and_kpis(self):
        self.client.add_agent("alice", skills={"billing": 4},
                              capacity={"chat": 1})
        self.client.set_agent_state("alice", "available")
        first = self.client.route("chat-1", channel="chat",
                                  skills={"billing": 2}, customer_id="c-1")
        self.assertEqual(first["outcome"], "assigned")
        self.client.route("chat-2", channel="chat", skills={"billing": 2})
        self.client.route("chat-3", channel="chat", skills={"billing": 2},
                          priority=9)
        waiting = self.client.list_contacts("billing")
        self.assertFalse(waiting["truncated"])
        self.assertEqual([(c["id"], c["queue_position"], c["state"])
                          for c in waiting["contacts"]],
                         [("chat-3", 1, "queued"), ("chat-2", 2, "queued")])
        self.assertEqual(waiting["contacts"][0]["priority"], 9)
        self.assertEqual(waiting["contacts"][0]["channel"], "chat")
        self.assertGreaterEqual(waiting["contacts"][0]["waited_ms"], 0)
        self.assertEqual([c["id"] for c in
                          self.client.list_contacts()["contacts"]],
                         ["chat-3", "chat-2"])
        self.assertEqual(len(self.client.list_contacts(limit=1)["contacts"]),
                         1)
        self.assertTrue(self.client.list_contacts(limit=1)["truncated"])
        self.assertEqual(self.client.list_contacts("nobody")["contacts"], [])
        with self.assertRaises(RoutingError) as error:
            self.client.list_contacts(limit=0)
        self.assertEqual(error.exception.code, "InvalidArgument")
        self.assertIn("limit 0", error.exception.message)

        held = self.client.get_contact("chat-1")
        self.assertEqual((held["state"], held["agent_id"], held["customer_id"]),
                         ("assigned", "alice", "c-1"))
        self.assertGreater(held["assigned_at_unix_ms"], 0)
        queued = self.client.get_contact("chat-2")
        self.assertEqual((queued["state"], queued["queue_position"]),
                         ("queued", 2))
        with self.assertRaises(RoutingError) as error:
            self.client.get_contact("chat-404")
        self.assertEqual(error.exception.code, "NotFound")
        self.assertIn("chat-404", error.exception.message)

        # Out of range: refused, and the contact stays with its agent.
        for answers, field in (({"csat": 6}, "csat"), ({"nps": 11}, "nps"),
                               ({"csat": 0, "nps": 5}, "csat")):
            with self.assertRaises(RoutingError) as error:
                self.client.release("chat-1", "resolved", **answers)
            self.assertEqual(error.exception.code, "InvalidArgument")
            self.assertIn(field, error.exception.message)
        self.assertEqual(self.client.get_contact("chat-1")["state"],
                         "assigned")
        self.client.release("chat-1", "resolved", csat=5, nps=10)
        kpis = self.client.stats()["queues"]["billing"]["kpis"]
        self.assertEqual((kpis["released"], kpis["resolved"],
                          kpis["csat_responses"], kpis["csat_average"],
                          kpis["nps_responses"], kpis["promoters"],
                          kpis["net_promoter_score"]),
                         (1, 1, 1, 5.0, 1, 1, 100.0))
        self.assertEqual(kpis["first_contact_resolution"], 1.0)
        queue = self.client.stats()["queues"]["billing"]
        self.assertEqual(sorted(queue["recent"]), [5, 15, 60])
        self.assertEqual(queue["agents_by_state"]["available"], 1)
        alice = self.client.list_agents()[0]
        self.assertEqual(alice["kpis"]["csat_responses"], 1)
        self.assertEqual(alice["kpis"]["promoters"], 1)
        self.assertGreaterEqual(alice["time_in_state_ms"], 0)
        # chat-3 (priority 9) went to alice when chat-1 was released.
        self.assertEqual(self.client.get_contact("chat-3")["state"],
                         "assigned")
        self.assertEqual([c["id"] for c in
                          self.client.list_contacts()["contacts"]],
                         ["chat-2"])

    def test_bad_input_is_refused_and_service_continues(self):
        with self.assertRaises(ValueError):
            self.client.route("x", channel="pigeon")
        with self.assertRaises(RoutingError) as error:
            self.client.route("x", priority=99)
        self.assertEqual(error.exception.code, "InvalidArgument")
        self.assertIn("priority 99", error.exception.message)
        raw = zmq.Context.instance().socket(zmq.DEALER)
        raw.linger = 0
        raw.connect(self.daemon.server)
        raw.send(b"\x00" * 40)
        self.assertTrue(raw.poll(5000))
        from routing_sidecar import routing_generated as wire
        reply = wire.Reply.GetRootAs(raw.recv(), 0)
        self.assertEqual(reply.BodyType(), wire.ReplyBody.Error)
        error_table = wire.Error()
        error_table.Init(reply.Body().Bytes, reply.Body().Pos)
        self.assertEqual(error_table.Code(), wire.ErrorCode.MalformedRequest)
        raw.close()
        self.assertTrue(self.client.health()["serving"])
        self.assertGreaterEqual(self.client.stats()["malformed_requests"], 1)


def raw_stats_request(request_id):
    """A GetStats request built with the generated wire code."""
    import flatbuffers
    from routing_sidecar import routing_generated as wire
    builder = flatbuffers.Builder(64)
    wire.GetStatsStart(builder)
    wire.GetStatsAddWindowSeconds(builder, 60)
    body = wire.GetStatsEnd(builder)
    wire.RequestStart(builder)
    wire.RequestAddProtocolVersion(builder, 1)
    wire.RequestAddRequestId(builder, request_id)
    wire.RequestAddBodyType(builder, wire.RequestBody.GetStats)
    wire.RequestAddBody(builder, body)
    builder.Finish(wire.RequestEnd(builder), b"RTSC")
    return bytes(builder.Output())


def reply_summary(payload):
    """(request id, error code or None) of a Reply buffer."""
    from routing_sidecar import routing_generated as wire
    reply = wire.Reply.GetRootAs(payload, 0)
    if reply.BodyType() != wire.ReplyBody.Error:
        return reply.RequestId(), None
    error = wire.Error()
    error.Init(reply.Body().Bytes, reply.Body().Pos)
    return reply.RequestId(), error.Code()


class PipelinedTest:
    """Overload and shutdown, with many requests in flight on one DEALER."""
    transport = None

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="rsd-", dir="/tmp")

    def pipeline(self, daemon, count):
        raw = zmq.Context.instance().socket(zmq.DEALER)
        raw.linger = 0
        raw.connect(daemon.server)
        for request_id in range(1, count + 1):
            raw.send(raw_stats_request(request_id))
        return raw

    def collect(self, raw, count):
        replies = {}
        while len(replies) < count and raw.poll(10000):
            request_id, code = reply_summary(raw.recv())
            self.assertNotIn(request_id, replies)
            replies[request_id] = code
        return replies

    def test_overload_is_answered_busy_never_dropped(self):
        from routing_sidecar import routing_generated as wire
        daemon = Daemon(self.transport, self.workdir, "--max_in_flight=1")
        self.addCleanup(daemon.kill)
        # Start-up probes that timed out on a loaded machine may have been
        # answered Busy after the client stopped listening: count from here.
        before = self.busy_rejections(daemon)
        raw = self.pipeline(daemon, 2000)
        replies = self.collect(raw, 2000)
        raw.close()
        self.assertEqual(len(replies), 2000)
        busy = sum(code == wire.ErrorCode.Busy for code in replies.values())
        self.assertGreater(busy, 0)
        self.assertTrue(all(code in (None, wire.ErrorCode.Busy)
                            for code in replies.values()))
        self.assertEqual(self.busy_rejections(daemon) - before, busy)
        self.assertEqual(daemon.stop(), 0)

    def busy_rejections(self, daemon):
        with Client(daemon.server) as client:
            deadline = time.time() + 20
            while True:
                try:
                    return client.stats()["busy_rejections"]
                except RoutingError as error:
                    # A stale probe still in flight: the daemon counts this
                    # Busy too, so ask again.
                    if error.code != "Busy" or time.time() > deadline:
                        raise

    def test_shutdown_answers_requests_in_flight_and_exits_zero(self):
        daemon = Daemon(self.transport, self.workdir)
        self.addCleanup(daemon.kill)
        raw = self.pipeline(daemon, 500)
        self.assertTrue(raw.poll(10000))  # Serving has begun.
        daemon.process.send_signal(signal.SIGTERM)
        replies = self.collect(raw, 500)
        raw.close()
        self.assertEqual(len(replies), 500)
        self.assertEqual(daemon.process.wait(timeout=20), 0)


class TcpTest(PythonClientTest, unittest.TestCase):
    transport = "tcp"


class IpcTest(PythonClientTest, unittest.TestCase):
    transport = "ipc"


class TcpPipelinedTest(PipelinedTest, unittest.TestCase):
    transport = "tcp"


class IpcPipelinedTest(PipelinedTest, unittest.TestCase):
    transport = "ipc"


class CurveRolesTest(unittest.TestCase):
    """With CURVE, the roles of the client's key decide what it may do."""

    def test_request_outside_the_keys_roles_raises_permission_denied(self):
        workdir = tempfile.mkdtemp(prefix="rsd-", dir="/tmp")
        server_public, server_secret = zmq.curve_keypair()
        client_public, client_secret = zmq.curve_keypair()
        with open(f"{workdir}/server.key", "wb") as f:
            f.write(server_secret + b"\n")
        with open(f"{workdir}/clients", "wb") as f:
            f.write(b"# the chatbot\n" + client_public + b" route\n")
        server = f"ipc://{workdir}/req.sock"
        process = subprocess.Popen(
            [ROUTINGD, f"--listen={server}", f"--events=ipc://{workdir}/pub.sock",
             "--http=", f"--curve_secret_key_file={workdir}/server.key",
             f"--curve_allowed_clients_file={workdir}/clients"])
        self.addCleanup(lambda: process.poll() is None and process.kill())
        curve = {"server_key": server_public.decode(),
                 "public_key": client_public.decode(),
                 "secret_key": client_secret.decode()}
        with Client(server, timeout_ms=200, curve=curve) as probe:
            deadline = time.time() + 20
            while True:
                try:
                    probe.health()
                    break
                except TimeoutError:
                    if time.time() > deadline or process.poll() is not None:
                        raise RuntimeError("routingd did not start")
        client = Client(server, curve=curve)
        self.addCleanup(client.close)

        with self.assertRaises(PermissionDeniedError) as error:
            client.reload_rules(source="return {}")
        self.assertIsInstance(error.exception, RoutingError)
        self.assertIsInstance(error.exception, PermissionError)
        self.assertEqual(error.exception.code, "PermissionDenied")
        self.assertEqual(error.exception.message,
                         "ReloadRules needs the admin role; this client's "
                         "key has route")
        with self.assertRaises(PermissionDeniedError) as error:
            client.add_agent("mallory", capacity={"chat": 1})
        self.assertIn("AddAgent needs the agents role", str(error.exception))
        # Nothing changed; both refusals counted. Other errors keep their
        # class: an unknown contact is a plain RoutingError.
        self.assertEqual(client.list_agents(), [])
        with self.assertRaises(RoutingError) as error:
            client.cancel("chat-1")
        self.assertNotIsInstance(error.exception, PermissionDeniedError)
        self.assertEqual(error.exception.code, "NotFound")
        stats = client.stats()
        self.assertEqual(stats["rules_version"], 0)
        self.assertEqual(stats["permission_denied"], 2)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
