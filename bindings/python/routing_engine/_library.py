"""Loads librouting.so.1 with ctypes and declares the C functions' types.

Where the library is looked for, in order:
  1. the ROUTING_LIBRARY environment variable (a path to librouting.so.1);
  2. next to this package (routing_engine/librouting.so.1);
  3. Bazel runfiles (bindings/c/librouting.so.1 under RUNFILES_DIR or
     TEST_SRCDIR);
  4. the dynamic linker's search path (e.g. after
     ``bazel run //bindings/c:install -- --prefix=/usr/local``).
"""

import ctypes
import os

from routing_engine import errors

_LIBRARY_NAME = "librouting.so.1"
_WORKSPACE = "contact_routing"

c_int = ctypes.c_int
c_double = ctypes.c_double
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_size_t = ctypes.c_size_t
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
P = ctypes.POINTER

# void (*)(void* user_data, const routing_assignment_t* assignment)
ASSIGNMENT_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)

# (name, argument types). Every one returns a routing_status_t (int) unless
# listed in _OTHER_RESULTS.
_FUNCTIONS = [
    ("routing_options_create", [P(c_void_p)]),
    ("routing_options_set_limit", [c_void_p, c_int, c_int]),
    ("routing_options_set_policy", [c_void_p, c_void_p]),
    ("routing_options_set_manual_clock", [c_void_p, c_int64]),
    ("routing_options_set_offer_timeout", [c_void_p, c_int, c_int64]),
    ("routing_options_set_missed_offer_state", [c_void_p, c_int]),
    ("routing_options_set_rules_file", [c_void_p, c_char_p]),
    ("routing_options_set_assignment_callback",
     [c_void_p, ASSIGNMENT_CALLBACK, c_void_p]),
    ("routing_policy_create", [P(c_void_p)]),
    ("routing_policy_set_name", [c_void_p, c_char_p]),
    ("routing_policy_set_weight", [c_void_p, c_int, c_double]),
    ("routing_policy_set_duration", [c_void_p, c_int, c_int64]),
    ("routing_policy_set_affinity", [c_void_p, c_int, c_double]),
    ("routing_agent_create", [c_char_p, P(c_void_p)]),
    ("routing_agent_add_skill", [c_void_p, c_char_p, c_int]),
    ("routing_agent_add_language", [c_void_p, c_char_p, c_int]),
    ("routing_agent_set_capacity", [c_void_p, c_int, c_int]),
    ("routing_agent_set_max_total_contacts", [c_void_p, c_int]),
    ("routing_agent_set_team", [c_void_p, c_char_p]),
    ("routing_agent_set_site", [c_void_p, c_char_p]),
    ("routing_agent_set_attribute", [c_void_p, c_char_p, c_char_p]),
    ("routing_contact_create", [c_char_p, c_int, P(c_void_p)]),
    ("routing_contact_set_queue", [c_void_p, c_char_p]),
    ("routing_contact_add_required_skill", [c_void_p, c_char_p, c_int]),
    ("routing_contact_add_desired_skill", [c_void_p, c_char_p, c_int]),
    ("routing_contact_add_language", [c_void_p, c_char_p]),
    ("routing_contact_set_priority", [c_void_p, c_int]),
    ("routing_contact_set_customer_id", [c_void_p, c_char_p]),
    ("routing_contact_add_preferred_agent", [c_void_p, c_char_p]),
    ("routing_contact_add_excluded_agent", [c_void_p, c_char_p]),
    ("routing_contact_set_enqueue_time", [c_void_p, c_int64]),
    ("routing_contact_set_attribute", [c_void_p, c_char_p, c_char_p]),
    ("routing_engine_create", [c_void_p, P(c_void_p)]),
    ("routing_engine_destroy", [c_void_p]),
    ("routing_engine_add_agent", [c_void_p, c_void_p]),
    ("routing_engine_update_agent", [c_void_p, c_void_p]),
    ("routing_engine_remove_agent", [c_void_p, c_char_p]),
    ("routing_engine_set_agent_state", [c_void_p, c_char_p, c_int]),
    ("routing_engine_get_agent", [c_void_p, c_char_p, P(c_void_p)]),
    ("routing_engine_agent_ids", [c_void_p, P(c_void_p)]),
    ("routing_engine_route", [c_void_p, c_void_p, P(c_void_p)]),
    ("routing_engine_requeue", [c_void_p, c_void_p, P(c_void_p)]),
    ("routing_engine_cancel", [c_void_p, c_char_p]),
    ("routing_engine_accept_offer", [c_void_p, c_char_p, c_char_p]),
    ("routing_engine_reject_offer",
     [c_void_p, c_char_p, c_char_p, P(c_void_p)]),
    ("routing_engine_release", [c_void_p, c_char_p, c_int]),
    ("routing_engine_release_with_survey",
     [c_void_p, c_char_p, c_int, c_int, c_int]),
    ("routing_engine_get_contact",
     [c_void_p, c_char_p, P(c_int), P(c_void_p)]),
    ("routing_engine_set_policy", [c_void_p, c_void_p, P(c_uint64)]),
    ("routing_engine_policy_version", [c_void_p, P(c_uint64)]),
    ("routing_engine_customer_history", [c_void_p, c_char_p, P(c_void_p)]),
    ("routing_engine_stats", [c_void_p, P(c_void_p)]),
    ("routing_engine_set_time", [c_void_p, c_int64]),
    ("routing_engine_reload_rules",
     [c_void_p, c_char_p, P(c_uint64), P(c_void_p)]),
    ("routing_engine_reload_rules_text",
     [c_void_p, c_char_p, c_char_p, P(c_uint64), P(c_void_p)]),
    ("routing_engine_clear_rules", [c_void_p, P(c_uint64)]),
    ("routing_engine_rules_version", [c_void_p, P(c_uint64)]),
    ("routing_engine_rules_errors", [c_void_p, P(c_int64), P(c_void_p)]),
    ("routing_engine_advance_queues", [c_void_p, P(c_int)]),
    ("routing_decision_contact_id", [c_void_p, P(c_char_p)]),
    ("routing_decision_outcome", [c_void_p, P(c_int)]),
    ("routing_decision_queue", [c_void_p, P(c_char_p)]),
    ("routing_decision_channel", [c_void_p, P(c_int)]),
    ("routing_decision_agent_id", [c_void_p, P(c_char_p)]),
    ("routing_decision_score", [c_void_p, P(c_double)]),
    ("routing_decision_eligible_agents", [c_void_p, P(c_int)]),
    ("routing_decision_component_count", [c_void_p, P(c_size_t)]),
    ("routing_decision_component",
     [c_void_p, c_size_t, P(c_char_p), P(c_double), P(c_double),
      P(c_double), P(c_char_p)]),
    ("routing_decision_queue_position", [c_void_p, P(c_int)]),
    ("routing_decision_estimated_wait_ms", [c_void_p, P(c_int64)]),
    ("routing_decision_qualified_agents",
     [c_void_p, P(c_int), P(c_int), P(c_int), P(c_int)]),
    ("routing_decision_policy_version", [c_void_p, P(c_uint64)]),
    ("routing_decision_policy_name", [c_void_p, P(c_char_p)]),
    ("routing_decision_decided_at_ms", [c_void_p, P(c_int64)]),
    ("routing_decision_rules_version", [c_void_p, P(c_uint64)]),
    ("routing_decision_rules_step", [c_void_p, P(c_int)]),
    ("routing_decision_rules_fallback", [c_void_p, P(c_int)]),
    ("routing_decision_token", [c_void_p, P(c_uint64)]),
    ("routing_decision_offered", [c_void_p, P(c_int)]),
    ("routing_decision_offer_expires_at_ms", [c_void_p, P(c_int64)]),
    ("routing_decision_placement", [c_void_p, P(c_uint64)]),
    ("routing_decision_explain", [c_void_p, P(c_void_p)]),
    ("routing_assignment_contact_id", [c_void_p, P(c_char_p)]),
    ("routing_assignment_customer_id", [c_void_p, P(c_char_p)]),
    ("routing_assignment_agent_id", [c_void_p, P(c_char_p)]),
    ("routing_assignment_queue", [c_void_p, P(c_char_p)]),
    ("routing_assignment_channel", [c_void_p, P(c_int)]),
    ("routing_assignment_waited_ms", [c_void_p, P(c_int64)]),
    ("routing_assignment_attribute_count", [c_void_p, P(c_size_t)]),
    ("routing_assignment_attribute",
     [c_void_p, c_size_t, P(c_char_p), P(c_char_p)]),
    ("routing_assignment_decision", [c_void_p, P(c_void_p)]),
    ("routing_agent_status_id", [c_void_p, P(c_char_p)]),
    ("routing_agent_status_state", [c_void_p, P(c_int)]),
    ("routing_agent_status_load", [c_void_p, c_int, P(c_int), P(c_int)]),
    ("routing_agent_status_occupancy", [c_void_p, P(c_double)]),
    ("routing_agent_status_contacts_handled", [c_void_p, P(c_int64)]),
    ("routing_agent_status_state_since_ms", [c_void_p, P(c_int64)]),
    ("routing_agent_status_idle_since_ms", [c_void_p, P(c_int64)]),
    ("routing_agent_status_skill_count", [c_void_p, P(c_size_t)]),
    ("routing_agent_status_skill",
     [c_void_p, c_size_t, P(c_char_p), P(c_int)]),
    ("routing_agent_status_language_count", [c_void_p, P(c_size_t)]),
    ("routing_agent_status_language",
     [c_void_p, c_size_t, P(c_char_p), P(c_int)]),
    ("routing_agent_status_team", [c_void_p, P(c_char_p)]),
    ("routing_agent_status_site", [c_void_p, P(c_char_p)]),
    ("routing_agent_status_max_total_contacts", [c_void_p, P(c_int)]),
    ("routing_string_list_count", [c_void_p, P(c_size_t)]),
    ("routing_string_list_get", [c_void_p, c_size_t, P(c_char_p)]),
    ("routing_history_count", [c_void_p, P(c_size_t)]),
    ("routing_history_entry",
     [c_void_p, c_size_t, P(c_char_p), P(c_int), P(c_int), P(c_int64)]),
    ("routing_stats_counter", [c_void_p, c_int, P(c_int64)]),
    ("routing_stats_agents_in_state", [c_void_p, c_int, P(c_int64)]),
    ("routing_stats_queue_count", [c_void_p, P(c_size_t)]),
    ("routing_stats_queue_name", [c_void_p, c_size_t, P(c_char_p)]),
    ("routing_stats_queue_counter",
     [c_void_p, c_size_t, c_int, P(c_int64)]),
    ("routing_stats_queue_service_level",
     [c_void_p, c_size_t, P(c_double)]),
]

