// Many threads drive one RequestHandler at once, as routingd's workers do:
// every reply must verify and match its request, every queued contact's
// assignment must be published exactly once, and ThreadSanitizer must stay
// quiet (this test is tagged "concurrency").
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "routing/router.h"
#include "sidecar/request_handler.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

class CountingSink : public EventSink {
 public:
  void Publish(const std::vector<std::string>& topics, const uint8_t* data,
               size_t size) override {
    flatbuffers::Verifier verifier(data, size);
    ASSERT_TRUE(verifier.VerifyBuffer<wire::Event>(kFileIdentifier));
    const auto* event = flatbuffers::GetRoot<wire::Event>(data);
    // Assignments from queues (immediate ones are published too, and
    // counted apart by the router).
    if (const auto* assigned = event->body_as_ContactAssigned();
        assigned != nullptr && !assigned->immediate()) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++assignments_[assigned->contact_id()->str()];
    }
  }
  absl::flat_hash_map<std::string, int> assignments() {
    std::lock_guard<std::mutex> lock(mutex_);
    return assignments_;
  }

 private:
  std::mutex mutex_;
  absl::flat_hash_map<std::string, int> assignments_;
};

// Handles `request` into `reply`: the reply, or null if it does not verify
// or answers another request id than `request_id`.
const wire::Reply* HandleChecked(RequestHandler& handler,
                                 flatbuffers::FlatBufferBuilder& request,
                                 uint64_t request_id,
                                 flatbuffers::FlatBufferBuilder& reply) {
  handler.Handle(request.GetBufferPointer(), request.GetSize(), reply);
  flatbuffers::Verifier verifier(reply.GetBufferPointer(), reply.GetSize());
  if (!verifier.VerifyBuffer<wire::Reply>(kFileIdentifier)) return nullptr;
  const auto* r = flatbuffers::GetRoot<wire::Reply>(reply.GetBufferPointer());
  return r->request_id() == request_id ? r : nullptr;
}

