"""routingd client: requests over a DEALER socket, events over SUB.

Every method sends one request (a FlatBuffers `Request`, file identifier
RTSC) and waits for the reply carrying the same request id. An error reply
raises RoutingError(code, message) (PermissionDeniedError, a subclass, when
the client's CURVE key lacks the role); no reply within the timeout raises
TimeoutError. Objects are not thread-safe (ZeroMQ sockets are not): use one
Client per thread.
"""

import itertools

import flatbuffers
import zmq

from routing_sidecar import routing_generated as wire

PROTOCOL_VERSION = 1
FILE_IDENTIFIER = b"RTSC"

_CHANNELS = {"voice": wire.ChannelKind.Voice, "chat": wire.ChannelKind.Chat,
             "email": wire.ChannelKind.Email,
             "messaging": wire.ChannelKind.Messaging,
             "callback": wire.ChannelKind.Callback,
             "video": wire.ChannelKind.Video}
_CHANNEL_NAMES = {v: k for k, v in _CHANNELS.items()}
_STATES = {"logged_out": wire.AgentStateKind.LoggedOut,
           "available": wire.AgentStateKind.Available,
           "busy": wire.AgentStateKind.Busy,
           "after_call_work": wire.AgentStateKind.AfterCallWork,
           "break": wire.AgentStateKind.Break}
_STATE_NAMES = {v: k for k, v in _STATES.items()}
_OUTCOMES = {"unknown": wire.Outcome.Unknown,
             "resolved": wire.Outcome.Resolved,
             "unresolved": wire.Outcome.Unresolved,
             "transferred": wire.Outcome.Transferred}
_OUTCOME_NAMES = {v: k for k, v in _OUTCOMES.items()}
_ERROR_NAMES = {v: k for k, v in vars(wire.ErrorCode).items()
                if not k.startswith("_")}
# ContactChanged.change as decode_event names it: "queued", "accepted",
# "rejected", "offer_expired", "cancelled", "released", "requeued",
# "step_moved", "position_changed".
_CHANGE_NAMES = {
    v: "".join("_" + c.lower() if c.isupper() and i else c.lower()
               for i, c in enumerate(k))
    for k, v in vars(wire.ContactChange).items() if not k.startswith("_")}
_HANDOFF_FIELDS = ("intent", "language", "sentiment", "summary", "customer_id")


# Topics (sidecar/event_topics.h): every one ends with a NUL byte, so that a
# subscription to one contact's topic never hears another whose id merely
# starts the same way ("contact/chat-1\0" is not a prefix of chat-10's).
def contact_topic(contact_id):
    """The topic of one contact's events: "contact/<id>\\0"."""
    return f"contact/{contact_id}\0"


def queue_topic(queue):
    """The topic of one queue's events: "queue/<name>\\0"."""
    return f"queue/{queue}\0"


def agent_topic(agent_id):
    """The topic of one agent's events (its desktop): "agent/<id>\\0"."""
    return f"agent/{agent_id}\0"


RULES_RELOAD_TOPIC = "rules/reload\0"
RULES_SUSPENDED_TOPIC = "rules/suspended\0"


def subscription_for(written):
    """What to subscribe to for a topic as a person writes it: a family
    ("contact/", "queue/", "agent/", "rules/"), "" or a text already ending
    with NUL stays as it is; anything else is one exact topic."""
    if not written or written.endswith("/") or written.endswith("\0"):
        return written
    return written + "\0"


class RoutingError(Exception):
    """An error reply: `code` is the ErrorCode name, e.g. "NotFound", "Busy"."""

    def __init__(self, code, message, request_id=0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


class PermissionDeniedError(RoutingError, PermissionError):
    """The client's CURVE key lacks the role the request needs.

    routingd executed nothing. The message names the request type and the
    role, e.g. "ReloadRules needs the admin role; this client's key has
    route". Roles are given per key in routingd's allowed-clients file.
    """


# Error codes with a class of their own; every other code is a RoutingError.
_ERROR_CLASSES = {"PermissionDenied": PermissionDeniedError}


def _text(value):
    return value.decode("utf-8", "replace") if value else ""


def _lookup(table, name, what):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {what} {name!r} "
                         f"(one of {', '.join(sorted(table))})") from None


