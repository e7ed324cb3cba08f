"""The in-process Python binding (bindings/python/routing_engine) over
librouting.so.1: the routing contract from Python, errors as exceptions of the
right class naming the offending value, the assignment callback, closing, and
several Python threads at once. Run by Debian's /usr/bin/python3."""

import contextlib
import ctypes
import io
import os
import sys
import threading
import tempfile
import time
import unittest
import weakref
import xml.etree.ElementTree as ET

from routing_engine import (
    ABI_VERSION,
    Agent,
    AgentState,
    AlreadyExistsError,
    Channel,
    Contact,
    ContactState,
    DecisionOutcome,
    Engine,
    EngineDestroyedError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    Outcome,
    Policy,
    ResourceExhaustedError,
    RoutingError,
    RulesRefusedError,
)
from routing_engine._library import lib

START_MS = 1_800_000_000_000
SMALL = dict(max_agents=64, max_contacts=64, history_customers=64)


def billing_agent(agent_id, level=5):
    return Agent(agent_id, skills={"billing": level}, languages={"en": 5},
                 capacity={Channel.VOICE: 1, Channel.CHAT: 2}, team="tier-1")


def billing_call(contact_id, **kwargs):
    return Contact(contact_id, required_skills={"billing": 2},
                   languages=["en"], customer_id="cust-1", **kwargs)


