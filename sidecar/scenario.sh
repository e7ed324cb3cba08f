#!/usr/bin/env bash
# A self-contained routingd scenario that ends by itself: starts the daemon on
# private ipc:// endpoints, drives it with routing_cli through a short day
# (roster, a chatbot handoff, a queued chat assigned when an agent frees up,
# stats), prints every decision and event, and stops the daemon with SIGTERM.
#   bazel run //sidecar:scenario
set -euo pipefail
if [ -n "${RUNFILES_DIR:-}" ]; then runfiles=$RUNFILES_DIR/contact_routing
elif [ -n "${TEST_SRCDIR:-}" ]; then runfiles=$TEST_SRCDIR/contact_routing
elif [ -d "$0.runfiles" ]; then runfiles=$0.runfiles/contact_routing
else runfiles=$(cd "$(dirname "$0")/.." && pwd)/bazel-bin; fi
routingd=$runfiles/sidecar/routingd
cli_bin=$runfiles/sidecar/routing_cli

work=$(mktemp -d /tmp/routingd-scenario.XXXXXX)
server=ipc://$work/requests.sock
events=ipc://$work/events.sock
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cli() { "$cli_bin" --server="$server" --events="$events" "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "start routingd"
"$routingd" --listen="$server" --events="$events" --http= &
daemon_pid=$!
for _ in $(seq 1 100); do cli --timeout_ms=100 health >/dev/null 2>&1 && break; sleep 0.05; done
cli health

step "roster: two billing agents, one of them also speaks Spanish"
cli --skills=billing:5 --languages=en:5 --capacity=chat:1,voice:1 --max_total=1 agent-add alice
cli --skills=billing:3,sales:4 --languages=en:4,es:5 --capacity=chat:1 agent-add bruno
cli agent-state alice available
cli agent-state bruno available

step "a supervisor watches the billing queue (events print as they come)"
# queue/billing is that queue's topic alone; t1, t2... count its events.
cli --count=5 --watch_timeout_ms=5000 watch queue/billing &
watch_pid=$!
sleep 0.3

step "a chatbot hands a conversation over, with what it learned"
cli --channel=chat --skills=billing:2 --languages=en --customer=cust-17 \
  --intent=billing.dispute --sentiment=negative \
  --summary="charged twice for invoice INV-88" --context=invoice=INV-88 route chat-1
step "a Spanish-speaking customer calls"
cli --channel=chat --skills=billing:1 --languages=es --customer=cust-23 route chat-2
step "a third chat: both agents are busy, so it waits"
cli --channel=chat --skills=billing:2 --languages=en --customer=cust-31 \
  --intent=refund --summary="wants a refund for order 12" route chat-3

step "alice resolves chat-1; chat-3 goes to her at once (see the events)"
cli --outcome=resolved release chat-1
wait "$watch_pid" || true

step "agents and statistics"
cli agents
cli --window_seconds=60 stats

step "stop routingd (SIGTERM)"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
echo "routingd exited with code $?"
daemon_pid=
