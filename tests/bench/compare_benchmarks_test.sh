#!/usr/bin/env bash
# bench/compare_benchmarks.py on two fixtures (one with repetitions and
# aggregates, one with plain runs): ratios from the medians, the regression
# marker, benchmarks in one file only, and exit codes 0, 1 and 2.
set -uo pipefail
script=$1
before=$2
after=$3
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_line() {  # expect_line OUTPUT REGEX: some line of OUTPUT matches REGEX
  grep -qE -- "$2" <<<"$1" || fail "no line matching '$2' in:"$'\n'"$1"
}

"$script" --help | grep -q "fail-on-regression" || fail "--help"

out=$("$script" "$before" "$after"); rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "default run should exit 0, got $rc"
# BM_Route/8: median 101 ns before (the mean, 110.3, would give 1.007), 111.1
# after: real 1.100, flagged; cpu 100 -> 100.
expect_line "$out" '^BM_Route/8 +101 ns +111\.1 ns +1\.100 +100 ns +100 ns +1\.000  << REGRESSION \(real\)$'
# BM_Queue/64: 2 us before, 1900 / 2080 ns after (other unit): not flagged.
expect_line "$out" '^BM_Queue/64 +2 us +1\.9 us +0\.950 +2 us +2\.08 us +1\.040$'
expect_line "$out" '^only in before '
expect_line "$out" '^  BM_OnlyBefore$'
expect_line "$out" '^only in after '
expect_line "$out" '^  BM_OnlyAfter$'
expect_line "$out" '^errored in after:$'
expect_line "$out" '^  BM_Broken$'
expect_line "$out" '^1 regression\(s\) beyond 5%: BM_Route/8$'

"$script" "$before" "$after" --fail-on-regression >/dev/null; rc=$?
[ $rc -eq 1 ] || fail "--fail-on-regression with a regression should exit 1, got $rc"

out=$("$script" "$before" "$after" --threshold 15 --fail-on-regression); rc=$?
[ $rc -eq 0 ] || fail "--threshold 15 should find no regression, got exit $rc"
expect_line "$out" '^no regression beyond 15%$'
grep -q REGRESSION <<<"$out" && fail "marker below the threshold: $out"

out=$("$script" "$before" "$after" --threshold 3)
expect_line "$out" '^BM_Queue/64 .* 1\.040  << REGRESSION \(cpu\)$'
expect_line "$out" '^2 regression\(s\) beyond 3%: BM_Route/8, BM_Queue/64$'

# Repeated without aggregates: the median of the iteration runs (90, 101, 500).
cat >"$tmp/repeated.json" <<'JSON'
{"benchmarks": [
 {"name": "BM_Route/8", "run_type": "iteration", "real_time": 90, "cpu_time": 90, "time_unit": "ns"},
 {"name": "BM_Route/8", "run_type": "iteration", "real_time": 500, "cpu_time": 500, "time_unit": "ns"},
 {"name": "BM_Route/8", "run_type": "iteration", "real_time": 101, "cpu_time": 100, "time_unit": "ns"}]}
JSON
out=$("$script" "$before" "$tmp/repeated.json")
expect_line "$out" '^BM_Route/8 +101 ns +101 ns +1\.000 +100 ns +100 ns +1\.000$'

# Bad input: exit 2 with a one-line reason naming the file.
expect_exit_2() {  # expect_exit_2 MESSAGE_REGEX ARGS...
  local want=$1; shift
  local err; err=$("$script" "$@" 2>&1 >/dev/null); local rc=$?
  [ $rc -eq 2 ] || fail "$* should exit 2, got $rc"
  grep -qE -- "$want" <<<"$err" || fail "$*: message '$err' lacks '$want'"
}
echo '{"benchmarks": [' >"$tmp/truncated.json"
echo '{"results": []}' >"$tmp/other.json"
echo '{"benchmarks": [{"name": "BM_X", "cpu_time": 1}]}' >"$tmp/no_real_time.json"
expect_exit_2 "$tmp/missing.json: cannot read" "$before" "$tmp/missing.json"
expect_exit_2 "$tmp/truncated.json: not JSON" "$tmp/truncated.json" "$after"
expect_exit_2 "$tmp/other.json: not a Google Benchmark file" "$before" "$tmp/other.json"
expect_exit_2 "BM_X: real_time is not a number" "$tmp/no_real_time.json" "$after"
expect_exit_2 "threshold must be >= 0" "$before" "$after" --threshold -1
expect_exit_2 "usage" "$before"
echo PASS
