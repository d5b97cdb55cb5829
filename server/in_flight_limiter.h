// A server-wide bound on the decisions being evaluated at once.

#ifndef VERDICT_SERVER_IN_FLIGHT_LIMITER_H_
#define VERDICT_SERVER_IN_FLIGHT_LIMITER_H_

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace verdict::server {

// Counts admitted decisions against a fixed limit with one atomic counter,
// so admission takes no lock. A call requests the number of decisions it
// carries (1 for Decide and each stream message, the item count for
// BatchDecide) and releases exactly what it was granted.
//
// A request for more than the limit is granted the whole limit, so a large
// batch runs when nothing else is in flight rather than never.
//
// Thread-safe.
class InFlightLimiter {
 public:
  // REQUIRES: limit >= 1.
  explicit InFlightLimiter(int64_t limit) : limit_(limit) {}

  InFlightLimiter(const InFlightLimiter&) = delete;
  InFlightLimiter& operator=(const InFlightLimiter&) = delete;

  // Admits `decisions` and returns the amount to pass to Release, or
  // returns 0 when admitting them would exceed the limit, in which case
  // nothing is held.
  [[nodiscard]] int64_t TryAcquire(int64_t decisions) {
    const int64_t granted = std::clamp<int64_t>(decisions, 1, limit_);
    // Relaxed: the counter orders no other memory. It only bounds how much
    // work runs at once. A call that overshoots and backs out below can make
    // a concurrent call see the counter briefly too high and be rejected,
    // which errs on the side of less work.
    const int64_t before = count_.fetch_add(granted, std::memory_order_relaxed);
    if (before + granted > limit_) {
      count_.fetch_sub(granted, std::memory_order_relaxed);
      return 0;
    }
    return granted;
  }

  // Returns `granted`, a value TryAcquire returned, to the limiter.
  void Release(int64_t granted) {
    count_.fetch_sub(granted, std::memory_order_relaxed);
  }

  int64_t limit() const { return limit_; }

  // Decisions admitted and not yet released. Exact once no call is running.
  int64_t in_flight() const { return count_.load(std::memory_order_relaxed); }

 private:
  const int64_t limit_;
  std::atomic<int64_t> count_{0};
};

// Holds a grant of an InFlightLimiter and releases it on destruction.
class InFlightGrant {
 public:
  InFlightGrant(InFlightLimiter& limiter, int64_t decisions)
      : limiter_(limiter), granted_(limiter.TryAcquire(decisions)) {}
  ~InFlightGrant() {
    if (granted_ != 0) limiter_.Release(granted_);
  }

  InFlightGrant(const InFlightGrant&) = delete;
  InFlightGrant& operator=(const InFlightGrant&) = delete;

  bool admitted() const { return granted_ != 0; }

 private:
  InFlightLimiter& limiter_;
  const int64_t granted_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_IN_FLIGHT_LIMITER_H_
