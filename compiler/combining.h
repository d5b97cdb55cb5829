// The decision a program gives on every request of a region, following the
// engine's combining rules (engine/evaluator.cc):
//   * without policy sets, a forbid that applies or errors denies, and
//     otherwise a permit that applies permits;
//   * with policy sets, every set combines its members (policies and nested
//     sets) with deny-overrides, permit-overrides or first-applicable, an
//     errored forbid counting as a deny and an errored permit as not
//     applicable, and the top-level set decides;
//   * a PERMIT whose permits carry obligations that read an attribute is a
//     DENY when that attribute is absent.
// Policy conditions are evaluated under the region's constraints, so the
// result is open where a condition is.
//
// Thread-safe for distinct arguments. Cost: one evaluation of every policy
// condition per call.

#ifndef VERDICT_COMPILER_COMBINING_H_
#define VERDICT_COMPILER_COMBINING_H_

#include <cstdint>

#include "compiler/constraints.h"
#include "compiler/universe.h"

namespace verdict::compiler {

enum class RegionDecision : uint8_t { kPermit, kDeny, kOpen };

// Returns the decision of program `program` of `universe` on every request
// of the region `c`. When kOpen, sets `*branch` to a universe predicate
// whose outcome helps decide it, or to kPresenceBranch | slot when an
// obligation's attribute may be absent (regions.h).
RegionDecision DecideRegion(const Universe& universe, size_t program,
                            const Constraints& c, uint32_t* branch);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_COMBINING_H_
