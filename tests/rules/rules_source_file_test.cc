// Reading rules files as a daemon must: only regular files, never blocking
// (a FIFO), never reading without end (/dev/zero, a huge file), only under
// the rules directory when one is set. Each refusal names the problem.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/lua_rules.h"

namespace rules {
namespace {

using ::testing::HasSubstr;

class RulesSourceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/rules_source";
    std::string cmd = "rm -rf '" + root_ + "' && mkdir -p '" + root_ +
                      "/rules' '" + root_ + "/elsewhere'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    Write(root_ + "/rules/ok.lua", "return {}\n");
    Write(root_ + "/elsewhere/ok.lua", "return {}\n");
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  // The refusal's message, or "accepted".
  std::string Load(const std::string& path, RulesOptions options = {}) {
    options.run_tests = false;
    std::vector<RulesProblem> problems;
    auto rules = LoadRulesFile(path, options, &problems);
    if (rules.ok()) return "accepted";
    EXPECT_EQ(problems.size(), 1u);
    return std::string(rules.status().message());
  }
  std::string root_;
};

TEST_F(RulesSourceFileTest, ARegularFileIsRead) {
  EXPECT_EQ(Load(root_ + "/rules/ok.lua"), "accepted");
}

TEST_F(RulesSourceFileTest, ADirectoryIsNotARegularFile) {
  EXPECT_THAT(Load(root_ + "/rules"),
              HasSubstr("is not a regular file (it is a directory)"));
}

TEST_F(RulesSourceFileTest, AFifoIsRefusedAtOnceWithoutWaitingForAWriter) {
  const std::string fifo = root_ + "/rules/pipe.lua";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const absl::Time start = absl::Now();
  EXPECT_THAT(Load(fifo), HasSubstr("is not a regular file (it is a FIFO)"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(RulesSourceFileTest, DevZeroIsRefusedWithoutReadingIt) {
  EXPECT_THAT(Load("/dev/zero"),
              HasSubstr("is not a regular file (it is a character device)"));
}

TEST_F(RulesSourceFileTest, ATooLargeFileIsRefused) {
  Write(root_ + "/rules/big.lua", std::string(2 << 20, '-'));
  EXPECT_THAT(Load(root_ + "/rules/big.lua"),
              HasSubstr("is too large (2097152 bytes; at most 1048576)"));
  RulesOptions small;
  small.max_source_bytes = 5;
  EXPECT_THAT(Load(root_ + "/rules/ok.lua", small),
              HasSubstr("is too large (10 bytes; at most 5)"));
}

TEST_F(RulesSourceFileTest, OnlyFilesUnderTheRulesDirectoryWhenSet) {
  RulesOptions options;
  options.rules_dir = root_ + "/rules";
  EXPECT_EQ(Load(root_ + "/rules/ok.lua", options), "accepted");
  EXPECT_THAT(Load(root_ + "/elsewhere/ok.lua", options),
              HasSubstr("is outside the rules directory"));
  EXPECT_THAT(Load(root_ + "/rules", options),
              HasSubstr("is not a regular file (it is the rules directory)"));
  EXPECT_THAT(Load(root_ + "/rules/../elsewhere/ok.lua", options),
              HasSubstr("is outside the rules directory"));
  // A symbolic link inside pointing outside is outside.
  const std::string link = root_ + "/rules/escape.lua";
  ASSERT_EQ(symlink((root_ + "/elsewhere/ok.lua").c_str(), link.c_str()), 0);
  EXPECT_THAT(Load(link, options), HasSubstr("is outside the rules directory"));
  // A directory whose name starts like the rules directory is not under it.
  ASSERT_EQ(std::system(("mkdir -p '" + root_ + "/rules2'").c_str()), 0);
  Write(root_ + "/rules2/ok.lua", "return {}\n");
  EXPECT_THAT(Load(root_ + "/rules2/ok.lua", options),
              HasSubstr("is outside the rules directory"));
}

TEST_F(RulesSourceFileTest, AMissingFileIsNotFound) {
  std::vector<RulesProblem> problems;
  auto rules = LoadRulesFile(root_ + "/rules/nope.lua", RulesOptions(),
                             &problems);
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(problems[0].ToString(), HasSubstr("No such file"));
}

}  // namespace
}  // namespace rules
