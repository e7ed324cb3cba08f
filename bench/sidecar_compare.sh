#!/usr/bin/env bash
# routingd against a bare ZeroMQ echo server (the transport's floor), in one
# run, same sockets, same bytes, same thread placement:
#   1. open loop at RATE requests/s (default 20000) on loopback TCP, echo then
#      routingd, each on a fresh server;
#   2. closed loop (CONNECTIONS DEALERs x IN_FLIGHT outstanding) for peak
#      throughput, echo then routingd.
# Repeated RUNS times (default 3); prints every run's JSON, then the medians
# and routingd's p99 as a multiple of the echo's.
#
# Placement (2 cores), the same for both servers; PLACEMENT picks it:
#   split (default): the threads that execute requests (routingd's workers,
#     or its frontend with WORKERS=0; the echo's one thread) on DAEMON_CPUS
#     (default 0); libzmq's I/O thread and routingd's message-moving threads
#     (frontend when there are workers, publisher) on LOAD_CPUS (default 1)
#     beside the load generator (its thread and its libzmq I/O thread),
#     which leaves that core half idle otherwise (--worker_cpus / --io_cpus);
#   pinned: every thread of the server on DAEMON_CPUS, the generator on
#     LOAD_CPUS (taskset).
# Run on a quiet machine: anything else on those cores (an idle Bazel server
# included: `bazel shutdown` first) shows up in the tail latencies.
#
# Usage: bench/sidecar_compare.sh [RUNS]
#   env: PLACEMENT, RATE, DURATION_S, CONNECTIONS, IN_FLIGHT, WORKERS, DAEMON_CPUS,
#        LOAD_CPUS, PORT_BASE, WITH_EXPLANATION (true: routingd also formats
#        each decision's readable text), BATCH_IO_THREAD (false: libzmq's
#        I/O thread under the default scheduling, in both servers)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] && { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
runs=${1:-3}
rate=${RATE:-20000}
duration=${DURATION_S:-5}
connections=${CONNECTIONS:-4}
in_flight=${IN_FLIGHT:-64}
workers=${WORKERS:-1}
daemon_cpus=${DAEMON_CPUS:-0}
load_cpus=${LOAD_CPUS:-1}
port=${PORT_BASE:-17700}
with_explanation=${WITH_EXPLANATION:-false}
batch_io=${BATCH_IO_THREAD:-true}
placement=${PLACEMENT:-split}
case "$placement" in
  split) server_cpus="$daemon_cpus,$load_cpus"
         placed=(--worker_cpus="$daemon_cpus" --io_cpus="$load_cpus") ;;
  pinned) server_cpus="$daemon_cpus"; placed=() ;;
  *) echo "PLACEMENT must be split or pinned" >&2; exit 1 ;;
esac

bazel build --noshow_progress //sidecar:routingd //bench:sidecar_load \
  //bench:zmq_echo_server 2>&1 | grep -E "^ERROR" && exit 1
bin=$(bazel info --noshow_progress bazel-bin 2>/dev/null)
results=$(mktemp)
server_pid=

start_server() {  # start_server echo|routingd
  local endpoint="tcp://127.0.0.1:$port"
  if [ "$1" = echo ]; then
    taskset -c "$server_cpus" "$bin/bench/zmq_echo_server" --listen="$endpoint" \
      --batch_io_thread="$batch_io" "${placed[@]}" 2>/dev/null &
  else
    taskset -c "$server_cpus" "$bin/sidecar/routingd" --listen="$endpoint" \
      --events="tcp://127.0.0.1:$((port + 1))" --http= --workers="$workers" \
      --batch_io_thread="$batch_io" "${placed[@]}" 2>/dev/null &
  fi
  server_pid=$!
  sleep 0.3
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  port=$((port + 2))
}

load() {  # load TARGET MODE
  local target=$1 mode=$2
  start_server "$target"
  taskset -c "$load_cpus" "$bin/bench/sidecar_load" \
    --server="tcp://127.0.0.1:$port" --target="$target" --mode="$mode" \
    --rate="$rate" --duration_s="$duration" --connections="$connections" \
    --in_flight="$in_flight" --with_explanation="$with_explanation" \
    --label="$placement/workers=$workers/run$run" | tee -a "$results"
  stop_server
}

trap 'stop_server; rm -f "$results"' EXIT
for run in $(seq 1 "$runs"); do
  load echo open
  load routingd open
  load echo closed
  load routingd closed
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
summary = {}
for target in ("echo", "routingd"):
    for mode in ("open", "closed"):
        sel = [r for r in rows if r["target"] == target and r["mode"] == mode]
        if not sel:
            continue
        summary[f"{target}_{mode}"] = {
            k: statistics.median(r[k] for r in sel)
            for k in ("throughput_per_s", "p50_us", "p99_us", "p999_us", "max_us")}
        summary[f"{target}_{mode}"]["runs"] = len(sel)
if "echo_open" in summary and "routingd_open" in summary:
    summary["open_p99_ratio_routingd_over_echo"] = round(
        summary["routingd_open"]["p99_us"] / summary["echo_open"]["p99_us"], 2)
print(json.dumps({"medians": summary}, indent=1))
PY
