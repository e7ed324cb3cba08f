"""Exceptions raised by routing_engine: one per status code of routing.h.

Every exception carries the status ``code`` (the ``ROUTING_*`` number) and the
library's one-line message naming the offending value. Each also derives from
the built-in exception a Python caller would expect (``ValueError`` for bad
arguments, ``LookupError`` for unknown ids, ``IndexError`` for indices), so
``except KeyError``-style habits keep working.
"""


class RoutingError(Exception):
    """Base class: any error reported by the routing engine."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgumentError(RoutingError, ValueError):
    """A NULL, out-of-range, malformed or non-UTF-8 argument."""

    code = 3


class RulesRefusedError(InvalidArgumentError):
    """A rules file was refused; ``problems`` lists "FILE:LINE: message"."""

    def __init__(self, message, problems):
        super().__init__(message)
        self.problems = problems


class NotFoundError(RoutingError, LookupError):
    """An unknown agent, contact, skill or language."""

    code = 5


class AlreadyExistsError(RoutingError):
    """An agent or contact id already held."""

    code = 6


class ResourceExhaustedError(RoutingError):
    """A configured maximum was reached, or memory ran out."""

    code = 8


class FailedPreconditionError(RoutingError):
    """The call does not fit the current state (e.g. release a queued contact)."""

    code = 9


class AbortedError(RoutingError):
    """The call lost a race with another call on the same contact and did
    nothing: a route whose contact was cancelled meanwhile (it is not held),
    or a requeue while another call routes the contact (try again)."""

    code = 10


class OutOfRangeError(RoutingError, IndexError):
    """An index past the end of a list."""

    code = 11


class InternalError(RoutingError):
    """A bug in the engine; the message says where."""

    code = 13


class EngineDestroyedError(RoutingError):
    """The engine was closed (destroyed); no call can use it any more."""

    code = 100


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        InternalError,
        EngineDestroyedError,
    )
}


def error_for(code, message):
    """The exception for a non-OK status code and its message."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return RoutingError(f"{message} (status {code})", code)
    return cls(message)
