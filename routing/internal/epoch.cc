#include "routing/internal/epoch.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/inlined_vector.h"

// How the pieces fit (Fraser 2004, as in crossbeam-epoch):
//
//  * A global epoch counter G, only ever incremented, by one, by CAS.
//  * One ThreadRecord per (thread, domain). While the thread is pinned its
//    record announces the value of G it read on pinning.
//  * Retire() appends to the calling thread's own list, tagged with G.
//  * G advances from g to g+1 only when every pinned record announces g.
//  * An object tagged t is freed once G >= t + 2.
//
// Safety: a reader can hold a pointer to an object only if it read the link
// before the object was unlinked. Three full barriers rule out that a reader
// holding such a pointer lets G reach t + 2 (t = the object's tag):
//   F_W  in Retire(), between the caller's unlink and the read of G for the
//   tag; F_A  in TryAdvance(), between reading G and scanning the records; F_R
//   in Pin(), between announcing and the caller's first read of a link.
// The advance t+1 -> t+2 read G = t+1, written after the writer read t, so
// F_W precedes F_A. If its scan missed a reader's announcement, F_A precedes
// F_R, hence F_W precedes F_R and the reader's link loads see the unlink. If
// the scan saw the reader announce t+1, the reader read G = t+1 before F_R,
// so again F_W precedes F_R. Otherwise the scan saw the reader unpinned after
// its accesses: the release store in Unpin and the acquire scan load make them
// happen before the advance, and so before the free.
//
// Memory orderings are stated where each is relied on below.

namespace routing::internal {
namespace epoch_internal {
namespace {

// Low bit of ThreadRecord::state: set while the thread is pinned. The other
// bits hold the announced epoch.
constexpr uint64_t kPinnedBit = 1;

// Retire() tries to advance the epoch and free its list every this many
// calls. Advancing scans every record (O(threads)); a batch of 64 amortises
// that to well under a nanosecond per retire while keeping at most a few
// hundred objects per thread waiting. crossbeam-epoch seals bags of 64 too.
constexpr int kRetiresPerCollect = 64;
// Most objects a collection inside Retire() frees. Retire is usually called
// pinned, and freeing holds that pin: a thread freeing a backlog of a
// million objects at once keeps the epoch from advancing for all that time,
// so the other threads build a backlog of their own, and so on. Four times
// the batch bounds the pinned time and still drains a backlog three batches
// per collection. Reclaim() frees everything expired.
constexpr size_t kMostFreedPerCollect = 4 * kRetiresPerCollect;

// One cache line, so that the records of different threads (written on every
// pin) and the global epoch (read on every pin) do not false-share.
constexpr size_t kCacheLine = 64;

}  // namespace

struct Retired {
  void* object;
  void (*deleter)(void*);
  uint64_t epoch;  // Value of G when retired.
};

// Objects handed over by a thread that exited (or retired while its
// thread-local storage was being torn down), freed by any later collector.
struct OrphanBatch {
  std::vector<Retired> items;
  OrphanBatch* next = nullptr;
};

struct alignas(kCacheLine) ThreadRecord {
  explicit ThreadRecord(DomainState* d) : domain(d) {}

  // (announced epoch << 1) | kPinnedBit while pinned; the bit clear when not.
  // Written only by the owning thread; read by any thread advancing G.
  std::atomic<uint64_t> state{0};

  // Owner-only fields. A record changes owner only through `in_use`: released
  // with a release store, claimed with an acquire CAS, so the next owner sees
  // them as the last one left them.
  int nesting = 0;
  bool transient = false;  // Claimed for one Guard; see Pin().
  int retires_since_collect = 0;
  // In retirement order. G never goes back and one owner reads it
  // coherently, so the epochs in here never decrease: the expired objects
  // are always a prefix, and a collection costs what it frees (plus one),
  // not the length of a backlog a lagging reader built up.
  std::deque<Retired> retired;
  // retired.size(), readable by other threads for retired_count_for_testing().
  std::atomic<size_t> retired_size{0};

