#include "sidecar/daemon.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flatbuffers/flatbuffers.h"
#include "routing/status_macros.h"
#include "sidecar/client_roles.h"
#include "sidecar/cpu_placement.h"
#include "sidecar/event_sequencer.h"
#include "sidecar/event_topics.h"
#include "sidecar/held_replies.h"
#include "sidecar/subscriber_interest.h"
#include "sidecar/idempotency_store.h"
#include "sidecar/request_affinity.h"
#include "sidecar/request_decoder.h"
#include "sidecar/wire_encoder.h"
#include "sidecar/zmq_frames.h"

namespace routing::sidecar {
namespace {

// One requests queue per worker, this followed by the worker's index: a
// request goes to the worker its contact or agent maps to.
constexpr char kRequestsEndpointPrefix[] = "inproc://routingd-requests-";
constexpr char kRepliesEndpoint[] = "inproc://routingd-replies";
constexpr char kEventsEndpoint[] = "inproc://routingd-events";
// ReloadRules requests, from the threads that received them to the reloader.
constexpr char kReloadsEndpoint[] = "inproc://routingd-reloads";
// Replies waiting for their journal record to be durable: [sequence (8
// bytes), reply frames...], from the workers and the reloader to the
// frontend, which holds them until the record settles (HeldReplies).
constexpr char kDurableEndpoint[] = "inproc://routingd-durable-replies";
constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr char kTerminate[] = "$TERM";
// Messages handled per socket per poll round, so no socket starves another.
constexpr int kBatch = 64;
// How long an unsent reply or event may hold up closing a socket.
constexpr int kCloseLingerMs = 1000;
// At shutdown, the request socket is closed once no request came for this long.
constexpr int kQuietMs = 50;
// The default hard ceiling, in multiples of --max_message_bytes: room for
// any request a client may plausibly mistake for legal (a rules source up to
// the protocol's 256 KiB at the 64 KiB default is 4x) to be answered
// TOO_LARGE, while one connection still cannot make libzmq allocate more
// than 4 MiB at once at the default (daemon.h, hard_max_message_bytes).
constexpr size_t kHardMaxMessageFactor = 64;

void SignalReady(void* pipe, const absl::Status& status) {
  Frames ready;
  ready.Add(status.ok() ? std::string() : std::string(status.message()));
  ready.Send(pipe, 0);
}

// A thread that owns its sockets, started and stopped with a handshake over
// an inproc PAIR pipe (the CZMQ actor pattern). The body binds what it needs,
// then sends "" (ready) or an error text on the pipe; it returns after
// receiving "$TERM", having flushed what it owns.
class Actor {
 public:
  using Body = std::function<void(void* pipe)>;

  // The thread runs only on `cpus` (anywhere if empty).
  absl::Status Start(void* context, const std::string& name,
                     const std::vector<int>& cpus, Body body) {
    const std::string endpoint = absl::StrCat("inproc://routingd-actor-", name);
    pipe_ = ZmqSocket(zmq_socket(context, ZMQ_PAIR));
    ROUTING_RETURN_IF_ERROR(pipe_.SetInt(ZMQ_LINGER, 0));
    if (zmq_bind(pipe_.get(), endpoint.c_str()) != 0) {
      return ZmqError(absl::StrCat("binding ", endpoint));
    }
    // Named for top -H and perf: "rd-frontend", "rd-worker-0" (15 bytes).
    const std::string thread_name = absl::StrCat("rd-", name).substr(0, 15);
    thread_ = std::thread(
        [context, endpoint, cpus, thread_name, body = std::move(body)] {
          pthread_setname_np(pthread_self(), thread_name.c_str());
          ZmqSocket pipe(zmq_socket(context, ZMQ_PAIR));
          (void)pipe.SetInt(ZMQ_LINGER, kCloseLingerMs);
          zmq_connect(pipe.get(), endpoint.c_str());
          if (absl::Status pinned = PinCallingThread(cpus); !pinned.ok()) {
            SignalReady(pipe.get(), pinned);
            return;
          }
          body(pipe.get());
        });
    Frames ready;
    if (!ready.Receive(pipe_.get(), 0)) {
      absl::Status error = ZmqError(absl::StrCat("starting ", name));
      thread_.join();
      pipe_.Close();
      return error;
    }
    if (ready.size_of(0) != 0) {
      std::string error(ready.text(0));
      thread_.join();
      pipe_.Close();
      return absl::UnavailableError(error);
    }
    return absl::OkStatus();
  }

  void Stop() {
    if (!thread_.joinable()) return;
    Frames term;
    term.Add(kTerminate);
    term.Send(pipe_.get(), 0);
    thread_.join();
    pipe_.Close();
  }

  ~Actor() { Stop(); }

