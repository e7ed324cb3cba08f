// routingd's journal under concurrent calls: worker threads routing,
// releasing and cancelling their own contacts and changing agents' states
// at once, the step timer's AdvanceQueues and snapshots racing them. At
// quiescence, before anything else runs, what a restart recovers from the
// directory must be the router's state, and every reply that succeeded
// must have a durable record. Run under ThreadSanitizer too (tag
// "concurrency").
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "rules/lua_rules.h"
#include "sidecar/request_handler.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/state_journal.h"
#include "sidecar/wire_encoder.h"
#include "tests/journal/journal_test_support.h"
#include "tests/journal/router_state_lines.h"

namespace routing::sidecar {
namespace {

constexpr int kThreads = 4;
constexpr int kCallsPerThread = 1500;

std::vector<uint8_t> Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::vector<uint8_t>(fbb.GetBufferPointer(),
                              fbb.GetBufferPointer() + fbb.GetSize());
}

TEST(StateJournalStressTest, ConcurrentCallsRecoverToTheRoutersState) {
  const std::string dir = journal::ScratchDirectory("state-journal-stress");
  SidecarMetrics metrics;
  AssignmentPublisher publisher(&metrics, absl::Seconds(20));
  JournalListener listener(&publisher);
  RouterOptions options;
  options.listener = &listener;
  options.max_contacts = 4096;
  options.history_customers = 4096;
  std::unique_ptr<Router> router = Router::Create(options).value();
  RulesInForce rules(router.get(), rules::RulesOptions());
  StateJournalOptions journal_options;
  journal_options.directory = dir;
  journal_options.writer.fsync = journal::FsyncMode::kBatch;
  journal_options.writer.batch_interval = absl::Microseconds(200);
  journal_options.snapshot_interval = absl::ZeroDuration();
  journal_options.snapshot_records = 0;
  std::unique_ptr<StateJournal> journal =
      StateJournal::Open(router.get(), &rules, journal_options, 1).value();
  RequestHandlerOptions handler_options;
  handler_options.rules = &rules;
  handler_options.journal = journal.get();
  RequestHandler handler(router.get(), &metrics, handler_options);

  for (int a = 0; a < 6; ++a) {
    AgentProfile agent;
    agent.id = absl::StrCat("agent-", a);
    agent.skills = {{"billing", 3}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(Channel::kVoice, 1);
    agent.SetCapacity(Channel::kChat, 2);
    ASSERT_TRUE(router->AddAgent(agent).ok());
  }

  std::atomic<bool> done{false};
  std::atomic<int> not_durable{0};
  std::atomic<uint64_t> request_ids{0};
  auto worker = [&](int index) {
    std::mt19937 rng(index + 1);
    flatbuffers::FlatBufferBuilder reply;
    auto send = [&](flatbuffers::FlatBufferBuilder& fbb) {
      const std::vector<uint8_t> request = Bytes(fbb);
      handler.Handle(request.data(), request.size(), reply);
      const uint64_t sequence = StateJournal::TakeThreadSequence();
      const wire::Reply* r =
          flatbuffers::GetRoot<wire::Reply>(reply.GetBufferPointer());
      if (r->body_type() != wire::ReplyBody::Error && sequence != 0 &&
          !journal->WaitDurable(sequence).ok()) {
        not_durable.fetch_add(1);
      }
    };
    for (int i = 0; i < kCallsPerThread; ++i) {
      flatbuffers::FlatBufferBuilder fbb;
      const std::string contact =
          absl::StrCat("t", index, "-c", rng() % 30);  // this thread's own
      const uint64_t id = ++request_ids;
      switch (rng() % 5) {
        case 0:
        case 1: {
          Contact c;
          c.id = contact;
          c.channel = rng() % 2 == 0 ? Channel::kVoice : Channel::kChat;
          c.customer_id = absl::StrCat("cust-", rng() % 50);
          c.required_skills = {{"billing", 1}};
          auto body = BuildContact(fbb, c, nullptr);
          FinishRequest(fbb, id, wire::RequestBody::RouteContact,
                        wire::CreateRouteContact(fbb, body).Union());
          break;
        }
        case 2:
          FinishRequest(
              fbb, id, wire::RequestBody::ReleaseContact,
              wire::CreateReleaseContact(fbb, fbb.CreateString(contact),
                                         wire::Outcome::Resolved)
                  .Union());
          break;
        case 3:
          FinishRequest(
              fbb, id, wire::RequestBody::CancelContact,
              wire::CreateCancelContact(fbb, fbb.CreateString(contact))
                  .Union());
          break;
        case 4: {
          const std::string agent = absl::StrCat("agent-", rng() % 6);
          const auto state = rng() % 3 == 0 ? wire::AgentStateKind::Break
                                            : wire::AgentStateKind::Available;
          FinishRequest(fbb, id, wire::RequestBody::SetAgentState,
                        wire::CreateSetAgentState(
                            fbb, fbb.CreateString(agent), state)
                            .Union());
          break;
        }
      }
      send(fbb);
    }
  };
  std::thread timer([&] {
    int ticks = 0;
    while (!done.load()) {
      handler.AdvanceQueues();
      if (++ticks % 20 == 0) {
        EXPECT_TRUE(journal->Snapshot().ok());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) workers.emplace_back(worker, t);
  for (std::thread& t : workers) t.join();
  done = true;
  timer.join();

  // Quiescence: nothing runs; compare before any repair could happen.
  EXPECT_EQ(not_durable.load(), 0);
  const routing::RouterState final_state = router->ExportState();
  ASSERT_TRUE(journal->WaitDurable(journal->Stats().writer.appended).ok());
  StateJournalOptions read;
  read.directory = dir;
  absl::StatusOr<RecoveredState> recovered = RecoverState(read);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(journal::SameState(journal::Canonical(recovered->state),
                                 journal::Canonical(final_state)));
}

}  // namespace
}  // namespace routing::sidecar
