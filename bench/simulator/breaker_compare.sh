#!/usr/bin/env bash
# A simulated hour under a runaway rule, against the built-in policy, in one
# run: each configuration ROUNDS times, the median wall time of the whole
# simulation and of the router's own time quoted. Configurations:
#   builtin       the built-in policy alone (the baseline)
#   breaker       bench/simulator/rules/runaway_score.lua, 2 ms budget,
#                 breaker on (20 failures in 10 s): the defaults
#   no-breaker    the same rule and budget, breaker off
# Usage: bench/simulator/breaker_compare.sh [ROUNDS] [CONTACTS_PER_HOUR]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
rate=${2:-2000}
bazel build -c opt //bench/simulator:contact_center_simulator >/dev/null 2>&1
sim=bazel-bin/bench/simulator/contact_center_simulator
rules=bench/simulator/rules/runaway_score.lua
common=(--scenario=single --days=0.0417 --rate="$rate" --agents=60)

run() {  # LABEL FLAGS...: prints "wall_s router_decisions_per_s fallbacks"
  local label=$1
  shift
  local out start end
  start=$(date +%s.%N)
  out=$("$sim" "${common[@]}" "$@")
  end=$(date +%s.%N)
  local line
  line=$(echo "$out" | grep -m1 '^Router:')
  echo "$(python3 -c "print(round($end - $start, 3))") $(echo "$line" | sed -E 's/.* ([0-9]+) decisions\/s.*/\1/') $(echo "$line" | sed -E 's/.*, ([0-9]+) rules fallbacks.*/\1/')"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%-12s %10s %18s %10s\n" config "wall s" "router decisions/s" fallbacks
for config in builtin breaker no-breaker; do
  case $config in
    builtin) flags=() ;;
    breaker) flags=(--rules="$rules") ;;
    no-breaker) flags=(--rules="$rules" --rules_breaker_failures=0) ;;
  esac
  results=()
  for _ in $(seq "$rounds"); do results+=("$(run "$config" "${flags[@]}")"); done
  wall=$(printf "%s\n" "${results[@]}" | cut -d' ' -f1 | median)
  rate_m=$(printf "%s\n" "${results[@]}" | cut -d' ' -f2 | median)
  fb=$(printf "%s\n" "${results[@]}" | cut -d' ' -f3 | median)
  printf "%-12s %10.3f %18s %10s\n" "$config" "$wall" "$rate_m" "$fb"
done
