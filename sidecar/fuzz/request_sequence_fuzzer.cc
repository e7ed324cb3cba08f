// libFuzzer target for routingd's request path with state: each input is a
// sequence of requests fed through the RequestHandler and a real Router on a
// ManualClock, and the router's guarantees (routing/router.h) are checked
// after every request. Built with clang by
// tests/sidecar/request_sequence_fuzz_test.sh; see sidecar/README.md.
//
// Input encoding, one step after another until the bytes run out:
//   op byte: low 4 bits the step below; bit 4: carry an idempotency key,
//            bits 5-6: which of four keys.
//   0 AddAgent / 1 UpdateAgent   agent, skills mask, voice cap, chat cap, max
//   2 RemoveAgent                agent
//   3 SetAgentState              agent, state (5: out of range)
//   4 RouteContact / 5 Requeue   contact, channel+priority, skill, queue
//   6 CancelContact / 7 Release  contact, outcome+csat
//   8 AdvanceQueues              seconds the clock moves first
//   9 clock moves                seconds
//   10 a read: GetStats, ListAgents, ListContacts, GetContact, Health
//   11 raw bytes                 length, then that many bytes as a request
//   12 the previous request again, under a new request id
//   13 AcceptOffer / 14 RejectOffer  contact, agent (or none)
//   15 a previous request with one byte flipped
// Chats are offered (reservations: a 2-second offer timeout), so offers are
// made, accepted, rejected and left to lapse (AdvanceQueues).
// Ids come from small alphabets (4 agents, 6 contacts, 3 skills, 2 queues) so
// that requests meet the same agents and contacts.
//
// Checked after every request:
//   - exactly one Reply, verified, echoing the request id (or marked
//     request_id_unread for raw bytes whose id cannot be read);
//   - a refusal, or a replayed reply, changed nothing (agents, contacts,
//     queues and counters compared before and after);
//   - no agent's load on a channel (or in total) grew beyond its capacity
//     (or max_total_contacts);
//   - every contact held is in exactly one state; the queue listing holds
//     exactly the queued ones, each once, at the position GetContact gives;
//     an agent's load per channel is the number of contacts it holds on
//     that channel; Stats counts the contacts held and the agents.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "routing/clock.h"
#include "routing/router.h"
#include "sidecar/idempotency_store.h"
#include "sidecar/request_handler.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/wire_encoder.h"