def _vector(builder, start, offsets):
    start(builder, len(offsets))
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _strings(builder, start, values):
    return _vector(builder, start, [builder.CreateString(v) for v in values])


def _key_values(builder, start, mapping):
    entries = []
    for key, value in mapping.items():
        k, v = builder.CreateString(key), builder.CreateString(str(value))
        wire.KeyValueStart(builder)
        wire.KeyValueAddKey(builder, k)
        wire.KeyValueAddValue(builder, v)
        entries.append(wire.KeyValueEnd(builder))
    return _vector(builder, start, entries)


def _skills(builder, start, skills):
    entries = []
    for name, level in skills.items():
        n = builder.CreateString(name)
        wire.SkillStart(builder)
        wire.SkillAddName(builder, n)
        wire.SkillAddLevel(builder, int(level))
        entries.append(wire.SkillEnd(builder))
    return _vector(builder, start, entries)


def _union(table_type, union):
    table = table_type()
    table.Init(union.Bytes, union.Pos)
    return table


def _decision(d):
    assigned = d.Outcome() == wire.DecisionOutcome.Assigned
    return {
        "contact_id": _text(d.ContactId()),
        "outcome": "assigned" if assigned else "queued",
        "queue": _text(d.Queue()),
        "channel": _CHANNEL_NAMES.get(d.Channel(), str(d.Channel())),
        "agent_id": _text(d.AgentId()),
        "score": d.Score(),
        "eligible_agents": d.EligibleAgents(),
        "queue_position": d.QueuePosition(),
        "estimated_wait_ms": d.EstimatedWaitMs(),
        "policy_version": d.PolicyVersion(),
        "rules_version": d.RulesVersion(),
        "rules_step": d.RulesStep(),
        "rules_fallback": d.RulesFallback(),
        "rules_suspended": d.RulesSuspended(),
        "components": [_component(d.Components(i))
                       for i in range(d.ComponentsLength())],
        "qualified": {
            "total": d.QualifiedTotal(),
            "at_capacity": d.QualifiedAtCapacity(),
            "unavailable": d.QualifiedUnavailable(),
            "logged_out": d.QualifiedLoggedOut(),
        },
        "explanation": _text(d.Explanation()),
    }


def _component(c):
    return {
        "name": _text(c.Name()),
        "value": c.Value(),
        "weight": c.Weight(),
        "contribution": c.Contribution(),
        "detail": _text(c.Detail()),
    }


def _kpis(k):
    """A ContactKpis table as a dict (all zero when absent)."""
    if k is None:
        k = _NO_KPIS
    return {
        "released": k.Released(),
        "resolved": k.Resolved(),
        "first_contact_resolved": k.FirstContactResolved(),
        "first_contact_resolution": k.FirstContactResolution(),
        "total_handle_time_ms": k.TotalHandleTimeMs(),
        "average_handle_time_ms": k.AverageHandleTimeMs(),
        "csat_responses": k.CsatResponses(),
        "csat_sum": k.CsatSum(),
        "csat_average": k.CsatAverage(),
        "nps_responses": k.NpsResponses(),
        "promoters": k.Promoters(),
        "detractors": k.Detractors(),
        "net_promoter_score": k.NetPromoterScore(),
    }


def _empty_kpis():
    builder = flatbuffers.Builder(64)
    wire.ContactKpisStart(builder)
    builder.Finish(wire.ContactKpisEnd(builder))
    return wire.ContactKpis.GetRootAs(builder.Output(), 0)


_NO_KPIS = _empty_kpis()


def _contact_info(c):
    assigned = c.State() == wire.ContactStateKind.Assigned
    return {
        "id": _text(c.Id()),
        "queue": _text(c.Queue()),
        "channel": _CHANNEL_NAMES.get(c.Channel(), str(c.Channel())),
        "state": "assigned" if assigned else "queued",
        "priority": c.Priority(),
        "customer_id": _text(c.CustomerId()),
        "enqueued_at_unix_ms": c.EnqueuedAtUnixMs(),
        "waited_ms": c.WaitedMs(),
        "queue_position": c.QueuePosition(),
        "rules_step": c.RulesStep(),
        "agent_id": _text(c.AgentId()),
        "assigned_at_unix_ms": c.AssignedAtUnixMs(),
    }


