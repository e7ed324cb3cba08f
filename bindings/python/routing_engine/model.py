"""The values routing_engine passes in and out: enums, profiles, contacts,
decisions, assignments, snapshots and statistics. Plain dataclasses: they hold
copies, never pointers into the library, so they stay valid forever.

Times are integer milliseconds: instants since the Unix epoch (``*_ms``
suffix on instants), durations as counts.
"""

import dataclasses
import enum
from typing import Dict, List, Optional


class Channel(enum.IntEnum):
    VOICE = 0
    CHAT = 1
    EMAIL = 2
    MESSAGING = 3
    CALLBACK = 4
    VIDEO = 5


class AgentState(enum.IntEnum):
    LOGGED_OUT = 0
    AVAILABLE = 1
    BUSY = 2
    AFTER_CALL_WORK = 3
    BREAK = 4


class Outcome(enum.IntEnum):
    """How a released contact ended."""

    UNKNOWN = 0
    RESOLVED = 1
    UNRESOLVED = 2
    TRANSFERRED = 3


class DecisionOutcome(enum.IntEnum):
    ASSIGNED = 0
    QUEUED = 1


class ContactState(enum.IntEnum):
    QUEUED = 0
    ASSIGNED = 1
    OFFERED = 2  # Reservations: offered to agent_id, not accepted yet.


@dataclasses.dataclass
class Agent:
    """An agent profile, for Engine.add_agent and Engine.update_agent."""

    id: str
    skills: Dict[str, int] = dataclasses.field(default_factory=dict)
    languages: Dict[str, int] = dataclasses.field(default_factory=dict)
    capacity: Dict[Channel, int] = dataclasses.field(default_factory=dict)
    max_total_contacts: int = 0
    team: str = ""
    site: str = ""
    attributes: Dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Contact:
    """A contact to route (Engine.route) or route again (Engine.requeue)."""

    id: str
    channel: Channel = Channel.VOICE
    queue: str = ""
    required_skills: Dict[str, int] = dataclasses.field(default_factory=dict)
    desired_skills: Dict[str, int] = dataclasses.field(default_factory=dict)
    languages: List[str] = dataclasses.field(default_factory=list)
    priority: int = 0
    customer_id: str = ""
    preferred_agents: List[str] = dataclasses.field(default_factory=list)
    excluded_agents: List[str] = dataclasses.field(default_factory=list)
    enqueue_time_ms: Optional[int] = None  # None: now, by the engine's clock.
    attributes: Dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Policy:
    """A scoring policy; unset entries keep the built-in values.

    weights keys: skill, affinity, language, load, occupancy, idle.
    durations_ms keys: priority_step, idle_saturation, affinity_half_life,
      default_handle_time, service_level_threshold.
    affinities keys: preferred_agent, resolved, served.
    """

    name: Optional[str] = None
    weights: Dict[str, float] = dataclasses.field(default_factory=dict)
    durations_ms: Dict[str, int] = dataclasses.field(default_factory=dict)
    affinities: Dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ScoreComponent:
    name: str
    value: float
    weight: float
    contribution: float
    detail: str


@dataclasses.dataclass(frozen=True)
class QualifiedAgents:
    total: int
    at_capacity: int
    unavailable: int
    logged_out: int


@dataclasses.dataclass(frozen=True)
class Decision:
    contact_id: str
    outcome: DecisionOutcome
    queue: str
    channel: Channel
    agent_id: str  # "" when queued.
    score: float
    eligible_agents: int
    components: List[ScoreComponent]
    queue_position: int  # 0 when assigned.
    estimated_wait_ms: int
    qualified: QualifiedAgents
    policy_version: int
    policy_name: str
    decided_at_ms: int
    explanation: str
    rules_version: int = 0  # 0: no rules in force.
    rules_step: int = 0
    rules_fallback: bool = False  # The rules failed; built-in policy decided.
    # The routing attempt: new for each route and requeue. A queued contact's
    # later Assignment carries the same token in its decision.
    token: int = 0
    # Reservations (Engine(offer_timeouts_ms=...)): the assignment is an
    # offer to accept (accept_offer) before offer_expires_at_ms.
    offered: bool = False
    offer_expires_at_ms: int = 0
    # Raised each time the contact is placed again (requeue, rules step,
    # returned offer).
    placement: int = 0

    @property
    def assigned(self):
        return self.outcome == DecisionOutcome.ASSIGNED

    def explain(self):
        """A few lines a supervisor can read."""
        return self.explanation


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A queued contact assigned later, as passed to on_assigned."""

    contact_id: str
    customer_id: str
    agent_id: str
    queue: str
    channel: Channel
    waited_ms: int
    attributes: Dict[str, str]
    decision: Decision


@dataclasses.dataclass(frozen=True)
class AgentStatus:
    id: str
    state: AgentState
    load: Dict[Channel, int]
    capacity: Dict[Channel, int]
    occupancy: float
    contacts_handled: int
    state_since_ms: int
    idle_since_ms: int
    skills: Dict[str, int]
    languages: Dict[str, int]
    team: str
    site: str
    max_total_contacts: int


@dataclasses.dataclass(frozen=True)
class ContactStatus:
    state: ContactState
    agent_id: str  # "" when queued.


@dataclasses.dataclass(frozen=True)
class Interaction:
    agent_id: str
    channel: Channel
    outcome: Outcome
    released_at_ms: int


@dataclasses.dataclass(frozen=True)
class QueueStats:
    queue: str
    waiting: int
    longest_wait_ms: int
    answered: int
    answered_in_service_level: int
    abandoned: int
    average_speed_of_answer_ms: int
    average_handle_time_ms: int
    service_level: float
    # Outcomes of the contacts released from the queue (C ABI 1.3).
    released: int = 0
    resolved: int = 0
    first_contact_resolved: int = 0
    total_handle_time_ms: int = 0
    csat_responses: int = 0
    csat_sum: int = 0
    nps_responses: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0


@dataclasses.dataclass(frozen=True)
class Stats:
    policy_version: int
    decisions: int
    assigned_immediately: int
    queued: int
    assigned_from_queue: int
    cancelled: int
    released: int
    contacts_held: int
    agents: int
    rules_version: int
    rules_fallbacks: int
    agents_by_state: Dict[AgentState, int]
    queues: List[QueueStats]
