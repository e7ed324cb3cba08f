// File: sidecar/client.h
//
// C++ client of routingd: one DEALER connection, synchronous calls that build
// the request from the engine's domain types and return the verified reply.
// An Error reply comes back as the matching absl::Status (BUSY as Unavailable,
// MALFORMED_REQUEST as DataLoss, PERMISSION_DENIED (the client's CURVE key
// lacks the role) as PermissionDenied, ... see StatusFromError in
// wire_encoder.h);
// a daemon that does not answer within the timeout is DeadlineExceeded.
// EventSubscriber reads the daemon's PUB socket.
//
//   routing::sidecar::ClientOptions options;
//   options.server = "tcp://127.0.0.1:5555";
//   auto client = routing::sidecar::RoutingClient::Connect(options).value();
//   client->AddAgent(alice);
//   client->SetAgentState("alice", routing::AgentState::kAvailable);
//   absl::StatusOr<routing::sidecar::Reply> reply = client->Route(chat,
//   &handoff); const auto* decision = reply->get()->body_as_Decision();
//
// Ownership: a Reply owns its bytes; pointers from get() live as long as it.
// Thread-safety: a RoutingClient or EventSubscriber belongs to one thread at a
// time (ZeroMQ sockets are not thread-safe); open one per thread.
#ifndef SIDECAR_CLIENT_H_
#define SIDECAR_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "routing/contact_kpis.h"
#include "routing/interaction.h"
#include "sidecar/event_topics.h"
#include "sidecar/routing_generated.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {

struct ClientOptions {
  std::string server = "tcp://127.0.0.1:5555";
  absl::Duration timeout = absl::Seconds(5);
  // CURVE (all three or none), Z85: the server's public key and this
  // client's key pair.
  std::string curve_server_key;
  std::string curve_public_key;
  std::string curve_secret_key;
};

// A verified protocol buffer (Reply or Event) that owns its bytes.
template <typename Root>
class OwnedBuffer {
 public:
  // InvalidArgument/DataLoss if the bytes are not a valid `Root` buffer.
  static absl::StatusOr<OwnedBuffer> Verify(const uint8_t* data, size_t size);
  const Root* get() const { return flatbuffers::GetRoot<Root>(bytes()); }
  const uint8_t* bytes() const {
    return reinterpret_cast<const uint8_t*>(storage_.data());
  }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> storage_;  // 8-byte aligned, as FlatBuffers needs.
  size_t size_ = 0;
};
using Reply = OwnedBuffer<wire::Reply>;
using Event = OwnedBuffer<wire::Event>;

class RoutingClient {
 public:
  static absl::StatusOr<std::unique_ptr<RoutingClient>> Connect(
      const ClientOptions& options);
  ~RoutingClient();

  absl::Status AddAgent(const AgentProfile& profile);
  absl::Status UpdateAgent(const AgentProfile& profile);
  absl::Status RemoveAgent(const std::string& agent_id);
  absl::Status SetAgentState(const std::string& agent_id, AgentState state);
  absl::StatusOr<Reply> ListAgents();
  // Replies hold a Decision; with_explanation asks for its readable text
  // as well (the scored components come in every Decision).
  absl::StatusOr<Reply> Route(const Contact& contact,
                              const HandoffContext* handoff = nullptr,
                              bool with_explanation = false);
  absl::StatusOr<Reply> Requeue(const Contact& contact,
                                bool with_explanation = false);
  absl::Status Cancel(const std::string& contact_id);
  // With the post-contact survey's answers, if any (csat 1..5, nps 0..10;
  // out of range: InvalidArgument, nothing released).
  absl::Status Release(const std::string& contact_id, ContactOutcome outcome,
                       const ContactSurvey& survey = {});
  // Replies hold a ContactInfo; NotFound if routingd holds no such contact.
  absl::StatusOr<Reply> GetContact(const std::string& contact_id);
  // Replies hold a ContactList: the waiting contacts of `queue` (every queue
  // when empty), each queue's in service order, at most limit_per_queue.
  absl::StatusOr<Reply> ListContacts(const std::string& queue = "",
                                     int limit_per_queue = 1000);
  // Replies hold RulesReloaded.
  absl::StatusOr<Reply> ReloadRulesFile(const std::string& path);
  absl::StatusOr<Reply> ReloadRulesSource(const std::string& source);
  absl::StatusOr<Reply> Stats(int window_seconds = 300);
  absl::StatusOr<Reply> Health();

  // Sends a request the caller finished in `fbb` (FinishRequest) and returns
  // its reply, an Error reply included (no Status conversion).
  absl::StatusOr<Reply> CallUnchecked(flatbuffers::FlatBufferBuilder& fbb,
                                      uint64_t request_id);
  // Sends arbitrary bytes as one request frame, e.g. to test the daemon's
  // defences; returns the next reply whatever its id.
  absl::StatusOr<Reply> SendRaw(const void* data, size_t size);
  uint64_t NextRequestId() { return ++last_request_id_; }

 private:
  RoutingClient(void* context, void* socket, absl::Duration timeout);
  absl::StatusOr<Reply> Call(wire::RequestBody type,
                             flatbuffers::FlatBufferBuilder& fbb,
                             flatbuffers::Offset<void> body);
  absl::StatusOr<Reply> Receive(uint64_t request_id, bool any_id);

  void* context_;
  void* socket_;
  absl::Duration timeout_;
  uint64_t last_request_id_ = 0;
};

class EventSubscriber {
 public:
  // Subscribes to each topic prefix ("" for all). Topics end with NUL
  // (event_topics.h): ContactTopic("chat-1") hears chat-1 alone, "contact/"
  // every contact; SubscriptionFor("contact/chat-1") makes the former from
  // text a person wrote. CURVE keys as for the client. ZeroMQ subscriptions
  // take a moment to reach the publisher; events published before that are
  // not seen: subscribe, then read the state (GetContact, ListAgents), and
  // check Event.run_id and topic_sequence for restarts and losses
  // (sidecar/README.md).
  static absl::StatusOr<std::unique_ptr<EventSubscriber>> Connect(
      const std::string& endpoint, const std::vector<std::string>& topics,
      const ClientOptions& curve = {});
  ~EventSubscriber();
  // The next event and its topic (as sent: with its NUL);
  // DeadlineExceeded after `timeout`.
  absl::StatusOr<std::pair<std::string, Event>> Next(absl::Duration timeout);

 private:
  EventSubscriber(void* context, void* socket)
      : context_(context), socket_(socket) {}
  void* context_;
  void* socket_;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_CLIENT_H_
