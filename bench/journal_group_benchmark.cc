// What a group frame costs the journal's writer and saves its disk
// (journal/record_group.h): groups of records shaped like the sidecar
// load's (a RequeueContact assigned, with the reply's six score components
// and three runners-up, the contact's and the agent's state after it),
// deflated as the writer does (igzip level 0), deflated at igzip's level 1
// for comparison, and inflated as a reader does. Counters: records per
// second, and bytes per record plain and in the group.
//
//   bazel run //bench:journal_group_benchmark -- --benchmark_repetitions=5
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "flatbuffers/flatbuffers.h"
#include "isa-l/igzip_lib.h"
#include "journal/journal_record.h"
#include "journal/record_framing.h"
#include "journal/record_group.h"
#include "routing/router_state.h"
#include "sidecar/wire_encoder.h"

namespace {

namespace wire = routing::sidecar::wire;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// Record i of a run: contact load-(i % 1000) requeued to one of 200 agents.
std::string RequeueRecordBody(int i) {
  routing::Contact contact;
  contact.id = absl::StrCat("load-", i % 1000);
  contact.channel = routing::Channel::kChat;
  contact.queue = i % 2 == 0 ? "billing" : "sales";
  contact.required_skills = {{contact.queue, 1}};
  contact.languages = {"en"};
  const std::string agent = absl::StrCat("agent-", (i * 37) % 200);

  journal::JournalRecord record;
  record.kind = journal::RecordKind::kRequest;
  record.time = kNow + absl::Microseconds(50 * i);
  {
    flatbuffers::FlatBufferBuilder fbb(512);
    auto body = routing::sidecar::BuildContact(fbb, contact, nullptr);
    routing::sidecar::FinishRequest(
        fbb, /*request_id=*/4000 + i, wire::RequestBody::RequeueContact,
        wire::CreateRequeueContact(fbb, body, false).Union());
    record.request.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                          fbb.GetSize());
  }
  routing::RoutingDecision decision;
  decision.contact_id = contact.id;
  decision.outcome = routing::DecisionOutcome::kAssigned;
  decision.queue = contact.queue;
  decision.channel = contact.channel;
  decision.agent_id = agent;
  decision.score = 0.49 - 0.001 * (i % 17);
  const int load = i % 10;
  decision.components = {
      {"skill", 0.8, 0.35, 0.28,
       absl::StrFormat("%s %d/5 (needs 1)", contact.queue, 1 + i % 5)},
      {"affinity", 0, 0.25, 0, "anonymous customer"},
      {"language", 1, 0.15, 0.15, "en fluency 5/5 (choice 1)"},
      {"load", 1 - load / 10.0, 0.1, 0.1 - load / 100.0,
       absl::StrFormat("holds %d of 10 contacts", load)},
      {"occupancy", 0, 0.05, 0, "handling 100% of logged-in time"},
      {"idle", 0, 0.1, 0, "busy with other contacts"}};
  for (int r = 1; r <= 3; ++r) {
    decision.runners_up.push_back(
        {absl::StrCat("agent-", (i * 37 + r) % 200), decision.score});
  }
  decision.eligible_agents = 100 + i % 50;
  decision.qualified.total = 100;
  decision.policy_version = 1;
  decision.policy_name = "default";
  decision.decided_at = record.time;
  decision.placement = static_cast<uint64_t>(i);
  {
    flatbuffers::FlatBufferBuilder fbb(1024);
    auto body = routing::sidecar::BuildDecision(fbb, decision, false);
    routing::sidecar::FinishReply(fbb, 4000 + i, wire::ReplyBody::Decision,
                                  body.Union());
    record.reply.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                        fbb.GetSize());
  }
  routing::ContactSnapshot after;
  after.contact = contact;
  after.contact.excluded_agents = {absl::StrCat("agent-", (i * 11) % 200)};
  after.contact.enqueue_time = record.time;
  after.state = routing::ContactSnapshot::State::kAssigned;
  after.planned_at = record.time;
  after.placement = static_cast<uint64_t>(i);
  after.agent_id = agent;
  after.assigned_at = record.time;
  record.contacts.push_back({contact.id, after});
  routing::AgentSnapshot freed;
  freed.profile.id = after.contact.excluded_agents[0];
  freed.profile.skills = {{"billing", 1 + i % 5}, {"sales", 1 + (i / 5) % 5}};
  freed.profile.languages = {{"en", 5}};
  freed.profile.SetCapacity(routing::Channel::kChat, 10);
  freed.state = routing::AgentState::kAvailable;
  freed.state_since = kNow - absl::Minutes(3);
  freed.idle_since = freed.state_since;
  freed.logged_in_at = freed.state_since;
  freed.handled = absl::Seconds(9 + i % 7);
  record.agents.push_back({freed.profile.id, freed});
  return journal::EncodeRecord(record);
}

