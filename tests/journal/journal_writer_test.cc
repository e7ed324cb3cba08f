#include "journal/journal_writer.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "journal/record_framing.h"
#include "journal/segment_sink.h"
#include "tests/journal/journal_test_support.h"

namespace journal {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<JournalWriter> OpenWriter(const std::string& dir,
                                          uint64_t next, FsyncMode mode,
                                          int64_t segment_bytes = 64 << 20) {
  auto sink = SegmentSink::Open(dir, segment_bytes);
  EXPECT_TRUE(sink.ok()) << sink.status();
  JournalWriterOptions options;
  options.fsync = mode;
  auto writer = JournalWriter::Create(std::move(*sink), next, options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  return std::move(*writer);
}

// A writer from record 1 on a SegmentSink in `dir` that `*sink` can make
// fail.
std::unique_ptr<JournalWriter> OpenFaultyWriter(const std::string& dir,
                                                FsyncMode mode,
                                                FaultySink** sink) {
  auto faulty = std::make_unique<FaultySink>(*SegmentSink::Open(dir));
  *sink = faulty.get();
  JournalWriterOptions options;
  options.fsync = mode;
  return *JournalWriter::Create(std::move(faulty), 1, options);
}

TEST(JournalWriterTest, ParsesFsyncModesAndNamesABadOne) {
  EXPECT_EQ(*ParseFsyncMode("always"), FsyncMode::kAlways);
  EXPECT_EQ(*ParseFsyncMode("batch"), FsyncMode::kBatch);
  EXPECT_EQ(*ParseFsyncMode("none"), FsyncMode::kNone);
  EXPECT_THAT(ParseFsyncMode("sometimes").status().message(),
              HasSubstr("'sometimes'"));
}

TEST(JournalWriterTest, EveryModeReadsBackWhatWasAppendedAcrossSegments) {
  for (FsyncMode mode :
       {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    const std::string dir =
        ScratchDirectory(absl::StrCat("modes-", FsyncModeName(mode)));
    {
      auto writer = OpenWriter(dir, 1, mode, /*segment_bytes=*/4096);
      for (int i = 1; i <= 300; ++i) {
        auto seq = writer->Append(absl::StrCat("record ", i, std::string(40, '.')));
        ASSERT_TRUE(seq.ok()) << seq.status();
        EXPECT_EQ(*seq, static_cast<uint64_t>(i));
        ASSERT_TRUE(writer->WaitDurable(*seq).ok());
      }
      EXPECT_EQ(writer->Stats().durable_through, 300u);
    }
    auto segments = ListSegments(dir);
    ASSERT_TRUE(segments.ok());
    EXPECT_GT(segments->size(), 3u) << "4 KiB segments must rotate";
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), 300u);
    for (int i = 1; i <= 300; ++i) {
      EXPECT_EQ(back.records[i - 1].first, static_cast<uint64_t>(i));
      EXPECT_EQ(back.records[i - 1].second,
                absl::StrCat("record ", i, std::string(40, '.')));
    }
    EXPECT_EQ(back.report.next_sequence, 301u);
    EXPECT_TRUE(back.report.warnings.empty());
  }
}

TEST(JournalWriterTest, ARestartContinuesInANewSegment) {
  const std::string dir = ScratchDirectory("restart");
  {
    auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer->Append("before").ok());
  }
  const ReadBack first = ReadAll(dir);
  ASSERT_EQ(first.report.next_sequence, 6u);
  {
    auto writer = OpenWriter(dir, first.report.next_sequence,
                             FsyncMode::kBatch);
    auto seq = writer->Append("after");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, 6u);
  }
  EXPECT_EQ(ListSegments(dir)->size(), 2u);
  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  ASSERT_EQ(back.records.size(), 6u);
  EXPECT_EQ(back.records.back(), std::make_pair(uint64_t{6}, std::string("after")));
}

