// End-to-end: who may reach the real routingd and what they may do. With
// CURVE, each client key's roles (from the allowed-clients file) decide
// which requests run; a refused request is answered PERMISSION_DENIED,
// changes nothing and is counted. Without CURVE, routingd listens only on
// loopback unless --insecure_listen.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/client.h"
#include "sidecar/wire_encoder.h"
#include "tests/sidecar/routingd_process.h"

namespace routing::sidecar {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::pair<int, int> TwoFreePorts() {
  const int requests = FreeTcpPort();
  int events = FreeTcpPort();
  while (events == requests) events = FreeTcpPort();
  return {requests, events};
}

// A routingd child process with its stderr in TEST_TMPDIR/NAME.stderr.
class Routingd : public RoutingdProcess {
 public:
  Routingd(std::vector<std::string> flags, const std::string& name)
      : RoutingdProcess(std::move(flags), TempPath(name + ".stderr")) {}
};

struct KeyPair {
  std::string public_key;
  std::string secret_key;
};

KeyPair NewKeyPair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) std::abort();
  return {public_key, secret_key};
}

AgentProfile Agent(const std::string& id) {
  AgentProfile agent;
  agent.id = id;
  agent.skills = {{"billing", 4}};
  agent.languages = {{"en", 5}};
  agent.SetCapacity(Channel::kChat, 2);
  return agent;
}

Contact Chat(const std::string& id) {
  Contact contact;
  contact.id = id;
  contact.channel = Channel::kChat;
  contact.required_skills = {{"billing", 2}};
  contact.languages = {"en"};
  return contact;
}

constexpr char kRules[] = "return { score = function(c, a) return 1 end }\n";

// The routingd configuration of a contact center with a chatbot that
// routes, a workforce-management sync that keeps the roster, an operator
// who deploys rules, and a key from before roles existed.
class RoutingdRolesTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    server_ = NewKeyPair();
    admin_ = NewKeyPair();
    route_ = NewKeyPair();
    agents_ = NewKeyPair();
    legacy_ = NewKeyPair();
    const std::string tag = absl::StrCat("workers", GetParam());
    const std::string server_key = TempPath(tag + "-server.key");
    const std::string clients = TempPath(tag + "-clients");
    std::ofstream(server_key) << server_.secret_key << "\n";
    std::ofstream(clients) << "# operations: rules deploys\n"
                           << admin_.public_key << " admin\n"
                           << "\n"
                           << route_.public_key << "   route  # chatbot\n"
                           << agents_.public_key << " agents\n"
                           << legacy_.public_key << "\n";
    const auto [requests, events] = TwoFreePorts();
    server_endpoint_ = absl::StrCat("tcp://127.0.0.1:", requests);
    // CURVE on: listening beyond loopback needs no --insecure_listen.
    daemon_ = std::make_unique<Routingd>(
        std::vector<std::string>{
            absl::StrCat("--listen=tcp://0.0.0.0:", requests),
            absl::StrCat("--events=tcp://127.0.0.1:", events),
            absl::StrCat("--workers=", GetParam()),
            "--curve_secret_key_file=" + server_key,
            "--curve_allowed_clients_file=" + clients},
        tag);
  }

  ClientOptions As(const KeyPair& client) const {
    ClientOptions options;
    options.server = server_endpoint_;
    options.curve_server_key = server_.public_key;
    options.curve_public_key = client.public_key;
    options.curve_secret_key = client.secret_key;
    return options;
  }
  std::unique_ptr<RoutingClient> Client(const KeyPair& client) const {
    return RoutingClient::Connect(As(client)).value();
  }

  KeyPair server_, admin_, route_, agents_, legacy_;
  std::string server_endpoint_;
  std::unique_ptr<Routingd> daemon_;
};

