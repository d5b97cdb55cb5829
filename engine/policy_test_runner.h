// Policy test cases: decide the request of a case file against a compiled
// Program, compare the decision with the case's expectations, and record
// which policies and conditions the cases exercised.
//
// A case file is one JSON object:
//   {"description": "...",            optional
//    "now": 1767225600,               optional Unix seconds for env.now;
//                                     the system clock when absent
//    "request": {AuthZEN request},
//    "expected": {
//      "decision": true | false,
//      "reasons": ["permit:<id>", ...],      optional, each must appear
//      "not_reasons": ["forbid:<id>", ...],  optional, none may appear
//      "policies": ["<id>", ...],            optional, exact determining set
//      "errors": ["<id>", ...]}}             optional, exact errored set
// Any other member is an error, so that a misspelt expectation is not
// silently skipped.

#ifndef VERDICT_ENGINE_POLICY_TEST_RUNNER_H_
#define VERDICT_ENGINE_POLICY_TEST_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"

namespace verdict {

struct CaseResult {
  bool passed = false;
  std::string description;
  // Why the case failed: "expected PERMIT, got DENY (reasons default_deny)",
  // or what was wrong with the file. Empty when it passed.
  std::string failure;
  std::vector<std::string> reasons;  // of the decision, when one was made
};

// Covered fraction of a kind of item.
struct CoverageCount {
  size_t covered = 0;
  size_t total = 0;
  // The percentage, rounded down; 100 when there is nothing to cover.
  size_t Percent() const { return total == 0 ? 100 : covered * 100 / total; }
};

// Runs cases against one program and accumulates coverage across them.
// The program must outlive the runner. Thread-compatible.
class PolicyTestRunner {
 public:
  explicit PolicyTestRunner(const Program& program);

  // Runs the case in `json_text`. Costs one decision plus one evaluation of
  // every predicate that a policy condition mentions.
  CaseResult Run(std::string_view json_text);

  // Policies that some case made determine the decision.
  CoverageCount PolicyCoverage() const;
  // Outcomes (true and false) of each predicate of each policy condition
  // that some case produced; two per predicate and policy.
  CoverageCount ConditionCoverage() const;

  // Renders the coverage report: the percentages, then each policy that no
  // case made apply and each condition not seen both true and false, with
  // the `file:line:col` of its policy.
  std::string CoverageReport() const;

 private:
  // One predicate of one policy's condition. Outcomes are kept per
  // predicate, because a predicate evaluates the same in every policy.
  struct Condition {
    uint32_t policy = 0;
    uint32_t predicate = 0;
  };

  void RecordCoverage(const Frame& frame, const Decision& decision);

  const Program& program_;
  std::vector<Condition> conditions_;  // in policy order, then formula order
  std::vector<bool> seen_true_;        // per predicate
  std::vector<bool> seen_false_;       // per predicate
  std::vector<bool> determined_;       // per policy
};

}  // namespace verdict

#endif  // VERDICT_ENGINE_POLICY_TEST_RUNNER_H_
