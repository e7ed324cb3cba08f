"""The per-call requests of a telephony glue, through the native library.

NativeClient sends route, requeue, cancel and release with the C++ client
of routingd (librouting_sidecar_native.so, native/route_client_c.h) called
through ctypes: the request is built and the reply read in C++, so a call
costs Python a few microseconds instead of the ~250 us that Client spends
building and reading FlatBuffers in Python. Same signatures and errors as
Client for those calls; everything else (agents, stats, events) stays with
Client.

    from routing_sidecar import Client, NativeClient, native_available
    client = (NativeClient if native_available() else Client)(
        "tcp://127.0.0.1:5555", timeout_ms=1000)
    decision = client.route(call_id, channel="voice",
                            skills={"billing": 1}, queue="billing")

The library is ROUTING_SIDECAR_NATIVE_LIB when set, else
librouting_sidecar_native.so beside this module (Bazel puts it there:
//bindings/python/routing_sidecar:routing_sidecar_native).

Errors, as Client raises them: an error reply raises RoutingError (or its
subclass for the code, e.g. PermissionDeniedError) with the protocol's code
name; no reply within timeout_ms raises NativeTimeoutError, a TimeoutError;
an argument refused before anything is sent (an unknown channel or outcome
name, an id too long, too many skills) raises NativeArgumentError, both a
RoutingError with code "InvalidArgument" and the ValueError Client raises
for unknown names.

Not thread-safe, like Client: the library's handle is one ZeroMQ socket.
Use one NativeClient per thread, and open it after fork (Kamailio: in
child_init, or lazily on the first call, as routing_glue.py does).
"""

import ctypes
import os

from routing_sidecar.client import _ERROR_CLASSES, RoutingError

LIBRARY_NAME = "librouting_sidecar_native.so"
LIBRARY_ENV = "ROUTING_SIDECAR_NATIVE_LIB"

# route_client_c.h
_OK, _REFUSED = 0, 1
_CODE_BYTES, _MESSAGE_BYTES = 32, 1024
_ID_BYTES, _NAME_BYTES = 129, 65
_NO_ANSWER = -2**31
_INT32 = range(-2**31, 2**31)


class NativeArgumentError(RoutingError, ValueError):
    """An argument the library refused before sending anything: code
    "InvalidArgument", the message names the argument."""


class NativeTimeoutError(TimeoutError):
    """routingd did not answer within the timeout (code "DeadlineExceeded").
    Like Client's TimeoutError, not a RoutingError: the daemon may have
    executed the request."""

    code = "DeadlineExceeded"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_char * _CODE_BYTES),
                ("message", ctypes.c_char * _MESSAGE_BYTES)]


class _Contact(ctypes.Structure):
    _fields_ = [("id", ctypes.c_char_p),
                ("channel", ctypes.c_char_p),
                ("queue", ctypes.c_char_p),
                ("required_skill_names", ctypes.POINTER(ctypes.c_char_p)),
                ("required_skill_levels", ctypes.POINTER(ctypes.c_int32)),
                ("required_skill_count", ctypes.c_size_t),
                ("desired_skill_names", ctypes.POINTER(ctypes.c_char_p)),
                ("desired_skill_levels", ctypes.POINTER(ctypes.c_int32)),
                ("desired_skill_count", ctypes.c_size_t),
                ("languages", ctypes.POINTER(ctypes.c_char_p)),
                ("language_count", ctypes.c_size_t),
                ("customer_id", ctypes.c_char_p),
                ("priority", ctypes.c_int32)]


class _Decision(ctypes.Structure):
    _fields_ = [("assigned", ctypes.c_int32),
                ("agent_id", ctypes.c_char * _ID_BYTES),
                ("queue", ctypes.c_char * _NAME_BYTES),
                ("channel", ctypes.c_char * _NAME_BYTES),
                ("score", ctypes.c_double),
                ("eligible_agents", ctypes.c_int32),
                ("queue_position", ctypes.c_int32),
                ("estimated_wait_ms", ctypes.c_int64),
                ("policy_version", ctypes.c_uint64),
                ("rules_version", ctypes.c_uint64),
                ("rules_step", ctypes.c_int32),
                ("rules_fallback", ctypes.c_int32),
                ("rules_suspended", ctypes.c_int32),
                ("offered", ctypes.c_int32)]


