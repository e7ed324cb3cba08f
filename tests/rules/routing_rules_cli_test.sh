#!/usr/bin/env bash
# The operator's checker: exit codes and FILE:LINE: messages.
set -uo pipefail
cli=$1
examples_dir=$(dirname "$2")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cli" --help | grep -q "usage: routing_rules check|test" || fail "--help"
"$cli" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no arguments should exit 2"

out=$("$cli" test "$examples_dir"/*.lua) || fail "examples should pass: $out"
[ "$(echo "$out" | grep -c ': ok, ')" -eq 6 ] || fail "six examples: $out"

cat >"$tmp/broken.lua" <<'LUA'
return {
  eligible = function(c, a)
    return os.time() > 0
  end,
}
LUA
err=$("$cli" check "$tmp/broken.lua" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "broken file should exit 1, got $rc"
echo "$err" | grep -q "^$tmp/broken.lua:3: unknown global 'os'" || fail "message: $err"

cat >"$tmp/wrong_test.lua" <<'LUA'
return {
  tests = { { name = "wrong", contact = { skills = { billing = 1 } },
              agents = { { id = "ana", skills = { billing = 2 } } },
              expect = "bo" } },
}
LUA
"$cli" check "$tmp/wrong_test.lua" >/dev/null || fail "check does not run tests"
err=$("$cli" test "$tmp/wrong_test.lua" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "failing test should exit 1, got $rc"
echo "$err" | grep -q "test 'wrong': expected agent 'bo', got agent 'ana'" || fail "message: $err"

err=$("$cli" check "$tmp/missing.lua" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "missing.lua: cannot read rules file: No such file" || fail "missing: $err"
echo "routing_rules CLI ok"
