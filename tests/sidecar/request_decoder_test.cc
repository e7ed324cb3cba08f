#include "sidecar/request_decoder.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// Bytes of a buffer, copied into aligned storage as the daemon does.
class Bytes {
 public:
  explicit Bytes(const uint8_t* data, size_t size) : size_(size) {
    storage_.resize(size / 8 + 1);
    if (size > 0) std::memcpy(storage_.data(), data, size);
  }
  explicit Bytes(const flatbuffers::FlatBufferBuilder& fbb)
      : Bytes(fbb.GetBufferPointer(), fbb.GetSize()) {}
  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage_.data()); }
  size_t size() const { return size_; }
  DecodedRequest Decode(RequestDecoderOptions options = {}) {
    return DecodeRequest(data(), size_, options);
  }

 private:
  std::vector<uint64_t> storage_;
  size_t size_;
};

Contact ChatContact() {
  Contact contact;
  contact.id = "chat-1";
  contact.channel = Channel::kChat;
  contact.required_skills = {{"billing", 2}};
  contact.languages = {"en"};
  contact.customer_id = "cust-9";
  return contact;
}

Bytes RouteRequest(const Contact& contact, const HandoffContext* handoff,
                   uint64_t id = 42) {
  flatbuffers::FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, handoff);
  FinishRequest(fbb, id, wire::RequestBody::RouteContact,
                wire::CreateRouteContact(fbb, c).Union());
  return Bytes(fbb);
}

const wire::Contact& ContactOf(const DecodedRequest& decoded) {
  return *decoded.request->body_as_RouteContact()->contact();
}

TEST(RequestDecoderTest, DecodesAValidRequest) {
  Bytes bytes = RouteRequest(ChatContact(), nullptr, 42);
  DecodedRequest decoded = bytes.Decode();
  ASSERT_TRUE(decoded.ok()) << decoded.message;
  EXPECT_EQ(decoded.request_id, 42u);
  EXPECT_EQ(decoded.request->body_type(), wire::RequestBody::RouteContact);
  absl::StatusOr<Contact> contact = ContactFromWire(ContactOf(decoded), kNow);
  ASSERT_TRUE(contact.ok()) << contact.status();
  EXPECT_EQ(contact->id, "chat-1");
  EXPECT_EQ(contact->channel, Channel::kChat);
  EXPECT_EQ(contact->required_skills[0].skill, "billing");
  EXPECT_EQ(contact->required_skills[0].min_level, 2);
  EXPECT_EQ(contact->enqueue_time, absl::InfinitePast());
}

TEST(RequestDecoderTest, RefusesRandomBytes) {
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> noise(random() % 300);
    for (uint8_t& b : noise) b = static_cast<uint8_t>(random());
    Bytes bytes(noise.data(), noise.size());
    DecodedRequest decoded = bytes.Decode();
    EXPECT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
    EXPECT_FALSE(decoded.message.empty());
  }
}

TEST(RequestDecoderTest, RefusesEveryTruncation) {
  Bytes whole = RouteRequest(ChatContact(), nullptr);
  for (size_t size = 0; size < whole.size(); ++size) {
    Bytes cut(whole.data(), size);
    DecodedRequest decoded = cut.Decode();
    // The builder may end the buffer with alignment padding nothing refers
    // to; cutting only that leaves a valid buffer. Anything more is refused.
    if (size + 8 > whole.size() && decoded.ok()) continue;
    EXPECT_FALSE(decoded.ok()) << "truncated to " << size;
    EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  }
}

TEST(RequestDecoderTest, RefusesOversizedBuffer) {
  Bytes bytes = RouteRequest(ChatContact(), nullptr);
  RequestDecoderOptions options;
  options.max_message_bytes = bytes.size() - 1;
  DecodedRequest decoded = bytes.Decode(options);
  EXPECT_EQ(decoded.error, wire::ErrorCode::TooLarge);
  EXPECT_THAT(decoded.message, HasSubstr("exceeds"));
}

TEST(RequestDecoderTest, RefusesWrongFileIdentifier) {
  Bytes bytes = RouteRequest(ChatContact(), nullptr);
  std::memcpy(bytes.data() + 4, "XXXX", 4);
  DecodedRequest decoded = bytes.Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_THAT(decoded.message, HasSubstr("wrong file identifier \"XXXX\""));
}

