// routing_journal: reads a routingd journal directory (docs/JOURNAL.md).
//
//   routing_journal dump DIR [--json]
//
// dump: one line per record, in order: sequence, time, kind, the request
// and its contact or agent, the reply's outcome, and what changed; --json
// prints one JSON object per line instead (journal/record_description.h).
// It reads with repair off: the directory is never changed. Damage stops
// the dump where it is, naming the segment and offset (exit 1); a torn tail
// is reported on stderr and is not an error.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "journal/journal_reader.h"
#include "journal/segment_sink.h"
#include "journal/journal_record.h"
#include "journal/record_description.h"

namespace {

constexpr char kUsage[] =
    "usage: routing_journal dump DIR [--json]\n"
    "  dump  every record of the journal in DIR, one per line (--json: JSON\n"
    "        lines): time, request, reply and what it changed\n";

int Dump(const std::string& directory, bool as_json) {
  int undecodable = 0;
  journal::JournalReadOptions options;  // kRefuse, no repair: read only.
  // From the oldest record kept: those before it are in a snapshot, and
  // their segments were deleted once it was written.
  if (auto segments = journal::ListSegments(directory);
      segments.ok() && !segments->empty()) {
    options.from_sequence = segments->front().first_sequence;
  }
  auto report = journal::ReadJournal(
      directory, options, [&](uint64_t sequence, std::string_view body) {
        auto record = journal::DecodeRecord(body);
        if (!record.ok()) {
          ++undecodable;
          std::cerr << "record " << sequence << ": " << record.status().message()
                    << "\n";
          return absl::OkStatus();
        }
        if (as_json) {
          std::cout << journal::DescribeRecord(sequence, *record).dump()
                    << "\n";
        } else {
          std::cout << journal::RecordLine(sequence, *record) << "\n";
        }
        return absl::OkStatus();
      });
  if (!report.ok()) {
    std::cerr << "routing_journal: " << report.status().message() << "\n";
    return 1;
  }
  for (const std::string& warning : report->warnings) {
    std::cerr << "routing_journal: " << warning << "\n";
  }
  return undecodable == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 ||
                    std::strcmp(argv[1], "-h") == 0)) {
    std::cout << kUsage;
    return 0;
  }
  if (argc < 3 || std::strcmp(argv[1], "dump") != 0) {
    std::cerr << (argc < 2 ? std::string("routing_journal: no command\n")
                           : absl::StrCat("routing_journal: unknown command '",
                                          argv[1], "'\n"))
              << kUsage;
    return 2;
  }
  bool as_json = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      as_json = true;
    } else {
      std::cerr << "routing_journal: unknown option '" << argv[i] << "'\n"
                << kUsage;
      return 2;
    }
  }
  return Dump(argv[2], as_json);
}
