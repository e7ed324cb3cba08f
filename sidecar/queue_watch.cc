#include "sidecar/queue_watch.h"

#include <string>
#include <utility>
#include <vector>

namespace routing::sidecar {

QueueWatch::QueueWatch(const Router* router, QueueWatchOptions options)
    : router_(router), options_(options) {}

std::vector<QueueChange> QueueWatch::Look(absl::Time now, bool steps_moved) {
  const bool positions_due =
      now - last_position_walk_ >= options_.position_interval;
  std::vector<QueueChange> changes;
  if (!positions_due && !steps_moved) return changes;
  if (positions_due) last_position_walk_ = now;
  absl::flat_hash_map<std::string, Seen> seen;
  for (QueuedContact& q :
       router_->QueuedContacts(/*queue=*/"", options_.max_per_queue)) {
    Seen now_seen{q.queue_position, q.rules_step};
    auto before = seen_.find(q.contact.id);
    if (before != seen_.end()) {
      if (q.rules_step > before->second.rules_step) {
        changes.push_back({wire::ContactChange::StepMoved, q});
      } else if (positions_due && q.queue_position != before->second.position) {
        changes.push_back({wire::ContactChange::PositionChanged, q});
      } else if (!positions_due) {
        // Not announced: the next due walk compares with what the
        // subscriber last heard.
        now_seen.position = before->second.position;
      }
    }
    seen.emplace(q.contact.id, now_seen);
  }
  seen_ = std::move(seen);
  return changes;
}

}  // namespace routing::sidecar
