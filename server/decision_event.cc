#include "server/decision_event.h"

namespace verdict::server {

std::string_view DecisionApiName(DecisionApi api) {
  switch (api) {
    case DecisionApi::kDecide:
      return "decide";
    case DecisionApi::kBatchDecide:
      return "batch_decide";
    case DecisionApi::kDecideStream:
      return "decide_stream";
    case DecisionApi::kEnvoyCheck:
      return "envoy_check";
    case DecisionApi::kAuthzenEvaluation:
      return "authzen_evaluation";
    case DecisionApi::kAuthzenEvaluations:
      return "authzen_evaluations";
    case DecisionApi::kAuthzenSearch:
      return "authzen_search";
  }
  return "unknown";
}

std::string_view DecisionOutcomeName(DecisionOutcome outcome) {
  switch (outcome) {
    case DecisionOutcome::kPermit:
      return "permit";
    case DecisionOutcome::kDeny:
      return "deny";
    case DecisionOutcome::kInvalid:
      return "invalid";
  }
  return "unknown";
}

}  // namespace verdict::server
