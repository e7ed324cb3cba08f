// End-to-end: the protocol's envelope rules against the real routingd,
// pipelined on raw DEALER sockets as a third-party client would: requests
// about one contact take effect in the order sent with several workers, an
// oversize request costs nobody else their reply, and error replies name
// the missing field, echo the request id (or say it was unreadable), and
// answer an unknown request type UNIMPLEMENTED.
#include <zmq.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flatbuffers/flatbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/client.h"
#include "sidecar/wire_encoder.h"
#include "sidecar/zmq_frames.h"
#include "tests/sidecar/routingd_process.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

// routingd on loopback TCP with `flags`, serving once constructed.
class Routingd {
 public:
  explicit Routingd(const std::vector<std::string>& flags)
      : endpoints_(NewRoutingdEndpoints("tcp", "routingd-protocol")),
        process_(WithEndpoints(endpoints_, flags)) {
    ClientOptions options;
    options.server = endpoints_.requests;
    serving_ = process_.WaitServing(options);
  }
  bool serving() const { return serving_; }
  const std::string& requests() const { return endpoints_.requests; }
  std::unique_ptr<RoutingClient> Client() {
    ClientOptions options;
    options.server = endpoints_.requests;
    return RoutingClient::Connect(options).value();
  }
  int Terminate() { return process_.Terminate(); }

 private:
  RoutingdEndpoints endpoints_;
  RoutingdProcess process_;
  bool serving_ = false;
};

// A DEALER that pipelines raw buffers and collects replies by request id.
class Dealer {
 public:
  explicit Dealer(const std::string& endpoint)
      : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_DEALER)) {
    (void)socket_.SetInt(ZMQ_LINGER, 0);
    (void)socket_.SetInt(ZMQ_SNDHWM, 100'000);
    (void)socket_.SetInt(ZMQ_RCVHWM, 100'000);
    zmq_connect(socket_.get(), endpoint.c_str());
  }
  ~Dealer() {
    socket_.Close();
    zmq_ctx_term(context_);
  }
  void Send(const std::string& bytes) {
    Frames frames;
    frames.Add(bytes);
    ASSERT_TRUE(frames.Send(socket_.get(), 0));
  }
  absl::StatusOr<Reply> Receive(absl::Duration timeout) {
    zmq_pollitem_t item = {socket_.get(), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, absl::ToInt64Milliseconds(timeout)) <= 0) {
      return absl::DeadlineExceededError("no reply");
    }
    Frames frames;
    if (!frames.Receive(socket_.get(), 0)) return ZmqError("receive");
    return Reply::Verify(frames.data(frames.size() - 1),
                         frames.size_of(frames.size() - 1));
  }
  // Replies until `count` have come or none came for `quiet`.
  std::vector<Reply> ReceiveAll(size_t count,
                                absl::Duration quiet = absl::Seconds(10)) {
    std::vector<Reply> replies;
    while (replies.size() < count) {
      absl::StatusOr<Reply> reply = Receive(quiet);
      if (!reply.ok()) break;
      replies.push_back(*std::move(reply));
    }
    return replies;
  }

 private:
  void* context_;
  ZmqSocket socket_;
};

std::string Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

Contact Chat(const std::string& id) {
  Contact contact;
  contact.id = id;
  contact.channel = Channel::kChat;
  return contact;
}

// An agent who could take chats but is logged out: routed chats queue.
absl::Status AddLoggedOutAgent(RoutingClient& client) {
  AgentProfile agent;
  agent.id = "alice";
  agent.SetCapacity(Channel::kChat, 2);
  return client.AddAgent(agent);
}

std::string Route(uint64_t id, const Contact& contact,
                  const HandoffContext* handoff = nullptr) {
  flatbuffers::FlatBufferBuilder fbb;
  auto c = BuildContact(fbb, contact, handoff);
  FinishRequest(fbb, id, wire::RequestBody::RouteContact,
                wire::CreateRouteContact(fbb, c).Union());
  return Bytes(fbb);
}

std::string Cancel(uint64_t id, const std::string& contact_id) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(
      fbb, id, wire::RequestBody::CancelContact,
      wire::CreateCancelContactDirect(fbb, contact_id.c_str()).Union());
  return Bytes(fbb);
}

std::string Stats(uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  FinishRequest(fbb, id, wire::RequestBody::GetStats,
                wire::CreateGetStats(fbb, 60).Union());
  return Bytes(fbb);
}

// A well-formed ReloadRules of about `size` bytes (its source text).
std::string LargeReload(uint64_t id, size_t size) {
  flatbuffers::FlatBufferBuilder fbb;
  auto source = fbb.CreateString(std::string(size, '-'));
  FinishRequest(fbb, id, wire::RequestBody::ReloadRules,
                wire::CreateReloadRules(fbb, 0, source).Union());
  return Bytes(fbb);
}

const wire::Error* ErrorOf(const Reply& reply) {
  return reply.get()->body_as_Error();
}

