// End-to-end crash test of routingd's journal (--journal_dir): an open loop
// of about 5,000 requests/s (agents added and set available or on break,
// chats routed into three queues, cancelled and released) on one pipelined
// DEALER, routingd killed with SIGKILL at a random moment of each run, and
// restarted on the same directory. After each restart:
//   - every request answered with success before the kill is reflected: an
//     acknowledged agent exists in its last acknowledged state, a contact
//     whose RouteContact was acknowledged is still held (and still with the
//     agent its Decision named, if assigned) unless a later request about it
//     was acknowledged as ending it, and such a contact is gone. A request
//     that got no reply may or may not have taken effect: both are allowed;
//   - a contact a ContactAssigned event gave to an agent is still with that
//     agent (unless ended) once any request sent after the event was read
//     was acknowledged: events go out before their record is durable, but
//     that later request's record follows it in the journal;
//   - no agent holds more contacts than its capacity, each agent's load is
//     the number of contacts GetContact finds assigned to it, and nothing
//     else is assigned (no contact twice, none resurrected);
//   - every contact ListContacts shows waiting is one GetContact finds
//     queued, and no queue waits while an available agent of its skill has
//     room;
//   - within each queue, contacts keep their relative order: against the
//     last ListContacts taken during the run before the kill, and against
//     the previous restart's (all contacts have the same priority, so
//     service order is arrival order);
//   - routingd was serving within kRestartBudget, printed no error nor any
//     warning but a torn tail's, and its "restored N agents, M contacts"
//     line agrees with what it serves.
// After the last kill, a clean SIGTERM and restart must give back exactly
// the state served before.
//
// The seed (printed, and in every failure) fixes the kill times and the
// choices of requests; which requests those choices make still depends on
// the replies and their timing. On failure the journal
// directory is copied to the test's undeclared outputs (outputs.zip) for
// `routing_journal dump` and `why`.
//
// The CI version: 5 kills at 3..9 s into each run, 30-60 s in all. The
// long version, by environment:
//   bazel test //tests/sidecar:routingd_crash_e2e_test
//     --test_output=streamed --test_env=ROUTING_CRASH_KILLS=20
//     --test_env=ROUTING_CRASH_SECONDS_PER_RUN=20
// Knobs: ROUTING_CRASH_KILLS (5), ROUTING_CRASH_SECONDS_PER_RUN (6; each
// kill comes uniformly between half and 1.5 times this into its run),
// ROUTING_CRASH_RATE (5000 requests/s), ROUTING_CRASH_SEED (20270115),
// ROUTING_CRASH_FSYNC (batch; a comma-separated list such as batch,none,always
// is cycled run by run). --fsync=always syncs each record under the
// journal's order lock: at 0.2 ms a sync, 5,000 requests/s is more than a
// disk takes, routingd falls behind and answers BUSY (refusals, which the
// model allows), so lower ROUTING_CRASH_RATE with it. Past the 900 s of a
// large test, add --test_timeout.
#include <zmq.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "sidecar/client.h"
#include "sidecar/wire_encoder.h"
#include "sidecar/zmq_frames.h"
#include "tests/sidecar/routingd_process.h"

namespace routing::sidecar {
namespace {

// --- The workload's shape ----------------------------------------------------

constexpr std::array<const char*, 3> kQueues = {"sales", "support", "billing"};
constexpr int kQueueCount = static_cast<int>(kQueues.size());
// Agents ever added; the first kInitialAgents at once, the rest now and then
// (so that agents join between kills too).
constexpr int kAgentPool = 60;
constexpr int kInitialAgents = 40;
// Per request, the chance that one of the pool's absent agents is added:
// a few per run.
constexpr double kLateAddChance = 1.0 / 8000;
// Chat capacity: 1..kMaxCapacity per agent.
constexpr int kMaxCapacity = 3;
constexpr int kCustomers = 1000;
// The mix, per request (the rest cancels): while fewer than kQueuedTarget
// contacts wait the generator routes more, past it it cancels more, so
// the queues hold some hundreds (enough for their order to be checked, far
// below ListContacts' limit of kListLimit per queue, so every check sees
// whole queues). No routes at all past kHeldCeiling, nor into a queue the
// last ListContacts found kQueueCeiling long (it lags by at most
// kObservationInterval: about 200 routes).
constexpr double kSetStateShare = 0.12;
constexpr double kReleaseShare = 0.30;
constexpr double kRouteShareBelowTarget = 0.45;
constexpr double kRouteShareAboveTarget = 0.20;
constexpr double kAvailableChance = 0.75;  // Else Break.
// Of the cancels, those of a waiting contact (the rest: of one served).
constexpr double kCancelWaitingShare = 0.8;
constexpr int kQueuedTarget = 600;
constexpr int kHeldCeiling = 2000;
constexpr size_t kQueueCeiling = 700;
constexpr int kListLimit = 1000;
// A ListContacts this often during the load: the order a kill interrupts,
// and which routed contacts left their queue (candidates for release).
constexpr absl::Duration kObservationInterval = absl::Milliseconds(100);
// After the kill, replies routingd sent before dying are still read for
// this long: they are acknowledgements like any other.
constexpr absl::Duration kDrainAfterKill = absl::Milliseconds(200);
// From the restart's exec to its first Health reply. The state is a few
// thousand contacts and seconds of records; this is generous for a loaded
// 2-core machine.
constexpr absl::Duration kRestartBudget = absl::Seconds(5);
// How long the post-restart reads may take to answer, and how many
// GetContact requests are in flight at once.
constexpr absl::Duration kReadTimeout = absl::Seconds(10);
constexpr size_t kReadWindow = 1000;
// Tells the requests' random stream from the kill times' (2^64 / the golden
// ratio: any odd constant would do).
constexpr uint64_t kRequestStreamSalt = 0x9e3779b97f4a7c15;
// Failures listed per check before the rest are only counted.
constexpr size_t kMaxListedFailures = 12;

// The journal flags for every start: snapshots every second or every 4,000
// records, so kills fall before, during and after snapshots.
constexpr std::array<const char*, 4> kJournalFlags = {
    "--snapshot_interval_s=1", "--snapshot_records=4000", "--workers=2",
    "--max_in_flight=8192"};

// --- Settings from the environment -------------------------------------------

struct Settings {
  int kills = 5;
  double seconds_per_run = 6;
  int rate = 5000;
  uint64_t seed = 20270115;
  std::vector<std::string> fsync_modes = {"batch"};
};

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

Settings SettingsFromEnvironment() {
  Settings settings;
  if (auto v = Env("ROUTING_CRASH_KILLS")) {
    EXPECT_TRUE(absl::SimpleAtoi(*v, &settings.kills)) << *v;
  }
  if (auto v = Env("ROUTING_CRASH_SECONDS_PER_RUN")) {
    EXPECT_TRUE(absl::SimpleAtod(*v, &settings.seconds_per_run)) << *v;
  }
  if (auto v = Env("ROUTING_CRASH_RATE")) {
    EXPECT_TRUE(absl::SimpleAtoi(*v, &settings.rate)) << *v;
  }
  if (auto v = Env("ROUTING_CRASH_SEED")) {
    EXPECT_TRUE(absl::SimpleAtoi(*v, &settings.seed)) << *v;
  }
  if (auto v = Env("ROUTING_CRASH_FSYNC")) {
    settings.fsync_modes = absl::StrSplit(*v, ',', absl::SkipEmpty());
    if (settings.fsync_modes.empty()) settings.fsync_modes = {"batch"};
  }
  return settings;
}

// --- Requests ----------------------------------------------------------------

std::string Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

std::string AgentId(int agent) { return absl::StrCat("agent-", agent); }
std::string ContactId(int contact) { return absl::StrCat("c", contact); }

// The index in an id this test made ("agent-7", "c42"); -1 otherwise.
int IndexOf(absl::string_view id, absl::string_view prefix) {
  int index = -1;
  if (!absl::ConsumePrefix(&id, prefix) || !absl::SimpleAtoi(id, &index)) {
    return -1;
  }
  return index;
}

std::string StateName(AgentState state) {
  return std::string(AgentStateName(state));
}

class Dealer {
 public:
  explicit Dealer(const std::string& endpoint)
      : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_DEALER)) {
    // Nothing sent to a killed routingd may reach its successor: a socket
    // lives for one run and drops what it still holds when closed.
    (void)socket_.SetInt(ZMQ_LINGER, 0);
    (void)socket_.SetInt(ZMQ_SNDHWM, 0);
    (void)socket_.SetInt(ZMQ_RCVHWM, 0);
    zmq_connect(socket_.get(), endpoint.c_str());
  }
  ~Dealer() {
    socket_.Close();
    zmq_ctx_term(context_);
  }
  Dealer(const Dealer&) = delete;
  Dealer& operator=(const Dealer&) = delete;

