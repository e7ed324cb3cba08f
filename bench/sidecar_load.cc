// sidecar_load: load generator for routingd (and for zmq_echo_server, the
// transport floor), printing one JSON object.
//
// Every measured request is a routing decision: a Requeue of one of
// --contacts contacts held by the daemon (set up first: --agents agents that
// can take them, each contact routed once), so the daemon's state stays the
// same size however long the run. The echo server gets the same bytes.
//
// --mode=open: requests are sent at --rate per second on a fixed schedule from
//   the start time, and each latency is measured from the request's
//   *scheduled* send time, so a stall in the daemon (or in this generator)
//   shows up in the percentiles instead of silently delaying the schedule
//   (no coordinated omission). Between sends the thread blocks in ppoll on
//   the sockets' notification descriptors, so replies are timed when they
//   arrive without spinning on the core libzmq's I/O thread shares.
// --mode=closed: --connections DEALERs each keep --in_flight requests
//   outstanding; the throughput is the peak the daemon sustains.
#include <poll.h>
#include <sys/prctl.h>
#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/agent.h"
#include "routing/contact.h"
#include "sidecar/client.h"
#include "sidecar/routing_generated.h"
#include "sidecar/wire_encoder.h"
#include "sidecar/zmq_frames.h"

ABSL_FLAG(std::string, server, "tcp://127.0.0.1:5555", "Endpoint under load.");
ABSL_FLAG(std::string, target, "routingd",
          "routingd, or echo (zmq_echo_server: no setup, replies are the "
          "requests).");
ABSL_FLAG(std::string, mode, "open", "open (fixed rate) or closed (peak).");
ABSL_FLAG(int, rate, 20000, "Open loop: requests per second.");
ABSL_FLAG(double, duration_s, 5, "Measured seconds.");
ABSL_FLAG(double, warmup_s, 1, "Unmeasured seconds before.");
ABSL_FLAG(int, connections, 4, "DEALER sockets.");
ABSL_FLAG(int, in_flight, 32, "Closed loop: outstanding requests per socket.");
ABSL_FLAG(int, agents, 200, "routingd setup: agents (chat capacity 10 each).");
ABSL_FLAG(int, contacts, 1000, "routingd setup: contacts requeued in turn.");
ABSL_FLAG(bool, with_explanation, false,
          "Ask routingd for each decision's readable text as well "
          "(RequeueContact.with_explanation).");
ABSL_FLAG(std::string, latency_log, "",
          "If set, writes one line per measured reply to this file: seconds "
          "since the measurement began (send time), latency in us. For "
          "finding periodic stalls.");
ABSL_FLAG(std::string, label, "", "Copied into the JSON output.");

namespace {

using Clock = std::chrono::steady_clock;
// Longest wait between checks for replies in the open loop when a socket's
// notification descriptor is quiet (a safety net: replies wake it).
constexpr auto kNap = std::chrono::microseconds(200);
// The closed loop's vectors are made ready for this many requests a
// second; beyond it they grow as they must.
constexpr double kClosedLoopRateReady = 250'000;

// Gives `v` room for `n` elements and touches every page of it, so that
// filling it during the measurement neither reallocates nor takes a page
// fault: either stalls this generator (several ms for a reallocation past
// a few hundred KB on a virtual machine), and the stall would be counted
// as the server's latency.
template <typename T>
void MakeReady(std::vector<T>& v, size_t n) {
  v.resize(n);
  v.clear();  // Keeps the capacity, and the pages touched.
}

namespace wire = routing::sidecar::wire;

routing::Contact ContactNumber(int i) {
  routing::Contact contact;
  contact.id = absl::StrCat("load-", i);
  contact.channel = routing::Channel::kChat;
  contact.required_skills = {{i % 2 == 0 ? "billing" : "sales", 1}};
  contact.languages = {"en"};
  return contact;
}

bool SetUp(const std::string& server) {
  routing::sidecar::ClientOptions options;
  options.server = server;
  auto client = routing::sidecar::RoutingClient::Connect(options);
  if (!client.ok()) return false;
  for (int a = 0; a < absl::GetFlag(FLAGS_agents); ++a) {
    routing::AgentProfile agent;
    agent.id = absl::StrCat("agent-", a);
    agent.skills = {{"billing", 1 + a % 5}, {"sales", 1 + (a / 5) % 5}};
    agent.languages = {{"en", 5}};
    agent.SetCapacity(routing::Channel::kChat, 10);
    if (!(*client)->AddAgent(agent).ok()) return false;
    if (!(*client)
             ->SetAgentState(agent.id, routing::AgentState::kAvailable)
             .ok()) {
      return false;
    }
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_contacts); ++i) {
    if (!(*client)->Route(ContactNumber(i)).ok()) return false;
  }
  return true;
}