TEST(JournalWriterTest, BatchModeCommitsManyRecordsPerSync) {
  const std::string dir = ScratchDirectory("group-commit");
  auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto seq = writer->Append(absl::StrCat("t", t, "-", i));
        if (!seq.ok() || !writer->WaitDurable(*seq).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const JournalWriterStats stats = writer->Stats();
  EXPECT_EQ(stats.appended, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.durable_through, uint64_t{kThreads * kPerThread});
  // Eight writers each waiting for their record: syncs cover several
  // records (how many depends on the machine's load; at least one covered
  // more than one).
  EXPECT_LT(stats.syncs, stats.appended) << stats.syncs;
  writer.reset();
  const ReadBack back = ReadAll(dir);
  ASSERT_EQ(back.records.size(), size_t{kThreads * kPerThread});
  // Each thread's records are in its order.
  std::vector<int> next(kThreads, 0);
  for (const auto& [seq, body] : back.records) {
    int t = 0, i = 0;
    ASSERT_EQ(std::sscanf(body.c_str(), "t%d-%d", &t, &i), 2) << body;
    EXPECT_EQ(i, next[t]++) << body;
  }
}

TEST(JournalWriterTest, AFailedWriteKeepsItsRecordsAndRefusesUntilWritten) {
  for (FsyncMode mode :
       {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    SCOPED_TRACE(FsyncModeName(mode));
    const std::string dir =
        ScratchDirectory(absl::StrCat("write-failure-", FsyncModeName(mode)));
    FaultySink* sink = nullptr;
    auto writer = OpenFaultyWriter(dir, mode, &sink);
    ASSERT_TRUE(writer->WaitDurable(*writer->Append("one")).ok());
    sink->fail_appends = true;
    // Numbered, then its write fails: its outcome is unknown to the
    // caller, and the writer keeps it.
    const uint64_t kept = *writer->Append("two");
    EXPECT_EQ(kept, 2u);
    const absl::Status failed = writer->WaitDurable(kept);
    EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
    EXPECT_THAT(failed.message(), HasSubstr("record 2 is not durable"));
    EXPECT_THAT(failed.message(), HasSubstr("no space left"));
    // Refused while it cannot be written, numbering nothing.
    auto refused = writer->Append("refused");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(writer->Writable().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(writer->Stats().appended, 2u);
    EXPECT_GE(writer->Stats().append_refusals, 1u);
    sink->fail_appends = false;
    // The kept record is written first, then serving resumes.
    EXPECT_TRUE(writer->Writable().ok());
    auto resumed = writer->Append("three");
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    EXPECT_EQ(*resumed, 3u);
    EXPECT_TRUE(writer->WaitDurable(*resumed).ok());
    EXPECT_FALSE(writer->WaitDurable(kept).ok());  // Its client was told.
    writer.reset();
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), 3u);
    EXPECT_EQ(back.records[1].second, "two");
    EXPECT_EQ(back.records[2].second, "three");
  }
}

TEST(JournalWriterTest, TheWritersThreadWritesKeptRecordsOnceTheDiskServes) {
  for (FsyncMode mode : {FsyncMode::kBatch}) {
    SCOPED_TRACE(FsyncModeName(mode));
    const std::string dir =
        ScratchDirectory(absl::StrCat("write-retry-", FsyncModeName(mode)));
    FaultySink* sink = nullptr;
    auto writer = OpenFaultyWriter(dir, mode, &sink);
    sink->fail_appends = true;
    std::vector<uint64_t> kept;
    for (int i = 0; i < 5; ++i) {
      auto seq = writer->Append(absl::StrCat("kept ", i));
      if (!seq.ok()) break;  // The first failed write refuses the rest.
      kept.push_back(*seq);
    }
    ASSERT_FALSE(kept.empty());
    for (uint64_t seq : kept) EXPECT_FALSE(writer->WaitDurable(seq).ok());
    sink->fail_appends = false;
    EXPECT_EQ(writer->Stats().records_kept, kept.size());
    // Nobody appends: the writer's own retries write them.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (writer->Stats().records_kept > 0 && absl::Now() < deadline) {
      absl::SleepFor(kHeldRetryInterval);
    }
    EXPECT_EQ(writer->Stats().records_kept, 0u);
    EXPECT_TRUE(writer->Writable().ok());
    writer.reset();
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), kept.size());
    for (size_t i = 0; i < kept.size(); ++i) {
      EXPECT_EQ(back.records[i].first, kept[i]);
      EXPECT_EQ(back.records[i].second, absl::StrCat("kept ", i));
    }
  }
}

