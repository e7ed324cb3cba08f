// The request-sequence fuzz target (sidecar/fuzz/request_sequence_fuzzer.cc)
// in the suite, built by Bazel's own toolchain: every seed, then inputs made
// by deterministic random mutations of the seeds (bytes flipped, inserted,
// dropped, spliced), for FUZZ_SECONDS (default 5). The target aborts on any
// broken invariant, so this test fails with it. Coverage-guided long runs use
// libFuzzer instead (sidecar/README.md, "Fuzzing").
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::vector<uint8_t>> ReadSeeds() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::vector<std::vector<uint8_t>> seeds;
  if (srcdir == nullptr || workspace == nullptr) return seeds;
  const std::filesystem::path dir = std::filesystem::path(srcdir) / workspace /
                                    "sidecar/fuzz/sequence_corpus";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  return seeds;
}

std::vector<uint8_t> Mutate(std::vector<uint8_t> input,
                            const std::vector<std::vector<uint8_t>>& seeds,
                            std::mt19937& rng) {
  const int edits = std::uniform_int_distribution<int>(1, 8)(rng);
  for (int i = 0; i < edits; ++i) {
    const size_t at =
        input.empty()
            ? 0
            : std::uniform_int_distribution<size_t>(0, input.size() - 1)(rng);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0:
        if (!input.empty()) input[at] ^= uint8_t{1} << (rng() % 8);
        break;
      case 1:
        input.insert(input.begin() + at, static_cast<uint8_t>(rng()));
        break;
      case 2:
        if (!input.empty()) input.erase(input.begin() + at);
        break;
      default: {
        const std::vector<uint8_t>& other = seeds[rng() % seeds.size()];
        if (other.empty()) break;
        const size_t from = rng() % other.size();
        const size_t n = std::min<size_t>(other.size() - from, 1 + rng() % 32);
        input.insert(input.begin() + at, other.begin() + from,
                     other.begin() + from + n);
        break;
      }
    }
  }
  if (input.size() > 512) input.resize(512);
  return input;
}

TEST(RequestSequenceFuzzTest, SeedsAndMutationsKeepEveryInvariant) {
  const std::vector<std::vector<uint8_t>> seeds = ReadSeeds();
  ASSERT_FALSE(seeds.empty()) << "no seed corpus in the runfiles";
  for (const std::vector<uint8_t>& seed : seeds) {
    LLVMFuzzerTestOneInput(seed.data(), seed.size());
  }
  const char* env = std::getenv("FUZZ_SECONDS");
  const int seconds = env != nullptr ? std::atoi(env) : 5;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::mt19937 rng(20261202);
  int runs = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::vector<uint8_t> input =
        Mutate(seeds[rng() % seeds.size()], seeds, rng);
    LLVMFuzzerTestOneInput(input.data(), input.size());
    ++runs;
  }
  std::printf("%zu seeds and %d mutated sequences, no invariant broken\n",
              seeds.size(), runs);
  EXPECT_GT(runs, 0);
}

}  // namespace
