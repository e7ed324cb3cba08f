// routing_journal: reads a routingd journal directory (docs/JOURNAL.md).
//
//   routing_journal dump DIR [--json]
//   routing_journal why DIR CONTACT_ID
//   routing_journal replay DIR [--rules=OTHER.lua] [--offer_timeout=...]
//                   [--missed_offer_state=...]
//
// dump: one line per record, in order: sequence, time, kind, the request
// and its contact or agent, the reply's outcome, and what changed; --json
// prints one JSON object per line instead (journal/record_description.h).
// why: one contact's life (journal/contact_story.h).
// replay: the recorded inputs through a fresh router at the recorded times;
// exit 1 at the first decision that differs. With --rules, the same traffic
// under other rules, and what would have changed (journal/journal_replay.h).
// Every command reads with repair off: the directory is never changed.
// Damage stops it where it is, naming the segment and offset (exit 1); a
// torn tail is reported on stderr and is not an error.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "journal/journal_replay.h"
#include "routing/agent.h"
#include "sidecar/offer_timeouts.h"
#include "journal/contact_story.h"
#include "journal/journal_record.h"
#include "journal/journal_walk.h"
#include "journal/record_description.h"

namespace {

constexpr char kUsage[] =
    "usage: routing_journal COMMAND DIR ...\n"
    "  dump DIR [--json]      every record of the journal in DIR, one per\n"
    "                         line (--json: JSON lines): time, request,\n"
    "                         reply, what changed, assignments and why\n"
    "  why DIR CONTACT_ID     the contact's life: arrival, places in line,\n"
    "                         rules steps, the agent it got and why (score\n"
    "                         components, runners-up), how it ended\n"
    "  replay DIR [--rules=OTHER.lua] [--offer_timeout=CH=DUR,...]\n"
    "             [--missed_offer_state=STATE]\n"
    "                         re-run the recorded inputs at the recorded\n"
    "                         times and check every decision comes out the\n"
    "                         same (exit 1 at the first difference); with\n"
    "                         --rules, the same traffic under other rules and\n"
    "                         what would have changed: agents, answered\n"
    "                         contacts, waits. Give the routingd flags that\n"
    "                         shape decisions (--offer_timeout,\n"
    "                         --missed_offer_state) as routingd ran\n";

int Report(const absl::StatusOr<journal::WalkReport>& walk) {
  if (!walk.ok()) {
    std::cerr << "routing_journal: " << walk.status().message() << "\n";
    return 1;
  }
  for (const std::string& warning : walk->warnings) {
    std::cerr << "routing_journal: " << warning << "\n";
  }
  return 0;
}

int Dump(const std::string& directory, bool as_json) {
  auto walk = journal::WalkJournal(
      directory,
      [&](const journal::Snapshot& s) {
        const std::string line = absl::StrCat(
            "snapshot #", s.info.sequence, ": ", s.state.agents.size(),
            " agents, ", s.state.contacts.size(), " contacts, ",
            s.state.customers.size(), " customers; records before it were "
            "deleted");
        if (as_json) {
          std::cout << nlohmann::json{{"snapshot", s.info.sequence},
                                      {"agents", s.state.agents.size()},
                                      {"contacts", s.state.contacts.size()},
                                      {"customers", s.state.customers.size()}}
                           .dump()
                    << "\n";
        } else {
          std::cout << line << "\n";
        }
      },
      [&](uint64_t sequence, const journal::JournalRecord& record) {
        if (as_json) {
          std::cout << journal::DescribeRecord(sequence, record).dump() << "\n";
        } else {
          std::cout << journal::RecordLine(sequence, record) << "\n";
        }
        return absl::OkStatus();
      });
  return Report(walk);
}

int Why(const std::string& directory, const std::string& contact_id) {
  journal::ContactStory story(contact_id);
  auto walk = journal::WalkJournal(
      directory,
      [&](const journal::Snapshot& s) {
        story.Start(s.state, s.info.sequence);
      },
      [&](uint64_t sequence, const journal::JournalRecord& record) {
        story.Add(sequence, record);
        return absl::OkStatus();
      });
  if (int status = Report(walk); status != 0) return status;
  if (!story.found()) {
    std::cerr << "routing_journal: contact " << contact_id
              << " is not in the journal " << directory << "\n";
    return 1;
  }
  std::cout << "contact " << contact_id << "\n";
  for (const std::string& line : story.lines()) std::cout << line << "\n";
  return 0;
}

int Replay(const std::string& directory,
           const std::vector<std::string>& flags) {
  journal::ReplayOptions options;
  for (const std::string& flag : flags) {
    std::string_view value;
    if (absl::StartsWith(flag, "--rules=")) {
      options.other_rules_file = flag.substr(8);
    } else if (absl::StartsWith(flag, "--offer_timeout=")) {
      absl::StatusOr<routing::sidecar::OfferTimeouts> timeouts =
          routing::sidecar::ParseOfferTimeouts(flag.substr(16));
      if (!timeouts.ok()) {
        std::cerr << "routing_journal: --offer_timeout: "
                  << timeouts.status().message() << "\n";
        return 2;
      }
      options.router.offer_timeout = *timeouts;
    } else if (absl::StartsWith(flag, "--missed_offer_state=")) {
      if (!routing::ParseAgentState(flag.substr(21),
                                    &options.router.missed_offer_state)) {
        std::cerr << "routing_journal: " << flag
                  << " is not an agent state (available, busy, "
                     "after_call_work, break, logged_out)\n";
        return 2;
      }
    } else {
      std::cerr << "routing_journal: unknown option '" << flag << "'\n"
                << kUsage;
      return 2;
    }
  }
  absl::StatusOr<journal::ReplayReport> report =
      journal::ReplayJournal(directory, options);
  if (!report.ok()) {
    std::cerr << "routing_journal: " << report.status().message() << "\n";
    return 1;
  }
  for (const std::string& line : report->summary) std::cout << line << "\n";
  return report->first_difference.empty() ? 0 : 1;
}

int Usage(const std::string& problem) {
  std::cerr << "routing_journal: " << problem << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  // --help anywhere (routing_journal dump --help) is a question, not a
  // directory.
  if ((!args.empty() && args[0] == "-h") ||
      std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kUsage;
    return 0;
  }
  if (args.empty()) return Usage("no command");
  const std::string& command = args[0];
  if (command == "dump") {
    if (args.size() < 2) return Usage("dump needs a directory");
    bool as_json = false;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] != "--json") {
        return Usage(absl::StrCat("unknown option '", args[i], "'"));
      }
      as_json = true;
    }
    return Dump(args[1], as_json);
  }
  if (command == "why") {
    if (args.size() != 3) return Usage("why needs a directory and a contact id");
    return Why(args[1], args[2]);
  }
  if (command == "replay") {
    if (args.size() < 2) return Usage("replay needs a directory");
    return Replay(args[1], std::vector<std::string>(args.begin() + 2,
                                                    args.end()));
  }
  return Usage(absl::StrCat("unknown command '", command, "'"));
}
