// Request checks and decisions shared by the AuthZEN evaluation and search
// handlers.

#ifndef VERDICT_SERVER_AUTHZEN_INTERNAL_H_
#define VERDICT_SERVER_AUTHZEN_INTERNAL_H_

#include <string>

#include "absl/status/status.h"
#include "engine/program.h"
#include "nlohmann/json.hpp"
#include "server/decision_recorder.h"

namespace verdict::server::authzen_internal {

// Parses `body` as one JSON value. Returns INVALID_ARGUMENT, with the
// parser's message, for malformed JSON or nesting deeper than
// kMaxHttpJsonDepth.
absl::Status ParseBody(const std::string& body, nlohmann::json& out);

// Returns the JSON type name of `value` for error messages: "a string",
// "an array", "null", ...
std::string DescribeType(const nlohmann::json& value);

// Checks the request members subject, action and resource of an access
// request, and context when present: objects whose type and id (or name)
// are strings and whose properties is an object. The entity in
// `searched`, if any, may leave out its id (or, for the action, be absent).
// Members other than these and the Verdict extensions `attributes` and
// `tokens` are rejected. Returns an empty string when the request is valid,
// else a message that names the member, prefixed with `where`.
std::string CheckAccessRequest(const nlohmann::json& request,
                               const std::string& where,
                               const char* searched = nullptr);

// Decides `request`, an object with subject, action, resource and context,
// against `program` and returns the decision in the AuthZEN response shape
// (DecisionToJson). Reports the request to `recorder` as one of `api`
// when the recorder is not null. Returns INVALID_ARGUMENT when the request
// decoder rejects a value, such as a wrongly typed attribute.
absl::Status Decide(const Program& program, const nlohmann::json& request,
                    DecisionApi api, const DecisionRecorder* recorder,
                    nlohmann::json& decision);

}  // namespace verdict::server::authzen_internal

#endif  // VERDICT_SERVER_AUTHZEN_INTERNAL_H_
