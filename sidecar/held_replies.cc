#include "sidecar/held_replies.h"

#include <algorithm>
#include <utility>

namespace routing::sidecar {
namespace {

struct LaterRecordFirst {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    return a.sequence > b.sequence;
  }
};

}  // namespace

void HeldReplies::Hold(uint64_t sequence, std::unique_ptr<Frames> reply) {
  heap_.push_back({sequence, std::move(reply)});
  std::push_heap(heap_.begin(), heap_.end(), LaterRecordFirst());
}

HeldReplies::Held HeldReplies::PopOldest() {
  std::pop_heap(heap_.begin(), heap_.end(), LaterRecordFirst());
  Held oldest = std::move(heap_.back());
  heap_.pop_back();
  return oldest;
}

size_t HeldReplies::ReleaseSettled(OutcomeOf outcome_of, Release release) {
  size_t released = 0;
  while (!heap_.empty()) {
    // Fates settle in order: the oldest open record ends the release.
    const std::optional<absl::Status> fate = outcome_of(heap_.front().sequence);
    if (!fate.has_value()) break;
    Held oldest = PopOldest();
    release(*fate, *oldest.reply);
    ++released;
  }
  return released;
}

size_t HeldReplies::ReleaseAll(absl::FunctionRef<absl::Status(uint64_t)> wait,
                               Release release) {
  size_t released = 0;
  while (!heap_.empty()) {
    Held oldest = PopOldest();
    release(wait(oldest.sequence), *oldest.reply);
    ++released;
  }
  return released;
}

}  // namespace routing::sidecar
