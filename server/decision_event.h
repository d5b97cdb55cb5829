// What every API of the server reports about each request it decides, for
// the metrics, the decision log and shadow mode.

#ifndef VERDICT_SERVER_DECISION_EVENT_H_
#define VERDICT_SERVER_DECISION_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"

namespace verdict::server {

// The API a request came through: a metric label and a decision log field.
enum class DecisionApi : uint8_t {
  kDecide,              // verdict.v1.Verdict/Decide
  kBatchDecide,         // verdict.v1.Verdict/BatchDecide, one per item
  kDecideStream,        // verdict.v1.Verdict/DecideStream, one per message
  kEnvoyCheck,          // envoy.service.auth.v3.Authorization/Check
  kAuthzenEvaluation,   // POST /access/v1/evaluation
  kAuthzenEvaluations,  // POST /access/v1/evaluations, one per item
  kAuthzenSearch,       // POST /access/v1/search/*, one per candidate
};
inline constexpr size_t kDecisionApiCount = 7;

// Returns the label of `api`: "decide", "batch_decide", "decide_stream",
// "envoy_check", "authzen_evaluation", "authzen_evaluations" or
// "authzen_search".
std::string_view DecisionApiName(DecisionApi api);

enum class DecisionOutcome : uint8_t {
  kPermit,
  kDeny,
  // The request was not decided: a malformed or wrongly typed attribute.
  // The API returns an error (Verdict's API, AuthZEN) or a denial (Envoy).
  kInvalid,
};
inline constexpr size_t kDecisionOutcomeCount = 3;

// Returns "permit", "deny" or "invalid".
std::string_view DecisionOutcomeName(DecisionOutcome outcome);

// Decodes the request being reported again, against `program` and into
// `frame`, as of the same time as the reported decision. Shadow mode decides
// the request a second time with it. A FunctionRef does not own its
// callable: build the event inside the expression that records it, or keep
// the lambda in a variable.
using RequestDecoder =
    absl::FunctionRef<absl::Status(const Program& program, Frame& frame)>;

// One request an API decoded and, when valid, evaluated. A view: the
// members refer to the API's state and are valid only during the call that
// receives the event, so a consumer copies what it keeps.
struct DecisionEvent {
  DecisionApi api;
  const Program& program;
  // The request as decoded. After a failed decode it may be partly filled.
  const Frame& frame;
  // The evaluation's result; null when the request was invalid.
  const Decision* decision;
  // The decoder's error when the request was invalid, else OK.
  const absl::Status& status;
  // When decoding began, in absl::GetCurrentTimeNanos() units.
  int64_t start_nanos;
  // Decoding and evaluation time, in nanoseconds. Excludes building and
  // sending the response.
  int64_t duration_nanos;
  RequestDecoder decode_again;

  DecisionOutcome outcome() const {
    if (decision == nullptr) return DecisionOutcome::kInvalid;
    return decision->permit ? DecisionOutcome::kPermit : DecisionOutcome::kDeny;
  }
};

// The shadow policy set's decision on the request of a DecisionEvent. A
// view, valid as long as the event it belongs to.
struct ShadowDecision {
  const Program& program;
  const Frame& frame;
  const Decision* decision;    // null when the request is invalid for it
  const absl::Status& status;  // the decoder's error when invalid, else OK
  bool differs;  // its outcome differs from the enforced decision's

  DecisionOutcome outcome() const {
    if (decision == nullptr) return DecisionOutcome::kInvalid;
    return decision->permit ? DecisionOutcome::kPermit : DecisionOutcome::kDeny;
  }
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DECISION_EVENT_H_
