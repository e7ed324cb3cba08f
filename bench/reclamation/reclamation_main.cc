// The reclamation benchmark's main(): Google Benchmark's, plus a line of
// context (whether urcu-memb readers run fence-free, which depends on the
// kernel) and freeing the shared contact tables while liburcu still runs.
#include <urcu/urcu-memb.h>

#include "bench/reclamation/contact_fixtures.h"
#include "benchmark/benchmark.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  urcu_memb_init();
  benchmark::AddCustomContext(
      "urcu_memb_membarrier",
      urcu_memb_has_sys_membarrier
          ? "yes (fence-free readers)"
          : "no (readers fence, as urcu-mb; figures are not representative)");
  benchmark::RunSpecifiedBenchmarks();
  bench::reclamation::ReleaseContactFixtures();
  benchmark::Shutdown();
  return 0;
}
