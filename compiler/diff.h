// Semantic diff of two compiled policy versions: `verdict diff`.
//
// The two decision DAGs are walked in product. Their predicates are matched
// by rendered text and the attribute paths they read, their symbols by
// text, so a path of the product is one conjunction over a shared
// vocabulary (compiler/universe.h). Infeasible conjunctions are pruned
// exactly as in lint. A prefix where both versions' decisions are already
// fixed is not walked further: it is reported if the decisions differ and
// skipped otherwise. Where a leaf keeps residual conditions, the predicates
// they mention are enumerated up to AnalysisOptions::max_enumerated deep.
//
// Each reported region is a conjunction of predicate outcomes and switch
// edges; regions that differ only in the key of one switch are merged into
// `path in [...]`. A region is exact when an example request was built,
// decoded by both programs and evaluated by the engine with the decisions
// shown; every request that satisfies an exact region's condition changes
// decision the same way (except requests that contradict entity data,
// which both versions deny). A region without a confirmed example is
// approximate: it may be unreachable.
//
// Thread-compatible; both programs must outlive the call. Cost: bounded by
// AnalysisOptions::max_regions walked regions.

#ifndef VERDICT_COMPILER_DIFF_H_
#define VERDICT_COMPILER_DIFF_H_

#include <optional>
#include <string>
#include <vector>

#include "compiler/analysis.h"
#include "engine/program.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {

struct DiffOptions {
  AnalysisOptions analysis;
  // Also report regions where the decision is the same but the policies
  // that determine it differ (by id).
  bool policies = false;
};

struct DiffRegion {
  std::vector<std::string> condition;  // conjuncts, rendered
  bool old_permit = false;
  bool new_permit = false;
  bool exact = false;
  std::string basis;  // "exact: ..." or "approximate: ..."
  std::optional<nlohmann::json> example;
  std::vector<std::string> old_reasons;  // DecisionReasons on the example
  std::vector<std::string> new_reasons;
};

struct DiffReport {
  std::vector<DiffRegion> regions;  // in walk order, merged
  size_t regions_walked = 0;
  size_t pruned = 0;     // infeasible branches cut
  bool complete = true;  // false when max_regions stopped the walk
};

DiffReport Diff(const Program& old_program, const Program& new_program,
                const DiffOptions& options);

// Renders at most `max` regions, then the count of the rest, a summary and
// a legend saying which regions are exact.
std::string FormatDiffText(const DiffReport& report, size_t max);
nlohmann::json DiffToJson(const DiffReport& report, size_t max);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_DIFF_H_
