#!/usr/bin/env bash
# Compares, on the same pools, the cost of a decision scored by:
#   built-in C++ policy | the same policy as LuaJIT rules | the same rule
#   called once per agent through the Lua 5.4 C API
# Runs rules_benchmark and lua_c_api_benchmark back to back with N
# repetitions each and prints the medians (CPU time per route+release, and
# Route() p50/p99) with ratios to the built-in policy.
# Usage: bench/compare_rules.sh [REPETITIONS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--help" ] && { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
reps=${1:-5}
bazel build --noshow_progress --config=bench //bench:rules_benchmark //bench:lua_c_api_benchmark >/dev/null
bin=$(bazel info --config=bench bazel-bin 2>/dev/null)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for b in rules_benchmark lua_c_api_benchmark; do
  "$bin/bench/$b" --benchmark_filter=BM_RulesDecision \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_format=json >"$out/$b.json"
done
REPS=$reps python3 - "$out/rules_benchmark.json" "$out/lua_c_api_benchmark.json" <<'PY'
import json, os, sys
rows = {}
for path in sys.argv[1:]:
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]  # BM_RulesDecision/agents:N/policy:P
        agents = int(name.split("agents:")[1].split("/")[0])
        policy = int(name.split("policy:")[1])
        rows.setdefault(agents, {})[policy] = b
labels = {0: "built-in C++", 1: "LuaJIT rules", 2: "Lua 5.4 C API"}
print("medians of %s repetitions; CPU us per route+release (ratio to built-in); Route() p50 / p99 us" % os.environ["REPS"])
print("%8s | %-30s | %-30s | %-30s" % ("agents", labels[0], labels[1], labels[2]))
for agents in sorted(rows):
    r = rows[agents]
    base = r[0]["cpu_time"]
    cells = []
    for p in (0, 1, 2):
        b = r.get(p)
        if b is None:
            cells.append("-")
            continue
        cells.append("%7.2f (%4.2fx) %6.2f / %7.2f" % (
            b["cpu_time"], b["cpu_time"] / base, b["p50_us"], b["p99_us"]))
    print("%8d | %-30s | %-30s | %-30s" % (agents, *cells))
PY
