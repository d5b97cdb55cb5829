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
//                "reasons": ["permit:<id>", ...],
//                "obligations": [...], "advice": [...],
//                "policy_set": "<id>"}}   (only when a policy set decided)
// where the last two are those of DutiesToJson.
nlohmann::json DecisionToJson(const Program& program, const Frame& frame,
                              const Decision& decision);

// Renders the value of `slot` in `frame` by its type: strings, ip and cidr
// as text, decimals as text such as "12.5", integers, timestamps and
// durations as integer seconds, sets and lists as arrays of strings, and an
// absent attribute as null.
nlohmann::json SlotToJson(const Program& program, const Frame& frame,
                          uint32_t slot);

// Returns the obligations and advice of the policies that determined
// `decision`, in policy order, as
//   {"obligations": [{"policy": "...", "name": "...", "fields": {...}}],
//    "advice": [...]}
// Field values read from the request are rendered by SlotToJson.
nlohmann::json DutiesToJson(const Program& program, const Frame& frame,
                            const Decision& decision);

}  // namespace verdict

#endif  // VERDICT_ENGINE_DECISION_JSON_H_
