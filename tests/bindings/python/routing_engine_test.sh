#!/usr/bin/env bash
# Runs the Python binding's tests with Debian's /usr/bin/python3 against the
# librouting.so.1 Bazel built.
set -euo pipefail
root="${TEST_SRCDIR}/contact_routing"
export ROUTING_LIBRARY="$root/bindings/c/librouting.so.1"
export PYTHONPATH="$root/bindings/python"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$root/tests/bindings/python/routing_engine_test.py"
