// The C API of route_client_c.h over routing::sidecar::RoutingClient.
//
// Requests are built by the sidecar's own encoder (BuildContact,
// FinishRequest) and sent with RoutingClient::CallUnchecked, so an Error
// reply keeps the protocol's ErrorCode name ("Busy", "ShuttingDown") that a
// conversion to absl::Status would fold into a broader code. Every function
// runs its body inside Boundary(), the one place where C++ exceptions and
// statuses become a return value and the caller's error buffers.
#include "bindings/python/routing_sidecar/native/route_client_c.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
// client.h brings the encoder (wire_encoder.h), the generated protocol, the
// decoder's limits (request_decoder.h) and the model (contact.h, channel.h,
// interaction.h) that //sidecar:client exports.
#include "sidecar/client.h"

struct routing_sidecar_client {
  std::unique_ptr<routing::sidecar::RoutingClient> client;
  // Reused by every call: after the first few, building a request
  // allocates nothing (Clear keeps the buffer).
  flatbuffers::FlatBufferBuilder fbb{512};
  routing::Contact contact;
};

namespace {

using routing::sidecar::kMaxContactLanguages;
using routing::sidecar::kMaxContactSkills;
using routing::sidecar::kMaxIdBytes;
using routing::sidecar::kMaxNameBytes;
using routing::sidecar::Reply;
namespace wire = routing::sidecar::wire;

// The header's buffers hold the protocol's longest id and name.
static_assert(ROUTING_SIDECAR_ID_BYTES == kMaxIdBytes + 1);
static_assert(ROUTING_SIDECAR_NAME_BYTES == kMaxNameBytes + 1);

// Longest endpoint accepted ("ipc://" paths are bounded by sockaddr_un, 108
// bytes; tcp:// by a host name, 253): anything longer is a caller's bug.
constexpr size_t kMaxEndpointBytes = 1024;
// The longest a call may wait: an hour is far beyond any glue's patience.
constexpr int32_t kMaxTimeoutMs = 3'600'000;

// Copies `text` into a caller's buffer of `capacity` bytes, cut to fit, NUL
// terminated.
void CopyText(std::string_view text, char* out, size_t capacity) {
  const size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

// Debian's Abseil keeps its own string_view: StrCat takes that one.
absl::string_view View(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// A failure with its code name as the caller sees it.
struct Failure {
  int result;
  std::string code;
  std::string message;
};

// The CamelCase name of an absl::StatusCode, as the protocol spells the codes
// it shares with Abseil; for the client's own failures (a timeout, a reply
// that fails verification).
const char* CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "";
    case absl::StatusCode::kCancelled:
      return "Cancelled";
    case absl::StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case absl::StatusCode::kDeadlineExceeded:
      return "DeadlineExceeded";
    case absl::StatusCode::kNotFound:
      return "NotFound";
    case absl::StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case absl::StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case absl::StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case absl::StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case absl::StatusCode::kAborted:
      return "Aborted";
    case absl::StatusCode::kOutOfRange:
      return "OutOfRange";
    case absl::StatusCode::kUnimplemented:
      return "Unimplemented";
    case absl::StatusCode::kUnavailable:
      return "Unavailable";
    case absl::StatusCode::kDataLoss:
      return "DataLoss";
    default:
      return "Internal";
  }
}

Failure Refused(std::string message) {
  return {ROUTING_SIDECAR_REFUSED, "InvalidArgument", std::move(message)};
}

Failure FromStatus(const absl::Status& status) {
  return {ROUTING_SIDECAR_FAILED, CodeName(status.code()),
          std::string(status.message())};
}

int Report(const Failure* failure, routing_sidecar_error* error) {
  if (error != nullptr) {
    CopyText(failure == nullptr ? "" : failure->code, error->code,
             sizeof(error->code));
    CopyText(failure == nullptr ? "" : failure->message, error->message,
             sizeof(error->message));
  }
  return failure == nullptr ? ROUTING_SIDECAR_OK : failure->result;
}

// Runs `body`, which returns true on success or fills `failure`, and reports
// the outcome; no exception leaves it.
template <typename Body>
int Boundary(routing_sidecar_error* error, Body&& body) noexcept {
  try {
    Failure failure;
    if (body(failure)) return Report(nullptr, error);
    return Report(&failure, error);
  } catch (const std::bad_alloc&) {
    const Failure f{ROUTING_SIDECAR_FAILED, "ResourceExhausted",
                    "out of memory"};
    return Report(&f, error);
  } catch (const std::exception& e) {
    const Failure f{ROUTING_SIDECAR_FAILED, "Internal", e.what()};
    return Report(&f, error);
  } catch (...) {
    const Failure f{ROUTING_SIDECAR_FAILED, "Internal", "unknown exception"};
    return Report(&f, error);
  }
}

// The name of an argument in messages: `field`, or `field[index]` for an
// element of an array (index >= 0). Made only when a message needs it.
std::string ArgumentName(std::string_view field, int index) {
  return index < 0 ? std::string(field)
                   : absl::StrCat(View(field), "[", index, "]");
}

// A NUL-terminated argument of at most `limit` bytes, read no further than
// limit + 1 bytes. NULL is refused when `required`, else read as "".
bool Text(const char* text, std::string_view field, int index, size_t limit,
          bool required, std::string_view* out, Failure& failure) {
  if (text == nullptr) {
    if (!required) {
      *out = {};
      return true;
    }
    failure = Refused(absl::StrCat(ArgumentName(field, index), " is NULL"));
    return false;
  }
  const size_t n = strnlen(text, limit + 1);
  if (n > limit) {
    failure = Refused(absl::StrCat(ArgumentName(field, index),
                                   " is longer than ", limit, " bytes"));
    return false;
  }
  *out = std::string_view(text, n);
  return true;
}

// `field`: the arrays' common prefix, e.g. "contact.required_skill";
// `names_field`: the same with "_names".
bool Skills(const char* const* names, const int32_t* levels, size_t count,
            const char* field, const char* names_field,
            std::vector<routing::SkillRequirement>* out, Failure& failure) {
  if (count > kMaxContactSkills) {
    failure =
        Refused(absl::StrCat(field, "_count ", count, " is more than the ",
                             kMaxContactSkills, " allowed"));
    return false;
  }
  out->clear();
  if (count == 0) return true;
  if (names == nullptr || levels == nullptr) {
    failure =
        Refused(absl::StrCat(field, names == nullptr ? "_names" : "_levels",
                             " is NULL with ", field, "_count ", count));
    return false;
  }
  out->resize(count);
  for (size_t i = 0; i < count; ++i) {
    std::string_view name;
    if (!Text(names[i], names_field, static_cast<int>(i), kMaxNameBytes,
              /*required=*/true, &name, failure)) {
      return false;
    }
    (*out)[i].skill.assign(name);
    (*out)[i].min_level = levels[i];
  }
  return true;
}

// Fills the client's reusable Contact from the caller's.
bool ReadContact(const routing_sidecar_contact* in, routing::Contact* contact,
                 Failure& failure) {
  if (in == nullptr) {
    failure = Refused("contact is NULL");
    return false;
  }
  std::string_view text;
  if (!Text(in->id, "contact.id", -1, kMaxIdBytes, true, &text, failure)) {
    return false;
  }
  contact->id.assign(text);
  if (!Text(in->channel, "contact.channel", -1, kMaxNameBytes, true, &text,
            failure)) {
    return false;
  }
  if (!routing::ParseChannel(text, &contact->channel)) {
    failure = Refused(absl::StrCat(
        "contact.channel: unknown channel '", View(text),
        "' (one of callback, chat, email, messaging, video, voice)"));
    return false;
  }
  if (!Text(in->queue, "contact.queue", -1, kMaxNameBytes, false, &text,
            failure)) {
    return false;
  }
  contact->queue.assign(text);
  if (!Skills(in->required_skill_names, in->required_skill_levels,
              in->required_skill_count, "contact.required_skill",
              "contact.required_skill_names", &contact->required_skills,
              failure) ||
      !Skills(in->desired_skill_names, in->desired_skill_levels,
              in->desired_skill_count, "contact.desired_skill",
              "contact.desired_skill_names", &contact->desired_skills,
              failure)) {
    return false;
  }
  if (in->language_count > kMaxContactLanguages) {
    failure = Refused(absl::StrCat("contact.language_count ",
                                   in->language_count, " is more than the ",
                                   kMaxContactLanguages, " allowed"));
    return false;
  }
  if (in->language_count > 0 && in->languages == nullptr) {
    failure =
        Refused(absl::StrCat("contact.languages is NULL with "
                             "contact.language_count ",
                             in->language_count));
    return false;
  }
  contact->languages.resize(in->language_count);
  for (size_t i = 0; i < in->language_count; ++i) {
    if (!Text(in->languages[i], "contact.languages", static_cast<int>(i),
              kMaxNameBytes, true, &text, failure)) {
      return false;
    }
    contact->languages[i].assign(text);
  }
  if (!Text(in->customer_id, "contact.customer_id", -1, kMaxIdBytes, false,
            &text, failure)) {
    return false;
  }
  contact->customer_id.assign(text);
  contact->priority = in->priority;
  return true;
}

// The reply's Error as the caller's failure: the protocol's code name.
Failure ErrorReply(const wire::Error* error) {
  const char* name = wire::EnumNameErrorCode(error->code());
  return {
      ROUTING_SIDECAR_FAILED,
      *name != '\0' ? std::string(name)
                    : absl::StrCat(static_cast<int>(error->code())),
      error->message() == nullptr ? std::string() : error->message()->str()};
}

// Sends the request finished in client->fbb; true with the reply when it is
// of `expected` type.
bool Exchange(routing_sidecar_client* client, uint64_t request_id,
              wire::ReplyBody expected, const char* request_name,
              absl::StatusOr<Reply>* reply, Failure& failure) {
  *reply = client->client->CallUnchecked(client->fbb, request_id);
  if (!reply->ok()) {
    failure = FromStatus(reply->status());
    return false;
  }
  const wire::ReplyBody type = (*reply)->get()->body_type();
  if (type == wire::ReplyBody::Error) {
    failure = ErrorReply((*reply)->get()->body_as_Error());
    return false;
  }
  if (type != expected) {
    failure = {ROUTING_SIDECAR_FAILED, "Internal",
               absl::StrCat("routingd answered ", request_name, " with a ",
                            wire::EnumNameReplyBody(type), " reply")};
    return false;
  }
  return true;
}

bool RequireClient(const routing_sidecar_client* client, Failure& failure) {
  if (client != nullptr) return true;
  failure = Refused("client is NULL");
  return false;
}

int RouteOrRequeue(routing_sidecar_client* client,
                   const routing_sidecar_contact* contact,
                   routing_sidecar_decision* decision,
                   routing_sidecar_error* error, bool requeue) {
  return Boundary(error, [&](Failure& failure) {
    if (!RequireClient(client, failure)) return false;
    if (decision == nullptr) {
      failure = Refused("decision is NULL");
      return false;
    }
    if (!ReadContact(contact, &client->contact, failure)) return false;
    flatbuffers::FlatBufferBuilder& fbb = client->fbb;
    fbb.Clear();
    auto c = routing::sidecar::BuildContact(fbb, client->contact, nullptr);
    const uint64_t id = client->client->NextRequestId();
    if (requeue) {
      routing::sidecar::FinishRequest(
          fbb, id, wire::RequestBody::RequeueContact,
          wire::CreateRequeueContact(fbb, c).Union());
    } else {
      routing::sidecar::FinishRequest(fbb, id, wire::RequestBody::RouteContact,
                                      wire::CreateRouteContact(fbb, c).Union());
    }
    absl::StatusOr<Reply> reply;
    if (!Exchange(client, id, wire::ReplyBody::Decision,
                  requeue ? "RequeueContact" : "RouteContact", &reply,
                  failure)) {
      return false;
    }
    const wire::Decision* d = reply->get()->body_as_Decision();
    const auto text = [](const flatbuffers::String* s) {
      return s == nullptr ? std::string_view() : s->string_view();
    };
    decision->assigned = d->outcome() == wire::DecisionOutcome::Assigned;
    CopyText(text(d->agent_id()), decision->agent_id,
             sizeof(decision->agent_id));
    CopyText(text(d->queue()), decision->queue, sizeof(decision->queue));
    CopyText(routing::ChannelName(static_cast<routing::Channel>(d->channel())),
             decision->channel, sizeof(decision->channel));
    decision->score = d->score();
    decision->eligible_agents = d->eligible_agents();
    decision->queue_position = d->queue_position();
    decision->estimated_wait_ms = d->estimated_wait_ms();
    decision->policy_version = d->policy_version();
    decision->rules_version = d->rules_version();
    decision->rules_step = d->rules_step();
    decision->rules_fallback = d->rules_fallback();
    decision->rules_suspended = d->rules_suspended();
    decision->offered = d->offered();
    return true;
  });
}

}  // namespace