  bool Send(const std::string& bytes) {
    Frames frames;
    frames.Add(bytes);
    return frames.Send(socket_.get(), 0);
  }
  // The next reply within `timeout` (zero: only one already here).
  std::optional<Reply> Receive(absl::Duration timeout) {
    zmq_pollitem_t item = {socket_.get(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, absl::ToInt64Milliseconds(timeout)) <= 0) {
      return std::nullopt;
    }
    Frames frames;
    if (!frames.Receive(socket_.get(), ZMQ_DONTWAIT)) return std::nullopt;
    absl::StatusOr<Reply> reply = Reply::Verify(
        frames.data(frames.size() - 1), frames.size_of(frames.size() - 1));
    if (!reply.ok()) {
      ADD_FAILURE() << reply.status();
      return std::nullopt;
    }
    return *std::move(reply);
  }

 private:
  void* context_;
  ZmqSocket socket_;
};

// Lines of routingd's stderr that tell of trouble: any error, failure,
// damage or warning but a torn tail's, which a kill may leave.
std::vector<std::string> AmissLines(const std::string& text) {
  std::vector<std::string> amiss;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const std::string lower = absl::AsciiStrToLower(line);
    const bool torn_tail =
        absl::StrContains(lower, "torn record at the end of the journal") ||
        absl::StrContains(lower, "segment cut short at its header");
    if (!torn_tail && (absl::StrContains(lower, "error") ||
                       absl::StrContains(lower, "warning") ||
                       absl::StrContains(lower, "fail") ||
                       absl::StrContains(lower, "damage"))) {
      amiss.emplace_back(line);
    }
  }
  return amiss;
}

// --- The model of acknowledged facts -----------------------------------------

enum class OpKind : uint8_t { kAddAgent, kSetState, kRoute, kCancel, kRelease };
enum class Answer : uint8_t { kPending, kSucceeded, kRefused, kUnknown };

struct Op {
  OpKind kind;
  Answer answer = Answer::kPending;
  AgentState state = AgentState::kLoggedOut;  // kSetState.
  int assigned_agent = -1;  // kRoute answered Assigned: the agent.
};

const char* OpName(const Op& op) {
  switch (op.kind) {
    case OpKind::kAddAgent:
      return "AddAgent";
    case OpKind::kSetState:
      return "SetAgentState";
    case OpKind::kRoute:
      return "RouteContact";
    case OpKind::kCancel:
      return "CancelContact";
    case OpKind::kRelease:
      return "ReleaseContact";
  }
  return "?";
}

const char* AnswerName(Answer answer) {
  switch (answer) {
    case Answer::kPending:
      return "pending";
    case Answer::kSucceeded:
      return "ok";
    case Answer::kRefused:
      return "refused";
    case Answer::kUnknown:
      return "no reply";
  }
  return "?";
}

