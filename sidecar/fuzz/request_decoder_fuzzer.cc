// libFuzzer target for the code that reads untrusted request bytes: the same
// DecodeRequest and *FromWire functions routingd's workers call
// (sidecar/request_decoder.h), and the frontend's AffinityKeyOf
// (sidecar/request_affinity.h). Built with clang by
// tests/sidecar/request_decoder_fuzz_test.sh; see sidecar/README.md for a
// longer run.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "sidecar/request_affinity.h"
#include "sidecar/request_decoder.h"

namespace {

using routing::sidecar::DecodedRequest;
namespace wire = routing::sidecar::wire;

void ReadContact(const wire::Contact* contact) {
  if (contact == nullptr) return;
  (void)routing::sidecar::ContactFromWire(*contact,
                                          absl::FromUnixSeconds(1'700'000'000));
}

void ReadAgent(const wire::AgentProfile* agent) {
  if (agent == nullptr) return;
  (void)routing::sidecar::AgentProfileFromWire(*agent);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // As in the daemon: the bytes are copied to aligned storage when needed.
  std::vector<uint64_t> scratch;
  const uint8_t* aligned = routing::sidecar::AlignedCopy(data, size, &scratch);
  // The frontend's reads, before any verification: the worker's key and
  // the envelope fields echoed in refusals.
  (void)routing::sidecar::AffinityKeyOf(aligned, size);
  (void)routing::sidecar::PeekRequestHeader(aligned, size);
  routing::sidecar::RequestDecoderOptions options;
  options.max_message_bytes = 64 * 1024;
  DecodedRequest decoded =
      routing::sidecar::DecodeRequest(aligned, size, options);
  if (!decoded.ok()) return 0;
  const wire::Request* request = decoded.request;
  switch (request->body_type()) {
    case wire::RequestBody::AddAgent:
      ReadAgent(request->body_as_AddAgent()->agent());
      break;
    case wire::RequestBody::UpdateAgent:
      ReadAgent(request->body_as_UpdateAgent()->agent());
      break;
    case wire::RequestBody::RouteContact:
      ReadContact(request->body_as_RouteContact()->contact());
      break;
    case wire::RequestBody::RequeueContact:
      ReadContact(request->body_as_RequeueContact()->contact());
      break;
    case wire::RequestBody::ReloadRules:
      (void)routing::sidecar::CheckReloadRules(*request->body_as_ReloadRules());
      break;
    case wire::RequestBody::SetAgentState:
      (void)request->body_as_SetAgentState()->agent_id()->str();
      break;
    case wire::RequestBody::ReleaseContact:
      (void)routing::sidecar::ContactReleaseFromWire(
          *request->body_as_ReleaseContact());
      break;
    case wire::RequestBody::GetContact:
      (void)routing::sidecar::ContactIdFromWire(*request->body_as_GetContact());
      break;
    case wire::RequestBody::ListContacts:
      (void)routing::sidecar::ContactListQueryFromWire(
          *request->body_as_ListContacts());
      break;
    default:
      break;
  }
  return 0;
}
