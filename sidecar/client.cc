#include "sidecar/client.h"

#include <zmq.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "routing/status_macros.h"
#include "sidecar/request_decoder.h"
#include "sidecar/zmq_frames.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;

absl::Status ApplyClientCurve(void* socket, const ClientOptions& options) {
  const int keys = !options.curve_server_key.empty() +
                   !options.curve_public_key.empty() +
                   !options.curve_secret_key.empty();
  if (keys == 0) return absl::OkStatus();
  if (keys != 3) {
    return absl::InvalidArgumentError(
        "CURVE needs the server key and the client's public and secret keys");
  }
  const std::pair<int, const std::string*> options_to_set[] = {
      {ZMQ_CURVE_SERVERKEY, &options.curve_server_key},
      {ZMQ_CURVE_PUBLICKEY, &options.curve_public_key},
      {ZMQ_CURVE_SECRETKEY, &options.curve_secret_key}};
  for (const auto& [option, key] : options_to_set) {
    if (zmq_setsockopt(socket, option, key->data(), key->size()) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CURVE key \"", *key, "\" is not a 40-character Z85 key"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReplyStatus(const Reply& reply) {
  if (reply.get()->body_type() != wire::ReplyBody::Error) {
    return absl::OkStatus();
  }
  const wire::Error* error = reply.get()->body_as_Error();
  return StatusFromError(error->code(), error->message() == nullptr
                                            ? std::string_view()
                                            : error->message()->string_view());
}

}  // namespace

template <typename Root>
absl::StatusOr<OwnedBuffer<Root>> OwnedBuffer<Root>::Verify(const uint8_t* data,
                                                            size_t size) {
  OwnedBuffer buffer;
  buffer.storage_.resize((size + sizeof(uint64_t) - 1) / sizeof(uint64_t));
  if (size > 0) std::memcpy(buffer.storage_.data(), data, size);
  buffer.size_ = size;
  flatbuffers::Verifier verifier(buffer.bytes(), size);
  if (size < 8 || !verifier.VerifyBuffer<Root>(kFileIdentifier)) {
    return absl::DataLossError(
        absl::StrCat("a ", size,
                     "-byte message from routingd failed "
                     "verification"));
  }
  return buffer;
}

template class OwnedBuffer<wire::Reply>;
template class OwnedBuffer<wire::Event>;

absl::StatusOr<std::unique_ptr<RoutingClient>> RoutingClient::Connect(
    const ClientOptions& options) {
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_DEALER);
  auto client = std::unique_ptr<RoutingClient>(
      new RoutingClient(context, socket, options.timeout));
  const int linger = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger));
  ROUTING_RETURN_IF_ERROR(ApplyClientCurve(socket, options));
  if (zmq_connect(socket, options.server.c_str()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot connect to ", options.server, ": ", zmq_strerror(zmq_errno())));
  }
  return client;
}

RoutingClient::RoutingClient(void* context, void* socket,
                             absl::Duration timeout)
    : context_(context), socket_(socket), timeout_(timeout) {}

RoutingClient::~RoutingClient() {
  zmq_close(socket_);
  zmq_ctx_term(context_);
}

absl::StatusOr<Reply> RoutingClient::Receive(uint64_t request_id, bool any_id) {
  const absl::Time deadline = absl::Now() + timeout_;
  while (true) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    zmq_pollitem_t item = {socket_, 0, ZMQ_POLLIN, 0};
    if (left_ms <= 0 || zmq_poll(&item, 1, left_ms) == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("routingd did not answer request ", request_id,
                       " within ", absl::FormatDuration(timeout_)));
    }
    Frames frames;
    if (!frames.Receive(socket_, ZMQ_DONTWAIT)) continue;
    const size_t last = frames.size() - 1;
    absl::StatusOr<Reply> reply =
        Reply::Verify(frames.data(last), frames.size_of(last));
    if (!reply.ok()) return reply.status();
    // A reply to an earlier request that timed out is skipped.
    if (any_id || reply->get()->request_id() == request_id) return reply;
  }
}

