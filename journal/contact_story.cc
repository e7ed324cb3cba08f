#include "journal/contact_story.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "journal/record_description.h"
#include "nlohmann/json.hpp"
#include "routing/channel.h"

namespace journal {
namespace {

using nlohmann::json;

std::string When(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", time, absl::UTCTimeZone());
}

std::string Wait(absl::Duration waited) {
  return absl::FormatDuration(absl::Trunc(waited, absl::Seconds(1)));
}

std::string Text(const json& object, const char* key) {
  return object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : std::string();
}

// The lines telling why an agent was chosen: score, components,
// runners-up (a reply's Decision or a record's assignment, as
// DescribeRecord gives them).
// `alone`: what to say when the decision names no runner-up.
void Explain(const json& d, const std::string& alone,
             std::vector<std::string>* lines) {
  std::string head = absl::StrFormat("      score %.3f", d.value("score", 0.0));
  if (d.contains("eligible_agents")) {
    absl::StrAppend(&head, " of ", d["eligible_agents"].get<int>(),
                    " eligible");
  }
  if (d.value("rules_version", uint64_t{0}) != 0) {
    absl::StrAppend(&head, ", rules v", d["rules_version"].get<uint64_t>(),
                    " step ", d.value("rules_step", 0));
  }
  lines->push_back(head);
  if (d.contains("components")) {
    for (const json& c : d["components"]) {
      lines->push_back(absl::StrFormat(
          "      %-9s %.2f x %.3f = %.3f  %s", Text(c, "name"),
          c.value("weight", 0.0), c.value("value", 0.0),
          c.value("contribution", 0.0), Text(c, "detail")));
    }
  }
  if (d.contains("runners_up")) {
    std::string runners = "      runners-up:";
    for (const json& r : d["runners_up"]) {
      absl::StrAppendFormat(&runners, " %s %.3f", Text(r, "agent"),
                            r.value("score", 0.0));
    }
    lines->push_back(runners);
  } else {
    lines->push_back("      runners-up: none (" + alone + ")");
  }
}

// What made the record: "RouteContact c-1", "the step timer", ...
std::string Cause(const JournalRecord& record, const json& described) {
  switch (record.kind) {
    case RecordKind::kQueueAdvance:
      return "the step timer";
    case RecordKind::kRestored:
      return "the restart";
    case RecordKind::kRulesReload:
      return "a rules reload";
    case RecordKind::kRequest:
      break;
  }
  if (!described.contains("request")) return "a request";
  const json& r = described["request"];
  std::string cause = Text(r, "type");
  if (r.contains("contact")) absl::StrAppend(&cause, " ", Text(r, "contact"));
  if (r.contains("agent")) absl::StrAppend(&cause, " ", Text(r, "agent"));
  return cause;
}

}  // namespace

ContactStory::ContactStory(std::string contact_id)
    : contact_id_(std::move(contact_id)) {}

int64_t ContactStory::PositionOf(const std::string& id) const {
  auto me = waiting_.find(id);
  if (me == waiting_.end()) return 0;
  int64_t position = 1;
  for (const auto& [other, w] : waiting_) {
    if (other == id || w.queue != me->second.queue) continue;
    if (w.aged_ms < me->second.aged_ms ||
        (w.aged_ms == me->second.aged_ms && w.order < me->second.order)) {
      ++position;
    }
  }
  return position;
}

void ContactStory::Track(const ContactChange& change) {
  if (!change.contact.has_value() ||
      change.contact->state != routing::ContactSnapshot::State::kQueued) {
    waiting_.erase(change.id);
    return;
  }
  const routing::ContactSnapshot& c = *change.contact;
  auto [it, added] = waiting_.try_emplace(change.id);
  if (added || it->second.placement != c.placement) {
    it->second.order = next_order_++;
  }
  it->second.queue = c.contact.queue;
  it->second.aged_ms = absl::ToUnixMillis(c.aged_arrival);
  it->second.placement = c.placement;
}

void ContactStory::Start(const routing::RouterState& state,
                         uint64_t snapshot_sequence) {
  for (const routing::ContactSnapshot& c : state.contacts) {
    Track({c.contact.id, c});
    if (c.contact.id != contact_id_) continue;
    std::string line = absl::StrCat(
        When(c.contact.enqueue_time), "  arrived before the journal's first "
        "record (snapshot #", snapshot_sequence, "): ",
        std::string(routing::ChannelName(c.contact.channel)), " in queue ",
        c.contact.queue);
    switch (c.state) {
      case routing::ContactSnapshot::State::kQueued:
        held_ = Held::kQueued;
        break;
      case routing::ContactSnapshot::State::kOffered:
        held_ = Held::kOffered;
        agent_ = c.agent_id;
        absl::StrAppend(&line, ", offered to ", c.agent_id);
        break;
      case routing::ContactSnapshot::State::kAssigned:
        held_ = Held::kAssigned;
        agent_ = c.agent_id;
        absl::StrAppend(&line, ", assigned to ", c.agent_id);
        break;
    }
    lines_.push_back(std::move(line));
  }
  if (held_ == Held::kQueued) {
    lines_.back() += absl::StrCat(", waiting at position ",
                                  PositionOf(contact_id_));
  }
}

void ContactStory::Add(uint64_t sequence, const JournalRecord& record) {
  const ContactChange* mine = nullptr;
  for (const ContactChange& change : record.contacts) {
    Track(change);
    if (change.id == contact_id_) mine = &change;
  }
  if (mine == nullptr) return;
  const json described = DescribeRecord(sequence, record);
  const std::string at = absl::StrCat(When(record.time), "  #", sequence, "  ");
  const std::string cause = Cause(record, described);
  const json* reply = nullptr;
  if (described.contains("reply") && described["reply"].contains("outcome") &&
      Text(described["reply"], "contact") == contact_id_) {
    reply = &described["reply"];
  }
  const json* assigned = nullptr;
  if (described.contains("assignments")) {
    for (const json& a : described["assignments"]) {
      if (Text(a, "contact") == contact_id_) assigned = &a;
    }
  }
  if (reply != nullptr && reply->contains("rules_step")) {
    rules_step_ = (*reply)["rules_step"].get<int>();
  }
  if (assigned != nullptr && assigned->contains("rules_step")) {
    rules_step_ = (*assigned)["rules_step"].get<int>();
  }

  if (!mine->contact.has_value()) {
    const std::string type =
        described.contains("request") ? Text(described["request"], "type")
                                      : std::string();
    std::string how =
        type == "ReleaseContact"
            ? absl::StrCat("released by ", agent_)
            : type == "CancelContact"
                  ? (held_ == Held::kQueued
                         ? std::string("cancelled while waiting (the "
                                       "customer left)")
                         : absl::StrCat("cancelled while with ", agent_,
                                        " (the customer left)"))
                  : absl::StrCat("left (", cause, ")");
    lines_.push_back(at + how);
    held_ = Held::kNone;
    agent_.clear();
    return;
  }
  const routing::ContactSnapshot& c = *mine->contact;
  const Held before = held_;
  const std::string agent_before = agent_;
  held_ = c.state == routing::ContactSnapshot::State::kQueued
              ? Held::kQueued
              : c.state == routing::ContactSnapshot::State::kOffered
                    ? Held::kOffered
                    : Held::kAssigned;
  agent_ = c.agent_id;
  const absl::Duration waited =
      (c.state == routing::ContactSnapshot::State::kQueued ? record.time
                                                           : c.assigned_at) -
      c.contact.enqueue_time;

  if (before == Held::kNone) {
    std::string line = absl::StrCat(
        at, "arrived (", cause, "): ", std::string(routing::ChannelName(c.contact.channel)),
        " in queue ", c.contact.queue, ", priority ", c.contact.priority);
    if (!c.contact.customer_id.empty()) {
      absl::StrAppend(&line, ", customer ", c.contact.customer_id);
    }
    if (held_ == Held::kQueued) {
      absl::StrAppend(&line, " -> queued at position ",
                      PositionOf(contact_id_));
      if (reply != nullptr && reply->contains("estimated_wait_ms")) {
        absl::StrAppend(&line, ", estimated wait ",
                        Wait(absl::Milliseconds(
                            (*reply)["estimated_wait_ms"].get<int64_t>())));
      }
      absl::StrAppend(&line, ", rules step ", rules_step_);
      lines_.push_back(line);
      return;
    }
    absl::StrAppend(&line, " -> ",
                    held_ == Held::kOffered ? "offered to " : "assigned to ",
                    agent_, " at once");
    lines_.push_back(line);
    if (reply != nullptr) {
      Explain(*reply, "no other free agent qualified", &lines_);
    }
    return;
  }
  if (held_ == Held::kQueued) {
    std::string line = at;
    if (before == Held::kQueued) {
      if (record.kind == RecordKind::kQueueAdvance && reply == nullptr) {
        ++rules_step_;
        absl::StrAppend(&line, "moved on to rules step ", rules_step_,
                        " after waiting ", Wait(waited));
      } else {
        absl::StrAppend(&line, "placed again (", cause, ")");
      }
    } else if (record.kind == RecordKind::kQueueAdvance) {
      absl::StrAppend(&line, "the offer to ", agent_before,
                      " lapsed: back in line");
    } else if (before == Held::kOffered) {
      absl::StrAppend(&line, "the offer to ", agent_before, " ended (", cause,
                      "): back in line");
    } else {
      absl::StrAppend(&line, "taken from ", agent_before, " (", cause,
                      "): back in line");
    }
    absl::StrAppend(&line, ", position ", PositionOf(contact_id_), " in ",
                    c.contact.queue);
    lines_.push_back(line);
    return;
  }
  if (before == Held::kOffered && held_ == Held::kAssigned &&
      agent_before == agent_) {
    lines_.push_back(absl::StrCat(at, "accepted by ", agent_));
    return;
  }
  // Assigned or offered now, from a queue or another agent.
  std::string line = at;
  if (before == Held::kOffered && agent_before != agent_) {
    const bool rejected =
        described.contains("request") &&
        Text(described["request"], "type") == "RejectOffer";
    absl::StrAppend(&line, "the offer to ", agent_before,
                    rejected ? " was rejected; " : " lapsed; ");
  }
  absl::StrAppend(&line,
                  held_ == Held::kOffered ? "offered to " : "assigned to ",
                  agent_, " after waiting ", Wait(waited));
  if (reply == nullptr) absl::StrAppend(&line, " (", cause, ")");
  lines_.push_back(line);
  if (assigned != nullptr) {
    Explain(*assigned,
            record.kind == RecordKind::kQueueAdvance
                ? std::string("no other free agent qualified")
                : absl::StrCat(agent_, " became free and took the "
                               "first waiting contact it qualified for, in "
                               "service order"),
            &lines_);
  } else if (reply != nullptr) {
    Explain(*reply, "no other free agent qualified", &lines_);
  }
}

}  // namespace journal
