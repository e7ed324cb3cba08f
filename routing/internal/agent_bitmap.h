// File: routing/internal/agent_bitmap.h
//
// A fixed-size set of agent indexes, one bit each, that many threads update and
// scan at once. The router keeps one per skill, per language, per channel
// ("free on this channel now") and one for logged-in agents; a decision ANDs
// the relevant ones word by word, so it touches 64 agents per instruction and
// scores only agents that can actually take the contact.
//
// A bitmap is an index, not the truth: the truth is each agent's state word and
// profile. Writers update the truth first and the bit after, then re-check the
// truth (see Router's availability sync), so once updates stop every bit agrees
// with the truth; in between a reader may see a stale bit and must re-verify a
// candidate against the truth before using it.
#ifndef ROUTING_INTERNAL_AGENT_BITMAP_H_
#define ROUTING_INTERNAL_AGENT_BITMAP_H_

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>

namespace routing::internal {

class AgentBitmap {
 public:
  explicit AgentBitmap(int bits)
      : word_count_((bits + 63) / 64),
        words_(new std::atomic<uint64_t>[word_count_ == 0 ? 1 : word_count_]) {
    for (int i = 0; i < word_count_; ++i) {
      words_[i].store(0, std::memory_order_relaxed);
    }
  }

  // Set and Clear are sequentially consistent read-modify-writes: the router's
  // no-lost-wakeup argument orders "agent bit set" against "contact queued"
  // (docs/ARCHITECTURE.md), which needs a single total order over both.
  void Set(int index) {
    words_[index >> 6].fetch_or(Bit(index), std::memory_order_seq_cst);
  }
  void Clear(int index) {
    words_[index >> 6].fetch_and(~Bit(index), std::memory_order_seq_cst);
  }
  void Assign(int index, bool value) { value ? Set(index) : Clear(index); }
  bool Test(int index) const {
    return (words_[index >> 6].load(std::memory_order_seq_cst) & Bit(index)) !=
           0;
  }
  // seq_cst loads cost nothing extra on x86 and keep the scan inside the
  // same total order as Set/Clear.
  uint64_t Word(int word) const {
    return words_[word].load(std::memory_order_seq_cst);
  }
  int word_count() const { return word_count_; }

  // Bits set among the first `words` words.
  int CountInWords(int words) const {
    int count = 0;
    for (int w = 0; w < words; ++w) count += std::popcount(Word(w));
    return count;
  }

 private:
  static uint64_t Bit(int index) { return uint64_t{1} << (index & 63); }

  const int word_count_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_AGENT_BITMAP_H_
