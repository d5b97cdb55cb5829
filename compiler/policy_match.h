// Matching of the policies of two program versions, for diff.
//
// Policies are matched by id. A matched pair whose conditions are the same
// formula over the shared predicates, with the same effect and the same
// obligations, gives the same outcome on every request. When the two
// programs combine their policies the same way (no policy sets in either,
// or identical set trees), the decisions of the two versions can then
// differ on a region only through the pairs that are not the same, and
// through policies that only one version has.
//
// Immutable after construction; thread-safe to read. Construction compares
// every matched pair of formulas once.

#ifndef VERDICT_COMPILER_POLICY_MATCH_H_
#define VERDICT_COMPILER_POLICY_MATCH_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "compiler/constraints.h"
#include "compiler/universe.h"

namespace verdict::compiler {

class PolicyMatcher {
 public:
  // REQUIRES: `universe` has two programs (old, new) and outlives this.
  explicit PolicyMatcher(const Universe& universe);

  // True when both versions decide every request of region `c` the same
  // way: each policy that differs between them adds the same result to its
  // combination in both (true, not applicable, or denying) on the whole
  // region. False when that is not shown.
  bool SameDecisions(const Constraints& c) const;

  // Returns a predicate that a policy differing between the versions
  // mentions and that `c` leaves open, or kNoPredicate. Branching on these
  // first lets SameDecisions settle a region sooner.
  uint32_t OpenDifferingPredicate(const Constraints& c) const;

 private:
  struct Pair {
    uint32_t old_policy;
    uint32_t new_policy;
  };

  bool FormulasEqual(uint32_t old_formula, uint32_t new_formula) const;
  bool DutiesEqual(const PolicyInfo& a, const PolicyInfo& b) const;
  bool SetsEqual() const;
  // The policy's contribution to its combination on the whole region:
  // 0 not applicable, 1 permit, 2 deny, or -1 when it varies.
  int Contribution(size_t program, uint32_t policy, const Constraints& c) const;

  const Universe& universe_;
  bool comparable_ = false;  // both versions combine policies the same way
  std::vector<Pair> differing_;  // matched pairs that are not the same
  std::vector<std::pair<size_t, uint32_t>> unmatched_;  // (program, policy)
};

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_POLICY_MATCH_H_
