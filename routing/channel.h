// File: routing/channel.h
//
// The media channels a contact arrives on. Capacity, load and queue statistics
// are kept per channel because an agent can hold one voice call but several
// chats.
//
//   routing::Channel c;
//   if (!routing::ParseChannel("chat", &c)) { /* unknown channel name */ }
//   std::cout << routing::ChannelName(c);   // "chat"
#ifndef ROUTING_CHANNEL_H_
#define ROUTING_CHANNEL_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace routing {

enum class Channel : uint8_t {
  kVoice = 0,
  kChat = 1,
  kEmail = 2,
  kMessaging = 3,  // SMS, WhatsApp and other asynchronous messaging.
  kCallback = 4,   // A virtual-hold callback: the customer waits off-line.
  kVideo = 5,
};

inline constexpr int kChannelCount = 6;

inline constexpr std::array<Channel, kChannelCount> kAllChannels = {
    Channel::kVoice,     Channel::kChat,     Channel::kEmail,
    Channel::kMessaging, Channel::kCallback, Channel::kVideo};

// Lower-case name: "voice", "chat", "email", "messaging", "callback", "video".
std::string_view ChannelName(Channel channel);

// Parses a name produced by ChannelName. Returns false for anything else.
bool ParseChannel(std::string_view name, Channel* channel);

inline constexpr int ChannelIndex(Channel channel) {
  return static_cast<int>(channel);
}

}  // namespace routing

#endif  // ROUTING_CHANNEL_H_
