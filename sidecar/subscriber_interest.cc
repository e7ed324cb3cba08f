#include "sidecar/subscriber_interest.h"

#include <algorithm>

namespace routing::sidecar {
namespace {

constexpr std::string_view kFamilyNames[kTopicFamilyCount] = {
    "contact/", "queue/", "agent/", "rules/"};

// Could a subscription to `prefix` match some topic of the family `name`?
bool Matches(std::string_view prefix, std::string_view name) {
  const size_t n = std::min(prefix.size(), name.size());
  return prefix.substr(0, n) == name.substr(0, n);
}

}  // namespace

void SubscriberInterest::Subscribe(std::string_view prefix) {
  ++prefixes_[std::string(prefix)];
  Recompute();
}

void SubscriberInterest::Unsubscribe(std::string_view prefix) {
  auto it = prefixes_.find(std::string(prefix));
  if (it == prefixes_.end()) return;
  if (--it->second <= 0) prefixes_.erase(it);
  Recompute();
}

bool SubscriberInterest::Apply(const uint8_t* message, size_t size) {
  if (size == 0 || message[0] > 1) return false;
  const std::string_view prefix(reinterpret_cast<const char*>(message) + 1,
                                size - 1);
  if (message[0] == 1) {
    Subscribe(prefix);
  } else {
    Unsubscribe(prefix);
  }
  return true;
}

void SubscriberInterest::Recompute() {
  uint32_t families = 0;
  for (const auto& [prefix, count] : prefixes_) {
    for (int f = 0; f < kTopicFamilyCount; ++f) {
      if (Matches(prefix, kFamilyNames[f])) families |= uint32_t{1} << f;
    }
  }
  families_.store(families, std::memory_order_relaxed);
}

}  // namespace routing::sidecar
