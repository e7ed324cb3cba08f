// urcu_tsan_probe: does ThreadSanitizer understand liburcu's synchronization?
//
// Each mode runs a correct RCU pattern with two reader threads and one
// updater: readers follow a published pointer inside a read-side section; the
// updater publishes a fresh object and frees the old one after a grace
// period. A clean scheme reports nothing; every TSan warning here is a false
// positive, since the pattern is correct.
//
//   epoch          routing::internal::EpochDomain (the control: the router's
//                  concurrency tests already run clean under TSan)
//   memb           urcu-memb: rcu_xchg_pointer, synchronize_rcu, delete
//   memb_call_rcu  urcu-memb: rcu_xchg_pointer, call_rcu
//   qsbr           urcu-qsbr: readers report quiescent states after each
//                  section; updater: rcu_xchg_pointer, synchronize_rcu, delete
//   lfht           cds_lfht + urcu-memb: one thread adds and deletes contacts
//                  (call_rcu), the readers look them up
//
// Usage: bazel run --config=tsan //bench/reclamation:urcu_tsan_probe -- MODE
// Built twice: urcu_tsan_probe with _LGPL_SOURCE (liburcu's read side inlined,
// so TSan instruments it) and urcu_tsan_probe_calls without (the read side is
// in liburcu, which is not instrumented). Exits 0 when the run finishes; TSan
// itself exits 66 after warnings (TSAN_OPTIONS=halt_on_error=0 counts them).
#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>
// After the flavours, which rculfhash.h builds on.
#include <urcu/rculfhash.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"
#include "routing/internal/epoch.h"

namespace {

// Enough swaps for each reader to overlap many grace periods; small enough to
// finish in seconds under TSan.
constexpr int kUpdates = 2000;
constexpr int kReaders = 2;

struct Policy {
  rcu_head rcu;
  std::string name;
  int version = 0;
};

// Readers run until the updater is done.
std::atomic<bool> done{false};

template <typename Reader>
void RunReaders(Reader reader, void (*update)()) {
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) readers.emplace_back(reader);
  update();
  done.store(true);
  for (std::thread& t : readers) t.join();
}

// --- epoch -----------------------------------------------------------------

routing::internal::EpochDomain* domain;
std::atomic<Policy*> epoch_current;

void EpochMode() {
  routing::internal::EpochDomain epoch;
  domain = &epoch;
  epoch_current.store(new Policy{{}, "p", 0});
  RunReaders(
      [] {
        long sum = 0;
        while (!done.load()) {
          auto guard = domain->Pin();
          const Policy* p = epoch_current.load(std::memory_order_acquire);
          sum += p->version + static_cast<long>(p->name.size());
        }
        std::printf("reader sum %ld\n", sum);
      },
      [] {
        for (int i = 1; i <= kUpdates; ++i) {
          auto guard = domain->Pin();
          Policy* old = epoch_current.exchange(new Policy{{}, "p", i},
                                               std::memory_order_acq_rel);
          domain->Retire(old);
        }
      });
  delete epoch_current.load();
}

// --- urcu-memb -------------------------------------------------------------

Policy* rcu_current;

void MembReader() {
  urcu_memb_register_thread();
  long sum = 0;
  while (!done.load()) {
    urcu_memb_read_lock();
    const Policy* p = rcu_dereference(rcu_current);
    sum += p->version + static_cast<long>(p->name.size());
    urcu_memb_read_unlock();
  }
  urcu_memb_unregister_thread();
  std::printf("reader sum %ld\n", sum);
}

void MembMode() {
  rcu_current = new Policy{{}, "p", 0};
  RunReaders(MembReader, [] {
    for (int i = 1; i <= kUpdates; ++i) {
      Policy* fresh = new Policy{{}, "p", i};
      Policy* old = rcu_xchg_pointer(&rcu_current, fresh);
      urcu_memb_synchronize_rcu();
      delete old;
    }
  });
  delete rcu_current;
}

void FreePolicy(rcu_head* head) { delete caa_container_of(head, Policy, rcu); }

void MembCallRcuMode() {
  rcu_current = new Policy{{}, "p", 0};
  RunReaders(MembReader, [] {
    urcu_memb_register_thread();
    for (int i = 1; i <= kUpdates; ++i) {
      Policy* fresh = new Policy{{}, "p", i};
      Policy* old = rcu_xchg_pointer(&rcu_current, fresh);
      urcu_memb_call_rcu(&old->rcu, FreePolicy);
    }
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
  });
  delete rcu_current;
}

// --- urcu-qsbr -------------------------------------------------------------

