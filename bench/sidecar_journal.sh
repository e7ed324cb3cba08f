#!/usr/bin/env bash
# The journal's cost in the sidecar load test, side by side in one run:
# routingd without a journal, then with --journal_dir and each variant in
# FSYNC_MODES (default "batch none"): an --fsync mode, with ":MS" for an
# --fsync_batch_ms ("batch:0.5") and "@CPUS" for --journal_cpus
# ("batch@0", "batch:0.5@0-1"), "-grow" after the mode for
# --journal_zero_fill=false ("batch-grow") and "-plain" for
# --journal_group_frames=false ("batch-plain"). "always" syncs on the thread executing
# calls and cannot keep up with 20,000/s here (its replies turn BUSY).
# The variants alternate in each of RUNS
# rounds so drift and noise fall on all alike. Each variant runs the open
# loop at RATE requests/s (p50/p99) and the closed loop at each of
# IN_FLIGHT's levels (requests outstanding per connection); its peak is
# each round's best level, median over rounds. The load is
# bench/sidecar_load's: every request a RequeueContact, so every one is
# journaled. Placement as bench/sidecar_compare.sh's split (workers on
# DAEMON_CPUS, I/O and the generator on LOAD_CPUS). The journal goes to
# JOURNAL_BASE (default: a temporary directory on the disk holding /tmp),
# a fresh directory per run.
#
# BASELINE_ROUTINGD names a routingd built from another commit: each
# variant then also runs with it, labelled "VARIANT~baseline", in the same
# rounds (a "@CPUS" variant needs a baseline that knows --journal_cpus).
#
# Each journaled daemon's /metrics gives its own fdatasyncs under the load
# (mean, share over 1 ms, records per sync) and the disk a record took. Then the disk's own fsync
# latency alone, for context: FSYNC_SAMPLES writes of 4 KiB to a file in
# JOURNAL_BASE, each followed by fdatasync, appended (the file grows) and
# then written over a zero-filled file (as --journal_zero_fill's segments).
#
# Prints every run's JSON, then the medians (label "off": no journal; else
# the variant), and each journaled variant's open-loop p99 and
# closed-loop peak as a multiple of no journal's.
#
# Usage: bench/sidecar_journal.sh [RUNS]
#   env: RATE (20000), DURATION_S (5), CONNECTIONS (4), IN_FLIGHT ("64 192"),
#        WORKERS (1), DAEMON_CPUS (0), LOAD_CPUS (1), PORT_BASE (17900),
#        FSYNC_MODES ("batch none"), JOURNAL_BASE, FSYNC_SAMPLES (2000),
#        ROUTINGD_FLAGS (extra flags for every daemon), BASELINE_ROUTINGD,
#        ROUTINGD_PRELOAD (a shared library preloaded into every daemon,
#        e.g. another malloc: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2),
#        KEEP_BAZEL (1: do not stop the Bazel server first)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] && { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0; }
runs=${1:-3}
rate=${RATE:-20000}
duration=${DURATION_S:-5}
connections=${CONNECTIONS:-4}
read -r -a in_flights <<<"${IN_FLIGHT:-64 192}"
workers=${WORKERS:-1}
daemon_cpus=${DAEMON_CPUS:-0}
load_cpus=${LOAD_CPUS:-1}
port=${PORT_BASE:-17900}
read -r -a modes <<<"${FSYNC_MODES:-batch none}"
baseline=${BASELINE_ROUTINGD:-}
labels=("${modes[@]}")
if [ -n "$baseline" ]; then
  [ -x "$baseline" ] || { echo "BASELINE_ROUTINGD=$baseline: not an executable" >&2; exit 1; }
  for fsync in "${modes[@]}"; do labels+=("$fsync~baseline"); done
fi
read -r -a extra <<<"${ROUTINGD_FLAGS:-}"
preload=${ROUTINGD_PRELOAD:-}
if [ -n "$preload" ] && [ ! -r "$preload" ]; then
  echo "ROUTINGD_PRELOAD=$preload: no such library" >&2
  exit 1
fi
journal_base=${JOURNAL_BASE:-$(mktemp -d /tmp/routing-journal-bench.XXXXXX)}
fsync_samples=${FSYNC_SAMPLES:-2000}
mkdir -p "$journal_base"

