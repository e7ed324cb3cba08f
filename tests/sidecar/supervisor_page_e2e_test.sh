#!/usr/bin/env bash
# Runs supervisor_page_e2e_test.py with Debian's Python (python3-websocket),
# the routing_sidecar package on PYTHONPATH, routingd and Debian's chromium.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
export PYTHONPATH="$runfiles/bindings/python:$runfiles/tests/sidecar"
export ROUTINGD="$runfiles/sidecar/routingd"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$runfiles/tests/sidecar/supervisor_page_e2e_test.py"
