// lfht_resize_check: does cds_lfht's automatic resize keep up with a table
// being filled?
//
// Fills --rounds fresh auto-resizing tables (UrcuContactTable from its 1,024
// minimum buckets, urcu-memb) with --contacts contacts, one insert per
// critical section as Route() would, gives liburcu's resize worker time to
// finish, then times lookups against a table created with enough buckets up
// front. A table whose resize stalled stays at a few thousand buckets and its
// lookups walk long chains: many times slower than the pre-sized table's.
//
// Usage:
//   bazel run --config=bench //bench/reclamation:lfht_resize_check --
//       --contacts=100000 --rounds=10
#include <urcu/urcu-memb.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "bench/reclamation/memb_rcu.h"
#include "bench/reclamation/urcu_contact_table.h"

ABSL_FLAG(int, contacts, 100'000, "contacts inserted into each table");
ABSL_FLAG(int, rounds, 10, "auto-resizing tables to fill and time");
ABSL_FLAG(int, lookups, 20'000, "timed lookups per table");

namespace bench::reclamation {
namespace {

// The same wait the benchmark's fixtures give the resize worker.
constexpr std::chrono::milliseconds kResizeSettle{200};

// Lookups this many times slower than the pre-sized table's mean the resize
// stalled: a table that grew normally has at most a few more nodes per
// bucket, which stays well under 2x.
constexpr double kStalledRatio = 4.0;

struct Contact : RcuRetirable, UrcuTableHook {
  explicit Contact(std::string contact_id) : id_(std::move(contact_id)) {}
  const std::string& id() const { return id_; }
  std::string id_;
};

using Table = UrcuContactTable<Contact>;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// Fills `table` with ids[0..n), one critical section per insert; returns the
// mean insert time in ns.
double Fill(Table& table, const std::vector<std::string>& ids) {
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& id : ids) {
    MembReadGuard guard;
    table.Insert(new Contact(id));
  }
  return SecondsSince(start) * 1e9 / ids.size();
}

// Mean time of one lookup (in its own critical section) of a present id.
double TimeLookups(const Table& table, const std::vector<std::string>& ids,
                   int lookups) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  size_t missed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < lookups; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    MembReadGuard guard;
    if (table.Find(ids[(state >> 33) % ids.size()]) == nullptr) ++missed;
  }
  const double ns = SecondsSince(start) * 1e9 / lookups;
  if (missed != 0) std::printf("  (%zu lookups missed!)\n", missed);
  return ns;
}

// Unlinks every contact, frees them after a grace period.
void Empty(Table& table) {
  {
    MembReadGuard guard;
    std::vector<Contact*> held;
    table.ForEach([&](Contact* c) { held.push_back(c); });
    for (Contact* c : held) {
      if (table.Remove(c)) RetireMemb(c);
    }
  }
  urcu_memb_barrier();
}

int Run() {
  const int contacts = absl::GetFlag(FLAGS_contacts);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int lookups = absl::GetFlag(FLAGS_lookups);
  if (contacts < 1 || rounds < 1 || lookups < 1) {
    std::fprintf(stderr,
                 "lfht_resize_check: --contacts, --rounds and --lookups must "
                 "be at least 1\n");
    return 1;
  }
  std::vector<std::string> ids;
  ids.reserve(contacts);
  for (int n = 0; n < contacts; ++n)
    ids.push_back(absl::StrFormat("c-%06d", n));

  double presized_ns;
  {
    Table table(contacts);
    const double fill_ns = Fill(table, ids);
    presized_ns = TimeLookups(table, ids, lookups);
    std::printf("pre-sized:  fill %6.0f ns/insert, lookup %7.0f ns\n", fill_ns,
                presized_ns);
    Empty(table);
  }
  int stalled = 0;
  for (int round = 1; round <= rounds; ++round) {
    Table table(Table::kMinBuckets);
    const double fill_ns = Fill(table, ids);
    std::this_thread::sleep_for(kResizeSettle);
    const double ns = TimeLookups(table, ids, lookups);
    const bool slow = ns > kStalledRatio * presized_ns;
    stalled += slow;
    std::printf("grown %3d:  fill %6.0f ns/insert, lookup %7.0f ns (%.1fx)%s\n",
                round, fill_ns, ns, ns / presized_ns,
                slow ? "  <- resize stalled" : "");
    Empty(table);
  }
  std::printf("%d of %d auto-resizing tables of %d contacts stalled\n", stalled,
              rounds, contacts);
  return 0;
}

}  // namespace
}  // namespace bench::reclamation

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Fills auto-resizing cds_lfht tables and reports whether their resize "
      "kept up (lookup time against a pre-sized table).");
  absl::ParseCommandLine(argc, argv);
  return bench::reclamation::Run();
}
