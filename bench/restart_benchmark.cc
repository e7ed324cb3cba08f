// What a routingd restart costs with a snapshot: read the newest snapshot
// file (checksum), decode it (FlatBuffers, verified), and import the state
// into a new router (Router::Create + ImportState). Also what taking one
// costs: export and encode, and the file's write with its fsyncs.
//
// The state is synthetic and consistent: `agents` agents (skills s0..s999,
// a quarter holding a voice call, the rest on break), `queued` contacts
// waiting over those skills with a few priorities, and `customers`
// customers with two interactions each. The size is 100,000 agents,
// 100,000 queued contacts and 1,000,000 customers (target: restart within
// 2 s); the small size is what the smoke test runs.
//
// BM_RestartRoutingd is routingd's own restart path (RecoverState: the
// snapshot, then the journal's records after it folded in; Router::Create;
// ImportState), with `records` records after the snapshot, each an agent's
// state change and a queued contact (what a crash between two
// snapshots leaves; routingd snapshots every 1,000,000 records by
// default).
//
//   bazel run -c opt //bench:restart_benchmark -- --benchmark_repetitions=5
#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "journal/snapshot_codec.h"
#include "journal/journal_record.h"
#include "journal/journal_writer.h"
#include "journal/segment_sink.h"
#include "journal/snapshot_files.h"
#include "sidecar/state_journal.h"
#include "routing/router.h"
#include "routing/router_state.h"

namespace {

constexpr int kSkills = 1000;
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

routing::RouterState SyntheticState(int agents, int queued, int customers) {
  routing::RouterState state;
  state.agents.reserve(agents);
  for (int i = 0; i < agents; ++i) {
    routing::AgentSnapshot a;
    a.profile.id = absl::StrCat("agent-", i);
    a.profile.skills = {{absl::StrCat("s", i % kSkills), 1 + i % 5},
                        {absl::StrCat("s", (i * 7 + 3) % kSkills), 3}};
    a.profile.languages = {{"en", 5}};
    a.profile.SetCapacity(routing::Channel::kVoice, 1);
    a.profile.SetCapacity(routing::Channel::kChat, 2);
    a.profile.team = absl::StrCat("team-", i % 50);
    a.state = routing::AgentState::kBreak;
    a.state_since = kNow - absl::Minutes(i % 60);
    a.idle_since = kNow - absl::Minutes(30);
    a.logged_in_at = kNow - absl::Hours(4);
    a.handled = absl::Hours(2);
    a.contacts_handled = 40;
    state.agents.push_back(std::move(a));
  }
  // A quarter of the agents hold a call.
  for (int i = 0; i < agents; i += 4) {
    routing::ContactSnapshot c;
    c.contact.id = absl::StrCat("held-", i);
    c.contact.channel = routing::Channel::kVoice;
    c.contact.required_skills = {{absl::StrCat("s", i % kSkills), 1}};
    c.contact.queue = absl::StrCat("s", i % kSkills);
    c.contact.customer_id = absl::StrCat("cust-", i);
    c.contact.enqueue_time = kNow - absl::Minutes(3);
    c.planned_at = c.contact.enqueue_time;
    c.state = routing::ContactSnapshot::State::kAssigned;
    c.agent_id = state.agents[i].profile.id;
    c.assigned_at = kNow - absl::Minutes(2);
    state.contacts.push_back(std::move(c));
  }
  for (int i = 0; i < queued; ++i) {
    routing::ContactSnapshot c;
    c.contact.id = absl::StrCat("waiting-", i);
    c.contact.channel = routing::Channel::kVoice;
    c.contact.required_skills = {{absl::StrCat("s", i % kSkills), 1}};
    c.contact.queue = absl::StrCat("s", i % kSkills);
    c.contact.languages = {"en"};
    c.contact.priority = i % 10 == 0 ? 5 : 0;
    c.contact.customer_id = absl::StrCat("cust-", i);
    c.contact.attributes["intent"] = "billing.dispute";
    // In service order: arrivals a millisecond apart, oldest first.
    c.contact.enqueue_time = kNow - absl::Minutes(20) + absl::Milliseconds(i);
    c.planned_at = c.contact.enqueue_time;
    c.state = routing::ContactSnapshot::State::kQueued;
    state.contacts.push_back(std::move(c));
  }
  state.customers.reserve(customers);
  for (int i = 0; i < customers; ++i) {
    routing::CustomerSnapshot c;
    c.customer_key = routing::HistoryKey(absl::StrCat("cust-", i));
    c.interactions = {
        {state.agents[i % agents].profile.id, routing::Channel::kVoice,
         routing::ContactOutcome::kResolved, kNow - absl::Hours(1)},
        {state.agents[(i + 1) % agents].profile.id, routing::Channel::kChat,
         routing::ContactOutcome::kUnresolved, kNow - absl::Hours(30)}};
    state.customers.push_back(std::move(c));
  }
  return state;
}

struct Fixture {
  routing::RouterState state;
  std::string body;
  std::string directory;
};

// One state per size, built once.
Fixture& FixtureFor(const benchmark::State& bench) {
  static std::map<int64_t, std::unique_ptr<Fixture>>* fixtures =
      new std::map<int64_t, std::unique_ptr<Fixture>>();
  const int64_t agents = bench.range(0);
  auto& slot = (*fixtures)[agents];
  if (slot == nullptr) {
    slot = std::make_unique<Fixture>();
    slot->state = SyntheticState(static_cast<int>(agents),
                                 static_cast<int>(bench.range(1)),
                                 static_cast<int>(bench.range(2)));
    journal::SnapshotInfo info;
    info.sequence = 1'000'000;
    info.taken_at = kNow;
    slot->body = journal::EncodeSnapshot(info, slot->state);
    const char* tmp = std::getenv("TEST_TMPDIR");
    slot->directory = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                   "/restart_benchmark-", agents);
    std::filesystem::remove_all(slot->directory);
    std::filesystem::create_directories(slot->directory);
    if (!journal::WriteSnapshotFile(slot->directory, 1'000'000, slot->body)
             .ok()) {
      std::abort();
    }
  }
  return *slot;
}

