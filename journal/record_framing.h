// File: journal/record_framing.h
//
// How one journal record sits in a segment file, and how a segment starts.
// docs/JOURNAL.md is the format's reference for readers in other languages.
//
//   segment header (16 bytes): "RTJRNL02" ("RTJRNL01" before group
//                              frames: read alike), then the sequence number
//                              of the segment's first record (u64, LE)
//   record frame:              length (u32 LE, of the body; the top bit set
//                                      for a group frame)
//                              crc    (u32 LE, CRC32C of the 4 length bytes
//                                      followed by the body)
//                              body   (length bytes: a FlatBuffers record,
//                                      or, in a group frame, the plain
//                                      frames of several records deflated
//                                      together: record_group.h)
//
// Records are numbered from the segment's first sequence, one by one, in file
// order (a group frame's records in their order inside it). The checksum covers the length so a damaged length is caught before
// it is trusted. A segment may end in zeros (space zero-filled ahead of the
// writes): a frame never starts with eight zero bytes, since the CRC32C of a
// zero length is not zero.
#ifndef JOURNAL_RECORD_FRAMING_H_
#define JOURNAL_RECORD_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace journal {

// What segments are written with; kSegmentMagicPlain marks those written
// before group frames existed (plain frames only), read alike.
inline constexpr char kSegmentMagic[8] = {'R', 'T', 'J', 'R',
                                          'N', 'L', '0', '2'};
inline constexpr char kSegmentMagicPlain[8] = {'R', 'T', 'J', 'R',
                                               'N', 'L', '0', '1'};
inline constexpr size_t kSegmentHeaderBytes = 16;
inline constexpr size_t kFrameHeaderBytes = 8;
// The largest body a frame may hold: a bigger length is damage, not a record.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;
// Set in a frame's length field: the body is a group (record_group.h).
inline constexpr uint32_t kGroupFrameFlag = 0x80000000u;

// CRC32C (Castagnoli), as iSCSI and ext4 use it.
uint32_t Crc32c(std::string_view data);

// Appends the frame of `body` (at most kMaxRecordBytes) to *out.
void AppendFrame(std::string_view body, std::string* out);
// Appends a group frame holding `group_body` (record_group.h; at most
// kMaxRecordBytes) to *out.
void AppendGroupFrame(std::string_view group_body, std::string* out);

// The segment header for a segment whose first record is `first_sequence`.
std::string SegmentHeader(uint64_t first_sequence);
// The first sequence of a segment from its first kSegmentHeaderBytes, or
// nullopt when they are not a segment header.
std::optional<uint64_t> ParseSegmentHeader(std::string_view header);

// What lies at an offset of a segment's bytes.
struct FrameAt {
  enum class Kind {
    kRecord,     // a whole, intact record: body, size (frame bytes)
    kGroup,      // a whole, intact group frame: body (the group's, to
                 // InflateRecordGroup), size
    kEnd,        // no bytes left
    kTruncated,  // a frame that runs past the end of the bytes
    kDamaged,    // a whole frame whose checksum or length is wrong
    kUnwritten,  // zeros where a frame header would be (all the bytes left,
                 // if fewer than a header): space not written yet
  };
  Kind kind = Kind::kEnd;
  std::string_view body;  // kRecord, kGroup: points into the bytes given
  size_t size = 0;        // bytes the frame takes (kRecord, kDamaged)
};
FrameAt ReadFrame(std::string_view bytes, size_t offset);

}  // namespace journal

#endif  // JOURNAL_RECORD_FRAMING_H_
