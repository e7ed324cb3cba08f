#include "journal/snapshot_codec.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "journal/snapshot_generated.h"
#include "journal/state_tables.h"

namespace journal {
namespace {

namespace fb = routing::journal::fb;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

absl::Status Damaged(const std::string& what) {
  return absl::DataLossError(absl::StrCat("snapshot: ", what));
}


}  // namespace

std::string EncodeSnapshot(const SnapshotInfo& info,
                           const routing::RouterState& state) {
  FlatBufferBuilder b(1 << 20);
  std::vector<Offset<fb::Agent>> agents;
  agents.reserve(state.agents.size());
  for (const auto& a : state.agents) agents.push_back(EncodeAgent(b, routing::ViewOf(a)));
  auto agent_vector = b.CreateVector(agents);
  std::vector<Offset<fb::Contact>> contacts;
  contacts.reserve(state.contacts.size());
  for (const auto& c : state.contacts) contacts.push_back(EncodeContact(b, routing::ViewOf(c)));
  auto contact_vector = b.CreateVector(contacts);

  // History: agent ids once, interactions by index.
  std::vector<std::string> history_agents;
  absl::flat_hash_map<std::string, uint32_t> agent_numbers;
  std::vector<uint64_t> keys;
  std::vector<uint8_t> counts;
  std::vector<fb::Interaction> interactions;
  keys.reserve(state.customers.size());
  counts.reserve(state.customers.size());
  for (const routing::CustomerSnapshot& customer : state.customers) {
    const size_t n = std::min<size_t>(customer.interactions.size(), 255);
    keys.push_back(customer.customer_key);
    counts.push_back(static_cast<uint8_t>(n));
    for (size_t i = 0; i < n; ++i) {
      const routing::CustomerInteraction& x = customer.interactions[i];
      auto [it, added] = agent_numbers.try_emplace(
          x.agent_id, static_cast<uint32_t>(history_agents.size()));
      if (added) history_agents.push_back(x.agent_id);
      interactions.emplace_back(absl::ToUnixSeconds(x.time), it->second,
                                static_cast<uint8_t>(x.channel),
                                static_cast<uint8_t>(x.outcome));
    }
  }
  auto history_agent_vector = b.CreateVectorOfStrings(history_agents);
  auto key_vector = b.CreateVector(keys);
  auto count_vector = b.CreateVector(counts);
  auto interaction_vector = b.CreateVectorOfStructs(interactions);
  auto rules_file = b.CreateString(info.rules_file);
  auto rules_source = b.CreateString(info.rules_source);

  fb::SnapshotBuilder snapshot(b);
  snapshot.add_schema_version(kSnapshotSchemaVersion);
  snapshot.add_sequence(info.sequence);
  snapshot.add_taken_ns(TimeToNanos(info.taken_at));
  snapshot.add_rules_file(rules_file);
  snapshot.add_rules_source(rules_source);
  snapshot.add_rules_version(info.rules_version);
  snapshot.add_agents(agent_vector);
  snapshot.add_contacts(contact_vector);
  snapshot.add_history_agents(history_agent_vector);
  snapshot.add_customer_keys(key_vector);
  snapshot.add_interaction_counts(count_vector);
  snapshot.add_interactions(interaction_vector);
  b.Finish(snapshot.Finish(), fb::SnapshotIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()),
                     b.GetSize());
}

absl::StatusOr<Snapshot> DecodeSnapshot(std::string_view body) {
  const auto* data = reinterpret_cast<const uint8_t*>(body.data());
  if (!flatbuffers::BufferHasIdentifier(data, fb::SnapshotIdentifier())) {
    return Damaged("not a snapshot (file identifier is not RSN1)");
  }
  // Snapshots hold millions of tables: the verifier's default limit of a
  // million is raised with the size.
  flatbuffers::Verifier verifier(data, body.size(), /*max_depth=*/64,
                                 /*max_tables=*/body.size());
  if (!fb::VerifySnapshotBuffer(verifier)) {
    return Damaged(absl::StrCat("the ", body.size(),
                                "-byte body fails FlatBuffers verification"));
  }
  const fb::Snapshot* root = fb::GetSnapshot(data);
  if (root->schema_version() != kSnapshotSchemaVersion) {
    return Damaged(absl::StrCat("schema version ", root->schema_version(),
                                "; this routingd reads version ",
                                kSnapshotSchemaVersion));
  }
  Snapshot out;
  out.info.sequence = root->sequence();
  out.info.taken_at = NanosToTime(root->taken_ns());
  out.info.rules_file = FlatText(root->rules_file());
  out.info.rules_source = FlatText(root->rules_source());
  out.info.rules_version = root->rules_version();

  routing::RouterState& state = out.state;
  if (const auto* agents = root->agents()) {
    state.agents.reserve(agents->size());
    for (const fb::Agent* a : *agents) {
      auto agent = DecodeAgent(*a);
      if (!agent.ok()) return agent.status();
      state.agents.push_back(*std::move(agent));
    }
  }
  if (const auto* contacts = root->contacts()) {
    state.contacts.reserve(contacts->size());
    for (const fb::Contact* c : *contacts) {
      state.contacts.push_back(DecodeContact(*c));
    }
  }
  const auto* keys = root->customer_keys();
  const auto* counts = root->interaction_counts();
  const auto* interactions = root->interactions();
  const size_t customers = keys != nullptr ? keys->size() : 0;
  if ((counts != nullptr ? counts->size() : 0) != customers) {
    return Damaged(absl::StrCat(customers, " customer keys but ",
                                counts != nullptr ? counts->size() : 0,
                                " interaction counts"));
  }
  const std::vector<std::string> history_agents =
      FlatStrings(root->history_agents());
  const size_t available = interactions != nullptr ? interactions->size() : 0;
  size_t next = 0;
  state.customers.reserve(customers);
  for (size_t i = 0; i < customers; ++i) {
    routing::CustomerSnapshot customer;
    customer.customer_key = keys->Get(i);
    const size_t n = counts->Get(i);
    if (next + n > available) {
      return Damaged(absl::StrCat("customer ", i + 1, " of ", customers,
                                  " runs past the ", available,
                                  " interactions"));
    }
    customer.interactions.reserve(n);
    for (size_t k = 0; k < n; ++k, ++next) {
      const fb::Interaction* x = interactions->Get(next);
      if (x->agent() >= history_agents.size()) {
        return Damaged(absl::StrCat("an interaction names agent number ",
                                    x->agent(), " of ",
                                    history_agents.size()));
      }
      customer.interactions.push_back(
          {history_agents[x->agent()],
           static_cast<routing::Channel>(x->channel()),
           static_cast<routing::ContactOutcome>(x->outcome()),
           absl::FromUnixSeconds(x->time_s())});
    }
    state.customers.push_back(std::move(customer));
  }
  return out;
}

}  // namespace journal