void QsbrMode() {
  rcu_current = new Policy{{}, "p", 0};
  RunReaders(
      [] {
        urcu_qsbr_register_thread();
        long sum = 0;
        while (!done.load()) {
          urcu_qsbr_read_lock();
          const Policy* p = rcu_dereference(rcu_current);
          sum += p->version + static_cast<long>(p->name.size());
          urcu_qsbr_read_unlock();
          urcu_qsbr_quiescent_state();
        }
        urcu_qsbr_unregister_thread();
        std::printf("reader sum %ld\n", sum);
      },
      [] {
        for (int i = 1; i <= kUpdates; ++i) {
          Policy* fresh = new Policy{{}, "p", i};
          Policy* old = rcu_xchg_pointer(&rcu_current, fresh);
          urcu_qsbr_synchronize_rcu();
          delete old;
        }
      });
  delete rcu_current;
}

// --- cds_lfht --------------------------------------------------------------

// Standard layout, so caa_container_of's offsetof is well defined.
struct Contact {
  cds_lfht_node node;
  rcu_head rcu;
  char id[16];
  int version;
};

constexpr int kContactIds = 64;
cds_lfht* table;

unsigned long HashOf(std::string_view id) {
  return absl::Hash<std::string_view>{}(id);
}

int Matches(cds_lfht_node* node, const void* key) {
  const Contact* c = caa_container_of(node, Contact, node);
  return std::string_view(c->id) == *static_cast<const std::string_view*>(key);
}

void FreeContact(rcu_head* head) {
  delete caa_container_of(head, Contact, rcu);
}

void LfhtMode() {
  table = cds_lfht_new_flavor(16, 16, 0, CDS_LFHT_AUTO_RESIZE,
                              &urcu_memb_flavor, nullptr);
  RunReaders(
      [] {
        urcu_memb_register_thread();
        long sum = 0;
        int i = 0;
        while (!done.load()) {
          const std::string id = absl::StrFormat("c-%06d", i++ % kContactIds);
          const std::string_view key = id;
          urcu_memb_read_lock();
          cds_lfht_iter iter;
          cds_lfht_lookup(table, HashOf(key), Matches, &key, &iter);
          cds_lfht_node* node = cds_lfht_iter_get_node(&iter);
          if (node != nullptr) {
            sum += caa_container_of(node, Contact, node)->version;
          }
          urcu_memb_read_unlock();
        }
        urcu_memb_unregister_thread();
        std::printf("reader sum %ld\n", sum);
      },
      [] {
        urcu_memb_register_thread();
        for (int i = 0; i < kUpdates * 4; ++i) {
          auto* c = new Contact;
          cds_lfht_node_init(&c->node);
          absl::SNPrintF(c->id, sizeof(c->id), "c-%06d", i % kContactIds);
          c->version = i;
          const std::string_view key = c->id;
          urcu_memb_read_lock();
          if (cds_lfht_add_unique(table, HashOf(key), Matches, &key,
                                  &c->node) != &c->node) {
            delete c;  // Never published.
          } else if (i % 2 == 1) {
            // Remove every other contact again at once.
            if (cds_lfht_del(table, &c->node) == 0) {
              urcu_memb_call_rcu(&c->rcu, FreeContact);
            }
          }
          urcu_memb_read_unlock();
        }
        // Empty the table (destroy requires it), then free everything.
        urcu_memb_read_lock();
        cds_lfht_iter iter;
        cds_lfht_node* node;
        cds_lfht_for_each(table, &iter, node) {
          if (cds_lfht_del(table, node) == 0) {
            urcu_memb_call_rcu(&caa_container_of(node, Contact, node)->rcu,
                               FreeContact);
          }
        }
        urcu_memb_read_unlock();
        urcu_memb_barrier();
        urcu_memb_unregister_thread();
      });
  cds_lfht_destroy(table, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc == 2 ? argv[1] : "";
  if (std::strcmp(mode, "epoch") == 0) {
    EpochMode();
  } else if (std::strcmp(mode, "memb") == 0) {
    MembMode();
  } else if (std::strcmp(mode, "memb_call_rcu") == 0) {
    MembCallRcuMode();
  } else if (std::strcmp(mode, "qsbr") == 0) {
    QsbrMode();
  } else if (std::strcmp(mode, "lfht") == 0) {
    LfhtMode();
  } else if (std::strcmp(mode, "--help") == 0) {
    std::printf(
        "usage: urcu_tsan_probe MODE\n"
        "Runs one correct RCU pattern (2 readers, 1 updater) for "
        "ThreadSanitizer to judge;\nMODE is epoch, memb, memb_call_rcu, "
        "qsbr or lfht.\n");
    return 0;
  } else {
    std::fprintf(stderr,
                 "usage: urcu_tsan_probe epoch|memb|memb_call_rcu|qsbr|lfht "
                 "(runs one RCU pattern for ThreadSanitizer to judge)\n");
    return 2;
  }
  std::printf("%s: done\n", mode);
  return 0;
}