TEST(RequestHandlerStressTest, ConcurrentWorkersKeepRepliesAndEventsWhole) {
  constexpr int kThreads = 4;
  constexpr int kContactsPerThread = 400;
  constexpr int kAgents = 8;
  SidecarMetrics metrics;
  AssignmentPublisher publisher(&metrics, absl::Seconds(20));
  RouterOptions options;
  options.listener = &publisher;
  options.max_agents = 100;
  options.max_contacts = 10000;
  std::unique_ptr<Router> router = Router::Create(options).value();
  RequestHandler handler(router.get(), &metrics, {});
  for (int a = 0; a < kAgents; ++a) {
    AgentProfile agent;
    agent.id = absl::StrCat("agent-", a);
    agent.skills = {{"sales", 3}};
    agent.SetCapacity(Channel::kChat, 1);
    ASSERT_TRUE(router->AddAgent(agent).ok());
    ASSERT_TRUE(router->SetAgentState(agent.id, AgentState::kAvailable).ok());
  }
  CountingSink sink;
  std::atomic<int> queued{0};
  std::atomic<int> bad_replies{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ScopedEventSink scoped(&sink);
      flatbuffers::FlatBufferBuilder reply;
      auto call = [&](flatbuffers::FlatBufferBuilder& fbb, uint64_t id) {
        const wire::Reply* r = HandleChecked(handler, fbb, id, reply);
        if (r == nullptr) bad_replies.fetch_add(1);
        return r;
      };
      for (int i = 0; i < kContactsPerThread; ++i) {
        const std::string id = absl::StrCat("c-", t, "-", i);
        const uint64_t request_id = static_cast<uint64_t>(t) << 32 | (2 * i);
        Contact contact;
        contact.id = id;
        contact.channel = Channel::kChat;
        contact.required_skills = {{"sales", 1}};
        flatbuffers::FlatBufferBuilder route;
        auto c = BuildContact(route, contact, nullptr);
        FinishRequest(route, request_id, wire::RequestBody::RouteContact,
                      wire::CreateRouteContact(route, c).Union());
        const wire::Reply* r = call(route, request_id);
        if (r == nullptr) continue;
        if (r->body_type() == wire::ReplyBody::Decision &&
            r->body_as_Decision()->outcome() == wire::DecisionOutcome::Queued) {
          queued.fetch_add(1);
        }
        // Release whatever this thread's previous contact became; retried
        // until it has been assigned (it may still be queued).
        if (i > 0) {
          const std::string previous = absl::StrCat("c-", t, "-", i - 1);
          while (true) {
            flatbuffers::FlatBufferBuilder release;
            auto rel = wire::CreateReleaseContact(
                release, release.CreateString(previous),
                wire::Outcome::Resolved);
            FinishRequest(release, request_id + 1,
                          wire::RequestBody::ReleaseContact, rel.Union());
            const wire::Reply* rr = call(release, request_id + 1);
            if (rr == nullptr || rr->body_type() == wire::ReplyBody::Ack) {
              break;
            }
            ASSERT_EQ(rr->body_as_Error()->code(),
                      wire::ErrorCode::FailedPrecondition);
            std::this_thread::yield();
          }
        }
      }
    });
  }
  // A supervisor's wall board on another worker meanwhile: ListContacts,
  // GetContact and GetStats through the same handler. Every reply verifies,
  // answers its own request, and lists each queue's positions 1, 2, 3...
  std::atomic<bool> routing_done{false};
  std::atomic<int> listing_errors{0};
  std::atomic<int> listings{0};
  std::thread wallboard([&] {
    ScopedEventSink scoped(&sink);
    flatbuffers::FlatBufferBuilder reply;
    uint64_t request_id = uint64_t{1} << 40;
    auto call = [&](flatbuffers::FlatBufferBuilder& fbb) {
      const wire::Reply* r = HandleChecked(handler, fbb, request_id, reply);
      if (r == nullptr) bad_replies.fetch_add(1);
      return r;
    };
    do {
      flatbuffers::FlatBufferBuilder list;
      FinishRequest(list, ++request_id, wire::RequestBody::ListContacts,
                    wire::CreateListContacts(list, list.CreateString(""), 1000)
                        .Union());
      const wire::Reply* r = call(list);
      if (r == nullptr || r->body_type() != wire::ReplyBody::ContactList) {
        listing_errors.fetch_add(1);
        break;
      }
      int64_t expected = 1;
      std::string first_waiting;
      for (const wire::ContactInfo* c : *r->body_as_ContactList()->contacts()) {
        if (c->queue_position() != expected++) listing_errors.fetch_add(1);
        if (first_waiting.empty()) first_waiting = c->id()->str();
      }
      if (!first_waiting.empty()) {
        flatbuffers::FlatBufferBuilder get;
        FinishRequest(get, ++request_id, wire::RequestBody::GetContact,
                      wire::CreateGetContact(get, get.CreateString(
                                                      first_waiting))
                          .Union());
        const wire::Reply* g = call(get);
        // Queued, assigned since, or released since: never anything else.
        if (g != nullptr && g->body_type() == wire::ReplyBody::Error &&
            g->body_as_Error()->code() != wire::ErrorCode::NotFound) {
          listing_errors.fetch_add(1);
        }
      }
      flatbuffers::FlatBufferBuilder stats;
      FinishRequest(stats, ++request_id, wire::RequestBody::GetStats,
                    wire::CreateGetStats(stats).Union());
      call(stats);
      listings.fetch_add(1);
    } while (!routing_done.load());
  });
  for (auto& t : threads) t.join();
  routing_done = true;
  wallboard.join();
  EXPECT_EQ(listing_errors.load(), 0);
  EXPECT_GT(listings.load(), 0);
  EXPECT_EQ(bad_replies.load(), 0);
  // Every queued contact was later assigned (its predecessor's release freed
  // an agent), and published exactly once per topic set.
  absl::flat_hash_map<std::string, int> assignments = sink.assignments();
  EXPECT_LE(static_cast<int>(assignments.size()), queued.load());
  for (const auto& [id, count] : assignments) EXPECT_EQ(count, 1) << id;
  const RouterStats stats = router->Stats();
  EXPECT_EQ(stats.decisions, kThreads * kContactsPerThread);
  EXPECT_EQ(stats.assigned_from_queue,
            static_cast<int64_t>(assignments.size()));
  EXPECT_EQ(metrics.requests.load(), metrics.latency().Count());
}

}  // namespace
}  // namespace routing::sidecar
