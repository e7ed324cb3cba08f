#include "journal/record_framing.h"

#include <algorithm>
#include <cstring>

#include "isa-l/crc.h"
#include "journal/little_endian.h"

namespace journal {
namespace {

uint32_t ExtendCrc(uint32_t state, std::string_view data) {
  return crc32_iscsi(
      reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
      static_cast<int>(data.size()), state);
}

uint32_t FrameCrc(std::string_view length_bytes, std::string_view body) {
  // ISA-L's crc32_iscsi keeps the state un-inverted: start at ~0, invert
  // at the end, for the standard CRC32C.
  return ExtendCrc(ExtendCrc(0xFFFFFFFFu, length_bytes), body) ^ 0xFFFFFFFFu;
}

// `length_field`: the body's length, with kGroupFrameFlag for a group.
void AppendFrameWithLength(uint32_t length_field, std::string_view body,
                           std::string* out) {
  char header[kFrameHeaderBytes];
  StoreLittle32(header, length_field);
  StoreLittle32(header + 4, FrameCrc(std::string_view(header, 4), body));
  out->append(header, sizeof header);
  out->append(body.data(), body.size());
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  return ExtendCrc(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}

void AppendFrame(std::string_view body, std::string* out) {
  AppendFrameWithLength(static_cast<uint32_t>(body.size()), body, out);
}

void AppendGroupFrame(std::string_view group_body, std::string* out) {
  AppendFrameWithLength(
      static_cast<uint32_t>(group_body.size()) | kGroupFrameFlag, group_body,
      out);
}

std::string SegmentHeader(uint64_t first_sequence) {
  std::string header(kSegmentMagic, sizeof kSegmentMagic);
  char sequence[8];
  StoreLittle64(sequence, first_sequence);
  header.append(sequence, sizeof sequence);
  return header;
}

std::optional<uint64_t> ParseSegmentHeader(std::string_view header) {
  if (header.size() < kSegmentHeaderBytes ||
      (std::memcmp(header.data(), kSegmentMagic, sizeof kSegmentMagic) != 0 &&
       std::memcmp(header.data(), kSegmentMagicPlain,
                   sizeof kSegmentMagicPlain) != 0)) {
    return std::nullopt;
  }
  return LoadLittle64(header.data() + sizeof kSegmentMagic);
}

FrameAt ReadFrame(std::string_view bytes, size_t offset) {
  FrameAt at;
  if (offset >= bytes.size()) return at;
  const size_t left = bytes.size() - offset;
  const std::string_view header =
      bytes.substr(offset, std::min(left, kFrameHeaderBytes));
  if (header.find_first_not_of('\0') == std::string_view::npos) {
    at.kind = FrameAt::Kind::kUnwritten;
    return at;
  }
  if (left < kFrameHeaderBytes) {
    at.kind = FrameAt::Kind::kTruncated;
    return at;
  }
  const char* frame = bytes.data() + offset;
  const uint32_t length_field = LoadLittle32(frame);
  const uint32_t length = length_field & ~kGroupFrameFlag;
  const uint32_t crc = LoadLittle32(frame + 4);
  if (length > kMaxRecordBytes) {
    // Nothing can be trusted past a damaged length: the frame is as long as
    // what is left.
    at.kind = FrameAt::Kind::kDamaged;
    at.size = left;
    return at;
  }
  if (left - kFrameHeaderBytes < length) {
    at.kind = FrameAt::Kind::kTruncated;
    return at;
  }
  const std::string_view body(frame + kFrameHeaderBytes, length);
  at.size = kFrameHeaderBytes + length;
  if (FrameCrc(std::string_view(frame, 4), body) != crc) {
    at.kind = FrameAt::Kind::kDamaged;
    return at;
  }
  at.kind = (length_field & kGroupFrameFlag) != 0 ? FrameAt::Kind::kGroup
                                                  : FrameAt::Kind::kRecord;
  at.body = body;
  return at;
}

}  // namespace journal
