#include "journal/journal_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "journal/record_framing.h"
#include "journal/record_group.h"
#include "journal/segment_sink.h"

namespace journal {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::UnavailableError(absl::StrCat(
        "journal: cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(
        absl::StrCat("journal: cannot read ", path));
  }
  return std::move(bytes).str();
}

absl::Status Truncate(const std::string& path, size_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return absl::UnavailableError(absl::StrCat("journal: cannot truncate ",
                                               path, " to ", size, " bytes: ",
                                               std::strerror(errno)));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return absl::OkStatus();
}

bool AllZero(std::string_view bytes) {
  return bytes.empty() ||
         (bytes[0] == 0 &&
          std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0);
}

// The unit a disk writes whole, at the least: a write cut short by a power
// loss leaves whole sectors of it unwritten (zeros, in a zero-filled
// segment), where damage to the medium leaves garbage.
constexpr size_t kSectorBytes = 512;

// Whether a sector overlapping bytes [from, to) is all zeros.
bool HasZeroSector(std::string_view bytes, size_t from, size_t to) {
  to = std::min(to, bytes.size());
  for (size_t sector = from / kSectorBytes * kSectorBytes; sector < to;
       sector += kSectorBytes) {
    if (AllZero(bytes.substr(sector, kSectorBytes))) return true;
  }
  return false;
}

