// File: bench/reclamation/contact_fixtures.h
//
// The contact tables the lifecycle and decision benchmarks run against,
// prefilled with `live` contacts ("c-000000", "c-000001", ...) and kept
// between benchmark runs (a million-entry table takes longer to build than a
// measurement lasts): the router's ContactTable with its EpochDomain, and
// liburcu's cds_lfht (urcu-memb) behind UrcuContactTable, either created with
// as many buckets as ContactTable gets (kPresized) or left to grow from
// UrcuContactTable::kMinBuckets by cds_lfht's automatic resize (kGrown).
//
//   EpochContacts& contacts = EpochContactsOf(100'000);  // Builds or reuses.
//   auto guard = contacts.epoch.Pin();
//   const EpochContact* c = contacts.table.Find(contacts.live_ids[7]);
//
// Not thread-safe: call the *Of functions on one thread (thread 0 of a
// benchmark, before its loop: the loop's start is a barrier for the others),
// and ReleaseContactFixtures() once the benchmarks are done.
#ifndef BENCH_RECLAMATION_CONTACT_FIXTURES_H_
#define BENCH_RECLAMATION_CONTACT_FIXTURES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/reclamation/memb_rcu.h"
#include "bench/reclamation/urcu_contact_table.h"
#include "routing/internal/contact_table.h"
#include "routing/internal/epoch.h"

namespace bench::reclamation {

// Contact data besides the id, so that a record costs about a cache line to
// allocate and free, as a small ContactRecord would.
inline constexpr int kPayloadWords = 8;

// A contact as routing::internal::ContactTable holds it (by pointer, through
// a node of its own).
struct EpochContact {
  explicit EpochContact(std::string contact_id) : id_(std::move(contact_id)) {}
  const std::string& id() const { return id_; }

  std::string id_;
  uint64_t payload[kPayloadWords] = {};
};

// The same contact for UrcuContactTable: the table's link and call_rcu's
// callback head live inside it.
struct UrcuContact : RcuRetirable, UrcuTableHook {
  explicit UrcuContact(std::string contact_id) : id_(std::move(contact_id)) {}
  const std::string& id() const { return id_; }

  std::string id_;
  uint64_t payload[kPayloadWords] = {};
};

// "c-" and the number, zero-padded to six digits: "c-000042".
std::string ContactId(size_t n);

// Ids ContactId(0) .. ContactId(live - 1), the contacts a fixture holds.
const std::vector<std::string>& LiveIds(size_t live);

struct EpochContacts {
  explicit EpochContacts(size_t live);
  // Removes and retires every contact; the members then free the rest.
  ~EpochContacts();

  routing::internal::EpochDomain epoch;
  // Sized once for `live` contacts (a load factor of one, as the router sizes
  // it for RouterOptions::max_contacts); it never resizes.
  routing::internal::ContactTable<EpochContact> table;
  const std::vector<std::string>& live_ids;
};

enum class UrcuSizing {
  kPresized,  // bit_ceil(live) buckets from the start, as ContactTable.
  kGrown,     // kMinBuckets at first; cds_lfht resizes while it is filled.
};

struct UrcuContacts {
  UrcuContacts(size_t live, UrcuSizing sizing);
  // Removes and retires every contact and waits until they are freed.
  ~UrcuContacts();

  UrcuContactTable<UrcuContact> table;
  const std::vector<std::string>& live_ids;
};

EpochContacts& EpochContactsOf(size_t live);
UrcuContacts& UrcuContactsOf(size_t live, UrcuSizing sizing);

// Frees every fixture. Call on a thread outside any read-side section, before
// main() returns (liburcu must still be running).
void ReleaseContactFixtures();

}  // namespace bench::reclamation

#endif  // BENCH_RECLAMATION_CONTACT_FIXTURES_H_