class EngineTest(unittest.TestCase):

    def setUp(self):
        self.assignments = []
        self.engine = Engine(manual_clock_ms=START_MS,
                             on_assigned=self.assignments.append, **SMALL)
        self.addCleanup(self.engine.close)

    def add_available(self, agent):
        self.engine.add_agent(agent)
        self.engine.set_agent_state(agent.id, AgentState.AVAILABLE)

    def test_abi_version(self):
        self.assertEqual(ABI_VERSION, 10004)

    def test_assigns_the_best_agent_and_explains_why(self):
        self.add_available(billing_agent("maria", 5))
        self.add_available(billing_agent("james", 3))
        d = self.engine.route(billing_call("call-1"))
        self.assertTrue(d.assigned)
        self.assertEqual(d.outcome, DecisionOutcome.ASSIGNED)
        self.assertEqual(d.agent_id, "maria")
        self.assertEqual(d.contact_id, "call-1")
        self.assertEqual(d.queue, "billing")
        self.assertEqual(d.channel, Channel.VOICE)
        self.assertEqual(d.eligible_agents, 2)
        self.assertEqual(d.policy_version, 1)
        self.assertEqual(d.policy_name, "built-in")
        self.assertEqual(d.decided_at_ms, START_MS)
        self.assertEqual([c.name for c in d.components],
                         ["skill", "affinity", "language", "load",
                          "occupancy", "idle"])
        self.assertAlmostEqual(sum(c.contribution for c in d.components),
                               d.score)
        self.assertIn("call-1 -> agent maria", d.explain())
        self.assertIn("billing 5/5 (needs 2)", d.explain())

    def test_queues_then_assigns_by_callback(self):
        self.add_available(billing_agent("maria"))
        self.assertTrue(self.engine.route(billing_call("call-1")).assigned)
        d = self.engine.route(billing_call(
            "call-2", attributes={"intent": "refund", "summary": "caf\u00e9"}))
        self.assertEqual(d.outcome, DecisionOutcome.QUEUED)
        self.assertEqual(d.agent_id, "")
        self.assertEqual(d.queue_position, 1)
        self.assertGreater(d.estimated_wait_ms, 0)
        self.assertEqual(d.qualified.total, 1)
        self.assertEqual(d.qualified.at_capacity, 1)
        self.assertEqual(self.engine.get_contact("call-2").state,
                         ContactState.QUEUED)

        self.engine.set_time(START_MS + 45_000)
        self.engine.release("call-1", Outcome.RESOLVED)
        self.assertEqual(len(self.assignments), 1)
        a = self.assignments[0]
        self.assertEqual((a.contact_id, a.agent_id, a.customer_id, a.queue),
                         ("call-2", "maria", "cust-1", "billing"))
        self.assertEqual(a.waited_ms, 45_000)
        self.assertEqual(a.attributes, {"intent": "refund",
                                        "summary": "caf\u00e9"})
        self.assertTrue(a.decision.assigned)
        self.assertEqual(a.decision.agent_id, "maria")
        # The assignment belongs to the attempt the queued decision named.
        self.assertNotEqual(d.token, 0)
        self.assertEqual(a.decision.token, d.token)
        status = self.engine.get_contact("call-2")
        self.assertEqual((status.state, status.agent_id),
                         (ContactState.ASSIGNED, "maria"))

        history = self.engine.customer_history("cust-1")
        self.assertEqual(len(history), 1)
        self.assertEqual((history[0].agent_id, history[0].outcome),
                         ("maria", Outcome.RESOLVED))
        self.assertEqual(history[0].released_at_ms, START_MS + 45_000)
        self.assertEqual(self.engine.customer_history("nobody"), [])

        stats = self.engine.stats()
        self.assertEqual(stats.decisions, 2)
        self.assertEqual(stats.assigned_immediately, 1)
        self.assertEqual(stats.assigned_from_queue, 1)
        self.assertEqual(stats.released, 1)
        self.assertEqual(stats.contacts_held, 1)
        self.assertEqual(stats.agents_by_state[AgentState.AVAILABLE], 1)
        (queue,) = stats.queues
        self.assertEqual(queue.queue, "billing")
        self.assertEqual(queue.answered, 2)
        self.assertEqual(queue.average_speed_of_answer_ms, 22_500)
        self.assertAlmostEqual(queue.service_level, 0.5)

    def test_agents_status_update_and_removal(self):
        self.add_available(billing_agent("maria", 4))
        self.engine.route(Contact("chat-1", channel=Channel.CHAT,
                                  required_skills={"billing": 1}))
        s = self.engine.get_agent("maria")
        self.assertEqual(s.state, AgentState.AVAILABLE)
        self.assertEqual(s.load[Channel.CHAT], 1)
        self.assertEqual(s.capacity[Channel.CHAT], 2)
        self.assertEqual(s.skills, {"billing": 4})
        self.assertEqual(s.state_since_ms, START_MS)
        self.assertEqual(s.languages, {"en": 5})
        self.assertEqual((s.team, s.site, s.max_total_contacts),
                         ("tier-1", "", 0))
        self.engine.update_agent(Agent("maria", skills={"billing": 5,
                                                        "sales": 2},
                                       capacity={Channel.CHAT: 3}))
        s = self.engine.get_agent("maria")
        self.assertEqual(s.skills, {"billing": 5, "sales": 2})
        self.assertEqual(s.load[Channel.CHAT], 1)  # Keeps its load.
        with self.assertRaisesRegex(FailedPreconditionError, "maria"):
            self.engine.remove_agent("maria")
        self.engine.cancel("chat-1")
        self.engine.remove_agent("maria")
        self.assertEqual(self.engine.agent_ids(), [])

    def test_requeue_transfers_to_another_agent(self):
        self.add_available(billing_agent("maria", 5))
        self.add_available(billing_agent("james", 3))
        self.engine.route(billing_call("call-1"))
        d = self.engine.requeue(billing_call("call-1"))
        self.assertEqual(d.agent_id, "james")
        self.assertEqual(self.engine.customer_history("cust-1")[0].outcome,
                         Outcome.TRANSFERRED)

    def test_policy_swap(self):
        self.add_available(billing_agent("maria"))
        version = self.engine.set_policy(Policy(
            name="skill-first", weights={"skill": 0.9, "idle": 0.0},
            durations_ms={"priority_step": 60_000},
            affinities={"served": 0.1}))
        self.assertEqual(version, 2)
        self.assertEqual(self.engine.policy_version, 2)
        d = self.engine.route(billing_call("call-1"))
        self.assertEqual((d.policy_version, d.policy_name), (2, "skill-first"))
        with self.assertRaisesRegex(InvalidArgumentError, "load"):
            self.engine.set_policy(Policy(weights={"load": -1}))
        with self.assertRaisesRegex(InvalidArgumentError,
                                    "unknown weight 'charm'"):
            self.engine.set_policy(Policy(weights={"charm": 1}))
        self.assertEqual(self.engine.policy_version, 2)

    def test_rules_reload_refusal_fallback_and_steps(self):
        self.add_available(billing_agent("maria", 5))
        self.add_available(billing_agent("james", 3))
        self.assertEqual(self.engine.rules_version, 0)
        version = self.engine.reload_rules_text("prefer_james.lua", (
            "return { score = function(c, a)\n"
            "  if attr(c, 'intent') == 'crash' then return a.nope end\n"
            "  if a.id == 'james' then return 10 end\n"
            "  return 1\n"
            "end }\n"))
        self.assertEqual(version, 1)
        d = self.engine.route(billing_call("call-1"))
        self.assertEqual((d.agent_id, d.rules_version, d.rules_fallback),
                         ("james", 1, False))
        d = self.engine.route(billing_call("call-2",
                                           attributes={"intent": "crash"}))
        self.assertTrue(d.rules_fallback)
        count, last = self.engine.rules_errors()
        self.assertEqual(count, 1)
        self.assertIn("prefer_james.lua:2: agent has no field 'nope'", last)
        self.assertEqual(self.engine.stats().rules_fallbacks, 1)

        with self.assertRaises(RulesRefusedError) as refused:
            self.engine.reload_rules_text(
                "broken.lua", "return { eligible = function(c, a)\n"
                              "  return os.time() end }")
        self.assertIn("broken.lua:2: unknown global 'os'",
                      refused.exception.problems[0])
        self.assertIsInstance(refused.exception, ValueError)
        with self.assertRaises(NotFoundError):
            self.engine.reload_rules("/no/such/rules.lua")
        self.assertEqual(self.engine.rules_version, 1)

        # Steps: only the preferred agent for 20 s, then anyone.
        with self.assertRaises(ValueError) as refused:
            self.engine.release("call-1", Outcome.RESOLVED, csat=9)
        self.assertIn("survey csat 9 is out of range 1..5",
                      str(refused.exception))
        self.engine.release("call-1", Outcome.RESOLVED, csat=5, nps=10)
        self.engine.release("call-2", Outcome.RESOLVED)
        billing = [q for q in self.engine.stats().queues
                   if q.queue == "billing"][0]
        self.assertEqual((billing.released, billing.csat_responses,
                          billing.csat_sum, billing.nps_promoters),
                         (2, 1, 5, 1))
        self.assertEqual(self.engine.reload_rules_text("steps.lua", (
            "return { steps = { { after = 0, preferred_only = true },"
            " { after = 20 } } }")), 2)
        self.engine.set_agent_state("maria", AgentState.BREAK)
        d = self.engine.route(Contact(
            "call-3", required_skills={"billing": 2}, customer_id="new",
            preferred_agents=["maria"]))
        self.assertEqual((d.outcome, d.rules_step),
                         (DecisionOutcome.QUEUED, 1))
        self.engine.set_time(START_MS + 21_000)
        self.assertEqual(self.engine.advance_queues(), 1)
        self.assertEqual(self.assignments[-1].agent_id, "james")
        self.assertEqual(self.engine.clear_rules(), 3)

    def test_rules_file_at_creation(self):
        with self.assertRaises(NotFoundError):
            Engine(rules_file="/no/such/rules.lua", **SMALL)
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "bad.lua")
            with open(path, "w") as f:
                f.write("return {\n  score = function(c, a) return x end\n}\n")
            with self.assertRaises(RulesRefusedError) as refused:
                Engine(rules_file=path, **SMALL)
            self.assertEqual(refused.exception.problems,
                             [path + ":2: unknown global 'x' (declare it "
                              "local, or see docs/RULES.md for what rules "
                              "can use)"])
            with open(path, "w") as f:
                f.write("return { weights = { skill = 1 } }\n")
            with Engine(rules_file=path, **SMALL) as engine:
                self.assertEqual(engine.rules_version, 1)

    def test_errors_are_exceptions_of_the_right_class(self):
        self.add_available(billing_agent("maria"))
        with self.assertRaisesRegex(NotFoundError, "ghost") as cm:
            self.engine.set_agent_state("ghost", AgentState.AVAILABLE)
        self.assertIsInstance(cm.exception, LookupError)
        self.assertIsInstance(cm.exception, RoutingError)
        self.assertEqual(cm.exception.code, 5)
        with self.assertRaisesRegex(NotFoundError, "nope"):
            self.engine.release("nope", Outcome.RESOLVED)
        with self.assertRaisesRegex(AlreadyExistsError, "maria"):
            self.engine.add_agent(billing_agent("maria"))
        with self.assertRaisesRegex(NotFoundError, "astrophysics"):
            self.engine.route(Contact("c", required_skills={"astrophysics": 1}))
        with self.assertRaisesRegex(InvalidArgumentError, "capacity of zero"):
            self.engine.add_agent(Agent("bob", skills={"billing": 1}))
        with self.assertRaisesRegex(InvalidArgumentError, "priority 12"):
            self.engine.route(billing_call("c", priority=12))
        with self.assertRaisesRegex(InvalidArgumentError, "agent state 9"):
            self.engine.set_agent_state("maria", 9)
        with self.assertRaises(ValueError):  # InvalidArgumentError is one.
            self.engine.route(Contact("c", channel=17))
        self.engine.route(billing_call("call-1"))
        self.engine.route(billing_call("call-2"))
        with self.assertRaisesRegex(AlreadyExistsError, "call-2"):
            self.engine.route(billing_call("call-2"))
        with self.assertRaisesRegex(FailedPreconditionError, "call-2"):
            self.engine.release("call-2", Outcome.RESOLVED)
        with self.assertRaisesRegex(FailedPreconditionError, "wall clock"):
            with Engine(**SMALL) as wall:
                wall.set_time(START_MS)
        with self.assertRaisesRegex(InvalidArgumentError, "history_depth"):
            Engine(history_depth=99, **SMALL)
        with self.assertRaisesRegex(InvalidArgumentError,
                                    "unknown limit 'max_cats'"):
            Engine(max_cats=3)
        # Nothing above changed the engine.
        stats = self.engine.stats()
        self.assertEqual((stats.agents, stats.contacts_held, stats.decisions),
                         (1, 2, 2))

    def test_resource_exhausted(self):
        with Engine(max_agents=4, max_contacts=2, history_customers=4) as e:
            e.add_agent(billing_agent("maria"))
            e.route(billing_call("c1"))
            e.route(billing_call("c2"))
            with self.assertRaisesRegex(ResourceExhaustedError, "c3"):
                e.route(billing_call("c3"))

    def test_invalid_text_names_the_field(self):
        for bad in ("\udcff", b"\xff", b"ab\xc0\xaf", b"\xed\xa0\x80"):
            with self.assertRaisesRegex(InvalidArgumentError,
                                        "agent id is not valid UTF-8"):
                self.engine.add_agent(Agent(bad, capacity={Channel.VOICE: 1}))
            with self.assertRaisesRegex(InvalidArgumentError,
                                        "required skill is not valid UTF-8"):
                self.engine.route(Contact("c", required_skills={bad: 1}))
            with self.assertRaisesRegex(
                    InvalidArgumentError,
                    "contact attribute value is not valid UTF-8"):
                self.engine.route(Contact("c", attributes={"summary": bad}))
            with self.assertRaisesRegex(InvalidArgumentError,
                                        "contact id is not valid UTF-8"):
                self.engine.cancel(bad)
        with self.assertRaisesRegex(InvalidArgumentError,
                                    "agent id contains a NUL"):
            self.engine.set_agent_state("ma\0ria", AgentState.AVAILABLE)
        with self.assertRaisesRegex(InvalidArgumentError, "must be str"):
            self.engine.cancel(42)
        # Non-ASCII that is valid goes through intact.
        self.add_available(Agent("jos\u00e9-\u65e5", skills={"facturaci\u00f3n": 3},
                                 capacity={Channel.VOICE: 1}))
        d = self.engine.route(Contact("\U0001f4de-1",
                                      required_skills={"facturaci\u00f3n": 1}))
        self.assertEqual((d.contact_id, d.agent_id, d.queue),
                         ("\U0001f4de-1", "jos\u00e9-\u65e5",
                          "facturaci\u00f3n"))
        self.assertEqual(self.engine.stats().agents, 1)

    def test_closed_engine_raises_destroyed(self):
        engine = Engine(**SMALL)
        engine.add_agent(billing_agent("maria"))
        engine.close()
        engine.close()  # Idempotent.
        self.assertTrue(engine.closed)
        with self.assertRaisesRegex(EngineDestroyedError, "destroyed"):
            engine.set_agent_state("maria", AgentState.AVAILABLE)
        with self.assertRaises(EngineDestroyedError):
            engine.route(billing_call("c"))
        with self.assertRaises(EngineDestroyedError):
            engine.stats()
        with Engine(**SMALL) as scoped:
            scoped.add_agent(billing_agent("maria"))
        with self.assertRaises(EngineDestroyedError):
            scoped.agent_ids()

    def test_callback_may_call_the_engine_but_not_close_it(self):
        seen = []

        def on_assigned(a):
            seen.append(a.contact_id)
            engine.release(a.contact_id, Outcome.RESOLVED)  # Re-entrant.
            engine.close()  # Refused: we are inside the engine's call.

        engine = Engine(on_assigned=on_assigned, **SMALL)
        self.addCleanup(engine.close)
        engine.add_agent(billing_agent("maria"))
        engine.set_agent_state("maria", AgentState.AVAILABLE)
        for i in range(3):
            engine.route(billing_call(f"call-{i}"))
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            engine.release("call-0", Outcome.RESOLVED)
        self.assertEqual(stderr.getvalue().count("FailedPreconditionError"), 2)
        # call-1 was assigned and released inside the callback, which then
        # assigned call-2 (a nested callback), released it too.
        self.assertEqual(seen, ["call-1", "call-2"])
        self.assertEqual(len(engine.callback_errors), 2)
        for e in engine.callback_errors:
            self.assertIsInstance(e, FailedPreconditionError)
            self.assertIn("assignment callback", str(e))
        self.assertFalse(engine.closed)
        self.assertEqual(engine.stats().contacts_held, 0)

    def test_dropped_engine_is_collected_and_destroyed(self):
        engine = Engine(on_assigned=lambda a: None, **SMALL)
        handle = engine._handle
        collected = weakref.ref(engine)
        del engine  # No reference cycle (e.g. through the callback) keeps it.
        self.assertIsNone(collected())
        # The C handle outlives the engine by design, and now says so.
        version = ctypes.c_uint64()
        self.assertEqual(lib.routing_engine_policy_version(
            handle, ctypes.byref(version)), EngineDestroyedError.code)

    def test_callback_exception_does_not_reach_the_engine(self):
        def on_assigned(a):
            raise RuntimeError(f"module failed on {a.contact_id}")

        with Engine(on_assigned=on_assigned, **SMALL) as engine:
            engine.add_agent(billing_agent("maria"))
            engine.route(billing_call("call-1"))  # Queued: maria is away.
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                engine.set_agent_state("maria", AgentState.AVAILABLE)
            self.assertIn("RuntimeError: module failed on call-1",
                          stderr.getvalue())
            self.assertEqual(len(engine.callback_errors), 1)
            self.assertIn("call-1", str(engine.callback_errors[0]))
            self.assertEqual(engine.get_contact("call-1").agent_id, "maria")


