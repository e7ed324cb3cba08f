#include "bench/simulator/report_charts.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace routing::simulator {
namespace {

// Labels go inside double quotes in the gnuplot script.
std::string GnuplotLabel(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\"", "'"}, {"\\", "/"}, {"_", "\\\\_"}});
}

// A single-quoted shell word.
std::string ShellQuote(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteDayCharts(const std::vector<const SimulationReport*>& reports,
                            const std::string& directory) {
  if (reports.empty() || reports.size() > 2) {
    return absl::InvalidArgumentError("charts take one report or two");
  }
  if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", directory, ": ", std::strerror(errno)));
  }
  // One block per report, separated by two blank lines (gnuplot's index).
  std::string data =
      "# hour offered answered service_level abandon_rate asa_s occupancy "
      "agents_on_duty\n";
  for (const SimulationReport* report : reports) {
    for (const IntervalFigures& i : report->intervals) {
      absl::StrAppendFormat(&data, "%.4f %d %d %.5f %.5f %.2f %.5f %.2f\n",
                            i.start_hour, i.service.offered, i.service.answered,
                            i.service.ServiceLevel(), i.service.AbandonRate(),
                            i.service.AverageSpeedOfAnswer(), i.occupancy,
                            i.agents_on_duty);
    }
    data += "\n\n";
  }
  const std::string data_path = absl::StrCat(directory, "/intervals.dat");
  if (absl::Status s = WriteFile(data_path, data); !s.ok()) return s;

  const SimulationReport& first = *reports[0];
  std::string title = absl::StrFormat("%s, seed %d: %s", first.scenario,
                                      first.seed, first.rules);
  if (reports.size() == 2) {
    title = absl::StrCat(first.scenario, ": A = ", first.rules,
                         ", B = ", reports[1]->rules);
  }
  std::string script = absl::StrCat(
      "set terminal pngcairo size 1200,900 font 'sans,10'\n"
      "set output 'day.png'\n"
      "set multiplot layout 3,1 title \"",
      GnuplotLabel(title),
      "\"\n"
      "set grid\nset key outside right\nset xlabel 'hour of day'\n"
      "set format y '%g%%'\n");
  const std::vector<std::string> names =
      reports.size() == 2 ? std::vector<std::string>{"A", "B"}
                          : std::vector<std::string>{""};
  auto plot =
      [&](const std::string& ylabel, const std::string& yrange,
          const std::vector<std::pair<std::string, std::string>>& series) {
        absl::StrAppend(&script, "set ylabel '", ylabel, "'\nset yrange ",
                        yrange, "\nplot ");
        bool first_series = true;
        for (size_t r = 0; r < reports.size(); ++r) {
          for (const auto& [column, label] : series) {
            if (!first_series) script += ", ";
            first_series = false;
            absl::StrAppend(
                &script, "'intervals.dat' index ", r, " using 1:(", column,
                ") with linespoints dashtype ", r + 1, " title \"", label,
                names[r].empty() ? "" : absl::StrCat(" (", names[r], ")"),
                "\"");
          }
        }
        script += "\n";
      };
  plot(
      "service level, abandoned", "[0:100]",
      {{absl::StrFormat("100*$4"),
        absl::StrFormat("answered within %.0f s", first.service_level_seconds)},
       {"100*$5", "abandoned"}});
  plot("occupancy", "[0:100]", {{"100*$7", "occupancy"}});
  script += "set format y '%g'\n";
  plot("per interval", "[0:*]",
       {{"$2", "contacts offered"}, {"$8", "agents on duty"}});
  script += "unset multiplot\n";
  const std::string script_path = absl::StrCat(directory, "/day.gp");
  if (absl::Status s = WriteFile(script_path, script); !s.ok()) return s;

  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("gnuplot is not installed (tools/setup.sh installs "
                     "gnuplot-nox); the data and script are in ",
                     directory));
  }
  const std::string command = absl::StrCat("cd ", ShellQuote(directory),
                                           " && gnuplot day.gp 2>gnuplot.log");
  const int status = std::system(command.c_str());
  if (status != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "gnuplot failed (exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
        "); see ", directory, "/gnuplot.log"));
  }
  return absl::OkStatus();
}

}  // namespace routing::simulator
