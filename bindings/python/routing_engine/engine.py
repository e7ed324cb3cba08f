"""Engine: the in-process routing engine, through librouting's C ABI.

Every method may be called from several Python threads at once (ctypes
releases the GIL during each call; the engine is lock-free). Errors raise a
RoutingError subclass carrying the library's message; a call that raises
changed nothing.
"""

import ctypes
import sys
import traceback
import weakref

from routing_engine import _library
from routing_engine import errors
from routing_engine import model
from routing_engine._library import check, lib, string, text

_LIMITS = {
    "max_agents": 0,
    "max_skills": 1,
    "max_languages": 2,
    "max_queues": 3,
    "max_contacts": 4,
    "history_customers": 5,
    "history_depth": 6,
    "max_skill_level": 7,
    "max_fluency": 8,
}
_WEIGHTS = {"skill": 0, "affinity": 1, "language": 2, "load": 3,
            "occupancy": 4, "idle": 5}
_DURATIONS = {"priority_step": 0, "idle_saturation": 1,
              "affinity_half_life": 2, "default_handle_time": 3,
              "service_level_threshold": 4}
_AFFINITIES = {"preferred_agent": 0, "resolved": 1, "served": 2}
_STATS_COUNTERS = ["policy_version", "decisions", "assigned_immediately",
                   "queued", "assigned_from_queue", "cancelled", "released",
                   "contacts_held", "agents", "rules_version",
                   "rules_fallbacks"]
_QUEUE_COUNTERS = ["waiting", "longest_wait_ms", "answered",
                   "answered_in_service_level", "abandoned",
                   "average_speed_of_answer_ms", "average_handle_time_ms",
                   "released", "resolved", "first_contact_resolved",
                   "total_handle_time_ms", "csat_responses", "csat_sum",
                   "nps_responses", "nps_promoters", "nps_detractors"]
_SURVEY_NOT_ANSWERED = -1


def _out(ctype):
    value = ctype()
    return value, ctypes.byref(value)


def _index(table, key, what):
    try:
        return table[key]
    except KeyError:
        raise errors.InvalidArgumentError(
            f"unknown {what} '{key}' (one of {', '.join(table)})") from None


class _Owned:
    """A library object freed with `destroy` when the with-block ends."""

    def __init__(self, destroy):
        self.pointer = ctypes.c_void_p()
        self._destroy = destroy

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pointer:
            self._destroy(self.pointer)
            self.pointer = ctypes.c_void_p()

    @property
    def out(self):
        return ctypes.byref(self.pointer)


def _build_policy(policy, owned):
    check(lib.routing_policy_create(owned.out))
    p = owned.pointer
    if policy.name is not None:
        check(lib.routing_policy_set_name(p, text(policy.name, "policy name")))
    for key, value in policy.weights.items():
        check(lib.routing_policy_set_weight(
            p, _index(_WEIGHTS, key, "weight"), float(value)))
    for key, value in policy.durations_ms.items():
        check(lib.routing_policy_set_duration(
            p, _index(_DURATIONS, key, "duration"), int(value)))
    for key, value in policy.affinities.items():
        check(lib.routing_policy_set_affinity(
            p, _index(_AFFINITIES, key, "affinity"), float(value)))


def _build_agent(agent, owned):
    check(lib.routing_agent_create(text(agent.id, "agent id"), owned.out))
    a = owned.pointer
    for skill, level in agent.skills.items():
        check(lib.routing_agent_add_skill(a, text(skill, "skill"), int(level)))
    for language, fluency in agent.languages.items():
        check(lib.routing_agent_add_language(
            a, text(language, "language"), int(fluency)))
    for channel, contacts in agent.capacity.items():
        check(lib.routing_agent_set_capacity(a, int(channel), int(contacts)))
    check(lib.routing_agent_set_max_total_contacts(
        a, int(agent.max_total_contacts)))
    check(lib.routing_agent_set_team(a, text(agent.team, "team")))
    check(lib.routing_agent_set_site(a, text(agent.site, "site")))
    for key, value in agent.attributes.items():
        check(lib.routing_agent_set_attribute(
            a, text(key, "agent attribute key"),
            text(value, "agent attribute value")))


