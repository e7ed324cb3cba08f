#include "sidecar/request_decoder.h"

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
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

TEST(RequestDecoderTest, UnknownRequestTypeIsUnimplementedNamingIt) {
  // A newer client's request type: the verifier accepts unknown union
  // members, and the daemon must say it does not serve it, not that the
  // buffer is broken.
  flatbuffers::FlatBufferBuilder fbb;
  auto body = wire::CreateHealth(fbb);
  fbb.Finish(
      wire::CreateRequest(fbb, kProtocolVersion, 9,
                          static_cast<wire::RequestBody>(77), body.Union()),
      kFileIdentifier);
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error, wire::ErrorCode::Unimplemented);
  EXPECT_EQ(decoded.request_id, 9u);
  EXPECT_FALSE(decoded.request_id_unread);
  EXPECT_THAT(decoded.message, HasSubstr("request type 77 is not known"));
}

TEST(RequestDecoderTest, RefusesMissingBody) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateRequest(fbb, kProtocolVersion, 5), kFileIdentifier);
  DecodedRequest decoded = Bytes(fbb).Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_EQ(decoded.request_id, 5u);
  EXPECT_THAT(decoded.message, HasSubstr("no body"));
}

// Tables written field by field, as flatc's Python or JavaScript code does:
// nothing checks `(required)` before the buffer leaves.
template <typename T>
flatbuffers::Offset<T> TableOf(
    flatbuffers::FlatBufferBuilder& fbb,
    const std::vector<std::pair<flatbuffers::voffset_t,
                                flatbuffers::Offset<void>>>& offsets) {
  const flatbuffers::uoffset_t start = fbb.StartTable();
  for (const auto& [field, offset] : offsets) fbb.AddOffset(field, offset);
  return flatbuffers::Offset<T>(fbb.EndTable(start));
}

TEST(RequestDecoderTest, NamesTheMissingRequiredFieldAndEchoesTheId) {
  struct Case {
    std::string missing;
    std::function<void(flatbuffers::FlatBufferBuilder&)> build;
  };
  using flatbuffers::Offset;
  const std::vector<Case> cases = {
      {"RouteContact.contact",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         FinishRequest(fbb, 3, wire::RequestBody::RouteContact,
                       TableOf<wire::RouteContact>(fbb, {}).Union());
       }},
      {"RouteContact.contact.id",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         auto contact = TableOf<wire::Contact>(
             fbb, {{wire::Contact::VT_QUEUE, fbb.CreateString("billing").Union()}});
         FinishRequest(
             fbb, 3, wire::RequestBody::RouteContact,
             TableOf<wire::RouteContact>(
                 fbb, {{wire::RouteContact::VT_CONTACT, contact.Union()}})
                 .Union());
       }},
      {"AddAgent.agent.skills[2].name",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         std::vector<Offset<wire::Skill>> skills = {
             wire::CreateSkill(fbb, fbb.CreateString("billing"), 3),
             wire::CreateSkill(fbb, fbb.CreateString("sales"), 2),
             TableOf<wire::Skill>(fbb, {})};
         auto skills_vector = fbb.CreateVector(skills);
         auto id = fbb.CreateString("alice");
         auto agent = TableOf<wire::AgentProfile>(
             fbb, {{wire::AgentProfile::VT_ID, id.Union()},
                   {wire::AgentProfile::VT_SKILLS, skills_vector.Union()}});
         FinishRequest(
             fbb, 3, wire::RequestBody::AddAgent,
             TableOf<wire::AddAgent>(fbb,
                                     {{wire::AddAgent::VT_AGENT, agent.Union()}})
                 .Union());
       }},
      {"RouteContact.contact.handoff.attributes[1].key",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         std::vector<Offset<wire::KeyValue>> attributes = {
             wire::CreateKeyValue(fbb, fbb.CreateString("order"),
                                  fbb.CreateString("A-1")),
             TableOf<wire::KeyValue>(
                 fbb, {{wire::KeyValue::VT_VALUE,
                        fbb.CreateString("orphan").Union()}})};
         auto list = fbb.CreateVector(attributes);
         auto handoff = TableOf<wire::HandoffContext>(
             fbb, {{wire::HandoffContext::VT_ATTRIBUTES, list.Union()}});
         auto id = fbb.CreateString("chat-1");
         auto contact = TableOf<wire::Contact>(
             fbb, {{wire::Contact::VT_ID, id.Union()},
                   {wire::Contact::VT_HANDOFF, handoff.Union()}});
         FinishRequest(
             fbb, 3, wire::RequestBody::RouteContact,
             TableOf<wire::RouteContact>(
                 fbb, {{wire::RouteContact::VT_CONTACT, contact.Union()}})
                 .Union());
       }},
      {"RemoveAgent.agent_id",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         FinishRequest(fbb, 3, wire::RequestBody::RemoveAgent,
                       TableOf<wire::RemoveAgent>(fbb, {}).Union());
       }},
      {"RejectOffer.contact_id",
       [](flatbuffers::FlatBufferBuilder& fbb) {
         auto agent = fbb.CreateString("alice");
         FinishRequest(
             fbb, 3, wire::RequestBody::RejectOffer,
             TableOf<wire::RejectOffer>(
                 fbb, {{wire::RejectOffer::VT_AGENT_ID, agent.Union()}})
                 .Union());
       }},
  };
  for (const Case& test : cases) {
    flatbuffers::FlatBufferBuilder fbb;
    test.build(fbb);
    DecodedRequest decoded = Bytes(fbb).Decode();
    EXPECT_FALSE(decoded.ok()) << test.missing;
    EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest) << test.missing;
    EXPECT_EQ(decoded.message, test.missing + " is required but missing");
    EXPECT_EQ(decoded.request_id, 3u) << test.missing;
    EXPECT_FALSE(decoded.request_id_unread) << test.missing;
  }
}