_library = None
_load_error = None


def library_path():
    """Where NativeClient loads the library from."""
    return os.environ.get(LIBRARY_ENV) or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


def _load():
    global _library, _load_error
    if _library is not None:
        return _library
    path = library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        _load_error = f"cannot load {path}: {error}"
        raise ImportError(_load_error) from None
    lib.routing_sidecar_connect.argtypes = [
        ctypes.c_char_p, ctypes.c_int32, ctypes.POINTER(_Error)]
    lib.routing_sidecar_connect.restype = ctypes.c_void_p
    lib.routing_sidecar_close.argtypes = [ctypes.c_void_p]
    lib.routing_sidecar_close.restype = None
    for name in ("routing_sidecar_route", "routing_sidecar_requeue"):
        function = getattr(lib, name)
        function.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Contact),
                             ctypes.POINTER(_Decision), ctypes.POINTER(_Error)]
        function.restype = ctypes.c_int
    lib.routing_sidecar_cancel.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Error)]
    lib.routing_sidecar_cancel.restype = ctypes.c_int
    lib.routing_sidecar_release.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int32,
        ctypes.c_int32, ctypes.POINTER(_Error)]
    lib.routing_sidecar_release.restype = ctypes.c_int
    _library = lib
    return lib


def native_available():
    """True when the native library loads (else use Client)."""
    try:
        _load()
        return True
    except ImportError:
        return False


def _raise(result, error):
    code = error.code.decode("utf-8", "replace")
    message = error.message.decode("utf-8", "replace")
    if result == _REFUSED:
        raise NativeArgumentError(code, message)
    if code == "DeadlineExceeded":
        raise NativeTimeoutError(message)
    raise _ERROR_CLASSES.get(code, RoutingError)(code, message)


def _encode(value, what):
    if not isinstance(value, str):
        raise NativeArgumentError("InvalidArgument",
                                  f"{what} must be a str, not "
                                  f"{type(value).__name__}")
    data = value.encode()
    if b"\0" in data:
        # C strings end at NUL: "a\0b" would silently become "a".
        raise NativeArgumentError("InvalidArgument",
                                  f"{what} {value!r} contains a NUL byte")
    return data


def _skill_arrays(skills, what):
    names = []
    levels = []
    for name, level in skills.items():
        names.append(_encode(name, what))
        level = int(level)
        if level not in _INT32:
            raise NativeArgumentError(
                "InvalidArgument", f"{what} {name!r}: level {level} is out "
                "of range")
        levels.append(level)
    n = len(names)
    return (ctypes.c_char_p * n)(*names), (ctypes.c_int32 * n)(*levels), n