 private:
  ZmqSocket pipe_;
  std::thread thread_;
};

// The error code of a reply the handler finished in `fbb` (our own buffer:
// it needs no verifying); 0 (None) for a success.
int ReplyCodeOf(const flatbuffers::FlatBufferBuilder& fbb) {
  const wire::Reply* reply =
      flatbuffers::GetRoot<wire::Reply>(fbb.GetBufferPointer());
  if (reply->body_type() != wire::ReplyBody::Error) return 0;
  return static_cast<int>(reply->body_as_Error()->code());
}

// The wire::RequestBody of a request the handler answered with `code`, or 0
// (NONE) when it was refused as not being a sound Request (too large, not a
// Request, misaligned). Read with the bounded header check, never from an
// unverified buffer directly: an UNSUPPORTED_VERSION request is refused
// before its body is verified.
int RequestTypeOf(const uint8_t* data, size_t size, int code) {
  switch (static_cast<wire::ErrorCode>(code)) {
    case wire::ErrorCode::TooLarge:
    case wire::ErrorCode::MalformedRequest:
    case wire::ErrorCode::Internal:
      return 0;
    default:
      break;
  }
  std::vector<uint64_t> scratch;
  return PeekRequestHeader(AlignedCopy(data, size, &scratch), size).body_type;
}

bool IsTerminate(void* pipe) {
  Frames command;
  if (!command.Receive(pipe, ZMQ_DONTWAIT)) return false;
  return command.size() == 1 && command.text(0) == kTerminate;
}

absl::Status ApplyCurve(ZmqSocket& socket, const DaemonOptions& options) {
  if (options.curve_secret_key.empty()) return absl::OkStatus();
  ROUTING_RETURN_IF_ERROR(socket.SetInt(ZMQ_CURVE_SERVER, 1));
  ROUTING_RETURN_IF_ERROR(
      socket.SetBytes(ZMQ_CURVE_SECRETKEY, options.curve_secret_key));
  return socket.SetBytes(ZMQ_ZAP_DOMAIN, "routingd");
}

// Publishes a worker's events through its own PUSH socket to the publisher.
// Only topics of a family some subscriber wants leave: the others would be
// dropped by the PUB socket anyway, after a trip through the publisher.
class WorkerEventSink : public EventSink {
 public:
  WorkerEventSink(void* socket, const SubscriberInterest* interest)
      : socket_(socket), interest_(interest) {}
  bool Wants(TopicFamily family) const override {
    return interest_->Wants(family);
  }
  void Publish(const std::vector<std::string>& topics, const uint8_t* data,
               size_t size) override {
    for (const std::string& topic : topics) {
      TopicFamily family;
      if (FamilyOf(topic, &family) && !interest_->Wants(family)) continue;
      Frames event;
      event.Add(topic);
      event.Add(data, size);
      // Blocking: a full publisher queue slows the worker (bounded), it never
      // drops an event here.
      event.Send(socket_, 0);
    }
  }

 private:
  void* socket_;
  const SubscriberInterest* interest_;
};

}  // namespace

class Daemon::Impl {
 public:
  Impl(RequestHandler* handler, SidecarMetrics* metrics,
       const DaemonOptions& options)
      : handler_(handler), metrics_(metrics), options_(options) {}

  ~Impl() { Stop(); }

