"""Kamailio's app_python3 glue to routingd (integrations/kamailio/).

kamailio.cfg keeps the SIP logic (transactions, registrations, relaying);
this module only talks to routingd through the project's Python client
(bindings/python/routing_sidecar) and hands results back to the script in
$var(...) pseudo-variables. Each method is called by `python_exec("name")`
and returns 1 (true) or -1 (false) to the script.

Configuration, from the environment Kamailio was started with:
  ROUTINGD_SERVER   routingd's request endpoint (default tcp://127.0.0.1:5555)
  ROUTINGD_EVENTS   routingd's event endpoint  (default tcp://127.0.0.1:5556)
  ROUTING_ROSTER    the roster file (JSON, see roster.example.json), loaded
                    into routingd (AddAgent, or UpdateAgent when the agent
                    exists) when the module initialises; every agent starts
                    logged out until its phone registers.
  ROUTING_TIMEOUT_MS  how long one request may take (default 2000)

Processes: Kamailio calls mod_init() once in the main process, before it
forks its SIP workers and the rtimer process. ZeroMQ sockets must not cross
a fork, so the roster is loaded on a context of its own that is terminated
before mod_init returns, and each process opens its own Client (and the
rtimer process its own SUB socket) the first time it needs one. Besides the
SIP workers and the rtimer process, Kamailio's timer process calls the glue
too: usrloc's expiry event (logout) and htable's (the end of a RONA break,
an abandoned transfer).

The contact id is the Call-ID of the caller's first call: every message of
the call (CANCEL, BYE, the agent's failure reply) carries it, whichever
process handles it. A transfer gives the caller a new call (a new Call-ID)
that keeps the contact, so kamailio.cfg works the contact id out for every
message (route[CONTACT]) and hands it over in $var(contact); the glue reads
it there rather than the Call-ID.

Per contact the glue keeps what routingd needs to route it again (the
language and customer id of its first INVITE) in the shared `contacts`
htable, so a RONA or a transfer, whose messages do not carry the caller's
headers, requeues it with them.

The routing calls on the call path (RouteContact, RequeueContact,
CancelContact, ReleaseContact) all go through routing_client(), in the
three methods _route(), _cancel() and _release(). routing_client() is the
package's NativeClient (the request built and the reply read in C++, a few
microseconds of Python per call) when its library is there, else the
pure-Python Client: ROUTING_NATIVE_CLIENT=auto (the default), on (refuse to
start without it) or off.
"""

import json
import os
import sys
import time

import KSR
import zmq

from routing_sidecar import Client, RoutingError, native_available
from routing_sidecar.client import decode_event

# A queued assignment whose transaction is not yet in the `queued` htable
# (the event overtook the worker that is suspending it) is retried on each
# timer tick for this long, then dropped with a log line. The worker stores
# the transaction within a millisecond of routingd's reply, so a second is
# ample on a loaded machine.
_UNMATCHED_ASSIGNMENT_TTL_S = 1.0
# Events handed to the script per timer tick at most, so one tick never
# holds the rtimer process for long (the rest wait for the next tick).
_EVENTS_PER_TICK = 256
# The shared htable (kamailio.cfg) holding each contact's routing fields.
_CONTACTS_TABLE = "contacts"


def _env(name, default):
    value = os.environ.get(name, "")
    return value if value else default


def _log(level, text):
    getattr(KSR, level)("routing_glue: " + text + "\n")


def load_roster(path):
    """The roster file's agents, checked: a list of dicts with id, skills,
    languages and capacity. Raises ValueError naming the problem."""
    with open(path) as f:
        roster = json.load(f)
    agents = roster.get("agents") if isinstance(roster, dict) else None
    if not isinstance(agents, list) or not agents:
        raise ValueError(f"{path}: expected {{\"agents\": [...]}} with at "
                         "least one agent")
    seen = set()
    for i, agent in enumerate(agents):
        where = f"{path}: agents[{i}]"
        if not isinstance(agent, dict) or not agent.get("id"):
            raise ValueError(f"{where}: needs an \"id\"")
        if agent["id"] in seen:
            raise ValueError(f"{where}: agent {agent['id']!r} listed twice")
        seen.add(agent["id"])
        for field in ("skills", "languages", "capacity"):
            if not isinstance(agent.get(field, {}), dict):
                raise ValueError(f"{where}: \"{field}\" must be an object")
        agent.setdefault("capacity", {"voice": 1})
    return agents


