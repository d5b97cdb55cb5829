// JSON rendering of decisions, shared by the CLI and the servers.

#ifndef VERDICT_ENGINE_DECISION_JSON_H_
#define VERDICT_ENGINE_DECISION_JSON_H_

#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict {

// Renders a decision in the AuthZEN response shape:
//   {"decision": true|false,
//    "context": {"decision_id": "...", "revision": "...",
//                "policies": ["<determining policy id>", ...],
//                "errors": [{"policy": "...", "message": "..."}],
//                "reasons": ["permit:<id>", ...]}}
nlohmann::json DecisionToJson(const Program& program, const Frame& frame,
                              const Decision& decision);

}  // namespace verdict

#endif  // VERDICT_ENGINE_DECISION_JSON_H_