def _build_contact(contact, owned):
    check(lib.routing_contact_create(text(contact.id, "contact id"),
                                     int(contact.channel), owned.out))
    c = owned.pointer
    check(lib.routing_contact_set_queue(c, text(contact.queue, "queue")))
    for skill, level in contact.required_skills.items():
        check(lib.routing_contact_add_required_skill(
            c, text(skill, "required skill"), int(level)))
    for skill, level in contact.desired_skills.items():
        check(lib.routing_contact_add_desired_skill(
            c, text(skill, "desired skill"), int(level)))
    for language in contact.languages:
        check(lib.routing_contact_add_language(c, text(language, "language")))
    check(lib.routing_contact_set_priority(c, int(contact.priority)))
    check(lib.routing_contact_set_customer_id(
        c, text(contact.customer_id, "customer id")))
    for agent_id in contact.preferred_agents:
        check(lib.routing_contact_add_preferred_agent(
            c, text(agent_id, "preferred agent id")))
    for agent_id in contact.excluded_agents:
        check(lib.routing_contact_add_excluded_agent(
            c, text(agent_id, "excluded agent id")))
    if contact.enqueue_time_ms is not None:
        check(lib.routing_contact_set_enqueue_time(
            c, int(contact.enqueue_time_ms)))
    for key, value in contact.attributes.items():
        check(lib.routing_contact_set_attribute(
            c, text(key, "contact attribute key"),
            text(value, "contact attribute value")))


def _read(function, pointer, ctype):
    value, ref = _out(ctype)
    check(function(pointer, ref))
    return value.value


def _read_decision(d):
    """Copies a routing_decision_t into a model.Decision."""
    components = []
    for i in range(_read(lib.routing_decision_component_count, d,
                         ctypes.c_size_t)):
        name, name_ref = _out(ctypes.c_char_p)
        value, value_ref = _out(ctypes.c_double)
        weight, weight_ref = _out(ctypes.c_double)
        contribution, contribution_ref = _out(ctypes.c_double)
        detail, detail_ref = _out(ctypes.c_char_p)
        check(lib.routing_decision_component(
            d, i, name_ref, value_ref, weight_ref, contribution_ref,
            detail_ref))
        components.append(model.ScoreComponent(
            string(name.value), value.value, weight.value, contribution.value,
            string(detail.value)))
    qualified = [ctypes.c_int() for _ in range(4)]
    check(lib.routing_decision_qualified_agents(
        d, *(ctypes.byref(q) for q in qualified)))
    explanation = ctypes.c_void_p()
    check(lib.routing_decision_explain(d, ctypes.byref(explanation)))
    try:
        explanation_text = string(ctypes.string_at(explanation))
    finally:
        lib.routing_free(explanation)
    return model.Decision(
        contact_id=string(_read(lib.routing_decision_contact_id, d,
                                ctypes.c_char_p)),
        outcome=model.DecisionOutcome(
            _read(lib.routing_decision_outcome, d, ctypes.c_int)),
        queue=string(_read(lib.routing_decision_queue, d, ctypes.c_char_p)),
        channel=model.Channel(
            _read(lib.routing_decision_channel, d, ctypes.c_int)),
        agent_id=string(_read(lib.routing_decision_agent_id, d,
                              ctypes.c_char_p)),
        score=_read(lib.routing_decision_score, d, ctypes.c_double),
        eligible_agents=_read(lib.routing_decision_eligible_agents, d,
                              ctypes.c_int),
        components=components,
        queue_position=_read(lib.routing_decision_queue_position, d,
                             ctypes.c_int),
        estimated_wait_ms=_read(lib.routing_decision_estimated_wait_ms, d,
                                ctypes.c_int64),
        qualified=model.QualifiedAgents(*(q.value for q in qualified)),
        policy_version=_read(lib.routing_decision_policy_version, d,
                             ctypes.c_uint64),
        policy_name=string(_read(lib.routing_decision_policy_name, d,
                                 ctypes.c_char_p)),
        decided_at_ms=_read(lib.routing_decision_decided_at_ms, d,
                            ctypes.c_int64),
        explanation=explanation_text,
        rules_version=_read(lib.routing_decision_rules_version, d,
                            ctypes.c_uint64),
        rules_step=_read(lib.routing_decision_rules_step, d, ctypes.c_int),
        rules_fallback=bool(_read(lib.routing_decision_rules_fallback, d,
                                  ctypes.c_int)),
        token=_read(lib.routing_decision_token, d, ctypes.c_uint64),
        offered=bool(_read(lib.routing_decision_offered, d, ctypes.c_int)),
        offer_expires_at_ms=_read(lib.routing_decision_offer_expires_at_ms, d,
                                  ctypes.c_int64),
        placement=_read(lib.routing_decision_placement, d, ctypes.c_uint64),
    )


