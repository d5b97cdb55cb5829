#include "engine/snapshot.h"

#include <utility>

namespace verdict {

void ProgramStore::Publish(std::shared_ptr<const Program> program) {
  // The previous program is released after unlocking, because freeing a
  // large program takes a while.
  std::shared_ptr<const Program> previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    previous = std::exchange(current_, std::move(program));
  }
  // Release: a reader that acquires this version also observes the store
  // above.
  version_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const Program> ProgramStore::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

const Program* ProgramStore::Reader::Acquire() {
  // Acquire pairs with the release increment in Publish.
  uint64_t version = store_->version_.load(std::memory_order_acquire);
  if (version != seen_version_) {
    cached_ = store_->Current();
    seen_version_ = version;
  }
  return cached_.get();
}

}  // namespace verdict
