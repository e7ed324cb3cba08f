// File: sidecar/event_sequencer.h
//
// Numbers events per topic and per topic family as the publisher thread
// forwards them, so that a subscriber to one exact topic (or to one family:
// contact/, queue/, agent/, rules/) can tell it lost events: it sees
// Event.topic_sequence (or family_sequence) 1, 2, 3... and a gap is a loss.
// Both are assigned here, on the one thread that sends on the PUB socket, in
// the order the events leave: gap-free and in publish order, whatever thread
// built them. The numbers are written into the event's buffer in place (the
// encoder always writes both fields, as 0: wire_encoder.h).
//
//   EventSequencer sequencer;                     // the publisher thread's
//   absl::Status s = sequencer.Stamp(topic, data, size);  // before sending
//
// Memory: one counter per topic seen. A contact's topic is forgotten after
// its Cancelled or Released event (its numbering starts afresh if the id is
// routed again), so contact topics are bounded by the contacts held, plus
// one per contact whose event from another thread was forwarded after its
// terminal one (a Cancel racing the assignment of a queued contact).
// Queue and agent topics are bounded by the router's capacities
// (max_queues, max_agents ever added); rules/ holds two.
// Errors: InvalidArgument, nothing counted and the buffer untouched, for a
// topic of no family, or bytes that are not an Event holding both fields.
// Thread-safety: none; one thread (the publisher) owns a sequencer.
#ifndef SIDECAR_EVENT_SEQUENCER_H_
#define SIDECAR_EVENT_SEQUENCER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "sidecar/event_topics.h"

namespace routing::sidecar {

class EventSequencer {
 public:
  // Writes the next topic_sequence of `topic` and family_sequence of its
  // family into the Event in [data, data + size). Any alignment.
  absl::Status Stamp(std::string_view topic, uint8_t* data, size_t size);
  // Topics with a live counter (for tests and the memory bound above).
  size_t tracked_topics() const { return topics_.size(); }

 private:
  absl::flat_hash_map<std::string, uint64_t> topics_;
  std::array<uint64_t, kTopicFamilyCount> families_{};
  std::vector<uint64_t> scratch_;  // An aligned copy, for unaligned input.
};

}  // namespace routing::sidecar

#endif  // SIDECAR_EVENT_SEQUENCER_H_
