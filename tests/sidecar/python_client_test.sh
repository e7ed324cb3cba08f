#!/usr/bin/env bash
# Runs python_client_test.py with Debian's Python, the routing_sidecar
# package (with its Bazel-generated wire code) on PYTHONPATH, and routingd.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
export PYTHONPATH="$runfiles/bindings/python"
export ROUTINGD="$runfiles/sidecar/routingd"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$runfiles/tests/sidecar/python_client_test.py"
