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

// The router's bookkeeping around a departure: the contact's state CAS, the
// waiting count, then ContactLeft.
void Depart(ContactQueue& queue, ContactRecord* c, int agent) {
  ASSERT_TRUE(c->AssignTo(ContactState::kQueued, agent));
  queue.waiting.fetch_sub(1);
  queue.ContactLeft(c->priority);
}

void Arrive(ContactQueue& queue, ContactRecord* c) {
  queue.waiting.fetch_add(1);
  queue.Enqueue(c);
}

TEST(ContactQueueTest, ALongWaitAtTheHeadDoesNotKeepLaterDeparturesLinked) {
  EpochDomain epoch;
  ContactQueue queue("billing", &epoch);
  std::vector<ContactRecord*> contacts;
  std::vector<std::string> live;
  {
    auto guard = epoch.Pin();
    // The head waits all along (nobody can serve it); behind it 10,000
    // contacts come and go, one in ten still waiting at the end.
    contacts.push_back(NewContact("head"));
    Arrive(queue, contacts.back());
    live.push_back("head");
    for (int i = 0; i < 10'000; ++i) {
      contacts.push_back(NewContact("c" + std::to_string(i)));
      Arrive(queue, contacts.back());
      if (i % 10 == 0) {
        live.push_back(contacts.back()->id());
      } else {
        Depart(queue, contacts.back(), 1);
      }
    }
    EXPECT_EQ(Queued(queue, 0), live);  // Order kept through every sweep.
    // Without sweeps, all 10,001 nodes would still be linked.
    EXPECT_LE(queue.LinkedCountForTesting(0),
              2 * static_cast<int64_t>(live.size()) + kMinSweepDepartures + 1);
    for (ContactRecord* c : contacts) UnrefContact(c, &epoch);
  }
  epoch.Reclaim();
}

TEST(ContactQueueTest, ALaneOfShortStaysIsSweptWithoutLosingTheLastNode) {
  EpochDomain epoch;
  ContactQueue queue("chat", &epoch);
  std::vector<ContactRecord*> contacts;
  {
    auto guard = epoch.Pin();
    contacts.push_back(NewContact("stuck", 2));
    Arrive(queue, contacts.back());
    for (int i = 0; i < 3 * kMinSweepDepartures; ++i) {
      contacts.push_back(NewContact("c" + std::to_string(i), 2));
      Arrive(queue, contacts.back());
      Depart(queue, contacts.back(), 1);
    }
    // The last node stays linked even though it left: enqueuers append to it.
    EXPECT_LE(queue.LinkedCountForTesting(2), kMinSweepDepartures + 2);
    contacts.push_back(NewContact("new", 2));
    Arrive(queue, contacts.back());
    EXPECT_EQ(Queued(queue, 2), (std::vector<std::string>{"stuck", "new"}));
    for (ContactRecord* c : contacts) UnrefContact(c, &epoch);
  }
  epoch.Reclaim();
}

TEST(ContactQueueTest, ConcurrentSweepsLoseNoWaitingContact) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 3000;
  EpochDomain epoch;
  ContactQueue queue("q", &epoch);
  ContactRecord* head = NewContact("head");
  {
    auto guard = epoch.Pin();
    Arrive(queue, head);
  }
  std::atomic<bool> done{false};
  // A reader walks the lane throughout, as decisions and drains do.
  std::thread reader([&] {
    while (!done.load()) {
      auto guard = epoch.Pin();
      int seen_head = 0;
      queue.ForEachQueued(0, [&](ContactRecord* c) {
        seen_head += c == head;
        return true;
      });
      EXPECT_EQ(seen_head, 1);
    }
  });
  std::vector<std::thread> threads;
  std::vector<std::vector<ContactRecord*>> kept(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ContactRecord*> pending;
      for (int i = 0; i < kPerThread; ++i) {
        auto guard = epoch.Pin();
        ContactRecord* c = NewContact(std::to_string(t * kPerThread + i));
        Arrive(queue, c);
        pending.push_back(c);
        // Leave in bursts and out of order, so sweeps race departures both
        // at the head side and in the middle of the lane.
        if (pending.size() == 8) {
          for (size_t k = 1; k < pending.size(); k += 2) {
            if (k == 7 && i % 40 == 39) {
              kept[t].push_back(pending[k]);  // Still waiting at the end.
              continue;
            }
            Depart(queue, pending[k], t);
            UnrefContact(pending[k], &epoch);
          }
          for (size_t k = 0; k < pending.size(); k += 2) {
            Depart(queue, pending[k], t);
            UnrefContact(pending[k], &epoch);
          }
          pending.clear();
        }
      }
      auto guard = epoch.Pin();
      for (ContactRecord* c : pending) {
        Depart(queue, c, t);
        UnrefContact(c, &epoch);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done.store(true);
  reader.join();
  auto guard = epoch.Pin();
  size_t expected = 1;
  for (const auto& k : kept) expected += k.size();
  EXPECT_EQ(Queued(queue, 0).size(), expected);
  EXPECT_EQ(queue.waiting.load(), static_cast<int64_t>(expected));
  queue.ContactLeft(0);  // One more trim settles any request cut short.
  EXPECT_LE(queue.LinkedCountForTesting(0),
            2 * static_cast<int64_t>(expected) + kMinSweepDepartures + 1);
  UnrefContact(head, &epoch);
  for (const auto& k : kept) {
    for (ContactRecord* c : k) UnrefContact(c, &epoch);
  }
}

}  // namespace
}  // namespace routing::internal
