#include "sidecar/cpu_placement.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace routing::sidecar {
namespace {

absl::StatusOr<int> ParseCpu(std::string_view text, std::string_view element) {
  int cpu;
  if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &cpu) ||
      cpu < 0 || cpu >= CPU_SETSIZE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CPU list element \"",
        absl::string_view(element.data(), element.size()),
        "\" is not a CPU number or range (0..", CPU_SETSIZE - 1, ")"));
  }
  return cpu;
}

}  // namespace

absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  for (absl::string_view piece : absl::StrSplit(text, ',')) {
    const std::string_view element(piece.data(), piece.size());
    const size_t dash = element.find('-');
    if (dash == std::string_view::npos) {
      absl::StatusOr<int> cpu = ParseCpu(element, element);
      if (!cpu.ok()) return cpu.status();
      cpus.push_back(*cpu);
      continue;
    }
    absl::StatusOr<int> first = ParseCpu(element.substr(0, dash), element);
    if (!first.ok()) return first.status();
    absl::StatusOr<int> last = ParseCpu(element.substr(dash + 1), element);
    if (!last.ok()) return last.status();
    if (*last < *first) {
      return absl::InvalidArgumentError(
          absl::StrCat("CPU range \"", piece, "\" ends before it starts"));
    }
    for (int cpu = *first; cpu <= *last; ++cpu) cpus.push_back(cpu);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

absl::Status CheckCpusAllowed(const std::vector<int>& cpus) {
  if (cpus.empty()) return absl::OkStatus();
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    return absl::InternalError(
        absl::StrCat("sched_getaffinity: ", std::strerror(errno)));
  }
  for (int cpu : cpus) {
    if (CPU_ISSET(cpu, &allowed)) continue;
    std::vector<int> list;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &allowed)) list.push_back(c);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("CPU ", cpu, " is not one this process may run on (",
                     absl::StrJoin(list, ","), ")"));
  }
  return absl::OkStatus();
}

absl::Status PinCallingThread(const std::vector<int>& cpus) {
  if (cpus.empty()) return absl::OkStatus();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  const int error = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (error != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot run on CPUs ",
                                                   absl::StrJoin(cpus, ","),
                                                   ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

ScopedThreadPlacement::ScopedThreadPlacement(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  CPU_ZERO(&before_);
  const int error =
      pthread_getaffinity_np(pthread_self(), sizeof before_, &before_);
  if (error != 0) {
    status_ = absl::InternalError(
        absl::StrCat("pthread_getaffinity_np: ", std::strerror(error)));
    return;
  }
  status_ = PinCallingThread(cpus);
  restore_ = status_.ok();
}

ScopedThreadPlacement::~ScopedThreadPlacement() {
  if (restore_) pthread_setaffinity_np(pthread_self(), sizeof before_, &before_);
}

}  // namespace routing::sidecar