  absl::Status Start() {
    if (options_.workers < 0 || options_.workers > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat("workers ", options_.workers, " is outside 0..64"));
    }
    if (options_.max_in_flight < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "max_in_flight ", options_.max_in_flight, " must be positive"));
    }
    if (options_.max_message_bytes < 64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "max_message_bytes ", options_.max_message_bytes, " is below 64"));
    }
    if (options_.hard_max_message_bytes != 0 &&
        options_.hard_max_message_bytes < options_.max_message_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hard_max_message_bytes ", options_.hard_max_message_bytes,
          " is below max_message_bytes ", options_.max_message_bytes));
    }
    if (options_.high_water_mark < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "high_water_mark ", options_.high_water_mark, " must be positive"));
    }
    if (!options_.curve_secret_key.empty()) {
      if (options_.curve_secret_key.size() != 40) {
        return absl::InvalidArgumentError(
            "CURVE secret key must be 40 Z85 characters");
      }
      uint8_t key[32];
      if (zmq_z85_decode(key, options_.curve_secret_key.c_str()) == nullptr) {
        return absl::InvalidArgumentError("CURVE secret key is not valid Z85");
      }
      for (const AllowedClient& client : options_.curve_allowed_clients) {
        if (!IsZ85Key(client.public_key) || client.roles.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("allowed client key \"", client.public_key,
                           "\" is not 40 Z85 characters with roles"));
        }
        zmq_z85_decode(key, client.public_key.c_str());
        allowed_clients_.insert_or_assign(
            std::string(reinterpret_cast<char*>(key), 32),
            ZapUserId(client.public_key, client.roles));
      }
    }
    ROUTING_RETURN_IF_ERROR(CheckCpusAllowed(options_.worker_cpus));
    ROUTING_RETURN_IF_ERROR(CheckCpusAllowed(options_.io_cpus));
    context_ = zmq_ctx_new();
    // One libzmq I/O thread: the machine's other cores go to our own threads.
    zmq_ctx_set(context_, ZMQ_IO_THREADS, 1);
    zmq_ctx_set(context_, ZMQ_BLOCKY, 0);
    // Before the first socket: libzmq starts its threads with it.
    bool io_thread_set =
        !options_.batch_io_thread ||
        zmq_ctx_set(context_, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH) == 0;
    for (int cpu : options_.io_cpus) {
      io_thread_set =
          io_thread_set &&
          zmq_ctx_set(context_, ZMQ_THREAD_AFFINITY_CPU_ADD, cpu) == 0;
    }
    if (!io_thread_set) {
      absl::Status error = ZmqError("setting up libzmq's I/O thread");
      zmq_ctx_term(context_);
      context_ = nullptr;
      return error;
    }

    absl::Status status = absl::OkStatus();
    if (!options_.curve_secret_key.empty()) {
      status = zap_.Start(context_, "zap", options_.io_cpus,
                          [this](void* pipe) { Zap(pipe); });
    }
    if (status.ok()) {
      status = publisher_.Start(context_, "publisher", options_.io_cpus,
                                [this](void* pipe) { Publisher(pipe); });
    }
    if (status.ok()) {
      status = reloader_.Start(context_, "rules-reload", options_.worker_cpus,
                               [this](void* pipe) { Reloader(pipe); });
    }
    // Workers before the frontend: each has connected to its queue (inproc
    // allows connecting before the bind) when the first request arrives, so
    // none is refused for want of a worker.
    for (int i = 0; status.ok() && i < options_.workers; ++i) {
      workers_.push_back(std::make_unique<Actor>());
      status = workers_.back()->Start(
          context_, absl::StrCat("worker-", i), options_.worker_cpus,
          [this, i](void* pipe) { Worker(pipe, i); });
    }
    if (status.ok()) {
      status = frontend_.Start(
          context_, "frontend",
          options_.workers == 0 ? options_.worker_cpus : options_.io_cpus,
          [this](void* pipe) { Frontend(pipe); });
    }
    if (status.ok()) {
      status = step_timer_.Start(context_, "step-timer", options_.worker_cpus,
                                 [this](void* pipe) { StepTimer(pipe); });
    }
    if (!status.ok()) Stop();
    return status;
  }

  void Stop() {
    if (context_ == nullptr) return;
    frontend_.Stop();  // Refuses new requests, answers those in flight.
    step_timer_.Stop();
    for (auto& worker : workers_) worker->Stop();
    workers_.clear();
    reloader_.Stop();   // After a compile under way, if any, has finished.
    publisher_.Stop();  // Flushes the events the workers left.
    zap_.Stop();
    zmq_ctx_term(context_);
    context_ = nullptr;
  }

 private:
  void Frontend(void* pipe);
  // Executes the requests of queue `index` (kRequestsEndpointPrefix), in
  // the order they arrive.
  void Worker(void* pipe, int index);
  void Publisher(void* pipe);
  void StepTimer(void* pipe);
  void Reloader(void* pipe);
  // The journal record the calling thread's request left and that is not
  // durable yet (StateJournal::TakeThreadSequence); 0 when there is none
  // (no journal, nothing recorded, or durable already: --fsync=always, or
  // a group written meanwhile), and the reply goes out at once.
  uint64_t PendingRecord() const {
    if (options_.journal == nullptr) return 0;
    const uint64_t sequence = StateJournal::TakeThreadSequence();
    if (sequence == 0 || options_.journal->IsDurable(sequence)) return 0;
    return sequence;
  }
  // A worker's or the reloader's reply whose record is not durable yet goes
  // to the frontend's held replies (kDurableEndpoint) and returns true; any
  // other returns false, for the caller to send.
  //
  // The frontend does not poll that queue: it drains it when settled_fd()
  // wakes it, once per write or sync rather than once per reply. A record
  // that settled between PendingRecord and the send may have woken the
  // frontend before the reply was queued, so the sender looks again after
  // the send and wakes the frontend itself (the writer publishes before it
  // signals; this thread sends before it looks: one of the two wakes the
  // frontend after the reply is in the queue).
  bool HoldUntilDurable(void* durable, Frames& reply) {
    const uint64_t sequence = PendingRecord();
    if (sequence == 0) return false;
    Frames held;
    held.Add(&sequence, sizeof(sequence));
    for (size_t f = 0; f < reply.size(); ++f) held.TakeFrom(reply, f);
    if (!held.Send(durable, 0)) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (options_.journal->IsSettled(sequence)) {
      options_.journal->SignalSettled();
    }
    return true;
  }
  // The frontend's: takes every held reply the workers and the reloader
  // sent (kDurableEndpoint) into `held`.
  void TakeHeldReplies(void* durable, HeldReplies& held);
  // The frontend's: sends `reply` once its record settled with `fate`: as
  // it is when durable, else as NOT_DURABLE (never a success that is not
  // durable).
  void SendSettledReply(void* router, const absl::Status& fate, Frames& reply,
                        flatbuffers::FlatBufferBuilder& fbb);
  void Zap(void* pipe);
  // Hands a ReloadRules request (all its frames) to the reloader and returns
  // true; its reply comes from there. While another reload runs, fills
  // `fbb` with a Busy reply instead and returns false.
  bool HandOverReload(void* reloads, Frames& request, RoleSet roles,
                      flatbuffers::FlatBufferBuilder& fbb);
  // Sends a reply to a client; counts one the client cannot receive.
  void SendToClient(void* router, Frames& reply) {
    if (!reply.Send(router, ZMQ_DONTWAIT)) {
      metrics_->unroutable_replies.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Answers `request` with an Error reply from the frontend, echoing its id
  // when the bounded header check can read it (request_id_unread if not).
  void RefuseRequest(void* router, Frames& request, size_t envelope_frames,
                     wire::ErrorCode code, const std::string& message);
  // ZMQ_MAXMSGSIZE: above it libzmq drops the connection unread.
  size_t HardMaxMessageBytes() const {
    return options_.hard_max_message_bytes != 0
               ? options_.hard_max_message_bytes
               : kHardMaxMessageFactor * options_.max_message_bytes;
  }
  // The roles of the client that sent `request`: from the ZAP User-Id libzmq
  // attached to its frames with CURVE, every role without.
  RoleSet RolesOf(const Frames& request) const {
    if (options_.curve_secret_key.empty()) return RoleSet::All();
    return RolesFromZapUserId(request.property(request.size() - 1, "User-Id"));
  }
  // With CURVE, a request goes to a worker with one more frame after the
  // payload: its roles' bits. The worker takes it off before anything else.
  void AddRolesFrame(Frames& request, RoleSet roles) const {
    if (options_.curve_secret_key.empty()) return;
    const uint8_t bits = roles.bits();
    request.Add(&bits, 1);
  }
  // Fills `reply` (empty) with the reply to `request`: its envelope (every
  // frame before the payload, moved out of it) and the answer in `fbb`.
  // Every reply the handler made passes here (frontend, workers, reloader),
  // so here it is counted by request type and error code.
  void BuildReply(Frames& request, const flatbuffers::FlatBufferBuilder& fbb,
                  Frames& reply) {
    const size_t payload = request.size() - 1;
    const int code = ReplyCodeOf(fbb);
    metrics_->RecordReply(
        RequestTypeOf(request.data(payload), request.size_of(payload), code),
        code);
    for (size_t f = 0; f < payload; ++f) reply.TakeFrom(request, f);
    reply.Add(fbb.GetBufferPointer(), fbb.GetSize());
  }
  RoleSet TakeRolesFrame(Frames& request) const {
    if (options_.curve_secret_key.empty()) return RoleSet::All();
    const size_t last = request.size() - 1;
    const RoleSet roles = request.size_of(last) == 1
                              ? RoleSet::FromBits(request.data(last)[0])
                              : RoleSet();
    request.RemoveLast();
    return roles;
  }

  RequestHandler* handler_;
  SidecarMetrics* metrics_;
  DaemonOptions options_;
  // Raw 32-byte key -> the ZAP User-Id naming the key and its roles.
  absl::flat_hash_map<std::string, std::string> allowed_clients_;
  void* context_ = nullptr;
  Actor zap_;
  Actor publisher_;
  Actor frontend_;
  Actor step_timer_;
  // Compiling and testing a rules file takes milliseconds to seconds: done
  // here, one at a time, never on a thread that answers routes.
  Actor reloader_;
  std::atomic<bool> reload_running_{false};
  // What the event subscribers listen to, kept by the publisher thread from
  // its XPUB socket's subscription messages.
  SubscriberInterest interest_;
  std::vector<std::unique_ptr<Actor>> workers_;
};

void Daemon::Impl::RefuseRequest(void* router, Frames& request,
                                 size_t envelope_frames, wire::ErrorCode code,
                                 const std::string& message) {
  // The id is echoed whenever the root table's id field can be read: an
  // O(1) bounded check, whatever the size or soundness of the rest.
  RequestHeader header;
  if (request.size() > envelope_frames) {
    const size_t last = request.size() - 1;
    std::vector<uint64_t> scratch;
    header = PeekRequestHeader(
        AlignedCopy(request.data(last), request.size_of(last), &scratch),
        request.size_of(last));
  }
  // A request type only for a sound-looking request; NONE otherwise.
  const bool typed = code != wire::ErrorCode::MalformedRequest &&
                     code != wire::ErrorCode::TooLarge;
  metrics_->RecordReply(typed ? header.body_type : 0, static_cast<int>(code));
  DecodedRequest refused;
  refused.request_id = header.request_id;
  refused.request_id_unread = !header.readable;
  refused.error = code;
  refused.message = message;
  flatbuffers::FlatBufferBuilder fbb(256);
  FinishErrorReply(fbb, refused);
  Frames reply;
  for (size_t i = 0; i < envelope_frames; ++i) reply.TakeFrom(request, i);
  reply.Add(fbb.GetBufferPointer(), fbb.GetSize());
  SendToClient(router, reply);
}

void Daemon::Impl::Frontend(void* pipe) {
  ZmqSocket router(zmq_socket(context_, ZMQ_ROUTER));
  // One PUSH per worker (a shared PUSH would deal requests round-robin, and
  // two requests about one contact could run at once on two workers).
  std::vector<ZmqSocket> to_workers;
  for (int i = 0; i < options_.workers; ++i) {
    to_workers.emplace_back(zmq_socket(context_, ZMQ_PUSH));
  }
  ZmqSocket from_workers(zmq_socket(context_, ZMQ_PULL));
  // Inproc queues hold at most the in-flight limit, so sends never block;
  // each worker's may hold all of it, should every request be about one
  // contact.
  const int inproc_hwm = options_.max_in_flight + kBatch;
  absl::Status status = router.SetInt(ZMQ_ROUTER_MANDATORY, 1);
  if (status.ok()) status = router.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
  if (status.ok()) status = router.SetInt(ZMQ_RCVHWM, options_.high_water_mark);
  if (status.ok()) {
    // Between max_message_bytes and this, a request is read and answered
    // TOO_LARGE with its id; above it libzmq drops the connection unread.
    status = router.SetInt64(ZMQ_MAXMSGSIZE,
                             static_cast<int64_t>(HardMaxMessageBytes()));
  }
  if (status.ok()) status = router.SetInt(ZMQ_LINGER, 0);
  if (status.ok()) status = ApplyCurve(router, options_);
  for (int i = 0; status.ok() && i < options_.workers; ++i) {
    status = to_workers[i].SetInt(ZMQ_SNDHWM, inproc_hwm);
    if (status.ok()) status = to_workers[i].SetInt(ZMQ_LINGER, 0);
    const std::string endpoint = absl::StrCat(kRequestsEndpointPrefix, i);
    if (status.ok() && zmq_bind(to_workers[i].get(), endpoint.c_str()) != 0) {
      status = ZmqError(absl::StrCat("binding ", endpoint));
    }
  }
  if (status.ok()) status = from_workers.SetInt(ZMQ_RCVHWM, inproc_hwm);
  if (status.ok() && zmq_bind(router.get(), options_.listen.c_str()) != 0) {
    status = absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options_.listen, ": ", zmq_strerror(zmq_errno())));
  }
  if (status.ok() && zmq_bind(from_workers.get(), kRepliesEndpoint) != 0) {
    status = ZmqError("binding the worker queues");
  }
  // With no workers the frontend executes requests itself, and publishes the
  // events they raise through its own socket.
  const bool inline_execution = options_.workers == 0;
  ZmqSocket events;
  ZmqSocket reloads;
  if (status.ok() && inline_execution) {
    events = ZmqSocket(zmq_socket(context_, ZMQ_PUSH));
    status = events.SetInt(ZMQ_LINGER, kCloseLingerMs);
    if (status.ok())
      status = events.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
    if (status.ok() && zmq_connect(events.get(), kEventsEndpoint) != 0) {
      status = ZmqError("connecting the frontend to the event queue");
    }
    // Reloads run on the reloader even here: a compile must not stall the
    // thread that reads every request.
    reloads = ZmqSocket(zmq_socket(context_, ZMQ_PUSH));
    if (status.ok()) status = reloads.SetInt(ZMQ_LINGER, 0);
    if (status.ok() && zmq_connect(reloads.get(), kReloadsEndpoint) != 0) {
      status = ZmqError("connecting the frontend to the rules reloader");
    }
  }
  // Replies waiting for their journal record: from the workers and the
  // reloader through `durable`, and this thread's own (inline execution);
  // taken and released when the journal's settled_fd() tells of a write or
  // sync (HoldUntilDurable).
  ZmqSocket durable;
  HeldReplies held;
  const int settled_fd =
      options_.journal != nullptr ? options_.journal->settled_fd() : -1;
  if (status.ok() && options_.journal != nullptr) {
    durable = ZmqSocket(zmq_socket(context_, ZMQ_PULL));
    status = durable.SetInt(ZMQ_LINGER, 0);
    if (status.ok()) status = durable.SetInt(ZMQ_RCVHWM, inproc_hwm);
    if (status.ok() && zmq_bind(durable.get(), kDurableEndpoint) != 0) {
      status = ZmqError("binding the durable replies queue");
    }
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;
  WorkerEventSink sink(events.get(), &interest_);
  ScopedEventSink scoped_sink(inline_execution ? &sink : nullptr);
  ScopedIdempotencyStore idempotency_keys;  // Inline requests' keys.
  flatbuffers::FlatBufferBuilder fbb(1024);

  bool accepting = true;
  absl::Time deadline = absl::InfiniteFuture();
  std::atomic<int>& in_flight = metrics_->in_flight;
  // A held reply whose record settled leaves flight, to its client.
  auto send_settled = [&](const absl::Status& fate, Frames& reply) {
    in_flight.fetch_sub(1, std::memory_order_relaxed);
    SendSettledReply(router.get(), fate, reply, fbb);
  };
  // Requests about no contact or agent (stats, health, lists, reloads) are
  // dealt to the workers in turn.
  size_t next_worker = 0;
  std::vector<uint64_t> scratch;
  while (true) {
    zmq_pollitem_t items[] = {{pipe, 0, ZMQ_POLLIN, 0},
                              {from_workers.get(), 0, ZMQ_POLLIN, 0},
                              {router.get(), 0, ZMQ_POLLIN, 0},
                              {nullptr, settled_fd, ZMQ_POLLIN, 0}};
    const long timeout_ms = accepting ? -1 : 10;
    const int polled = settled_fd >= 0 ? 4 : 3;
    if (zmq_poll(items, polled, timeout_ms) < 0 && zmq_errno() != EINTR) break;
    if (items[1].revents & ZMQ_POLLIN) {
      for (int i = 0; i < kBatch; ++i) {
        Frames reply;
        if (!reply.Receive(from_workers.get(), ZMQ_DONTWAIT)) break;
        in_flight.fetch_sub(1, std::memory_order_relaxed);
        SendToClient(router.get(), reply);
      }
    }
    if (items[2].revents & ZMQ_POLLIN) {
      for (int i = 0; i < kBatch; ++i) {
        Frames request;
        if (!request.Receive(router.get(), ZMQ_DONTWAIT)) break;
        // [identity, payload] from DEALER; [identity, "", payload] from REQ.
        const size_t count = request.received_count();
        const bool delimited = count >= 3 && request.size_of(1) == 0;
        const size_t envelope = delimited ? 2 : 1;
        if (count != envelope + 1) {
          metrics_->malformed_requests.fetch_add(1, std::memory_order_relaxed);
          RefuseRequest(router.get(), request,
                        std::min(envelope, request.size()),
                        wire::ErrorCode::MalformedRequest,
                        absl::StrCat("a request is one frame after the "
                                     "envelope; got ",
                                     count - envelope));
          continue;
        }
        if (!accepting) {
          RefuseRequest(router.get(), request, envelope,
                        wire::ErrorCode::ShuttingDown,
                        "routingd is shutting down; request not executed");
          continue;
        }
        const size_t last = request.size() - 1;
        if (request.size_of(last) > options_.max_message_bytes) {
          // Answered here, whoever would have executed it: never copied to
          // a worker, and the connection's other requests go on as usual.
          metrics_->requests.fetch_add(1, std::memory_order_relaxed);
          metrics_->malformed_requests.fetch_add(1, std::memory_order_relaxed);
          RefuseRequest(router.get(), request, envelope,
                        wire::ErrorCode::TooLarge,
                        absl::StrCat("request of ", request.size_of(last),
                                     " bytes exceeds the ",
                                     options_.max_message_bytes,
                                     "-byte limit (--max_message_bytes)"));
          continue;
        }
        if (in_flight.load(std::memory_order_relaxed) >=
            options_.max_in_flight) {
          metrics_->busy_rejections.fetch_add(1, std::memory_order_relaxed);
          RefuseRequest(router.get(), request, envelope, wire::ErrorCode::Busy,
                        absl::StrCat(options_.max_in_flight,
                                     " requests in flight; retry later"));
          continue;
        }
        const RoleSet roles = RolesOf(request);
        if (inline_execution) {
          if (!handler_->HandleUnlessReload(
                  request.data(last), request.size_of(last), fbb, roles) &&
              HandOverReload(reloads.get(), request, roles, fbb)) {
            // In flight until the reloader's reply comes back.
            in_flight.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          Frames reply;
          BuildReply(request, fbb, reply);
          if (const uint64_t sequence = PendingRecord(); sequence != 0) {
            // In flight until its record settles.
            in_flight.fetch_add(1, std::memory_order_relaxed);
            auto kept = std::make_unique<Frames>();
            for (size_t f = 0; f < reply.size(); ++f) kept->TakeFrom(reply, f);
            held.Hold(sequence, std::move(kept));
            continue;
          }
          SendToClient(router.get(), reply);
          continue;
        }
        const std::optional<size_t> keyed = WorkerFor(
            AffinityKeyOf(AlignedCopy(request.data(last),
                                      request.size_of(last), &scratch),
                          request.size_of(last)),
            to_workers.size());
        const size_t worker = keyed.value_or(next_worker);
        if (!keyed.has_value()) next_worker = (worker + 1) % to_workers.size();
        in_flight.fetch_add(1, std::memory_order_relaxed);
        AddRolesFrame(request, roles);
        if (!request.Send(to_workers[worker].get(), ZMQ_DONTWAIT)) {
          // Cannot happen while the inproc HWM exceeds the in-flight limit;
          // answered rather than lost if it ever does.
          (void)TakeRolesFrame(request);
          in_flight.fetch_sub(1, std::memory_order_relaxed);
          metrics_->busy_rejections.fetch_add(1, std::memory_order_relaxed);
          RefuseRequest(router.get(), request, envelope, wire::ErrorCode::Busy,
                        "the worker queue is full; retry later");
        }
      }
    }
    if (settled_fd >= 0 && (items[3].revents & ZMQ_POLLIN)) {
      // Drained before the queue and the fates are read: a write or sync
      // settled after this read, or a reply queued after its record
      // settled, makes it readable again.
      uint64_t settles = 0;
      (void)!::read(settled_fd, &settles, sizeof(settles));
      TakeHeldReplies(durable.get(), held);
    }
    if (settled_fd >= 0 && !held.empty()) {
      held.ReleaseSettled(
          [this](uint64_t sequence) {
            return options_.journal->Outcome(sequence);
          },
          send_settled);
    }
    if ((items[0].revents & ZMQ_POLLIN) && IsTerminate(pipe)) {
      accepting = false;
      deadline = absl::Now() + options_.shutdown_grace;
      // The endpoint stays bound: unbinding would drop the connections whose
      // replies are still in flight. From here every new request, on any
      // connection, is refused with SHUTTING_DOWN above.
    }
    if (!accepting && (in_flight.load(std::memory_order_relaxed) == 0 ||
                       absl::Now() > deadline)) {
      // Refuse whatever arrived meanwhile, until the connections have been
      // quiet for a moment (requests still on the wire when SIGTERM came),
      // then close with time to flush the replies.
      const absl::Time last_call = absl::Now() + options_.shutdown_grace;
      while (absl::Now() < last_call) {
        zmq_pollitem_t item = {router.get(), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, kQuietMs) <= 0) break;
        Frames request;
        if (!request.Receive(router.get(), ZMQ_DONTWAIT)) continue;
        const bool delimited =
            request.received_count() >= 3 && request.size_of(1) == 0;
        RefuseRequest(router.get(), request, delimited ? 2 : 1,
                      wire::ErrorCode::ShuttingDown,
                      "routingd is shutting down; request not executed");
      }
      break;
    }
  }
  if (settled_fd >= 0) {
    // Replies held past the grace period still go out, once their records
    // settle (one sync at most), rather than never.
    TakeHeldReplies(durable.get(), held);
    held.ReleaseAll(
        [this](uint64_t sequence) {
          return options_.journal->WaitDurable(sequence);
        },
        send_settled);
  }
  (void)router.SetInt(ZMQ_LINGER, kCloseLingerMs);
}

