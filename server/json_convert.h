// Conversion between AuthZEN-shaped JSON and the verdict.v1 messages, for
// clients such as `verdict decide` and for tests.

#ifndef VERDICT_SERVER_JSON_CONVERT_H_
#define VERDICT_SERVER_JSON_CONVERT_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "verdict/v1/verdict.pb.h"

namespace verdict::server {

// Converts a JSON request of the shape `verdict eval` reads:
//   {"subject":  {"type": ..., "id": ..., "properties": {...}},
//    "action":   {"name": ..., "properties": {...}},
//    "resource": {"type": ..., "id": ..., "properties": {...}},
//    "context":  {...},
//    "attributes": {"<group>": {...}}}
// Members of subject, action and resource other than type, id, name and
// properties are properties too, as in older AuthZEN drafts.
// Property values map to Value kinds: integers to int_value, strings to
// string_value, booleans to bool_value, arrays of strings to string_set and
// objects to object. A null anywhere omits that field.
//
// Returns INVALID_ARGUMENT naming the JSON field (such as
// `subject.properties.tags[1]`) for a floating-point number, an integer
// outside int64, an array with a non-string element, an unknown top-level
// field, a property given twice, a field of the wrong JSON type, or objects
// nested more than
// kMaxObjectDepth levels. Thread-safe.
absl::StatusOr<v1::DecideRequest> JsonToDecideRequest(
    const nlohmann::json& json);

// Renders a response in the shape of DecisionToJson (engine/decision_json.h):
//   {"decision": bool,
//    "context": {"decision_id": "...", "revision": "...",
//                "policies": [...], "errors": [{"policy", "message"}],
//                "reasons": [...]}}
nlohmann::json DecideResponseToJson(const v1::DecideResponse& response);

// Converts a JSON object to Properties with the rules of JsonToDecideRequest;
// null members are left out.
absl::Status JsonToProperties(const nlohmann::json& object,
                              v1::Properties& out);

// Renders Properties as a JSON object: sets and lists as arrays.
nlohmann::json PropertiesToJson(const v1::Properties& properties);

// Renders a batch item that failed: {"error": {"code": "INVALID_ARGUMENT",
// "message": "..."}}.
nlohmann::json ItemErrorToJson(const v1::ItemError& error);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_JSON_CONVERT_H_