  std::atomic<bool> in_use{true};
  DomainState* const domain;
  // Set before the record is published on DomainState::records and never
  // changed after: traversals read it plainly after an acquire of the head.
  ThreadRecord* next = nullptr;
};

struct DomainState {
  explicit DomainState(uint64_t domain_id) : id(domain_id) {}
  ~DomainState() {
    // The domain's destructor freed every retired object before letting go.
    for (ThreadRecord* r = records.load(std::memory_order_acquire);
         r != nullptr;) {
      ThreadRecord* next = r->next;
      delete r;
      r = next;
    }
    for (OrphanBatch* b = orphans.load(std::memory_order_acquire);
         b != nullptr;) {
      OrphanBatch* next = b->next;
      delete b;
      b = next;
    }
  }

  const uint64_t
      id;  // Never reused, so a stale thread-local entry never matches.
  alignas(kCacheLine) std::atomic<uint64_t> global_epoch{0};
  // Push-only Treiber list; records are reused, never unlinked, and freed
  // with the state.
  alignas(kCacheLine) std::atomic<ThreadRecord*> records{nullptr};
  // Treiber stack of batches; collectors take the whole stack with exchange.
  std::atomic<OrphanBatch*> orphans{nullptr};
  std::atomic<size_t> orphan_count{0};

