#!/usr/bin/env bash
# Side-by-side benchmark of a baseline revision against the working tree, in
# one run: both suites are built (the baseline in a git worktree with its own
# Bazel output base), then run in alternating rounds on the same machine so
# drift and noise fall on both alike; each side's figure is the median of its
# rounds.
#
# Usage: bench/compare_revisions.sh BASE_REV [ROUNDS] [FILTER]
#   BASE_REV  the baseline (a commit, tag or branch)
#   ROUNDS    alternating rounds (default 3)
#   FILTER    --benchmark_filter regex (default: decisions by pool size and
#             the queue operations)
# Prints the compare_benchmarks.py table (medians, after/before ratios) and,
# for the decision benchmarks, the latency percentiles (p50/p99/p999) each
# side reported, as medians of the rounds. JSON files stay in $OUT (default a
# fresh temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

base_rev=${1:?usage: bench/compare_revisions.sh BASE_REV [ROUNDS] [FILTER]}
rounds=${2:-3}
filter=${3:-'BM_Decision/|BM_QueueInsert|BM_PickBestContact'}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
baseline_output_base=${BASELINE_OUTPUT_BASE:-${HOME}/.cache/bazel-compare-baseline}
# One worktree path per baseline output base: Bazel links its execroot (and
# so the runfiles' data files) to the workspace path it first served.
worktree="$baseline_output_base-src"

git rev-parse --verify -q "$base_rev^{commit}" >/dev/null ||
  { echo "compare_revisions: unknown revision '$base_rev'" >&2; exit 2; }
git worktree remove -f "$worktree" >/dev/null 2>&1 || rm -rf "$worktree"
git worktree prune
git worktree add -f -q --detach "$worktree" "$base_rev"
trap 'git worktree remove -f "$worktree" >/dev/null 2>&1 || true' EXIT

build() {  # build DIR OUTPUT_BASE -> path of the suite binary
  (cd "$1" &&
   bazel --output_base="$2" build --config=bench --noshow_progress \
     //bench:routing_benchmarks >&2 &&
   echo "$(bazel --output_base="$2" info --config=bench bazel-bin)/bench/routing_benchmarks")
}
before=$(build "$worktree" "$baseline_output_base")
after=$(build "$PWD" "$(bazel info output_base)")

# Both sides run from the working tree's runfiles, so they read the same
# data files (the example rules): the comparison is of the engine, not of
# the rules files, and a baseline's runfiles tree may be stale.
run() {  # run BINARY JSON
  (cd "$after.runfiles/contact_routing" &&
   "$1" --benchmark_filter="$filter" --benchmark_out="$2" \
     --benchmark_out_format=json >/dev/null)
}
for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds" >&2
  run "$before" "$out/before-$r.json"
  run "$after" "$out/after-$r.json"
done

python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for side in ("before", "after"):
    merged = None
    for r in range(1, rounds + 1):
        with open(f"{out}/{side}-{r}.json") as f:
            data = json.load(f)
        if merged is None:
            merged = data
        else:
            merged["benchmarks"].extend(data["benchmarks"])
    with open(f"{out}/{side}.json", "w") as f:
        json.dump(merged, f)
print("latency percentiles (median of rounds), before -> after:")
def percentiles(side):
    found = {}
    with open(f"{out}/{side}.json") as f:
        for b in json.load(f)["benchmarks"]:
            if "p50_us" in b:
                found.setdefault(b["name"], []).append(
                    (b["p50_us"], b["p99_us"], b.get("p999_us", 0)))
    return {n: tuple(statistics.median(v[i] for v in vs) for i in range(3))
            for n, vs in found.items()}
b, a = percentiles("before"), percentiles("after")
for name in sorted(set(b) & set(a)):
    print(f"  {name}: p50 {b[name][0]:.2f} -> {a[name][0]:.2f} us, "
          f"p99 {b[name][1]:.2f} -> {a[name][1]:.2f} us, "
          f"p999 {b[name][2]:.2f} -> {a[name][2]:.2f} us")
EOF
echo
bench/compare_benchmarks.py "$out/before.json" "$out/after.json"
echo "JSON: $out" >&2