// With kBatch a later body is made on the writer's thread, in sequence
// order with plain Appends; a refused call leaves the body to its caller;
// a body over the limit fails its write and is kept, like a full disk's.
TEST(JournalWriterTest, LaterBodiesAreMadeByTheWritersThreadInOrder) {
  for (FsyncMode mode :
       {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    SCOPED_TRACE(FsyncModeName(mode));
    const std::string dir =
        ScratchDirectory(absl::StrCat("later-", FsyncModeName(mode)));
    FaultySink* sink = nullptr;
    auto writer = OpenFaultyWriter(dir, mode, &sink);
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> made_by_caller{0};
    auto later_body = [&](std::string text) {
      return JournalWriter::LaterBody([&made_by_caller, caller, text] {
        if (std::this_thread::get_id() == caller) ++made_by_caller;
        return text;
      });
    };
    for (int i = 1; i <= 6; ++i) {
      absl::StatusOr<uint64_t> seq;
      if (i % 2 == 0) {
        JournalWriter::LaterBody body = later_body(absl::StrCat("later ", i));
        seq = writer->AppendLater(body);
      } else {
        seq = writer->Append(absl::StrCat("plain ", i));
      }
      ASSERT_TRUE(seq.ok()) << seq.status();
      EXPECT_EQ(*seq, static_cast<uint64_t>(i));
    }
    ASSERT_TRUE(writer->WaitDurable(6).ok());
    EXPECT_EQ(made_by_caller.load(), mode == FsyncMode::kAlways ? 3 : 0);

    // Refused while a failed write's record is kept: the body stays here.
    sink->fail_appends = true;
    EXPECT_FALSE(writer->WaitDurable(*writer->Append("kept 7")).ok());
    JournalWriter::LaterBody refused = later_body("refused");
    EXPECT_EQ(writer->AppendLater(refused).status().code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(refused(), "refused");
    sink->fail_appends = false;
    ASSERT_TRUE(writer->Writable().ok());

    if (mode != FsyncMode::kAlways) {
      // Too big once made: the write fails, the record is kept and
      // everything after it waits; nothing partial reaches the disk.
      JournalWriter::LaterBody huge(
          [] { return std::string(kMaxRecordBytes + 1, 'x'); });
      const uint64_t seq = *writer->AppendLater(huge);
      const absl::Status failed = writer->WaitDurable(seq);
      EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument) << failed;
      EXPECT_THAT(failed.message(), HasSubstr("over the limit"));
      EXPECT_FALSE(writer->Writable().ok());
      EXPECT_EQ(writer->Stats().records_kept, 1u);
    }
    writer.reset();
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), 7u);
    for (int i = 1; i <= 6; ++i) {
      EXPECT_EQ(back.records[i - 1].second,
                absl::StrCat(i % 2 == 0 ? "later " : "plain ", i));
    }
    EXPECT_EQ(back.records[6].second, "kept 7");
  }
}

