// routing_rules: what an operator runs before deploying a rules file.
//
//   bazel run //rules:routing_rules -- check FILE...   syntax, sandbox, hooks
//   bazel run //rules:routing_rules -- test FILE...    check, then the tests
//
// Prints "FILE:LINE: message" for every problem (line 0: the file as a
// whole) and exits 1 if any file has one, 2 on a usage error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rules/lua_rules.h"

namespace {

constexpr char kUsage[] =
    "usage: routing_rules check|test FILE...\n"
    "\n"
    "  check  loads each rules file as the engine would: syntax, globals\n"
    "         outside the sandbox, writes to globals or captured variables,\n"
    "         hook names and shapes, steps and tests tables, and that every\n"
    "         hook finishes: no while/repeat/backward goto, no recursion,\n"
    "         each hook run on sample contacts within the time budget.\n"
    "         Also lists the functions that will run interpreted (they loop\n"
    "         or call other rule functions), and hooks that fail on a\n"
    "         sample contact (warnings).\n"
    "  test   check, then run the tests in each file against a real router,\n"
    "         exactly as a reload does before swapping the rules in.\n"
    "\n"
    "Problems print as FILE:LINE: message. Exit status: 0 all good, 1 a file\n"
    "has problems, 2 usage error. docs/RULES.md is the reference.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 ||
                    std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc < 3 || (std::strcmp(argv[1], "check") != 0 &&
                   std::strcmp(argv[1], "test") != 0)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // `bazel run` starts us in the runfiles tree; paths on the command line
  // are relative to where the operator typed them.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (chdir(dir) != 0) {
      std::fprintf(stderr, "routing_rules: cannot enter %s\n", dir);
      return 2;
    }
  }
  const bool run_tests = std::strcmp(argv[1], "test") == 0;
  rules::RulesOptions options;
  options.run_tests = run_tests;
  int failed = 0;
  for (int i = 2; i < argc; ++i) {
    std::vector<rules::RulesProblem> problems;
    auto compiled = rules::LoadRulesFile(argv[i], options, &problems);
    if (!compiled.ok()) {
      ++failed;
      if (problems.empty()) {
        std::fprintf(stderr, "%s: %s\n", argv[i],
                     std::string(compiled.status().message()).c_str());
      }
      for (const rules::RulesProblem& p : problems) {
        std::fprintf(stderr, "%s\n", p.ToString().c_str());
      }
      continue;
    }
    for (const std::string& note : (*compiled)->interpreted_functions()) {
      std::printf("%s (note)\n", note.c_str());
    }
    for (const std::string& warning : (*compiled)->sample_warnings()) {
      std::printf("%s (warning: this hook fails on a sample contact; such "
                  "decisions fall back to the built-in policy)\n",
                  warning.c_str());
    }
    if (run_tests) {
      std::printf("%s: ok, %d test(s) passed, %zu step(s)\n", argv[i],
                  (*compiled)->tests_passed(), (*compiled)->steps().size());
    } else {
      std::printf("%s: ok\n", argv[i]);
    }
  }
  return failed > 0 ? 1 : 0;
}
