#!/usr/bin/env bash
# Runs routingd_prometheus_e2e_test.py with Debian's Python, the
# routing_sidecar package on PYTHONPATH, routingd, promtool and prometheus.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
export PYTHONPATH="$runfiles/bindings/python:$runfiles/tests/sidecar"
export ROUTINGD="$runfiles/sidecar/routingd"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$runfiles/tests/sidecar/routingd_prometheus_e2e_test.py"
