#include "server/shadow_policies.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "server/log.h"

namespace verdict::server {
namespace {

std::atomic<uint64_t> next_instance_id{1};

// Minimum time between two WARNING lines about differences.
constexpr int64_t kDifferenceLogIntervalNanos = int64_t{10} * 1'000'000'000;

struct ThreadState {
  uint64_t instance_id = 0;
  std::optional<ProgramStore::Reader> reader;
  Frame frame;
};

ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

// "permit (permit:p1)", "deny (forbid:p2, default_deny)" or "invalid".
// The decoder's message is left out because it quotes the rejected value,
// and this server log must not contain request contents.
std::string DescribeOutcome(const Program& program, const Frame& frame,
                            const Decision* decision) {
  if (decision == nullptr) {
    return "invalid (the request does not match this policy set's schema)";
  }
  const std::vector<std::string> reasons =
      DecisionReasons(program, frame, *decision);
  return absl::StrCat(decision->permit ? "permit" : "deny", " (",
                      absl::StrJoin(reasons, ", "), ")");
}

}  // namespace

ShadowPolicies::ShadowPolicies(const ProgramStore& store)
    : store_(store),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

void ShadowPolicies::Decide(
    const DecisionEvent& event,
    absl::FunctionRef<void(const ShadowDecision&)> consume) {
  ThreadState& state = LocalState();
  if (state.instance_id != instance_id_) {
    state.reader.emplace(store_);
    state.instance_id = instance_id_;
  }
  const Program* program = state.reader->Acquire();
  if (program == nullptr) return;

  const absl::Status status = event.decode_again(*program, state.frame);
  std::optional<Decision> decision;
  if (status.ok()) decision = Evaluate(*program, state.frame);
  ShadowDecision shadow{
      .program = *program,
      .frame = state.frame,
      .decision = decision.has_value() ? &*decision : nullptr,
      .status = status,
      .differs = false,
  };
  shadow.differs = shadow.outcome() != event.outcome();

  decisions_.fetch_add(1, std::memory_order_relaxed);
  if (shadow.differs) {
    differences_.fetch_add(1, std::memory_order_relaxed);
    LogDifference(event, shadow);
  }
  consume(shadow);
}

void ShadowPolicies::LogDifference(const DecisionEvent& event,
                                   const ShadowDecision& shadow) {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_log_nanos_.load(std::memory_order_relaxed);
  // The exchange lets one of the threads that see the interval elapsed log;
  // the others count their difference for the next line.
  if (now - last < kDifferenceLogIntervalNanos ||
      !last_log_nanos_.compare_exchange_strong(last, now,
                                               std::memory_order_relaxed)) {
    unlogged_differences_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const int64_t unlogged =
      unlogged_differences_.exchange(0, std::memory_order_relaxed);
  const std::string decision_id =
      event.decision != nullptr ? event.decision->id.ToString() : "none";
  LogWarning(absl::StrCat(
      "shadow policy set differs: ", ToAbsl(DecisionApiName(event.api)),
      " decision ", decision_id, " enforced revision ", event.program.revision,
      " decided ", DescribeOutcome(event.program, event.frame, event.decision),
      ", shadow revision ", shadow.program.revision, " decided ",
      DescribeOutcome(shadow.program, shadow.frame, shadow.decision),
      unlogged > 0 ? absl::StrCat("; ", unlogged,
                                  " more differences since the last such line")
                   : std::string()));
}

}  // namespace verdict::server