class NativeClient:
    """A connection to routingd's request socket through the native
    library: route (requeue=True for RequeueContact), cancel and release,
    as Client has them."""

    def __init__(self, endpoint="tcp://127.0.0.1:5555", timeout_ms=5000):
        self._lib = _load()
        self._error = _Error()
        self._error_ref = ctypes.byref(self._error)
        self._decision = _Decision()
        self._decision_ref = ctypes.byref(self._decision)
        self._contact = _Contact()
        self._contact_ref = ctypes.byref(self._contact)
        timeout = int(timeout_ms)
        if timeout not in _INT32:
            timeout = 0  # Refused by the library, with its range.
        handle = self._lib.routing_sidecar_connect(
            _encode(endpoint, "endpoint"), timeout, self._error_ref)
        if not handle:
            _raise(_REFUSED if self._error.code == b"InvalidArgument"
                   else 2, self._error)
        self._handle = handle
        self._route = self._lib.routing_sidecar_route
        self._requeue = self._lib.routing_sidecar_requeue

    def close(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.routing_sidecar_close(handle)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live(self):
        if not self._handle:
            raise NativeArgumentError("InvalidArgument",
                                      "the client is closed")
        return self._handle

    def route(self, contact_id, channel="chat", skills=None, desired=None,
              languages=None, queue="", priority=0, customer_id="",
              handoff=None, requeue=False, explain=False):
        """Routes a contact (RequeueContact with requeue=True); returns the
        decision as a dict with Client's keys, but for "components",
        "qualified" and "explanation", which the native path does not read
        (handoff and explain are not supported: use Client for them)."""
        if handoff or explain:
            raise NotImplementedError(
                "NativeClient does not send handoff context or ask for "
                "explanations: use Client")
        handle = self._live()
        c = self._contact
        c.id = _encode(contact_id, "contact_id")
        c.channel = _encode(channel, "channel")
        c.queue = _encode(queue, "queue") if queue else None
        if skills:
            (c.required_skill_names, c.required_skill_levels,
             c.required_skill_count) = _skill_arrays(skills, "skill")
        else:
            c.required_skill_count = 0
        if desired:
            (c.desired_skill_names, c.desired_skill_levels,
             c.desired_skill_count) = _skill_arrays(desired, "desired skill")
        else:
            c.desired_skill_count = 0
        if languages:
            tags = [_encode(tag, "language") for tag in languages]
            c.languages = (ctypes.c_char_p * len(tags))(*tags)
            c.language_count = len(tags)
        else:
            c.language_count = 0
        c.customer_id = (_encode(customer_id, "customer_id")
                         if customer_id else None)
        priority = int(priority)
        if priority not in _INT32:
            raise NativeArgumentError("InvalidArgument",
                                      f"priority {priority} is out of range")
        c.priority = priority
        call = self._requeue if requeue else self._route
        result = call(handle, self._contact_ref, self._decision_ref,
                      self._error_ref)
        if result != _OK:
            _raise(result, self._error)
        d = self._decision
        assigned = d.assigned
        return {
            "contact_id": contact_id,
            "outcome": "assigned" if assigned else "queued",
            "queue": d.queue.decode(),
            "channel": d.channel.decode(),
            "agent_id": d.agent_id.decode(),
            "score": d.score,
            "eligible_agents": d.eligible_agents,
            "queue_position": d.queue_position,
            "estimated_wait_ms": d.estimated_wait_ms,
            "policy_version": d.policy_version,
            "rules_version": d.rules_version,
            "rules_step": d.rules_step,
            "rules_fallback": bool(d.rules_fallback),
            "rules_suspended": bool(d.rules_suspended),
            "offered": bool(d.offered),
        }

    def requeue(self, contact_id, **fields):
        """route(contact_id, requeue=True, ...)."""
        return self.route(contact_id, requeue=True, **fields)

    def cancel(self, contact_id):
        result = self._lib.routing_sidecar_cancel(
            self._live(), _encode(contact_id, "contact_id"), self._error_ref)
        if result != _OK:
            _raise(result, self._error)

    def release(self, contact_id, outcome="resolved", csat=None, nps=None):
        """The agent finished; csat (1..5) and nps (0..10) optional, as in
        Client.release."""
        answers = []
        for name, value in (("csat", csat), ("nps", nps)):
            if value is None:
                answers.append(_NO_ANSWER)
                continue
            value = int(value)
            if value not in _INT32 or value == _NO_ANSWER:
                raise NativeArgumentError("InvalidArgument",
                                          f"{name} {value} is out of range")
            answers.append(value)
        result = self._lib.routing_sidecar_release(
            self._live(), _encode(contact_id, "contact_id"),
            _encode(outcome, "outcome"), answers[0], answers[1],
            self._error_ref)
        if result != _OK:
            _raise(result, self._error)