TEST(RequestDecoderTest, RefusesUnknownUnionTypeNamingIt) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = wire::CreateHealth(fbb);
  fbb.Finish(
      wire::CreateRequest(fbb, kProtocolVersion, 9,
                          static_cast<wire::RequestBody>(77), body.Union()),
      kFileIdentifier);
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_EQ(decoded.request_id, 9u);
  EXPECT_THAT(decoded.message, HasSubstr("unknown request type 77"));
}

TEST(RequestDecoderTest, RefusesMissingBody) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateRequest(fbb, kProtocolVersion, 5), kFileIdentifier);
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_EQ(decoded.request_id, 5u);
  EXPECT_THAT(decoded.message, HasSubstr("no body"));
}

TEST(RequestDecoderTest, RefusesMissingRequiredField) {
  // A RouteContact without its required contact fails verification.
  flatbuffers::FlatBufferBuilder fbb;
  wire::RouteContactBuilder route(fbb);
  auto body = route.Finish();
  FinishRequest(fbb, 3, wire::RequestBody::RouteContact, body.Union());
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_THAT(decoded.message, HasSubstr("verification"));
}

TEST(RequestDecoderTest, RefusesOtherProtocolVersion) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = wire::CreateHealth(fbb);
  fbb.Finish(
      wire::CreateRequest(fbb, 2, 11, wire::RequestBody::Health, body.Union()),
      kFileIdentifier);
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::UnsupportedVersion);
  EXPECT_EQ(decoded.request_id, 11u);
  EXPECT_THAT(decoded.message, HasSubstr("protocol_version 2"));
}

TEST(RequestDecoderTest, RefusesDeepNestingBeyondTheLimit) {
  Bytes bytes = RouteRequest(ChatContact(), nullptr);
  RequestDecoderOptions options;
  options.max_depth = 2;
  EXPECT_EQ(bytes.Decode(options).error, wire::ErrorCode::MalformedRequest);
}

TEST(RequestDecoderTest, RefusesAbsurdNumbersNamingTheField) {
  struct Case {
    std::function<void(Contact&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Contact& c) { c.priority = 1'000'000; }, "contact.priority"},
      {[](Contact& c) { c.priority = -1; }, "contact.priority"},
      {[](Contact& c) { c.required_skills[0].min_level = -5; },
       "contact.required_skills"},
      {[](Contact& c) { c.channel = static_cast<Channel>(200); },
       "contact.channel 200"},
      {[](Contact& c) { c.enqueue_time = kNow + absl::Hours(1); },
       "contact.waiting_since_unix_ms"},
      {[](Contact& c) { c.enqueue_time = kNow - absl::Hours(100); },
       "contact.waiting_since_unix_ms"},
      {[](Contact& c) { c.id = std::string(1000, 'x'); }, "contact.id is 1000"},
      {[](Contact& c) { c.id.clear(); }, "contact.id is empty"},
      {[](Contact& c) { c.languages.assign(50, "en"); },
       "contact.languages has 50"},
      {[](Contact& c) {
         for (int i = 0; i < 100; ++i) c.attributes[std::to_string(i)] = "v";
       },
       "contact.attributes has 100"},
  };
  for (const Case& test : cases) {
    Contact contact = ChatContact();
    test.spoil(contact);
    Bytes bytes = RouteRequest(contact, nullptr);
    DecodedRequest decoded = bytes.Decode();
    ASSERT_TRUE(decoded.ok()) << decoded.message;
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << test.field;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(test.field));
  }
}

TEST(RequestDecoderTest, HandoffContextLandsInAttributes) {
  HandoffContext handoff;
  handoff.intent = "billing.dispute";
  handoff.language = "en";
  handoff.sentiment = "negative";
  handoff.summary = "charged twice in May";
  handoff.customer_id = "cust-77";
  handoff.attributes["order"] = "A-1";
  Contact contact = ChatContact();
  contact.customer_id.clear();
  Bytes bytes = RouteRequest(contact, &handoff);
  DecodedRequest decoded = bytes.Decode();
  ASSERT_TRUE(decoded.ok());
  absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->attributes.at("intent"), "billing.dispute");
  EXPECT_EQ(parsed->attributes.at("language"), "en");
  EXPECT_EQ(parsed->attributes.at("sentiment"), "negative");
  EXPECT_EQ(parsed->attributes.at("summary"), "charged twice in May");
  EXPECT_EQ(parsed->attributes.at("customer_id"), "cust-77");
  EXPECT_EQ(parsed->attributes.at("order"), "A-1");
  EXPECT_EQ(parsed->customer_id, "cust-77");
  // And back: an assignment's attributes rebuild the same context.
  HandoffContext back = HandoffFromAttributes(parsed->attributes);
  EXPECT_EQ(back.intent, handoff.intent);
  EXPECT_EQ(back.summary, handoff.summary);
  EXPECT_EQ(back.attributes, handoff.attributes);
}