class Load {
 public:
  explicit Load(const std::string& server, bool echo) : echo_(echo) {
    context_ = zmq_ctx_new();
    for (int c = 0; c < absl::GetFlag(FLAGS_connections); ++c) {
      sockets_.emplace_back(zmq_socket(context_, ZMQ_DEALER));
      (void)sockets_.back().SetInt(ZMQ_LINGER, 0);
      (void)sockets_.back().SetInt(ZMQ_SNDHWM, 100000);
      (void)sockets_.back().SetInt(ZMQ_RCVHWM, 100000);
      zmq_connect(sockets_.back().get(), server.c_str());
    }
    for (int i = 0; i < absl::GetFlag(FLAGS_contacts); ++i) {
      flatbuffers::FlatBufferBuilder fbb(512);
      auto contact =
          routing::sidecar::BuildContact(fbb, ContactNumber(i), nullptr);
      // A non-zero id is stored in the buffer, so it can be patched later.
      routing::sidecar::FinishRequest(
          fbb, /*request_id=*/1, wire::RequestBody::RequeueContact,
          wire::CreateRequeueContact(fbb, contact,
                                     absl::GetFlag(FLAGS_with_explanation))
              .Union());
      requests_.emplace_back(fbb.GetSize() / 8 + 1);
      std::memcpy(requests_.back().data(), fbb.GetBufferPointer(),
                  fbb.GetSize());
      request_sizes_.push_back(fbb.GetSize());
    }
  }
  ~Load() {
    sockets_.clear();
    zmq_ctx_term(context_);
  }

  // Sends request number `n` (its id is n + 1) on socket `s`: the prebuilt
  // request of contact n % contacts, with its id patched in place, so the
  // generator spends its core on the transport, not on building buffers.
  void Send(uint64_t n, size_t s) {
    std::vector<uint64_t>& request = requests_[n % requests_.size()];
    flatbuffers::GetMutableRoot<wire::Request>(request.data())
        ->mutate_request_id(n + 1);
    zmq_send(sockets_[s].get(), request.data(),
             request_sizes_[n % requests_.size()], 0);
  }

  // Receives every reply waiting on socket `s`; calls done(request number).
  template <typename Done>
  void Drain(size_t s, Done done) {
    while (true) {
      routing::sidecar::Frames reply;
      if (!reply.Receive(sockets_[s].get(), ZMQ_DONTWAIT)) return;
      std::vector<uint64_t> scratch;
      const size_t size = reply.size_of(0);
      scratch.resize(size / 8 + 1);
      std::memcpy(scratch.data(), reply.data(0), size);
      const auto* bytes = reinterpret_cast<const uint8_t*>(scratch.data());
      uint64_t id;
      bool ok = true;
      if (echo_) {
        id = flatbuffers::GetRoot<wire::Request>(bytes)->request_id();
      } else {
        const auto* r = flatbuffers::GetRoot<wire::Reply>(bytes);
        id = r->request_id();
        if (r->body_type() == wire::ReplyBody::Error) {
          ok = false;
          if (r->body_as_Error()->code() == wire::ErrorCode::Busy) ++busy_;
        }
      }
      if (!ok) ++errors_;
      done(id - 1);
    }
  }

  size_t sockets() const { return sockets_.size(); }