bazel build --noshow_progress //sidecar:routingd //bench:sidecar_load 2>&1 |
  grep -E "^ERROR" && exit 1
bin=$(bazel info --noshow_progress bazel-bin 2>/dev/null)
# An idle Bazel server still wakes up now and then: not during the runs
# (KEEP_BAZEL=1 leaves it running, for a machine where others build).
[ "${KEEP_BAZEL:-0}" = 1 ] || bazel shutdown
results=$(mktemp)
syncs=$(mktemp)
server_pid=
routingd=  # The binary run_one starts: this build's, or BASELINE_ROUTINGD.

run_one() {  # run_one LABEL MODE IN_FLIGHT [routingd flags...]
  local label=$1 mode=$2 in_flight=$3
  shift 3
  # A journaled daemon serves /metrics, read once after the load: the
  # journal's syncs under it (the HTTP thread is idle until then).
  local http=
  [ "$label" != off ] && http=127.0.0.1:$((port + 5000))
  taskset -c "$daemon_cpus,$load_cpus" \
    env ${preload:+LD_PRELOAD="$preload"} "$routingd" \
    --listen="tcp://127.0.0.1:$port" --events="tcp://127.0.0.1:$((port + 1))" \
    --http="$http" --workers="$workers" --worker_cpus="$daemon_cpus" \
    --io_cpus="$load_cpus" "${extra[@]}" "$@" 2>/dev/null &
  server_pid=$!
  sleep 0.5
  taskset -c "$load_cpus" "$bin/bench/sidecar_load" \
    --server="tcp://127.0.0.1:$port" --target=routingd --mode="$mode" \
    --rate="$rate" --duration_s="$duration" --connections="$connections" \
    --in_flight="$in_flight" --label="$label" |
    sed "s/^{/{\"round\": $run, /" | tee -a "$results"
  if [ -n "$http" ]; then
    /usr/bin/python3 - "$http" "$run" "$label" "$mode" "$in_flight" \
      >>"$syncs" <<'PY' || true
import json, sys, urllib.request
http, run, label, mode, in_flight = sys.argv[1:]
text = urllib.request.urlopen(f"http://{http}/metrics", timeout=5).read()
values = {}
for line in text.decode().splitlines():
    if line.startswith("routing_journal_") and " " in line:
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
family = "routing_journal_sync_duration_seconds"
count = values.get(f"{family}_count", 0)
if count:
    print(json.dumps({
        "round": int(run), "label": label, "mode": mode,
        "in_flight": int(in_flight) if mode == "closed" else 0,
        "syncs": count,
        "sync_mean_us": round(values[f"{family}_sum"] / count * 1e6, 1),
        "sync_over_1ms_share": round(
            1 - values[f'{family}_bucket{{le="0.001"}}'] / count, 4),
        "records_per_sync": round(
            values["routing_journal_records_written_total"] / count, 1),
        "bytes_per_record": round(
            values.get("routing_journal_bytes_written_total", 0) /
            max(values["routing_journal_records_written_total"], 1))}))
PY
  fi
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  port=$((port + 2))
}

cleanup() {
  kill -TERM "$server_pid" 2>/dev/null || true
  rm -f "$results" "$syncs"
  [ -z "${JOURNAL_BASE:-}" ] && rm -rf "$journal_base"
  return 0
}
trap cleanup EXIT
for run in $(seq 1 "$runs"); do
  for load in open "${in_flights[@]}"; do
    mode=closed
    in_flight=$load
    [ "$load" = open ] && { mode=open; in_flight=${in_flights[0]}; }
    routingd=$bin/sidecar/routingd
    run_one off "$mode" "$in_flight"
    for label in "${labels[@]}"; do
      dir="$journal_base/run-$run-$load-$label"
      fsync=${label%"~baseline"}
      routingd=$bin/sidecar/routingd
      [ "$fsync" != "$label" ] && routingd=$baseline
      variant=$fsync
      journal_flags=()
      if [[ $variant == *-grow* ]]; then
        journal_flags+=(--journal_zero_fill=false)
        variant=${variant/-grow/}
      fi
      if [[ $variant == *-plain* ]]; then
        journal_flags+=(--journal_group_frames=false)
        variant=${variant/-plain/}
      fi
      if [[ $variant == *@* ]]; then
        journal_flags+=(--journal_cpus="${variant#*@}")
        variant=${variant%%@*}
      fi
      [[ $variant == *:* ]] && journal_flags+=(--fsync_batch_ms="${variant#*:}")
      run_one "$label" "$mode" "$in_flight" --journal_dir="$dir" \
        --fsync="${variant%%:*}" "${journal_flags[@]}"
      rm -rf "$dir"
      # The deletion's blocks are freed (and, on a file system mounted with
      # online discard, discarded) at the file system's next commit: here,
      # not in the middle of the next variant's run.
      sync -f "$journal_base"
    done
  done