TEST(RequestDecoderTest, ACorruptBufferIsNotBlamedOnARequiredField) {
  // Every required field present, the contact's id string cut off: the
  // message must not invent a missing field.
  Bytes bytes = RouteRequest(ChatContact(), nullptr, 8);
  RequestDecoderOptions options;
  options.max_depth = 2;  // Nested too deep for this limit.
  DecodedRequest decoded = bytes.Decode(options);
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_THAT(decoded.message, HasSubstr("failed FlatBuffers verification"));
  EXPECT_EQ(decoded.request_id, 8u);
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
  EXPECT_EQ(decoded.message, "GetContact.contact_id is required but missing");
  EXPECT_EQ(decoded.request_id, 3u);
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

TEST(RequestDecoderTest, EchoesTheIdWheneverItIsReadable) {
  // Too large: only the envelope is read.
  {
    Bytes bytes = RouteRequest(ChatContact(), nullptr, 71);
    RequestDecoderOptions options;
    options.max_message_bytes = bytes.size() - 1;
    DecodedRequest decoded = bytes.Decode(options);
    EXPECT_EQ(decoded.error, wire::ErrorCode::TooLarge);
    EXPECT_EQ(decoded.request_id, 71u);
    EXPECT_FALSE(decoded.request_id_unread);
  }
  // A wrong file identifier.
  {
    Bytes bytes = RouteRequest(ChatContact(), nullptr, 72);
    std::memcpy(bytes.data() + 4, "XXXX", 4);
    DecodedRequest decoded = bytes.Decode();
    EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
    EXPECT_EQ(decoded.request_id, 72u);
    EXPECT_FALSE(decoded.request_id_unread);
  }
  // Another version, whose body need not verify as version 1's.
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto junk = fbb.CreateString("a version 2 body");
    fbb.Finish(wire::CreateRequest(fbb, 2, 73, wire::RequestBody::RouteContact,
                                   junk.Union()),
               kFileIdentifier);
    DecodedRequest decoded = Bytes(fbb).Decode();
    EXPECT_EQ(decoded.error, wire::ErrorCode::UnsupportedVersion);
    EXPECT_EQ(decoded.request_id, 73u);
    EXPECT_FALSE(decoded.request_id_unread);
  }
  // Id 0 is an id like any other.
  {
    Bytes bytes = RouteRequest(ChatContact(), nullptr, 0);
    std::memcpy(bytes.data() + 4, "XXXX", 4);
    DecodedRequest decoded = bytes.Decode();
    EXPECT_EQ(decoded.request_id, 0u);
    EXPECT_FALSE(decoded.request_id_unread);
  }
}

