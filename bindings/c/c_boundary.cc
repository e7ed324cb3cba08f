#include "bindings/c/c_boundary.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace routing::c_api {
namespace {

// Per-thread, so concurrent calls never see each other's messages. The
// string keeps its capacity, so recording a success does not free memory.
thread_local std::string last_error;

// routing.h's codes are absl's numbers: every absl code has its C twin.
routing_status_t FromAbslCode(absl::StatusCode code) {
  const int number = static_cast<int>(code);
  if (number >= ROUTING_OK && number <= ROUTING_UNAUTHENTICATED) {
    return static_cast<routing_status_t>(number);
  }
  return ROUTING_UNKNOWN;
}

}  // namespace

routing_status_t Record(const char* function, const absl::Status& status) {
  if (status.ok()) {
    last_error.clear();
    return ROUTING_OK;
  }
  routing_status_t code = FromAbslCode(status.code());
  if (code == ROUTING_INTERNAL) {
    // Keep the original code's name: it is the first clue in a bug report.
    last_error = absl::StrCat(function, ": ", status.ToString());
  } else {
    last_error = absl::StrCat(function, ": ", status.message());
  }
  return code;
}

routing_status_t RecordFailure(const char* function, routing_status_t code,
                               std::string_view message) {
  try {
    last_error.assign(function);
    last_error.append(": ");
    last_error.append(message.data(), message.size());
  } catch (...) {
    // No memory even for the message: leave the code to speak for itself.
    last_error.clear();
  }
  return code;
}

const char* LastError() { return last_error.c_str(); }

absl::Status RequireNonNull(const void* pointer, const char* field) {
  if (pointer == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is NULL"));
  }
  return absl::OkStatus();
}

size_t FirstInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = bytes[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    uint32_t min_code_point;
    if ((b & 0xE0) == 0xC0) {
      length = 2;
      code_point = b & 0x1F;
      min_code_point = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      length = 3;
      code_point = b & 0x0F;
      min_code_point = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      length = 4;
      code_point = b & 0x07;
      min_code_point = 0x10000;
    } else {
      return i;  // A continuation byte without a lead, or 0xF8..0xFF.
    }
    if (n - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
      code_point = (code_point << 6) | (bytes[i + k] & 0x3F);
    }
    if (code_point < min_code_point || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

absl::StatusOr<std::string> TextArgument(const char* text, const char* field) {
  if (text == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is NULL"));
  }
  std::string_view view(text);
  size_t bad = FirstInvalidUtf8(view);
  if (bad != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is not valid UTF-8 (byte ", bad, " of ", view.size(), ")"));
  }
  return std::string(view);
}

absl::StatusOr<std::string> TextArgument(const char* text, const char* field,
                                         size_t max_bytes) {
  if (text != nullptr) {
    const size_t size = std::strlen(text);
    if (size > max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " is ", size, " bytes long; at most ", max_bytes));
    }
  }
  return TextArgument(text, field);
}

absl::Status RequireEnum(int value, int count, const char* field) {
  if (value < 0 || value >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", value, " is out of range (0..", count - 1, ")"));
  }
  return absl::OkStatus();
}

}  // namespace routing::c_api
