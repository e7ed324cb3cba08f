#!/usr/bin/env bash
# Runs native_client_test.py with Debian's Python, the routing_sidecar
# package (its Bazel-generated wire code and librouting_sidecar_native.so
# beside its modules) on PYTHONPATH, and routingd.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
export PYTHONPATH="$runfiles/bindings/python"
export ROUTINGD="$runfiles/sidecar/routingd"
export PYTHONDONTWRITEBYTECODE=1
unset ROUTING_SIDECAR_NATIVE_LIB
exec /usr/bin/python3 "$runfiles/tests/bindings/python/native_client_test.py"