absl::StatusOr<Reply> RoutingClient::CallUnchecked(FlatBufferBuilder& fbb,
                                                   uint64_t request_id) {
  Frames request;
  request.Add(fbb.GetBufferPointer(), fbb.GetSize());
  if (!request.Send(socket_, 0)) return ZmqError("sending a request");
  return Receive(request_id, false);
}

absl::StatusOr<Reply> RoutingClient::SendRaw(const void* data, size_t size) {
  Frames request;
  request.Add(data, size);
  if (!request.Send(socket_, 0)) return ZmqError("sending a request");
  return Receive(0, true);
}

absl::StatusOr<Reply> RoutingClient::Call(wire::RequestBody type,
                                          FlatBufferBuilder& fbb,
                                          flatbuffers::Offset<void> body) {
  const uint64_t id = NextRequestId();
  FinishRequest(fbb, id, type, body);
  ROUTING_ASSIGN_OR_RETURN(Reply reply, CallUnchecked(fbb, id));
  ROUTING_RETURN_IF_ERROR(ReplyStatus(reply));
  return reply;
}

absl::Status RoutingClient::AddAgent(const AgentProfile& profile) {
  FlatBufferBuilder fbb;
  auto agent = BuildAgentProfile(fbb, profile);
  return Call(wire::RequestBody::AddAgent, fbb,
              wire::CreateAddAgent(fbb, agent).Union())
      .status();
}

absl::Status RoutingClient::UpdateAgent(const AgentProfile& profile) {
  FlatBufferBuilder fbb;
  auto agent = BuildAgentProfile(fbb, profile);
  return Call(wire::RequestBody::UpdateAgent, fbb,
              wire::CreateUpdateAgent(fbb, agent).Union())
      .status();
}

absl::Status RoutingClient::RemoveAgent(const std::string& agent_id) {
  FlatBufferBuilder fbb;
  auto id = fbb.CreateString(agent_id);
  return Call(wire::RequestBody::RemoveAgent, fbb,
              wire::CreateRemoveAgent(fbb, id).Union())
      .status();
}

absl::Status RoutingClient::SetAgentState(const std::string& agent_id,
                                          AgentState state) {
  FlatBufferBuilder fbb;
  auto id = fbb.CreateString(agent_id);
  return Call(wire::RequestBody::SetAgentState, fbb,
              wire::CreateSetAgentState(
                  fbb, id, static_cast<wire::AgentStateKind>(state))
                  .Union())
      .status();
}

absl::StatusOr<Reply> RoutingClient::ListAgents() {
  FlatBufferBuilder fbb;
  return Call(wire::RequestBody::ListAgents, fbb,
              wire::CreateListAgents(fbb).Union());
}

absl::StatusOr<Reply> RoutingClient::Route(const Contact& contact,
                                           const HandoffContext* handoff,
                                           bool with_explanation) {
  FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, handoff);
  return Call(wire::RequestBody::RouteContact, fbb,
              wire::CreateRouteContact(fbb, c, with_explanation).Union());
}

absl::StatusOr<Reply> RoutingClient::Requeue(const Contact& contact,
                                             bool with_explanation) {
  FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, nullptr);
  return Call(wire::RequestBody::RequeueContact, fbb,
              wire::CreateRequeueContact(fbb, c, with_explanation).Union());
}

absl::Status RoutingClient::Cancel(const std::string& contact_id) {
  FlatBufferBuilder fbb;
  auto id = fbb.CreateString(contact_id);
  return Call(wire::RequestBody::CancelContact, fbb,
              wire::CreateCancelContact(fbb, id).Union())
      .status();
}