  // Blocks until a reply may be waiting on some socket or `until` passes,
  // without spinning (the generator shares its core with libzmq's I/O
  // thread) and without a sleep's granularity: ppoll on the sockets'
  // ZMQ_FD descriptors, which libzmq signals when a socket's events change.
  // The signal is edge-like, so callers drain every socket after a wake.
  void WaitForReplies(std::chrono::steady_clock::time_point until) {
    if (fds_.empty()) {
      for (auto& socket : sockets_) {
        int fd = -1;
        size_t size = sizeof fd;
        zmq_getsockopt(socket.get(), ZMQ_FD, &fd, &size);
        fds_.push_back({fd, POLLIN, 0});
      }
    }
    // A socket may already hold replies its descriptor announced earlier.
    for (auto& socket : sockets_) {
      int events = 0;
      size_t size = sizeof events;
      zmq_getsockopt(socket.get(), ZMQ_EVENTS, &events, &size);
      if (events & ZMQ_POLLIN) return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (until <= now) return;
    const auto wait =
        std::chrono::duration_cast<std::chrono::nanoseconds>(until - now);
    timespec timeout = {static_cast<time_t>(wait.count() / 1'000'000'000),
                        static_cast<long>(wait.count() % 1'000'000'000)};
    ppoll(fds_.data(), fds_.size(), &timeout, nullptr);
  }
  uint64_t errors() const { return errors_; }
  uint64_t busy() const { return busy_; }

 private:
  bool echo_;
  void* context_;
  std::vector<routing::sidecar::ZmqSocket> sockets_;
  std::vector<std::vector<uint64_t>> requests_;  // Aligned, one per contact.
  std::vector<size_t> request_sizes_;
  std::vector<pollfd> fds_;  // ZMQ_FD of each socket, for WaitForReplies.
  uint64_t errors_ = 0;
  uint64_t busy_ = 0;
};

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t index =
      std::min(sorted.size() - 1,
               static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Load generator for routingd (open or closed loop), JSON output.");
  absl::ParseCommandLine(argc, argv);
  // Sleeps of a few microseconds must not be rounded up to the default 50 us
  // timer slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const std::string server = absl::GetFlag(FLAGS_server);
  const bool echo = absl::GetFlag(FLAGS_target) == "echo";
  const bool open = absl::GetFlag(FLAGS_mode) == "open";
  if (!echo && !SetUp(server)) {
    std::fprintf(stderr, "sidecar_load: setting up %s failed\n",
                 server.c_str());
    return 1;
  }
  Load load(server, echo);
  const double warmup = absl::GetFlag(FLAGS_warmup_s);
  const double duration = absl::GetFlag(FLAGS_duration_s);
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(warmup));
  const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(duration));
  std::vector<Clock::time_point> sent_at;  // Scheduled (open) or actual.
  std::vector<double> latencies_us;
  const bool log_replies = !absl::GetFlag(FLAGS_latency_log).empty();
  std::vector<std::pair<double, double>> latency_log;  // (sent at, us)
  const size_t expected = static_cast<size_t>(
      (open ? absl::GetFlag(FLAGS_rate) : kClosedLoopRateReady) *
          (warmup + duration) +
      1);
  MakeReady(sent_at, expected);
  MakeReady(latencies_us, expected);
  if (log_replies) MakeReady(latency_log, expected);
  uint64_t received_measured = 0;
  uint64_t sent = 0;
  uint64_t received = 0;
  auto on_reply = [&](uint64_t n) {
    ++received;
    if (n >= sent_at.size()) return;
    const auto now = Clock::now();
    if (sent_at[n] >= measure_from && sent_at[n] < end) {
      latencies_us.push_back(
          std::chrono::duration<double, std::micro>(now - sent_at[n]).count());
      if (log_replies) {
        latency_log.emplace_back(
            std::chrono::duration<double>(sent_at[n] - measure_from).count(),
            latencies_us.back());
      }
      ++received_measured;
    }
  };
  std::this_thread::sleep_until(start);
  if (open) {
    const double rate = absl::GetFlag(FLAGS_rate);
    const uint64_t total = static_cast<uint64_t>(rate * (warmup + duration));
    for (uint64_t n = 0; n < total; ++n) {
      const auto scheduled =
          start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(n / rate));
      // Until the slot comes, take replies as they arrive (their latency
      // is read when they come, not at the next send).
      while (true) {
        for (size_t s = 0; s < load.sockets(); ++s) load.Drain(s, on_reply);
        const auto now = Clock::now();
        if (now >= scheduled) break;
        load.WaitForReplies(std::min(scheduled, now + kNap));
      }
      sent_at.push_back(scheduled);
      load.Send(n, n % load.sockets());
      ++sent;
    }
  } else {
    const int in_flight = absl::GetFlag(FLAGS_in_flight);
    std::vector<uint64_t> outstanding(load.sockets(), 0);
    auto send_on = [&](size_t s) {
      sent_at.push_back(Clock::now());
      load.Send(sent, s);
      ++sent;
      ++outstanding[s];
    };
    for (size_t s = 0; s < load.sockets(); ++s) {
      for (int i = 0; i < in_flight; ++i) send_on(s);
    }
    while (Clock::now() < end) {
      uint64_t replies = 0;
      for (size_t s = 0; s < load.sockets(); ++s) {
        load.Drain(s, [&](uint64_t n) {
          on_reply(n);
          --outstanding[s];
          ++replies;
        });
        while (outstanding[s] < static_cast<uint64_t>(in_flight) &&
               Clock::now() < end) {
          send_on(s);
        }
      }
      // Nothing came back: block until something does instead of spinning
      // on the core this generator's libzmq I/O thread needs.
      if (replies == 0) load.WaitForReplies(Clock::now() + kNap);
    }
  }
  // Collect the stragglers (up to a second) so late replies count as late.
  const auto give_up = Clock::now() + std::chrono::seconds(1);
  while (received < sent && Clock::now() < give_up) {
    for (size_t s = 0; s < load.sockets(); ++s) load.Drain(s, on_reply);
  }
  if (log_replies) {
    std::FILE* file = std::fopen(absl::GetFlag(FLAGS_latency_log).c_str(), "w");
    if (file == nullptr) {
      std::fprintf(stderr, "sidecar_load: cannot write %s\n",
                   absl::GetFlag(FLAGS_latency_log).c_str());
      return 1;
    }
    for (const auto& [at_s, latency_us] : latency_log) {
      std::fprintf(file, "%.6f %.1f\n", at_s, latency_us);
    }
    std::fclose(file);
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  uint64_t sent_measured = 0;
  for (const auto& t : sent_at) sent_measured += (t >= measure_from && t < end);
  std::printf(
      "{\"label\": \"%s\", \"target\": \"%s\", \"mode\": \"%s\", "
      "\"rate\": %d, \"connections\": %zu, \"in_flight\": %d, "
      "\"with_explanation\": %s, "
      "\"duration_s\": %.1f, \"sent\": %llu, \"received\": %llu, "
      "\"lost\": %llu, \"errors\": %llu, \"busy\": %llu, "
      "\"throughput_per_s\": %.0f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
      "\"p999_us\": %.1f, \"max_us\": %.1f}\n",
      absl::GetFlag(FLAGS_label).c_str(), echo ? "echo" : "routingd",
      open ? "open" : "closed", open ? absl::GetFlag(FLAGS_rate) : 0,
      load.sockets(), open ? 0 : absl::GetFlag(FLAGS_in_flight),
      absl::GetFlag(FLAGS_with_explanation) ? "true" : "false", duration,
      static_cast<unsigned long long>(sent_measured),
      static_cast<unsigned long long>(received_measured),
      static_cast<unsigned long long>(sent_measured - received_measured),
      static_cast<unsigned long long>(load.errors()),
      static_cast<unsigned long long>(load.busy()),
      static_cast<double>(received_measured) / duration,
      Percentile(latencies_us, 0.5), Percentile(latencies_us, 0.99),
      Percentile(latencies_us, 0.999),
      latencies_us.empty() ? 0.0 : latencies_us.back());
  return sent_measured == received_measured ? 0 : 2;
}
