#!/usr/bin/env bash
# bench/plot_scaling.py renders a PNG from a suite's JSON (medians only),
# and refuses a file without the charted benchmarks with exit code 2.
set -uo pipefail
script=$1 fixture=$2
out=${TEST_TMPDIR:-$(mktemp -d)}
/usr/bin/python3 "$script" "$fixture" "$out/scaling.png" \
  || { echo "FAIL: plotting the fixture"; exit 1; }
[ "$(head -c 4 "$out/scaling.png" | od -An -c | tr -d ' ')" = "211PNG" ] \
  || { echo "FAIL: not a PNG"; exit 1; }
echo '{"benchmarks": []}' > "$out/empty.json"
/usr/bin/python3 "$script" "$out/empty.json" "$out/none.png" 2>"$out/err"
code=$?
[ "$code" -eq 2 ] || { echo "FAIL: exit $code for an empty file"; exit 1; }
grep -q "no BM_RulesDecision" "$out/err" || { echo "FAIL: message"; exit 1; }
echo PASS