TEST_P(RoutingdRolesTest, EachKeyMayDoWhatItsRolesAllowAndNothingElse) {
  ASSERT_TRUE(daemon_->WaitServing(As(admin_))) << daemon_->Stderr();
  EXPECT_THAT(daemon_->Stderr(),
              HasSubstr(absl::StrCat("warning: ", TempPath(""), "workers",
                                     GetParam(), "-clients:6: key ",
                                     legacy_.public_key, " lists no roles")));
  auto admin = Client(admin_);
  auto route = Client(route_);
  auto agents = Client(agents_);
  ASSERT_TRUE(admin->AddAgent(Agent("alice")).ok());
  ASSERT_TRUE(admin->SetAgentState("alice", AgentState::kAvailable).ok());

  // The chatbot routes and releases.
  absl::StatusOr<Reply> routed = route->Route(Chat("chat-1"));
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->get()->body_as_Decision()->agent_id()->str(), "alice");
  EXPECT_TRUE(route->Release("chat-1", ContactOutcome::kResolved).ok());

  // ...but may not change the roster or the rules.
  absl::Status added = route->AddAgent(Agent("mallory"));
  EXPECT_EQ(added.code(), absl::StatusCode::kPermissionDenied) << added;
  EXPECT_EQ(added.message(),
            "AddAgent needs the agents role; this client's key has route");
  absl::StatusOr<Reply> reload = route->ReloadRulesSource(kRules);
  EXPECT_EQ(reload.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(reload.status().message(),
              HasSubstr("ReloadRules needs the admin role"));
  // On the wire: the request id echoed, the new code, nothing else.
  flatbuffers::FlatBufferBuilder fbb;
  const uint64_t id = 4242;
  FinishRequest(
      fbb, id, wire::RequestBody::ReloadRules,
      wire::CreateReloadRules(fbb, 0, fbb.CreateString(kRules)).Union());
  absl::StatusOr<Reply> raw = route->CallUnchecked(fbb, id);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->get()->request_id(), id);
  ASSERT_EQ(raw->get()->body_type(), wire::ReplyBody::Error);
  EXPECT_EQ(raw->get()->body_as_Error()->code(),
            wire::ErrorCode::PermissionDenied);

  // The refusals changed nothing, and were counted.
  absl::StatusOr<Reply> roster = route->ListAgents();
  ASSERT_TRUE(roster.ok()) << roster.status();
  EXPECT_EQ(roster->get()->body_as_AgentList()->agents()->size(), 1u);
  EXPECT_EQ(roster->get()->body_as_AgentList()->agents()->Get(0)->id()->str(),
            "alice");
  absl::StatusOr<Reply> stats = route->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 0u);
  EXPECT_EQ(stats->get()->body_as_Stats()->agents(), 1);
  EXPECT_EQ(stats->get()->body_as_Stats()->permission_denied(), 3u);

  // The roster sync keeps the roster, and does not route.
  EXPECT_TRUE(agents->AddAgent(Agent("bruno")).ok());
  EXPECT_TRUE(agents->SetAgentState("bruno", AgentState::kAvailable).ok());
  EXPECT_EQ(agents->Route(Chat("chat-2")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(agents->Cancel("chat-2").code(),
            absl::StatusCode::kPermissionDenied);

  // The operator may do both; a key from before roles may do everything.
  absl::StatusOr<Reply> accepted = admin->ReloadRulesSource(kRules);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->get()->body_as_RulesReloaded()->accepted());
  EXPECT_EQ(accepted->get()->body_as_RulesReloaded()->version(), 1u);
  EXPECT_TRUE(admin->AddAgent(Agent("carol")).ok());
  EXPECT_TRUE(admin->Route(Chat("chat-3")).ok());
  auto legacy = Client(legacy_);
  EXPECT_TRUE(legacy->AddAgent(Agent("dana")).ok());
  EXPECT_TRUE(legacy->Route(Chat("chat-4")).ok());

  stats = admin->Stats(60);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->agents(), 4);
  EXPECT_EQ(stats->get()->body_as_Stats()->rules_version(), 1u);
  EXPECT_EQ(stats->get()->body_as_Stats()->permission_denied(), 5u);
  EXPECT_EQ(daemon_->Terminate(), 0);
}

// With 0 workers the frontend executes requests itself; with 1 a worker
// does, and the roles travel to it with the request.
INSTANTIATE_TEST_SUITE_P(Workers, RoutingdRolesTest, ::testing::Values(0, 1),
                         [](const auto& info) {
                           return absl::StrCat("workers", info.param);
                         });

