#include "bench/reclamation/contact_fixtures.h"

#include <urcu/urcu-memb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_format.h"

namespace bench::reclamation {
namespace {

// liburcu resizes on a worker thread, a step behind the inserts: give it time
// to catch up after a bulk fill so that measurements start from a table sized
// for its contents, as a router's would be after warming up.
constexpr std::chrono::milliseconds kResizeSettle{200};

struct Fixtures {
  std::map<size_t, std::unique_ptr<std::vector<std::string>>> ids;
  std::map<size_t, std::unique_ptr<EpochContacts>> epoch;
  std::map<std::pair<size_t, UrcuSizing>, std::unique_ptr<UrcuContacts>> urcu;
};

Fixtures& AllFixtures() {
  static Fixtures fixtures;
  return fixtures;
}

[[noreturn]] void Fail(const char* what, const std::string& id) {
  std::fprintf(stderr, "reclamation_benchmark: %s '%s' while filling\n", what,
               id.c_str());
  std::abort();
}

}  // namespace

std::string ContactId(size_t n) { return absl::StrFormat("c-%06d", n); }

const std::vector<std::string>& LiveIds(size_t live) {
  auto& slot = AllFixtures().ids[live];
  if (slot == nullptr) {
    slot = std::make_unique<std::vector<std::string>>();
    slot->reserve(live);
    for (size_t n = 0; n < live; ++n) slot->push_back(ContactId(n));
  }
  return *slot;
}

EpochContacts::EpochContacts(size_t live)
    : table(&epoch, live), live_ids(LiveIds(live)) {
  auto guard = epoch.Pin();
  for (const std::string& id : live_ids) {
    if (!table.Insert(new EpochContact(id))) Fail("duplicate id", id);
  }
}

EpochContacts::~EpochContacts() {
  auto guard = epoch.Pin();
  std::vector<EpochContact*> held;
  table.ForEach([&](EpochContact* c) { held.push_back(c); });
  for (EpochContact* c : held) {
    if (table.Remove(c)) epoch.Retire(c);
  }
}

UrcuContacts::UrcuContacts(size_t live, UrcuSizing sizing)
    : table(sizing == UrcuSizing::kPresized
                ? live
                : UrcuContactTable<UrcuContact>::kMinBuckets),
      live_ids(LiveIds(live)) {
  for (const std::string& id : live_ids) {
    // One section per insert, as one per Route(): a section spanning the fill
    // would hold up the resizes it triggers.
    MembReadGuard guard;
    if (!table.Insert(new UrcuContact(id))) Fail("duplicate id", id);
  }
  if (sizing == UrcuSizing::kGrown) std::this_thread::sleep_for(kResizeSettle);
}

UrcuContacts::~UrcuContacts() {
  {
    MembReadGuard guard;
    std::vector<UrcuContact*> held;
    table.ForEach([&](UrcuContact* c) { held.push_back(c); });
    for (UrcuContact* c : held) {
      if (table.Remove(c)) RetireMemb(c);
    }
  }
  urcu_memb_barrier();
}

EpochContacts& EpochContactsOf(size_t live) {
  auto& slot = AllFixtures().epoch[live];
  if (slot == nullptr) slot = std::make_unique<EpochContacts>(live);
  return *slot;
}

UrcuContacts& UrcuContactsOf(size_t live, UrcuSizing sizing) {
  auto& slot = AllFixtures().urcu[{live, sizing}];
  if (slot == nullptr) slot = std::make_unique<UrcuContacts>(live, sizing);
  return *slot;
}

void ReleaseContactFixtures() {
  Fixtures& fixtures = AllFixtures();
  fixtures.urcu.clear();
  fixtures.epoch.clear();
  fixtures.ids.clear();
}

}  // namespace bench::reclamation