void Daemon::Impl::TakeHeldReplies(void* durable, HeldReplies& held) {
  // All of them: nothing wakes this thread for the rest (at most the
  // requests in flight).
  while (true) {
    Frames message;
    if (!message.Receive(durable, ZMQ_DONTWAIT)) break;
    uint64_t sequence = 0;
    if (message.size() < 2 || message.size_of(0) != sizeof(sequence)) continue;
    std::memcpy(&sequence, message.data(0), sizeof(sequence));
    auto reply = std::make_unique<Frames>();
    for (size_t f = 1; f < message.size(); ++f) reply->TakeFrom(message, f);
    held.Hold(sequence, std::move(reply));
  }
}

void Daemon::Impl::SendSettledReply(void* router, const absl::Status& fate,
                                    Frames& reply,
                                    flatbuffers::FlatBufferBuilder& fbb) {
  if (fate.ok()) {
    SendToClient(router, reply);
    return;
  }
  // Never a success that is not durable.
  Frames refused;
  const size_t last = reply.size() - 1;
  for (size_t f = 0; f < last; ++f) refused.TakeFrom(reply, f);
  const wire::Reply* original =
      flatbuffers::GetRoot<wire::Reply>(reply.data(last));
  fbb.Clear();
  FinishErrorReply(
      fbb, original->request_id(), wire::ErrorCode::NotDurable,
      absl::StrCat("executed, but its journal record could not be made "
                   "durable (",
                   fate.message(), "); the outcome is unknown"));
  metrics_->journal_not_durable.fetch_add(1, std::memory_order_relaxed);
  refused.Add(fbb.GetBufferPointer(), fbb.GetSize());
  SendToClient(router, refused);
}

