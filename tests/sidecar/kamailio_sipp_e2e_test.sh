#!/usr/bin/env bash
# Runs kamailio_sipp_e2e_test.py with Debian's Python, the routing_sidecar
# package on PYTHONPATH (for the test and for Kamailio's app_python3 glue),
# routingd, and the integration's files (integrations/kamailio). Kamailio and
# SIPp are Debian's (tools/setup.sh).
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
export PYTHONPATH="$runfiles/bindings/python"
export ROUTINGD="$runfiles/sidecar/routingd"
export KAMAILIO_DIR="$runfiles/integrations/kamailio"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$runfiles/tests/sidecar/kamailio_sipp_e2e_test.py"
