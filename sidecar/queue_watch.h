// File: sidecar/queue_watch.h
//
// Finds what happened to waiting contacts without a request: the ones a
// rules step moved (AdvanceQueues) and the ones whose place in line changed,
// for the StepMoved and PositionChanged events (routing.fbs). The router
// tells its listener of assignments only, so this compares one walk of the
// queued contacts (Router::QueuedContacts) with the previous one.
//
//   QueueWatch watch(router, {});             // owned by the step timer
//   int moved = router->AdvanceQueues();
//   for (const QueueChange& c : watch.Look(clock->Now(), moved > 0)) ...
//
// Rate and cost: a walk runs when a step moved some contact, and otherwise
// at most once per `position_interval`; PositionChanged comes only from the
// latter, so each contact gets at most one PositionChanged per interval.
// A walk lists at most `max_per_queue` contacts of each queue (the first in
// service order): contacts further back get neither event, and memory holds
// one small entry per listed contact. A contact is compared with the walk
// before: the first walk that lists it takes its baseline (its Queued event
// carried its position and step), and a StepMoved is a rules step that went
// up since (a step that went down is a requeue, announced by its request).
// Thread-safety: none; one thread (the step timer) owns a QueueWatch.
#ifndef SIDECAR_QUEUE_WATCH_H_
#define SIDECAR_QUEUE_WATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "routing/router.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {

struct QueueWatchOptions {
  // PositionChanged at most this often per contact; 1 s suits a wall board
  // or a "you are number 3" prompt without flooding either.
  absl::Duration position_interval = absl::Seconds(1);
  // The walk's cap per queue (Router::QueuedContacts' limit, at most 1000).
  int max_per_queue = 1000;
};

struct QueueChange {
  wire::ContactChange change = wire::ContactChange::PositionChanged;
  QueuedContact contact;  // As the walk listed it: its new place and step.
};

class QueueWatch {
 public:
  // `router` must outlive the watch.
  QueueWatch(const Router* router, QueueWatchOptions options);
  // Walks if due (see above; `steps_moved`: AdvanceQueues moved some contact
  // just now) and returns the changes since the previous walk, in service
  // order; empty when no walk was due.
  std::vector<QueueChange> Look(absl::Time now, bool steps_moved);

 private:
  struct Seen {
    int64_t position = 0;  // As last announced, or its baseline.
    int rules_step = 0;
  };
  const Router* router_;
  QueueWatchOptions options_;
  absl::Time last_position_walk_ = absl::InfinitePast();
  absl::flat_hash_map<std::string, Seen> seen_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_QUEUE_WATCH_H_
