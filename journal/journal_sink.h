// File: journal/journal_sink.h
//
// Where the journal's framed records go. SegmentSink (segment_sink.h) writes
// them to segment files in a local directory. A replicated log (a NATS
// JetStream stream, a Kafka partition) that a standby routingd follows would
// be another JournalSink: the writer's batching and durability waits stay as
// they are (docs/ARCHITECTURE.md, "Beyond one machine").
#ifndef JOURNAL_JOURNAL_SINK_H_
#define JOURNAL_JOURNAL_SINK_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace journal {

class JournalSink {
 public:
  virtual ~JournalSink() = default;

  // Appends `count` records numbered first_sequence.. whose frames
  // (record_framing.h) are `frames`, back to back. On failure none of them
  // is appended: the sink takes back what it wrote, or moves on so that
  // later records never follow a partial one. Called by one thread at a
  // time.
  virtual absl::Status Append(uint64_t first_sequence, int count,
                              std::string_view frames) = 0;

  // Makes every record appended before the call durable. May run on another
  // thread, concurrently with Append. After a failure, the records appended
  // since the last successful Sync are of unknown fate (a later restart may
  // or may not find them), and the sink moves on to a new place for the
  // next Append.
  virtual absl::Status Sync() = 0;
};

}  // namespace journal

#endif  // JOURNAL_JOURNAL_SINK_H_
