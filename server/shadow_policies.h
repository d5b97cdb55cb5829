// Shadow mode: a second policy set that decides every request beside the
// enforced one, so that a change can be watched on real traffic before it
// is enforced.

#ifndef VERDICT_SERVER_SHADOW_POLICIES_H_
#define VERDICT_SERVER_SHADOW_POLICIES_H_

#include <atomic>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "engine/snapshot.h"
#include "server/decision_event.h"

namespace verdict::server {

// Decides requests a second time against the program published in its own
// ProgramStore, and reports where the outcome differs from the enforced
// decision: permit against deny, or a request one policy set finds invalid
// and the other does not. Obligations, reasons and policy ids may differ
// without counting as a difference.
//
// The shadow decision is made on the request's thread, after the enforced
// one, with the request decoded again against the shadow program's schema.
// So each request costs a second decode and evaluation, but nothing the
// shadow set decides reaches the response.
//
// Each difference is logged as a WARNING with both outcomes, the API and
// the decision id. At most one such line is written every 10 s, with a
// count of the differences not logged, so the decision log is the place
// that records every one.
//
// Thread-safe: a thread-local Frame and ProgramStore::Reader per thread, no
// lock. Does not own the store, which must outlive this object.
class ShadowPolicies {
 public:
  explicit ShadowPolicies(const ProgramStore& store);

  // Decides the request of `event` against the shadow program and passes
  // the result to `consume`, on this thread. Does nothing before the first
  // shadow program is published.
  void Decide(const DecisionEvent& event,
              absl::FunctionRef<void(const ShadowDecision&)> consume);

  // Decisions made, and those whose outcome differed, since construction.
  int64_t decisions() const {
    return decisions_.load(std::memory_order_relaxed);
  }
  int64_t differences() const {
    return differences_.load(std::memory_order_relaxed);
  }

  const ProgramStore& store() const { return store_; }

 private:
  // Logs a difference, or counts it when one was logged less than 10 s ago.
  void LogDifference(const DecisionEvent& event, const ShadowDecision& shadow);

  const ProgramStore& store_;
  const uint64_t instance_id_;
  std::atomic<int64_t> decisions_{0};
  std::atomic<int64_t> differences_{0};
  // Differences not logged since the last WARNING, and when that was, in
  // absl::GetCurrentTimeNanos() units.
  std::atomic<int64_t> unlogged_differences_{0};
  std::atomic<int64_t> last_log_nanos_{0};
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_SHADOW_POLICIES_H_