// 1,000 conversations routed and cancelled at once, each cancel right
// behind its route on one connection: with four workers, every cancel must
// find its contact.
TEST(RoutingdProtocolE2eTest, RequestsAboutOneContactRunInTheOrderSent) {
  constexpr int kPairs = 1000;
  Routingd daemon({"--workers=4", "--max_in_flight=4096"});
  ASSERT_TRUE(daemon.serving());
  ASSERT_TRUE(AddLoggedOutAgent(*daemon.Client()).ok());
  Dealer dealer(daemon.requests());
  for (int i = 0; i < kPairs; ++i) {
    const std::string id = absl::StrCat("conv-", i);
    dealer.Send(Route(2 * i + 1, Chat(id)));
    dealer.Send(Cancel(2 * i + 2, id));
  }
  std::vector<Reply> replies = dealer.ReceiveAll(2 * kPairs);
  ASSERT_EQ(replies.size(), 2u * kPairs);
  absl::flat_hash_map<uint64_t, int> seen;
  int cancels_not_found = 0;
  for (const Reply& reply : replies) {
    const uint64_t id = reply.get()->request_id();
    ++seen[id];
    if (id % 2 == 1) {
      ASSERT_EQ(reply.get()->body_type(), wire::ReplyBody::Decision)
          << "route " << id << ": " << ErrorOf(reply)->message()->str();
    } else if (reply.get()->body_type() != wire::ReplyBody::Ack) {
      if (cancels_not_found++ == 0) {
        ADD_FAILURE() << "cancel " << id << ": "
                      << ErrorOf(reply)->message()->str();
      }
    }
  }
  EXPECT_EQ(seen.size(), 2u * kPairs);
  EXPECT_EQ(cancels_not_found, 0) << "cancels that ran before their route";
  absl::StatusOr<Reply> stats = daemon.Client()->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->contacts_held(), 0);
  EXPECT_EQ(stats->get()->body_as_Stats()->cancelled(), kPairs);
  EXPECT_EQ(daemon.Terminate(), 0);
}

// One request of three times --max_message_bytes amid pipelined ones: it is
// answered TOO_LARGE with its own id, and every other request on the
// connection gets its reply.
TEST(RoutingdProtocolE2eTest, AnOversizeRequestCostsNoOtherReply) {
  constexpr size_t kMax = 4096;
  Routingd daemon({"--workers=2", absl::StrCat("--max_message_bytes=", kMax)});
  ASSERT_TRUE(daemon.serving());
  ASSERT_TRUE(AddLoggedOutAgent(*daemon.Client()).ok());
  Dealer dealer(daemon.requests());
  uint64_t next = 1;
  for (int i = 0; i < 20; ++i) dealer.Send(Stats(next++));
  for (int i = 0; i < 10; ++i) {
    dealer.Send(Route(next++, Chat(absl::StrCat("chat-", i))));
  }
  const uint64_t oversize_id = next++;
  const std::string oversize = LargeReload(oversize_id, 3 * kMax);
  ASSERT_GT(oversize.size(), 3 * kMax);
  dealer.Send(oversize);
  for (int i = 0; i < 10; ++i) dealer.Send(Stats(next++));
  std::vector<Reply> replies = dealer.ReceiveAll(next - 1);
  ASSERT_EQ(replies.size(), next - 1);
  absl::flat_hash_map<uint64_t, int> seen;
  for (const Reply& reply : replies) {
    const uint64_t id = reply.get()->request_id();
    ++seen[id];
    EXPECT_FALSE(reply.get()->request_id_unread());
    if (id == oversize_id) {
      ASSERT_EQ(reply.get()->body_type(), wire::ReplyBody::Error);
      EXPECT_EQ(ErrorOf(reply)->code(), wire::ErrorCode::TooLarge);
      EXPECT_THAT(ErrorOf(reply)->message()->str(),
                  HasSubstr(absl::StrCat("exceeds the ", kMax)));
    } else {
      EXPECT_NE(reply.get()->body_type(), wire::ReplyBody::Error)
          << ErrorOf(reply)->message()->str();
    }
  }
  for (uint64_t id = 1; id < next; ++id) EXPECT_EQ(seen[id], 1) << id;
  EXPECT_EQ(daemon.Terminate(), 0);
}