def _handoff(context):
    if context is None:
        return {}
    result = {
        "intent": _text(context.Intent()),
        "language": _text(context.Language()),
        "sentiment": _text(context.Sentiment()),
        "summary": _text(context.Summary()),
        "customer_id": _text(context.CustomerId()),
        "attributes": {},
    }
    for i in range(context.AttributesLength()):
        kv = context.Attributes(i)
        result["attributes"][_text(kv.Key())] = _text(kv.Value())
    return result


def decode_event(payload):
    """An Event buffer as a dict with "type": "assigned" (ContactAssigned;
    "immediate" when the request that routed it assigned it), "changed"
    (ContactChanged; "change" names what: see _CHANGE_NAMES), "agent_state",
    "rules_reload" (topic rules/reload) or "rules_suspended"
    (rules/suspended). Every event has "run_id" (HealthStatus.run_id),
    "sequence" (global), "topic_sequence" (n-th on its exact topic, from 1)
    and "family_sequence" (n-th of its family, contact/, queue/, agent/ or
    rules/): a gap in the one a subscription covers means lost events.
    """
    event = wire.Event.GetRootAs(payload, 0)
    result = {"sequence": event.Sequence(), "at_unix_ms": event.AtUnixMs(),
              "run_id": event.RunId(),
              "topic_sequence": event.TopicSequence(),
              "family_sequence": event.FamilySequence()}
    if event.BodyType() == wire.EventBody.ContactAssigned:
        a = _union(wire.ContactAssigned, event.Body())
        result.update({
            "type": "assigned",
            "contact_id": _text(a.ContactId()),
            "customer_id": _text(a.CustomerId()),
            "agent_id": _text(a.AgentId()),
            "queue": _text(a.Queue()),
            "waited_ms": a.WaitedMs(),
            "context": _handoff(a.Context()),
            "decision": _decision(a.Decision()) if a.Decision() else None,
            "immediate": a.Immediate(),
            "offered": a.Offered(),
            "placement": a.Placement(),
        })
    elif event.BodyType() == wire.EventBody.ContactChanged:
        c = _union(wire.ContactChanged, event.Body())
        result.update({
            "type": "changed",
            "change": _CHANGE_NAMES.get(c.Change(), str(c.Change())),
            "contact_id": _text(c.ContactId()),
            "customer_id": _text(c.CustomerId()),
            "queue": _text(c.Queue()),
            "channel": _CHANNEL_NAMES.get(c.Channel(), str(c.Channel())),
            "agent_id": _text(c.AgentId()),
            "placement": c.Placement(),
            "queue_position": c.QueuePosition(),
            "rules_step": c.RulesStep(),
            "waited_ms": c.WaitedMs(),
            "outcome": _OUTCOME_NAMES.get(c.Outcome(), str(c.Outcome())),
        })
    elif event.BodyType() == wire.EventBody.AgentStateChanged:
        s = _union(wire.AgentStateChanged, event.Body())
        result.update({"type": "agent_state", "agent_id": _text(s.AgentId()),
                       "state": _STATE_NAMES.get(s.State(), str(s.State())),
                       "reason": ("missed_offer"
                                  if s.Reason() ==
                                  wire.AgentStateReason.MissedOffer
                                  else "requested")})
    elif event.BodyType() == wire.EventBody.RulesReloadFinished:
        r = _union(wire.RulesReloadFinished, event.Body())
        result.update({"type": "rules_reload", "accepted": r.Accepted(),
                       "version": r.Version(), "name": _text(r.Name()),
                       "source": _text(r.Source()),
                       "problems": [_text(r.Problems(i))
                                    for i in range(r.ProblemsLength())]})
    elif event.BodyType() == wire.EventBody.RulesSuspended:
        r = _union(wire.RulesSuspended, event.Body())
        result.update({"type": "rules_suspended", "version": r.Version(),
                       "name": _text(r.Name()),
                       "last_error": _text(r.LastError()),
                       "suspended_at_unix_ms": r.SuspendedAtUnixMs(),
                       "errors": r.Errors(), "overruns": r.Overruns()})
    else:
        result["type"] = f"unknown({event.BodyType()})"
    return result


def _apply_curve(socket, curve):
    """curve: dict(server_key=..., public_key=..., secret_key=...) in Z85."""
    if not curve:
        return
    socket.curve_serverkey = curve["server_key"].encode()
    socket.curve_publickey = curve["public_key"].encode()
    socket.curve_secretkey = curve["secret_key"].encode()