std::unique_ptr<routing::Router> NewRouter(const routing::ManualClock* clock,
                                           int64_t agents) {
  routing::RouterOptions options;
  options.clock = clock;
  options.max_agents = static_cast<int>(std::max<int64_t>(agents, 1000));
  return *routing::Router::Create(options);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Args({1'000, 1'000, 10'000});
  b->Args({100'000, 100'000, 1'000'000});
  b->ArgNames({"agents", "queued", "customers"});
  b->Unit(benchmark::kMillisecond);
  b->Iterations(1);
}

// --- Restart -----------------------------------------------------------------

void BM_RestartReadSnapshotFile(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  for (auto _ : bench) {
    auto file = journal::ReadLatestSnapshotFile(f.directory);
    if (!file.ok() || !file->has_value()) bench.SkipWithError("no snapshot");
    benchmark::DoNotOptimize(file);
  }
  bench.counters["bytes"] = static_cast<double>(f.body.size());
}
BENCHMARK(BM_RestartReadSnapshotFile)->Apply(Sizes);

void BM_RestartDecode(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  for (auto _ : bench) {
    auto snapshot = journal::DecodeSnapshot(f.body);
    if (!snapshot.ok()) bench.SkipWithError("decode failed");
    benchmark::DoNotOptimize(snapshot);
  }
}
BENCHMARK(BM_RestartDecode)->Apply(Sizes);

void BM_RestartImport(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  routing::ManualClock clock(kNow + absl::Seconds(30));
  for (auto _ : bench) {
    auto router = NewRouter(&clock, bench.range(0));
    const absl::Status imported = router->ImportState(f.state);
    if (!imported.ok()) {
      bench.SkipWithError(std::string(imported.message()).c_str());
    }
    bench.PauseTiming();
    router.reset();  // Freeing it is not part of a restart.
    bench.ResumeTiming();
  }
}
BENCHMARK(BM_RestartImport)->Apply(Sizes);

// The whole restart, one after the other.
void BM_RestartTotal(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  routing::ManualClock clock(kNow + absl::Seconds(30));
  for (auto _ : bench) {
    auto file = journal::ReadLatestSnapshotFile(f.directory);
    auto snapshot = journal::DecodeSnapshot((*file)->body);
    auto router = NewRouter(&clock, bench.range(0));
    const absl::Status imported = router->ImportState(snapshot->state);
    if (!imported.ok()) {
      bench.SkipWithError(std::string(imported.message()).c_str());
    }
    bench.PauseTiming();
    router.reset();
    bench.ResumeTiming();
  }
}
BENCHMARK(BM_RestartTotal)->Apply(Sizes);

// routingd's restart: RecoverState (snapshot + the records after it),
// Router::Create, ImportState. Arg 3: records after the snapshot.
void BM_RestartRoutingd(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  const int64_t records = bench.range(3);
  const std::string directory =
      absl::StrCat(f.directory, "-records-", records);
  static std::map<std::string, bool>* written = new std::map<std::string, bool>();
  if (!(*written)[directory]) {
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    if (!journal::WriteSnapshotFile(directory, 1'000'000, f.body).ok()) {
      std::abort();
    }
    auto sink = journal::SegmentSink::Open(directory);
    journal::JournalWriterOptions none;
    none.fsync = journal::FsyncMode::kNone;
    auto writer =
        journal::JournalWriter::Create(*std::move(sink), 1'000'001, none);
    if (!writer.ok()) std::abort();
    // Each record: an agent's state, and a queued contact (listed after the
    // held ones) as it was.
    size_t next_queued = 0;
    while (next_queued < f.state.contacts.size() &&
           f.state.contacts[next_queued].state !=
               routing::ContactSnapshot::State::kQueued) {
      ++next_queued;
    }
    for (int64_t i = 0; i < records; ++i) {
      journal::JournalRecord record;
      record.time = kNow + absl::Milliseconds(i);
      routing::AgentSnapshot agent =
          f.state.agents[static_cast<size_t>(i) % f.state.agents.size()];
      agent.state = routing::AgentState::kBreak;
      agent.state_since = record.time;
      record.agents.push_back({agent.profile.id, agent});
      // The contact as it was: the import stays the snapshot's size.
      if (next_queued < f.state.contacts.size()) {
        const routing::ContactSnapshot& contact =
            f.state.contacts[next_queued++];
        record.contacts.push_back({contact.contact.id, contact});
      }
      if (!(*writer)->Append(journal::EncodeRecord(record)).ok()) std::abort();
    }
    (void)(*writer)->Flush();
    (*written)[directory] = true;
  }
  routing::ManualClock clock(kNow + absl::Seconds(30));
  routing::sidecar::StateJournalOptions options;
  options.directory = directory;
  for (auto _ : bench) {
    auto recovered = routing::sidecar::RecoverState(options);
    if (!recovered.ok()) {
      bench.SkipWithError(std::string(recovered.status().message()).c_str());
      break;
    }
    auto router = NewRouter(&clock, bench.range(0));
    const absl::Status imported = router->ImportState(recovered->state);
    if (!imported.ok()) {
      bench.SkipWithError(std::string(imported.message()).c_str());
    }
    bench.PauseTiming();
    router.reset();
    bench.ResumeTiming();
  }
}
BENCHMARK(BM_RestartRoutingd)
    ->Args({1'000, 1'000, 10'000, 1'000})
    ->Args({100'000, 100'000, 1'000'000, 0})
    ->Args({100'000, 100'000, 1'000'000, 100'000})
    ->ArgNames({"agents", "queued", "customers", "records"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// --- Taking a snapshot ---------------------------------------------------------

void BM_SnapshotExportAndEncode(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  routing::ManualClock clock(kNow + absl::Seconds(30));
  auto router = NewRouter(&clock, bench.range(0));
  if (!router->ImportState(f.state).ok()) bench.SkipWithError("import");
  for (auto _ : bench) {
    journal::SnapshotInfo info;
    info.sequence = 1;
    benchmark::DoNotOptimize(
        journal::EncodeSnapshot(info, router->ExportState()));
  }
}
BENCHMARK(BM_SnapshotExportAndEncode)->Apply(Sizes);

void BM_SnapshotWriteFile(benchmark::State& bench) {
  Fixture& f = FixtureFor(bench);
  const std::string dir = f.directory + "-write";
  std::filesystem::create_directories(dir);
  uint64_t sequence = 1;
  for (auto _ : bench) {
    if (!journal::WriteSnapshotFile(dir, sequence++, f.body).ok()) {
      bench.SkipWithError("write failed");
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SnapshotWriteFile)->Apply(Sizes);

}  // namespace
