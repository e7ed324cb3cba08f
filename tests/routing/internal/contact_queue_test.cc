#include "routing/internal/contact_queue.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace routing::internal {
namespace {

ContactRecord* NewContact(std::string id, int priority = 0) {
  auto* c = new ContactRecord();
  c->contact.id = std::move(id);
  c->priority = priority;
  c->state.store(ContactRecord::Pack(ContactState::kQueued, -1));
  return c;
}

std::vector<std::string> Queued(const ContactQueue& q, int level) {
  std::vector<std::string> ids;
  q.ForEachQueued(level, [&](ContactRecord* c) {
    ids.push_back(c->id());
    return true;
  });
  return ids;
}

TEST(ContactQueueTest, KeepsArrivalOrderPerPriorityLevel) {
  EpochDomain epoch;
  {
    ContactQueue queue("billing", &epoch);
    auto guard = epoch.Pin();
    std::vector<ContactRecord*> contacts = {NewContact("a"), NewContact("b", 3),
                                            NewContact("c"), NewContact("d", 3)};
    for (ContactRecord* c : contacts) queue.Enqueue(c);
    EXPECT_EQ(Queued(queue, 0), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(Queued(queue, 3), (std::vector<std::string>{"b", "d"}));
    for (ContactRecord* c : contacts) UnrefContact(c, &epoch);  // Creator's ref.
  }
}

TEST(ContactQueueTest, ContactsThatLeftAreSkippedAndTrimmedAtTheHead) {
  EpochDomain epoch;
  ContactQueue queue("billing", &epoch);
  std::vector<ContactRecord*> contacts = {NewContact("a"), NewContact("b"),
                                          NewContact("c")};
  {
    auto guard = epoch.Pin();
    for (ContactRecord* c : contacts) queue.Enqueue(c);
    ASSERT_TRUE(contacts[1]->AssignTo(ContactState::kQueued, 4));
    EXPECT_EQ(Queued(queue, 0), (std::vector<std::string>{"a", "c"}));
    ASSERT_TRUE(contacts[0]->AssignTo(ContactState::kQueued, 5));
    EXPECT_EQ(queue.LinkedCountForTesting(0), 3);
    queue.TrimHead(0);  // a and b are gone from the list now.
    EXPECT_EQ(Queued(queue, 0), (std::vector<std::string>{"c"}));
    EXPECT_EQ(queue.LinkedCountForTesting(0), 1);
    for (ContactRecord* c : contacts) UnrefContact(c, &epoch);
  }
  epoch.Reclaim();
}

TEST(ContactQueueTest, ConcurrentEnqueueLosesNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto guard = epoch.Pin();
        ContactRecord* c = NewContact(std::to_string(t * kPerThread + i), t % 2);
        queue.Enqueue(c);
        if (i % 3 == 0) {
          // Leave again at once, and let the head be trimmed concurrently.
          c->AssignTo(ContactState::kQueued, t);
          queue.TrimHead(t % 2);
        }
        UnrefContact(c, &epoch);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto guard = epoch.Pin();
  size_t live = Queued(queue, 0).size() + Queued(queue, 1).size();
  size_t expected = 0;
  for (int i = 0; i < kPerThread; ++i) expected += (i % 3 != 0);
  EXPECT_EQ(live, expected * kThreads);
}

}  // namespace
}  // namespace routing::internal