class Client:
    """A DEALER connection to routingd's request socket."""

    def __init__(self, endpoint="tcp://127.0.0.1:5555", timeout_ms=5000,
                 context=None, curve=None):
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.linger = 0
        _apply_curve(self._socket, curve)
        self._socket.connect(endpoint)
        self._timeout_ms = timeout_ms
        self._ids = itertools.count(1)

    def close(self):
        self._socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport -----------------------------------------------------------

    def _call(self, body_type, build_body):
        builder = flatbuffers.Builder(256)
        body = build_body(builder)
        request_id = next(self._ids)
        wire.RequestStart(builder)
        wire.RequestAddProtocolVersion(builder, PROTOCOL_VERSION)
        wire.RequestAddRequestId(builder, request_id)
        wire.RequestAddBodyType(builder, body_type)
        wire.RequestAddBody(builder, body)
        builder.Finish(wire.RequestEnd(builder), FILE_IDENTIFIER)
        self._socket.send(builder.Output())
        while True:
            if not self._socket.poll(self._timeout_ms):
                raise TimeoutError(
                    f"routingd did not answer request {request_id} within "
                    f"{self._timeout_ms} ms")
            payload = self._socket.recv()
            reply = wire.Reply.GetRootAs(payload, 0)
            if reply.RequestId() != request_id:
                continue  # A late reply to a request that timed out.
            if reply.BodyType() == wire.ReplyBody.Error:
                error = _union(wire.Error, reply.Body())
                code = _ERROR_NAMES.get(error.Code(), str(error.Code()))
                raise _ERROR_CLASSES.get(code, RoutingError)(
                    code, _text(error.Message()), request_id)
            return reply

    # --- agents --------------------------------------------------------------

    def _profile(self, builder, agent_id, skills, languages, capacity,
                 max_total, team):
        i = builder.CreateString(agent_id)
        s = _skills(builder, wire.AgentProfileStartSkillsVector, skills)
        langs = []
        for tag, fluency in languages.items():
            t = builder.CreateString(tag)
            wire.LanguageStart(builder)
            wire.LanguageAddTag(builder, t)
            wire.LanguageAddFluency(builder, int(fluency))
            langs.append(wire.LanguageEnd(builder))
        lv = _vector(builder, wire.AgentProfileStartLanguagesVector, langs)
        caps = []
        for channel, contacts in capacity.items():
            wire.ChannelCapacityStart(builder)
            wire.ChannelCapacityAddChannel(
                builder, _lookup(_CHANNELS, channel, "channel"))
            wire.ChannelCapacityAddContacts(builder, int(contacts))
            caps.append(wire.ChannelCapacityEnd(builder))
        cv = _vector(builder, wire.AgentProfileStartCapacityVector, caps)
        tm = builder.CreateString(team)
        wire.AgentProfileStart(builder)
        wire.AgentProfileAddId(builder, i)
        wire.AgentProfileAddSkills(builder, s)
        wire.AgentProfileAddLanguages(builder, lv)
        wire.AgentProfileAddCapacity(builder, cv)
        wire.AgentProfileAddMaxTotalContacts(builder, max_total)
        wire.AgentProfileAddTeam(builder, tm)
        return wire.AgentProfileEnd(builder)

    def add_agent(self, agent_id, skills=None, languages=None, capacity=None,
                  max_total=0, team="", update=False):
        """Adds (or with update=True replaces) an agent, logged out.

        skills: {"billing": 4}; languages: {"en": 5}; capacity: {"chat": 2}.
        """
        def body(b):
            profile = self._profile(b, agent_id, skills or {}, languages or {},
                                    capacity or {"voice": 1}, max_total, team)
            if update:
                wire.UpdateAgentStart(b)
                wire.UpdateAgentAddAgent(b, profile)
                return wire.UpdateAgentEnd(b)
            wire.AddAgentStart(b)
            wire.AddAgentAddAgent(b, profile)
            return wire.AddAgentEnd(b)
        self._call(wire.RequestBody.UpdateAgent if update
                   else wire.RequestBody.AddAgent, body)

    def set_agent_state(self, agent_id, state):
        """state: logged_out, available, busy, after_call_work or break."""
        kind = _lookup(_STATES, state, "agent state")

        def body(b):
            i = b.CreateString(agent_id)
            wire.SetAgentStateStart(b)
            wire.SetAgentStateAddAgentId(b, i)
            wire.SetAgentStateAddState(b, kind)
            return wire.SetAgentStateEnd(b)
        self._call(wire.RequestBody.SetAgentState, body)

    def remove_agent(self, agent_id):
        def body(b):
            i = b.CreateString(agent_id)
            wire.RemoveAgentStart(b)
            wire.RemoveAgentAddAgentId(b, i)
            return wire.RemoveAgentEnd(b)
        self._call(wire.RequestBody.RemoveAgent, body)

    def list_agents(self):
        def body(b):
            wire.ListAgentsStart(b)
            return wire.ListAgentsEnd(b)
        reply = self._call(wire.RequestBody.ListAgents, body)
        agents = _union(wire.AgentList, reply.Body())
        result = []
        for i in range(agents.AgentsLength()):
            a = agents.Agents(i)
            load = {}
            for j in range(a.LoadLength()):
                c = a.Load(j)
                load[_CHANNEL_NAMES.get(c.Channel())] = c.Contacts()
            result.append({"id": _text(a.Id()),
                           "state": _STATE_NAMES.get(a.State()),
                           "load": load,
                           "occupancy": a.Occupancy(),
                           "contacts_handled": a.ContactsHandled(),
                           "state_since_unix_ms": a.StateSinceUnixMs(),
                           "time_in_state_ms": a.TimeInStateMs(),
                           "kpis": _kpis(a.Kpis())})
        return result

    # --- contacts ------------------------------------------------------------

    def _contact(self, b, contact_id, channel, skills, desired, languages,
                 queue, priority, customer_id, handoff):
        i = b.CreateString(contact_id)
        q = b.CreateString(queue)
        rs = _skills(b, wire.ContactStartRequiredSkillsVector, skills or {})
        ds = _skills(b, wire.ContactStartDesiredSkillsVector, desired or {})
        ls = _strings(b, wire.ContactStartLanguagesVector, languages or [])
        cu = b.CreateString(customer_id)
        h = None
        if handoff:
            unknown = set(handoff) - set(_HANDOFF_FIELDS) - {"attributes"}
            if unknown:
                raise ValueError(f"unknown handoff fields {sorted(unknown)}")
            fields = {f: b.CreateString(str(handoff.get(f, "")))
                      for f in _HANDOFF_FIELDS}
            attrs = _key_values(b, wire.HandoffContextStartAttributesVector,
                                handoff.get("attributes", {}))
            wire.HandoffContextStart(b)
            wire.HandoffContextAddIntent(b, fields["intent"])
            wire.HandoffContextAddLanguage(b, fields["language"])
            wire.HandoffContextAddSentiment(b, fields["sentiment"])
            wire.HandoffContextAddSummary(b, fields["summary"])
            wire.HandoffContextAddCustomerId(b, fields["customer_id"])
            wire.HandoffContextAddAttributes(b, attrs)
            h = wire.HandoffContextEnd(b)
        wire.ContactStart(b)
        wire.ContactAddId(b, i)
        wire.ContactAddChannel(b, _lookup(_CHANNELS, channel, "channel"))
        wire.ContactAddQueue(b, q)
        wire.ContactAddRequiredSkills(b, rs)
        wire.ContactAddDesiredSkills(b, ds)
        wire.ContactAddLanguages(b, ls)
        wire.ContactAddPriority(b, priority)
        wire.ContactAddCustomerId(b, cu)
        if h is not None:
            wire.ContactAddHandoff(b, h)
        return wire.ContactEnd(b)

    def route(self, contact_id, channel="chat", skills=None, desired=None,
              languages=None, queue="", priority=0, customer_id="",
              handoff=None, requeue=False, explain=False):
        """Routes a contact; returns the decision as a dict.

        handoff: {"intent", "language", "sentiment", "summary",
        "customer_id", "attributes": {...}}: delivered with the assignment.
        explain: also fill "explanation" with readable lines (the scored
        "components" come in every decision).
        """
        def body(b):
            c = self._contact(b, contact_id, channel, skills, desired,
                              languages, queue, priority, customer_id, handoff)
            if requeue:
                wire.RequeueContactStart(b)
                wire.RequeueContactAddContact(b, c)
                wire.RequeueContactAddWithExplanation(b, explain)
                return wire.RequeueContactEnd(b)
            wire.RouteContactStart(b)
            wire.RouteContactAddContact(b, c)
            wire.RouteContactAddWithExplanation(b, explain)
            return wire.RouteContactEnd(b)
        reply = self._call(wire.RequestBody.RequeueContact if requeue
                           else wire.RequestBody.RouteContact, body)
        return _decision(_union(wire.Decision, reply.Body()))

    def cancel(self, contact_id):
        def body(b):
            i = b.CreateString(contact_id)
            wire.CancelContactStart(b)
            wire.CancelContactAddContactId(b, i)
            return wire.CancelContactEnd(b)
        self._call(wire.RequestBody.CancelContact, body)

    def release(self, contact_id, outcome="resolved", csat=None, nps=None):
        """The agent finished. csat (1..5) and nps (0..10) are the
        post-contact survey's answers, None when not given; routingd refuses
        one out of range (RoutingError "InvalidArgument") and releases
        nothing."""
        kind = _lookup(_OUTCOMES, outcome, "outcome")

        def body(b):
            i = b.CreateString(contact_id)
            wire.ReleaseContactStart(b)
            wire.ReleaseContactAddContactId(b, i)
            wire.ReleaseContactAddOutcome(b, kind)
            if csat is not None:
                wire.ReleaseContactAddCsat(b, int(csat))
            if nps is not None:
                wire.ReleaseContactAddNps(b, int(nps))
            return wire.ReleaseContactEnd(b)
        self._call(wire.RequestBody.ReleaseContact, body)

    def get_contact(self, contact_id):
        """One held contact as a dict: "state" is "queued" (with
        "queue_position", "waited_ms" until now, "rules_step") or "assigned"
        (with "agent_id", "assigned_at_unix_ms", "waited_ms" until then).
        An unknown id raises RoutingError "NotFound"."""
        def body(b):
            i = b.CreateString(contact_id)
            wire.GetContactStart(b)
            wire.GetContactAddContactId(b, i)
            return wire.GetContactEnd(b)
        reply = self._call(wire.RequestBody.GetContact, body)
        return _contact_info(_union(wire.ContactInfo, reply.Body()))

    def list_contacts(self, queue="", limit=1000):
        """The waiting contacts of `queue` (every queue when empty), each
        queue's in service order (queue_position 1 first), at most `limit`
        (1..1000) per queue. Returns {"contacts": [dict as get_contact],
        "truncated": bool}."""
        def body(b):
            q = b.CreateString(queue)
            wire.ListContactsStart(b)
            wire.ListContactsAddQueue(b, q)
            wire.ListContactsAddLimit(b, int(limit))
            return wire.ListContactsEnd(b)
        reply = self._call(wire.RequestBody.ListContacts, body)
        result = _union(wire.ContactList, reply.Body())
        return {"contacts": [_contact_info(result.Contacts(i))
                             for i in range(result.ContactsLength())],
                "truncated": result.Truncated()}

    # --- rules, stats, health ----------------------------------------------

    def reload_rules(self, path=None, source=None):
        """Returns {"accepted", "version", "problems"}."""
        def body(b):
            p = b.CreateString(path) if path else None
            s = b.CreateString(source) if source else None
            wire.ReloadRulesStart(b)
            if p is not None:
                wire.ReloadRulesAddPath(b, p)
            if s is not None:
                wire.ReloadRulesAddSource(b, s)
            return wire.ReloadRulesEnd(b)
        reply = self._call(wire.RequestBody.ReloadRules, body)
        r = _union(wire.RulesReloaded, reply.Body())
        return {"accepted": r.Accepted(), "version": r.Version(),
                "problems": [_text(r.Problems(i))
                             for i in range(r.ProblemsLength())]}

    def stats(self, window_seconds=300):
        def body(b):
            wire.GetStatsStart(b)
            wire.GetStatsAddWindowSeconds(b, window_seconds)
            return wire.GetStatsEnd(b)
        reply = self._call(wire.RequestBody.GetStats, body)
        s = _union(wire.Stats, reply.Body())
        queues = {}
        for i in range(s.QueuesLength()):
            q = s.Queues(i)
            queues[_text(q.Queue())] = {
                "waiting": q.Waiting(), "longest_wait_ms": q.LongestWaitMs(),
                "answered": q.Answered(), "abandoned": q.Abandoned(),
                "service_level": q.ServiceLevel(),
                "average_speed_of_answer_ms": q.AverageSpeedOfAnswerMs(),
                "kpis": _kpis(q.Kpis()),
                "agents_by_state": {
                    _STATE_NAMES.get(j, str(j)): q.AgentsByState(j)
                    for j in range(q.AgentsByStateLength())},
                "occupancy": q.Occupancy(),
                "recent": {w.Minutes(): {
                    "answered": w.Answered(),
                    "answered_in_service_level": w.AnsweredInServiceLevel(),
                    "abandoned": w.Abandoned(),
                    "service_level": w.ServiceLevel(),
                    "average_speed_of_answer_ms": w.AverageSpeedOfAnswerMs(),
                    "abandonment_rate": w.AbandonmentRate()}
                    for w in (q.Recent(j) for j in range(q.RecentLength()))},
            }
        return {
            "decisions": s.Decisions(), "queued": s.Queued(),
            "assigned_immediately": s.AssignedImmediately(),
            "assigned_from_queue": s.AssignedFromQueue(),
            "cancelled": s.Cancelled(), "released": s.Released(),
            "contacts_held": s.ContactsHeld(), "agents": s.Agents(),
            "queues": queues,
            "service_level_in_window": s.ServiceLevelInWindow(),
            "decisions_per_second": s.DecisionsPerSecond(),
            "latency_p50_us": s.LatencyP50Us(),
            "latency_p99_us": s.LatencyP99Us(),
            "busy_rejections": s.BusyRejections(),
            "malformed_requests": s.MalformedRequests(),
            "permission_denied": s.PermissionDenied(),
            "events_published": s.EventsPublished(),
            "rules_version": s.RulesVersion(),
            "rules_fallbacks": s.RulesFallbacks(),
            "rules_name": _text(s.RulesName()),
            "rules_errors": s.RulesErrors(),
            "rules_overruns": s.RulesOverruns(),
            "rules_last_error": _text(s.RulesLastError()),
            "rules_suspended": s.RulesSuspended(),
            "rules_suspended_decisions": s.RulesSuspendedDecisions(),
        }

    def health(self):
        def body(b):
            wire.HealthStart(b)
            return wire.HealthEnd(b)
        reply = self._call(wire.RequestBody.Health, body)
        h = _union(wire.HealthStatus, reply.Body())
        return {"serving": h.Serving(), "protocol_version": h.ProtocolVersion(),
                "uptime_ms": h.UptimeMs(), "policy_version": h.PolicyVersion(),
                "workers": h.Workers(), "run_id": h.RunId()}


