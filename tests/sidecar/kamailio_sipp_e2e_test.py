"""End to end: Kamailio routes real SIP calls through routingd, SIPp plays
the agents and the callers (integrations/kamailio/).

Everything runs on loopback, on ports chosen now: routingd (ipc:// in the
test's temporary directory, --http= off), Kamailio on 127.0.0.1 (its own
runtime dir and pid file, in the foreground), one SIPp UAS per agent on its
own 127.0.0.x address, and SIPp UACs: callers at a set rate (some with
X-Language), callers who hang up while queued, callers whose phone follows
(or ignores) a transfer, and single calls for the other cases. Every
process is started here and stopped by its PID.

Checks:
  - every answered call reached a qualified agent (the agents' own logs);
  - no agent ever had two calls at once (the agents' own logs: each offer
    after that agent's previous hang-up);
  - queued calls were assigned as agents freed up, in aged-arrival order
    (routingd's ContactAssigned events, in sequence, per caller language);
  - the agent that answered 486 was put on break and its call went to
    another agent (RONA); the break ended on its own after RONA_BREAK_S
    (routingd's agent events: break, then available) and the agent took a
    later call; an agent whose phone unregisters during the break stays
    logged out;
  - an agent's REFER to a queue moved the caller: the caller's phone
    followed it with a new call that waited in the queue and reached the
    agent of the new queue who speaks the caller's language, as the same
    contact in routingd (its assignments, its customer, and releases: none
    for the first agent, one for the new); a transfer the caller's phone
    accepted but never followed released the contact TRANSFER_WAIT later;
  - an unregister and an expired registration log agents out;
  - a call to a queue no agent serves is answered 404;
  - callers who hung up while queued, and one who waited until the queue
    timed out (408), left no contact behind (Stats contacts_held and
    ListContacts at quiescence);
  - routingd's Stats agree with SIPp's own counts (calls created, answered,
    cancelled).

Run by kamailio_sipp_e2e_test.sh with PYTHONPATH holding the client package,
ROUTINGD naming the daemon and KAMAILIO_DIR the integration's files.
"""

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from routing_sidecar import Client, EventSubscriber, RoutingError

ROUTINGD = os.environ["ROUTINGD"]
KAMAILIO_DIR = os.environ["KAMAILIO_DIR"]
SIPP_DIR = os.path.join(KAMAILIO_DIR, "sipp")
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"
OUTPUTS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")

# The roster: four agents who answer, one who rejects his first offer with
# 486 (rob: the highest billing level, so routingd offers him an early
# call) and answers later ones, one whose registration expires (eve) and
# one who never registers (zoe, the only French speaker: French callers
# wait until they hang up).
ROSTER = [
    {"id": "alice", "skills": {"billing": 3}, "languages": {"en": 5}},
    {"id": "bob", "skills": {"billing": 3}, "languages": {"en": 5, "es": 4}},
    {"id": "carol", "skills": {"billing": 3}, "languages": {"en": 4, "es": 5}},
    {"id": "dave", "skills": {"billing": 3}, "languages": {"en": 5}},
    {"id": "rob", "skills": {"billing": 5, "retention": 3},
     "languages": {"en": 5, "es": 5}},
    {"id": "eve", "skills": {"sales": 3}, "languages": {"en": 5}},
    {"id": "zoe", "skills": {"billing": 3}, "languages": {"fr": 5}},
    {"id": "tom", "skills": {"support": 3}, "languages": {"en": 5, "es": 5}},
    {"id": "sam", "skills": {"sales": 5}, "languages": {"en": 5}},
    {"id": "sofia", "skills": {"sales": 2}, "languages": {"es": 5}},
    {"id": "ray", "skills": {"collections": 3}, "languages": {"en": 5}},
    {"id": "cora", "skills": {"collections": 3}, "languages": {"en": 5}},
]
ANSWERING = ["alice", "bob", "carol", "dave"]
# rob rejects his first offer (RONA), is on break RONA_BREAK_S, then takes
# a retention call (only he has that skill), placed once he has rejected.
REJECTING = "rob"
RONA_BREAK_S = 2
# ray rejects the one collections call too, and his phone unregisters
# during the break: he stays logged out when the break ends, and the call
# waits until the queue gives up (cora, the other collections agent, never
# logs in; with nobody else on the roster routingd would refuse the
# requeue, and the caller would get 480).
LEAVING_ON_BREAK = "ray"
# A Spanish support call: tom answers it and transfers it to sales with a
# REFER. The caller's phone follows it with a new call to sales, which must
# reach sofia: of the sales agents only she speaks Spanish, and sam, with
# the higher sales level, would get a call that had lost its language.
# sofia is busy with a Spanish sales call (placed at the start, held
# TARGET_HOLD_MS) when the new call comes (about 2 s in), so it waits in
# the queue and is connected by the assignment.
TRANSFERRING = "tom"
TRANSFER_TARGET = "sofia"
TARGET_HOLD_MS = 4000
# Once that transfer is under way, a second support call: tom transfers it
# too, but this caller's phone accepts the REFER and never calls; the proxy
# releases the contact TRANSFER_WAIT seconds after the REFER.
TRANSFER_WAIT_S = 3