// The plain frames of `records` consecutive records.
std::string PlainFrames(int records) {
  std::string frames;
  for (int i = 0; i < records; ++i) {
    journal::AppendFrame(RequeueRecordBody(i), &frames);
  }
  return frames;
}

void SetCounters(benchmark::State& state, int records, size_t plain,
                 size_t group) {
  state.counters["records_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * records,
      benchmark::Counter::kIsRate);
  state.counters["plain_bytes_per_record"] =
      static_cast<double>(plain) / records;
  state.counters["group_bytes_per_record"] =
      static_cast<double>(group + journal::kFrameHeaderBytes) / records;
}

// As the writer's thread does it.
void BM_GroupDeflate(benchmark::State& state) {
  const int records = static_cast<int>(state.range(0));
  const std::string frames = PlainFrames(records);
  journal::RecordGroupDeflater deflater;
  std::string body;
  for (auto _ : state) {
    if (!deflater.Deflate(frames, records, &body)) {
      state.SkipWithError("the group did not shrink");
      return;
    }
    benchmark::DoNotOptimize(body.data());
  }
  SetCounters(state, records, frames.size(), body.size());
}
BENCHMARK(BM_GroupDeflate)->Arg(2)->Arg(14)->Arg(56)->Arg(200);

// The same groups at igzip's level 1 (the writer uses level 0).
void BM_GroupDeflateLevel1(benchmark::State& state) {
  const int records = static_cast<int>(state.range(0));
  const std::string frames = PlainFrames(records);
  std::vector<uint8_t> level_buffer(ISAL_DEF_LVL1_DEFAULT);
  std::vector<uint8_t> out(frames.size() + 1024);
  uint32_t size = 0;
  for (auto _ : state) {
    isal_zstream stream;
    isal_deflate_stateless_init(&stream);
    stream.level = 1;
    stream.level_buf = level_buffer.data();
    stream.level_buf_size = static_cast<uint32_t>(level_buffer.size());
    stream.end_of_stream = 1;
    stream.next_in =
        reinterpret_cast<uint8_t*>(const_cast<char*>(frames.data()));
    stream.avail_in = static_cast<uint32_t>(frames.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uint32_t>(out.size());
    if (isal_deflate_stateless(&stream) != COMP_OK) {
      state.SkipWithError("igzip level 1 failed");
      return;
    }
    size = stream.total_out;
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, records, frames.size(),
              journal::kRecordGroupHeaderBytes + size);
}
BENCHMARK(BM_GroupDeflateLevel1)->Arg(2)->Arg(14)->Arg(56)->Arg(200);

// As a reader (restart, routing_journal) does it.
void BM_GroupInflate(benchmark::State& state) {
  const int records = static_cast<int>(state.range(0));
  const std::string frames = PlainFrames(records);
  journal::RecordGroupDeflater deflater;
  std::string body;
  if (!deflater.Deflate(frames, records, &body)) {
    state.SkipWithError("the group did not shrink");
    return;
  }
  std::string back;
  for (auto _ : state) {
    absl::StatusOr<int> count = journal::InflateRecordGroup(body, &back);
    if (!count.ok()) {
      state.SkipWithError("the group did not inflate");
      return;
    }
    benchmark::DoNotOptimize(back.data());
  }
  SetCounters(state, records, frames.size(), body.size());
}
BENCHMARK(BM_GroupInflate)->Arg(2)->Arg(14)->Arg(56)->Arg(200);

}  // namespace
