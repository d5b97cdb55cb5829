// Internal to lint: the questions lint poses and the class that
// searches for their witnesses.
// Shared by lint.cc (searching) and lint_findings.cc (turning results into
// findings); not part of the public API, which is compiler/analysis.h.

#ifndef VERDICT_COMPILER_LINT_INTERNAL_H_
#define VERDICT_COMPILER_LINT_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/analysis.h"
#include "compiler/constraints.h"
#include "compiler/regions.h"
#include "compiler/universe.h"
#include "compiler/witness.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler::lint_internal {


using Json = nlohmann::json;

struct Goal {
  uint32_t policy;
  uint8_t mask;  // allowed outcomes of its condition
};

// "Is there a request where every goal holds?", asked in every region
// until a witness settles it.
struct Query {
  std::vector<Goal> goals;
  bool all_present = false;  // only requests that carry every attribute
  std::vector<size_t> implies;  // queries that a witness of this one settles too
  bool witnessed = false;
  bool none = false;     // proved: no request satisfies the goals
  size_t undecided = 0;  // DAG regions where the search could not decide
  Json witness;
  bool permit = false;
  std::vector<std::string> reasons;
  std::vector<uint32_t> applying;  // policies true on the witness
  std::vector<uint32_t> erroring;  // policies errored on the witness
};

inline constexpr size_t kNone = static_cast<size_t>(-1);

// The questions about one policy, as indexes into the query list.
struct PolicyQueries {
  size_t applies = kNone;     // its condition is true
  size_t grants = kNone;      // permit: true and no forbid denies
  size_t alone = kNone;       // permit: grants and no other permit is true
  size_t full_true = kNone;   // every attribute present and true
  size_t full_other = kNone;  // every attribute present and not true
  std::vector<size_t> with_permit;  // forbid: denies while permit i is true
};

class Linter {
 public:
  Linter(const Program& program, const AnalysisOptions& options)
      : program_(program),
        options_(options),
        universe_({&program}),
        witness_(universe_, options.now) {}

  LintReport Run();

 private:
  bool IsPermit(uint32_t policy) const {
    return program_.policies[policy].effect == PolicyEffect::kPermit;
  }
  const Formula& Condition(uint32_t policy) const {
    return program_.formulas[program_.policy_formulas[policy]];
  }
  size_t AddQuery(std::vector<Goal> goals, bool all_present = false);
  void AddQueries();
  void VisitRegion(const Constraints& region);
  bool Interesting(const Constraints& prefix) const;
  bool Needed(size_t index) const;
  SearchResult Ask(Query& query, const Constraints& start,
                   const SearchLimits& limits);
  Probe CheckGoals(const Query& query, const Constraints& c, uint32_t* branch) const;
  bool Accept(Query& query, const Constraints& c);
  void Answer(size_t index, const Query& source);
  void Derive(uint32_t policy, LintReport& report) const;
  void DeriveRelations(uint32_t policy, LintReport& report) const;
  // `witness` (may be null) must hold for the existence part of the claim;
  // every query in `universal` must be proved to have no request.
  LintFinding Make(LintKind kind, uint32_t policy, const Query* witness,
                   std::vector<const Query*> universal,
                   std::string_view claim) const;

  const Program& program_;
  const AnalysisOptions options_;
  Universe universe_;
  WitnessBuilder witness_;
  std::vector<Query> queries_;
  std::vector<PolicyQueries> per_policy_;
  std::vector<size_t> open_;  // questions the direct search left open
  SearchStats search_stats_;
};

}  // namespace verdict::compiler::lint_internal

#endif  // VERDICT_COMPILER_LINT_INTERNAL_H_