class OffersTest(unittest.TestCase):
    """Reservations: chats are offers the agent accepts or rejects."""

    def setUp(self):
        self.assignments = []
        self.engine = Engine(manual_clock_ms=START_MS,
                             on_assigned=self.assignments.append,
                             offer_timeouts_ms={Channel.CHAT: 20_000}, **SMALL)
        self.addCleanup(self.engine.close)
        for agent_id in ("maria", "james"):
            self.engine.add_agent(billing_agent(agent_id))
        self.engine.set_agent_state("maria", AgentState.AVAILABLE)

    def test_an_offer_is_accepted_then_assigned(self):
        d = self.engine.route(billing_call("chat-1", channel=Channel.CHAT))
        self.assertTrue(d.assigned)
        self.assertTrue(d.offered)
        self.assertEqual(d.offer_expires_at_ms, START_MS + 20_000)
        self.assertEqual(self.engine.get_contact("chat-1").state,
                         ContactState.OFFERED)
        with self.assertRaises(FailedPreconditionError):
            self.engine.accept_offer("chat-1", "james")
        self.engine.accept_offer("chat-1", "maria")
        self.assertEqual(self.engine.get_contact("chat-1").state,
                         ContactState.ASSIGNED)

    def test_a_rejected_offer_goes_back_to_its_queue(self):
        self.engine.route(billing_call("chat-1", channel=Channel.CHAT))
        back = self.engine.reject_offer("chat-1", "maria")
        self.assertEqual(back.outcome, DecisionOutcome.QUEUED)
        self.assertEqual(back.placement, 1)
        self.assertEqual(self.engine.get_agent("maria").state,
                         AgentState.BREAK)
        # James, free now, gets the offer; maria is never offered it again.
        self.engine.set_agent_state("james", AgentState.AVAILABLE)
        self.assertEqual(self.assignments[-1].agent_id, "james")
        self.assertTrue(self.assignments[-1].decision.offered)


