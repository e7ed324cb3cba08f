#!/usr/bin/env bash
# Installs the routing engine's C ABI for projects built outside Bazel:
#   PREFIX/include/routing.h
#   PREFIX/lib/librouting.so.1        (soname librouting.so.1)
#   PREFIX/lib/librouting.so          -> librouting.so.1 (for -lrouting)
#   PREFIX/lib/pkgconfig/routing.pc   (cc $(pkg-config --cflags --libs routing))
#   PREFIX/share/routing/librouting.tsan.supp  (ThreadSanitizer suppressions
#                                     for hosts; bindings/README.md)
#
# Usage: bazel run //bindings/c:install -- [--prefix=DIR] [--self-contained]
#   --prefix=DIR      where to install (default /usr/local); a relative DIR is
#                     taken from the directory bazel run was started in
#   --self-contained  install the build with Abseil linked in (and hidden), which
#                     needs only libc, libm, libstdc++ and libgcc_s: for other
#                     distributions (about 150 KB more code; "Linking" in
#                     bindings/README.md)
set -euo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

prefix=/usr/local
build=librouting.so.1
for arg in "$@"; do
  case "$arg" in
    --prefix=*) prefix=${arg#--prefix=} ;;
    --self-contained) build=self_contained/librouting.so.1 ;;
    --help|-h) usage; exit 0 ;;
    *) echo "install: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$prefix" ] || { echo "install: --prefix is empty" >&2; exit 2; }
if [[ "$prefix" != /* ]]; then
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi

# The files come from this script's runfiles (bazel run, or a test's data).
self_dir=
for candidate in "${RUNFILES_DIR:-}" "$0.runfiles" "${TEST_SRCDIR:-}"; do
  if [ -n "$candidate" ] && [ -f "$candidate/contact_routing/bindings/c/routing.h" ]; then
    self_dir="$candidate/contact_routing/bindings/c"
    break
  fi
done
[ -n "$self_dir" ] || { echo "install: cannot find the built files (run it with bazel run)" >&2; exit 1; }

version=$(sed -n 's/^#define ROUTING_ABI_VERSION_MAJOR \([0-9]*\)$/\1/p' "$self_dir/routing.h").$(
  sed -n 's/^#define ROUTING_ABI_VERSION_MINOR \([0-9]*\)$/\1/p' "$self_dir/routing.h")

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/share/routing" || {
  echo "install: cannot create directories under $prefix" >&2; exit 1; }
install -m 0644 "$self_dir/routing.h" "$prefix/include/routing.h"
install -m 0755 "$self_dir/$build" "$prefix/lib/librouting.so.1"
ln -sfn librouting.so.1 "$prefix/lib/librouting.so"
install -m 0644 "$self_dir/librouting.tsan.supp" \
  "$prefix/share/routing/librouting.tsan.supp"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
  "$self_dir/routing.pc.in" >"$prefix/lib/pkgconfig/routing.pc"
chmod 0644 "$prefix/lib/pkgconfig/routing.pc"
echo "installed routing $version under $prefix$([ "$build" = librouting.so.1 ] || echo " (self-contained)")"