TEST(RequestDecoderTest, MarksTheIdUnreadExactlyWhenItIsNot) {
  // Too short to hold a root table.
  const uint8_t tiny[] = {1, 2, 3};
  DecodedRequest decoded = Bytes(tiny, sizeof(tiny)).Decode();
  EXPECT_TRUE(decoded.request_id_unread);
  EXPECT_EQ(decoded.request_id, 0u);
  // A root offset pointing outside the buffer.
  Bytes bytes = RouteRequest(ChatContact(), nullptr, 74);
  const uint32_t outside = 0x7fff0000;
  std::memcpy(bytes.data(), &outside, sizeof(outside));
  decoded = bytes.Decode();
  EXPECT_EQ(decoded.error, wire::ErrorCode::MalformedRequest);
  EXPECT_TRUE(decoded.request_id_unread);
  EXPECT_EQ(decoded.request_id, 0u);
  // Random bytes: unread, unless by chance they hold a readable root table.
  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> noise(random() % 300);
    for (uint8_t& b : noise) b = static_cast<uint8_t>(random());
    Bytes noisy(noise.data(), noise.size());
    decoded = noisy.Decode();
    EXPECT_EQ(decoded.request_id_unread,
              !PeekRequestHeader(noisy.data(), noisy.size()).readable);
    if (decoded.request_id_unread) {
      EXPECT_EQ(decoded.request_id, 0u);
    }
  }
  // A request that decodes: read.
  Bytes valid = RouteRequest(ChatContact(), nullptr, 0);
  decoded = valid.Decode();
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded.request_id_unread);
}

TEST(RequestDecoderTest, TheErrorReplyCarriesRequestIdUnread) {
  for (const bool unread : {false, true}) {
    DecodedRequest refused;
    refused.request_id = unread ? 0 : 75;
    refused.request_id_unread = unread;
    refused.error = wire::ErrorCode::MalformedRequest;
    refused.message = "bad";
    flatbuffers::FlatBufferBuilder fbb;
    FinishErrorReply(fbb, refused);
    flatbuffers::Verifier verifier(fbb.GetBufferPointer(), fbb.GetSize());
    ASSERT_TRUE(verifier.VerifyBuffer<wire::Reply>(kFileIdentifier));
    const auto* reply = flatbuffers::GetRoot<wire::Reply>(fbb.GetBufferPointer());
    EXPECT_EQ(reply->request_id_unread(), unread);
    EXPECT_EQ(reply->request_id(), unread ? 0u : 75u);
    EXPECT_EQ(reply->body_as_Error()->code(), wire::ErrorCode::MalformedRequest);
  }
}

TEST(RequestDecoderTest, PeekRequestHeaderIsSafeOnEveryTruncation) {
  Bytes whole = RouteRequest(ChatContact(), nullptr, 76);
  const RequestHeader header = PeekRequestHeader(whole.data(), whole.size());
  ASSERT_TRUE(header.readable);
  EXPECT_EQ(header.request_id, 76u);
  EXPECT_EQ(header.protocol_version, kProtocolVersion);
  EXPECT_EQ(header.body_type,
            static_cast<uint8_t>(wire::RequestBody::RouteContact));
  for (size_t size = 0; size < whole.size(); ++size) {
    Bytes cut(whole.data(), size);
    const RequestHeader peeked = PeekRequestHeader(cut.data(), size);
    if (peeked.readable) {
      EXPECT_EQ(peeked.request_id, 76u) << size;
    }
  }
}

TEST(RequestDecoderTest, IdsMayNotHoldControlCharacters) {
  struct Case {
    std::function<void(Contact&)> spoil;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Contact& c) { c.id = "chat\n1"; }, "contact.id \"chat\\n1\""},
      {[](Contact& c) { c.id = std::string("chat\0001", 6); }, "contact.id"},
      {[](Contact& c) { c.id = "chat\x7f"; }, "0x7F"},
      {[](Contact& c) { c.queue = "billing\t"; }, "contact.queue"},
      {[](Contact& c) { c.customer_id = "cust\r9"; }, "contact.customer_id"},
      {[](Contact& c) { c.required_skills[0].skill = "bill\x01ing"; },
       "contact.required_skills.name"},
      {[](Contact& c) { c.languages = {"e\x1bn"}; }, "contact.languages"},
      {[](Contact& c) { c.preferred_agents = {"al\nice"}; },
       "contact.preferred_agents"},
      {[](Contact& c) { c.attributes["ord\ner"] = "A-1"; },
       "contact.attributes.key"},
  };
  for (const Case& test : cases) {
    Contact contact = ChatContact();
    test.spoil(contact);
    Bytes bytes_1 = RouteRequest(contact, nullptr);
    DecodedRequest decoded = bytes_1.Decode();
    ASSERT_TRUE(decoded.ok()) << decoded.message;
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << test.field;
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr(test.field));
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("control character"));
  }
  // Free text may hold them: a summary of several lines.
  Contact contact = ChatContact();
  contact.attributes["note"] = "line one\nline two";
  HandoffContext handoff;
  handoff.summary = "asked twice\nthen left";
  Bytes bytes_2 = RouteRequest(contact, &handoff);
  DecodedRequest decoded = bytes_2.Decode();
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(ContactFromWire(ContactOf(decoded), kNow).ok());
  // An agent's id, skills and language tags.
  AgentProfile agent;
  agent.id = "ali\x1f" "ce";
  agent.SetCapacity(Channel::kVoice, 1);
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, 1, wire::RequestBody::AddAgent,
                wire::CreateAddAgent(fbb, BuildAgentProfile(fbb, agent)).Union());
  Bytes add_agent(fbb);
  decoded = add_agent.Decode();
  ASSERT_TRUE(decoded.ok());
  absl::StatusOr<AgentProfile> profile =
      AgentProfileFromWire(*decoded.request->body_as_AddAgent()->agent());
  EXPECT_THAT(std::string(profile.status().message()),
              HasSubstr("agent.id \"ali\\x1f\\x63\\x65\" holds control "
                        "character 0x1F at byte 3"));
}