_OTHER_RESULTS = [
    ("routing_abi_version", [], c_int),
    ("routing_status_name", [c_int], c_char_p),
    ("routing_last_error", [], c_char_p),
    ("routing_free", [c_void_p], None),
    ("routing_options_destroy", [c_void_p], None),
    ("routing_policy_destroy", [c_void_p], None),
    ("routing_agent_destroy", [c_void_p], None),
    ("routing_contact_destroy", [c_void_p], None),
    ("routing_decision_destroy", [c_void_p], None),
    ("routing_agent_status_destroy", [c_void_p], None),
    ("routing_string_list_destroy", [c_void_p], None),
    ("routing_history_destroy", [c_void_p], None),
    ("routing_stats_destroy", [c_void_p], None),
]


def _candidates():
    explicit = os.environ.get("ROUTING_LIBRARY")
    if explicit:
        yield explicit
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, _LIBRARY_NAME)
    for root in (os.environ.get("RUNFILES_DIR"), os.environ.get("TEST_SRCDIR")):
        if root:
            yield os.path.join(root, _WORKSPACE, "bindings", "c", _LIBRARY_NAME)
    yield _LIBRARY_NAME  # The dynamic linker's search path.


def _load():
    tried = []
    explicit = "ROUTING_LIBRARY" in os.environ
    for path in _candidates():
        if os.sep in path and not os.path.exists(path) and not explicit:
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise ImportError(
        "routing_engine: cannot load librouting.so.1 (set ROUTING_LIBRARY to "
        "its path, or install it with bazel run //bindings/c:install); tried: "
        + "; ".join(tried))