void Daemon::Impl::Worker(void* pipe, int index) {
  ZmqSocket requests(zmq_socket(context_, ZMQ_PULL));
  ZmqSocket replies(zmq_socket(context_, ZMQ_PUSH));
  ZmqSocket events(zmq_socket(context_, ZMQ_PUSH));
  ZmqSocket reloads(zmq_socket(context_, ZMQ_PUSH));
  absl::Status status = requests.SetInt(ZMQ_LINGER, 0);
  if (status.ok()) status = replies.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = events.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = events.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
  if (status.ok()) status = reloads.SetInt(ZMQ_LINGER, 0);
  const std::string requests_endpoint =
      absl::StrCat(kRequestsEndpointPrefix, index);
  if (status.ok() && (zmq_connect(requests.get(), requests_endpoint.c_str()) != 0 ||
                      zmq_connect(replies.get(), kRepliesEndpoint) != 0 ||
                      zmq_connect(events.get(), kEventsEndpoint) != 0 ||
                      zmq_connect(reloads.get(), kReloadsEndpoint) != 0)) {
    status = ZmqError("connecting a worker");
  }
  ZmqSocket durable;
  if (status.ok() && options_.journal != nullptr) {
    durable = ZmqSocket(zmq_socket(context_, ZMQ_PUSH));
    status = durable.SetInt(ZMQ_LINGER, kCloseLingerMs);
    if (status.ok() && zmq_connect(durable.get(), kDurableEndpoint) != 0) {
      status = ZmqError("connecting a worker to the durable replies");
    }
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;

  WorkerEventSink sink(events.get(), &interest_);
  ScopedEventSink scoped_sink(&sink);
  ScopedIdempotencyStore idempotency_keys;  // This worker's requests' keys.
  flatbuffers::FlatBufferBuilder fbb(1024);
  while (true) {
    zmq_pollitem_t items[] = {{pipe, 0, ZMQ_POLLIN, 0},
                              {requests.get(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR) break;
    if (items[1].revents & ZMQ_POLLIN) {
      for (int i = 0; i < kBatch; ++i) {
        Frames request;
        if (!request.Receive(requests.get(), ZMQ_DONTWAIT)) break;
        const RoleSet roles = TakeRolesFrame(request);
        const size_t last = request.size() - 1;
        if (!handler_->HandleUnlessReload(request.data(last),
                                          request.size_of(last), fbb, roles) &&
            HandOverReload(reloads.get(), request, roles, fbb)) {
          continue;  // The reloader answers it.
        }
        Frames reply;
        BuildReply(request, fbb, reply);
        if (!HoldUntilDurable(durable.get(), reply)) {
          reply.Send(replies.get(), 0);
        }
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) && IsTerminate(pipe)) break;
  }
}

void Daemon::Impl::StepTimer(void* pipe) {
  ZmqSocket events(zmq_socket(context_, ZMQ_PUSH));
  absl::Status status = events.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = events.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
  if (status.ok() && zmq_connect(events.get(), kEventsEndpoint) != 0) {
    status = ZmqError("connecting the step timer");
  }
  if (status.ok() && options_.step_interval <= absl::ZeroDuration()) {
    status = absl::InvalidArgumentError("step_interval must be positive");
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;

  WorkerEventSink sink(events.get(), &interest_);
  ScopedEventSink scoped_sink(&sink);
  const long interval_ms =
      std::max<long>(1, absl::ToInt64Milliseconds(options_.step_interval));
  while (true) {
    zmq_pollitem_t item = {pipe, 0, ZMQ_POLLIN, 0};
    const int ready = zmq_poll(&item, 1, interval_ms);
    if (ready < 0 && zmq_errno() != EINTR) break;
    if ((item.revents & ZMQ_POLLIN) && IsTerminate(pipe)) break;
    handler_->AdvanceQueues();
    // One health read of the rules in force: publishes rules/suspended once
    // their breaker has tripped. Never on a decision's path.
    handler_->WatchRules();
  }
}

bool Daemon::Impl::HandOverReload(void* reloads, Frames& request, RoleSet roles,
                                  flatbuffers::FlatBufferBuilder& fbb) {
  const size_t last = request.size() - 1;
  // One reload at a time: a second one is answered at once rather than
  // queued behind a compile whose length nobody knows in advance.
  if (reload_running_.exchange(true, std::memory_order_acq_rel)) {
    handler_->RefuseReload(request.data(last), request.size_of(last),
                           "another rules reload is still compiling; retry "
                           "once it has been answered",
                           fbb);
    return false;
  }
  AddRolesFrame(request, roles);
  // The reloader's queue holds one request at most (the flag above), so this
  // never blocks; answered rather than lost if it ever fails.
  if (!request.Send(reloads, ZMQ_DONTWAIT)) {
    (void)TakeRolesFrame(request);
    reload_running_.store(false, std::memory_order_release);
    handler_->RefuseReload(request.data(last), request.size_of(last),
                           "the rules reloader is not accepting requests", fbb);
    return false;
  }
  return true;
}

void Daemon::Impl::Reloader(void* pipe) {
  ZmqSocket reloads(zmq_socket(context_, ZMQ_PULL));
  ZmqSocket replies(zmq_socket(context_, ZMQ_PUSH));
  ZmqSocket events(zmq_socket(context_, ZMQ_PUSH));
  absl::Status status = reloads.SetInt(ZMQ_LINGER, 0);
  if (status.ok()) status = replies.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = events.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = events.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
  if (status.ok() && zmq_bind(reloads.get(), kReloadsEndpoint) != 0) {
    status = ZmqError("binding the rules reload queue");
  }
  if (status.ok() && (zmq_connect(replies.get(), kRepliesEndpoint) != 0 ||
                      zmq_connect(events.get(), kEventsEndpoint) != 0)) {
    status = ZmqError("connecting the rules reloader");
  }
  ZmqSocket durable;
  if (status.ok() && options_.journal != nullptr) {
    durable = ZmqSocket(zmq_socket(context_, ZMQ_PUSH));
    status = durable.SetInt(ZMQ_LINGER, kCloseLingerMs);
    if (status.ok() && zmq_connect(durable.get(), kDurableEndpoint) != 0) {
      status = ZmqError("connecting the rules reloader to the durable replies");
    }
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;

  WorkerEventSink sink(events.get(), &interest_);
  ScopedEventSink scoped_sink(&sink);
  flatbuffers::FlatBufferBuilder fbb(1024);
  while (true) {
    zmq_pollitem_t items[] = {{pipe, 0, ZMQ_POLLIN, 0},
                              {reloads.get(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR) break;
    if (items[1].revents & ZMQ_POLLIN) {
      Frames request;
      if (request.Receive(reloads.get(), ZMQ_DONTWAIT)) {
        const RoleSet roles = TakeRolesFrame(request);
        const size_t last = request.size() - 1;
        handler_->Handle(request.data(last), request.size_of(last), fbb, roles);
        Frames reply;
        BuildReply(request, fbb, reply);
        // Free before the reply leaves: a client that sends its next reload
        // as soon as it hears back is never told Busy by this one.
        reload_running_.store(false, std::memory_order_release);
        // Through the frontend, which counts it answered. Non-blocking: after
        // a shutdown that outlasted the grace period nobody reads replies.
        if (!HoldUntilDurable(durable.get(), reply)) {
          reply.Send(replies.get(), ZMQ_DONTWAIT);
        }
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) && IsTerminate(pipe)) break;
  }
}

void Daemon::Impl::Publisher(void* pipe) {
  // XPUB: a PUB that also hands this thread every subscription made and
  // dropped, so the threads raising events build only wanted ones.
  ZmqSocket publisher(zmq_socket(context_, ZMQ_XPUB));
  ZmqSocket events(zmq_socket(context_, ZMQ_PULL));
  absl::Status status = publisher.SetInt(ZMQ_SNDHWM, options_.high_water_mark);
  if (status.ok()) status = publisher.SetInt(ZMQ_LINGER, kCloseLingerMs);
  if (status.ok()) status = ApplyCurve(publisher, options_);
  if (status.ok()) status = events.SetInt(ZMQ_RCVHWM, options_.high_water_mark);
  if (status.ok() && zmq_bind(publisher.get(), options_.events.c_str()) != 0) {
    status = absl::UnavailableError(absl::StrCat("cannot publish on ",
                                                 options_.events, ": ",
                                                 zmq_strerror(zmq_errno())));
  }
  if (status.ok() && zmq_bind(events.get(), kEventsEndpoint) != 0) {
    status = ZmqError("binding the event queue");
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;

  // Numbers each event on its topic and family as it leaves: this thread
  // alone sends, so the numbers are gap-free and in publish order.
  EventSequencer sequencer;
  auto forward = [&](int flags) {
    Frames event;
    if (!event.Receive(events.get(), flags)) return false;
    // [topic, Event], as WorkerEventSink sends them. The message is this
    // thread's own copy, so its bytes are patched in place. A buffer the
    // sequencer refuses (never one of our encoder's) leaves with its
    // sequences at 0.
    if (event.size() == 2) {
      (void)sequencer.Stamp(event.text(0), const_cast<uint8_t*>(event.data(1)),
                            event.size_of(1));
    }
    // PUB never blocks: a subscriber past its HWM misses events (ZeroMQ's
    // slow-subscriber rule); the sequence numbers show it the gap.
    if (event.Send(publisher.get(), 0)) {
      metrics_->events_published.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  };
  auto note_subscriptions = [&] {
    for (int i = 0; i < kBatch; ++i) {
      Frames subscription;
      if (!subscription.Receive(publisher.get(), ZMQ_DONTWAIT)) break;
      if (subscription.size() == 1) {
        interest_.Apply(subscription.data(0), subscription.size_of(0));
      }
    }
  };
  while (true) {
    zmq_pollitem_t items[] = {{pipe, 0, ZMQ_POLLIN, 0},
                              {events.get(), 0, ZMQ_POLLIN, 0},
                              {publisher.get(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 3, -1) < 0 && zmq_errno() != EINTR) break;
    if (items[2].revents & ZMQ_POLLIN) note_subscriptions();
    if (items[1].revents & ZMQ_POLLIN) {
      for (int i = 0; i < kBatch && forward(ZMQ_DONTWAIT); ++i) {
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) && IsTerminate(pipe)) {
      // The workers have stopped: what is queued is every event left.
      while (forward(ZMQ_DONTWAIT)) {
      }
      break;
    }
  }
}

// ZAP (RFC 27): libzmq asks, for every CURVE handshake, whether the client's
// public key may connect.
void Daemon::Impl::Zap(void* pipe) {
  ZmqSocket handler(zmq_socket(context_, ZMQ_REP));
  absl::Status status = handler.SetInt(ZMQ_LINGER, 0);
  if (status.ok() && zmq_bind(handler.get(), kZapEndpoint) != 0) {
    status = ZmqError("binding the ZAP handler");
  }
  SignalReady(pipe, status);
  if (!status.ok()) return;
  while (true) {
    zmq_pollitem_t items[] = {{pipe, 0, ZMQ_POLLIN, 0},
                              {handler.get(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR) break;
    if (items[1].revents & ZMQ_POLLIN) {
      Frames request;
      if (!request.Receive(handler.get(), 0)) continue;
      // version, request id, domain, address, identity, mechanism, key.
      bool allowed = request.size() >= 7 && request.text(0) == "1.0" &&
                     request.text(5) == "CURVE" && request.size_of(6) == 32;
      // libzmq attaches the User-Id to every message of the connection:
      // how the frontend learns a request's roles (RolesOf).
      std::string user_id;
      if (allowed && !allowed_clients_.empty()) {
        auto client = allowed_clients_.find(
            absl::string_view(request.text(6).data(), request.size_of(6)));
        allowed = client != allowed_clients_.end();
        if (allowed) user_id = client->second;
      } else if (allowed) {
        char z85[41];
        zmq_z85_encode(z85, request.data(6), 32);
        user_id = ZapUserId(z85, RoleSet::All());
      }
      Frames reply;
      reply.Add("1.0");
      if (request.size() >= 2) {
        reply.TakeFrom(request, 1);
      } else {
        reply.Add("");
      }
      reply.Add(allowed ? "200" : "400");
      reply.Add(allowed ? "OK" : "client key not allowed");
      reply.Add(user_id);
      reply.Add("");  // Metadata.
      reply.Send(handler.get(), 0);
    }
    if ((items[0].revents & ZMQ_POLLIN) && IsTerminate(pipe)) break;
  }
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() { Stop(); }
void Daemon::Stop() {
  if (impl_ != nullptr) impl_->Stop();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(
    RequestHandler* handler, SidecarMetrics* metrics,
    const DaemonOptions& options) {
  auto impl = std::make_unique<Impl>(handler, metrics, options);
  ROUTING_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

}  // namespace routing::sidecar
