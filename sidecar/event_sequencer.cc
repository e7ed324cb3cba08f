#include "sidecar/event_sequencer.h"

#include <cstring>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flatbuffers/flatbuffers.h"
#include "sidecar/request_decoder.h"
#include "sidecar/routing_generated.h"

namespace routing::sidecar {
namespace {

// The event ends its contact's life: its topic's counter can go.
bool EndsContact(const wire::Event& event) {
  const wire::ContactChanged* changed = event.body_as_ContactChanged();
  return changed != nullptr &&
         (changed->change() == wire::ContactChange::Cancelled ||
          changed->change() == wire::ContactChange::Released);
}

// The topic in a message, its NUL and any other byte escaped.
std::string Printable(std::string_view topic) {
  return absl::CHexEscape(absl::string_view(topic.data(), topic.size()));
}

}  // namespace

absl::Status EventSequencer::Stamp(std::string_view topic, uint8_t* data,
                                   size_t size) {
  TopicFamily family;
  if (!FamilyOf(topic, &family)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event topic \"", Printable(topic),
                     "\" is of no family (contact/, queue/, agent/, rules/)"));
  }
  // FlatBuffers reads and writes scalars in place: work on an aligned copy
  // when the message's bytes are not 8-byte aligned.
  const bool aligned = reinterpret_cast<uintptr_t>(data) % 8 == 0;
  uint8_t* buffer =
      aligned ? data : const_cast<uint8_t*>(AlignedCopy(data, size, &scratch_));
  flatbuffers::Verifier verifier(buffer, size);
  if (!verifier.VerifyBuffer<wire::Event>(kFileIdentifier)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event on \"", Printable(topic), "\" (", size,
                     " bytes) is not a valid Event buffer"));
  }
  wire::Event* event = flatbuffers::GetMutableRoot<wire::Event>(buffer);
  auto [counter, inserted] =
      topics_.try_emplace(absl::string_view(topic.data(), topic.size()), 0);
  const uint64_t topic_sequence = counter->second + 1;
  const uint64_t family_sequence = families_[static_cast<int>(family)] + 1;
  if (!event->mutate_topic_sequence(topic_sequence) ||
      !event->mutate_family_sequence(family_sequence)) {
    if (inserted) topics_.erase(counter);
    // The first mutate may have written: put back what was there.
    event->mutate_topic_sequence(0);
    return absl::InvalidArgumentError(absl::StrCat(
        "event on \"", Printable(topic),
        "\" lacks topic_sequence or family_sequence (the encoder must always "
        "write them)"));
  }
  counter->second = topic_sequence;
  families_[static_cast<int>(family)] = family_sequence;
  if (family == TopicFamily::kContact && EndsContact(*event)) {
    topics_.erase(counter);
  }
  if (!aligned) std::memcpy(data, buffer, size);
  return absl::OkStatus();
}

}  // namespace routing::sidecar
