// File: routing/internal/name_table.h
//
// Interns the strings the API speaks in (agent ids, skill, language and queue
// names) into small dense integers the decision path indexes arrays with.
// Insert-only and lock-free: names are never removed, so a reader never needs
// to be protected from reclamation, and an id, once handed out, names the same
// string for the table's lifetime.
//
//   NameTable skills(1024);
//   int billing = skills.FindOrInsert("billing");   // -1 when full
//   assert(skills.Find("billing") == billing);
#ifndef ROUTING_INTERNAL_NAME_TABLE_H_
#define ROUTING_INTERNAL_NAME_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace routing::internal {

class NameTable {
 public:
  // Ids run 0..capacity-1.
  explicit NameTable(int capacity);
  ~NameTable();
  NameTable(const NameTable&) = delete;
  NameTable& operator=(const NameTable&) = delete;

  // The name's id, or -1 if it was never inserted. Wait-free apart from
  // probing.
  int Find(std::string_view name) const;
  // The name's id, inserting it first if needed; -1 if the table is full.
  // Two threads inserting the same new name get the same id.
  int FindOrInsert(std::string_view name);
  // The name of an id returned by this table; empty for an id lost to a race
  // (see size()).
  std::string_view Name(int id) const;
  // One past the highest id handed out. Ids below it that no name holds can
  // exist (a thread that lost an insertion race burns the id it drew); users
  // index arrays by id and treat such ids as unused.
  int size() const;
  int capacity() const { return capacity_; }

 private:
  struct Entry {
    uint64_t hash;
    std::string name;
    int id;
  };

  static uint64_t HashOf(std::string_view name);
  // Makes sure Name(entry->id) names it before the id is handed out; the
  // entry's id.
  int Published(const Entry* entry) const;

  const int capacity_;
  const uint64_t slot_mask_;
  // Open addressing with linear probing; a slot goes from null to its entry
  // once (release CAS) and never changes again, so an acquire load that sees
  // an entry sees it fully built.
  std::unique_ptr<std::atomic<Entry*>[]> slots_;
  std::unique_ptr<std::atomic<Entry*>[]> by_id_;
  std::atomic<int> next_id_{0};
};

}  // namespace routing::internal

#endif  // ROUTING_INTERNAL_NAME_TABLE_H_
