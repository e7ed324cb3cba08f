// File: bench/reclamation/urcu_contact_table.h
//
// routing::internal::ContactTable's interface over liburcu's resizable
// lock-free hash table (cds_lfht, urcu-memb flavour): the map from a contact's
// string id to its record, as the router would hold it if it adopted liburcu.
//
//   struct Record : RcuRetirable, UrcuTableHook {
//     const std::string& id() const;
//   };
//   UrcuContactTable<Record> table(/*initial_buckets=*/1024);
//   MembReadGuard guard;
//   if (!table.Insert(record)) { /* an equal id is present */ }
//   Record* found = table.Find("c-17");          // Valid while `guard` lives.
//   if (table.Remove(found)) RetireMemb(found);
//
// Unlike ContactTable, the table starts small and grows (and shrinks) on a
// worker thread of liburcu's as contacts come and go, and it is intrusive: the
// link lives in the record (UrcuTableHook), so an insert allocates nothing.
//
// Record requirements: derive from UrcuTableHook; `const std::string& id()
// const`, constant while the record is in the table; free a removed record
// only after a grace period (RetireMemb), since lookups still compare its id.
//
// Thread safety: every member but the destructor may be called concurrently,
// inside a MembReadGuard held for the call and for as long as a returned
// Record* is used. Insert, Find and Remove are lock-free (cds_lfht's).
#ifndef BENCH_RECLAMATION_URCU_CONTACT_TABLE_H_
#define BENCH_RECLAMATION_URCU_CONTACT_TABLE_H_

#include <urcu/urcu-memb.h>
// The flavour header must come first: rculfhash.h builds on its definitions.
#include <urcu/rculfhash.h>

#include <bit>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/hash/hash.h"
#include "bench/reclamation/memb_rcu.h"

namespace bench::reclamation {

// Base of a record kept in a UrcuContactTable: its link in the table.
struct UrcuTableHook {
  cds_lfht_node table_node;
};

template <typename Record>
class UrcuContactTable {
  static_assert(std::is_base_of_v<UrcuTableHook, Record>,
                "records carry their link: derive from UrcuTableHook");

 public:
  // cds_lfht never shrinks below this many buckets: a small table's worth,
  // so that a quiet router does not resize back and forth around a handful
  // of contacts.
  static constexpr size_t kMinBuckets = 1024;

  // `initial_buckets` is rounded up to a power of two (liburcu requires one);
  // the table resizes itself from there.
  explicit UrcuContactTable(size_t initial_buckets)
      : table_(cds_lfht_new_flavor(
            std::bit_ceil(initial_buckets < kMinBuckets ? kMinBuckets
                                                        : initial_buckets),
            kMinBuckets, /*max_nr_buckets=*/0,
            // ACCOUNTING: resize on the node count, not only on chain length.
            CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, &urcu_memb_flavor,
            /*attr=*/nullptr)) {
    if (table_ == nullptr) std::abort();  // Out of memory.
  }
  // Unlinks the records still present (does not free them) and frees the
  // table. Precondition: no concurrent use.
  ~UrcuContactTable() {
    {
      MembReadGuard guard;
      std::vector<cds_lfht_node*> linked;
      cds_lfht_iter iter;
      cds_lfht_node* node;
      cds_lfht_for_each(table_, &iter, node) linked.push_back(node);
      for (cds_lfht_node* n : linked) cds_lfht_del(table_, n);
    }
    // Outside the guard: destroy waits for the resize worker.
    cds_lfht_destroy(table_, nullptr);
  }
  UrcuContactTable(const UrcuContactTable&) = delete;
  UrcuContactTable& operator=(const UrcuContactTable&) = delete;

  // Adds `record`; false (and nothing changes) if a record with the same id
  // is present. cds_lfht_add_unique issues a full barrier before linking, so
  // whoever finds the record sees it fully built.
  bool Insert(Record* record) {
    cds_lfht_node_init(&record->table_node);
    const std::string_view id = record->id();
    return cds_lfht_add_unique(table_, HashOf(id), &Matches, &id,
                               &record->table_node) == &record->table_node;
  }

  // The record with this id, or nullptr.
  Record* Find(std::string_view id) const {
    cds_lfht_iter iter;
    cds_lfht_lookup(table_, HashOf(id), &Matches, &id, &iter);
    cds_lfht_node* node = cds_lfht_iter_get_node(&iter);
    return node == nullptr ? nullptr : RecordOf(node);
  }

  // Removes `record` itself; false if it was already removed. Of concurrent
  // removals of one record exactly one succeeds; the winner retires it.
  // Precondition: `record` was inserted into this table.
  bool Remove(Record* record) {
    return cds_lfht_del(table_, &record->table_node) == 0;
  }

  // Calls f(Record*) for every record present throughout the walk.
  template <typename F>
  void ForEach(F&& f) const {
    cds_lfht_iter iter;
    cds_lfht_node* node;
    cds_lfht_for_each(table_, &iter, node) f(RecordOf(node));
  }

 private:
  // The same hash as ContactTable's, so the two tables see the same spread.
  static unsigned long HashOf(std::string_view id) {
    return absl::Hash<std::string_view>{}(id);
  }
  static Record* RecordOf(cds_lfht_node* node) {
    return static_cast<Record*>(
        caa_container_of(node, UrcuTableHook, table_node));
  }
  static int Matches(cds_lfht_node* node, const void* key) {
    return RecordOf(node)->id() == *static_cast<const std::string_view*>(key);
  }

  cds_lfht* const table_;
};

}  // namespace bench::reclamation

#endif  // BENCH_RECLAMATION_URCU_CONTACT_TABLE_H_
