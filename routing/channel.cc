#include "routing/channel.h"

namespace routing {

namespace {
constexpr std::array<std::string_view, kChannelCount> kChannelNames = {
    "voice", "chat", "email", "messaging", "callback", "video"};
}  // namespace

std::string_view ChannelName(Channel channel) {
  const int index = ChannelIndex(channel);
  if (index < 0 || index >= kChannelCount) return "unknown";
  return kChannelNames[index];
}

bool ParseChannel(std::string_view name, Channel* channel) {
  for (int i = 0; i < kChannelCount; ++i) {
    if (kChannelNames[i] == name) {
      *channel = kAllChannels[i];
      return true;
    }
  }
  return false;
}

}  // namespace routing
