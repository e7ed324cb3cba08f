// Shared by the journal's tests: scratch directories, reading a journal
// back, and a sink whose appends and syncs fail on demand.
#ifndef TESTS_JOURNAL_JOURNAL_TEST_SUPPORT_H_
#define TESTS_JOURNAL_JOURNAL_TEST_SUPPORT_H_

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "journal/journal_reader.h"
#include "journal/journal_sink.h"

namespace journal {

// A fresh directory under the test's scratch space.
inline std::string ScratchDirectory(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(base != nullptr ? base : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

struct ReadBack {
  absl::Status status;
  JournalReadReport report;
  std::vector<std::pair<uint64_t, std::string>> records;
};

inline ReadBack ReadAll(const std::string& dir,
                        JournalReadOptions options = {}) {
  ReadBack out;
  auto report = ReadJournal(dir, options, [&](uint64_t seq,
                                              std::string_view body) {
    out.records.emplace_back(seq, std::string(body));
    return absl::OkStatus();
  });
  out.status = report.status();
  if (report.ok()) out.report = *report;
  return out;
}

// Forwards to a real sink; fails appends or syncs while told to.
class FaultySink : public JournalSink {
 public:
  explicit FaultySink(std::unique_ptr<JournalSink> inner)
      : inner_(std::move(inner)) {}
  absl::Status Append(uint64_t first, int count,
                      std::string_view frames) override {
    if (fail_appends.load()) {
      return absl::ResourceExhaustedError("injected: no space left on device");
    }
    return inner_->Append(first, count, frames);
  }
  absl::Status Sync() override {
    if (fail_syncs.load()) {
      return absl::UnavailableError("injected: input/output error");
    }
    return inner_->Sync();
  }
  std::atomic<bool> fail_appends{false};
  std::atomic<bool> fail_syncs{false};

 private:
  std::unique_ptr<JournalSink> inner_;
};

}  // namespace journal

#endif  // TESTS_JOURNAL_JOURNAL_TEST_SUPPORT_H_