lib = _load()
for _name, _args, _result in (
        [(n, a, c_int) for n, a in _FUNCTIONS] + _OTHER_RESULTS):
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        raise ImportError(
            f"routing_engine: {lib._name} has no {_name}: the library is "
            "older than this package; rebuild or reinstall it") from None
    _f.argtypes = _args
    _f.restype = _result

ABI_VERSION = lib.routing_abi_version()
ABI_VERSION_MAJOR = 1
if ABI_VERSION // 10000 != ABI_VERSION_MAJOR:
    raise ImportError(
        f"routing_engine: librouting ABI version {ABI_VERSION} is not "
        f"major version {ABI_VERSION_MAJOR}")


def check(status):
    """Raises the exception for a non-OK status, with this thread's message."""
    if status != 0:
        message = lib.routing_last_error() or b""
        raise errors.error_for(status, message.decode("utf-8", "replace"))


def text(value, field):
    """A str (or bytes, passed through) as the NUL-terminated UTF-8 the C ABI
    takes. Lone surrogates are encoded as-is so the library reports them."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    else:
        raise errors.InvalidArgumentError(
            f"{field} must be str, not {type(value).__name__}")
    if b"\0" in data:
        raise errors.InvalidArgumentError(f"{field} contains a NUL character")
    return data


def string(pointer_value):
    """A C string the library returned, as str."""
    return (pointer_value or b"").decode("utf-8")
