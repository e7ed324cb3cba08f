#!/usr/bin/env bash
# The README's sidecar scenario runs to the end: decisions printed, the queued
# chat assigned with its handoff context, routingd stopped with exit code 0.
set -euo pipefail
out=$("$TEST_SRCDIR/$TEST_WORKSPACE/sidecar/scenario" 2>&1)
echo "$out"
for expected in "ASSIGNED chat-1 -> alice" "ASSIGNED chat-2 -> bruno" \
    "QUEUED chat-3 in billing, position 1" \
    "t3 QUEUED chat-3 queue billing position 1" \
    "t4 ASSIGNED chat-3 -> alice" "t5 RELEASED chat-1 queue billing agent alice" \
    'summary="wants a refund for order 12"' "routingd exited with code 0"; do
  grep -qF -- "$expected" <<<"$out" || { echo "missing: $expected" >&2; exit 1; }
done
