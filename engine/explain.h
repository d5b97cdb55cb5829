// Explanations of decisions: which policies applied, which errored, and for
// the policies nearest to applying, the first condition that failed and the
// attribute values it read.
//
// An explanation re-evaluates every policy condition from
// Program::policy_formulas instead of walking the DAG. This costs one
// formula evaluation per policy, far more than Evaluate, so it is meant for
// people debugging a decision, never for the serving path.

#ifndef VERDICT_ENGINE_EXPLAIN_H_
#define VERDICT_ENGINE_EXPLAIN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict {

// The value of one attribute slot in a request, rendered for people (`text`)
// and for machines (`json`, null when the attribute is absent).
struct ObservedValue {
  std::string path;  // "subject.roles"
  std::string text;  // `absent`, `"alice"`, `["a", "b"]`, `42`, `true`
  nlohmann::ordered_json json;
};

// A condition that kept a policy from applying.
struct FailedCondition {
  // The predicate in policy syntax, wrapped in `not (...)` when the policy
  // needed it to be false.
  std::string condition;
  // What the predicate itself evaluated to on the request.
  Truth outcome = Truth::kFalse;
  std::vector<ObservedValue> values;  // every slot the predicate reads
};

struct PolicyReport {
  uint32_t policy = 0;  // index into Program::policies
  std::string id;
  PolicyEffect effect = PolicyEffect::kPermit;
  std::string location;  // "file:line:col"
  // For an errored policy: why, as DescribeError renders it.
  std::string error;
  // For a policy that did not apply: the conjuncts of its top-level `and`
  // (1 when the condition is not an `and`) and how many were not true.
  size_t conditions = 0;
  size_t failed = 0;
  // The first conjunct that was false. When that conjunct is an `or`, one
  // entry per alternative, because every alternative failed.
  std::vector<FailedCondition> failures;
};

// The request contradicted entity data at `path`.
struct ConflictReport {
  std::string path;
  ObservedValue request;  // the value the request gave
  ObservedValue data;     // the value of the joined record
};

// A reason the request was denied before evaluation, such as a token that
// failed verification.
struct RejectionReport {
  std::string reason;  // "token_invalid:aud"
  std::string detail;  // what failed, for people
};

struct Explanation {
  bool permit = false;
  // One sentence: the decision and what decided it, such as `DENY: no
  // permit applied; nearest: "edit-own-docs"`.
  std::string summary;
  std::vector<std::string> reasons;  // as DecisionReasons returns them
  std::string revision;
  // True when a token failed verification or an attribute had two values;
  // no policy was then evaluated.
  bool rejected = false;
  std::vector<RejectionReport> rejections;
  std::vector<ConflictReport> conflicts;
  // Policies whose condition was true, in policy order. For a DENY, permits
  // here applied but were overridden.
  std::vector<PolicyReport> applied;
  std::vector<PolicyReport> errored;  // conditions that could not be decided
  // The policies that did not apply, fewest failed conjuncts first, at most
  // ExplainOptions::max_nearest of them. Ties put more satisfied conjuncts
  // first, then forbids for a PERMIT and permits for a DENY, then policy
  // order. For a
  // default deny only permits are ranked, because forbids cannot change it.
  std::vector<PolicyReport> nearest;
  size_t not_applied = 0;  // ranked candidates, including those not shown
};

struct ExplainOptions {
  size_t max_nearest = 3;  // 0 shows every policy that did not apply
};

// Explains `decision`, which Evaluate returned for the request in `frame`.
// REQUIRES: `frame` still contains that request. Thread-safe for distinct
// frames; costs one evaluation of every policy condition.
Explanation Explain(const Program& program, const Frame& frame,
                    const Decision& decision, const ExplainOptions& options);

// Renders `explanation` for a terminal: short lines in policy terms, ending
// with a newline. Deterministic, so the output can be compared in tests.
std::string ExplanationToText(const Explanation& explanation);

// Renders `explanation` as JSON with a fixed key order.
nlohmann::ordered_json ExplanationToJson(const Explanation& explanation);

// Renders the value of `slot` in the request in `frame`.
ObservedValue ObserveSlot(const Program& program, const Frame& frame,
                          uint32_t slot);

// Returns the slots `predicate` reads, in order of first mention.
std::vector<uint32_t> PredicateSlots(const Program& program,
                                     uint32_t predicate);

}  // namespace verdict

#endif  // VERDICT_ENGINE_EXPLAIN_H_
