#include "engine/decision_json.h"

namespace verdict {

nlohmann::json DecisionToJson(const Program& program, const Frame& frame,
                              const Decision& decision) {
  nlohmann::json policies = nlohmann::json::array();
  for (uint32_t policy : decision.determining) {
    policies.push_back(program.policies[policy].id);
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const ErroredPolicy& error : decision.errors) {
    errors.push_back({{"policy", program.policies[error.policy].id},
                      {"message", DescribeError(program, frame, error.predicate)}});
  }
  nlohmann::json context = {
      {"decision_id", decision.id.ToString()},
      {"revision", program.revision},
      {"policies", std::move(policies)},
      {"errors", std::move(errors)},
      {"reasons", DecisionReasons(program, frame, decision)},
  };
  return {{"decision", decision.permit}, {"context", std::move(context)}};
}

}  // namespace verdict
