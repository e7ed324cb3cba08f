// File: sidecar/subscriber_interest.h
//
// Which event families (event_topics.h) some subscriber of routingd's PUB
// socket listens to, so that the threads raising events build none that
// nobody would receive: with no subscriber at all, events cost the request
// path nothing.
//
// The publisher thread owns the socket (an XPUB, which hands it every new
// subscription and every subscription dropped, for the last subscriber of
// that prefix, as a message) and reports them here; any thread asks Wants.
//
//   SubscriberInterest interest;              // nobody subscribed yet
//   interest.Subscribe("contact/chat-1\0");   // publisher thread
//   interest.Wants(TopicFamily::kContact);    // any thread: true
//
// A family is wanted while some subscription prefix could match one of its
// topics: "" (everything), a prefix of the family's name ("con"), or a text
// that starts with it ("contact/", "contact/chat-1\0"). An event raised
// before a subscription is reported here is not built; ZeroMQ would not have
// delivered it to that subscriber either (a subscription takes effect when it
// reaches the publisher).
// Thread-safety: Subscribe and Unsubscribe from one thread (the publisher);
// Wants from any.
#ifndef SIDECAR_SUBSCRIBER_INTEREST_H_
#define SIDECAR_SUBSCRIBER_INTEREST_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "sidecar/event_topics.h"

namespace routing::sidecar {

class SubscriberInterest {
 public:
  SubscriberInterest() = default;
  SubscriberInterest(const SubscriberInterest&) = delete;
  SubscriberInterest& operator=(const SubscriberInterest&) = delete;

  void Subscribe(std::string_view prefix);
  void Unsubscribe(std::string_view prefix);
  // One XPUB subscription message: byte 1 then the prefix subscribes, byte 0
  // then the prefix unsubscribes; anything else is ignored (false).
  bool Apply(const uint8_t* message, size_t size);

  bool Wants(TopicFamily family) const {
    return (families_.load(std::memory_order_relaxed) >>
            static_cast<int>(family)) & 1;
  }
  // The prefixes subscribed now (publisher thread only).
  size_t subscriptions() const { return prefixes_.size(); }

 private:
  void Recompute();

  absl::flat_hash_map<std::string, int> prefixes_;  // Prefix -> count.
  std::atomic<uint32_t> families_{0};               // Bit per TopicFamily.
};

}  // namespace routing::sidecar

#endif  // SIDECAR_SUBSCRIBER_INTEREST_H_
