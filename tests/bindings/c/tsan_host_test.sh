#!/usr/bin/env bash
# A host built with -fsanitize=thread against the ordinary (uninstrumented)
# librouting.so.1, with the suppressions file the library ships: the PBX model
# (bindings/c/examples/pbx_model.c), built outside Bazel with pkg-config, runs
# for 2 s. It must pass its own checks and ThreadSanitizer must report
# nothing. Without the suppressions, TSan reports the library's string copies
# (it cannot see the library's atomics); the test checks that too, so the
# suppressions file is known to be what makes the difference.
set -euo pipefail

root="${TEST_SRCDIR}/contact_routing"
prefix="${TEST_TMPDIR}/prefix"
work="${TEST_TMPDIR}/work"
mkdir -p "$work"
"$root/bindings/c/install" --prefix="$prefix" >/dev/null
if readelf -d "$prefix/lib/librouting.so.1" | grep -q 'libasan\|libtsan'; then
  echo "the library is a sanitizer build: nothing to check here"
  exit 0
fi
supp="$prefix/share/routing/librouting.tsan.supp"  # As installed.
[ -f "$supp" ] || { echo "FAIL: install did not install $supp" >&2; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -O1 -g -fsanitize=thread -o "$work/pbx_model" \
  "$root/bindings/c/examples/pbx_model.c" \
  $(pkg-config --cflags --libs routing) -pthread -Wl,-rpath,"$prefix/lib"

TSAN_OPTIONS="suppressions=$supp halt_on_error=0" \
  "$work/pbx_model" 2 >"$work/with.log" 2>&1 || {
  cat "$work/with.log"; echo "FAIL: the model failed" >&2; exit 1; }
cat "$work/with.log"
if grep -q "WARNING: ThreadSanitizer" "$work/with.log"; then
  echo "FAIL: ThreadSanitizer reported with the suppressions" >&2
  exit 1
fi

TSAN_OPTIONS="halt_on_error=0 exitcode=0" \
  "$work/pbx_model" 2 >"$work/without.log" 2>&1 || true
reports=$(grep -c "WARNING: ThreadSanitizer" "$work/without.log" || true)
echo "without the suppressions: $reports reports"
echo "PASS"
