#include "journal/journal_replay.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/journal_walk.h"
#include "routing/clock.h"
#include "sidecar/idempotency_store.h"
#include "sidecar/routing_generated.h"
#include "sidecar/request_decoder.h"
#include "sidecar/request_handler.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"

namespace journal {
namespace {

namespace wire = routing::sidecar::wire;

// The assignments the replay's router makes, as its listener hears them.
class HeardAssignments : public routing::AssignmentListener {
 public:
  void OnAssigned(const routing::Assignment& a) override {
    heard_.push_back({a.contact_id, a.queue, a.waited, a.decision});
  }
  std::vector<RecordedAssignment> Take() { return std::move(heard_); }

 private:
  std::vector<RecordedAssignment> heard_;
};

// A reply verified (a recorded one comes from disk); null if unsound.
const wire::Reply* ReadReply(const std::string& bytes,
                             std::vector<uint64_t>* scratch) {
  if (bytes.empty()) return nullptr;
  const uint8_t* data = routing::sidecar::AlignedCopy(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), scratch);
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<wire::Reply>(routing::sidecar::kFileIdentifier)) {
    return nullptr;
  }
  return flatbuffers::GetRoot<wire::Reply>(data);
}

std::string Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

// What a reply decided, as compared between the runs.
std::string Outcome(const wire::Reply* reply) {
  if (reply == nullptr) return "no reply";
  if (const wire::Error* e = reply->body_as_Error()) {
    return absl::StrCat("error ", wire::EnumNameErrorCode(e->code()));
  }
  if (const wire::Decision* d = reply->body_as_Decision()) {
    if (d->outcome() == wire::DecisionOutcome::Assigned) {
      return absl::StrCat(d->offered() ? "offered to " : "assigned to ",
                          Str(d->agent_id()));
    }
    return absl::StrCat("queued in ", Str(d->queue()), " at position ",
                        d->queue_position());
  }
  return wire::EnumNameReplyBody(reply->body_type());
}

std::string Assignments(const std::vector<RecordedAssignment>& list) {
  if (list.empty()) return "none";
  std::string out;
  for (const RecordedAssignment& a : list) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", a.contact_id, " to ",
                    a.decision.agent_id);
  }
  return out;
}

std::string What(uint64_t sequence, const JournalRecord& record,
                 const wire::Reply* recorded) {
  std::string what = absl::StrCat(
      "record #", sequence, " at ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", record.time,
                       absl::UTCTimeZone()));
  if (record.kind == RecordKind::kQueueAdvance) {
    absl::StrAppend(&what, " (the step timer)");
  } else if (recorded != nullptr) {
    absl::StrAppend(&what, " (request ", recorded->request_id(), ")");
  }
  return what;
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

std::string WaitFigures(std::vector<double> waits) {
  if (waits.empty()) return "none answered";
  std::sort(waits.begin(), waits.end());
  double sum = 0;
  for (double w : waits) sum += w;
  return absl::StrFormat("mean %.1f s, p90 %.1f s, max %.1f s (%d answered)",
                         sum / waits.size(),
                         waits[std::min(waits.size() - 1,
                                        waits.size() * 9 / 10)],
                         waits.back(), static_cast<int>(waits.size()));
}

}  // namespace

