// Evaluation of a decoded request against a compiled Program.

#ifndef VERDICT_ENGINE_EVALUATOR_H_
#define VERDICT_ENGINE_EVALUATOR_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/program.h"
#include "engine/request.h"

namespace verdict {

inline constexpr uint32_t kNoPolicy = 0xFFFFFFFFu;

// A 128-bit random decision id, rendered as a UUID (version 4).
struct DecisionId {
  uint64_t high = 0;
  uint64_t low = 0;
  std::string ToString() const;
};

// The outcome of one evaluation. The spans point into the Frame passed to
// Evaluate and stay valid until that frame is reset.
struct Decision {
  bool permit = false;
  // Policies that determined the outcome: the forbids that applied for a
  // DENY by forbid, the permits that applied for a PERMIT, empty for a
  // default deny.
  std::span<const uint32_t> determining;
  // Every policy whose condition errored, with the predicate that errored.
  std::span<const ErroredPolicy> errors;
  // The policy set whose member decided, or 0 for the top level.
  uint32_t deciding_set = 0;
  // True when the request was denied before evaluation: a token failed
  // verification (Frame::rejections()) or an attribute was given two
  // different values (Frame::conflicts()).
  bool rejected = false;
  // A permit whose obligation reads an absent attribute cannot be carried
  // out, so the decision is DENY; this names that policy (else kNoPolicy).
  uint32_t unfulfillable_policy = kNoPolicy;
  DecisionId id;
};

// Evaluates the request in `frame` (filled by a RequestBuilder for the same
// program). Default deny, forbid overrides permit, an errored forbid denies,
// an errored permit does not apply.
//
// Cost: one walk from the DAG root to a leaf, plus any residual policies the
// leaf keeps. Takes no lock and, once `frame` has grown to the program's
// needs, allocates no memory. Thread-safe for distinct frames.
Decision Evaluate(const Program& program, Frame& frame);

// Returns the DAG nodes that Evaluate visits for the request in `frame`,
// from Program::root to the leaf, as indexes into Program::nodes. Empty
// when Evaluate would reject the request before the walk. It takes the same
// steps as Evaluate but allocates, so it is meant for tools that draw the
// walk, not for serving. Thread-safe for distinct frames.
std::vector<uint32_t> WalkPath(const Program& program, const Frame& frame);

// Returns whether the policy sets of `program` combine to PERMIT when the
// policies in `applying` apply, those in `errored` error and no other
// applies. Obligations are not checked. Used to label DAG leaves of
// programs with policy sets; allocates a Frame, so not for the request
// path.
bool PolicySetsPermit(const Program& program,
                      std::span<const uint32_t> applying,
                      std::span<const uint32_t> errored);

// Evaluates one predicate; exposed for explanations and tests.
Truth EvaluatePredicate(const Program& program, const Frame& frame,
                        uint32_t predicate);

// Evaluates formula `formula` (Kleene logic); exposed for explanations.
Truth EvaluateFormula(const Program& program, const Frame& frame,
                      uint32_t formula);

// Renders why `predicate` errored on the request in `frame`: "attribute
// subject.email is absent" or "integer overflow in `env.now - token.iat`".
std::string DescribeError(const Program& program, const Frame& frame,
                          uint32_t predicate);

// The machine-readable reasons for a decision, in a stable order:
//   "attribute_conflict:<path>"  request contradicted entity data
//   "forbid:<policy>"            a forbid applied
//   "forbid_error:<policy>"      a forbid errored, so the request is denied
//   "permit:<policy>"            a permit applied (PERMIT only)
//   "obligation_error:<policy>"  a permit applied but an obligation of it
//                                reads an absent attribute, so DENY
//   "default_deny"               no permit applied and nothing forbade
std::vector<std::string> DecisionReasons(const Program& program,
                                         const Frame& frame,
                                         const Decision& decision);

}  // namespace verdict

#endif  // VERDICT_ENGINE_EVALUATOR_H_
