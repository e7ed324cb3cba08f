"""The integration's glue (integrations/kamailio/routing_glue.py) with its
call path timed, for bench/telephony/call_setup_compare.sh's routing_timed
variant. Loaded by Kamailio's app_python3 in place of routing_glue.py
(-A ROUTING_GLUE=...); everything else is the integration's own code.

For every INVITE's route_call, one line is appended to $GLUE_TIMING_FILE
(one file per Kamailio process: the name gets ".<pid>"):
  <total_us> <client_us>
total_us: the whole python_exec("route_call") method as the glue runs it
(reading the headers, RouteContact, setting the $var()s); client_us: the
Python client's route() alone (encode, ZeroMQ round trip to routingd,
decode). What app_python3 adds around the method (finding it, wrapping the
message) is outside both; the capture's proxy time minus total_us bounds it
together with Kamailio's own work.
"""

import os
import time

import routing_sidecar
import routing_glue

_timing_path = os.environ.get("GLUE_TIMING_FILE", "")
_last_client_ns = [0]
_original_route = routing_sidecar.Client.route


def _timed_route(self, *args, **kwargs):
    start = time.perf_counter_ns()
    try:
        return _original_route(self, *args, **kwargs)
    finally:
        _last_client_ns[0] = time.perf_counter_ns() - start


routing_sidecar.Client.route = _timed_route
routing_glue.Client.route = _timed_route  # the same class; kept explicit


class TimedRoutingGlue(routing_glue.RoutingGlue):
    _file = None
    _file_pid = None

    def route_call(self, msg, skill):
        start = time.perf_counter_ns()
        result = super().route_call(msg, skill)
        total = time.perf_counter_ns() - start
        if _timing_path:
            if self._file_pid != os.getpid():
                self._file = open(f"{_timing_path}.{os.getpid()}", "a", buffering=1)
                self._file_pid = os.getpid()
            self._file.write(f"{total // 1000} {_last_client_ns[0] // 1000}\n")
        return result


def mod_init():
    glue = routing_glue.mod_init()
    if glue is None:
        return None
    timed = TimedRoutingGlue()
    timed.__dict__.update(glue.__dict__)
    return timed
