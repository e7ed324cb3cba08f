#!/usr/bin/env bash
# routingd at a baseline revision against routingd of the working tree, in one
# run: the same load generator (this tree's sidecar_load), the same thread
# placement as bench/sidecar_compare.sh (split: workers on DAEMON_CPUS, I/O
# and the generator on LOAD_CPUS), alternating baseline / tree in each of
# RUNS rounds so drift and noise fall on both alike. Prints every run's JSON,
# then each side's medians (open loop at RATE: p50/p99; closed loop: peak).
#
# The baseline is built in a git worktree with its own Bazel output base
# ($BASELINE_OUTPUT_BASE, default ~/.cache/bazel-sidecar-baseline): the first
# run builds routingd there from scratch (minutes on 2 cores).
#
# Usage: bench/sidecar_revisions.sh BASE_REV [RUNS]
#   env: RATE (20000), DURATION_S (5), CONNECTIONS (4), IN_FLIGHT (64),
#        WORKERS (1), DAEMON_CPUS (0), LOAD_CPUS (1), PORT_BASE (17800),
#        ROUTINGD_FLAGS (extra flags for both daemons, e.g. --offer_timeout=),
#        SUBSCRIBER (1: a subscriber to every event, which receives and
#        discards them, runs on LOAD_CPUS during each run: the cost of events
#        someone listens to; default 0, nobody subscribes)
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=${1:?usage: bench/sidecar_revisions.sh BASE_REV [RUNS]}
runs=${2:-3}
rate=${RATE:-20000}
duration=${DURATION_S:-5}
connections=${CONNECTIONS:-4}
in_flight=${IN_FLIGHT:-64}
workers=${WORKERS:-1}
daemon_cpus=${DAEMON_CPUS:-0}
load_cpus=${LOAD_CPUS:-1}
port=${PORT_BASE:-17800}
subscriber=${SUBSCRIBER:-0}
read -r -a extra <<<"${ROUTINGD_FLAGS:-}"
baseline_output_base=${BASELINE_OUTPUT_BASE:-${HOME}/.cache/bazel-sidecar-baseline}
worktree="$baseline_output_base-src"

git rev-parse --verify -q "$base_rev^{commit}" >/dev/null ||
  { echo "unknown revision: $base_rev" >&2; exit 1; }
if [ ! -d "$worktree" ]; then
  git worktree add --detach "$worktree" "$base_rev" >/dev/null
else
  git -C "$worktree" checkout -q --detach "$base_rev"
fi
(cd "$worktree" && bazel --output_base="$baseline_output_base" build \
   --noshow_progress //sidecar:routingd 2>&1 | grep -E "^ERROR" && exit 1) || true
base_bin=$(cd "$worktree" && bazel --output_base="$baseline_output_base" \
  info --noshow_progress bazel-bin 2>/dev/null)/sidecar/routingd
# An idle Bazel server still wakes up now and then: not during the runs.
(cd "$worktree" && bazel --output_base="$baseline_output_base" shutdown)
bazel build --noshow_progress //sidecar:routingd //bench:sidecar_load 2>&1 |
  grep -E "^ERROR" && exit 1
bin=$(bazel info --noshow_progress bazel-bin 2>/dev/null)
bazel shutdown
results=$(mktemp)
server_pid=

run_one() {  # run_one LABEL ROUTINGD MODE
  local label=$1 daemon=$2 mode=$3
  taskset -c "$daemon_cpus,$load_cpus" "$daemon" \
    --listen="tcp://127.0.0.1:$port" --events="tcp://127.0.0.1:$((port + 1))" \
    --http= --workers="$workers" --worker_cpus="$daemon_cpus" \
    --io_cpus="$load_cpus" "${extra[@]}" 2>/dev/null &
  server_pid=$!
  sleep 0.3
  local watch_pid=
  if [ "$subscriber" = 1 ]; then
    taskset -c "$load_cpus" /usr/bin/python3 -c '
import sys, zmq
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.RCVHWM, 100000)
sub.connect(sys.argv[1])
sub.subscribe(b"")
while True:
    sub.recv_multipart(copy=False)
' "tcp://127.0.0.1:$((port + 1))" >/dev/null 2>&1 &
    watch_pid=$!
    sleep 0.3
  fi
  taskset -c "$load_cpus" "$bin/bench/sidecar_load" \
    --server="tcp://127.0.0.1:$port" --target=routingd --mode="$mode" \
    --rate="$rate" --duration_s="$duration" --connections="$connections" \
    --in_flight="$in_flight" --label="$label" | tee -a "$results"
  [ -n "$watch_pid" ] && { kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; } || true
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  port=$((port + 2))
}

trap 'kill -TERM "$server_pid" 2>/dev/null || true; rm -f "$results"' EXIT
for run in $(seq 1 "$runs"); do
  for mode in open closed; do
    run_one baseline "$base_bin" "$mode"
    run_one tree "$bin/sidecar/routingd" "$mode"
  done
done

/usr/bin/python3 - "$results" "$base_rev" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
summary = {}
for label in ("baseline", "tree"):
    for mode in ("open", "closed"):
        sel = [r for r in rows if r["label"] == label and r["mode"] == mode]
        if sel:
            summary[f"{label}_{mode}"] = {
                k: statistics.median(r[k] for r in sel)
                for k in ("throughput_per_s", "p50_us", "p99_us", "p999_us")}
for mode, key in (("open", "p99_us"), ("closed", "throughput_per_s")):
    b, t = summary.get(f"baseline_{mode}"), summary.get(f"tree_{mode}")
    if b and t and b[key]:
        summary[f"{mode}_{key}_tree_over_baseline"] = round(t[key] / b[key], 2)
print(json.dumps({"baseline": sys.argv[2], "medians": summary}, indent=1))
PY