// Moves segments [from, end) to DIR/damaged/, kept for a post-mortem.
absl::Status SetAside(const std::string& directory,
                      const std::vector<SegmentFileName>& segments,
                      size_t from) {
  if (from >= segments.size()) return absl::OkStatus();
  const std::string aside = directory + "/damaged";
  if (::mkdir(aside.c_str(), 0750) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat(
        "journal: cannot create ", aside, ": ", std::strerror(errno)));
  }
  for (size_t i = from; i < segments.size(); ++i) {
    const std::string& path = segments[i].path;
    const std::string target =
        absl::StrCat(aside, path.substr(path.rfind('/')));
    if (::rename(path.c_str(), target.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "journal: cannot move ", path, " to ", aside, ": ",
          std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JournalReadReport> ReadJournal(
    const std::string& directory, const JournalReadOptions& options,
    const std::function<absl::Status(uint64_t, std::string_view)>& on_record) {
  struct stat st;
  if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("journal: no directory ", directory));
  }
  auto segments = ListSegments(directory);
  if (!segments.ok()) return segments.status();

  JournalReadReport report;
  bool have_previous = false;
  for (size_t i = 0; i < segments->size(); ++i) {
    const SegmentFileName& segment = (*segments)[i];
    const bool last = i + 1 == segments->size();
    auto bytes = ReadFile(segment.path);
    if (!bytes.ok()) return bytes.status();

    // Damage to the frame at [offset, frame_end): in the last segment, a
    // torn tail when nothing but zeros follows, or when a sector of it is
    // all zeros (a crash in the middle of writing a zero-filled segment,
    // whose later pages may have reached the disk before this one: no
    // record from here on was synced); otherwise refused, or the journal's
    // end (kTruncate). Returns true when reading should stop without an
    // error.
    absl::Status damage_status;
    auto damage = [&](size_t offset, size_t frame_end,
                      absl::string_view what) -> bool {
      const bool torn =
          last && (frame_end >= bytes->size() ||
                   AllZero(std::string_view(*bytes).substr(frame_end)) ||
                   HasZeroSector(*bytes, offset, frame_end));
      if (!torn && options.recovery == DamageRecovery::kRefuse) {
        damage_status = absl::DataLossError(absl::StrCat(
            "journal: ", segment.path, " at offset ", offset, ": ", what,
            " (record ", report.next_sequence,
            "); restart with --journal_recover=truncate to cut the journal "
            "there"));
        return false;
      }
      report.warnings.push_back(absl::StrCat(
          torn ? "torn record at the end of the journal cut off: "
               : "damaged journal cut: ",
          segment.path, " at offset ", offset, ": ", what, " (",
          bytes->size() - offset, " bytes dropped",
          torn || last ? ""
                       : absl::StrCat(", ", segments->size() - i - 1,
                                      " later segment(s) moved to damaged/"),
          ")"));
      if (options.repair) {
        damage_status = Truncate(segment.path, offset);
        if (damage_status.ok() && !torn) {
          damage_status = SetAside(directory, *segments, i + 1);
        }
        if (!damage_status.ok()) return false;
      }
      return true;
    };

    const std::optional<uint64_t> first = ParseSegmentHeader(*bytes);
    if (!first.has_value() || *first != segment.first_sequence) {
      // A crash while a segment was being created leaves a short header,
      // or (a spare renamed before its header reached the disk) a header of
      // zeros: no record in it was synced, since a sync flushes the header
      // with them. Anything else is damage, not a torn write (a segment of
      // a later format version, another file, a flipped bit), refused or,
      // with kTruncate, moved aside whole: never cut to nothing.
      const bool short_header = bytes->size() < kSegmentHeaderBytes;
      const bool unwritten_header =
          !short_header &&
          AllZero(std::string_view(*bytes).substr(0, kSegmentHeaderBytes));
      if (last && (short_header || unwritten_header)) {
        report.warnings.push_back(absl::StrCat(
            short_header ? "segment cut short at its header removed: "
                         : "segment whose header never reached the disk "
                           "removed: ",
            segment.path, " (", bytes->size(), " bytes)"));
        if (options.repair) ::unlink(segment.path.c_str());
        break;
      }
      const std::string what =
          first.has_value()
              ? absl::StrCat("header names record ", *first,
                             ", the file name ", segment.first_sequence)
              : std::string(short_header ? "segment cut short at its header"
                                         : "not a journal segment header");
      if (options.recovery == DamageRecovery::kRefuse) {
        return absl::DataLossError(absl::StrCat(
            "journal: ", segment.path, " at offset 0: ", what,
            " (records from ", segment.first_sequence,
            " on); restart with --journal_recover=truncate to move it",
            last ? "" : " and the later segments", " to damaged/"));
      }
      report.warnings.push_back(absl::StrCat(
          "damaged journal cut: ", segment.path, " at offset 0: ", what, " (",
          segments->size() - i, " segment(s) moved to damaged/)"));
      if (options.repair) {
        if (absl::Status aside = SetAside(directory, *segments, i);
            !aside.ok()) {
          return aside;
        }
      }
      break;
    }
    const uint64_t needed = std::max<uint64_t>(options.from_sequence, 1);
    if (!have_previous && *first > needed) {
      // Segments before this one are gone, and no snapshot holds them.
      if (damage(0, 0,
                 absl::StrCat("the journal starts at record ", *first,
                              " but records from ", needed,
                              " on are needed"))) {
        break;
      }
      return damage_status;
    }
    if (have_previous && *first != report.next_sequence) {
      if (damage(0, 0,
                 absl::StrCat("segment starts at record ", *first,
                              ", the previous one ended before record ",
                              report.next_sequence))) {
        break;
      }
      return damage_status;
    }
    report.next_sequence = *first;
    have_previous = true;

    size_t offset = kSegmentHeaderBytes;
    bool stop = false;
    std::string group;  // A group frame's records, inflated.
    // The next record: numbered, and handed on from options.from_sequence.
    auto take = [&](std::string_view body) -> absl::Status {
      if (report.next_sequence >= options.from_sequence) {
        if (absl::Status taken = on_record(report.next_sequence, body);
            !taken.ok()) {
          return taken;
        }
        ++report.records;
      }
      ++report.next_sequence;
      return absl::OkStatus();
    };
    while (!stop) {
      const FrameAt at = ReadFrame(*bytes, offset);
      switch (at.kind) {
        case FrameAt::Kind::kEnd:
          stop = true;
          break;
        case FrameAt::Kind::kRecord:
          if (absl::Status taken = take(at.body); !taken.ok()) return taken;
          offset += at.size;
          break;
        case FrameAt::Kind::kGroup: {
          // Its records, in order. A group whose checksum holds but that
          // does not inflate to whole records is damage like any other.
          absl::StatusOr<int> count = InflateRecordGroup(at.body, &group);
          if (!count.ok()) {
            if (!damage(offset, offset + at.size, count.status().message())) {
              return damage_status;
            }
            return report;
          }
          size_t inner = 0;
          for (int r = 0; r < *count; ++r) {
            const FrameAt record = ReadFrame(group, inner);
            if (absl::Status taken = take(record.body); !taken.ok()) {
              return taken;
            }
            inner += record.size;
          }
          offset += at.size;
          break;
        }
        case FrameAt::Kind::kTruncated:
          if (!damage(offset, bytes->size(), "record cut short")) {
            return damage_status;
          }
          return report;
        case FrameAt::Kind::kDamaged:
          if (!damage(offset, offset + at.size, "checksum mismatch")) {
            return damage_status;
          }
          return report;
        case FrameAt::Kind::kUnwritten:
          // The zero-filled space after the segment's last record.
          if (AllZero(std::string_view(*bytes).substr(offset))) {
            stop = true;
            break;
          }
          if (!damage(offset, offset + kFrameHeaderBytes,
                      "zeros where a record should start")) {
            return damage_status;
          }
          return report;
      }
    }
  }
  if (options.from_sequence > report.next_sequence) {
    if (have_previous) {
      return absl::DataLossError(absl::StrCat(
          "journal: ", directory, " ends before record ",
          report.next_sequence, ", but records from ", options.from_sequence,
          " on are needed"));
    }
    report.next_sequence = options.from_sequence;  // No segment yet.
  }
  return report;
}

}  // namespace journal
