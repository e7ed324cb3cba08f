#!/usr/bin/env bash
# Installs the C ABI into a temporary prefix with //bindings/c:install, then
# builds the telephony module example OUTSIDE Bazel with the system compiler
# and pkg-config, runs it, and checks what it prints. Also checks that
# routing.h compiles cleanly as strict C99 and as C++. Then the same with the
# self-contained build (--self-contained), which needs no Abseil.
set -euo pipefail

root="${TEST_SRCDIR}/contact_routing"
prefix="${TEST_TMPDIR}/prefix"
work="${TEST_TMPDIR}/work"
mkdir -p "$work"

# The version the header states, e.g. 1.1 and ABI 10001.
header="$root/bindings/c/routing.h"
major=$(sed -n 's/^#define ROUTING_ABI_VERSION_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define ROUTING_ABI_VERSION_MINOR \([0-9]*\)$/\1/p' "$header")
[ -n "$major" ] && [ -n "$minor" ] || { echo "FAIL: no ABI version in routing.h" >&2; exit 1; }
version="$major.$minor"
abi=$((major * 10000 + minor))

"$root/bindings/c/install" --prefix="$prefix" | tee "$work/install.log"
grep -q "installed routing $version under $prefix$" "$work/install.log"
for f in include/routing.h lib/librouting.so.1 lib/pkgconfig/routing.pc; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
[ "$(readlink "$prefix/lib/librouting.so")" = "librouting.so.1" ] ||
  { echo "FAIL: librouting.so is not a symlink to librouting.so.1" >&2; exit 1; }

# A bad argument is refused with a reason and a non-zero exit.
if "$root/bindings/c/install" --bogus 2>"$work/err"; then
  echo "FAIL: install accepted --bogus" >&2; exit 1
fi
grep -q "unknown argument '--bogus'" "$work/err"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists routing
[ "$(pkg-config --modversion routing)" = "$version" ]
flags=$(pkg-config --cflags --libs routing)
echo "pkg-config --cflags --libs routing: $flags"

# A sanitizer build of the library needs its runtime in the program too.
sanitize=()
needed=$(readelf -d "$prefix/lib/librouting.so.1")  # Captured, as below.
grep -q 'libasan' <<<"$needed" && sanitize+=(-fsanitize=address)
grep -q 'libubsan' <<<"$needed" && sanitize+=(-fsanitize=undefined)
grep -q 'libtsan' <<<"$needed" && sanitize+=(-fsanitize=thread)

# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only $(pkg-config --cflags routing) \
  -x c - <<<'#include <routing.h>
int main(void) { return routing_abi_version() == ROUTING_ABI_VERSION ? 0 : 1; }'
# shellcheck disable=SC2086
c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only $(pkg-config --cflags routing) \
  -x c++ - <<<'#include <routing.h>
int main() { return routing_abi_version() == ROUTING_ABI_VERSION ? 0 : 1; }'

# shellcheck disable=SC2086
cc -O2 -Wall -Wextra -pthread "${sanitize[@]}" \
  "$root/bindings/c/examples/telephony_module.c" $flags -o "$work/telephony_module"
"$work/telephony_module" 30 | tee "$work/out"
grep -q "^librouting ABI $abi\$" "$work/out"
grep -q "^refused: routing_engine_release: contact 'no-such-call' is not held" "$work/out"
grep -q '^calls 120: answered at once [0-9]*, from the queue [0-9]* (callbacks [0-9]*), released 120, still held 0$' "$work/out"
grep -q '^all calls answered and released$' "$work/out"
# The program found the installed library through the rpath pkg-config gave.
# (Captured first: grep -q closing the pipe early would fail ldd under
# pipefail.)
libraries=$(ldd "$work/telephony_module")
grep -q "$prefix/lib/librouting.so.1" <<<"$libraries"

# The self-contained build: the same layout, its own library file, no Abseil
# in NEEDED, and the example built against it runs.
prefix_sc="${TEST_TMPDIR}/prefix_self_contained"
"$root/bindings/c/install" --prefix="$prefix_sc" --self-contained | tee "$work/install_sc.log"
grep -q "installed routing $version under $prefix_sc (self-contained)$" "$work/install_sc.log"
cmp "$prefix_sc/lib/librouting.so.1" "$root/bindings/c/self_contained/librouting.so.1"
needed_sc=$(readelf -d "$prefix_sc/lib/librouting.so.1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "self-contained NEEDED: $(tr '\n' ' ' <<<"$needed_sc")"
if grep -q -E 'libabsl|libluajit' <<<"$needed_sc"; then
  echo "FAIL: the self-contained library needs Abseil or LuaJIT" >&2; exit 1
fi
export PKG_CONFIG_PATH="$prefix_sc/lib/pkgconfig"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -pthread "${sanitize[@]}" \
  "$root/bindings/c/examples/telephony_module.c" $(pkg-config --cflags --libs routing) \
  -o "$work/telephony_module_sc"
"$work/telephony_module_sc" 30 >"$work/out_sc"
grep -q '^all calls answered and released$' "$work/out_sc"
libraries=$(ldd "$work/telephony_module_sc")
grep -q "$prefix_sc/lib/librouting.so.1" <<<"$libraries"
echo PASS
