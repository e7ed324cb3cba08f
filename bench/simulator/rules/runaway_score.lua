-- A rule gone wrong, for measuring the circuit breaker (docs/RULES.md,
-- "The circuit breaker"): provably bounded and fast on every sample contact,
-- so it loads, but on real contacts needing the "service" or "sales" skill its score loops for
-- days. Each such evaluation runs until the budget stops it; after
-- breaker_failures of them the version is suspended and the built-in policy
-- decides alone.
--   bazel run -c opt //bench/simulator:contact_center_simulator -- --days=0.0417 \
--     --rules=bench/simulator/rules/runaway_score.lua --compare_rules=builtin
return {
  name = "runaway score",
  score = function(c, a)
    if requires(c, "service") > 0 or requires(c, "sales") > 0 then
      local s = 0
      for i = 1, 1e15 do s = s + i end
      return s
    end
    return a.score
  end,
}
