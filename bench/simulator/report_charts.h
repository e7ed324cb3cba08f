// File: bench/simulator/report_charts.h
//
// Charts of simulated days over the report intervals, rendered to PNG by
// gnuplot (Debian's gnuplot-nox, installed by tools/setup.sh): service
// level, abandonment and occupancy, and offered contacts against agents on
// duty. With two reports (a what-if), both runs share each panel, so the
// hours where a rules change helps or hurts stand out.
//
//   WriteDayCharts({&report}, "/tmp/day");   // /tmp/day/day.png
//
// Writes into `directory` (created if missing): intervals.dat (the data, one
// block per report), day.gp (the gnuplot script) and day.png. The data and
// script stay so a chart can be restyled by hand.
// Errors: Unavailable if the directory cannot be written; FailedPrecondition
// if gnuplot is not installed or fails (its exit status is given).
#ifndef BENCH_SIMULATOR_REPORT_CHARTS_H_
#define BENCH_SIMULATOR_REPORT_CHARTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/simulator/simulation_report.h"

namespace routing::simulator {

absl::Status WriteDayCharts(const std::vector<const SimulationReport*>& reports,
                            const std::string& directory);

}  // namespace routing::simulator

#endif  // BENCH_SIMULATOR_REPORT_CHARTS_H_
