#!/usr/bin/env bash
# contact_center_simulator end to end: a day with a rules file and JSON out,
# a what-if of two rules files charted to PNG by gnuplot, and clear errors
# for a bad flag and a rules file that does not exist.
set -uo pipefail
simulator=$1
out=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

table=$("$simulator" --rules=rules/examples/skill_overflow.lua \
  --json="$out/day.json" 2>&1) || fail "a day with skill_overflow.lua: $table"
grep -q "all contacts" <<<"$table" || fail "no overall row: $table"
grep -q "rules: rules/examples/skill_overflow.lua" <<<"$table" \
  || fail "the rules file is not named"
/usr/bin/python3 - "$out/day.json" <<'PY' || fail "JSON"
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overall"]
assert o["offered"] == o["answered"] + o["abandoned"] + o["unfinished"], o
assert 0 <= o["service_level"] <= 1 and r["intervals"], r.keys()
assert r["router"]["decisions"] > 0
PY

whatif=$("$simulator" --compare_rules=rules/examples/language_first.lua \
  --charts_dir="$out/charts" 2>&1) || fail "what-if: $whatif"
grep -q "What-if on the same traffic" <<<"$whatif" || fail "no comparison"
grep -q "B: rules/examples/language_first.lua" <<<"$whatif" \
  || fail "the candidate is not named"
[ "$(head -c 4 "$out/charts/day.png" | od -An -c | tr -d ' ')" = "211PNG" ] \
  || fail "day.png is not a PNG"
[ "$(grep -c . "$out/charts/intervals.dat")" -gt 40 ] \
  || fail "intervals.dat lacks both runs"

bad=$("$simulator" --scenario=weekend 2>&1) && fail "an unknown scenario ran"
grep -q "is not one of: default, single" <<<"$bad" || fail "message: $bad"
missing=$("$simulator" --rules=no/such/rules.lua 2>&1) \
  && fail "a missing rules file ran"
grep -q "no/such/rules.lua" <<<"$missing" || fail "message: $missing"

[ "$failures" -eq 0 ] && echo "PASS" || exit 1