namespace routing::sidecar {
namespace {

using flatbuffers::FlatBufferBuilder;

constexpr const char* kAgents[] = {"a0", "a1", "a2", "a3"};
constexpr const char* kContacts[] = {"c0", "c1", "c2", "c3", "c4", "c5"};
constexpr const char* kSkills[] = {"billing", "sales", "tech"};
constexpr const char* kQueues[] = {"", "q1"};
constexpr const char* kKeys[] = {"k0", "k1", "k2", "k3"};
constexpr Channel kChannels[] = {Channel::kVoice, Channel::kChat};

[[noreturn]] void Violated(const std::string& what) {
  std::fprintf(stderr, "invariant violated: %s\n", what.c_str());
  std::abort();
}

void Check(bool holds, const std::string& what) {
  if (!holds) Violated(what);
}

// Reads the input a byte at a time; 0 once it runs out.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Next() % N];
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// What a refusal must leave unchanged, read through the public API.
struct Snapshot {
  std::map<std::string, std::tuple<int, std::array<int, kChannelCount>,
                                   std::vector<std::string>>>
      agents;  // state, load, skills
  std::map<std::string, std::tuple<int, std::string, std::string, int64_t>>
      contacts;  // state, agent, queue, position
  int64_t contacts_held = 0;
  int64_t agents_count = 0;
  int64_t released = 0;
  int64_t cancelled = 0;
  bool operator==(const Snapshot& other) const {
    return agents == other.agents && contacts == other.contacts &&
           contacts_held == other.contacts_held &&
           agents_count == other.agents_count && released == other.released &&
           cancelled == other.cancelled;
  }
};

class Session {
 public:
  Session() : clock_(absl::FromUnixSeconds(1'700'000'000)),
              publisher_(&metrics_, absl::Seconds(20), &clock_) {
    RouterOptions options;
    options.clock = &clock_;
    options.listener = &publisher_;
    options.max_agents = 16;
    options.max_contacts = 16;
    // Small tables: a Router is created for every input, and the defaults
    // (a million remembered customers) would make that the whole cost.
    options.max_skills = 8;
    options.max_languages = 8;
    options.max_queues = 8;
    options.history_customers = 64;
    options.offer_timeout[ChannelIndex(Channel::kChat)] = absl::Seconds(2);
    router_ = Router::Create(options).value();
    RequestHandlerOptions handler_options;
    handler_options.clock = &clock_;
    handler_options.decoder.max_message_bytes = 4096;
    handler_ = std::make_unique<RequestHandler>(router_.get(), &metrics_,
                                                handler_options);
    for (const char* id : kContacts) contact_ids_.insert(id);
  }

  void Run(Bytes& in) {
    ScopedIdempotencyStore keys(&store_);
    while (!in.empty()) Step(in);
  }

 private:
  void Step(Bytes& in) {
    const uint8_t op = in.Next();
    const bool keyed = (op & 0x10) != 0;
    const std::string key = keyed ? kKeys[(op >> 5) & 3] : "";
    const uint64_t id = ++request_id_;
    FlatBufferBuilder fbb;
    switch (op & 0x0f) {
      case 0:
      case 1: {
        AgentProfile agent;
        agent.id = in.Pick(kAgents);
        const uint8_t mask = in.Next();
        for (int s = 0; s < 3; ++s) {
          if (mask & (1 << s)) agent.skills.push_back({kSkills[s], 1 + s});
        }
        agent.SetCapacity(Channel::kVoice, in.Next() % 3);
        agent.SetCapacity(Channel::kChat, in.Next() % 4);
        agent.max_total_contacts = in.Next() % 4;
        auto a = BuildAgentProfile(fbb, agent);
        const bool add = (op & 0x0f) == 0;
        return Send(fbb, id,
                    add ? wire::RequestBody::AddAgent
                        : wire::RequestBody::UpdateAgent,
                    add ? wire::CreateAddAgent(fbb, a).Union()
                        : wire::CreateUpdateAgent(fbb, a).Union(),
                    key);
      }
      case 2: {
        auto body =
            wire::CreateRemoveAgent(fbb, fbb.CreateString(in.Pick(kAgents)));
        return Send(fbb, id, wire::RequestBody::RemoveAgent, body.Union(), key);
      }
      case 3: {
        auto agent = fbb.CreateString(in.Pick(kAgents));
        auto body = wire::CreateSetAgentState(
            fbb, agent, static_cast<wire::AgentStateKind>(in.Next() % 6));
        return Send(fbb, id, wire::RequestBody::SetAgentState, body.Union(),
                    key);
      }
      case 4:
      case 5: {
        Contact contact;
        contact.id = in.Pick(kContacts);
        const uint8_t shape = in.Next();
        contact.channel = kChannels[shape & 1];
        contact.priority = (shape >> 1) % 10;
        const uint8_t skill = in.Next();
        if (skill < 192) contact.required_skills = {{kSkills[skill % 3], 1}};
        contact.queue = in.Pick(kQueues);
        auto c = BuildContact(fbb, contact, nullptr);
        const bool with_explanation = (shape & 0x80) != 0;
        const bool route = (op & 0x0f) == 4;
        return Send(
            fbb, id,
            route ? wire::RequestBody::RouteContact
                  : wire::RequestBody::RequeueContact,
            route ? wire::CreateRouteContact(fbb, c, with_explanation).Union()
                  : wire::CreateRequeueContact(fbb, c, with_explanation)
                        .Union(),
            key);
      }
      case 6: {
        auto body = wire::CreateCancelContact(
            fbb, fbb.CreateString(in.Pick(kContacts)));
        return Send(fbb, id, wire::RequestBody::CancelContact, body.Union(),
                    key);
      }
      case 7: {
        auto contact = fbb.CreateString(in.Pick(kContacts));
        const uint8_t survey = in.Next();
        wire::ReleaseContactBuilder b(fbb);
        b.add_contact_id(contact);
        b.add_outcome(static_cast<wire::Outcome>(survey % 5));
        if (survey & 0x80) b.add_csat((survey >> 3) % 7);  // 0 and 6: refused
        auto body = b.Finish();
        return Send(fbb, id, wire::RequestBody::ReleaseContact, body.Union(),
                    key);
      }
      case 8: {
        clock_.Advance(absl::Seconds(in.Next()));
        const Snapshot before = Take();
        handler_->AdvanceQueues();
        CheckInvariants(before, "AdvanceQueues");
        return;
      }
      case 9:
        clock_.Advance(absl::Milliseconds(in.Next() * 250));
        return;
      case 10:
        return Read(in, id, key);
      case 11: {
        std::vector<uint8_t> raw(in.Next());
        for (uint8_t& b : raw) b = in.Next();
        return Handle(raw, id, /*raw=*/true);
      }
      case 12:
        if (last_.empty()) return;
        return Resend(last_, id);
      case 13:
      case 14: {
        auto contact = fbb.CreateString(in.Pick(kContacts));
        const uint8_t who = in.Next();
        auto agent = fbb.CreateString(who < 64 ? "" : in.Pick(kAgents));
        const bool accept = (op & 0x0f) == 13;
        return Send(fbb, id,
                    accept ? wire::RequestBody::AcceptOffer
                           : wire::RequestBody::RejectOffer,
                    accept ? wire::CreateAcceptOffer(fbb, contact, agent).Union()
                           : wire::CreateRejectOffer(fbb, contact, agent).Union(),
                    key);
      }
      default: {
        if (last_.empty()) return;
        std::vector<uint8_t> flipped = last_;
        flipped[in.Next() % flipped.size()] ^= 1 << (in.Next() % 8);
        return Handle(flipped, id, /*raw=*/true);
      }
    }
  }

  void Read(Bytes& in, uint64_t id, const std::string& key) {
    FlatBufferBuilder fbb;
    switch (in.Next() % 5) {
      case 0:
        return Send(fbb, id, wire::RequestBody::GetStats,
                    wire::CreateGetStats(fbb, 1 + in.Next() * 20).Union(), key);
      case 1:
        return Send(fbb, id, wire::RequestBody::ListAgents,
                    wire::CreateListAgents(fbb).Union(), key);
      case 2: {
        auto queue = fbb.CreateString(in.Pick(kQueues));
        return Send(fbb, id, wire::RequestBody::ListContacts,
                    wire::CreateListContacts(fbb, queue, 1 + in.Next() % 8)
                        .Union(),
                    key);
      }
      case 3: {
        auto contact = fbb.CreateString(in.Pick(kContacts));
        return Send(fbb, id, wire::RequestBody::GetContact,
                    wire::CreateGetContact(fbb, contact).Union(), key);
      }
      default:
        return Send(fbb, id, wire::RequestBody::Health,
                    wire::CreateHealth(fbb).Union(), key);
    }
  }

  void Send(FlatBufferBuilder& fbb, uint64_t id, wire::RequestBody type,
            flatbuffers::Offset<void> body, const std::string& key) {
    auto key_offset = key.empty() ? 0 : fbb.CreateString(key);
    fbb.Finish(wire::CreateRequest(fbb, kProtocolVersion, id, type, body,
                                   key_offset),
               kFileIdentifier);
    last_.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
    Handle(last_, id, /*raw=*/false);
  }

  // The same request under a new id: the id field patched in place (forced
  // into the buffer by the builder only when non-zero, which ours are).
  void Resend(std::vector<uint8_t> request, uint64_t id) {
    auto* root = flatbuffers::GetMutableRoot<wire::Request>(request.data());
    if (!root->mutate_request_id(id)) return;
    Handle(request, id, /*raw=*/false);
  }

  void Handle(const std::vector<uint8_t>& request, uint64_t id, bool raw) {
    const Snapshot before = Take();
    FlatBufferBuilder reply_fbb;
    handler_->Handle(request.data(), request.size(), reply_fbb);
    flatbuffers::Verifier verifier(reply_fbb.GetBufferPointer(),
                                   reply_fbb.GetSize());
    Check(verifier.VerifyBuffer<wire::Reply>(kFileIdentifier),
          "the reply does not verify");
    const wire::Reply* reply =
        flatbuffers::GetRoot<wire::Reply>(reply_fbb.GetBufferPointer());
    Check(reply->protocol_version() == kProtocolVersion,
          "the reply's protocol_version is not 1");
    Check(reply->body_type() != wire::ReplyBody::NONE, "a reply without body");
    if (!raw) {
      Check(reply->request_id() == id, "the reply does not echo request_id");
    }
    const wire::Decision* decision = reply->body_as_Decision();
    if (decision != nullptr && decision->contact_id() != nullptr) {
      contact_ids_.insert(decision->contact_id()->str());
    }
    const bool refused = reply->body_type() == wire::ReplyBody::Error;
    Check(!refused || reply->body_as_Error()->code() != wire::ErrorCode::None,
          "an Error reply with code None");
    const Snapshot after = CheckInvariants(before, "request");
    if (refused || reply->replayed()) {
      if (!(before == after)) {
        Violated(std::string(refused ? "a refusal (" : "a replayed reply (") +
                 (refused && reply->body_as_Error()->message() != nullptr
                      ? reply->body_as_Error()->message()->str()
                      : "") +
                 ") changed the router's state");
      }
    }
  }

  Snapshot Take() const {
    Snapshot s;
    for (const std::string& agent_id : router_->AgentIds()) {
      absl::StatusOr<AgentStatus> agent = router_->GetAgent(agent_id);
      if (!agent.ok()) continue;
      std::vector<std::string> skills;
      for (const AgentSkill& skill : agent->profile.skills) {
        skills.push_back(skill.skill + ":" + std::to_string(skill.level));
      }
      s.agents[agent_id] = {static_cast<int>(agent->state), agent->load,
                            skills};
    }
    for (const std::string& contact_id : contact_ids_) {
      absl::StatusOr<ContactStatus> contact = router_->GetContact(contact_id);
      if (!contact.ok()) continue;
      s.contacts[contact_id] = {static_cast<int>(contact->state),
                                contact->agent_id, contact->contact.queue,
                                contact->queue_position};
    }
    const RouterStats stats = router_->Stats();
    s.contacts_held = stats.contacts_held;
    s.agents_count = stats.agents;
    s.released = stats.released;
    s.cancelled = stats.cancelled;
    return s;
  }

  Snapshot CheckInvariants(const Snapshot& before, const char* step) {
    const Snapshot after = Take();
    const std::string where = std::string(" (after ") + step + ")";
    // Capacity: load grows only within the capacity in force.
    std::map<std::string, std::array<int, kChannelCount>> held_by;
    for (const auto& [contact_id, c] : after.contacts) {
      const auto& [state, agent_id, queue, position] = c;
      if (state == static_cast<int>(ContactStatus::State::kQueued)) {
        Check(agent_id.empty(), "queued contact " + contact_id +
                                    " names an agent" + where);
        continue;
      }
      Check(after.agents.count(agent_id) == 1,
            "contact " + contact_id + " is held by " + agent_id +
                ", who is not on the roster" + where);
      absl::StatusOr<ContactStatus> status = router_->GetContact(contact_id);
      Check(status.ok(), "contact " + contact_id + " vanished" + where);
      ++held_by[agent_id][ChannelIndex(status->contact.channel)];
    }
    for (const auto& [agent_id, a] : after.agents) {
      const auto& load = std::get<1>(a);
      absl::StatusOr<AgentStatus> agent = router_->GetAgent(agent_id);
      Check(agent.ok(), "agent " + agent_id + " vanished" + where);
      const auto& counted = held_by[agent_id];
      int total = 0;
      int total_before = 0;
      auto was = before.agents.find(agent_id);
      for (int ch = 0; ch < kChannelCount; ++ch) {
        total += load[ch];
        const int load_before =
            was == before.agents.end() ? 0 : std::get<1>(was->second)[ch];
        total_before += load_before;
        Check(load[ch] == counted[ch],
              "agent " + agent_id + " has load " + std::to_string(load[ch]) +
                  " on channel " + std::to_string(ch) + " but holds " +
                  std::to_string(counted[ch]) + " contacts there" + where);
        Check(load[ch] <= load_before ||
                  load[ch] <= agent->profile.capacity[ch],
              "agent " + agent_id + " was assigned beyond its capacity on " +
                  "channel " + std::to_string(ch) + where);
      }
      const int max_total = agent->profile.max_total_contacts;
      Check(max_total == 0 || total <= total_before || total <= max_total,
            "agent " + agent_id + " was assigned beyond max_total_contacts" +
                where);
    }
    // The queue listing holds exactly the queued contacts, once each.
    std::set<std::string> listed;
    for (const QueuedContact& q : router_->QueuedContacts("")) {
      Check(listed.insert(q.contact.id).second,
            "contact " + q.contact.id + " listed twice" + where);
      auto it = after.contacts.find(q.contact.id);
      Check(it != after.contacts.end() &&
                std::get<0>(it->second) ==
                    static_cast<int>(ContactStatus::State::kQueued),
            "listed contact " + q.contact.id + " is not queued" + where);
      Check(std::get<3>(it->second) == q.queue_position,
            "contact " + q.contact.id + " is listed at " +
                std::to_string(q.queue_position) + " but GetContact says " +
                std::to_string(std::get<3>(it->second)) + where);
    }
    int64_t queued = 0;
    for (const auto& [contact_id, c] : after.contacts) {
      if (std::get<0>(c) == static_cast<int>(ContactStatus::State::kQueued)) {
        ++queued;
        Check(listed.count(contact_id) == 1,
              "queued contact " + contact_id + " is not listed" + where);
      }
    }
    Check(static_cast<int64_t>(listed.size()) == queued,
          "the queue listing and GetContact disagree" + where);
    Check(after.contacts_held == static_cast<int64_t>(after.contacts.size()),
          "Stats counts " + std::to_string(after.contacts_held) +
              " contacts held, GetContact finds " +
              std::to_string(after.contacts.size()) + where);
    Check(after.agents_count == static_cast<int64_t>(after.agents.size()),
          "Stats counts " + std::to_string(after.agents_count) +
              " agents, the roster has " +
              std::to_string(after.agents.size()) + where);
    return after;
  }

  ManualClock clock_;
  SidecarMetrics metrics_;
  AssignmentPublisher publisher_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RequestHandler> handler_;
  IdempotencyStore store_;
  std::set<std::string> contact_ids_;  // Every id a contact may be held by.
  std::vector<uint8_t> last_;          // The last well-formed request.
  uint64_t request_id_ = 0;
};

}  // namespace
}  // namespace routing::sidecar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  routing::sidecar::Bytes in(data, size);
  routing::sidecar::Session session;
  session.Run(in);
  return 0;
}