TEST(RoutingdRolesFileTest, ABadLineStopsRoutingdAtStartNamingIt) {
  const KeyPair server = NewKeyPair(), client = NewKeyPair();
  const std::string server_key = TempPath("bad-server.key");
  const std::string clients = TempPath("bad-clients");
  std::ofstream(server_key) << server.secret_key << "\n";
  std::ofstream(clients) << "# chatbot\n"
                         << client.public_key << " route,superuser\n";
  const auto [requests, events] = TwoFreePorts();
  Routingd daemon({absl::StrCat("--listen=tcp://127.0.0.1:", requests),
                   absl::StrCat("--events=tcp://127.0.0.1:", events),
                   "--curve_secret_key_file=" + server_key,
                   "--curve_allowed_clients_file=" + clients},
                  "bad-clients");
  EXPECT_EQ(daemon.WaitExit(), 1);
  EXPECT_THAT(daemon.Stderr(),
              HasSubstr(clients + ":2: unknown role \"superuser\""));
}

TEST(RoutingdLoopbackTest, WithoutCurveRefusesToListenBeyondLoopback) {
  for (const char* host : {"0.0.0.0", "*"}) {
    const auto [requests, events] = TwoFreePorts();
    const std::string listen = absl::StrCat("tcp://", host, ":", requests);
    Routingd daemon({"--listen=" + listen,
                     absl::StrCat("--events=tcp://127.0.0.1:", events)},
                    absl::StrCat("beyond-", requests));
    EXPECT_EQ(daemon.WaitExit(), 1) << listen;
    EXPECT_THAT(daemon.Stderr(), AllOf(HasSubstr("--listen=" + listen),
                                       HasSubstr("CURVE is off"),
                                       HasSubstr("--insecure_listen")));
  }
  const auto [requests, events] = TwoFreePorts();
  Routingd events_beyond({absl::StrCat("--listen=tcp://127.0.0.1:", requests),
                          absl::StrCat("--events=tcp://0.0.0.0:", events)},
                         "events-beyond");
  EXPECT_EQ(events_beyond.WaitExit(), 1);
  EXPECT_THAT(events_beyond.Stderr(),
              HasSubstr(absl::StrCat("--events=tcp://0.0.0.0:", events)));
}

TEST(RoutingdLoopbackTest, InsecureListenServesBeyondLoopbackWithAWarning) {
  const auto [requests, events] = TwoFreePorts();
  const std::string listen = absl::StrCat("tcp://0.0.0.0:", requests);
  Routingd daemon(
      {"--listen=" + listen, absl::StrCat("--events=tcp://127.0.0.1:", events),
       "--insecure_listen"},
      "insecure");
  ClientOptions options;
  options.server = absl::StrCat("tcp://127.0.0.1:", requests);
  ASSERT_TRUE(daemon.WaitServing(options)) << daemon.Stderr();
  EXPECT_THAT(daemon.Stderr(),
              HasSubstr("warning: --listen=" + listen +
                        " listens beyond loopback unencrypted"));
  // Without CURVE there are no roles: a plain client may do everything.
  auto client = RoutingClient::Connect(options).value();
  EXPECT_TRUE(client->AddAgent(Agent("alice")).ok());
  EXPECT_TRUE(client->ReloadRulesSource(kRules).ok());
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(RoutingdLoopbackTest, LoopbackAndIpcNeedNoFlagAndPrintNoWarning) {
  const auto [requests, events] = TwoFreePorts();
  const std::string ipc =
      absl::StrCat("ipc:///tmp/routingd-access-", getpid(), ".sock");
  Routingd daemon(
      {absl::StrCat("--listen=tcp://127.0.0.1:", requests), "--events=" + ipc},
      "loopback");
  ClientOptions options;
  options.server = absl::StrCat("tcp://127.0.0.1:", requests);
  ASSERT_TRUE(daemon.WaitServing(options)) << daemon.Stderr();
  EXPECT_THAT(daemon.Stderr(), Not(HasSubstr("warning")));
  EXPECT_EQ(daemon.Terminate(), 0);
}

}  // namespace
}  // namespace routing::sidecar
