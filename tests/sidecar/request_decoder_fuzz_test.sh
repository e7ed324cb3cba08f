#!/usr/bin/env bash
# Builds the request-decoder fuzz target with clang and libFuzzer (Bazel's
# toolchain is gcc) from the very sources routingd links, then fuzzes it for
# FUZZ_SECONDS (default 20) starting from the seed corpus. Fails on any crash,
# sanitizer report, leak or timeout. A longer run: see sidecar/README.md.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
seconds=${FUZZ_SECONDS:-20}
work=${TEST_TMPDIR:-$(mktemp -d)}
cxx=$(command -v clang++-14 || command -v clang++ || true)
[ -n "$cxx" ] || { echo "clang++ not found (tools/setup.sh installs it)" >&2; exit 1; }

absl_libs=()
for lib in strings str_format_internal int128 status statusor time time_zone \
           raw_hash_set hash city low_level_hash throw_delegate \
           raw_logging_internal cord cord_internal cordz_info cordz_functions \
           cordz_handle base spinlock_wait strerror synchronization \
           stacktrace symbolize debugging_internal demangle_internal \
           malloc_internal graphcycles_internal exponential_biased \
           bad_optional_access bad_variant_access civil_time; do
  absl_libs+=("-labsl_$lib")
done

"$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$runfiles" \
  "$runfiles/sidecar/fuzz/request_decoder_fuzzer.cc" \
  "$runfiles/sidecar/request_decoder.cc" \
  "$runfiles/sidecar/required_fields.cc" \
  "$runfiles/sidecar/request_affinity.cc" \
  "$runfiles/routing/channel.cc" \
  -o "$work/request_decoder_fuzzer" "${absl_libs[@]}" -lflatbuffers

mkdir -p "$work/corpus"
cp "$runfiles"/sidecar/fuzz/corpus/* "$work/corpus/"
cd "$work"
# The seeds are read-only inputs; new findings go to the scratch copy.
./request_decoder_fuzzer -max_total_time="$seconds" -max_len=4096 \
  -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 | tail -n 25
