#include "sidecar/request_affinity.h"

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

// An aligned copy of a finished buffer, or of its first `size` bytes.
class Aligned {
 public:
  Aligned(const uint8_t* data, size_t size)
      : storage_(size / 8 + 1), size_(size) {
    if (size > 0) std::memcpy(storage_.data(), data, size);
  }
  explicit Aligned(const flatbuffers::FlatBufferBuilder& fbb)
      : Aligned(fbb.GetBufferPointer(), fbb.GetSize()) {}
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(storage_.data());
  }
  size_t size() const { return size_; }
  AffinityKey Key() const { return AffinityKeyOf(data(), size_); }

 private:
  std::vector<uint64_t> storage_;
  size_t size_;
};

Aligned RouteOrRequeue(bool requeue, const std::string& id) {
  flatbuffers::FlatBufferBuilder fbb;
  Contact contact;
  contact.id = id;
  auto c = BuildContact(fbb, contact, nullptr);
  if (requeue) {
    FinishRequest(fbb, 1, wire::RequestBody::RequeueContact,
                  wire::CreateRequeueContact(fbb, c).Union());
  } else {
    FinishRequest(fbb, 1, wire::RequestBody::RouteContact,
                  wire::CreateRouteContact(fbb, c).Union());
  }
  return Aligned(fbb);
}

Aligned Agent(wire::RequestBody type, const std::string& id) {
  flatbuffers::FlatBufferBuilder fbb;
  AgentProfile profile;
  profile.id = id;
  flatbuffers::Offset<void> body;
  switch (type) {
    case wire::RequestBody::AddAgent:
      body = wire::CreateAddAgent(fbb, BuildAgentProfile(fbb, profile)).Union();
      break;
    case wire::RequestBody::UpdateAgent:
      body =
          wire::CreateUpdateAgent(fbb, BuildAgentProfile(fbb, profile)).Union();
      break;
    case wire::RequestBody::RemoveAgent:
      body = wire::CreateRemoveAgentDirect(fbb, id.c_str()).Union();
      break;
    default:
      body = wire::CreateSetAgentStateDirect(fbb, id.c_str()).Union();
      break;
  }
  FinishRequest(fbb, 1, type, body);
  return Aligned(fbb);
}

Aligned ByContactId(wire::RequestBody type, const std::string& id) {
  flatbuffers::FlatBufferBuilder fbb;
  flatbuffers::Offset<void> body;
  switch (type) {
    case wire::RequestBody::CancelContact:
      body = wire::CreateCancelContactDirect(fbb, id.c_str()).Union();
      break;
    case wire::RequestBody::ReleaseContact:
      body = wire::CreateReleaseContactDirect(fbb, id.c_str()).Union();
      break;
    case wire::RequestBody::GetContact:
      body = wire::CreateGetContactDirect(fbb, id.c_str()).Union();
      break;
    case wire::RequestBody::AcceptOffer:
      body = wire::CreateAcceptOfferDirect(fbb, id.c_str(), "alice").Union();
      break;
    default:
      body = wire::CreateRejectOfferDirect(fbb, id.c_str(), "alice").Union();
      break;
  }
  FinishRequest(fbb, 1, type, body);
  return Aligned(fbb);
}

TEST(RequestAffinityTest, EveryRequestAboutAContactIsKeyedByItsId) {
  const std::string id = "chat-42";
  std::vector<AffinityKey> keys;
  std::vector<Aligned> requests = {
      RouteOrRequeue(false, id),
      RouteOrRequeue(true, id),
      ByContactId(wire::RequestBody::CancelContact, id),
      ByContactId(wire::RequestBody::ReleaseContact, id),
      ByContactId(wire::RequestBody::GetContact, id),
      ByContactId(wire::RequestBody::AcceptOffer, id),
      ByContactId(wire::RequestBody::RejectOffer, id)};
  for (const Aligned& request : requests) {
    const AffinityKey key = request.Key();
    EXPECT_EQ(key.kind, AffinityKey::Kind::kContact);
    EXPECT_EQ(key.id, id);
    // Same key, same worker, whatever the request type.
    EXPECT_EQ(WorkerFor(key, 4), WorkerFor(requests[0].Key(), 4));
  }
}

TEST(RequestAffinityTest, EveryRequestAboutAnAgentIsKeyedByItsId) {
  for (wire::RequestBody type :
       {wire::RequestBody::AddAgent, wire::RequestBody::UpdateAgent,
        wire::RequestBody::RemoveAgent, wire::RequestBody::SetAgentState}) {
    const Aligned request = Agent(type, "alice");
    const AffinityKey key = request.Key();
    EXPECT_EQ(key.kind, AffinityKey::Kind::kAgent);
    EXPECT_EQ(key.id, "alice");
  }
}

TEST(RequestAffinityTest, OtherRequestsHaveNoKeyAndGoAnywhere) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, 1, wire::RequestBody::GetStats,
                wire::CreateGetStats(fbb).Union());
  const Aligned stats(fbb);
  const AffinityKey key = stats.Key();
  EXPECT_EQ(key.kind, AffinityKey::Kind::kNone);
  EXPECT_EQ(WorkerFor(key, 4), std::nullopt);
  // A route without its contact: no key either (the worker refuses it).
  flatbuffers::FlatBufferBuilder empty;
  const flatbuffers::uoffset_t start = empty.StartTable();
  FinishRequest(empty, 1, wire::RequestBody::RouteContact,
                flatbuffers::Offset<void>(empty.EndTable(start)));
  EXPECT_EQ(Aligned(empty).Key().kind, AffinityKey::Kind::kNone);
}

TEST(RequestAffinityTest, KeysSpreadOverTheWorkers) {
  std::set<size_t> used;
  for (int i = 0; i < 64; ++i) {
    const Aligned request = RouteOrRequeue(false, absl::StrCat("chat-", i));
    used.insert(*WorkerFor(request.Key(), 4));
  }
  EXPECT_EQ(used.size(), 4u);
  const Aligned request = RouteOrRequeue(false, "x");
  EXPECT_EQ(WorkerFor(request.Key(), 0), std::nullopt);
}

TEST(RequestAffinityTest, SafeOnEveryTruncationAndOnNoise) {
  const Aligned whole = RouteOrRequeue(false, "chat-7");
  for (size_t size = 0; size < whole.size(); ++size) {
    const Aligned cut(whole.data(), size);
    const AffinityKey key = cut.Key();
    if (key.kind != AffinityKey::Kind::kNone) {
      EXPECT_EQ(key.id, "chat-7");
    }
  }
  std::mt19937 random(5);
  for (int round = 0; round < 5000; ++round) {
    std::vector<uint8_t> noise(random() % 200);
    for (uint8_t& b : noise) b = static_cast<uint8_t>(random());
    const Aligned bytes(noise.data(), noise.size());
    const AffinityKey key = bytes.Key();
    if (key.kind != AffinityKey::Kind::kNone) {
      // A key read from noise lies inside the buffer.
      EXPECT_GE(reinterpret_cast<const uint8_t*>(key.id.data()), bytes.data());
      EXPECT_LE(reinterpret_cast<const uint8_t*>(key.id.data()) + key.id.size(),
                bytes.data() + bytes.size());
    }
  }
}

}  // namespace
}  // namespace routing::sidecar
