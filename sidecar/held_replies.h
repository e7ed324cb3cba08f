// File: sidecar/held_replies.h
//
// Replies held back until the journal record of their request is durable
// (routingd --journal_dir). The thread that sends replies to clients keeps
// them here, polls the journal's settled_fd(), and after each wake releases
// every reply whose record's fate is known: durable (the reply goes out as
// it is) or failed (the caller turns it into NOT_DURABLE). No thread blocks
// on a sync, and no reply takes an extra hop between threads.
//
//   HeldReplies held;
//   held.Hold(sequence, std::move(reply));       // its record not durable yet
//   ... settled_fd() readable: drain it, then ...
//   held.ReleaseSettled(outcome_of, [&](const absl::Status& fate, Frames& r) {
//     ... send r, or a NOT_DURABLE reply when !fate.ok() ...
//   });
//
// Records settle in sequence order, so replies are released oldest record
// first, and a release stops at the first record still open.
//
// Thread-compatible: one thread holds and releases.
#ifndef SIDECAR_HELD_REPLIES_H_
#define SIDECAR_HELD_REPLIES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "sidecar/zmq_frames.h"

namespace routing::sidecar {

class HeldReplies {
 public:
  // A record's fate: nullopt while open, else what WaitDurable returns
  // (journal::JournalWriter::Outcome).
  using OutcomeOf = absl::FunctionRef<std::optional<absl::Status>(uint64_t)>;
  using Release = absl::FunctionRef<void(const absl::Status& fate, Frames&)>;

  // Holds `reply` (every frame, envelope first) until record `sequence`
  // (>= 1) settles.
  void Hold(uint64_t sequence, std::unique_ptr<Frames> reply);
  // Releases, oldest record first, every held reply whose record has a
  // fate; returns how many.
  size_t ReleaseSettled(OutcomeOf outcome_of, Release release);
  // Releases every held reply, waiting for each record's fate with `wait`
  // (journal::JournalWriter::WaitDurable): at shutdown.
  size_t ReleaseAll(absl::FunctionRef<absl::Status(uint64_t)> wait,
                    Release release);

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Held {
    uint64_t sequence = 0;
    std::unique_ptr<Frames> reply;
  };
  // Pops the oldest record's reply.
  Held PopOldest();
  // A min-heap by sequence: replies arrive from several threads, nearly in
  // order.
  std::vector<Held> heap_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_HELD_REPLIES_H_