absl::StatusOr<ReplayReport> ReplayJournal(const std::string& directory,
                                           const ReplayOptions& options) {
  const bool what_if = !options.other_rules_file.empty();
  routing::ManualClock clock(absl::UnixEpoch());
  HeardAssignments heard;
  routing::RouterOptions router_options = options.router;
  router_options.clock = &clock;
  router_options.listener = &heard;
  absl::StatusOr<std::unique_ptr<routing::Router>> router =
      routing::Router::Create(router_options);
  if (!router.ok()) return router.status();
  routing::sidecar::RulesInForce rules(router->get(), options.rules);
  if (what_if) {
    if (absl::Status s = rules.LoadAtStart(options.other_rules_file);
        !s.ok()) {
      return s;
    }
  }
  routing::sidecar::SidecarMetrics metrics;
  routing::sidecar::RequestHandlerOptions handler_options;
  handler_options.clock = &clock;
  handler_options.rules = &rules;
  routing::sidecar::RequestHandler handler(router->get(), &metrics,
                                           handler_options);
  routing::sidecar::ScopedIdempotencyStore keys;
  flatbuffers::FlatBufferBuilder fbb(1024);

  ReplayReport report;
  std::map<std::string, ContactOutcomes> contacts;
  int released_while_waiting = 0;
  auto outcome_of = [&](const std::string& id) -> ContactOutcomes& {
    ContactOutcomes& o = contacts[id];
    o.contact_id = id;
    return o;
  };
  // The first answer of each run counts.
  auto recorded_answer = [&](const std::string& id, const std::string& agent,
                             absl::Duration waited) {
    ContactOutcomes& o = outcome_of(id);
    if (o.recorded_agent.empty()) {
      o.recorded_agent = agent;
      o.recorded_wait = waited;
    }
  };
  auto replayed_answer = [&](const std::string& id, const std::string& agent,
                             absl::Duration waited) {
    ContactOutcomes& o = outcome_of(id);
    if (o.replayed_agent.empty()) {
      o.replayed_agent = agent;
      o.replayed_wait = waited;
    }
  };
  // The wait of a contact a reply assigned: from its enqueue time.
  auto waited_now = [&](const std::string& id) {
    absl::StatusOr<routing::ContactStatus> status = (*router)->GetContact(id);
    if (!status.ok()) return absl::ZeroDuration();
    return std::max(absl::ZeroDuration(),
                    status->assigned_at - status->contact.enqueue_time);
  };

  absl::Status failed = absl::OkStatus();
  auto walk = WalkJournal(
      directory,
      [&](const Snapshot& snapshot) {
        clock.Set(snapshot.info.taken_at);
        if (!what_if && !snapshot.info.rules_file.empty()) {
          failed = rules.LoadSourceAtStart(snapshot.info.rules_file,
                                           snapshot.info.rules_source);
        }
        if (failed.ok()) failed = (*router)->ImportState(snapshot.state);
        (void)heard.Take();
      },
      [&](uint64_t sequence, const JournalRecord& record) -> absl::Status {
        if (!failed.ok()) return failed;
        ++report.records;
        clock.Set(record.time);
        std::vector<uint64_t> recorded_scratch;
        const wire::Reply* recorded = ReadReply(record.reply, &recorded_scratch);
        std::string replay_bytes;
        switch (record.kind) {
          case RecordKind::kRestored:
            return absl::OkStatus();  // A restart: nothing was asked.
          case RecordKind::kRulesReload:
            if (what_if) return absl::OkStatus();
            return rules.LoadSourceAtStart(record.rules_file,
                                           record.rules_source);
          case RecordKind::kQueueAdvance:
            handler.AdvanceQueues();
            break;
          case RecordKind::kRequest: {
            handler.Handle(
                reinterpret_cast<const uint8_t*>(record.request.data()),
                record.request.size(), fbb);
            replay_bytes.assign(
                reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                fbb.GetSize());
            break;
          }
        }
        std::vector<RecordedAssignment> replayed = heard.Take();
        std::vector<uint64_t> replay_scratch;
        const wire::Reply* replay = ReadReply(replay_bytes, &replay_scratch);

        // Each run's answers, for the what-if report.
        const wire::Decision* recorded_decision =
            recorded != nullptr ? recorded->body_as_Decision() : nullptr;
        const wire::Decision* replay_decision =
            replay != nullptr ? replay->body_as_Decision() : nullptr;
        if (recorded_decision != nullptr) {
          const std::string id = Str(recorded_decision->contact_id());
          outcome_of(id);
          if (recorded_decision->outcome() == wire::DecisionOutcome::Assigned) {
            absl::Duration waited = absl::ZeroDuration();
            for (const ContactChange& c : record.contacts) {
              if (c.id == id && c.contact.has_value()) {
                waited = std::max(absl::ZeroDuration(),
                                  c.contact->assigned_at -
                                      c.contact->contact.enqueue_time);
              }
            }
            recorded_answer(id, Str(recorded_decision->agent_id()), waited);
          }
        }
        for (const RecordedAssignment& a : record.assignments) {
          recorded_answer(a.contact_id, a.decision.agent_id, a.waited);
        }
        if (replay_decision != nullptr &&
            replay_decision->outcome() == wire::DecisionOutcome::Assigned) {
          const std::string id = Str(replay_decision->contact_id());
          replayed_answer(id, Str(replay_decision->agent_id()),
                          waited_now(id));
        }
        for (const RecordedAssignment& a : replayed) {
          replayed_answer(a.contact_id, a.decision.agent_id, a.waited);
        }

        if (what_if) {
          // A contact the recording released while it still waits in the
          // replay (its agent there is busy with another): it leaves, so
          // the replay does not keep customers the recording served.
          if (replay != nullptr && replay->body_as_Error() != nullptr &&
              recorded != nullptr && recorded->body_as_Error() == nullptr &&
              record.contacts.size() > 0 &&
              !record.contacts.front().contact.has_value()) {
            const std::string& id = record.contacts.front().id;
            absl::StatusOr<routing::ContactStatus> held =
                (*router)->GetContact(id);
            if (held.ok() &&
                held->state == routing::ContactStatus::State::kQueued) {
              ++released_while_waiting;
              (void)(*router)->Cancel(id);
            }
          }
          return absl::OkStatus();
        }

        // Exact: the same decisions, or the first difference.
        ++report.decisions_compared;
        if (record.kind == RecordKind::kRequest &&
            Outcome(recorded) != Outcome(replay)) {
          report.first_difference = absl::StrCat(
              What(sequence, record, recorded), ": recorded ",
              Outcome(recorded), ", replay ", Outcome(replay));
          return absl::CancelledError("stop");
        }
        std::vector<std::pair<std::string, std::string>> want, got;
        for (const RecordedAssignment& a : record.assignments) {
          want.emplace_back(a.contact_id, a.decision.agent_id);
        }
        for (const RecordedAssignment& a : replayed) {
          got.emplace_back(a.contact_id, a.decision.agent_id);
        }
        if (want != got) {
          report.first_difference = absl::StrCat(
              What(sequence, record, recorded),
              ": assignments from the queues recorded ",
              Assignments(record.assignments), ", replay ",
              Assignments(replayed));
          return absl::CancelledError("stop");
        }
        return absl::OkStatus();
      });
  if (!failed.ok()) return failed;
  if (!walk.ok() && !absl::IsCancelled(walk.status())) return walk.status();
  const std::string from =
      walk.ok() && walk->from_snapshot
          ? absl::StrCat(" from the snapshot before #", walk->first_sequence)
          : std::string();

  if (!what_if) {
    report.summary.push_back(
        report.first_difference.empty()
            ? absl::StrCat("replayed ", report.records, " records", from,
                           ": every decision came out as recorded")
            : absl::StrCat("replayed ", report.records, " records", from,
                           "; first difference: ",
                           report.first_difference));
    return report;
  }
  int both = 0, other_agent = 0, recorded_only = 0, replay_only = 0;
  std::vector<double> recorded_waits, replayed_waits;
  std::vector<std::string> changed;
  for (auto& [id, o] : contacts) {
    if (!o.recorded_agent.empty()) recorded_waits.push_back(Seconds(o.recorded_wait));
    if (!o.replayed_agent.empty()) replayed_waits.push_back(Seconds(o.replayed_wait));
    if (!o.recorded_agent.empty() && !o.replayed_agent.empty()) {
      ++both;
      if (o.recorded_agent != o.replayed_agent) {
        ++other_agent;
        changed.push_back(absl::StrFormat(
            "  %s: %s after %.0f s -> %s after %.0f s", id, o.recorded_agent,
            Seconds(o.recorded_wait), o.replayed_agent,
            Seconds(o.replayed_wait)));
      }
    } else if (!o.recorded_agent.empty()) {
      ++recorded_only;
      changed.push_back(absl::StrFormat(
          "  %s: %s after %.0f s -> not answered", id, o.recorded_agent,
          Seconds(o.recorded_wait)));
    } else if (!o.replayed_agent.empty()) {
      ++replay_only;
      changed.push_back(absl::StrFormat(
          "  %s: not answered -> %s after %.0f s", id, o.replayed_agent,
          Seconds(o.replayed_wait)));
    }
    report.contacts.push_back(o);
  }
  report.summary = {
      absl::StrCat("replayed ", report.records, " records", from, " under ",
                   options.other_rules_file, " instead of the recorded rules"),
      absl::StrCat("contacts routed: ", contacts.size(), "; answered in both: ",
                   both, ", by another agent: ", other_agent),
      absl::StrCat("answered only as recorded: ", recorded_only,
                   "; only under the other rules: ", replay_only),
      absl::StrCat("waits as recorded: ", WaitFigures(recorded_waits)),
      absl::StrCat("waits under the other rules: ",
                   WaitFigures(replayed_waits)),
  };
  if (released_while_waiting > 0) {
    report.summary.push_back(absl::StrCat(
        released_while_waiting,
        " contacts released in the recording were still waiting under the "
        "other rules (they leave there too)"));
  }
  if (!changed.empty()) {
    report.summary.push_back("contacts served differently:");
    for (std::string& line : changed) report.summary.push_back(std::move(line));
  }
  return report;
}

}  // namespace journal
