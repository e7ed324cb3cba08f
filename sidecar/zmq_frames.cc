#include "sidecar/zmq_frames.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace routing::sidecar {

ZmqSocket& ZmqSocket::operator=(ZmqSocket&& other) noexcept {
  if (this != &other) {
    Close();
    socket_ = other.socket_;
    other.socket_ = nullptr;
  }
  return *this;
}

void ZmqSocket::Close() {
  if (socket_ != nullptr) zmq_close(socket_);
  socket_ = nullptr;
}

absl::Status ZmqSocket::SetInt(int option, int value) {
  if (zmq_setsockopt(socket_, option, &value, sizeof(value)) != 0) {
    return ZmqError(absl::StrCat("setting socket option ", option));
  }
  return absl::OkStatus();
}

absl::Status ZmqSocket::SetInt64(int option, int64_t value) {
  if (zmq_setsockopt(socket_, option, &value, sizeof(value)) != 0) {
    return ZmqError(absl::StrCat("setting socket option ", option));
  }
  return absl::OkStatus();
}

absl::Status ZmqSocket::SetBytes(int option, std::string_view value) {
  if (zmq_setsockopt(socket_, option, value.data(), value.size()) != 0) {
    return ZmqError(absl::StrCat("setting socket option ", option));
  }
  return absl::OkStatus();
}

absl::Status ZmqError(std::string_view what) {
  return absl::InternalError(
      absl::StrCat(std::string(what), ": ", zmq_strerror(zmq_errno())));
}

bool Frames::Receive(void* socket, int flags) {
  Clear();
  while (true) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    // Only the first frame may fail with EAGAIN; the rest are already here.
    if (zmq_msg_recv(&msg, socket, received_ == 0 ? flags : 0) < 0) {
      const int error = errno;
      zmq_msg_close(&msg);
      Clear();
      errno = error;
      return false;
    }
    const bool more = zmq_msg_more(&msg);
    ++received_;
    if (count_ < kMaxFrames) {
      frames_[count_++] = msg;
    } else {
      zmq_msg_close(&msg);
    }
    if (!more) return true;
  }
}

bool Frames::Send(void* socket, int flags) {
  bool ok = true;
  size_t sent = 0;
  for (; sent < count_; ++sent) {
    const int more = sent + 1 < count_ ? ZMQ_SNDMORE : 0;
    if (zmq_msg_send(&frames_[sent], socket, flags | more) < 0) {
      ok = false;
      break;
    }
  }
  const int error = errno;
  if (!ok && sent == 0) {
    // Nothing left: the message is intact, for the caller to answer or drop.
    errno = error;
    return false;
  }
  // zmq_msg_send took ownership of the frames it sent.
  for (size_t i = sent; i < count_; ++i) zmq_msg_close(&frames_[i]);
  count_ = 0;
  received_ = 0;
  if (!ok) errno = error;
  return ok;
}

void Frames::Add(const void* data, size_t size) {
  if (count_ == kMaxFrames) return;
  zmq_msg_init_size(&frames_[count_], size);
  if (size > 0) std::memcpy(zmq_msg_data(&frames_[count_]), data, size);
  ++count_;
}

void Frames::TakeFrom(Frames& other, size_t index) {
  if (count_ == kMaxFrames || index >= other.count_) return;
  zmq_msg_init(&frames_[count_]);
  zmq_msg_move(&frames_[count_], &other.frames_[index]);
  ++count_;
}

void Frames::Clear() {
  for (size_t i = 0; i < count_; ++i) zmq_msg_close(&frames_[i]);
  count_ = 0;
  received_ = 0;
}

const uint8_t* Frames::data(size_t i) const {
  return static_cast<const uint8_t*>(
      zmq_msg_data(const_cast<zmq_msg_t*>(&frames_[i])));
}

size_t Frames::size_of(size_t i) const { return zmq_msg_size(&frames_[i]); }

std::string_view Frames::text(size_t i) const {
  return std::string_view(reinterpret_cast<const char*>(data(i)), size_of(i));
}

std::string_view Frames::property(size_t i, const char* name) const {
  const char* value = zmq_msg_gets(&frames_[i], name);
  return value == nullptr ? std::string_view() : std::string_view(value);
}

void Frames::RemoveLast() {
  if (count_ == 0) return;
  zmq_msg_close(&frames_[--count_]);
}

}  // namespace routing::sidecar