absl::Status RoutingClient::Release(const std::string& contact_id,
                                    ContactOutcome outcome,
                                    const ContactSurvey& survey) {
  FlatBufferBuilder fbb;
  auto id = fbb.CreateString(contact_id);
  flatbuffers::Optional<int32_t> csat, nps;
  if (survey.csat.has_value()) csat = *survey.csat;
  if (survey.nps.has_value()) nps = *survey.nps;
  return Call(wire::RequestBody::ReleaseContact, fbb,
              wire::CreateReleaseContact(
                  fbb, id, static_cast<wire::Outcome>(outcome), csat, nps)
                  .Union())
      .status();
}

absl::StatusOr<Reply> RoutingClient::GetContact(const std::string& contact_id) {
  FlatBufferBuilder fbb;
  auto id = fbb.CreateString(contact_id);
  return Call(wire::RequestBody::GetContact, fbb,
              wire::CreateGetContact(fbb, id).Union());
}

absl::StatusOr<Reply> RoutingClient::ListContacts(const std::string& queue,
                                                  int limit_per_queue) {
  FlatBufferBuilder fbb;
  auto q = fbb.CreateString(queue);
  return Call(wire::RequestBody::ListContacts, fbb,
              wire::CreateListContacts(fbb, q, limit_per_queue).Union());
}

absl::StatusOr<Reply> RoutingClient::ReloadRulesFile(const std::string& path) {
  FlatBufferBuilder fbb;
  auto p = fbb.CreateString(path);
  return Call(wire::RequestBody::ReloadRules, fbb,
              wire::CreateReloadRules(fbb, p, 0).Union());
}

absl::StatusOr<Reply> RoutingClient::ReloadRulesSource(
    const std::string& source) {
  FlatBufferBuilder fbb;
  auto s = fbb.CreateString(source);
  return Call(wire::RequestBody::ReloadRules, fbb,
              wire::CreateReloadRules(fbb, 0, s).Union());
}

absl::StatusOr<Reply> RoutingClient::Stats(int window_seconds) {
  FlatBufferBuilder fbb;
  return Call(wire::RequestBody::GetStats, fbb,
              wire::CreateGetStats(fbb, window_seconds).Union());
}

absl::StatusOr<Reply> RoutingClient::Health() {
  FlatBufferBuilder fbb;
  return Call(wire::RequestBody::Health, fbb, wire::CreateHealth(fbb).Union());
}

absl::StatusOr<std::unique_ptr<EventSubscriber>> EventSubscriber::Connect(
    const std::string& endpoint, const std::vector<std::string>& topics,
    const ClientOptions& curve) {
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_SUB);
  auto subscriber =
      std::unique_ptr<EventSubscriber>(new EventSubscriber(context, socket));
  const int linger = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger));
  ROUTING_RETURN_IF_ERROR(ApplyClientCurve(socket, curve));
  for (const std::string& topic : topics) {
    zmq_setsockopt(socket, ZMQ_SUBSCRIBE, topic.data(), topic.size());
  }
  if (zmq_connect(socket, endpoint.c_str()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot connect to ", endpoint, ": ", zmq_strerror(zmq_errno())));
  }
  return subscriber;
}

EventSubscriber::~EventSubscriber() {
  zmq_close(socket_);
  zmq_ctx_term(context_);
}

absl::StatusOr<std::pair<std::string, Event>> EventSubscriber::Next(
    absl::Duration timeout) {
  zmq_pollitem_t item = {socket_, 0, ZMQ_POLLIN, 0};
  if (zmq_poll(&item, 1, absl::ToInt64Milliseconds(timeout)) <= 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("no event within ", absl::FormatDuration(timeout)));
  }
  Frames frames;
  if (!frames.Receive(socket_, 0)) return ZmqError("receiving an event");
  if (frames.size() != 2) {
    return absl::DataLossError(
        absl::StrCat("event of ", frames.size(), " frames (expected 2)"));
  }
  ROUTING_ASSIGN_OR_RETURN(Event event,
                           Event::Verify(frames.data(1), frames.size_of(1)));
  return std::make_pair(std::string(frames.text(0)), std::move(event));
}

}  // namespace routing::sidecar