TEST(RequestDecoderTest, HandoffMayNotReuseAReservedKey) {
  HandoffContext handoff;
  handoff.attributes["intent"] = "sneaky";
  Bytes bytes = RouteRequest(ChatContact(), &handoff);
  DecodedRequest decoded = bytes.Decode();
  ASSERT_TRUE(decoded.ok());
  absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()),
              HasSubstr("\"intent\" is reserved"));
}

TEST(RequestDecoderTest, AgentProfileChecksCapacityAndChannel) {
  AgentProfile agent;
  agent.id = "alice";
  agent.skills = {{"billing", 4}};
  agent.SetCapacity(Channel::kVoice, 1);
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto a = BuildAgentProfile(fbb, agent);
    FinishRequest(fbb, 1, wire::RequestBody::AddAgent,
                  wire::CreateAddAgent(fbb, a).Union());
    Bytes bytes(fbb);
    DecodedRequest decoded = bytes.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<AgentProfile> parsed =
        AgentProfileFromWire(*decoded.request->body_as_AddAgent()->agent());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->CapacityOf(Channel::kVoice), 1);
    EXPECT_EQ(parsed->skills[0].level, 4);
  }
  {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<wire::ChannelCapacity>> capacity = {
        wire::CreateChannelCapacity(fbb, wire::ChannelKind::Chat, 1'000'000)};
    auto a = wire::CreateAgentProfile(fbb, fbb.CreateString("bob"), 0, 0,
                                      fbb.CreateVector(capacity));
    FinishRequest(fbb, 1, wire::RequestBody::AddAgent,
                  wire::CreateAddAgent(fbb, a).Union());
    Bytes bytes(fbb);
    DecodedRequest decoded = bytes.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<AgentProfile> parsed =
        AgentProfileFromWire(*decoded.request->body_as_AddAgent()->agent());
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("agent.capacity chat 1000000"));
  }
}

TEST(RequestDecoderTest, ReloadRulesNeedsExactlyOneSource) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateReloadRules(fbb, fbb.CreateString("a.lua"),
                                     fbb.CreateString("return {}")));
  const auto* both =
      flatbuffers::GetRoot<wire::ReloadRules>(fbb.GetBufferPointer());
  EXPECT_THAT(std::string(CheckReloadRules(*both).message()),
              HasSubstr("exactly one"));
  flatbuffers::FlatBufferBuilder fbb2;
  fbb2.Finish(wire::CreateReloadRules(fbb2, fbb2.CreateString("a.lua")));
  EXPECT_TRUE(CheckReloadRules(*flatbuffers::GetRoot<wire::ReloadRules>(
                                   fbb2.GetBufferPointer()))
                  .ok());
}

TEST(RequestDecoderTest, ReleaseCarriesTheSurveyOnlyWhenAnswered) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateReleaseContact(fbb, fbb.CreateString("chat-1"),
                                        wire::Outcome::Resolved));
  absl::StatusOr<ContactRelease> plain = ContactReleaseFromWire(
      *flatbuffers::GetRoot<wire::ReleaseContact>(fbb.GetBufferPointer()));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->contact_id, "chat-1");
  EXPECT_EQ(plain->outcome, ContactOutcome::kResolved);
  EXPECT_FALSE(plain->survey.csat.has_value());
  EXPECT_FALSE(plain->survey.nps.has_value());

  // Zero is an answer (an NPS of 0), not the absence of one.
  flatbuffers::FlatBufferBuilder answered;
  answered.Finish(wire::CreateReleaseContact(answered,
                                             answered.CreateString("chat-1"),
                                             wire::Outcome::Unresolved, 4, 0));
  absl::StatusOr<ContactRelease> survey = ContactReleaseFromWire(
      *flatbuffers::GetRoot<wire::ReleaseContact>(answered.GetBufferPointer()));
  ASSERT_TRUE(survey.ok()) << survey.status();
  EXPECT_EQ(survey->survey.csat, 4);
  EXPECT_EQ(survey->survey.nps, 0);
}