// Above --hard_max_message_bytes libzmq drops the connection unread: that
// request never gets a reply. The client's DEALER reconnects by itself and
// what it sends afterwards is served; other connections never notice.
TEST(RoutingdProtocolE2eTest, AboveTheHardCeilingOnlyThatConnectionIsDropped) {
  Routingd daemon({"--max_message_bytes=4096",
                   "--hard_max_message_bytes=16384"});
  ASSERT_TRUE(daemon.serving());
  Dealer bystander(daemon.requests());
  Dealer abuser(daemon.requests());
  abuser.Send(LargeReload(1, 20'000));
  EXPECT_FALSE(abuser.Receive(absl::Milliseconds(500)).ok());
  bystander.Send(Stats(2));
  absl::StatusOr<Reply> reply = bystander.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->get()->request_id(), 2u);
  // Past libzmq's reconnect interval (100 ms), the same socket is served.
  abuser.Send(Stats(3));
  reply = abuser.Receive(absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->get()->request_id(), 3u);
  EXPECT_EQ(daemon.Terminate(), 0);
}

TEST(RoutingdProtocolE2eTest, ErrorRepliesNameTheProblemAndEchoTheId) {
  Routingd daemon({"--workers=2"});
  ASSERT_TRUE(daemon.serving());
  Dealer dealer(daemon.requests());

  // A required field missing, as flatc's Python or JavaScript code lets a
  // client send: named, with the request's id.
  {
    flatbuffers::FlatBufferBuilder fbb;
    const flatbuffers::uoffset_t start = fbb.StartTable();
    const flatbuffers::Offset<wire::RouteContact> route(fbb.EndTable(start));
    FinishRequest(fbb, 101, wire::RequestBody::RouteContact, route.Union());
    dealer.Send(Bytes(fbb));
    absl::StatusOr<Reply> reply = dealer.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->request_id(), 101u);
    EXPECT_FALSE(reply->get()->request_id_unread());
    EXPECT_EQ(ErrorOf(*reply)->code(), wire::ErrorCode::MalformedRequest);
    EXPECT_EQ(ErrorOf(*reply)->message()->str(),
              "RouteContact.contact is required but missing");
  }
  // An unknown request type: UNIMPLEMENTED, naming it, with the id.
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateHealth(fbb);
    FinishRequest(fbb, 102, static_cast<wire::RequestBody>(200), body.Union());
    dealer.Send(Bytes(fbb));
    absl::StatusOr<Reply> reply = dealer.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->request_id(), 102u);
    EXPECT_FALSE(reply->get()->request_id_unread());
    EXPECT_EQ(ErrorOf(*reply)->code(), wire::ErrorCode::Unimplemented);
    EXPECT_THAT(ErrorOf(*reply)->message()->str(),
                HasSubstr("request type 200 is not known"));
  }
  // A wrong file identifier: the id is still read.
  {
    std::string request = Stats(103);
    request.replace(4, 4, "ABCD");
    dealer.Send(request);
    absl::StatusOr<Reply> reply = dealer.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->request_id(), 103u);
    EXPECT_FALSE(reply->get()->request_id_unread());
  }
  // Id 0 is a valid id: echoed, not marked unread.
  {
    std::string request = Stats(0);
    request.replace(4, 4, "ABCD");
    dealer.Send(request);
    absl::StatusOr<Reply> reply = dealer.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->request_id(), 0u);
    EXPECT_FALSE(reply->get()->request_id_unread());
  }
  // Bytes with no readable root table: unread.
  {
    dealer.Send(std::string("\xff\xff\xff\x7fRTSC-garbage", 16));
    absl::StatusOr<Reply> reply = dealer.Receive(absl::Seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->get()->request_id(), 0u);
    EXPECT_TRUE(reply->get()->request_id_unread());
    EXPECT_EQ(ErrorOf(*reply)->code(), wire::ErrorCode::MalformedRequest);
  }
  EXPECT_EQ(daemon.Terminate(), 0);
}

// Refused requests change nothing: no contact held, no decision made.
TEST(RoutingdProtocolE2eTest, ControlCharactersAndConflictingAttributes) {
  Routingd daemon({"--workers=2"});
  ASSERT_TRUE(daemon.serving());
  Dealer dealer(daemon.requests());
  dealer.Send(Route(1, Chat("chat\n1")));
  Contact queued = Chat("chat-2");
  queued.queue = "billing\x01";
  dealer.Send(Route(2, queued));
  Contact conflicting = Chat("chat-3");
  conflicting.attributes["intent"] = "billing";
  HandoffContext handoff;
  handoff.intent = "sales";
  dealer.Send(Route(3, conflicting, &handoff));
  dealer.Send(Cancel(4, "chat\t4"));
  std::vector<Reply> replies = dealer.ReceiveAll(4);
  ASSERT_EQ(replies.size(), 4u);
  absl::flat_hash_map<uint64_t, std::string> messages;
  for (const Reply& reply : replies) {
    ASSERT_EQ(reply.get()->body_type(), wire::ReplyBody::Error);
    EXPECT_EQ(ErrorOf(reply)->code(), wire::ErrorCode::InvalidArgument);
    messages[reply.get()->request_id()] = ErrorOf(reply)->message()->str();
  }
  EXPECT_THAT(messages[1], HasSubstr("contact.id \"chat\\n1\" holds control "
                                     "character 0x0A at byte 4"));
  EXPECT_THAT(messages[2], HasSubstr("contact.queue"));
  EXPECT_THAT(messages[3],
              HasSubstr("attribute \"intent\" is \"billing\" in "
                        "contact.attributes[0] but \"sales\" in "
                        "handoff.intent"));
  EXPECT_THAT(messages[4], HasSubstr("cancel_contact.contact_id"));
  auto client = daemon.Client();
  EXPECT_EQ(client->GetContact("chat-3").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<Reply> stats = client->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->get()->body_as_Stats()->contacts_held(), 0);
  EXPECT_EQ(stats->get()->body_as_Stats()->decisions(), 0);
  EXPECT_EQ(daemon.Terminate(), 0);
}

}  // namespace
}  // namespace routing::sidecar
