#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. every test (unit, stress, end-to-end) in an optimized build;
#   2. the concurrency tests (tag "concurrency") again under ThreadSanitizer;
#   3. every test again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Ends with one line "N passed, N failed" counting test cases over all three.
# Usage: tools/test.sh [--quick]   (--quick: step 1 only)
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || exit 1

quick=0
[ "${1:-}" = "--quick" ] && quick=1
[ "${1:-}" = "--help" ] && { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }

total_passed=0
total_failed=0
overall=0

# run LABEL QUERY [bazel flags...]: tests the targets QUERY selects.
run() {
  local label=$1 query=$2
  shift 2
  local targets
  targets=$(bazel query --noshow_progress "$query" 2>/dev/null | sort)
  if [ -z "$targets" ]; then
    echo "== $label: no test targets" >&2
    return
  fi
  echo "== $label"
  # shellcheck disable=SC2086
  bazel test --noshow_progress "$@" $targets
  local rc=$?
  [ $rc -ne 0 ] && overall=1
  local logs result
  logs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  # shellcheck disable=SC2086
  result=$(python3 tools/test_summary.py "$logs" $targets)
  echo "$result" | sed '$d'
  read -r p f <<<"$(echo "$result" | tail -n 1)"
  echo "== $label: $p passed, $f failed"
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
}

# Manual tests (long fuzz runs) are run by hand: bazel query keeps them in
# tests(//...), bazel test //... would not.
all="tests(//...) except attr(tags, manual, tests(//...))"
run "tests" "$all"
if [ $quick -eq 0 ]; then
  run "tests under ThreadSanitizer" "attr(tags, concurrency, $all)" --config=tsan
  run "tests under AddressSanitizer+UBSan" "$all except attr(tags, no_sanitizer, $all)" --config=asan --config=ubsan
fi

[ $total_failed -ne 0 ] && overall=1
echo "$total_passed passed, $total_failed failed"
exit $overall