// The last few of `ops`, and how many came before.
std::string Describe(const std::vector<Op>& ops) {
  constexpr size_t kShown = 6;
  std::vector<std::string> parts;
  if (ops.size() > kShown) {
    parts.push_back(absl::StrCat(ops.size() - kShown, " earlier"));
  }
  for (size_t i = ops.size() > kShown ? ops.size() - kShown : 0; i < ops.size();
       ++i) {
    const Op& op = ops[i];
    std::string part = absl::StrCat(OpName(op), " ", AnswerName(op.answer));
    if (op.kind == OpKind::kSetState) {
      absl::StrAppend(&part, " (", StateName(op.state), ")");
    }
    if (op.assigned_agent >= 0) {
      absl::StrAppend(&part, " (assigned ", AgentId(op.assigned_agent), ")");
    }
    parts.push_back(std::move(part));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

// What a restart may show of a contact: any mix of gone, held (queued or
// assigned to any agent: a queued contact may be assigned at any moment),
// and assigned to one known agent (an assignment lasts until the contact
// ends: this workload never requeues).
struct ContactOutlook {
  bool absent = true;
  bool held_anywhere = false;
  int assigned_to = -1;
};

// What a restart may show of an agent: gone, or present in a state of
// `states` (a bit per AgentState).
struct AgentOutlook {
  bool absent = true;
  uint32_t states = 0;
};

uint32_t Bit(AgentState state) { return 1u << static_cast<int>(state); }

struct ContactModel {
  int queue = 0;
  ContactOutlook at_start;  // As the last check found it.
  std::vector<Op> ops;      // This run's, in the order sent.
  // A ContactAssigned event of this run named this agent (-1: none), read
  // when the last request sent had id `heard_after`. Events go out before
  // their record is durable, but a request sent after the event was read
  // runs after that record was appended (the journal's order lock); once
  // such a request is acknowledged, the assignment is durable too.
  int heard_agent = -1;
  uint64_t heard_after = 0;
  // The generator's view: when its Route was answered (the count of
  // replies read by then), and whether a Cancel or Release is under way.
  uint64_t route_answered_at = 0;
  bool ending = false;
};

struct AgentModel {
  int capacity = 1;
  std::vector<int> queues;  // The skills it has: these queues' names.
  AgentOutlook at_start;
  std::vector<Op> ops;
  bool present = false;  // The generator's view: AddAgent sent.
};

// `acknowledged`: the highest id of this run's requests that changed the
// state and were answered with success.
ContactOutlook Expected(const ContactModel& contact, uint64_t acknowledged) {
  ContactOutlook outlook = contact.at_start;
  for (const Op& op : contact.ops) {
    const bool succeeded = op.answer == Answer::kSucceeded;
    const bool unknown = op.answer == Answer::kUnknown;
    if (op.kind == OpKind::kRoute) {
      if (succeeded) {
        outlook = ContactOutlook{};
        outlook.absent = false;
        if (op.assigned_agent >= 0) {
          outlook.assigned_to = op.assigned_agent;
        } else {
          outlook.held_anywhere = true;
        }
      } else if (unknown && outlook.absent) {
        outlook.held_anywhere = true;
      }
    } else {  // Cancel, Release: the contact ends.
      if (succeeded) {
        outlook = ContactOutlook{};
      } else if (unknown) {
        outlook.absent = true;
      }
    }
  }
  // An assignment made durable by a later acknowledgement: still held, the
  // contact is with that agent (it could only have been assigned before
  // any request that ends it took effect).
  if (contact.heard_agent >= 0 && acknowledged > contact.heard_after &&
      outlook.held_anywhere) {
    outlook.held_anywhere = false;
    outlook.assigned_to = contact.heard_agent;
  }
  return outlook;
}

AgentOutlook Expected(const AgentModel& agent) {
  AgentOutlook outlook = agent.at_start;
  for (const Op& op : agent.ops) {
    const AgentState state =
        op.kind == OpKind::kAddAgent ? AgentState::kLoggedOut : op.state;
    if (op.answer == Answer::kSucceeded) {
      outlook = {false, Bit(state)};
    } else if (op.answer == Answer::kUnknown) {
      // An AddAgent takes effect only on an absent agent, a SetAgentState
      // only on a present one.
      const bool could_apply =
          op.kind == OpKind::kAddAgent ? outlook.absent : outlook.states != 0;
      if (could_apply) outlook.states |= Bit(state);
    }
  }
  return outlook;
}

// A set of indices with O(1) insert, erase and uniform pick.
class IndexSet {
 public:
  void Insert(int value) {
    if (positions_.contains(value)) return;
    positions_[value] = items_.size();
    items_.push_back(value);
  }
  void Erase(int value) {
    auto it = positions_.find(value);
    if (it == positions_.end()) return;
    const size_t at = it->second;
    positions_.erase(it);
    if (at + 1 != items_.size()) {
      items_[at] = items_.back();
      positions_[items_[at]] = at;
    }
    items_.pop_back();
  }
  bool Contains(int value) const { return positions_.contains(value); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  int Pick(std::mt19937_64& random) const {
    return items_[std::uniform_int_distribution<size_t>(
        0, items_.size() - 1)(random)];
  }
  const std::vector<int>& items() const { return items_; }
  void Clear() {
    items_.clear();
    positions_.clear();
  }

 private:
  std::vector<int> items_;
  absl::flat_hash_map<int, size_t> positions_;
};

using QueueLists = std::array<std::vector<int>, kQueueCount>;

// The contacts both lists hold must appear in the same relative order;
// otherwise the first pair out of order, described.
std::optional<std::string> OrderBroken(const std::vector<int>& before,
                                       const std::vector<int>& after) {
  absl::flat_hash_map<int, size_t> position;
  for (size_t i = 0; i < after.size(); ++i) position[after[i]] = i;
  int previous = -1;
  size_t previous_position = 0;
  for (int contact : before) {
    auto it = position.find(contact);
    if (it == position.end()) continue;
    if (previous >= 0 && it->second < previous_position) {
      return absl::StrCat(ContactId(previous), " was ahead of ",
                          ContactId(contact), ", now ", ContactId(contact),
                          " is at position ", it->second + 1, " and ",
                          ContactId(previous), " at ", previous_position + 1);
    }
    previous = contact;
    previous_position = it->second;
  }
  return std::nullopt;
}

size_t InBoth(const std::vector<int>& a, const std::vector<int>& b) {
  const absl::flat_hash_set<int> in_b(b.begin(), b.end());
  return std::count_if(a.begin(), a.end(),
                       [&](int c) { return in_b.contains(c); });
}

// Failures of one check, the first few in full.
class Failures {
 public:
  void Add(std::string message) {
    ++count_;
    if (listed_.size() < kMaxListedFailures) {
      listed_.push_back(std::move(message));
    }
  }
  bool empty() const { return count_ == 0; }
  std::string Text() const {
    std::string text = absl::StrJoin(listed_, "\n  ");
    if (count_ > listed_.size()) {
      absl::StrAppend(&text, "\n  ... and ", count_ - listed_.size(), " more");
    }
    return absl::StrCat(count_, " failure(s):\n  ", text);
  }

 private:
  size_t count_ = 0;
  std::vector<std::string> listed_;
};

// --- What routingd serves after a restart ------------------------------------

struct ServedAgent {
  AgentState state = AgentState::kLoggedOut;
  int load = 0;
};

struct ServedContact {
  bool queued = false;
  int agent = -1;  // Assigned: the agent.
};

struct ServedState {
  absl::flat_hash_map<int, ServedAgent> agents;
  QueueLists queues;
  // Every contact GetContact found held, of those asked about.
  absl::flat_hash_map<int, ServedContact> contacts;
};

// --- The test ----------------------------------------------------------------

class RoutingdCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_ = SettingsFromEnvironment();
    // The requests' stream differs from the kill times' (the test body's).
    random_.seed(settings_.seed ^ kRequestStreamSalt);
    std::printf(
        "routingd_crash_e2e_test: seed %llu, %d kills, %.1f s per run, %d "
        "requests/s, --fsync=%s (ROUTING_CRASH_SEED=%llu reproduces the "
        "kill times and request choices)\n",
        static_cast<unsigned long long>(settings_.seed), settings_.kills,
        settings_.seconds_per_run, settings_.rate,
        absl::StrJoin(settings_.fsync_modes, ",").c_str(),
        static_cast<unsigned long long>(settings_.seed));
    journal_dir_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/journal");
    endpoints_ = NewRoutingdEndpoints("tcp", "routingd-crash");
    for (int a = 0; a < kAgentPool; ++a) {
      AgentModel& agent = agents_[a];
      agent.capacity = 1 + a % kMaxCapacity;
      agent.queues.push_back(a % kQueueCount);
      // Every other agent has a second skill: a freed agent then chooses
      // between two queues by service order.
      if (a % 2 == 1) agent.queues.push_back((a + 1) % kQueueCount);
    }
  }

  void TearDown() override {
    if (HasFailure()) {
      if (const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
        std::error_code error;
        std::filesystem::copy(journal_dir_, absl::StrCat(outputs, "/journal"),
                              std::filesystem::copy_options::recursive, error);
      }
    }
  }

  std::string Trace() const {
    return absl::StrCat("seed ", settings_.seed, ", run ", run_,
                        " (ROUTING_CRASH_SEED=", settings_.seed,
                        " reproduces the kill times and request choices)");
  }

  std::vector<std::string> Flags() const {
    std::vector<std::string> flags = {
        absl::StrCat("--journal_dir=", journal_dir_),
        absl::StrCat("--fsync=", fsync_)};
    flags.insert(flags.end(), kJournalFlags.begin(), kJournalFlags.end());
    return WithEndpoints(endpoints_, flags);
  }

  ClientOptions Options() const {
    ClientOptions options;
    options.server = endpoints_.requests;
    options.timeout = kReadTimeout;
    return options;
  }

  // Starts routingd on the journal, for run `run` (which picks its
  // --fsync); false (with a failure) unless it serves within
  // kRestartBudget and printed nothing amiss.
  bool Start(int run) {
    fsync_ = settings_.fsync_modes[run % settings_.fsync_modes.size()];
    stderr_path_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/routingd-",
                                starts_++, ".stderr");
    const absl::Time started = absl::Now();
    daemon_ = std::make_unique<RoutingdProcess>(Flags(), stderr_path_);
    if (!daemon_->WaitServing(Options())) {
      ADD_FAILURE() << Trace() << ": routingd did not serve:\n"
                    << daemon_->Stderr();
      return false;
    }
    last_start_took_ = absl::Now() - started;
    EXPECT_LE(last_start_took_, kRestartBudget)
        << Trace() << ": routingd took " << last_start_took_
        << " to serve again\n"
        << daemon_->Stderr();
    const std::string text = daemon_->Stderr();
    for (const std::string& line : AmissLines(text)) {
      ADD_FAILURE() << Trace() << ": routingd printed at start: " << line;
    }
    restored_agents_ = restored_contacts_ = -1;
    const size_t at = text.find("): restored ");
    if (at != std::string::npos) {
      std::sscanf(text.c_str() + at, "): restored %d agents, %d contacts",
                  &restored_agents_, &restored_contacts_);
    }
    EXPECT_GE(restored_agents_, 0) << Trace() << ": no \"restored\" line:\n"
                                   << text;
    return !HasFailure();
  }

  // --- The load ---

  std::string NextRequest(uint64_t id) {
    flatbuffers::FlatBufferBuilder fbb(512);
    // Agents of the pool not on the roster: the initial ones first, the
    // rest now and then.
    if (!missing_initial_agents_.empty() ||
        (!missing_agents_.empty() && Chance(kLateAddChance))) {
      const int a = !missing_initial_agents_.empty()
                        ? missing_initial_agents_.back()
                        : missing_agents_.Pick(random_);
      if (!missing_initial_agents_.empty()) missing_initial_agents_.pop_back();
      missing_agents_.Erase(a);
      AgentModel& agent = agents_[a];
      agent.present = true;
      present_agents_.Insert(a);
      AgentProfile profile;
      profile.id = AgentId(a);
      for (int q : agent.queues) profile.skills.push_back({kQueues[q], 3});
      profile.SetCapacity(Channel::kChat, agent.capacity);
      FinishRequest(
          fbb, id, wire::RequestBody::AddAgent,
          wire::CreateAddAgent(fbb, BuildAgentProfile(fbb, profile)).Union());
      Track(id, true, a, Op{OpKind::kAddAgent});
      ++counts_.adds;
      return Bytes(fbb);
    }
    const double roll = Uniform();
    if (roll < kSetStateShare && !present_agents_.empty()) {
      const int a = present_agents_.Pick(random_);
      const AgentState state = Chance(kAvailableChance) ? AgentState::kAvailable
                                                        : AgentState::kBreak;
      FinishRequest(
          fbb, id, wire::RequestBody::SetAgentState,
          wire::CreateSetAgentStateDirect(
              fbb, AgentId(a).c_str(), static_cast<wire::AgentStateKind>(state))
              .Union());
      Op op{OpKind::kSetState};
      op.state = state;
      Track(id, true, a, op);
      ++counts_.set_states;
      return Bytes(fbb);
    }
    const size_t held = queued_.size() + assigned_.size();
    const double route_share = queued_.size() < kQueuedTarget
                                   ? kRouteShareBelowTarget
                                   : kRouteShareAboveTarget;
    if (roll < kSetStateShare + kReleaseShare && !assigned_.empty()) {
      const int c = assigned_.Pick(random_);
      assigned_.Erase(c);
      contacts_[c].ending = true;
      FinishRequest(
          fbb, id, wire::RequestBody::ReleaseContact,
          wire::CreateReleaseContact(fbb, fbb.CreateString(ContactId(c)),
                                     wire::Outcome::Resolved)
              .Union());
      Track(id, false, c, Op{OpKind::kRelease});
      ++counts_.releases;
      return Bytes(fbb);
    }
    const int queue = static_cast<int>(random_() % kQueueCount);
    if ((roll < kSetStateShare + kReleaseShare + route_share &&
         held < kHeldCeiling && observed_[queue].size() < kQueueCeiling) ||
        held == 0) {
      const int c = static_cast<int>(contacts_.size());
      contacts_.emplace_back();
      ContactModel& model = contacts_.back();
      model.queue = queue;
      queued_.Insert(c);
      Contact contact;
      contact.id = ContactId(c);
      contact.channel = Channel::kChat;
      contact.queue = kQueues[model.queue];
      contact.required_skills = {{kQueues[model.queue], 1}};
      contact.customer_id = absl::StrCat("customer-", random_() % kCustomers);
      FinishRequest(
          fbb, id, wire::RequestBody::RouteContact,
          wire::CreateRouteContact(fbb, BuildContact(fbb, contact, nullptr))
              .Union());
      Track(id, false, c, Op{OpKind::kRoute});
      ++counts_.routes;
      return Bytes(fbb);
    }
    // A cancel, of a waiting contact mostly (customers give up waiting),
    // now and then of one being served.
    const bool of_queued =
        !queued_.empty() && (assigned_.empty() || Chance(kCancelWaitingShare));
    IndexSet& from = of_queued ? queued_ : assigned_;
    const int c = from.Pick(random_);
    from.Erase(c);
    contacts_[c].ending = true;
    FinishRequest(
        fbb, id, wire::RequestBody::CancelContact,
        wire::CreateCancelContactDirect(fbb, ContactId(c).c_str()).Union());
    Track(id, false, c, Op{OpKind::kCancel});
    ++counts_.cancels;
    return Bytes(fbb);
  }

  void Track(uint64_t id, bool agent, int index, Op op) {
    std::vector<Op>& ops = agent ? agents_[index].ops : contacts_[index].ops;
    if (ops.empty() && (agent || contacts_[index].heard_agent < 0)) {
      (agent ? touched_agents_ : touched_contacts_).push_back(index);
    }
    ops.push_back(op);
    in_flight_[id] = {agent, index, ops.size() - 1, absl::Now()};
  }

  void OnReply(const Reply& reply) {
    ++replies_read_;
    const uint64_t id = reply.get()->request_id();
    if (auto it = observations_.find(id); it != observations_.end()) {
      const uint64_t read_before = it->second;
      observations_.erase(it);
      OnObservation(reply, read_before);
      return;
    }
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) {
      ADD_FAILURE() << Trace() << ": a reply to unknown request " << id;
      return;
    }
    const Target target = it->second;
    in_flight_.erase(it);
    counts_.longest_wait =
        std::max(counts_.longest_wait, absl::Now() - target.sent_at);
    Op& op = target.agent ? agents_[target.index].ops[target.op]
                          : contacts_[target.index].ops[target.op];
    const wire::Reply* r = reply.get();
    if (r->body_type() == wire::ReplyBody::Error) {
      const wire::ErrorCode code = r->body_as_Error()->code();
      switch (code) {
        case wire::ErrorCode::Busy:
          ++counts_.busy;
          [[fallthrough]];
        case wire::ErrorCode::NotFound:
        case wire::ErrorCode::FailedPrecondition:
        case wire::ErrorCode::AlreadyExists:
          // Refused: nothing was executed.
          op.answer = Answer::kRefused;
          ++counts_.refused;
          break;
        default:
          // NOT_DURABLE, JOURNAL_UNAVAILABLE, INTERNAL...: not expected on a
          // healthy disk; the outcome is unknown.
          op.answer = Answer::kUnknown;
          unexpected_.Add(absl::StrCat(
              OpName(op), " ",
              target.agent ? AgentId(target.index) : ContactId(target.index),
              " answered ", wire::EnumNameErrorCode(code), ": ",
              r->body_as_Error()->message() == nullptr
                  ? ""
                  : r->body_as_Error()->message()->str()));
      }
      if (!target.agent && op.kind != OpKind::kRoute &&
          target.op + 1 == contacts_[target.index].ops.size() &&
          code != wire::ErrorCode::NotFound) {
        // A release refused because the contact still waits (or a busy
        // daemon): it is held as before.
        ContactModel& contact = contacts_[target.index];
        contact.ending = false;
        queued_.Insert(target.index);
      }
      if (target.agent && op.kind == OpKind::kAddAgent &&
          code == wire::ErrorCode::Busy) {
        agents_[target.index].present = false;
        present_agents_.Erase(target.index);
        missing_initial_agents_.push_back(target.index);
      }
      if (!target.agent && op.kind == OpKind::kRoute) {
        queued_.Erase(target.index);
        assigned_.Erase(target.index);
        contacts_[target.index].ending = true;
      }
      return;
    }
    op.answer = Answer::kSucceeded;
    acknowledged_ = std::max(acknowledged_, id);
    if (op.kind == OpKind::kRoute) {
      ContactModel& contact = contacts_[target.index];
      contact.route_answered_at = replies_read_;
      const wire::Decision* decision = r->body_as_Decision();
      if (decision != nullptr &&
          decision->outcome() == wire::DecisionOutcome::Assigned) {
        op.assigned_agent = IndexOf(
            decision->agent_id() == nullptr ? "" : decision->agent_id()->str(),
            "agent-");
        if (op.assigned_agent < 0) {
          unexpected_.Add(absl::StrCat(ContactId(target.index),
                                       " assigned to an unknown agent"));
        }
        if (queued_.Contains(target.index)) {
          queued_.Erase(target.index);
          assigned_.Insert(target.index);
        }
      }
    }
  }

  // A ContactAssigned event: a fact once a later request is acknowledged,
  // and for the generator, a contact worth a release.
  void OnEvent(const Event& event) {
    ++counts_.events;
    const wire::ContactAssigned* assigned =
        event.get()->body_as_ContactAssigned();
    if (assigned == nullptr) return;
    const std::string contact_id =
        assigned->contact_id() ? assigned->contact_id()->str() : "";
    const std::string agent_id =
        assigned->agent_id() ? assigned->agent_id()->str() : "";
    const int c = IndexOf(contact_id, "c");
    const int a = IndexOf(agent_id, "agent-");
    if (c < 0 || c >= static_cast<int>(contacts_.size()) || a < 0 ||
        a >= kAgentPool || assigned->offered()) {
      unexpected_.Add(absl::StrCat("an event assigned \"", contact_id,
                                   "\" to \"", agent_id, "\"",
                                   assigned->offered() ? " as an offer" : ""));
      return;
    }
    ContactModel& contact = contacts_[c];
    if (contact.ops.empty() && contact.heard_agent < 0) {
      touched_contacts_.push_back(c);
    }
    contact.heard_agent = a;
    contact.heard_after = last_request_id_;
    ++counts_.assigned_events;
    if (queued_.Contains(c)) {
      queued_.Erase(c);
      assigned_.Insert(c);
    }
  }

  // A ListContacts taken during the load: the order to hold across the next
  // kill, and the routed contacts that have left their queue since (for the
  // generator: assigned, so worth a release).
  void OnObservation(const Reply& reply, uint64_t read_before) {
    if (reply.get()->body_type() == wire::ReplyBody::Error &&
        reply.get()->body_as_Error()->code() == wire::ErrorCode::Busy) {
      return;  // Past --max_in_flight: no observation this time.
    }
    absl::StatusOr<QueueLists> lists = Lists(reply);
    if (!lists.ok()) {
      unexpected_.Add(absl::StrCat("ListContacts during the load: ",
                                   lists.status().ToString()));
      return;
    }
    for (int q = 0; q < kQueueCount; ++q) {
      // Service order is arrival order here, never changed: two
      // observations agree (a router property, checked while it is cheap).
      if (auto broken = OrderBroken(observed_[q], (*lists)[q])) {
        unexpected_.Add(absl::StrCat(
            "queue ", kQueues[q], " changed order while serving: ", *broken));
      }
    }
    observed_ = *std::move(lists);
    absl::flat_hash_set<int> waiting;
    for (const auto& list : observed_) waiting.insert(list.begin(), list.end());
    std::vector<int> left;
    for (int c : queued_.items()) {
      const ContactModel& contact = contacts_[c];
      if (contact.route_answered_at != 0 &&
          contact.route_answered_at < read_before && !waiting.contains(c)) {
        left.push_back(c);
      }
    }
    for (int c : left) {
      queued_.Erase(c);
      assigned_.Insert(c);
    }
  }

  absl::StatusOr<QueueLists> Lists(const Reply& reply) {
    const wire::ContactList* list = reply.get()->body_as_ContactList();
    if (list == nullptr) {
      return absl::InternalError(
          absl::StrCat("not a ContactList but ",
                       wire::EnumNameReplyBody(reply.get()->body_type())));
    }
    if (list->truncated()) {
      return absl::InternalError("ContactList truncated");
    }
    QueueLists lists;
    if (list->contacts() == nullptr) return lists;
    for (const wire::ContactInfo* info : *list->contacts()) {
      const int c = IndexOf(info->id() ? info->id()->str() : "", "c");
      if (c < 0 || c >= static_cast<int>(contacts_.size())) {
        return absl::InternalError(absl::StrCat(
            "unknown contact ", info->id() ? info->id()->str() : "(none)"));
      }
      const int q = contacts_[c].queue;
      if (info->queue() == nullptr || info->queue()->str() != kQueues[q]) {
        return absl::InternalError(
            absl::StrCat(ContactId(c), " listed in another queue"));
      }
      lists[q].push_back(c);
    }
    return lists;
  }

  // One run: the open loop until the kill, which comes at `kill_after`
  // with requests in flight; replies sent before it are read for a moment
  // after; every request still unanswered then has an unknown outcome.
  void RunLoadAndKill(absl::Duration kill_after) {
    Dealer dealer(endpoints_.requests);
    // "queue/": each contact's events once.
    absl::StatusOr<std::unique_ptr<EventSubscriber>> events =
        EventSubscriber::Connect(endpoints_.events, {"queue/"});
    ASSERT_TRUE(events.ok()) << events.status();
    auto read_events = [&] {
      for (auto event = (*events)->Next(absl::ZeroDuration()); event.ok();
           event = (*events)->Next(absl::ZeroDuration())) {
        OnEvent(event->second);
      }
    };
    const absl::Time start = absl::Now();
    const absl::Time kill_at = start + kill_after;
    const double per_second = settings_.rate;
    uint64_t sent = 0;
    absl::Time next_observation = start;
    while (true) {
      const absl::Time now = absl::Now();
      // Open loop: every request whose time has come is sent, whatever
      // the replies.
      const uint64_t due = static_cast<uint64_t>(
          absl::ToDoubleSeconds(now - start) * per_second);
      for (; sent < due; ++sent) {
        const uint64_t id = ++last_request_id_;
        if (!dealer.Send(NextRequest(id))) {
          ADD_FAILURE() << Trace() << ": send failed";
          return;
        }
      }
      if (now >= next_observation) {
        const uint64_t id = ++last_request_id_;
        flatbuffers::FlatBufferBuilder fbb;
        FinishRequest(fbb, id, wire::RequestBody::ListContacts,
                      wire::CreateListContacts(fbb, 0, kListLimit).Union());
        observations_[id] = replies_read_ + 1;
        dealer.Send(Bytes(fbb));
        next_observation = now + kObservationInterval;
      }
      // Killed right after a send, the last requests are surely in flight.
      if (now >= kill_at) break;
      // Replies until the next send is due (at least a millisecond).
      for (std::optional<Reply> reply = dealer.Receive(absl::Milliseconds(1));
           reply.has_value(); reply = dealer.Receive(absl::ZeroDuration())) {
        OnReply(*reply);
      }
      read_events();
    }
    counts_.sent = sent;
    daemon_.reset();  // SIGKILL, and reaped.
    std::ifstream in(stderr_path_);
    std::stringstream printed;
    printed << in.rdbuf();
    for (const std::string& line : AmissLines(printed.str())) {
      ADD_FAILURE() << Trace() << ": routingd printed while serving: " << line;
    }
    const absl::Time drain_until = absl::Now() + kDrainAfterKill;
    while (absl::Now() < drain_until) {
      if (std::optional<Reply> reply = dealer.Receive(absl::Milliseconds(10))) {
        OnReply(*reply);
      }
      read_events();
    }
    counts_.unanswered = in_flight_.size();
    for (const auto& [id, target] : in_flight_) {
      Op& op = target.agent ? agents_[target.index].ops[target.op]
                            : contacts_[target.index].ops[target.op];
      op.answer = Answer::kUnknown;
    }
    in_flight_.clear();
    observations_.clear();
  }

  // --- After a restart ---

  // What routingd serves: the roster, the queues, and GetContact for every
  // contact in `ask` and every one listed.
  std::optional<ServedState> ReadServed(const std::vector<int>& ask,
                                        Failures& failures) {
    absl::StatusOr<std::unique_ptr<RoutingClient>> client =
        RoutingClient::Connect(Options());
    if (!client.ok()) {
      failures.Add(client.status().ToString());
      return std::nullopt;
    }
    ServedState served;
    absl::StatusOr<Reply> roster = (*client)->ListAgents();
    if (!roster.ok()) {
      failures.Add(absl::StrCat("ListAgents: ", roster.status().ToString()));
      return std::nullopt;
    }
    const wire::AgentList* agents = roster->get()->body_as_AgentList();
    if (agents != nullptr && agents->agents() != nullptr) {
      for (const wire::AgentInfo* info : *agents->agents()) {
        const std::string id = info->id() ? info->id()->str() : "";
        const int a = IndexOf(id, "agent-");
        if (a < 0 || a >= kAgentPool) {
          failures.Add(absl::StrCat("unknown agent on the roster: ", id));
          continue;
        }
        ServedAgent& agent = served.agents[a];
        agent.state = static_cast<AgentState>(info->state());
        if (info->load() != nullptr) {
          for (const wire::ChannelCapacity* load : *info->load()) {
            agent.load += load->contacts();
            if (load->channel() != wire::ChannelKind::Chat &&
                load->contacts() != 0) {
              failures.Add(absl::StrCat(id, " holds a non-chat contact"));
            }
          }
        }
      }
    }
    absl::StatusOr<Reply> listed = (*client)->ListContacts("", kListLimit);
    if (!listed.ok()) {
      failures.Add(absl::StrCat("ListContacts: ", listed.status().ToString()));
      return std::nullopt;
    }
    absl::StatusOr<QueueLists> lists = Lists(*listed);
    if (!lists.ok()) {
      failures.Add(absl::StrCat("ListContacts: ", lists.status().ToString()));
      return std::nullopt;
    }
    served.queues = *std::move(lists);

    absl::flat_hash_set<int> asked(ask.begin(), ask.end());
    for (const auto& list : served.queues) {
      asked.insert(list.begin(), list.end());
    }
    // Pipelined, at most kReadWindow at a time (routingd answers BUSY past
    // --max_in_flight).
    Dealer dealer(endpoints_.requests);
    const std::vector<int> to_ask(asked.begin(), asked.end());
    size_t next = 0;
    absl::flat_hash_map<uint64_t, int> contact_of;
    while (next < to_ask.size() || !contact_of.empty()) {
      while (next < to_ask.size() && contact_of.size() < kReadWindow) {
        const int c = to_ask[next++];
        const uint64_t id = ++last_request_id_;
        flatbuffers::FlatBufferBuilder fbb;
        FinishRequest(
            fbb, id, wire::RequestBody::GetContact,
            wire::CreateGetContactDirect(fbb, ContactId(c).c_str()).Union());
        contact_of[id] = c;
        dealer.Send(Bytes(fbb));
      }
      std::optional<Reply> reply = dealer.Receive(kReadTimeout);
      if (!reply.has_value()) {
        failures.Add(absl::StrCat(contact_of.size(),
                                  " GetContact requests got no reply"));
        return std::nullopt;
      }
      auto it = contact_of.find(reply->get()->request_id());
      if (it == contact_of.end()) continue;
      const int c = it->second;
      contact_of.erase(it);
      const wire::Reply* r = reply->get();
      if (r->body_type() == wire::ReplyBody::Error) {
        if (r->body_as_Error()->code() != wire::ErrorCode::NotFound) {
          failures.Add(absl::StrCat(
              "GetContact ", ContactId(c), ": ",
              wire::EnumNameErrorCode(r->body_as_Error()->code())));
        }
        continue;
      }
      const wire::ContactInfo* info = r->body_as_ContactInfo();
      if (info == nullptr) {
        failures.Add(absl::StrCat("GetContact ", ContactId(c), ": a ",
                                  wire::EnumNameReplyBody(r->body_type())));
        continue;
      }
      ServedContact& contact = served.contacts[c];
      if (info->state() == wire::ContactStateKind::Queued) {
        contact.queued = true;
      } else if (info->state() == wire::ContactStateKind::Assigned) {
        contact.agent =
            IndexOf(info->agent_id() ? info->agent_id()->str() : "", "agent-");
        if (contact.agent < 0) {
          failures.Add(
              absl::StrCat(ContactId(c), " assigned to unknown agent"));
        }
      } else {
        failures.Add(absl::StrCat(ContactId(c), " is offered: no offers here"));
      }
    }
    return served;
  }

  // The checks after a restart (the file's comment lists them), then the
  // model starts over from what routingd serves. Returns what was checked.
  std::string CheckAndRebase() {
    Failures failures;
    // Contacts to ask about: those this run touched, and those held before.
    std::vector<int> ask = touched_contacts_;
    for (int c : held_at_start_) {
      if (contacts_[c].ops.empty()) ask.push_back(c);
    }
    std::optional<ServedState> read = ReadServed(ask, failures);
    if (!read.has_value()) {
      ADD_FAILURE() << Trace() << ": " << failures.Text();
      return "";
    }
    const ServedState& served = *read;

    // Agents: each as acknowledged.
    for (int a = 0; a < kAgentPool; ++a) {
      const AgentModel& agent = agents_[a];
      const AgentOutlook outlook = Expected(agent);
      auto it = served.agents.find(a);
      const bool ok = it == served.agents.end()
                          ? outlook.absent
                          : (outlook.states & Bit(it->second.state)) != 0;
      if (!ok) {
        failures.Add(absl::StrCat(
            AgentId(a), " is ",
            it == served.agents.end() ? "absent" : StateName(it->second.state),
            "; at the run's start it was ",
            agent.at_start.absent ? "absent" : "present",
            ", then this run's requests: ", Describe(agent.ops)));
      }
    }

    // Contacts: each as acknowledged; queued where listed and only there.
    absl::flat_hash_set<int> listed;
    for (const auto& list : served.queues) {
      listed.insert(list.begin(), list.end());
    }
    absl::flat_hash_set<int> asked(ask.begin(), ask.end());
    asked.insert(listed.begin(), listed.end());
    size_t confirmed_assignments = 0;
    for (int c : asked) {
      const ContactModel& contact = contacts_[c];
      const ContactOutlook outlook = Expected(contact, acknowledged_);
      if (contact.heard_agent >= 0 && acknowledged_ > contact.heard_after) {
        ++confirmed_assignments;
      }
      auto it = served.contacts.find(c);
      std::string found;
      bool ok = false;
      if (it == served.contacts.end()) {
        found = "gone";
        ok = outlook.absent;
      } else if (it->second.queued) {
        found = "queued";
        ok = outlook.held_anywhere;
      } else {
        found = absl::StrCat("assigned to ", AgentId(it->second.agent));
        ok = outlook.held_anywhere || outlook.assigned_to == it->second.agent;
      }
      if (!ok) {
        std::string before =
            contact.at_start.absent ? "not held"
            : contact.at_start.assigned_to >= 0
                ? absl::StrCat("assigned to ",
                               AgentId(contact.at_start.assigned_to))
                : "queued";
        failures.Add(
            absl::StrCat(ContactId(c), " (", kQueues[contact.queue], ") is ",
                         found, "; at the run's start ", before,
                         ", then this run's requests: ", Describe(contact.ops),
                         contact.heard_agent < 0
                             ? ""
                             : absl::StrCat("; an event assigned it to ",
                                            AgentId(contact.heard_agent),
                                            acknowledged_ > contact.heard_after
                                                ? ", durable since"
                                                : ", not confirmed")));
      }
      const bool queued = it != served.contacts.end() && it->second.queued;
      if (queued != listed.contains(c)) {
        failures.Add(
            absl::StrCat(ContactId(c), queued ? " is queued but not listed"
                                              : " is listed but not queued"));
      }
    }

    // Capacity and load: the assignments found are the agents' loads.
    absl::flat_hash_map<int, int> holding;
    int assigned = 0;
    for (const auto& [c, contact] : served.contacts) {
      if (contact.queued || contact.agent < 0) continue;
      ++holding[contact.agent];
      ++assigned;
      const auto& queues = agents_[contact.agent].queues;
      if (std::find(queues.begin(), queues.end(), contacts_[c].queue) ==
          queues.end()) {
        failures.Add(absl::StrCat(ContactId(c), " is assigned to ",
                                  AgentId(contact.agent),
                                  " who lacks its skill"));
      }
    }
    int load_total = 0;
    for (const auto& [a, agent] : served.agents) {
      load_total += agent.load;
      const int found = holding.contains(a) ? holding.at(a) : 0;
      if (agent.load > agents_[a].capacity) {
        failures.Add(absl::StrCat(AgentId(a), " holds ", agent.load,
                                  " contacts, capacity ", agents_[a].capacity));
      }
      if (found != agent.load) {
        failures.Add(absl::StrCat(AgentId(a), " has load ", agent.load, " but ",
                                  found, " contacts are assigned to it"));
      }
    }
    for (const auto& [a, count] : holding) {
      if (!served.agents.contains(a)) {
        failures.Add(absl::StrCat(count, " contacts assigned to ", AgentId(a),
                                  " who is not on the roster"));
      }
    }
    if (load_total != assigned) {
      failures.Add(absl::StrCat("the agents' loads add up to ", load_total,
                                " but ", assigned,
                                " contacts are found assigned"));
    }

    // Nothing waits while an available agent of its skill has room.
    for (const auto& [a, agent] : served.agents) {
      if (agent.state != AgentState::kAvailable ||
          agent.load >= agents_[a].capacity) {
        continue;
      }
      for (int q : agents_[a].queues) {
        if (!served.queues[q].empty()) {
          failures.Add(absl::StrCat(AgentId(a), " is available with ",
                                    agent.load, " of ", agents_[a].capacity,
                                    " contacts while ", served.queues[q].size(),
                                    " wait in ", kQueues[q], ", first ",
                                    ContactId(served.queues[q].front())));
        }
      }
    }

    // Order within each queue.
    size_t kept_across_kill = 0;
    for (int q = 0; q < kQueueCount; ++q) {
      kept_across_kill += InBoth(observed_[q], served.queues[q]);
      if (auto broken = OrderBroken(observed_[q], served.queues[q])) {
        failures.Add(absl::StrCat("queue ", kQueues[q],
                                  " order differs from the last ListContacts "
                                  "before the kill: ",
                                  *broken));
      }
      if (auto broken = OrderBroken(served_queues_[q], served.queues[q])) {
        failures.Add(absl::StrCat("queue ", kQueues[q],
                                  " order differs from the previous "
                                  "restart's: ",
                                  *broken));
      }
    }

    // What routingd said it restored.
    const int held = static_cast<int>(listed.size()) + assigned;
    if (restored_agents_ != static_cast<int>(served.agents.size()) ||
        restored_contacts_ != held) {
      failures.Add(absl::StrCat("routingd said it restored ", restored_agents_,
                                " agents and ", restored_contacts_,
                                " contacts; it serves ", served.agents.size(),
                                " and ", held));
    }
    if (!unexpected_.empty()) {
      ADD_FAILURE() << Trace() << ": unexpected replies during the load: "
                    << unexpected_.Text();
    }
    if (!failures.empty()) {
      ADD_FAILURE() << Trace() << ": after the restart, " << failures.Text();
    }
    Rebase(served);
    return absl::StrCat(asked.size(), " contacts checked (", listed.size(),
                        " queued, ", assigned, " assigned), ",
                        confirmed_assignments,
                        " assignments from events made durable by a later "
                        "acknowledgement, ",
                        kept_across_kill,
                        " contacts of the last ListContacts before the kill "
                        "checked for order");
  }

  // The next run's model starts from what routingd serves now.
  void Rebase(const ServedState& served) {
    for (int c : touched_contacts_) {
      contacts_[c].ops.clear();
      contacts_[c].at_start = ContactOutlook{};
      contacts_[c].ending = false;
      contacts_[c].heard_agent = -1;
    }
    for (int c : held_at_start_) contacts_[c].at_start = ContactOutlook{};
    touched_contacts_.clear();
    held_at_start_.clear();
    queued_.Clear();
    assigned_.Clear();
    for (const auto& [c, contact] : served.contacts) {
      ContactModel& model = contacts_[c];
      model.at_start.absent = false;
      model.ending = false;
      // Known before anything of the next run: its observations may move
      // it from waiting to assigned.
      model.route_answered_at = replies_read_;
      if (contact.queued) {
        model.at_start.held_anywhere = true;
        queued_.Insert(c);
      } else {
        model.at_start.assigned_to = contact.agent;
        assigned_.Insert(c);
      }
      held_at_start_.push_back(c);
    }
    for (int a : touched_agents_) agents_[a].ops.clear();
    touched_agents_.clear();
    present_agents_.Clear();
    missing_agents_.Clear();
    missing_initial_agents_.clear();
    for (int a = 0; a < kAgentPool; ++a) {
      AgentModel& agent = agents_[a];
      auto it = served.agents.find(a);
      agent.present = it != served.agents.end();
      agent.at_start = agent.present
                           ? AgentOutlook{false, Bit(it->second.state)}
                           : AgentOutlook{};
      if (agent.present) {
        present_agents_.Insert(a);
      } else if (a < kInitialAgents) {
        missing_initial_agents_.push_back(a);
      } else {
        missing_agents_.Insert(a);
      }
    }
    served_queues_ = served.queues;
    observed_ = served.queues;
    unexpected_ = Failures();
    acknowledged_ = 0;
  }

  double Uniform() {
    return std::uniform_real_distribution<double>(0, 1)(random_);
  }
  bool Chance(double p) { return Uniform() < p; }

  struct Target {
    bool agent = false;
    int index = 0;
    size_t op = 0;
    absl::Time sent_at;
  };
  struct Counts {
    uint64_t sent = 0, unanswered = 0, adds = 0, set_states = 0, routes = 0,
             cancels = 0, releases = 0, refused = 0, busy = 0,
             assigned_events = 0, events = 0;
    absl::Duration longest_wait;  // For a reply.
  };

  Settings settings_;
  std::mt19937_64 random_;
  std::string journal_dir_;
  RoutingdEndpoints endpoints_;
  std::unique_ptr<RoutingdProcess> daemon_;
  int starts_ = 0;
  std::string fsync_;        // The running routingd's --fsync.
  std::string stderr_path_;  // The running routingd's.
  int run_ = 0;
  absl::Duration last_start_took_;
  int restored_agents_ = -1;
  int restored_contacts_ = -1;

  std::array<AgentModel, kAgentPool> agents_;
  std::vector<ContactModel> contacts_;
  std::vector<int> touched_agents_;
  std::vector<int> touched_contacts_;
  std::vector<int> held_at_start_;
  // The generator's view of the contacts held: waiting, or (it believes)
  // with an agent; and of the pool's agents.
  IndexSet queued_;
  IndexSet assigned_;
  IndexSet present_agents_;
  IndexSet missing_agents_;
  std::vector<int> missing_initial_agents_;

  uint64_t last_request_id_ = 0;
  uint64_t replies_read_ = 0;
  uint64_t acknowledged_ = 0;  // This run's highest successful request id.
  absl::flat_hash_map<uint64_t, Target> in_flight_;
  // ListContacts under way: the count of replies read when it was sent.
  absl::flat_hash_map<uint64_t, uint64_t> observations_;
  QueueLists observed_;       // The last ListContacts of the load.
  QueueLists served_queues_;  // What the last restart served.
  Failures unexpected_;
  Counts counts_;
};