# The callers: 16 calls at 8/s, a third Spanish, a third English, a third
# with no language; each agent holds a call 1.5 s, so calls queue.
CALLS = [("billing", lang) for lang in ("es", "en", None) * 5 + ("en",)]
CALL_RATE = 8
HOLD_MS = 1500
# The callers who hang up: 3 French calls (nobody logged in speaks French),
# each cancelled 800 ms after its 182 Queued.
LEAVERS = 3
LEAVE_AFTER_MS = 800
FR_INV_TIMER_MS = 3000
# One more French caller waits until the proxy gives up (408), well after
# every other queued call has been served (they wait 6 s at most).
QUEUE_MAX_WAIT_MS = 10000


def free_udp_port(address):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


# SIPp's exit code when it cannot bind its socket (-2): the free port we
# picked was taken meanwhile by another process on this machine.
SIPP_BIND_FAILED = 254


def bound(address, port, process, seconds=15):
    """Whether `process` came to hold UDP address:port (our own bind fails
    and the process still runs a moment later). False if it exited, as SIPp
    does at once when another process took the port first."""
    deadline = time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((address, port))
            except OSError:
                time.sleep(0.1)
                return process.poll() is None
        time.sleep(0.02)
    return False


def sipp_stat(path, column):
    """The last value of a -trace_stat CSV column (SIPp's own counters)."""
    with open(path) as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, last = rows[0], rows[-1]
    return int(last[header.index(column)])


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def when(seconds, micros):
    return float(seconds) + float(micros) / 1e6


class KamailioSippTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # Under /tmp: ipc:// paths must fit a Unix socket's 108 bytes, which
        # Bazel's TEST_TMPDIR does not.
        cls.dir = tempfile.mkdtemp(prefix="kam-", dir="/tmp")
        cls.processes = []  # (name, Popen), stopped in reverse order
        try:
            cls.start()
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()
        if OUTPUTS:
            for name in os.listdir(cls.dir):
                if name.endswith((".log", ".csv", ".stderr", ".json")):
                    shutil.copy(os.path.join(cls.dir, name), OUTPUTS)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def spawn(cls, name, argv, **kwargs):
        with open(os.path.join(cls.dir, name + ".stderr"), "w") as out:
            process = subprocess.Popen(argv, stdout=out,
                                       stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, **kwargs)
        cls.processes.append((name, process))
        return process

    @classmethod
    def stop_all(cls):
        for name, process in reversed(cls.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for name, process in reversed(cls.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        cls.processes = []

    @classmethod
    def spawn_sipp(cls, name, address, argv_for_port, port=None):
        """Starts a SIPp that binds address:port (a free one when not
        given), trying other ports while another process wins the race for
        the one picked. Returns (process, port)."""
        for _ in range(5):
            port = port or free_udp_port(address)
            process = cls.spawn(name, argv_for_port(port))
            if bound(address, port, process):
                return process, port
            if process.poll() != SIPP_BIND_FAILED:
                raise RuntimeError(f"{name} did not start:\n" +
                                   cls.output(name)[-2000:])
            cls.processes.remove((name, process))
            port = None
        raise RuntimeError(f"{name}: no free port on {address}")

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def start(cls):
        # routingd, on ipc:// endpoints of its own, without HTTP.
        cls.server = f"ipc://{cls.dir}/req.sock"
        cls.events = f"ipc://{cls.dir}/pub.sock"
        cls.routingd = cls.spawn("routingd", [
            ROUTINGD, f"--listen={cls.server}", f"--events={cls.events}",
            "--http="])
        probe = Client(cls.server, timeout_ms=200)
        deadline = time.time() + 20
        while True:
            try:
                probe.health()
                break
            except (TimeoutError, RoutingError):
                if time.time() > deadline or cls.routingd.poll() is not None:
                    raise RuntimeError("routingd did not start")
        probe.close()
        cls.client = Client(cls.server)
        # Every assignment and agent state routingd publishes, in sequence,
        # from before the first call.
        cls.subscriber = EventSubscriber(cls.events,
                                         topics=["contact/", "agent/"])

        # Kamailio, on a free port of 127.0.0.1, in the foreground.
        roster = [dict(a, capacity={"voice": 1}) for a in ROSTER]
        with open(cls.path("roster.json"), "w") as f:
            json.dump({"agents": roster}, f)
        os.makedirs(cls.path("kamailio-run"))
        # The glue's calls through NativeClient, as a deployment with the
        # library has them (the call-setup benchmark's smoke test runs the
        # glue on the Python client too).
        env = dict(os.environ, ROUTINGD_SERVER=cls.server,
                   ROUTINGD_EVENTS=cls.events, ROUTING_NATIVE_CLIENT="on",
                   ROUTING_ROSTER=cls.path("roster.json"))
        glue = os.path.join(KAMAILIO_DIR, "routing_glue.py")
        for _ in range(3):
            cls.sip_port = free_udp_port("127.0.0.1")
            cls.proxy = f"127.0.0.1:{cls.sip_port}"
            cls.kamailio = cls.spawn("kamailio", [
                KAMAILIO, "-f", os.path.join(KAMAILIO_DIR, "kamailio.cfg"),
                "-DD", "-E", "-Y", cls.path("kamailio-run"),
                "-P", cls.path("kamailio.pid"), "-m", "64", "-M", "8",
                "-l", f"udp:{cls.proxy}", "-A", "LISTEN_ON_COMMAND_LINE",
                "-A", f'ROUTING_GLUE="{glue}"',
                "-A", f"FR_INV_TIMER={FR_INV_TIMER_MS}",
                "-A", f"QUEUE_MAX_WAIT={QUEUE_MAX_WAIT_MS}",
                "-A", "MIN_EXPIRES=1",
                "-A", f"RONA_BREAK_S={RONA_BREAK_S}",
                "-A", f"TRANSFER_WAIT={TRANSFER_WAIT_S}"],
                env=env)
            # It binds its port after loading the roster (mod_init); a port
            # another process took meanwhile stops it: try another.
            if bound("127.0.0.1", cls.sip_port, cls.kamailio, seconds=20):
                break
            if "routing_glue: " not in cls.output("kamailio"):
                raise RuntimeError("kamailio did not start:\n" +
                                   cls.output("kamailio")[-3000:])
            cls.processes.remove(("kamailio", cls.kamailio))
        else:
            raise RuntimeError("kamailio: no free port")
        time.sleep(0.3)  # its SIP workers and timer process fork

        # The agents' phones: register (a UAC run to completion), then
        # answer (a UAS on the same address and port). eve registers for
        # 2 s only and has no UAS.
        cls.agents = {}
        agents = ANSWERING + [REJECTING, TRANSFERRING, "sam",
                              TRANSFER_TARGET, LEAVING_ON_BREAK, "eve"]
        for i, agent in enumerate(agents):
            address = f"127.0.0.{10 + i}"
            cls.agents[agent] = (address, None)
            cls.register(agent, 2 if agent == "eve" else 3600)
            if agent == "eve":
                continue
            port = cls.agents[agent][1]
            scenario, extra = "agent_uas.xml", []
            if agent in (REJECTING, LEAVING_ON_BREAK):
                scenario = "agent_busy_uas.xml"
                extra = ["-key", "rejections", "1"]
            elif agent == TRANSFERRING:
                scenario = "agent_transfer_uas.xml"
                extra = ["-key", "transfer_to", f"sales@{cls.proxy}"]
            hold = TARGET_HOLD_MS if agent == TRANSFER_TARGET else HOLD_MS
            # Bound before the first call. (The port is the one registered:
            # should another process take it in between, this fails.)
            cls.spawn_sipp(f"agent_{agent}", address, lambda port: [
                SIPP, "-sf", os.path.join(SIPP_DIR, scenario), "-s", agent,
                *extra,
                "-d", str(hold), "-i", address, "-p", str(port),
                "-trace_logs", "-log_file", cls.path(f"agent_{agent}.log"),
                # Call-IDs are the phone's own: the transferred caller's
                # "xfer///..." one included (SIPp would file it, and name
                # it in the BYE, by the part after "///").
                "-callid_slash_ign",
                "-nostdin", "-timeout", "60s"], port=port)

        # The callers and the callers who hang up, at once.
        with open(cls.path("calls.csv"), "w") as f:
            f.write("SEQUENTIAL\n")
            for queue, lang in CALLS:
                header = f"X-Language: {lang}" if lang else "X-Note: none"
                f.write(f"{queue};{header}\n")
        with open(cls.path("french_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\n" + "billing;X-Language: fr\n" * LEAVERS)
        cls.callers = cls.uac("callers", "caller.xml", "calls.csv",
                              len(CALLS), CALL_RATE, [])
        cls.leavers = cls.uac("leavers", "caller_cancel.xml",
                              "french_calls.csv", LEAVERS, 2,
                              ["-d", str(LEAVE_AFTER_MS)])
        with open(cls.path("support_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\nsupport;X-Language: es\n")
        cls.support = cls.uac("support", "caller_transfer.xml",
                              "support_calls.csv", 1, 1, [])
        with open(cls.path("sales_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\nsales;X-Language: es\n")
        cls.sales = cls.uac("sales", "caller.xml", "sales_calls.csv", 1, 1, [])
        cls.patient = cls.uac("patient", "caller_queue_timeout.xml",
                              "french_calls.csv", 1, 1, [])
        with open(cls.path("collections_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\ncollections;X-Language: en\n")
        cls.collections = cls.uac("collections", "caller_queue_timeout.xml",
                                  "collections_calls.csv", 1, 1, [])
        # ray turns it down (RONA, break) and his phone goes off:
        # unregistered while on break.
        cls.wait_for_log(f"agent_{LEAVING_ON_BREAK}.log", "rejected")
        phone = dict(cls.processes)[f"agent_{LEAVING_ON_BREAK}"]
        phone.send_signal(signal.SIGTERM)
        phone.wait(timeout=10)
        cls.register(LEAVING_ON_BREAK, 0)
        # Once rob has turned his first call down (RONA), a call only he
        # can take: it waits for the end of his break.
        cls.wait_for_log(f"agent_{REJECTING}.log", "rejected")
        with open(cls.path("retention_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\nretention;X-Note: none\n")
        cls.retention = cls.uac("retention", "caller.xml",
                                "retention_calls.csv", 1, 1, [])
        # Once the first support call is transferred, the second one (whose
        # phone will not follow its transfer).
        cls.wait_for_log("support.log", "referred")
        with open(cls.path("stayer_calls.csv"), "w") as f:
            f.write("SEQUENTIAL\nsupport;X-Language: en\n")
        cls.stayer = cls.uac("stayer", "caller_refer_ignored.xml",
                             "stayer_calls.csv", 1, 1, [])
        cls.callers_rc = cls.callers.wait(timeout=45)
        cls.leavers_rc = cls.leavers.wait(timeout=15)
        with open(cls.path("unknown_queue.csv"), "w") as f:
            f.write("SEQUENTIAL\nnosuchqueue;X-Note: none\n")
        cls.refused = cls.uac("refused", "caller_refused.xml",
                              "unknown_queue.csv", 1, 1, [])
        cls.refused_rc = cls.refused.wait(timeout=15)
        cls.patient_rc = cls.patient.wait(timeout=30)
        cls.collections_rc = cls.collections.wait(timeout=30)
        cls.support_rc = cls.support.wait(timeout=15)
        cls.sales_rc = cls.sales.wait(timeout=15)
        cls.retention_rc = cls.retention.wait(timeout=15)
        cls.stayer_rc = cls.stayer.wait(timeout=15)

        # Quiescence: every answered call released, nothing held.
        deadline = time.time() + 10
        while True:
            cls.counts = cls.client.stats()
            if cls.counts["contacts_held"] == 0 or time.time() > deadline:
                break
            time.sleep(0.1)
        # An assignment comes on both families (contact/ and agent/): each
        # event once, by its global sequence number.
        by_sequence = {}
        while True:
            try:
                event = cls.subscriber.next(timeout_ms=100)[1]
            except TimeoutError:
                break
            by_sequence[event["sequence"]] = event
        cls.events_seen = [by_sequence[n] for n in sorted(by_sequence)]
        cls.assignments = [e for e in cls.events_seen
                           if e["type"] == "assigned"]

    @classmethod
    def wait_for_log(cls, name, kind, seconds=20):
        """Waits until the SIPp log `name` has a line starting with kind."""
        deadline = time.time() + seconds
        while not any(f[0] == kind for f in read_log(cls.path(name))):
            if time.time() > deadline:
                raise RuntimeError(f"no {kind!r} line in {name}")
            time.sleep(0.05)

    @classmethod
    def register(cls, agent, expires):
        """REGISTER (expires 0: unregister) from the agent's address and
        port; picks the port on the first registration."""
        address, port = cls.agents[agent]
        for _ in range(5):
            try_port = port or free_udp_port(address)
            rc = subprocess.run([
                SIPP, "-sf", os.path.join(SIPP_DIR, "agent_register.xml"),
                "-s", agent, "-key", "expires", str(expires), "-i", address,
                "-p", str(try_port), "-m", "1", "-nostdin", "-timeout", "10s",
                "-timeout_error", cls.proxy],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, timeout=15).returncode
            if rc == 0:
                cls.agents[agent] = (address, try_port)
                return
            if rc != SIPP_BIND_FAILED or port:
                break
        raise RuntimeError(f"{agent}'s REGISTER failed (sipp exit {rc})")

    @classmethod
    def uac(cls, name, scenario, injection, calls, rate, extra):
        return cls.spawn_sipp(name, "127.0.0.1", lambda port: [
            SIPP, "-sf", os.path.join(SIPP_DIR, scenario),
            "-inf", cls.path(injection), "-r", str(rate), "-m", str(calls),
            "-i", "127.0.0.1", "-p", str(port),
            "-trace_logs", "-log_file", cls.path(f"{name}.log"),
            "-trace_stat", "-stf", cls.path(f"{name}.stat.csv"),
            "-nostdin", "-timeout", "40s", "-timeout_error", *extra,
            cls.proxy])[0]

    @classmethod
    def output(cls, name):
        with open(cls.path(name + ".stderr"), errors="replace") as f:
            return f.read()

    # --- the checks ---------------------------------------------------------

    def agent_calls(self, agent):
        """[(call id, offered at, hung up at or None, queue, language)]."""
        calls, hangups = [], {}
        for fields in read_log(self.path(f"agent_{agent}.log")):
            if fields[0] == "offered":
                calls.append([fields[1], when(fields[2], fields[3]),
                              None, fields[4], fields[5]])
            elif fields[0] == "hangup":
                hangups[fields[1]] = when(fields[2], fields[3])
        for call in calls:
            call[2] = hangups.get(call[0])
        return calls

    def rejections(self, agent=REJECTING):
        """The agent's rejected offers: [(call id, rejected at)]."""
        return [(f[1], when(f[2], f[3])) for f in
                read_log(self.path(f"agent_{agent}.log"))
                if f[0] == "rejected"]

    def caller_log(self, name, kind):
        return [f for f in read_log(self.path(f"{name}.log")) if f[0] == kind]

    def test_sipp_callers_all_succeeded(self):
        self.assertEqual(self.callers_rc, 0, self.output("callers")[-2000:])
        self.assertEqual(self.leavers_rc, 0, self.output("leavers")[-2000:])
        # 182 Queued, then 408 once QUEUE_MAX_WAIT passed.
        self.assertEqual(self.patient_rc, 0, self.output("patient")[-2000:])
        self.assertEqual(self.support_rc, 0, self.output("support")[-2000:])
        self.assertEqual(self.sales_rc, 0, self.output("sales")[-2000:])
        self.assertEqual(self.retention_rc, 0,
                         self.output("retention")[-2000:])
        self.assertEqual(self.stayer_rc, 0, self.output("stayer")[-2000:])
        # Offered to ray, turned down, queued, 408 (ray logged out).
        self.assertEqual(self.collections_rc, 0,
                         self.output("collections")[-2000:])
        # A queue no agent serves: routingd refuses (NotFound), SIP 404.
        self.assertEqual(self.refused_rc, 0, self.output("refused")[-2000:])
        answered = self.caller_log("callers", "answered")
        self.assertEqual(len(answered), len(CALLS))

    def test_every_answered_call_reached_a_qualified_agent(self):
        roster = {a["id"]: a for a in ROSTER}
        answered_by = {}
        for agent in ANSWERING + [REJECTING]:
            for call_id, _, hangup, queue, lang in self.agent_calls(agent):
                self.assertIn(queue, roster[agent]["skills"], call_id)
                if lang != "-":
                    self.assertIn(lang, roster[agent]["languages"],
                                  f"{call_id} ({lang}) answered by {agent}")
                self.assertIsNotNone(hangup,
                                     f"{agent} never hung up {call_id}")
                if queue == "billing":
                    answered_by[call_id] = agent
        caller_ids = {f[1] for f in self.caller_log("callers", "answered")}
        self.assertEqual(set(answered_by), caller_ids)

    def test_no_agent_ever_had_two_calls_at_once(self):
        for agent in ANSWERING + [REJECTING, TRANSFER_TARGET]:
            calls = sorted(self.agent_calls(agent), key=lambda c: c[1])
            self.assertTrue(calls, f"{agent} got no call")
            for previous, call in zip(calls, calls[1:]):
                self.assertGreaterEqual(
                    call[1], previous[2],
                    f"{agent} was offered {call[0]} before hanging up "
                    f"{previous[0]}")

    def test_queued_calls_connected_in_aged_arrival_order(self):
        # The callers log whether each call got 182 Queued; routingd's
        # assignment events for those calls, in sequence, keep the callers'
        # order among calls any agent could serve alike (same language).
        # rob's rejected call is left out: a requeued call waits from its
        # requeue, not from its arrival.
        rejected = {call_id for call_id, _ in self.rejections()}
        number = {}
        queued = set()
        for fields in self.caller_log("callers", "answered"):
            number[fields[1]] = int(fields[2])
            if fields[3] == "1":
                queued.add(fields[1])
        self.assertGreaterEqual(len(queued), 4, "too few calls queued")
        # Assignments from the queue only (the topic also carries each
        # call's other lifecycle events and its immediate assignments).
        events = sorted((e for e in self.assignments
                         if not e["immediate"] and e["contact_id"] in queued),
                        key=lambda e: e["sequence"])
        self.assertLessEqual(queued - rejected,
                             {e["contact_id"] for e in events})
        lang = {}
        for i, (_, language) in enumerate(CALLS):
            lang[i + 1] = language or "-"
        by_language = {}
        for e in events:
            if e["contact_id"] in rejected:
                continue
            n = number[e["contact_id"]]
            by_language.setdefault(lang[n], []).append(n)
        for language, order in by_language.items():
            self.assertEqual(order, sorted(order),
                             f"queued {language} calls assigned out of order")
        # And each went to the agent whose phone logged it.
        offered_to = {c[0]: agent for agent in ANSWERING + [REJECTING]
                      for c in self.agent_calls(agent)}
        for e in events:
            self.assertEqual(offered_to.get(e["contact_id"]), e["agent_id"])

    def test_rejected_offer_requeued_and_agent_back_after_break(self):
        rejected = self.rejections()
        self.assertEqual(len(rejected), 1, "rob should reject one call")
        call_id, rejected_at = rejected[0]
        answered = {c[0] for agent in ANSWERING
                    for c in self.agent_calls(agent)}
        self.assertIn(call_id, answered)
        # routingd: rob on break (the RONA), then available again (the
        # break's end, RONA_BREAK_S later), and nothing else in between.
        states = [e["state"] for e in self.events_seen
                  if e["type"] == "agent_state" and e["agent_id"] == REJECTING]
        self.assertEqual(states[-2:], ["break", "available"], states)
        # Offered nothing while on break; then the retention call, which
        # only he can take, placed as he rejected the first.
        calls = self.agent_calls(REJECTING)
        self.assertIn("retention", [c[3] for c in calls], calls)
        for call in calls:
            # htable expiries count whole seconds (the break lasts
            # RONA_BREAK_S to 2 s more); a second of slack below.
            self.assertGreater(call[1], rejected_at + RONA_BREAK_S - 1.0,
                               f"{call[0]} offered during the break")
        states = {a["id"]: a["state"] for a in self.client.list_agents()}
        self.assertEqual(states[REJECTING], "available")

    def test_agent_who_logged_out_on_break_stays_logged_out(self):
        # ray: in, on break after his RONA, out (his phone unregistered);
        # the end of the break (long past at quiescence: the collections
        # call waited QUEUE_MAX_WAIT) did not make him available.
        states = [e["state"] for e in self.events_seen
                  if e["type"] == "agent_state"
                  and e["agent_id"] == LEAVING_ON_BREAK]
        # (From its login on: the roster load may report it logged out.)
        # The unregister may reach routingd before the RONA does (two
        # Kamailio processes): then no break follows the logout.
        self.assertIn("available", states)
        states = states[states.index("available"):]
        # Two Kamailio processes may each report the logout (a retransmitted
        # unregister, or the contact's expiry racing it), and each
        # SetAgentState publishes: the same state twice in a row is one here.
        states = [s for i, s in enumerate(states)
                  if i == 0 or s != states[i - 1]]
        self.assertIn(states, (["available", "break", "logged_out"],
                               ["available", "logged_out"]))
        states = {a["id"]: a["state"] for a in self.client.list_agents()}
        self.assertEqual(states[LEAVING_ON_BREAK], "logged_out")
        self.assertEqual(len(self.rejections(LEAVING_ON_BREAK)), 1)
        self.assertEqual(self.agent_calls(LEAVING_ON_BREAK), [])

    def test_transfer_moves_the_caller_to_an_agent_of_the_new_queue(self):
        referred = self.caller_log("support", "referred")
        self.assertEqual(len(referred), 1)
        contact_id = referred[0][1]
        lines = read_log(self.path(f"agent_{TRANSFERRING}.log"))
        transferred = [f for f in lines
                       if f[0] == "transferred" and f[1] == contact_id]
        self.assertEqual(len(transferred), 1, lines)
        self.assertEqual(transferred[0][4], f"sales@{self.proxy}")
        # The caller's phone got the REFER, with the token the proxy added,
        # and its new call was answered.
        referred = self.caller_log("support", "referred")
        self.assertEqual([f[1:3] for f in referred],
                         [[contact_id, f"sales@{self.proxy}"]])
        # It waited in the queue (182), sofia being on the sales call.
        self.assertEqual([f[1:3] for f in
                          self.caller_log("support", "reconnected")],
                         [[contact_id, "1"]])
        # The new call ("xfer///" and the first one's Call-ID) reached
        # sofia, the Spanish speaker of sales.
        offered = [c for c in self.agent_calls(TRANSFER_TARGET)
                   if c[0] == "xfer///" + contact_id]
        self.assertEqual(len(offered), 1,
                         self.agent_calls(TRANSFER_TARGET))
        self.assertEqual(offered[0][3], "sales")
        self.assertIsNotNone(offered[0][2], "sofia never hung up")
        self.assertEqual(self.agent_calls("sam"), [])
        # In routingd one contact, the first call's, assigned to tom and
        # then (from the queue) to sofia, with its customer; released once,
        # from sofia (who also released her sales call), never from tom.
        assigned = sorted((e for e in self.assignments
                           if e["contact_id"] == contact_id),
                          key=lambda e: e["sequence"])
        self.assertEqual([(e["agent_id"], e["immediate"]) for e in assigned],
                         [(TRANSFERRING, True), (TRANSFER_TARGET, False)])
        self.assertEqual(assigned[-1]["queue"], "sales")
        self.assertEqual(assigned[-1]["customer_id"], "transferred-1")
        released = [e for e in self.events_seen if e["type"] == "changed"
                    and e["change"] == "released"
                    and e["contact_id"] == contact_id]
        self.assertEqual([e["agent_id"] for e in released], [TRANSFER_TARGET])
        kpis = {a["id"]: a["kpis"] for a in self.client.list_agents()}
        # sofia also released her sales call, tom the call whose caller did
        # not follow its transfer (next test).
        self.assertEqual(kpis[TRANSFER_TARGET]["released"], 2,
                         kpis[TRANSFER_TARGET])
        self.assertEqual(kpis[TRANSFERRING]["released"], 1)
        self.assertEqual(kpis["sam"]["released"], 0)

    def test_transfer_not_followed_releases_the_contact(self):
        referred = self.caller_log("stayer", "referred")
        self.assertEqual(len(referred), 1)
        contact_id, referred_at = referred[0][1], when(*referred[0][2:4])
        # tom's REFER went to the phone, which accepted it and took tom's
        # BYE; no new call came, so TRANSFER_WAIT later (htable expiries
        # have a one-second resolution) the proxy released the contact,
        # from tom, who held it until then.
        released = [e for e in self.events_seen if e["type"] == "changed"
                    and e["change"] == "released"
                    and e["contact_id"] == contact_id]
        self.assertEqual([e["agent_id"] for e in released], [TRANSFERRING])
        self.assertGreater(released[0]["at_unix_ms"] / 1000,
                           referred_at + TRANSFER_WAIT_S - 1.0)
        self.assertEqual([e["agent_id"] for e in self.assignments
                          if e["contact_id"] == contact_id], [TRANSFERRING])

    def test_registration_drives_agent_state(self):
        # eve's 2-second registration has expired by now (usrloc's timer
        # runs every second); alice's phone goes off and unregisters here
        # (from its own address and port, which its UAS held until now).
        states = {a["id"]: a["state"] for a in self.client.list_agents()}
        self.assertEqual(states["eve"], "logged_out")
        self.assertEqual(states["zoe"], "logged_out")
        self.assertEqual(states["alice"], "available")
        phone = dict(self.processes)["agent_alice"]
        phone.send_signal(signal.SIGTERM)
        phone.wait(timeout=10)
        self.register("alice", 0)
        states = {a["id"]: a["state"] for a in self.client.list_agents()}
        self.assertEqual(states["alice"], "logged_out")

    def test_callers_who_left_the_queue_left_nothing_behind(self):
        self.assertEqual(self.counts["contacts_held"], 0, self.counts)
        self.assertEqual(self.client.list_contacts()["contacts"], [])
        self.assertEqual(sipp_stat(self.path("leavers.stat.csv"),
                                   "SuccessfulCall(C)"), LEAVERS)

    def test_routingd_stats_agree_with_sipp(self):
        def count(name, column):
            return sipp_stat(self.path(f"{name}.stat.csv"), column)
        # The transferred caller's second call is part of its SIPp call:
        # one call, one contact.
        callers = ("callers", "leavers", "patient", "support", "sales",
                   "retention", "stayer", "collections")
        created = sum(count(name, "OutgoingCall(C)") for name in callers)
        answered = sum(count(name, "SuccessfulCall(C)")
                       for name in ("callers", "support", "sales",
                                    "retention", "stayer"))
        # Hung up in the queue, and timed out there: both cancel the contact.
        cancelled = sum(count(name, "SuccessfulCall(C)")
                        for name in ("leavers", "patient", "collections"))
        # Each RONA (rob's, ray's) and each transfer that was followed
        # requeues once.
        requeues = (len(self.rejections()) +
                    len(self.rejections(LEAVING_ON_BREAK)) + 1)
        self.assertEqual(created, len(CALLS) + LEAVERS + 6)
        self.assertEqual(self.counts["decisions"], created + requeues,
                         self.counts)
        self.assertEqual(self.counts["released"], answered, self.counts)
        self.assertEqual(self.counts["cancelled"], cancelled, self.counts)
        self.assertEqual(self.counts["queued"],
                         self.counts["assigned_from_queue"] + cancelled,
                         self.counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
