// File: journal/contact_story.h
//
// One contact's life in a journal, as `routing_journal why DIR CONTACT_ID`
// prints it: when it arrived and how, its place in line as it moved, the
// rules steps it passed, the agent it got and why (the score's components,
// and the runners-up the same scan ranked with their scores), offers
// rejected or lapsed, requeues, and how it ended.
//
//   ContactStory story("chat-7");
//   story.Start(snapshot.state, snapshot.info.sequence);   // if any
//   for each record in order: story.Add(sequence, record);
//   for (const std::string& line : story.lines()) print(line);
//
// Places in line are counted over every contact the records show waiting
// in the same queue (service order: aged arrival, then placement order, as
// the router and restart's fold order them). An id used again by a later
// contact starts a new life, told after the first.
#ifndef JOURNAL_CONTACT_STORY_H_
#define JOURNAL_CONTACT_STORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "journal/journal_record.h"
#include "routing/router_state.h"

namespace journal {

class ContactStory {
 public:
  explicit ContactStory(std::string contact_id);

  // The state the records start from (a snapshot's), before any Add.
  void Start(const routing::RouterState& state, uint64_t snapshot_sequence);
  void Add(uint64_t sequence, const JournalRecord& record);

  // The story so far; empty when the contact was never seen.
  const std::vector<std::string>& lines() const { return lines_; }
  bool found() const { return !lines_.empty(); }

 private:
  enum class Held { kNone, kQueued, kOffered, kAssigned };
  struct Waiting {
    std::string queue;
    int64_t aged_ms = 0;
    uint64_t order = 0;
    uint64_t placement = 0;
  };
  // 1 + the contacts waiting ahead of `id` in its queue.
  int64_t PositionOf(const std::string& id) const;
  void Track(const ContactChange& change);

  const std::string contact_id_;
  absl::flat_hash_map<std::string, Waiting> waiting_;
  uint64_t next_order_ = 0;
  Held held_ = Held::kNone;
  std::string agent_;
  int rules_step_ = 0;
  std::vector<std::string> lines_;
};

}  // namespace journal

#endif  // JOURNAL_CONTACT_STORY_H_
