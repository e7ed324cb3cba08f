// The main() of every Google Benchmark binary in bench/: each suite file
// registers its benchmarks, and binaries combine them (routing_benchmarks
// links them all).
#include "benchmark/benchmark.h"

BENCHMARK_MAIN();
