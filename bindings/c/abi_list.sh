#!/usr/bin/env bash
# The ABI of a built librouting.so.1 as bindings/c/librouting.abi records it:
# every exported symbol with its version node, one symbol@@VERSION a line,
# sorted (LC_ALL=C); the version nodes themselves are not listed.
#
# Usage: abi_list.sh LIBRARY        print LIBRARY's list on standard output
#        bazel run //bindings/c:update_abi_list
#                                   rewrite bindings/c/librouting.abi from the
#                                   built //bindings/c:librouting.so.1
set -euo pipefail
export LC_ALL=C

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

# Defined dynamic symbols (readelf names them symbol@@VERSION, or symbol@VERSION
# for a non-default version), less the version definitions (absolute symbols
# named after their node).
exports() {
  readelf --dyn-syms -W "$1" |
    awk '$1 ~ /^[0-9]+:$/ && $5 != "LOCAL" && $7 != "UND" && $8 != "" &&
         !($7 == "ABS" && $8 !~ /@/) { print $8 }' | sort -u
}

header() {
  cat <<'HEADER'
# The ABI of librouting.so.1: every exported symbol with its version node, one
# symbol@@VERSION a line, sorted (LC_ALL=C). //tests/bindings/c:librouting_symbols_test
# fails on any difference from the built library: a symbol removed, one added
# that is not listed here, one whose version changed.
# To change it, edit bindings/c/routing.lds (a new function goes into the node
# of the coming minor version, ROUTING_1.<n>, which inherits the one before;
# a released node never changes), then regenerate this file with
#   bazel run //bindings/c:update_abi_list
# and review its diff: a release only ever adds lines.
HEADER
}

case "${1:-}" in
  --help|-h) usage; exit 0 ;;
  --update)
    [ -n "${BUILD_WORKSPACE_DIRECTORY:-}" ] ||
      { echo "abi_list: --update runs under bazel run //bindings/c:update_abi_list" >&2; exit 2; }
    library=
    for candidate in "${RUNFILES_DIR:-}" "$0.runfiles"; do
      if [ -n "$candidate" ] && [ -f "$candidate/contact_routing/bindings/c/librouting.so.1" ]; then
        library="$candidate/contact_routing/bindings/c/librouting.so.1"
        break
      fi
    done
    [ -n "$library" ] || { echo "abi_list: cannot find the built librouting.so.1" >&2; exit 1; }
    list="$BUILD_WORKSPACE_DIRECTORY/bindings/c/librouting.abi"
    new=$(mktemp)
    trap 'rm -f "$new"' EXIT
    { header; exports "$library"; } >"$new"
    if [ -f "$list" ] && cmp -s "$list" "$new"; then
      echo "abi_list: $list is up to date ($(grep -vc '^#' "$new") symbols)"
      exit 0
    fi
    [ -f "$list" ] && diff -u "$list" "$new" | sed -n '3,$p' | grep '^[-+]' || true
    cp "$new" "$list"
    echo "abi_list: wrote $list ($(grep -vc '^#' "$new") symbols); review the diff"
    ;;
  ""|-*) echo "abi_list: expected a library path or --update (try --help)" >&2; exit 2 ;;
  *)
    [ $# -eq 1 ] || { echo "abi_list: one library at a time (try --help)" >&2; exit 2; }
    [ -f "$1" ] || { echo "abi_list: no such file: $1" >&2; exit 1; }
    exports "$1"
    ;;
esac