  // Serialises thread exit (handing a record's list over) against domain
  // destruction (freeing every list). Both are rare; nothing on the
  // Pin/unpin/Retire path takes it.
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which would not see its ordering and report false races.
  std::mutex lifecycle_mu;
  // Written under lifecycle_mu; also read without it (acquire) to prune
  // thread-local cache entries of dead domains.
  std::atomic<bool> alive{true};
};

namespace {

std::atomic<uint64_t> next_domain_id{1};  // 0 means "no domain" in the cache.

// A full two-way barrier between the calling thread's earlier and later memory
// accesses (the F_W / F_A / F_R of the comment at the top). On x86 a locked
// read-modify-write is one (Intel SDM vol. 3, 8.2.2: locked instructions are
// not reordered with any load or store), cheaper than mfence, and unlike a
// standalone fence ThreadSanitizer models it; crossbeam-epoch uses the same
// substitution on x86. `word` should be a location only this thread writes.
inline void FullBarrier(std::atomic<uint64_t>& word) {
#if defined(__x86_64__) || defined(__i386__)
  word.fetch_add(0, std::memory_order_seq_cst);
#else
  (void)word;
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

// Barrier target for threads that have no record at hand (a collector that
// never pinned this domain). Thread-private, so it never contends.
thread_local std::atomic<uint64_t> tls_barrier_word{0};

struct CacheEntry {
  uint64_t domain_id;
  ThreadRecord* record;
  std::shared_ptr<DomainState> state;  // Keeps `record` alive.
};

void ReleaseRecord(DomainState& state, ThreadRecord* record);

// Every domain this thread has a record in. Its destructor (at thread exit)
// gives the records back.
class ThreadCache {
 public:
  ~ThreadCache();
  absl::InlinedVector<CacheEntry, 4> entries;
};

// The fast path of the record lookup. Trivially constructible and
// destructible, so accessing it costs no initialisation guard, and it stays
// usable while and after ThreadCache is torn down.
struct FastCache {
  uint64_t domain_id;
  ThreadRecord* record;
  bool cache_gone;  // tls_cache was destroyed: use transient records.
};
thread_local FastCache tls_fast{0, nullptr, false};
thread_local ThreadCache tls_cache;

ThreadCache::~ThreadCache() {
  // From here on this thread uses transient records (a Guard or Retire in a
  // later thread_local destructor still works).
  tls_fast = FastCache{0, nullptr, true};
  for (CacheEntry& e : entries) ReleaseRecord(*e.state, e.record);
}

// Pushes the chain first..last; the caller accounts for it in orphan_count.
void PushOrphans(DomainState& state, OrphanBatch* first, OrphanBatch* last) {
  OrphanBatch* head = state.orphans.load(std::memory_order_relaxed);
  do {
    last->next = head;
    // Release: a collector's acquire exchange sees the batches' contents.
  } while (!state.orphans.compare_exchange_weak(
      head, first, std::memory_order_release, std::memory_order_relaxed));
}

// Hands `record`'s pending objects to the domain and makes the record free for
// another thread. Called at thread exit and when a transient Guard ends.
void ReleaseRecord(DomainState& state, ThreadRecord* record) {
  std::lock_guard<std::mutex> lock(state.lifecycle_mu);
  // A dead domain already freed this list (and a thread must not touch the
  // objects after that).
  if (!state.alive.load(std::memory_order_relaxed)) return;
  // A Guard that outlived its thread would otherwise block the epoch forever.
  record->nesting = 0;
  record->state.store(
      record->state.load(std::memory_order_relaxed) & ~kPinnedBit,
      std::memory_order_release);
  if (!record->retired.empty()) {
    auto* batch = new OrphanBatch;
    batch->items.assign(record->retired.begin(), record->retired.end());
    state.orphan_count.fetch_add(batch->items.size(),
                                 std::memory_order_relaxed);
    PushOrphans(state, batch, batch);
  }
  record->retired.clear();
  record->retired_size.store(0, std::memory_order_relaxed);
  record->retires_since_collect = 0;
  record->transient = false;
  // Release: the next owner's acquire CAS sees the plain fields reset above.
  record->in_use.store(false, std::memory_order_release);
}

// A free record of `state`'s, or a new one; owned by the caller until
// released.
ThreadRecord* ClaimRecord(DomainState& state) {
  for (ThreadRecord* r = state.records.load(std::memory_order_acquire);
       r != nullptr; r = r->next) {
    bool expected = false;
    // Acquire: pairs with the release in ReleaseRecord.
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(expected, true,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
      return r;
    }
  }
  auto* r = new ThreadRecord(&state);
  ThreadRecord* head = state.records.load(std::memory_order_relaxed);
  do {
    r->next = head;
    // Release: a scanning thread's acquire load of the head sees `next` and
    // the initial state.
  } while (!state.records.compare_exchange_weak(
      head, r, std::memory_order_release, std::memory_order_relaxed));
  return r;
}

ABSL_ATTRIBUTE_NOINLINE ThreadRecord* LocalRecordSlow(
    const std::shared_ptr<DomainState>& state, bool create) {
  if (tls_fast.cache_gone) return nullptr;
  auto& entries = tls_cache.entries;
  for (size_t i = 0; i < entries.size();) {
    CacheEntry& e = entries[i];
    if (e.domain_id == state->id) {
      tls_fast.domain_id = e.domain_id;
      tls_fast.record = e.record;
      return e.record;
    }
    // Drop entries of destroyed domains (may free their state).
    if (!e.state->alive.load(std::memory_order_acquire)) {
      if (tls_fast.domain_id == e.domain_id)
        tls_fast = FastCache{0, nullptr, false};
      entries.erase(entries.begin() + i);
      continue;
    }
    ++i;
  }
  if (!create) return nullptr;
  ThreadRecord* record = ClaimRecord(*state);
  entries.push_back(CacheEntry{state->id, record, state});
  tls_fast.domain_id = state->id;
  tls_fast.record = record;
  return record;
}

// This thread's record in `state`'s domain, claiming one on first use (if
// `create`). Null once this thread's thread-local storage is being destroyed.
inline ThreadRecord* LocalRecord(const std::shared_ptr<DomainState>& state,
                                 bool create) {
  if (ABSL_PREDICT_TRUE(tls_fast.domain_id == state->id))
    return tls_fast.record;
  return LocalRecordSlow(state, create);
}

// Advances G if every pinned record announces it. Returns G as this thread
// now knows it, read with acquire (or written by this thread), so everything
// that happened before the advances up to that value happens before the
// caller's frees.
uint64_t TryAdvance(DomainState& state) {
  uint64_t global = state.global_epoch.load(std::memory_order_acquire);
  FullBarrier(tls_barrier_word);  // F_A: see the top of this file.
  for (ThreadRecord* r = state.records.load(std::memory_order_acquire);
       r != nullptr; r = r->next) {
    // Acquire: a record seen unpinned (or re-pinned later) makes its previous
    // critical sections happen before this advance, and so before any free
    // the advance enables.
    const uint64_t s = r->state.load(std::memory_order_acquire);
    if ((s & kPinnedBit) != 0 && (s >> 1) != global) return global;
  }
  // CAS, not store: a stalled advancer must not move G back or skip ahead.
  // Release (acq_rel) so collectors reading the new G inherit the scan's
  // acquires; on failure `global` receives the newer value, with acquire.
  if (state.global_epoch.compare_exchange_strong(global, global + 1,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
    return global + 1;
  }
  return global;
}

inline bool Expired(const Retired& r, uint64_t global) {
  return global >= r.epoch + 2;
}

// Frees the expired objects of `record` (owned by this thread). Deleters run
// after the list is consistent again, so they may Retire.
void FreeExpired(ThreadRecord* record, uint64_t global,
                 size_t most = SIZE_MAX) {
  std::vector<Retired> ready;
  auto& list = record->retired;
  while (!list.empty() && ready.size() < most &&
         Expired(list.front(), global)) {
    ready.push_back(list.front());
    list.pop_front();
  }
  record->retired_size.store(list.size(), std::memory_order_relaxed);
  for (const Retired& r : ready) r.deleter(r.object);
}

void FreeOrphans(DomainState& state, uint64_t global) {
  if (state.orphans.load(std::memory_order_relaxed) == nullptr) return;
  // Acquire: pairs with PushOrphans' release. Taking the whole stack makes
  // concurrent collectors work on disjoint batches.
  OrphanBatch* batch =
      state.orphans.exchange(nullptr, std::memory_order_acquire);
  std::vector<Retired> ready;
  OrphanBatch* keep_first = nullptr;
  OrphanBatch* keep_last = nullptr;
  while (batch != nullptr) {
    OrphanBatch* next = batch->next;
    auto& items = batch->items;
    size_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (Expired(items[i], global)) {
        ready.push_back(items[i]);
      } else {
        items[n++] = items[i];
      }
    }
    items.resize(n);
    if (n == 0) {
      delete batch;
    } else {
      batch->next = keep_first;
      keep_first = batch;
      if (keep_last == nullptr) keep_last = batch;
    }
    batch = next;
  }
  if (keep_first != nullptr) PushOrphans(state, keep_first, keep_last);
  state.orphan_count.fetch_sub(ready.size(), std::memory_order_relaxed);
  for (const Retired& r : ready) r.deleter(r.object);
}

// The epoch to tag an object the caller has just unlinked with.
inline uint64_t RetireEpoch(DomainState& state, std::atomic<uint64_t>& word) {
  // F_W: the caller's unlink is globally visible before we read G (see the
  // top of this file); relaxed is enough after the barrier.
  FullBarrier(word);
  return state.global_epoch.load(std::memory_order_relaxed);
}

}  // namespace
}  // namespace epoch_internal

using epoch_internal::DomainState;
using epoch_internal::ThreadRecord;

EpochDomain::EpochDomain()
    : state_(std::make_shared<DomainState>(
          epoch_internal::next_domain_id.fetch_add(
              1, std::memory_order_relaxed))) {}

EpochDomain::~EpochDomain() {
  DomainState& state = *state_;
  // Deleters may retire more objects into this domain; loop until a pass
  // finds nothing. `alive` goes false under the same lock as the final empty
  // pass, so a thread exiting concurrently either hands its list over before
  // (and we free it) or sees the domain dead (and leaves it alone).
  for (;;) {
    std::vector<epoch_internal::Retired> all;
    {
      std::lock_guard<std::mutex> lock(state.lifecycle_mu);
      for (ThreadRecord* r = state.records.load(std::memory_order_acquire);
           r != nullptr; r = r->next) {
        all.insert(all.end(), r->retired.begin(), r->retired.end());
        r->retired.clear();
        r->retired_size.store(0, std::memory_order_relaxed);
      }
      epoch_internal::OrphanBatch* batch =
          state.orphans.exchange(nullptr, std::memory_order_acquire);
      while (batch != nullptr) {
        all.insert(all.end(), batch->items.begin(), batch->items.end());
        epoch_internal::OrphanBatch* next = batch->next;
        delete batch;
        batch = next;
      }
      state.orphan_count.store(0, std::memory_order_relaxed);
      if (all.empty()) {
        state.alive.store(false, std::memory_order_release);
        break;
      }
    }
    for (const epoch_internal::Retired& r : all) r.deleter(r.object);
  }
}

EpochDomain::Guard EpochDomain::Pin() {
  ThreadRecord* record = epoch_internal::LocalRecord(state_, /*create=*/true);
  if (ABSL_PREDICT_FALSE(record == nullptr)) {
    // This thread's thread-local storage is being destroyed (a Guard taken by
    // a later thread_local destructor, or by a static destructor on the main
    // thread): pin a record of its own for this one Guard.
    record = epoch_internal::ClaimRecord(*state_);
    record->transient = true;
  }
  if (record->nesting++ == 0) {
    // Relaxed: a stale G only makes this pin hold back the next advance a
    // little longer; what keeps readers safe is F_R below.
    const uint64_t global =
        state_->global_epoch.load(std::memory_order_relaxed);
    // F_R: the announcement must be visible to advancers before this thread
    // reads any link. A seq_cst exchange is a full barrier on x86 (see
    // FullBarrier); elsewhere add the fence.
    record->state.exchange((global << 1) | epoch_internal::kPinnedBit,
                           std::memory_order_seq_cst);
#if !defined(__x86_64__) && !defined(__i386__)
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }
  return Guard(record);
}

void EpochDomain::Unpin(ThreadRecord* record) {
  if (--record->nesting != 0) return;
  // Release: every read made while pinned happens before an advancer's
  // acquire load that sees this, and so before any free it enables.
  record->state.store(record->state.load(std::memory_order_relaxed) &
                          ~epoch_internal::kPinnedBit,
                      std::memory_order_release);
  if (ABSL_PREDICT_FALSE(record->transient)) {
    epoch_internal::ReleaseRecord(*record->domain, record);
  }
}

EpochDomain::Guard::~Guard() {
  if (record_ != nullptr) Unpin(record_);
}

EpochDomain::Guard& EpochDomain::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    if (record_ != nullptr) Unpin(record_);
    record_ = other.record_;
    other.record_ = nullptr;
  }
  return *this;
}