// A body made already is taken without a copy (moved from) and written in
// sequence order with the other kinds; a refused call leaves it whole.
TEST(JournalWriterTest, MadeBodiesAreWrittenInOrderAndKeptWhenRefused) {
  for (FsyncMode mode :
       {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    SCOPED_TRACE(FsyncModeName(mode));
    const std::string dir =
        ScratchDirectory(absl::StrCat("made-", FsyncModeName(mode)));
    FaultySink* sink = nullptr;
    auto writer = OpenFaultyWriter(dir, mode, &sink);
    // Longer than a short string's inline buffer: a move leaves it empty.
    const std::string padding(64, '.');
    for (int i = 1; i <= 6; ++i) {
      absl::StatusOr<uint64_t> seq;
      const std::string text = absl::StrCat("record ", i, padding);
      if (i % 3 == 0) {
        JournalWriter::LaterBody later = [text] { return text; };
        seq = writer->AppendLater(later);
      } else if (i % 3 == 1) {
        std::string made = text;
        seq = writer->AppendMade(made);
        if (mode != FsyncMode::kAlways) {
          EXPECT_TRUE(made.empty()) << made;
        }
      } else {
        seq = writer->Append(text);
      }
      ASSERT_TRUE(seq.ok()) << seq.status();
      EXPECT_EQ(*seq, static_cast<uint64_t>(i));
    }
    ASSERT_TRUE(writer->WaitDurable(6).ok());

    sink->fail_appends = true;
    EXPECT_FALSE(writer->WaitDurable(*writer->Append("kept 7")).ok());
    std::string refused = absl::StrCat("refused", padding);
    EXPECT_EQ(writer->AppendMade(refused).status().code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(refused, absl::StrCat("refused", padding));
    sink->fail_appends = false;
    ASSERT_TRUE(writer->Writable().ok());
    std::string after = "after 8";
    ASSERT_EQ(*writer->AppendMade(after), 8u);
    ASSERT_TRUE(writer->WaitDurable(8).ok());

    writer.reset();
    const ReadBack back = ReadAll(dir);
    ASSERT_TRUE(back.status.ok()) << back.status;
    ASSERT_EQ(back.records.size(), 8u);
    for (int i = 1; i <= 6; ++i) {
      EXPECT_EQ(back.records[i - 1].second,
                absl::StrCat("record ", i, padding));
    }
    EXPECT_EQ(back.records[6].second, "kept 7");
    EXPECT_EQ(back.records[7].second, "after 8");
  }
}

// Polls IsDurable (which never writes anything itself, unlike Flush or
// Writable) until `sequence` is durable or `limit` passes: a writer's
// thread that slept through an Append shows up as a record never made
// durable.
bool BecomesDurable(const JournalWriter& writer, uint64_t sequence,
                    absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  // Spinning: the next Append comes right as the writer's thread
  // publishes, while it heads for its idle check.
  while (!writer.IsDurable(sequence)) {
    if (absl::Now() > deadline) return false;
  }
  return true;
}

TEST(JournalWriterTest, TheIdleWritersThreadWakesForEveryFirstRecord) {
  // Each round appends onto an empty queue while the writer's thread is
  // going idle or idle already (the pauses vary, so both happen), from
  // several threads at once. A lost wakeup leaves a record undurable far
  // past its interval (0.5 ms).
  const std::string dir = ScratchDirectory("idle-wakeups");
  auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000;
  std::atomic<int> stuck{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds && stuck.load() == 0; ++i) {
        const absl::StatusOr<uint64_t> seq =
            writer->Append(absl::StrCat("t", t, "-", i));
        ASSERT_TRUE(seq.ok()) << seq.status();
        if (!BecomesDurable(*writer, *seq, absl::Seconds(5))) {
          ADD_FAILURE() << "record " << *seq << " was never written";
          ++stuck;
        }
        if ((i + t) % 3 == 0) absl::SleepFor(absl::Microseconds(50 * t));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(stuck.load(), 0);
  EXPECT_EQ(writer->Stats().durable_through, uint64_t{kThreads * kRounds});
}

TEST(JournalWriterTest, AFullGroupIsWrittenBeforeItsInterval) {
  // batch_max_records reached: the Append that fills the group wakes the
  // writer's thread, which does not wait out the (long) interval.
  const std::string dir = ScratchDirectory("full-group");
  JournalWriterOptions options;
  options.fsync = FsyncMode::kBatch;
  options.batch_interval = absl::Seconds(1);
  options.batch_max_records = 8;
  auto writer =
      *JournalWriter::Create(*SegmentSink::Open(dir), 1, options);
  for (int round = 0; round < 3; ++round) {
    // The first record starts a group; the writer's thread is gathering
    // (asleep for the interval) when the other seven come.
    uint64_t last = *writer->Append("first");
    absl::SleepFor(absl::Milliseconds(50));
    for (int i = 1; i < 8; ++i) last = *writer->Append(absl::StrCat(i));
    EXPECT_TRUE(BecomesDurable(*writer, last, absl::Milliseconds(500)))
        << "round " << round;
  }
}

TEST(JournalWriterTest, MadeBodiesAreFreedOnAnAppendingThread) {
  // A body's captures were allocated by the thread that appended it: they
  // are destroyed there too (at its next Append), not on the writer's
  // thread, so the two never contend for each other's allocator arenas.
  const std::string dir = ScratchDirectory("spent-bodies");
  auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
  struct Witness {
    std::atomic<int>* destroyed_elsewhere;
    std::thread::id owner;
    ~Witness() {
      if (destroyed_elsewhere != nullptr &&
          std::this_thread::get_id() != owner) {
        ++*destroyed_elsewhere;
      }
    }
  };
  std::atomic<int> destroyed_elsewhere{0};
  for (int i = 0; i < 20; ++i) {
    auto witness = std::make_shared<Witness>(
        Witness{&destroyed_elsewhere, std::this_thread::get_id()});
    JournalWriter::LaterBody body = [witness, i] {
      return absl::StrCat("body ", i);
    };
    witness.reset();  // The body holds the only reference.
    const uint64_t seq = *writer->AppendLater(body);
    ASSERT_TRUE(writer->WaitDurable(seq).ok());
  }
  writer.reset();  // The last one is freed here, on this thread too.
  EXPECT_EQ(destroyed_elsewhere.load(), 0);
  const ReadBack back = ReadAll(dir);
  ASSERT_EQ(back.records.size(), 20u);
  EXPECT_EQ(back.records[19].second, "body 19");
}

TEST(JournalWriterTest, AppendMadeHandsBackAWrittenRecordsBuffer) {
  // A caller that makes each body in the string AppendMade hands back
  // reuses the buffers of records written already: no allocation per
  // record, and no buffer freed on the writer's thread. A body that big is
  // not kept for reuse.
  const std::string dir = ScratchDirectory("recycled-bodies");
  auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
  std::string body(2000, 'a');
  uint64_t seq = *writer->AppendMade(body);
  EXPECT_TRUE(body.empty());
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  // Written: its buffer comes back with the next call.
  body.assign(100, 'b');
  seq = *writer->AppendMade(body);
  EXPECT_TRUE(body.empty());
  EXPECT_GE(body.capacity(), 2000u);
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  // Made in a reused buffer, each record still reads back as made (the
  // writer never frames a buffer that went back to the caller).
  for (int i = 0; i < 2000; ++i) {
    body.assign(absl::StrCat("record ", i + 3, " ", std::string(i % 300, 'c')));
    seq = *writer->AppendMade(body);
    EXPECT_TRUE(body.empty());
  }
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  // Over the size kept for reuse: freed, not handed back later.
  body.assign(200 * 1024, 'd');
  seq = *writer->AppendMade(body);
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  for (int i = 0; i < 3000; ++i) {
    body.assign("small");
    seq = *writer->AppendMade(body);
    EXPECT_LT(body.capacity(), 200u * 1024) << "call " << i;
  }
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  // Large bodies, all written: no more of them are kept than a few MiB
  // hold. Each tiny body is a new string, so a large buffer handed back
  // leaves with the caller and never comes back: every one counted was
  // kept.
  for (int i = 0; i < 200; ++i) {
    body.assign(60 * 1024, 'e');
    seq = *writer->AppendMade(body);
  }
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  int large_returned = 0;
  for (int i = 0; i < 1200; ++i) {
    std::string tiny = "tiny";
    seq = *writer->AppendMade(tiny);
    if (tiny.capacity() >= 60 * 1024) ++large_returned;
  }
  ASSERT_TRUE(writer->WaitDurable(seq).ok());
  EXPECT_GT(large_returned, 0);
  EXPECT_LE(large_returned, 4 * 1024 / 60 + 1);
  writer.reset();
  const ReadBack back = ReadAll(dir);
  ASSERT_TRUE(back.status.ok()) << back.status;
  ASSERT_EQ(back.records.size(), 6403u);
  EXPECT_EQ(back.records[0].second, std::string(2000, 'a'));
  EXPECT_EQ(back.records[1].second, std::string(100, 'b'));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(back.records[i + 2].second,
              absl::StrCat("record ", i + 3, " ", std::string(i % 300, 'c')));
  }
  EXPECT_EQ(back.records[2002].second.size(), 200u * 1024);
  EXPECT_EQ(back.records[5002].second, "small");
  EXPECT_EQ(back.records[6402].second, "tiny");
}

TEST(JournalWriterTest, TellsItsObserverOfEveryWriteAndSync) {
  for (FsyncMode mode :
       {FsyncMode::kAlways, FsyncMode::kBatch, FsyncMode::kNone}) {
    SCOPED_TRACE(FsyncModeName(mode));
    const std::string dir =
        ScratchDirectory(absl::StrCat("observer-", FsyncModeName(mode)));
    auto faulty = std::make_unique<FaultySink>(*SegmentSink::Open(dir));
    FaultySink* sink = faulty.get();
    std::mutex mu;
    std::vector<JournalGroupWritten> groups;
    JournalWriterOptions options;
    options.fsync = mode;
    options.on_group_written = [&](const JournalGroupWritten& group) {
      std::lock_guard<std::mutex> lock(mu);
      groups.push_back(group);
    };
    auto writer = *JournalWriter::Create(std::move(faulty), 1, options);
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(writer->Append(absl::StrCat("r", i)).ok());
    }
    ASSERT_TRUE(writer->WaitDurable(30).ok());
    sink->fail_appends = true;
    EXPECT_FALSE(writer->WaitDurable(*writer->Append("kept")).ok());
    std::lock_guard<std::mutex> lock(mu);
    int written = 0;
    for (const JournalGroupWritten& group : groups) {
      if (!group.ok) continue;
      written += group.records;
      // Every write is synced but --fsync=none's.
      EXPECT_EQ(group.synced, mode != FsyncMode::kNone);
      EXPECT_EQ(group.sync_time > absl::ZeroDuration(), group.synced);
    }
    EXPECT_EQ(written, 30);
    ASSERT_FALSE(groups.empty());
    EXPECT_FALSE(groups.back().ok);  // The failed write.
    EXPECT_EQ(groups.back().records, 1);
    sink->fail_appends = false;
  }
}

TEST(JournalWriterTest, AFailedSyncFailsTheRecordsItCoveredOnly) {
  for (FsyncMode mode : {FsyncMode::kAlways, FsyncMode::kBatch}) {
    const std::string dir =
        ScratchDirectory(absl::StrCat("sync-failure-", FsyncModeName(mode)));
    FaultySink* sink = nullptr;
    auto writer = OpenFaultyWriter(dir, mode, &sink);
    const uint64_t good = *writer->Append("good");
    ASSERT_TRUE(writer->WaitDurable(good).ok());
    sink->fail_syncs = true;
    const uint64_t lost = *writer->Append("unknown fate");
    const absl::Status failed = writer->WaitDurable(lost);
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
    EXPECT_THAT(failed.message(), HasSubstr("record 2 is not durable"));
    sink->fail_syncs = false;
    const uint64_t later = *writer->Append("later");
    EXPECT_TRUE(writer->WaitDurable(later).ok());
    EXPECT_TRUE(writer->WaitDurable(good).ok());
    EXPECT_FALSE(writer->WaitDurable(lost).ok());  // Still not durable.
    // Outcome says the same without waiting.
    ASSERT_TRUE(writer->Outcome(lost).has_value());
    EXPECT_THAT(writer->Outcome(lost)->message(),
                HasSubstr("record 2 is not durable"));
    EXPECT_TRUE(writer->Outcome(good)->ok());
    EXPECT_TRUE(writer->Outcome(later)->ok());
    EXPECT_EQ(writer->Stats().sync_failures, 1u);
  }
}

TEST(JournalWriterTest, OutcomeIsOpenUntilTheGroupsSync) {
  const std::string dir = ScratchDirectory("outcome-open");
  JournalWriterOptions options;
  options.batch_interval = absl::Seconds(1);  // The group waits for Flush.
  auto writer = *JournalWriter::Create(*SegmentSink::Open(dir), 1, options);
  const uint64_t seq = *writer->Append("waits");
  EXPECT_FALSE(writer->Outcome(seq).has_value());
  EXPECT_FALSE(writer->IsDurable(seq));
  EXPECT_FALSE(writer->IsSettled(seq));
  pollfd item = {writer->settled_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&item, 1, 0), 0);  // Nothing settled yet.
  ASSERT_TRUE(writer->Flush().ok());
  ASSERT_TRUE(writer->Outcome(seq).has_value());
  EXPECT_TRUE(writer->Outcome(seq)->ok());
  EXPECT_TRUE(writer->IsSettled(seq));
  EXPECT_EQ(::poll(&item, 1, 0), 1);  // The sync signalled it.
  uint64_t drained = 0;
  ASSERT_EQ(::read(writer->settled_fd(), &drained, sizeof(drained)),
            static_cast<ssize_t>(sizeof(drained)));
  EXPECT_EQ(::poll(&item, 1, 0), 0);
  writer->SignalSettled();  // As a thread that queued a late reply does.
  EXPECT_EQ(::poll(&item, 1, 0), 1);
  EXPECT_EQ(writer->Outcome(seq + 1)->code(),
            absl::StatusCode::kInvalidArgument);  // Never appended.
}