class EventSubscriber:
    """A SUB connection to routingd's event socket.

    topics: what to subscribe to, as ZeroMQ prefixes. One contact, queue or
    agent: contact_topic("chat-42"), queue_topic("billing"),
    agent_topic("alice") (each ends with NUL, so chat-42 never hears
    chat-420); a family: "contact/", "queue/", "agent/", "rules/"; "" for
    everything. subscription_for() turns "contact/chat-42" into the exact
    topic. next() returns the topic as sent, NUL included.
    Subscriptions reach the daemon asynchronously: events published in the
    first moments after connecting may be missed. So subscribe first, then
    read the state (get_contact, list_agents): a contact the reply shows
    assigned was assigned before the subscription heard it. A run_id that
    changes means routingd restarted: read everything again.
    """

    def __init__(self, endpoint="tcp://127.0.0.1:5556", topics=("",),
                 context=None, curve=None):
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.linger = 0
        _apply_curve(self._socket, curve)
        for topic in topics:
            self._socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self._socket.connect(endpoint)

    def next(self, timeout_ms=5000):
        """(topic, event dict); TimeoutError if none within timeout_ms."""
        if not self._socket.poll(timeout_ms):
            raise TimeoutError(f"no event within {timeout_ms} ms")
        topic, payload = self._socket.recv_multipart()
        return topic.decode(), decode_event(payload)

    def close(self):
        self._socket.close()
