#!/usr/bin/env bash
# Generates routing_generated.py (the wire code of the routing_sidecar
# package) from sidecar/routing.fbs with Debian's flatc, for use outside
# Bazel. Bazel builds do this themselves (BUILD.bazel, genrule).
# Usage: bindings/python/routing_sidecar/generate.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to this package's folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
schema="$here/../../../sidecar/routing.fbs"
out=${1:-$here}
command -v flatc >/dev/null || { echo "generate.sh: flatc not found (apt-get install flatbuffers-compiler)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flatc --python --gen-onefile -o "$tmp" "$schema"
mkdir -p "$out"
cp "$tmp/routing_generated.py" "$out/routing_generated.py"
echo "generated $out/routing_generated.py"
