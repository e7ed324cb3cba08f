#include "sidecar/cpu_placement.h"

#include <sched.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ParseCpuListTest, ReadsNumbersAndRangesAsLinuxWritesThem) {
  EXPECT_THAT(*ParseCpuList(""), IsEmpty());
  EXPECT_THAT(*ParseCpuList("1"), ElementsAre(1));
  EXPECT_THAT(*ParseCpuList("0,2"), ElementsAre(0, 2));
  EXPECT_THAT(*ParseCpuList("6,0-3,2"), ElementsAre(0, 1, 2, 3, 6));
}

TEST(ParseCpuListTest, RefusesWhatIsNotACpuNamingTheElement) {
  for (const char* bad : {"x", "1,", "-1", "3-1", "0-", "1.5", "99999"}) {
    absl::StatusOr<std::vector<int>> cpus = ParseCpuList(bad);
    ASSERT_FALSE(cpus.ok()) << bad;
    EXPECT_EQ(cpus.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(ParseCpuList("0,abc").status().message(), HasSubstr("\"abc\""));
  EXPECT_THAT(ParseCpuList("3-1").status().message(),
              HasSubstr("ends before it starts"));
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

TEST(CheckCpusAllowedTest, AcceptsTheProcessCpusAndRefusesOthers) {
  const std::vector<int> allowed = AllowedCpus();
  ASSERT_FALSE(allowed.empty());
  EXPECT_TRUE(CheckCpusAllowed({}).ok());
  EXPECT_TRUE(CheckCpusAllowed(allowed).ok());
  const absl::Status refused = CheckCpusAllowed({CPU_SETSIZE - 1});
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr(absl::StrCat("CPU ", CPU_SETSIZE - 1, " is not")));
}

TEST(PinCallingThreadTest, ThreadRunsOnlyOnTheCpusGiven) {
  const int cpu = AllowedCpus().back();
  std::thread([cpu] {
    ASSERT_TRUE(PinCallingThread({cpu}).ok());
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    EXPECT_EQ(CPU_COUNT(&set), 1);
    EXPECT_TRUE(CPU_ISSET(cpu, &set));
    EXPECT_EQ(sched_getcpu(), cpu);
  }).join();
  EXPECT_FALSE(PinCallingThread({CPU_SETSIZE - 1}).ok());
}

// The thread holding the placement runs on the CPUs given, a thread it
// starts meanwhile keeps them after the placement goes, and the holder gets
// its own CPUs back.
TEST(ScopedThreadPlacementTest, ThreadsStartedMeanwhileInheritIt) {
  const std::vector<int> allowed = AllowedCpus();
  const int cpu = allowed.back();
  std::thread([&] {
    std::vector<int> started_on;
    std::thread started;
    {
      ScopedThreadPlacement placed({cpu});
      ASSERT_TRUE(placed.status().ok()) << placed.status();
      EXPECT_EQ(sched_getcpu(), cpu);
      started = std::thread([&] {
        absl::SleepFor(absl::Milliseconds(20));  // Past the scope's end.
        started_on = AllowedCpus();
      });
    }
    started.join();
    EXPECT_EQ(started_on, std::vector<int>{cpu});
    EXPECT_EQ(AllowedCpus(), allowed);
  }).join();
  ScopedThreadPlacement refused({CPU_SETSIZE - 1});
  EXPECT_FALSE(refused.status().ok());
  EXPECT_EQ(AllowedCpus(), allowed);  // Unchanged.
}

}  // namespace
}  // namespace routing::sidecar
