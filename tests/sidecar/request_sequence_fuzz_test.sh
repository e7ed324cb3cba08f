#!/usr/bin/env bash
# Builds the request-sequence fuzz target (sidecar/fuzz/request_sequence_fuzzer.cc)
# with clang, libFuzzer, ASan and UBSan from the very sources routingd links
# (the router, the rules engine and the request handler: Bazel's toolchain is
# gcc), then fuzzes it for FUZZ_SECONDS (default 20) from the seed corpus.
# Fails on any crash, sanitizer report, leak, timeout or broken invariant.
# A longer run: see sidecar/README.md.
set -euo pipefail
runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
seconds=${FUZZ_SECONDS:-20}
work=${TEST_TMPDIR:-$(mktemp -d)}
cxx=$(command -v clang++-14 || command -v clang++ || true)
[ -n "$cxx" ] || { echo "clang++ not found (tools/setup.sh installs it)" >&2; exit 1; }

# Headers that live elsewhere than Bazel puts them: LuaJIT's under the
# include_prefix third_party/luajit.BUILD gives it, and the rules prelude as
# the rules/internal:rules_prelude_source genrule embeds it.
gen="$work/gen"
mkdir -p "$gen/rules/internal" "$work/obj"
ln -sfn /usr/include/luajit-2.1 "$gen/luajit"
{
  echo '#pragma once'
  echo 'namespace rules::internal {'
  echo 'inline constexpr char kRulesPrelude[] = R"lua('
  cat "$runfiles/rules/internal/rules_prelude.lua"
  echo ')lua";'
  echo '}'
} > "$gen/rules/internal/rules_prelude_source.h"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer
       -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
       -I"$runfiles" -I"$gen")
# Every source the data dependencies bring: the engine (routing/, rules/) and
# the request path of the sidecar, compiled on every core.
sources=$(find -L "$runfiles/routing" "$runfiles/rules" "$runfiles/sidecar" \
  -name '*.cc' ! -name '*_main.cc' | sort)
export work runfiles
printf '%s\n' $sources | xargs -P "$(nproc)" -I{} sh -c \
  'f=$0; o=$(echo "${f#"$runfiles"/}" | tr / _); "$@" -c "$f" -o "$work/obj/${o%.cc}.o"' \
  {} "$cxx" "${flags[@]}"
# Every Abseil library Debian ships but the two that change process-wide
# behaviour (as third_party/absl.BUILD links them).
absl_libs=$(ls /usr/lib/x86_64-linux-gnu/libabsl_*.so | sed 's|.*/lib\(absl_.*\)\.so|-l\1|' |
  grep -v -e failure_signal_handler -e leak_check)
"$cxx" -fsanitize=fuzzer,address,undefined "$work"/obj/*.o \
  -o "$work/request_sequence_fuzzer" $absl_libs -lflatbuffers \
  -lluajit-5.1 -lpthread

mkdir -p "$work/corpus"
cp "$runfiles"/sidecar/fuzz/sequence_corpus/* "$work/corpus/"
cd "$work"
# The seeds are read-only inputs; new findings go to the scratch copy.
./request_sequence_fuzzer -max_total_time="$seconds" -max_len=512 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 | tail -n 25