// The frontend's way of waiting: drain settled_fd(), then read Outcome, and
// poll the descriptor only while the next record is open. A writer that
// signalled before publishing what settled (or not at all) leaves the
// poller asleep while the record is durable.
TEST(JournalWriterTest, TheSettledDescriptorWakesAPollerForEveryRecord) {
  for (FsyncMode mode : {FsyncMode::kBatch, FsyncMode::kNone}) {
    const std::string dir =
        ScratchDirectory(absl::StrCat("settled-fd-", FsyncModeName(mode)));
    auto writer = OpenWriter(dir, 1, mode);
    constexpr uint64_t kRecords = 300;
    std::atomic<uint64_t> settled{0};
    std::atomic<int> missed{0};
    std::thread poller([&] {
      uint64_t next = 1;
      while (next <= kRecords && missed.load() == 0) {
        uint64_t drained = 0;
        (void)!::read(writer->settled_fd(), &drained, sizeof(drained));
        // Appended yet? (Outcome of a record not appended is an error.)
        if (next > writer->Stats().appended) {
          std::this_thread::yield();
          continue;
        }
        if (std::optional<absl::Status> fate = writer->Outcome(next)) {
          ASSERT_TRUE(fate->ok()) << *fate;
          settled.store(next++);
          continue;
        }
        pollfd item = {writer->settled_fd(), POLLIN, 0};
        if (::poll(&item, 1, 2000) == 0 && writer->IsDurable(next)) {
          ADD_FAILURE() << "record " << next
                        << " settled without waking the poller";
          ++missed;
        }
      }
    });
    // One record at a time, each opening a group of its own to an idle
    // writer's thread.
    for (uint64_t i = 1; i <= kRecords && missed.load() == 0; ++i) {
      ASSERT_EQ(*writer->Append(absl::StrCat("record ", i)), i);
      while (settled.load() < i && missed.load() == 0) {
        std::this_thread::yield();
      }
    }
    poller.join();
    EXPECT_EQ(missed.load(), 0) << FsyncModeName(mode);
    EXPECT_EQ(settled.load(), kRecords) << FsyncModeName(mode);
  }
}

TEST(JournalWriterTest, RefusesBadOptionsAndUnknownSequences) {
  const std::string dir = ScratchDirectory("options");
  JournalWriterOptions options;
  options.batch_interval = absl::ZeroDuration();
  EXPECT_FALSE(JournalWriter::Create(*SegmentSink::Open(dir), 1, options).ok());
  EXPECT_FALSE(JournalWriter::Create(*SegmentSink::Open(dir), 0, {}).ok());
  auto writer = OpenWriter(dir, 1, FsyncMode::kBatch);
  EXPECT_EQ(writer->WaitDurable(1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->Append(std::string(kMaxRecordBytes + 1, 'x'))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->Stats().appended, 0u);
}

}  // namespace
}  // namespace journal
