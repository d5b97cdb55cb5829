// Static analysis of a compiled policy set: `verdict lint`.
//
// Every finding rests on existence questions such as "is there a request
// where permit P applies and no forbid denies?". A region is a conjunction
// of predicate outcomes; regions whose outcomes contradict each other are
// pruned exactly (compiler/constraints.h). Each question is answered in two
// steps:
//   1. A direct search branches on the outcomes (true, false, error) of the
//      predicates the question's policies mention, pruning infeasible and
//      decided branches. Exhausting it proves that no request exists; it is
//      bounded by `max_search_steps` per question.
//   2. Questions still open, and whose answer can change a finding, are
//      asked again in every region of the decision DAG (a root-to-leaf
//      path, pruned the same way). A path fixes many predicates at once,
//      and the predicates the path leaves open (residual leaves, and
//      permits the DAG drops once a forbid decides) are enumerated up to
//      `max_enumerated` deep. Subtrees where no open question can hold are
//      skipped. The walk is bounded by `max_regions`.
// A "yes" is only ever given with a witness request that the engine decoded
// and evaluated as claimed.
//
// Findings, each about one policy:
//   never-applies     its condition is true on no request;
//   always-true       its condition simplifies to the constant true;
//   always-false      its condition simplifies to false (or, for a permit,
//                     to an error);
//   always-applies    its condition is true on every request that has every
//                     attribute;
//   shadowed          a permit that grants only where another permit grants
//                     too, so removing it changes no decision;
//   overridden        a permit whose condition holds only where a forbid
//                     denies, so it never grants;
//   redundant-forbid  a forbid that denies only where no permit applies.
//
// Each finding is a universal claim ("no region where ...") and, except
// never-applies and always-false, an existence claim ("the policy applies
// somewhere"). A finding is exact when the existence claim has a witness
// request that the real engine decoded and evaluated as claimed, and every
// region that would contradict the universal claim was shown infeasible.
// Otherwise it is reported as approximate with the reason.
//
// Thread-compatible; the Program must outlive the call. Cost: one search per
// question, plus one per open question per DAG region, within the limits.

#ifndef VERDICT_COMPILER_ANALYSIS_H_
#define VERDICT_COMPILER_ANALYSIS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/program.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {

struct AnalysisOptions {
  // Regions (DAG paths, or pairs of paths for diff) visited before the
  // analysis stops and marks every open question approximate.
  size_t max_regions = 200'000;
  // Predicates enumerated inside one DAG region to decide a policy the path
  // leaves open.
  size_t max_enumerated = 12;
  // Steps of the direct search over predicate outcomes, per question.
  size_t max_search_steps = 20'000;
  // The clock for decoding witness requests that do not give `env.now`.
  int64_t now = 1767225600;  // 2026-01-01T00:00:00Z
};

enum class LintKind : uint8_t {
  kNeverApplies,
  kAlwaysTrue,
  kAlwaysFalse,
  kAlwaysApplies,
  kShadowed,
  kOverridden,
  kRedundantForbid,
  // With policy sets: removing the policy changes no decision.
  kRedundant,
};

// "never-applies", "always-true", ...
std::string_view LintKindName(LintKind kind);

struct LintFinding {
  LintKind kind = LintKind::kNeverApplies;
  uint32_t policy = 0;
  // Policies named by the finding: the permits that also grant on the
  // witness (shadowed) or the forbids that deny on it (overridden).
  std::vector<uint32_t> related;
  bool exact = false;
  std::string basis;  // "exact: ..." or "approximate: ..."
  std::optional<nlohmann::json> witness;  // an AuthZEN request
  bool witness_permit = false;             // the engine's decision on it
  std::vector<std::string> witness_reasons;
};

struct LintReport {
  std::vector<LintFinding> findings;  // in policy order, then kind
  size_t questions = 0;   // existence questions asked
  size_t regions = 0;     // DAG regions walked for the ones left open
  size_t pruned = 0;      // infeasible branches and DAG edges cut
  bool complete = true;   // false when max_regions stopped the walk
  // False for programs with policy sets: shadowed, overridden and
  // redundant-forbid assume that a forbid overrides and a permit grants,
  // which a set's combining algorithm may change.
  bool relations_checked = true;
};

LintReport Lint(const Program& program, const AnalysisOptions& options);

// Returns `program` compiled again with policy `id` never applying, or null.
using CompileWithout =
    std::function<std::shared_ptr<const Program>(const std::string& id)>;

// Adds a kRedundant finding for each policy whose removal changes no
// decision, for a program with policy sets, where the relations that Lint
// checks do not apply. A policy is redundant when Diff of `program` against
// `compile_without(id)` finds no changed region over a complete walk.
// Checks at most kMaxRedundancyChecks policies, and sets
// `report.relations_checked` when it checked them all.
inline constexpr size_t kMaxRedundancyChecks = 200;
void CheckRedundancyUnderSets(const Program& program,
                              const CompileWithout& compile_without,
                              const AnalysisOptions& options,
                              LintReport& report);

// Renders the report as `file:line:col: kind: message` lines, each followed
// by its basis and witness, then a summary and a legend saying which
// findings are exact.
std::string FormatLintText(const Program& program, const LintReport& report);
nlohmann::json LintToJson(const Program& program, const LintReport& report);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_ANALYSIS_H_
