#!/usr/bin/env bash
# Runs chatbot_handoff_example.py from Bazel's runfiles with Debian's Python.
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}/contact_routing
export PYTHONPATH="$runfiles/bindings/python"
exec /usr/bin/python3 "$runfiles/bindings/python/routing_sidecar/chatbot_handoff_example.py" \
  --routingd="$runfiles/sidecar/routingd" "$@"
