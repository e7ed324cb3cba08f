#!/usr/bin/env bash
# Smoke run of bench/telephony/call_setup_compare.sh: 1 round of CALLS calls
# at RATE calls/s through plain Kamailio and through the routing config (the
# glue on the Python client, then on NativeClient), with routingd and the
# client package and its native library from the runfiles (no bazel inside), then
# call_setup_compare_smoke_check.py on its output and a look for processes
# it left behind. Needs kamailio, sip-tester and tcpdump (tools/setup.sh) and
# a capture on lo (root or CAP_NET_RAW): without one the script fails, and so
# does this test, saying why. Priority (chrt) and pinning (taskset) are used
# where allowed; the script says when it runs without them.
set -euo pipefail
runfiles=${TEST_SRCDIR:?run me with bazel test}/${TEST_WORKSPACE:?}
export ROUTINGD_BIN="$runfiles/sidecar/routingd"
export ROUTING_SIDECAR_DIR="$runfiles/bindings/python/routing_sidecar"
export PYTHONDONTWRITEBYTECODE=1
calls=30
rate=10

out="$TEST_TMPDIR/compare.out"
err="$TEST_TMPDIR/compare.err"
start=$(date +%s)
rc=0
# Every process of the run inherits the marker, for the check of leftovers.
marker="CALL_SETUP_SMOKE_RUN=$$-$RANDOM$RANDOM"
# 8 agents: more than rate x call length (about 0.15 s), so no call queues.
env "$marker" RAMP= GLUE_COST=0 VARIANTS="plain routing routing_native" CALLS=$calls RATE=$rate AGENTS=8 \
  CHILDREN=2 SHM_MB=64 timeout -s TERM 150 \
  "$runfiles/bench/telephony/call_setup_compare.sh" 1 >"$out" 2>"$err" || rc=$?
echo "call_setup_compare.sh: exit $rc after $(($(date +%s) - start)) s"
echo "--- stderr"; cat "$err"
echo "--- stdout"; cat "$out"
echo "---"
[ "$rc" -eq 0 ] || { echo "FAIL: call_setup_compare.sh exited $rc (stderr above)"; exit 1; }

/usr/bin/python3 "$runfiles/tests/bench/telephony/call_setup_compare_smoke_check.py" \
  --output "$out" --calls "$calls" --variants plain routing routing_native --tmpdir "$TEST_TMPDIR" --marker "$marker"
