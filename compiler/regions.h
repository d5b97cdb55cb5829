// Region enumeration over decision DAGs, and bounded search inside a region.
//
// WalkRegions visits every root-to-leaf path of the DAG of each program in a
// Universe; with two programs it walks their product, so each visit is the
// intersection of one path of each. A path is a conjunction of predicate
// outcomes and switch edges; paths whose conjunction Constraints proves
// unsatisfiable are pruned (exactly: only when no request can take them).
//
// Search answers "does some request of this region satisfy the goal?" by
// branching on the predicates a goal leaves undetermined, at most
// `max_depth` deep, and asks a caller's `accept` to confirm each candidate
// with a concrete request. The three answers are exact where stated:
//   kWitnessed  a request was built and the engine confirmed it;
//   kNone       no extension of the region satisfies the goal (proof);
//   kUnknown    limits were reached or no candidate could be confirmed.
// With SearchLimits::find_all, kWitnessed means every candidate was
// confirmed (at least one), and kUnknown that some were not.
//
// Thread-compatible. The DAG walk uses explicit stacks, so deep DAGs do not
// grow the call stack; its cost is bounded by `max_regions` visits.

#ifndef VERDICT_COMPILER_REGIONS_H_
#define VERDICT_COMPILER_REGIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "compiler/constraints.h"
#include "compiler/universe.h"

namespace verdict::compiler {

// The outcome of a formula under constraints; kUnknown when it differs
// between requests of the region.
enum class Outcome : uint8_t { kTrue, kFalse, kError, kUnknown };

// Bit masks over Outcome values, for goals such as "true or error".
inline constexpr uint8_t kMaskTrue = 1, kMaskFalse = 2, kMaskError = 4;
inline uint8_t MaskOf(Outcome outcome) {
  return outcome == Outcome::kUnknown ? 0 : uint8_t{1} << static_cast<int>(outcome);
}

// Marks "no predicate" where a universe predicate index is expected.
inline constexpr uint32_t kNoPredicate = 0xFFFFFFFFu;
// A branch of this form, kPresenceBranch | slot, makes Search branch on
// whether the slot is present rather than on a predicate's outcome.
inline constexpr uint32_t kPresenceBranch = 0x80000000u;

// Evaluates formula `formula` of program `program` under Kleene logic with
// the outcomes `constraints` decides. When the result is kUnknown, sets
// `*branch` to a universe predicate that the formula mentions, that the
// constraints leave open, and whose outcome can change the result;
// otherwise sets it to kNoPredicate. Iterative; allocates a scratch stack
// per call.
Outcome EvaluateUnder(const Universe& universe, size_t program,
                      uint32_t formula, const Constraints& constraints,
                      uint32_t* branch);

struct WalkStats {
  size_t regions = 0;  // feasible leaf combinations visited
  size_t pruned = 0;   // edges cut because their region is infeasible
  bool complete = true;  // false when `max_regions` stopped the walk
};

// Called once per feasible region with the node reached in each program: a
// leaf, or any node for a region the filter chose to visit early.
using RegionVisitor =
    std::function<void(const Constraints&, std::span<const uint32_t> leaves)>;
// What to do with a feasible partial path: walk below it, skip everything
// below it (nothing there interests the caller), or visit it now as one
// region (whatever lies below it, the caller's result is the same).
enum class Expand : uint8_t { kDescend, kSkip, kVisit };
// Called for every feasible partial path; may be empty (always descend).
using SubtreeFilter = std::function<Expand(const Constraints&)>;

WalkStats WalkRegions(const Universe& universe, const Constraints& start,
                      size_t max_regions, const RegionVisitor& visit,
                      const SubtreeFilter& keep = nullptr);

// Rebuilds a region from `start` and the steps of another region for which
// `keep` is true. Returns nullopt when they contradict each other, which a
// subset of a feasible region's steps never does.
std::optional<Constraints> ReplaySteps(const Constraints& start,
                                       const std::vector<Step>& steps,
                                       const std::vector<bool>& keep);

enum class Probe : uint8_t { kSatisfied, kViolated, kOpen };
// Checks a goal under constraints; on kOpen sets `*branch` to a universe
// predicate whose outcome would help decide it.
using GoalCheck = std::function<Probe(const Constraints&, uint32_t* branch)>;
// Builds a request for constraints that satisfy the goal and confirms it
// with the engine; returns true when confirmed.
using Acceptor = std::function<bool(const Constraints&)>;

enum class SearchResult : uint8_t { kWitnessed, kNone, kUnknown };

struct SearchLimits {
  size_t max_depth = 12;     // predicates enumerated beyond the region
  size_t max_steps = 4096;   // candidate regions examined
  size_t max_rejected = 2;   // candidates the acceptor may turn down
  // Keep searching after an accepted candidate, so that the acceptor receives
  // every part of the region that satisfies the goal; rejected candidates
  // then do not stop the search either.
  bool find_all = false;
};

struct SearchStats {
  size_t steps = 0;
  size_t pruned = 0;  // branches cut because their region is infeasible
  size_t cut = 0;     // branches left unexplored at the depth or step limit
};

// Adds to `stats` when it is not null.
SearchResult Search(const Constraints& start, const GoalCheck& goal,
                    const Acceptor& accept, const SearchLimits& limits,
                    SearchStats* stats = nullptr);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_REGIONS_H_
