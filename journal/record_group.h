// File: journal/record_group.h
//
// The body of a group frame (record_framing.h): the plain frames of several
// consecutive records, deflated together. The writer's thread writes each
// group it commits so: records written together share most of their bytes
// (field names, ids, skill and queue names, the explanation's wording), so
// a group takes a fraction of the disk its records would (docs/JOURNAL.md,
// "Group frames").
//
//   u32 LE  records in the group (at least 2)
//   u32 LE  bytes of their plain frames (at most kMaxRecordGroupBytes)
//   raw DEFLATE (RFC 1951) of those frames, back to back
//
// Deflated with ISA-L's igzip at its fastest level (the library that
// already computes the frames' CRC32C); any inflater (zlib with
// windowBits -15, Go's compress/flate, Java's Inflater(true)) reads it.
#ifndef JOURNAL_RECORD_GROUP_H_
#define JOURNAL_RECORD_GROUP_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace journal {

// The most plain-frame bytes one group holds: a reader refuses a group that
// claims more (a damaged count cannot make it allocate without bound). The
// writer starts a new group before a record would pass it.
inline constexpr size_t kMaxRecordGroupBytes = 4u << 20;
inline constexpr size_t kRecordGroupHeaderBytes = 8;

// Deflates groups on one thread, keeping its buffers for the next.
class RecordGroupDeflater {
 public:
  // Sets *body to the group body of `count` (>= 2) records whose plain
  // frames are `frames` (at most kMaxRecordGroupBytes) and returns true;
  // false, with *body unspecified, when the group would not be smaller than
  // the frames themselves (the caller writes them plain).
  bool Deflate(std::string_view frames, int count, std::string* body);

 private:
  std::vector<unsigned char> level_buffer_;
};

// The plain frames of a group body into *frames, and how many records they
// are. DataLoss naming what is wrong when the body is short, claims more
// than kMaxRecordGroupBytes or fewer than 2 records, does not inflate to
// exactly the size it claims, or inflates to anything but that many intact
// plain frames.
absl::StatusOr<int> InflateRecordGroup(std::string_view body,
                                       std::string* frames);

}  // namespace journal

#endif  // JOURNAL_RECORD_GROUP_H_