TEST_F(RoutingdCrashTest, AcknowledgedStateSurvivesKill9) {
  for (int a = kInitialAgents - 1; a >= 0; --a) {
    missing_initial_agents_.push_back(a);
  }
  for (int a = kInitialAgents; a < kAgentPool; ++a) missing_agents_.Insert(a);
  ASSERT_TRUE(Start(0));
  // The kill times from a stream of their own: the same for a seed however
  // the requests went.
  std::mt19937_64 kill_random(settings_.seed);
  std::uniform_real_distribution<double> kill_share(0.5, 1.5);
  for (run_ = 0; run_ < settings_.kills; ++run_) {
    counts_ = Counts();
    const absl::Duration kill_after =
        absl::Seconds(settings_.seconds_per_run * kill_share(kill_random));
    const std::string fsync = fsync_;
    RunLoadAndKill(kill_after);
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(Start(run_ + 1));
    const std::string checked = CheckAndRebase();
    std::printf(
        "run %d (--fsync=%s): killed after %s: %llu requests sent (longest "
        "reply %s; %llu unanswered, %llu refused, %llu busy; %llu routes, "
        "%llu cancels, %llu releases, %llu state changes, %llu adds; %llu "
        "events); restarted in %s: %d agents, %d contacts; %s\n",
        run_, fsync.c_str(), absl::FormatDuration(kill_after).c_str(),
        static_cast<unsigned long long>(counts_.sent),
        absl::FormatDuration(counts_.longest_wait).c_str(),
        static_cast<unsigned long long>(counts_.unanswered),
        static_cast<unsigned long long>(counts_.refused),
        static_cast<unsigned long long>(counts_.busy),
        static_cast<unsigned long long>(counts_.routes),
        static_cast<unsigned long long>(counts_.cancels),
        static_cast<unsigned long long>(counts_.releases),
        static_cast<unsigned long long>(counts_.set_states),
        static_cast<unsigned long long>(counts_.adds),
        static_cast<unsigned long long>(counts_.events),
        absl::FormatDuration(last_start_took_).c_str(), restored_agents_,
        restored_contacts_, checked.c_str());
    std::fflush(stdout);
    ASSERT_FALSE(HasFailure());
  }

  // A clean stop (SIGTERM: the final snapshot) and restart give back
  // exactly what was served.
  const absl::flat_hash_set<int> held_before(held_at_start_.begin(),
                                             held_at_start_.end());
  const QueueLists queues_before = served_queues_;
  std::vector<std::pair<int, AgentOutlook>> agents_before;
  for (int a = 0; a < kAgentPool; ++a) {
    agents_before.push_back({a, agents_[a].at_start});
  }
  std::vector<std::pair<int, int>> assignments_before;
  for (int c : held_at_start_) {
    assignments_before.push_back({c, contacts_[c].at_start.assigned_to});
  }
  ASSERT_EQ(daemon_->Terminate(), 0) << daemon_->Stderr();
  ASSERT_TRUE(Start(run_));
  Failures failures;
  std::optional<ServedState> served = ReadServed(held_at_start_, failures);
  ASSERT_TRUE(served.has_value()) << failures.Text();
  EXPECT_EQ(served->queues, queues_before) << Trace();
  EXPECT_EQ(served->contacts.size(), held_before.size()) << Trace();
  for (const auto& [c, agent] : assignments_before) {
    auto it = served->contacts.find(c);
    ASSERT_NE(it, served->contacts.end()) << ContactId(c) << " " << Trace();
    EXPECT_EQ(it->second.agent, agent) << ContactId(c) << " " << Trace();
  }
  for (const auto& [a, outlook] : agents_before) {
    auto it = served->agents.find(a);
    ASSERT_EQ(it == served->agents.end(), outlook.absent) << AgentId(a);
    if (!outlook.absent) {
      EXPECT_EQ(Bit(it->second.state), outlook.states) << AgentId(a);
    }
  }
  EXPECT_EQ(daemon_->Terminate(), 0) << daemon_->Stderr();
}

}  // namespace
}  // namespace routing::sidecar