extern "C" {

routing_sidecar_client* routing_sidecar_connect(const char* endpoint,
                                                int32_t timeout_ms,
                                                routing_sidecar_error* error) {
  routing_sidecar_client* result = nullptr;
  Boundary(error, [&](Failure& failure) {
    std::string_view server;
    if (!Text(endpoint, "endpoint", -1, kMaxEndpointBytes, true, &server,
              failure)) {
      return false;
    }
    if (timeout_ms < 1 || timeout_ms > kMaxTimeoutMs) {
      failure = Refused(absl::StrCat("timeout_ms ", timeout_ms,
                                     " is outside 1..", kMaxTimeoutMs));
      return false;
    }
    routing::sidecar::ClientOptions options;
    options.server = std::string(server);
    options.timeout = absl::Milliseconds(timeout_ms);
    auto connected = routing::sidecar::RoutingClient::Connect(options);
    if (!connected.ok()) {
      // A malformed endpoint: nothing was sent.
      failure = FromStatus(connected.status());
      if (failure.code == "InvalidArgument") {
        failure.result = ROUTING_SIDECAR_REFUSED;
      }
      return false;
    }
    auto client = std::make_unique<routing_sidecar_client>();
    client->client = *std::move(connected);
    result = client.release();
    return true;
  });
  return result;
}

void routing_sidecar_close(routing_sidecar_client* client) { delete client; }

int routing_sidecar_route(routing_sidecar_client* client,
                          const routing_sidecar_contact* contact,
                          routing_sidecar_decision* decision,
                          routing_sidecar_error* error) {
  return RouteOrRequeue(client, contact, decision, error, /*requeue=*/false);
}

int routing_sidecar_requeue(routing_sidecar_client* client,
                            const routing_sidecar_contact* contact,
                            routing_sidecar_decision* decision,
                            routing_sidecar_error* error) {
  return RouteOrRequeue(client, contact, decision, error, /*requeue=*/true);
}

int routing_sidecar_cancel(routing_sidecar_client* client,
                           const char* contact_id,
                           routing_sidecar_error* error) {
  return Boundary(error, [&](Failure& failure) {
    if (!RequireClient(client, failure)) return false;
    std::string_view id;
    if (!Text(contact_id, "contact_id", -1, kMaxIdBytes, true, &id, failure)) {
      return false;
    }
    flatbuffers::FlatBufferBuilder& fbb = client->fbb;
    fbb.Clear();
    auto i = fbb.CreateString(id.data(), id.size());
    const uint64_t request_id = client->client->NextRequestId();
    routing::sidecar::FinishRequest(fbb, request_id,
                                    wire::RequestBody::CancelContact,
                                    wire::CreateCancelContact(fbb, i).Union());
    absl::StatusOr<Reply> reply;
    return Exchange(client, request_id, wire::ReplyBody::Ack, "CancelContact",
                    &reply, failure);
  });
}

int routing_sidecar_release(routing_sidecar_client* client,
                            const char* contact_id, const char* outcome,
                            int32_t csat, int32_t nps,
                            routing_sidecar_error* error) {
  return Boundary(error, [&](Failure& failure) {
    if (!RequireClient(client, failure)) return false;
    std::string_view id, name;
    if (!Text(contact_id, "contact_id", -1, kMaxIdBytes, true, &id, failure) ||
        !Text(outcome, "outcome", -1, kMaxNameBytes, true, &name, failure)) {
      return false;
    }
    routing::ContactOutcome kind;
    if (!routing::ParseContactOutcome(name, &kind)) {
      failure = Refused(absl::StrCat(
          "outcome: unknown outcome '", View(name),
          "' (one of resolved, transferred, unknown, unresolved)"));
      return false;
    }
    flatbuffers::FlatBufferBuilder& fbb = client->fbb;
    fbb.Clear();
    auto i = fbb.CreateString(id.data(), id.size());
    flatbuffers::Optional<int32_t> csat_answer, nps_answer;
    if (csat != ROUTING_SIDECAR_NO_ANSWER) csat_answer = csat;
    if (nps != ROUTING_SIDECAR_NO_ANSWER) nps_answer = nps;
    const uint64_t request_id = client->client->NextRequestId();
    routing::sidecar::FinishRequest(
        fbb, request_id, wire::RequestBody::ReleaseContact,
        wire::CreateReleaseContact(fbb, i, static_cast<wire::Outcome>(kind),
                                   csat_answer, nps_answer)
            .Union());
    absl::StatusOr<Reply> reply;
    return Exchange(client, request_id, wire::ReplyBody::Ack, "ReleaseContact",
                    &reply, failure);
  });
}

}  // extern "C"