class CloseWhileCallingBackTest(unittest.TestCase):

    def test_close_waits_for_a_callback_that_itself_tries_to_close(self):
        inside = threading.Event()
        refused = []

        def on_assigned(a):
            inside.set()
            time.sleep(0.2)  # Meanwhile the main thread is in close().
            try:
                engine.close()
            except FailedPreconditionError as e:
                refused.append(e)

        engine = Engine(on_assigned=on_assigned, **SMALL)
        engine.add_agent(billing_agent("maria"))
        engine.set_agent_state("maria", AgentState.AVAILABLE)
        engine.route(billing_call("call-1"))
        engine.route(billing_call("call-2"))  # Queued.
        releaser = threading.Thread(
            target=lambda: engine.release("call-1", Outcome.RESOLVED))
        releaser.start()
        self.assertTrue(inside.wait(10))
        engine.close()  # Waits for the callback, which cannot close it.
        releaser.join(10)
        self.assertFalse(releaser.is_alive())
        self.assertEqual(len(refused), 1)
        self.assertTrue(engine.closed)
        with self.assertRaises(EngineDestroyedError):
            engine.stats()


class ThreadsTest(unittest.TestCase):
    """Python threads route and release at once; the GIL is released in
    every call, and queued calls reach the callback on any of them."""

    def test_threads_route_and_release(self):
        threads, calls = 4, 150
        lock = threading.Lock()
        pending = []
        engine = Engine(max_agents=16, max_contacts=threads * calls,
                        history_customers=16,
                        on_assigned=lambda a: (lock.acquire(),
                                               pending.append(a.contact_id),
                                               lock.release()))
        self.addCleanup(engine.close)
        for i in range(4):
            engine.add_agent(billing_agent(f"agent-{i}", 1 + i))
            engine.set_agent_state(f"agent-{i}", AgentState.AVAILABLE)
        errors = []

        def release_pending():
            with lock:
                contact_id = pending.pop() if pending else None
            if contact_id:
                engine.release(contact_id, Outcome.RESOLVED)
            return contact_id is not None

        def caller(t):
            try:
                held = []
                for i in range(calls):
                    d = engine.route(billing_call(f"call-{t}-{i}"))
                    if d.assigned:
                        held.append(d.contact_id)
                    if len(held) == 2:
                        for contact_id in held:
                            engine.release(contact_id, Outcome.RESOLVED)
                        held.clear()
                    release_pending()
                for contact_id in held:
                    engine.release(contact_id, Outcome.RESOLVED)
            except Exception as e:  # Reported below.
                errors.append(e)

        workers = [threading.Thread(target=caller, args=(t,))
                   for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        while release_pending():
            pass
        self.assertEqual(errors, [])
        stats = engine.stats()
        self.assertEqual(stats.decisions, threads * calls)
        self.assertEqual(stats.assigned_immediately + stats.assigned_from_queue,
                         threads * calls)
        self.assertEqual(stats.released, threads * calls)
        self.assertEqual(stats.contacts_held, 0)
        self.assertEqual(engine.callback_errors, [])


class _RecordingResult(unittest.TextTestResult):
    """Also remembers the tests that passed, for the JUnit report."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test)


def _write_junit(path, result):
    """The per-case report Bazel keeps as test.xml (so tools/test.sh counts
    each case, as it does for GoogleTest)."""
    suite = ET.Element("testsuite", name="routing_engine_test")
    def case(test):
        cls, _, name = test.id().rpartition(".")
        return ET.SubElement(suite, "testcase", classname=cls, name=name)
    for test in result.passed:
        case(test)
    for kind, outcomes in (("failure", result.failures),
                           ("error", result.errors)):
        for test, trace in outcomes:
            ET.SubElement(case(test), kind, message=trace.splitlines()[-1]
                          ).text = trace
    for test, reason in result.skipped:
        ET.SubElement(case(test), "skipped", message=reason)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


if __name__ == "__main__":
    program = unittest.main(exit=False, testRunner=unittest.TextTestRunner(
        resultclass=_RecordingResult, verbosity=2))
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_junit(os.environ["XML_OUTPUT_FILE"], program.result)
    sys.exit(0 if program.result.wasSuccessful() else 1)