void EpochDomain::Retire(void* p, void (*deleter)(void*)) {
  DomainState& state = *state_;
  ThreadRecord* record = epoch_internal::LocalRecord(state_, /*create=*/true);
  if (ABSL_PREDICT_FALSE(record == nullptr)) {
    // Thread-local storage being destroyed: hand the object straight over.
    auto* batch = new epoch_internal::OrphanBatch;
    batch->items.push_back(epoch_internal::Retired{
        p, deleter,
        epoch_internal::RetireEpoch(state, epoch_internal::tls_barrier_word)});
    state.orphan_count.fetch_add(1, std::memory_order_relaxed);
    epoch_internal::PushOrphans(state, batch, batch);
    return;
  }
  // The barrier uses our own record's state: only this thread writes it, and
  // an RMW that leaves it unchanged is harmless to concurrent scanners.
  const uint64_t epoch = epoch_internal::RetireEpoch(state, record->state);
  record->retired.push_back(epoch_internal::Retired{p, deleter, epoch});
  record->retired_size.store(record->retired.size(), std::memory_order_relaxed);
  if (++record->retires_since_collect >= epoch_internal::kRetiresPerCollect) {
    record->retires_since_collect = 0;
    const uint64_t global = epoch_internal::TryAdvance(state);
    epoch_internal::FreeExpired(record, global,
                                epoch_internal::kMostFreedPerCollect);
    epoch_internal::FreeOrphans(state, global);
  }
}

void EpochDomain::Reclaim() {
  DomainState& state = *state_;
  // Two advances are what an object retired just now needs; each succeeds
  // only if no pinned thread lags behind.
  epoch_internal::TryAdvance(state);
  const uint64_t global = epoch_internal::TryAdvance(state);
  ThreadRecord* record = epoch_internal::LocalRecord(state_, /*create=*/false);
  if (record != nullptr) epoch_internal::FreeExpired(record, global);
  epoch_internal::FreeOrphans(state, global);
}

size_t EpochDomain::retired_count_for_testing() const {
  const DomainState& state = *state_;
  size_t total = state.orphan_count.load(std::memory_order_relaxed);
  for (ThreadRecord* r = state.records.load(std::memory_order_acquire);
       r != nullptr; r = r->next) {
    total += r->retired_size.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace routing::internal