def _read_assignment(a):
    attributes = {}
    for i in range(_read(lib.routing_assignment_attribute_count, a,
                         ctypes.c_size_t)):
        key, key_ref = _out(ctypes.c_char_p)
        value, value_ref = _out(ctypes.c_char_p)
        check(lib.routing_assignment_attribute(a, i, key_ref, value_ref))
        attributes[string(key.value)] = string(value.value)
    decision = ctypes.c_void_p()
    check(lib.routing_assignment_decision(a, ctypes.byref(decision)))
    return model.Assignment(
        contact_id=string(_read(lib.routing_assignment_contact_id, a,
                                ctypes.c_char_p)),
        customer_id=string(_read(lib.routing_assignment_customer_id, a,
                                 ctypes.c_char_p)),
        agent_id=string(_read(lib.routing_assignment_agent_id, a,
                              ctypes.c_char_p)),
        queue=string(_read(lib.routing_assignment_queue, a, ctypes.c_char_p)),
        channel=model.Channel(
            _read(lib.routing_assignment_channel, a, ctypes.c_int)),
        waited_ms=_read(lib.routing_assignment_waited_ms, a, ctypes.c_int64),
        attributes=attributes,
        decision=_read_decision(decision),
    )


class Engine:
    """The routing engine, in this process.

        with Engine(max_agents=1000, on_assigned=print) as engine:
            engine.add_agent(Agent("maria", skills={"billing": 5},
                                   capacity={Channel.VOICE: 1}))
            engine.set_agent_state("maria", AgentState.AVAILABLE)
            decision = engine.route(Contact("call-1",
                                            required_skills={"billing": 3}))
            print(decision.explain())
            engine.release("call-1", Outcome.RESOLVED)

    Keyword arguments: the limits of routing.h (max_agents, max_skills,
    max_languages, max_queues, max_contacts, history_customers,
    history_depth, max_skill_level, max_fluency), ``policy`` (a Policy),
    ``manual_clock_ms`` (the engine's clock starts there and moves only with
    set_time), ``offer_timeouts_ms`` ({Channel: ms}: reservations, the
    assignments of those channels are offers to accept_offer or reject_offer;
    advance_queues ends lapsed ones), ``missed_offer_state`` (an AgentState:
    where an agent goes after a missed offer; default BREAK),
    ``rules_file`` (Lua rules put in force at creation; a refused
    file raises RulesRefusedError), and ``on_assigned`` (called with an Assignment for each queued
    contact assigned later, on the thread whose call freed the agent; it may
    call the engine but not close it). An exception raised by on_assigned is
    printed to stderr and kept in ``callback_errors``; the engine carries on.
    """

    def __init__(self, *, policy=None, manual_clock_ms=None, on_assigned=None,
                 rules_file=None, offer_timeouts_ms=None,
                 missed_offer_state=None, **limits):
        self._handle = None
        self._closed = False
        self._on_assigned = on_assigned
        self.callback_errors = []
        # The ctypes trampoline must outlive the C engine: keep it here. It
        # holds the Engine weakly, so an Engine dropped without close() is
        # still collected (and closed) at once.
        self_ref = weakref.ref(self)

        def deliver(user_data, assignment):
            engine = self_ref()
            if engine is not None:
                engine._deliver(assignment)

        self._callback = _library.ASSIGNMENT_CALLBACK(deliver)
        with _Owned(lib.routing_options_destroy) as options:
            check(lib.routing_options_create(options.out))
            for key, value in limits.items():
                check(lib.routing_options_set_limit(
                    options.pointer, _index(_LIMITS, key, "limit"),
                    int(value)))
            if policy is not None:
                with _Owned(lib.routing_policy_destroy) as p:
                    _build_policy(policy, p)
                    check(lib.routing_options_set_policy(options.pointer,
                                                         p.pointer))
            if manual_clock_ms is not None:
                check(lib.routing_options_set_manual_clock(
                    options.pointer, int(manual_clock_ms)))
            for channel, timeout_ms in (offer_timeouts_ms or {}).items():
                check(lib.routing_options_set_offer_timeout(
                    options.pointer, int(channel), int(timeout_ms)))
            if missed_offer_state is not None:
                check(lib.routing_options_set_missed_offer_state(
                    options.pointer, int(missed_offer_state)))
            if rules_file is not None:
                check(lib.routing_options_set_rules_file(
                    options.pointer, text(rules_file, "rules file")))
            if on_assigned is not None:
                check(lib.routing_options_set_assignment_callback(
                    options.pointer, self._callback, None))
            handle = ctypes.c_void_p()
            status = lib.routing_engine_create(options.pointer,
                                               ctypes.byref(handle))
            if status == errors.InvalidArgumentError.code and rules_file:
                message = string(lib.routing_last_error())
                raise errors.RulesRefusedError(
                    message, message.split("\n")[1:])
            check(status)
            self._handle = handle

    # --- Lifecycle ---------------------------------------------------------

    def close(self):
        """Destroys the engine, waiting for calls in flight on other threads.
        Idempotent; afterwards every call raises EngineDestroyedError.
        Raises FailedPreconditionError from inside on_assigned."""
        if self._handle is None:
            return
        # No Python lock around the wait: a callback still running on another
        # thread may itself call close() (it is refused, not blocked), and
        # ctypes releases the GIL so those callbacks can finish.
        status = lib.routing_engine_destroy(self._handle)
        if status != errors.EngineDestroyedError.code:
            check(status)
        self._closed = True

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # Refused from inside a callback; nothing to do.
            pass

    def _deliver(self, assignment):
        try:
            self._on_assigned(_read_assignment(assignment))
        except BaseException as e:  # Nothing may unwind into the engine.
            self.callback_errors.append(e)
            traceback.print_exc(file=sys.stderr)

    # --- Agents ------------------------------------------------------------

    def add_agent(self, agent):
        with _Owned(lib.routing_agent_destroy) as a:
            _build_agent(agent, a)
            check(lib.routing_engine_add_agent(self._handle, a.pointer))

    def update_agent(self, agent):
        with _Owned(lib.routing_agent_destroy) as a:
            _build_agent(agent, a)
            check(lib.routing_engine_update_agent(self._handle, a.pointer))

    def remove_agent(self, agent_id):
        check(lib.routing_engine_remove_agent(self._handle,
                                              text(agent_id, "agent id")))

    def set_agent_state(self, agent_id, state):
        check(lib.routing_engine_set_agent_state(
            self._handle, text(agent_id, "agent id"), int(state)))

    def get_agent(self, agent_id):
        with _Owned(lib.routing_agent_status_destroy) as s:
            check(lib.routing_engine_get_agent(
                self._handle, text(agent_id, "agent id"), s.out))
            p = s.pointer
            load, capacity = {}, {}
            for channel in model.Channel:
                n, n_ref = _out(ctypes.c_int)
                cap, cap_ref = _out(ctypes.c_int)
                check(lib.routing_agent_status_load(p, int(channel), n_ref,
                                                    cap_ref))
                load[channel] = n.value
                capacity[channel] = cap.value
            skills = {}
            for i in range(_read(lib.routing_agent_status_skill_count, p,
                                 ctypes.c_size_t)):
                name, name_ref = _out(ctypes.c_char_p)
                level, level_ref = _out(ctypes.c_int)
                check(lib.routing_agent_status_skill(p, i, name_ref,
                                                     level_ref))
                skills[string(name.value)] = level.value
            languages = {}
            for i in range(_read(lib.routing_agent_status_language_count, p,
                                 ctypes.c_size_t)):
                name, name_ref = _out(ctypes.c_char_p)
                fluency, fluency_ref = _out(ctypes.c_int)
                check(lib.routing_agent_status_language(p, i, name_ref,
                                                        fluency_ref))
                languages[string(name.value)] = fluency.value
            return model.AgentStatus(
                id=string(_read(lib.routing_agent_status_id, p,
                                ctypes.c_char_p)),
                state=model.AgentState(
                    _read(lib.routing_agent_status_state, p, ctypes.c_int)),
                load=load,
                capacity=capacity,
                occupancy=_read(lib.routing_agent_status_occupancy, p,
                                ctypes.c_double),
                contacts_handled=_read(
                    lib.routing_agent_status_contacts_handled, p,
                    ctypes.c_int64),
                state_since_ms=_read(lib.routing_agent_status_state_since_ms,
                                     p, ctypes.c_int64),
                idle_since_ms=_read(lib.routing_agent_status_idle_since_ms, p,
                                    ctypes.c_int64),
                skills=skills,
                languages=languages,
                team=string(_read(lib.routing_agent_status_team, p,
                                  ctypes.c_char_p)),
                site=string(_read(lib.routing_agent_status_site, p,
                                  ctypes.c_char_p)),
                max_total_contacts=_read(
                    lib.routing_agent_status_max_total_contacts, p,
                    ctypes.c_int),
            )

    def agent_ids(self):
        with _Owned(lib.routing_string_list_destroy) as ids:
            check(lib.routing_engine_agent_ids(self._handle, ids.out))
            result = []
            for i in range(_read(lib.routing_string_list_count, ids.pointer,
                                 ctypes.c_size_t)):
                value, ref = _out(ctypes.c_char_p)
                check(lib.routing_string_list_get(ids.pointer, i, ref))
                result.append(string(value.value))
            return result

    # --- Contacts ----------------------------------------------------------

    def _decide(self, function, contact):
        with _Owned(lib.routing_contact_destroy) as c, \
                _Owned(lib.routing_decision_destroy) as d:
            _build_contact(contact, c)
            check(function(self._handle, c.pointer, d.out))
            return _read_decision(d.pointer)

    def route(self, contact):
        """Decides for a new contact: a Decision, assigned or queued."""
        return self._decide(lib.routing_engine_route, contact)

    def requeue(self, contact):
        """Transfer: routes a held contact again with new requirements."""
        return self._decide(lib.routing_engine_requeue, contact)

    def accept_offer(self, contact_id, agent_id=None):
        """Reservations: the agent accepts the offer of the contact (it must
        be to agent_id, if given). FailedPreconditionError if it is not
        offered (to that agent)."""
        check(lib.routing_engine_accept_offer(
            self._handle, text(contact_id, "contact id"),
            None if agent_id is None else text(agent_id, "agent id")))

    def reject_offer(self, contact_id, agent_id=None):
        """Reservations: the agent turns the offer down; the contact goes
        back to its queue in its place (or is offered to another free agent
        at once). Returns that Decision."""
        with _Owned(lib.routing_decision_destroy) as d:
            check(lib.routing_engine_reject_offer(
                self._handle, text(contact_id, "contact id"),
                None if agent_id is None else text(agent_id, "agent id"),
                d.out))
            return _read_decision(d.pointer)

    def cancel(self, contact_id):
        check(lib.routing_engine_cancel(self._handle,
                                        text(contact_id, "contact id")))

    def release(self, contact_id, outcome=model.Outcome.UNKNOWN, csat=None,
                nps=None):
        """Ends the contact. csat (1..5) and nps (0..10), when given, are the
        post-contact survey's answers, counted in the queue's KPIs."""
        if csat is None and nps is None:
            check(lib.routing_engine_release(
                self._handle, text(contact_id, "contact id"), int(outcome)))
            return
        check(lib.routing_engine_release_with_survey(
            self._handle, text(contact_id, "contact id"), int(outcome),
            _SURVEY_NOT_ANSWERED if csat is None else int(csat),
            _SURVEY_NOT_ANSWERED if nps is None else int(nps)))

    def get_contact(self, contact_id):
        state, state_ref = _out(ctypes.c_int)
        agent = ctypes.c_void_p()
        check(lib.routing_engine_get_contact(
            self._handle, text(contact_id, "contact id"), state_ref,
            ctypes.byref(agent)))
        try:
            agent_id = string(ctypes.string_at(agent))
        finally:
            lib.routing_free(agent)
        return model.ContactStatus(model.ContactState(state.value), agent_id)

    # --- Policy, history, statistics, time ---------------------------------

    def set_policy(self, policy):
        """Swaps the scoring policy; returns its version."""
        with _Owned(lib.routing_policy_destroy) as p:
            _build_policy(policy, p)
            version, ref = _out(ctypes.c_uint64)
            check(lib.routing_engine_set_policy(self._handle, p.pointer, ref))
            return version.value

    @property
    def policy_version(self):
        return _read(lib.routing_engine_policy_version, self._handle,
                     ctypes.c_uint64)

    # --- Rules ----------------------------------------------------------------

    def _reload(self, function, *args):
        version, version_ref = _out(ctypes.c_uint64)
        problems = ctypes.c_void_p()
        status = function(self._handle, *args, version_ref,
                          ctypes.byref(problems))
        lines = []
        if problems.value:
            try:
                lines = string(ctypes.string_at(problems)).split("\n")
            finally:
                lib.routing_free(problems)
        if status == errors.InvalidArgumentError.code and lines:
            raise errors.RulesRefusedError(
                string(lib.routing_last_error()), lines)
        check(status)
        return version.value

    def reload_rules(self, path):
        """Compiles, checks and tests a Lua rules file, then puts it in force;
        returns the new rules version. A refused file raises
        RulesRefusedError (``.problems``: "FILE:LINE: message" lines) and
        leaves the old rules serving; an unreadable one NotFoundError."""
        return self._reload(lib.routing_engine_reload_rules,
                            text(path, "rules file"))

    def reload_rules_text(self, name, source):
        """As reload_rules, from Lua source; ``name`` labels problems."""
        return self._reload(lib.routing_engine_reload_rules_text,
                            text(name, "rules name"),
                            text(source, "rules source"))

    def clear_rules(self):
        """Back to the built-in policy alone; returns the new rules version."""
        version, ref = _out(ctypes.c_uint64)
        check(lib.routing_engine_clear_rules(self._handle, ref))
        return version.value

    @property
    def rules_version(self):
        return _read(lib.routing_engine_rules_version, self._handle,
                     ctypes.c_uint64)

    def rules_errors(self):
        """(failures of the rules in force, the latest as "FILE:LINE: ...")."""
        count, count_ref = _out(ctypes.c_int64)
        last = ctypes.c_void_p()
        check(lib.routing_engine_rules_errors(self._handle, count_ref,
                                              ctypes.byref(last)))
        try:
            message = string(ctypes.string_at(last)) if last.value else ""
        finally:
            lib.routing_free(last)
        return count.value, message

    def advance_queues(self):
        """Moves queued contacts whose next rules step fell due (call it
        every 100 ms to 1 s); returns how many moved on."""
        moved, ref = _out(ctypes.c_int)
        check(lib.routing_engine_advance_queues(self._handle, ref))
        return moved.value

    def customer_history(self, customer_id):
        with _Owned(lib.routing_history_destroy) as h:
            check(lib.routing_engine_customer_history(
                self._handle, text(customer_id, "customer id"), h.out))
            result = []
            for i in range(_read(lib.routing_history_count, h.pointer,
                                 ctypes.c_size_t)):
                agent, agent_ref = _out(ctypes.c_char_p)
                channel, channel_ref = _out(ctypes.c_int)
                outcome, outcome_ref = _out(ctypes.c_int)
                at, at_ref = _out(ctypes.c_int64)
                check(lib.routing_history_entry(h.pointer, i, agent_ref,
                                                channel_ref, outcome_ref,
                                                at_ref))
                result.append(model.Interaction(
                    string(agent.value), model.Channel(channel.value),
                    model.Outcome(outcome.value), at.value))
            return result

    def stats(self):
        with _Owned(lib.routing_stats_destroy) as s:
            check(lib.routing_engine_stats(self._handle, s.out))
            p = s.pointer
            counters = {}
            for i, name in enumerate(_STATS_COUNTERS):
                value, ref = _out(ctypes.c_int64)
                check(lib.routing_stats_counter(p, i, ref))
                counters[name] = value.value
            by_state = {}
            for state in model.AgentState:
                value, ref = _out(ctypes.c_int64)
                check(lib.routing_stats_agents_in_state(p, int(state), ref))
                by_state[state] = value.value
            queues = []
            for q in range(_read(lib.routing_stats_queue_count, p,
                                 ctypes.c_size_t)):
                name, name_ref = _out(ctypes.c_char_p)
                check(lib.routing_stats_queue_name(p, q, name_ref))
                fields = {}
                for i, field in enumerate(_QUEUE_COUNTERS):
                    value, ref = _out(ctypes.c_int64)
                    check(lib.routing_stats_queue_counter(p, q, i, ref))
                    fields[field] = value.value
                level, level_ref = _out(ctypes.c_double)
                check(lib.routing_stats_queue_service_level(p, q, level_ref))
                queues.append(model.QueueStats(
                    queue=string(name.value), service_level=level.value,
                    **fields))
            return model.Stats(agents_by_state=by_state, queues=queues,
                               **counters)

    def set_time(self, unix_ms):
        """Moves the manual clock (Engine(manual_clock_ms=...))."""
        check(lib.routing_engine_set_time(self._handle, int(unix_ms)))
