# Sourced by call_setup_compare.sh: the routing variant, on the integration's
# files as they are (integrations/kamailio/kamailio.cfg and routing_glue.py,
# unchanged): routingd with a roster of $agents agents (agent001..., skill
# "billing", English, voice capacity 1), Kamailio started on that config with
# the glue's environment, and calls to sip:billing@... .
#   routing        the integration's glue as it is;
#   routing_timed  the same with its route_call timed (timed_glue.py): one
#                  line per call in $work/<label>/glue_timing.<pid>;
#   routing_queued the integration's glue, QUEUED_AGENTS agents registered
#                  (4): calls queue, and the capture times their resumption.
# routingd and the Python client are built with bazel, unless ROUTINGD_BIN
# and ROUTING_SIDECAR_DIR (__init__.py, client.py, routing_generated.py)
# name built ones (a test's runfiles).

integration=integrations/kamailio
if [ -f "$integration/kamailio.cfg" ] && [ -f "$integration/routing_glue.py" ]; then
  routing_prepared=
  prepare_routing() {  # routingd and the Python client, built once per run
    [ -n "$routing_prepared" ] && return 0
    local sidecar_dir
    if [ -n "${ROUTINGD_BIN:-}" ] && [ -n "${ROUTING_SIDECAR_DIR:-}" ]; then
      routingd_bin=$ROUTINGD_BIN
      sidecar_dir=$ROUTING_SIDECAR_DIR
    else
      bazel build --noshow_progress //sidecar:routingd \
        //bindings/python/routing_sidecar:routing_fbs_py \
        //bindings/python/routing_sidecar:librouting_sidecar_native.so 2>&1 |
        grep -E "^ERROR" && return 1
      local bin; bin=$(bazel info --noshow_progress bazel-bin 2>/dev/null)
      routingd_bin="$bin/sidecar/routingd"
      sidecar_dir="$work/python/generated"
      mkdir -p "$sidecar_dir"
      cp bindings/python/routing_sidecar/__init__.py bindings/python/routing_sidecar/client.py \
        bindings/python/routing_sidecar/native_client.py \
        "$bin/bindings/python/routing_sidecar/routing_generated.py" \
        "$bin/bindings/python/routing_sidecar/librouting_sidecar_native.so" "$sidecar_dir/"
    fi
    [ -x "$routingd_bin" ] || { echo "call_setup_compare: no routingd at $routingd_bin" >&2; return 1; }
    mkdir -p "$work/python/routing_sidecar"
    cp -L "$sidecar_dir/__init__.py" "$sidecar_dir/client.py" "$sidecar_dir/routing_generated.py" \
      "$work/python/routing_sidecar/"
    # The native client, when there (variant routing_native needs it).
    local f
    for f in native_client.py librouting_sidecar_native.so; do
      [ -f "$sidecar_dir/$f" ] && cp -L "$sidecar_dir/$f" "$work/python/routing_sidecar/"
    done
    /usr/bin/python3 - "$agents" >"$work/roster.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"agents": [{"id": f"agent{i:03d}", "skills": {"billing": 5},
                              "languages": {"en": 5}, "capacity": {"voice": 1}}
                             for i in range(1, n + 1)]}))
PY
    routing_prepared=1
  }

  start_routing_with() {  # start_routing_with GLUE_PATH [native: auto|on|off]
    local native=${2:-off}
    prepare_routing
    local ports; ports=$(free_ports 3)
    read -r proxy_port rd_listen rd_events <<<"$ports"
    service=billing
    agent_ids=$(seq -f 'agent%03g' 1 "$agents" | tr '\n' ' ')
    # Under a real-time PRIO, libzmq's I/O thread cannot be switched to
    # SCHED_BATCH (the inherited priority is invalid there: libzmq aborts),
    # so routingd keeps it in the inherited class.
    local batch_io=true
    [[ "$prio" == chrt* ]] && batch_io=false
    start "$work/$label.routingd.log" $prio $pin_other "$routingd_bin" \
      --listen="tcp://127.0.0.1:$rd_listen" --events="tcp://127.0.0.1:$rd_events" --http= \
      --workers="${ROUTINGD_WORKERS:-1}" "${routingd_cpu_flags[@]}" --batch_io_thread="$batch_io"
    local routingd_pid=$last_pid
    sleep 0.3
    start "$work/$label.kamailio.log" env \
      PYTHONPATH="$work/python:$root/$integration:$root/$here" \
      ROUTINGD_SERVER="tcp://127.0.0.1:$rd_listen" ROUTINGD_EVENTS="tcp://127.0.0.1:$rd_events" \
      ROUTING_ROSTER="$work/roster.json" GLUE_TIMING_FILE="$work/$label/glue_timing" \
      ROUTING_NATIVE_CLIENT="$native" \
      $prio $pin_kamailio "$kamailio_bin" -f "$integration/kamailio.cfg" \
      -DD -E -l "udp:127.0.0.1:$proxy_port" -n "$children" -Y "$work" -m "$shm_mb" -M 16 \
      -A LISTEN_ON_COMMAND_LINE -A "ROUTING_GLUE=\"$1\""
    variant_pids=("$last_pid" "$routingd_pid")
    wait_for_sip "$proxy_port"
  }
  # routing: the glue's calls through the pure-Python client; routing_native:
  # through NativeClient (the C++ client over ctypes).
  start_routing() { start_routing_with "$root/$integration/routing_glue.py" off; }
  start_routing_native() { start_routing_with "$root/$integration/routing_glue.py" on; }
  # Queued calls: only QUEUED_AGENTS agents (default 4) register, so at
  # RATE calls/s most calls wait (182) and are resumed by the assignment.
  start_routing_queued() {
    start_routing_with "$root/$integration/routing_glue.py"
    agent_ids=$(seq -f 'agent%03g' 1 "${QUEUED_AGENTS:-4}" | tr '\n' ' ')
  }
  start_routing_timed() { start_routing_with "$root/$here/timed_glue.py"; }
fi