def push_roster(server, agents, timeout_ms):
    """Adds every agent to routingd (UpdateAgent for one it already has)."""
    context = zmq.Context()
    try:
        with Client(server, timeout_ms=timeout_ms, context=context) as client:
            for agent in agents:
                kwargs = dict(skills=agent.get("skills", {}),
                              languages=agent.get("languages", {}),
                              capacity=agent["capacity"],
                              team=agent.get("team", ""))
                try:
                    client.add_agent(agent["id"], **kwargs)
                except RoutingError as error:
                    if error.code != "AlreadyExists":
                        raise
                    client.add_agent(agent["id"], update=True, **kwargs)
    finally:
        context.term()


class RoutingGlue:
    """The object mod_init returns; python_exec("method") calls its methods
    with the SIP message (and an optional string argument)."""

    def __init__(self):
        self.server = _env("ROUTINGD_SERVER", "tcp://127.0.0.1:5555")
        self.events = _env("ROUTINGD_EVENTS", "tcp://127.0.0.1:5556")
        self.timeout_ms = int(_env("ROUTING_TIMEOUT_MS", "2000"))
        native = _env("ROUTING_NATIVE_CLIENT", "auto")
        if native not in ("auto", "on", "off"):
            raise ValueError(f"ROUTING_NATIVE_CLIENT={native!r}: expected "
                             "auto, on or off")
        if native == "on" and not native_available():
            raise RuntimeError("ROUTING_NATIVE_CLIENT=on but "
                               "librouting_sidecar_native.so is not found")
        self.native = native != "off" and native_available()
        _log("info", "routing calls through the " +
             ("native client" if self.native else "Python client"))
        self._pid = None
        self._client = None
        self._native_client = None
        self._subscriber = None
        # rtimer process only: assignments read from routingd, oldest first,
        # as (contact id, agent id, first seen at), not yet handed over.
        self._assignments = []
        self._this_tick = []  # this tick's share, handed out one by one
        self._current = None  # the one the script is matching now

    # --- per-process sockets ------------------------------------------------

    def _fresh_process(self):
        if self._pid != os.getpid():
            # Forked since the sockets were opened (or never opened): the
            # parent's sockets belong to the parent, so start over.
            self._pid = os.getpid()
            self._context = zmq.Context()
            self._client = None
            self._native_client = None
            self._subscriber = None

    def client(self):
        self._fresh_process()
        if self._client is None:
            self._client = Client(self.server, timeout_ms=self.timeout_ms,
                                  context=self._context)
        return self._client

    def subscriber(self):
        self._fresh_process()
        if self._subscriber is None:
            sub = self._context.socket(zmq.SUB)
            sub.linger = 0
            # Every contact's events (the contact/ family): the timer
            # process matches assignments to suspended transactions itself,
            # so no subscription per call (and no window where an
            # assignment beats its subscription). read_assignments keeps
            # the assignments from the queue and drops the rest.
            sub.setsockopt(zmq.SUBSCRIBE, b"contact/")
            sub.connect(self.events)
            self._subscriber = sub
        return self._subscriber

    def child_init(self, rank):
        # Sockets are opened lazily, by the process that uses them.
        return 0

    # --- routingd: the routing calls on the call path ----------------------

    def routing_client(self):
        """The client of route(), cancel() and release(): NativeClient when
        its library is there (ROUTING_NATIVE_CLIENT), else Client."""
        if not self.native:
            return self.client()
        self._fresh_process()
        if self._native_client is None:
            from routing_sidecar import NativeClient
            self._native_client = NativeClient(self.server,
                                               timeout_ms=self.timeout_ms)
        return self._native_client

    def _route(self, contact_id, fields, requeue):
        return self.routing_client().route(contact_id, requeue=requeue,
                                           **fields)

    def _cancel(self, contact_id):
        self.routing_client().cancel(contact_id)

    def _release(self, contact_id):
        self.routing_client().release(contact_id, "resolved")

    # --- registrations ------------------------------------------------------

    def agent_login(self, msg, agent_id):
        """REGISTER made the agent's first contact: available."""
        return self._set_state(agent_id, "available")

    def agent_logout(self, msg, agent_id):
        """Unregistered, or its last contact expired: logged out."""
        return self._set_state(agent_id, "logged_out")

    def _set_state(self, agent_id, state):
        try:
            self.client().set_agent_state(agent_id, state)
        except RoutingError as error:
            _log("warn", f"agent {agent_id} -> {state}: {error}")
            return -1
        except TimeoutError as error:
            _log("err", f"agent {agent_id} -> {state}: {error}")
            return -1
        _log("info", f"agent {agent_id} -> {state}")
        return 1

    # --- calls --------------------------------------------------------------

    @staticmethod
    def _contact_id():
        return KSR.pv.get("$var(contact)")

    def _contact_fields(self, skill):
        """RouteContact's fields for a first INVITE: the queue and skill,
        and the caller's X-Language and X-Customer headers."""
        language = KSR.pv.get("$hdr(X-Language)")
        customer = KSR.pv.get("$hdr(X-Customer)")
        return dict(channel="voice", skills={skill: 1}, queue=skill,
                    languages=[language.strip()] if language else [],
                    customer_id=customer.strip() if customer else "")

    def _remember(self, contact_id, fields):
        KSR.htable.sht_sets(_CONTACTS_TABLE, contact_id, json.dumps(
            {"languages": fields["languages"],
             "customer_id": fields["customer_id"]}))

    def _requeue_fields(self, contact_id, skill):
        """The fields to route the contact again to `skill`: the language
        and customer id remembered from its first INVITE (this message may
        be a REFER's new call, without them), else this message's headers."""
        fields = self._contact_fields(skill)
        kept = KSR.htable.sht_get(_CONTACTS_TABLE, contact_id)
        if kept:
            fields.update(json.loads(kept))
        return fields

    def _forget(self, contact_id):
        KSR.htable.sht_rm(_CONTACTS_TABLE, contact_id)

    def _decided(self, decision):
        KSR.pv.sets("$var(routing)", decision["outcome"])
        KSR.pv.sets("$var(agent)", decision["agent_id"])
        KSR.pv.seti("$var(queue_position)", decision["queue_position"])
        return 1

    def _refused(self, contact_id, error):
        # SIP status for routingd's refusal: an unknown queue or language is
        # 404, nobody on the roster able to take it 480, overload 503.
        status = {"NotFound": 404, "FailedPrecondition": 480,
                  "InvalidArgument": 400}.get(
                      getattr(error, "code", ""), 503)
        _log("warn", f"contact {contact_id}: {error}")
        KSR.pv.sets("$var(routing)", "refused")
        # An integer: t_reply() and sl_send_reply() take the code from it.
        KSR.pv.seti("$var(refusal)", status)
        return -1

    def route_call(self, msg, skill):
        """An INVITE to a queue: RouteContact. Sets $var(routing) to
        "assigned" ($var(agent)), "queued" ($var(queue_position)) or
        "refused" ($var(refusal): the SIP status to answer with)."""
        contact_id = self._contact_id()
        fields = self._contact_fields(skill)
        try:
            decision = self._route(contact_id, fields, requeue=False)
        except RoutingError as error:
            return self._refused(contact_id, error)
        except TimeoutError as error:
            # routingd may have routed it all the same: the caller gets 503,
            # so the contact must not stay held (or hold an agent).
            self._end("cancel", contact_id)
            return self._refused(contact_id, error)
        self._remember(contact_id, fields)
        return self._decided(decision)

    def requeue_call(self, msg, skill):
        """RONA or transfer: RequeueContact with the queue's (or the new)
        skill, and the contact's language and customer. Results as for
        route_call; a refused requeue leaves the contact where it was."""
        contact_id = self._contact_id()
        try:
            decision = self._route(contact_id,
                                   self._requeue_fields(contact_id, skill),
                                   requeue=True)
        except (RoutingError, TimeoutError) as error:
            return self._refused(contact_id, error)
        return self._decided(decision)

    def agent_no_answer(self, msg, agent_id):
        """The agent was offered the call and did not take it: on break, so
        routingd offers it nothing more. kamailio.cfg ends the break after
        RONA_BREAK_S (agent_back_from_break). Only an agent routingd still
        has available goes on break: its phone may have unregistered while
        the call rang (another Kamailio process logged it out), and a break
        must not follow that logout."""
        return self._move_if(agent_id, "available", "break",
                             "did not answer")

    def _move_if(self, agent_id, expected, state, event):
        """SetAgentState(state) if routingd has the agent in `expected`; a
        state someone else set meanwhile stands (logged at info)."""
        try:
            now = next((a["state"] for a in self.client().list_agents()
                        if a["id"] == agent_id), None)
        except (RoutingError, TimeoutError) as error:
            _log("warn", f"agent {agent_id}: {event}: {error}")
            return -1
        if now != expected:
            _log("info", f"agent {agent_id}: {event}, but it is {now}: "
                 "left so")
            return 1
        return self._set_state(agent_id, state)

    def agent_back_from_break(self, msg, agent_id):
        """The RONA break is over and the agent's phone is still registered:
        available again, if routingd still has it on break (an unregister,
        a supervisor or a workforce-management client may have changed its
        state meanwhile; that change stands)."""
        return self._move_if(agent_id, "break", "available", "break over")

    def caller_left(self, msg, contact_id=None):
        """CANCEL (queued or ringing), a queued call that timed out, or one
        that could not be resumed: CancelContact (of this message's contact
        unless given)."""
        return self._end("cancel", contact_id or self._contact_id())

    def call_ended(self, msg):
        """BYE after an answered call (or a transfer abandoned after it):
        ReleaseContact, outcome resolved."""
        return self._end("release", self._contact_id())

    def _end(self, how, contact_id):
        self._forget(contact_id)
        try:
            if how == "cancel":
                self._cancel(contact_id)
            else:
                self._release(contact_id)
        except RoutingError as error:
            # NotFound: already ended (a retransmitted BYE, a CANCEL that
            # crossed the agent's failure reply).
            if error.code != "NotFound":
                _log("warn", f"{how} {contact_id}: {error}")
            return -1
        except TimeoutError as error:
            _log("err", f"{how} {contact_id}: {error}")
            return -1
        return 1

    # --- assignments of queued calls (rtimer process) -----------------------

    def read_assignments(self, msg):
        """Drains routingd's events without blocking, keeping the
        ContactAssigned ones of queued calls (not immediate: the
        RouteContact reply already placed those; nor the other lifecycle
        events on contact/). Called once per timer tick, before the script
        asks for them one by one with next_assignment."""
        sub = self.subscriber()
        for _ in range(_EVENTS_PER_TICK):
            try:
                topic, payload = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            event = decode_event(payload)
            if event.get("type") == "assigned" and not event["immediate"]:
                self._assignments.append(
                    (event["contact_id"], event["agent_id"], time.monotonic()))
        # This tick's work list; assignments the script could not match are
        # put back by assignment_unmatched for the next tick.
        self._this_tick = self._assignments
        self._assignments = []
        return 1

    def next_assignment(self, msg):
        """Pops one assignment into $var(cid) and $var(agent); -1 when this
        tick has none left."""
        if not self._this_tick:
            return -1
        self._current = self._this_tick.pop(0)
        KSR.pv.sets("$var(cid)", self._current[0])
        KSR.pv.sets("$var(agent)", self._current[1])
        return 1

    def assignment_unmatched(self, msg):
        """The script found no suspended transaction for the current
        assignment: keep it for the next ticks, up to the TTL."""
        contact_id, agent_id, seen = self._current
        if time.monotonic() - seen < _UNMATCHED_ASSIGNMENT_TTL_S:
            self._assignments.append(self._current)
        else:
            _log("warn", f"assignment of {contact_id} to {agent_id}: no "
                 "suspended call (the caller left, or another proxy holds it)")
        return 1


def mod_init():
    """Called once by app_python3 before Kamailio forks. Loads the roster
    into routingd; a roster that cannot be read or loaded stops Kamailio at
    start (returning None fails the module's initialisation)."""
    glue = RoutingGlue()
    roster = os.environ.get("ROUTING_ROSTER", "")
    if roster:
        try:
            agents = load_roster(roster)
            push_roster(glue.server, agents, glue.timeout_ms)
        except (OSError, ValueError, RoutingError, TimeoutError) as error:
            print(f"routing_glue: roster {roster}: {error}", file=sys.stderr)
            return None
        print(f"routing_glue: {len(agents)} agents from {roster} loaded "
              f"into {glue.server}", file=sys.stderr)
    return glue
