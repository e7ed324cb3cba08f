#!/usr/bin/env bash
# Where routingd's CPU goes under the sidecar load: each of its threads' CPU
# time (user + system, from /proc) over the middle of one load run, and the
# load generator's, as a share of one CPU; then the run's throughput and
# latency. Placement as bench/sidecar_journal.sh's (workers on DAEMON_CPUS,
# I/O and the generator on LOAD_CPUS). Extra arguments go to routingd
# (e.g. --journal_dir=/tmp/j --fsync=none). Threads are named rd-worker-0,
# rd-frontend, rd-journal, ZMQbg/IO/0 and so on.
#
# Usage: bench/sidecar_thread_cpu.sh [routingd flags...]
#   env: MODE (closed; or open), IN_FLIGHT (64), RATE (20000, open),
#        DURATION_S (5), CONNECTIONS (4), WORKERS (1), DAEMON_CPUS (0),
#        LOAD_CPUS (1), PORT (17990), ROUTINGD (a routingd binary; default
#        this build's)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] && { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
duration=${DURATION_S:-5}
port=${PORT:-17990}
daemon_cpus=${DAEMON_CPUS:-0}
load_cpus=${LOAD_CPUS:-1}
bazel build --noshow_progress //sidecar:routingd //bench:sidecar_load 2>&1 |
  grep -E "^ERROR" && exit 1
bin=$(bazel info --noshow_progress bazel-bin 2>/dev/null)
routingd=${ROUTINGD:-$bin/sidecar/routingd}

taskset -c "$daemon_cpus,$load_cpus" "$routingd" \
  --listen="tcp://127.0.0.1:$port" --events="tcp://127.0.0.1:$((port + 1))" \
  --http= --workers="${WORKERS:-1}" --worker_cpus="$daemon_cpus" \
  --io_cpus="$load_cpus" "$@" 2>/dev/null &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' EXIT
sleep 0.5
result=$(mktemp)
taskset -c "$load_cpus" "$bin/bench/sidecar_load" \
  --server="tcp://127.0.0.1:$port" --target=routingd --mode="${MODE:-closed}" \
  --rate="${RATE:-20000}" --duration_s="$duration" \
  --connections="${CONNECTIONS:-4}" --in_flight="${IN_FLIGHT:-64}" \
  --label=threads >"$result" &
load=$!

# name ticks, per thread of $1 (utime + stime, in clock ticks).
ticks() {
  for task in /proc/"$1"/task/*; do
    echo "$(tr ' ' '_' <"$task/comm") $(awk '{print $14 + $15}' "$task/stat")"
  done 2>/dev/null
}
window=$(python3 -c "print(max(1.0, $duration - 2))")
sleep 1
before=$(ticks "$server"; echo "generator $(ticks "$load" | awk '{s += $2} END {print s}')")
sleep "$window"
after=$(ticks "$server"; echo "generator $(ticks "$load" | awk '{s += $2} END {print s}')")
wait "$load"
hz=$(getconf CLK_TCK)
python3 - "$hz" "$window" "$result" <<PY
import collections, json, sys
hz, window = float(sys.argv[1]), float(sys.argv[2])
def parse(text):
    totals = collections.Counter()
    for line in text.splitlines():
        name, ticks = line.rsplit(" ", 1)
        totals[name] += float(ticks or 0)
    return totals
before, after = parse("""$before"""), parse("""$after""")
used = {name: (end - before.get(name, 0)) / hz / window
        for name, end in after.items()}
print("thread            CPU (share of one)")
for name, share in sorted(used.items(), key=lambda item: -item[1]):
    if share >= 0.005:
        print(f"{name:<17} {share * 100:5.1f}%")
run = json.load(open(sys.argv[3]))
print(f"throughput {run['throughput_per_s']:.0f}/s, p50 {run['p50_us']:.0f} us, "
      f"p99 {run['p99_us']:.0f} us, busy {run['busy']}")
PY
rm -f "$result"
