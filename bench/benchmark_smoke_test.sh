#!/bin/sh
# Runs a benchmark binary once over every benchmark (or those matching the
# regex in $2) with a minimal time budget; fails if any reports an error.
set -eu
out=$("$1" --benchmark_min_time=0.001 --benchmark_filter="${2:-.}" 2>&1) || {
  echo "$out"; exit 1; }
if echo "$out" | grep -q "ERROR OCCURRED"; then echo "$out"; exit 1; fi
