// File: sidecar/zmq_frames.h
//
// Small RAII pieces over libzmq's C API, shared by routingd, its C++ client
// and the load generator: an owned socket, and a multipart message received or
// sent whole. ZeroMQ delivers a multipart message atomically, so Receive
// either gets every frame or none.
//
//   ZmqSocket socket(zmq_socket(ctx, ZMQ_DEALER));
//   Frames request;
//   request.Add(bytes, size);
//   if (!request.Send(socket.get(), 0)) ... errno says why
//
// Thread-safety: like ZeroMQ sockets, each object belongs to one thread.
#ifndef SIDECAR_ZMQ_FRAMES_H_
#define SIDECAR_ZMQ_FRAMES_H_

#include <zmq.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace routing::sidecar {

class ZmqSocket {
 public:
  ZmqSocket() = default;
  explicit ZmqSocket(void* socket) : socket_(socket) {}
  ~ZmqSocket() { Close(); }
  ZmqSocket(ZmqSocket&& other) noexcept : socket_(other.socket_) {
    other.socket_ = nullptr;
  }
  ZmqSocket& operator=(ZmqSocket&& other) noexcept;
  ZmqSocket(const ZmqSocket&) = delete;
  ZmqSocket& operator=(const ZmqSocket&) = delete;

  void* get() const { return socket_; }
  void Close();
  // Integer socket option; InternalError naming the option on failure.
  absl::Status SetInt(int option, int value);
  absl::Status SetInt64(int option, int64_t value);
  absl::Status SetBytes(int option, std::string_view value);

 private:
  void* socket_ = nullptr;
};

// The last libzmq error as a Status naming `what`.
absl::Status ZmqError(std::string_view what);

class Frames {
 public:
  // More frames than this in one message are received and counted, but only
  // the first kMaxFrames kept; no legal message of the protocol has more.
  static constexpr size_t kMaxFrames = 8;

  Frames() = default;
  ~Frames() { Clear(); }
  Frames(const Frames&) = delete;
  Frames& operator=(const Frames&) = delete;

  // Receives one whole message. False on error with errno set (EAGAIN with
  // ZMQ_DONTWAIT and nothing waiting; ETERM when the context ends).
  bool Receive(void* socket, int flags);
  // Sends every frame, then clears. False if the first frame could not be
  // sent (errno set; e.g. EHOSTUNREACH on a ROUTER with ROUTER_MANDATORY,
  // EAGAIN at the high-water mark); the frames are then kept unchanged.
  bool Send(void* socket, int flags);

  void Add(const void* data, size_t size);
  void Add(std::string_view text) { Add(text.data(), text.size()); }
  // Moves frame `index` of `other` to the end of this message.
  void TakeFrom(Frames& other, size_t index);
  void Clear();

  size_t size() const { return count_; }
  // Frames received beyond kMaxFrames are dropped; this counts all of them.
  size_t received_count() const { return received_; }
  const uint8_t* data(size_t i) const;
  size_t size_of(size_t i) const;
  std::string_view text(size_t i) const;
  // Metadata property `name` of frame i as libzmq attached it to a received
  // frame ("User-Id" from the ZAP handler, "Peer-Address", ...); empty when
  // the frame has none.
  std::string_view property(size_t i, const char* name) const;
  // Closes the last frame and removes it from the message.
  void RemoveLast();

 private:
  zmq_msg_t frames_[kMaxFrames];
  size_t count_ = 0;
  size_t received_ = 0;
};

}  // namespace routing::sidecar

#endif  // SIDECAR_ZMQ_FRAMES_H_
