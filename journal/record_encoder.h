// File: journal/record_encoder.h
//
// Builds one journal record's body (journal/journal.fbs Record) piece by
// piece, from views of the router's state (routing/router_state.h) with no
// copy between the router and the FlatBuffer: routingd encodes each record
// on the thread that executed the call, while the router still holds what
// the record describes, and hands the writer finished bytes. EncodeRecord
// (journal_record.h) is this encoder fed from a JournalRecord.
//
// One record at a time: Start, then the Add and Set calls in any order,
// then Finish (or FinishInto). The encoder keeps its buffers for the next
// record, so a record allocates nothing but the string Finish returns
// (FinishInto: nothing, once its string has the capacity). Not
// thread-safe.
#ifndef JOURNAL_RECORD_ENCODER_H_
#define JOURNAL_RECORD_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "journal/journal_record.h"
#include "routing/interaction.h"
#include "routing/router_state.h"

namespace journal {

class RecordEncoder {
 public:
  RecordEncoder();
  ~RecordEncoder();
  RecordEncoder(const RecordEncoder&) = delete;
  RecordEncoder& operator=(const RecordEncoder&) = delete;

  // Drops whatever an unfinished record held and starts a new one.
  void Start(RecordKind kind, absl::Time time);
  // In the order they took effect (journal.fbs ContactChange). A null
  // contact: it left the router.
  void AddContact(std::string_view id, const routing::ContactView* contact);
  // A null agent: removed. Without `with_profile`, only its state fields
  // (journal.fbs AgentChange.profile_unchanged): for an event that cannot
  // have changed its profile.
  void AddAgent(std::string_view id, const routing::AgentView* agent,
                bool with_profile = true);
  void AddHistory(uint64_t customer_key,
                  const routing::CustomerInteraction& interaction);
  void AddAssignment(const RecordedAssignment& assignment);
  // kRulesReload: the rules now in force.
  void SetRules(std::string_view file, std::string_view source,
                uint64_t version);
  // The record's body, with the request and reply as exchanged.
  std::string Finish(std::string_view request, std::string_view reply);
  // The same body, in `*body` (replacing what it held, in its capacity).
  void FinishInto(std::string_view request, std::string_view reply,
                  std::string* body);

 private:
  // The builder and the offsets of the record under way (record_encoder.cc:
  // the generated FlatBuffers types stay out of this header).
  struct Under;
  std::unique_ptr<Under> under_;
};

}  // namespace journal

#endif  // JOURNAL_RECORD_ENCODER_H_