done

/usr/bin/python3 - "$results" "$syncs" "$journal_base" "$fsync_samples" \
  "${labels[@]}" <<'PY'
import json, os, statistics, sys, time
rows = [json.loads(line) for line in open(sys.argv[1])]
syncs = [json.loads(line) for line in open(sys.argv[2])]
base, samples, modes = sys.argv[3], int(sys.argv[4]), sys.argv[5:]
summary = {}
keys = ("throughput_per_s", "p50_us", "p99_us", "p999_us")
levels = sorted({r["in_flight"] for r in rows if r["mode"] == "closed"})
for label in ["off"] + modes:
    sel = [r for r in rows if r["label"] == label and r["mode"] == "open"]
    if sel:
        summary[f"{label}_open"] = {
            k: statistics.median(r[k] for r in sel) for k in keys}
    for level in levels:
        sel = [r for r in rows if r["label"] == label and
               r["mode"] == "closed" and r["in_flight"] == level]
        if sel:
            summary[f"{label}_closed_{level}"] = {
                k: statistics.median(r[k] for r in sel) for k in keys}
    # Peak: each round's best closed loop over the in-flight levels (a
    # level too low for a variant's latency measures the latency, not
    # what the daemon sustains), then the median over rounds.
    best = {}
    for r in rows:
        if r["label"] == label and r["mode"] == "closed":
            best[r["round"]] = max(best.get(r["round"], 0),
                                   r["throughput_per_s"])
    if best:
        summary[f"{label}_peak_per_s"] = statistics.median(best.values())
for label in modes:
    b, t = summary.get("off_open"), summary.get(f"{label}_open")
    if b and t and b["p99_us"]:
        summary[f"{label}_open_p99_over_off"] = round(
            t["p99_us"] / b["p99_us"], 2)
    b, t = summary.get("off_peak_per_s"), summary.get(f"{label}_peak_per_s")
    if b and t:
        summary[f"{label}_peak_over_off"] = round(t / b, 2)
    for level in levels:
        b = summary.get(f"off_closed_{level}")
        t = summary.get(f"{label}_closed_{level}")
        if b and t:
            summary[f"{label}_closed_{level}_over_off"] = round(
                t["throughput_per_s"] / b["throughput_per_s"], 2)
# The journal's own syncs, from each daemon's /metrics, in the open loop.
for label in modes:
    sel = [r for r in syncs if r["label"] == label and r["mode"] == "open"]
    if sel:
        summary[f"{label}_open_journal_syncs"] = {
            k: statistics.median(r[k] for r in sel)
            for k in ("sync_mean_us", "sync_over_1ms_share",
                      "records_per_sync", "bytes_per_record")
            if all(k in r for r in sel)}
# The disk's own fsync latency: 4 KiB appended (the file grows: the sync
# commits its size too), then fdatasync; and 4 KiB written over a file
# zero-filled and synced first (as --journal_zero_fill's segments).
def probe(zero_filled):
    path = os.path.join(base, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"\x01" * 4096
    if zero_filled:
        for _ in range(samples):
            os.write(fd, b"\0" * 4096)
        os.fdatasync(fd)
        os.lseek(fd, 0, os.SEEK_SET)
    lat = []
    for _ in range(samples):
        os.write(fd, block)
        t = time.perf_counter_ns()
        os.fdatasync(fd)
        lat.append((time.perf_counter_ns() - t) / 1000)
    os.close(fd)
    os.unlink(path)
    lat.sort()
    return {"p50": round(lat[len(lat) // 2], 1),
            "p99": round(lat[int(len(lat) * 0.99)], 1),
            "samples": samples}
summary["disk_fdatasync_us"] = probe(False)
summary["disk_fdatasync_over_zeros_us"] = probe(True)
print(json.dumps({"medians": summary}, indent=1))
PY
