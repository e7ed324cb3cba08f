"""routing_engine: the contact-center routing engine in-process, from Python.

A thin ctypes binding over librouting.so.1 (bindings/c/routing.h), for
scripting, notebooks and tests. See bindings/README.md.

    from routing_engine import Agent, AgentState, Channel, Contact, Engine

    with Engine() as engine:
        engine.add_agent(Agent("maria", skills={"billing": 5},
                               capacity={Channel.VOICE: 1}))
        engine.set_agent_state("maria", AgentState.AVAILABLE)
        print(engine.route(Contact("call-1", required_skills={"billing": 3}))
              .explain())
"""

from routing_engine._library import ABI_VERSION
from routing_engine.engine import Engine
from routing_engine.errors import (
    AbortedError,
    AlreadyExistsError,
    EngineDestroyedError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    RulesRefusedError,
    OutOfRangeError,
    ResourceExhaustedError,
    RoutingError,
)
from routing_engine.model import (
    Agent,
    AgentState,
    AgentStatus,
    Assignment,
    Channel,
    Contact,
    ContactState,
    ContactStatus,
    Decision,
    DecisionOutcome,
    Interaction,
    Outcome,
    Policy,
    QualifiedAgents,
    QueueStats,
    ScoreComponent,
    Stats,
)

__all__ = [
    "ABI_VERSION", "AbortedError", "Agent", "AgentState", "AgentStatus", "AlreadyExistsError",
    "Assignment", "Channel", "Contact", "ContactState", "ContactStatus",
    "Decision", "DecisionOutcome", "Engine", "EngineDestroyedError",
    "FailedPreconditionError", "Interaction", "InternalError",
    "InvalidArgumentError", "NotFoundError", "Outcome", "OutOfRangeError",
    "RulesRefusedError",
    "Policy", "QualifiedAgents", "QueueStats", "ResourceExhaustedError",
    "RoutingError", "ScoreComponent", "Stats",
]