TEST(RequestDecoderTest, IdsTheHandlerReadsDirectlyAreCheckedOnDecode) {
  struct Case {
    wire::RequestBody type;
    std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>
        body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {wire::RequestBody::CancelContact,
       [](auto& fbb) {
         return wire::CreateCancelContactDirect(fbb, "chat\n1").Union();
       },
       "cancel_contact.contact_id"},
      {wire::RequestBody::RemoveAgent,
       [](auto& fbb) {
         return wire::CreateRemoveAgentDirect(fbb, "al\tice").Union();
       },
       "remove_agent.agent_id"},
      {wire::RequestBody::SetAgentState,
       [](auto& fbb) {
         return wire::CreateSetAgentStateDirect(fbb, "al\x01ice").Union();
       },
       "set_agent_state.agent_id"},
      {wire::RequestBody::AcceptOffer,
       [](auto& fbb) {
         return wire::CreateAcceptOfferDirect(fbb, "chat-1", "al\nice").Union();
       },
       "accept_offer.agent_id"},
      {wire::RequestBody::RejectOffer,
       [](auto& fbb) {
         return wire::CreateRejectOfferDirect(fbb, std::string(200, 'x').c_str())
             .Union();
       },
       "reject_offer.contact_id is 200 bytes"},
  };
  for (const Case& test : cases) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = test.body(fbb);
    FinishRequest(fbb, 12, test.type, body);
    DecodedRequest decoded = Bytes(fbb).Decode();
    EXPECT_FALSE(decoded.ok()) << test.field;
    EXPECT_EQ(decoded.error, wire::ErrorCode::InvalidArgument) << test.field;
    EXPECT_THAT(decoded.message, HasSubstr(test.field));
    EXPECT_EQ(decoded.request_id, 12u);
  }
}

TEST(RequestDecoderTest, AnAttributeGivenTwiceMustAgree) {
  // The same value from the contact and the handoff: fine.
  {
    Contact contact = ChatContact();
    contact.attributes["intent"] = "billing.dispute";
    HandoffContext handoff;
    handoff.intent = "billing.dispute";
    Bytes bytes_3 = RouteRequest(contact, &handoff);
    DecodedRequest decoded = bytes_3.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->attributes.at("intent"), "billing.dispute");
  }
  // A contact attribute against a handoff field.
  {
    Contact contact = ChatContact();
    contact.attributes["intent"] = "billing";
    HandoffContext handoff;
    handoff.intent = "sales";
    Bytes bytes_4 = RouteRequest(contact, &handoff);
    DecodedRequest decoded = bytes_4.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(),
              "attribute \"intent\" is \"billing\" in contact.attributes[0] "
              "but \"sales\" in handoff.intent; give it once, or the same "
              "value in both");
  }
  // A contact attribute against a handoff attribute.
  {
    Contact contact = ChatContact();
    contact.attributes["order"] = "A-1";
    HandoffContext handoff;
    handoff.attributes["order"] = "B-2";
    Bytes bytes_5 = RouteRequest(contact, &handoff);
    DecodedRequest decoded = bytes_5.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("attribute \"order\" is \"A-1\" in "
                          "contact.attributes[0] but \"B-2\" in "
                          "handoff.attributes[0]"));
  }
  // The handoff's customer_id against a customer_id attribute.
  {
    Contact contact = ChatContact();
    contact.attributes["customer_id"] = "cust-1";
    HandoffContext handoff;
    handoff.customer_id = "cust-2";
    Bytes bytes_6 = RouteRequest(contact, &handoff);
    DecodedRequest decoded = bytes_6.Decode();
    ASSERT_TRUE(decoded.ok());
    absl::StatusOr<Contact> parsed = ContactFromWire(ContactOf(decoded), kNow);
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("handoff.customer_id"));
  }
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