TEST(RequestDecoderTest, ReleaseRefusalsNameTheField) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateReleaseContact(fbb, fbb.CreateString("chat-1"),
                                        static_cast<wire::Outcome>(9)));
  absl::StatusOr<ContactRelease> outcome = ContactReleaseFromWire(
      *flatbuffers::GetRoot<wire::ReleaseContact>(fbb.GetBufferPointer()));
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(outcome.status().message()),
              HasSubstr("release.outcome 9"));

  flatbuffers::FlatBufferBuilder empty_id;
  empty_id.Finish(wire::CreateReleaseContact(
      empty_id, empty_id.CreateString(""), wire::Outcome::Resolved));
  absl::StatusOr<ContactRelease> id = ContactReleaseFromWire(
      *flatbuffers::GetRoot<wire::ReleaseContact>(empty_id.GetBufferPointer()));
  EXPECT_THAT(std::string(id.status().message()),
              HasSubstr("release.contact_id is empty"));
}

TEST(RequestDecoderTest, GetContactNeedsAnIdWithinLimits) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateGetContact(fbb, fbb.CreateString("chat-7")));
  EXPECT_EQ(ContactIdFromWire(
                *flatbuffers::GetRoot<wire::GetContact>(fbb.GetBufferPointer()))
                .value(),
            "chat-7");
  flatbuffers::FlatBufferBuilder empty;
  empty.Finish(wire::CreateGetContact(empty, empty.CreateString("")));
  EXPECT_THAT(
      std::string(ContactIdFromWire(*flatbuffers::GetRoot<wire::GetContact>(
                                        empty.GetBufferPointer()))
                      .status()
                      .message()),
      HasSubstr("get_contact.contact_id is empty"));
  flatbuffers::FlatBufferBuilder huge;
  huge.Finish(wire::CreateGetContact(
      huge, huge.CreateString(std::string(kMaxIdBytes + 1, 'x'))));
  EXPECT_THAT(
      std::string(ContactIdFromWire(*flatbuffers::GetRoot<wire::GetContact>(
                                        huge.GetBufferPointer()))
                      .status()
                      .message()),
      HasSubstr("get_contact.contact_id is 129 bytes"));

  // The id is required: a GetContact without one fails verification.
  flatbuffers::FlatBufferBuilder missing;
  wire::GetContactBuilder no_id(missing);
  auto body = no_id.Finish();
  FinishRequest(missing, 3, wire::RequestBody::GetContact, body.Union());
  DecodedRequest decoded = Bytes(missing).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_THAT(decoded.message, HasSubstr("missing a required field"));
}

TEST(RequestDecoderTest, ListContactsDefaultsAndBoundsItsLimit) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, 4, wire::RequestBody::ListContacts,
                wire::CreateListContacts(fbb).Union());
  Bytes bytes(fbb);
  DecodedRequest decoded = bytes.Decode();
  ASSERT_TRUE(decoded.ok()) << decoded.message;
  absl::StatusOr<ContactListQuery> all =
      ContactListQueryFromWire(*decoded.request->body_as_ListContacts());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->queue, "");
  EXPECT_EQ(all->limit_per_queue, 1000);

  for (int limit : {0, -3, kMaxListContactsPerQueue + 1}) {
    flatbuffers::FlatBufferBuilder bad;
    bad.Finish(
        wire::CreateListContacts(bad, bad.CreateString("billing"), limit));
    absl::StatusOr<ContactListQuery> query = ContactListQueryFromWire(
        *flatbuffers::GetRoot<wire::ListContacts>(bad.GetBufferPointer()));
    EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(query.status().message()),
                HasSubstr(absl::StrCat("list_contacts.limit ", limit,
                                       " is outside 1..1000")));
  }
  flatbuffers::FlatBufferBuilder long_queue;
  long_queue.Finish(wire::CreateListContacts(
      long_queue, long_queue.CreateString(std::string(kMaxNameBytes + 1, 'q')),
      10));
  EXPECT_THAT(std::string(ContactListQueryFromWire(
                              *flatbuffers::GetRoot<wire::ListContacts>(
                                  long_queue.GetBufferPointer()))
                              .status()
                              .message()),
              HasSubstr("list_contacts.queue is 65 bytes"));
}

TEST(RequestDecoderTest, AlignedCopyAlignsOnlyWhenNeeded) {
  std::vector<uint64_t> storage(4, 0);
  auto* base = reinterpret_cast<const uint8_t*>(storage.data());
  std::vector<uint64_t> scratch;
  EXPECT_EQ(AlignedCopy(base, 16, &scratch), base);
  const uint8_t* copy = AlignedCopy(base + 1, 16, &scratch);
  EXPECT_NE(copy, base + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(copy) % 8, 0u);
  EXPECT_EQ(std::memcmp(copy, base + 1, 16), 0);
}

}  // namespace
}  // namespace routing::sidecar
