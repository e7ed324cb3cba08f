#!/usr/bin/env bash
# librouting.so.1 exports exactly the routing_* functions declared in
# routing.h (no C++ symbol of the engine or of libstdc++ leaks into the ABI),
# under the ROUTING_1 version node, and carries the soname librouting.so.1.
set -euo pipefail

root="${TEST_SRCDIR}/contact_routing"
lib="$root/bindings/c/librouting.so.1"
header="$root/bindings/c/routing.h"
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "librouting.so.1" ] || fail "soname is '$soname', expected librouting.so.1"

# Defined dynamic symbols, without their version suffix.
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u >exported
grep -v -E '^(routing_[a-z0-9_]+|ROUTING_1)$' exported >leaked || true
if [ -s leaked ]; then
  fail "symbols other than routing_* are exported:"
  sed 's/^/  /' leaked >&2
fi

# Every function the header declares is exported, and nothing else.
tr '\n' ' ' <"$header" | grep -o 'ROUTING_EXPORT [^(]*(' |
  sed -E 's/.*[ *](routing_[a-z0-9_]+)\($/\1/' | grep -E '^routing_[a-z0-9_]+$' | sort -u >declared
grep '^routing_' exported >exported_functions || true
if ! diff declared exported_functions >difference; then
  fail "declared (<) and exported (>) functions differ:"
  sed 's/^/  /' difference >&2
fi
[ "$(wc -l <declared)" -gt 80 ] || fail "found only $(wc -l <declared) declarations in routing.h"

# Exported functions carry the version node.
nm -D --defined-only "$lib" | grep ' routing_' | grep -v '@@ROUTING_1$' >unversioned || true
[ -s unversioned ] && fail "functions without the ROUTING_1 version: $(head -3 unversioned)"

[ $failed -eq 0 ] && echo "PASS: $(wc -l <declared) functions exported, nothing else"
exit $failed
