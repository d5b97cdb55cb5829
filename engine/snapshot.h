// Publication of compiled programs to concurrent readers.

#ifndef VERDICT_ENGINE_SNAPSHOT_H_
#define VERDICT_ENGINE_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "engine/program.h"

namespace verdict {

// Holds the Program being served. Publishing replaces the whole snapshot;
// a reader that acquired the previous one keeps it alive and finishes on it.
// Thread-safe.
class ProgramStore {
 public:
  ProgramStore() = default;
  ProgramStore(const ProgramStore&) = delete;
  ProgramStore& operator=(const ProgramStore&) = delete;

  // Makes `program` the snapshot new readers see.
  void Publish(std::shared_ptr<const Program> program);

  // Returns the current snapshot, or null before the first Publish. Takes
  // a mutex; hot loops use a Reader instead.
  std::shared_ptr<const Program> Current() const;

  // Counts publications; changes whenever Current() changes.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // A per-thread handle whose Acquire() costs one atomic load while no new
  // program has been published: it caches the snapshot and refreshes it only
  // when the store's version moves. Thread-compatible: one per thread.
  class Reader {
   public:
    explicit Reader(const ProgramStore& store) : store_(&store) {}
    // Returns the current snapshot (null before the first Publish). The
    // pointer stays valid until the next Acquire on this reader.
    const Program* Acquire();

   private:
    const ProgramStore* store_;
    uint64_t seen_version_ = 0;
    std::shared_ptr<const Program> cached_;
  };

 private:
  // A mutex rather than std::atomic<std::shared_ptr>: GCC 12's libstdc++
  // releases that type's internal lock with memory_order_relaxed after a
  // load, so ThreadSanitizer reports a race between a load and the next
  // store. Only Publish and a Reader's refresh take it.
  mutable std::mutex mutex_;
  std::shared_ptr<const Program> current_;  // guarded by mutex_
  // Incremented after `current_` is stored (release), so a reader that
  // observes a new version (acquire) then loads a program at least as new.
  std::atomic<uint64_t> version_{0};
};

}  // namespace verdict

#endif  // VERDICT_ENGINE_SNAPSHOT_H_
