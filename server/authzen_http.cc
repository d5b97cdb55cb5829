#include "server/authzen_http.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "server/authzen_internal.h"
#include "server/verdict_service.h"

namespace verdict::server {
namespace authzen_internal {

using Json = nlohmann::json;

absl::Status ParseBody(const std::string& body, Json& out) {
  // nlohmann::json parses nested values recursively, so the depth is
  // checked first with a scan that skips the contents of strings.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxHttpJsonDepth) {
        return absl::InvalidArgumentError(
            absl::StrCat("request body nests objects and arrays deeper than ",
                         kMaxHttpJsonDepth, " levels, the limit"));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  // nlohmann::json reports malformed input only through an exception, whose
  // message names the byte offset and what was expected there.
  try {
    out = Json::parse(body);
  } catch (const Json::parse_error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: ", error.what()));
  }
  return absl::OkStatus();
}

std::string DescribeType(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

namespace {

// Checks one entity member; see CheckAccessRequest.
std::string CheckEntity(const Json& request, const std::string& where,
                        const char* name, bool searched) {
  const bool is_action = std::string(name) == "action";
  if (!request.contains(name)) {
    if (searched && is_action) return "";
    return absl::StrCat(where, "missing member \"", name,
                        "\"; an access request needs subject, action and "
                        "resource objects");
  }
  const Json& entity = request[name];
  if (!entity.is_object()) {
    return absl::StrCat(where, "member \"", name, "\" must be an object, not ",
                        DescribeType(entity));
  }
  const std::vector<const char*> keys =
      is_action ? std::vector<const char*>{"name"}
                : std::vector<const char*>{"type", "id"};
  for (const char* key : keys) {
    // The searched entity leaves out what the search fills in.
    const bool optional = searched && (is_action || std::string(key) == "id");
    if (!entity.contains(key)) {
      if (optional) continue;
      return absl::StrCat(where, "missing member \"", name, ".", key,
                          "\", a string");
    }
    if (!entity[key].is_string()) {
      return absl::StrCat(where, "member \"", name, ".", key,
                          "\" must be a string, not ",
                          DescribeType(entity[key]));
    }
  }
  if (entity.contains("properties") && !entity["properties"].is_object()) {
    return absl::StrCat(where, "member \"", name,
                        ".properties\" must be an object, not ",
                        DescribeType(entity["properties"]));
  }
  return "";
}

}  // namespace

std::string CheckAccessRequest(const Json& request, const std::string& where,
                               const char* searched) {
  if (!request.is_object()) {
    return absl::StrCat(where, "an access request must be a JSON object, not ",
                        DescribeType(request));
  }
  for (const auto& [key, value] : request.items()) {
    if (key != "subject" && key != "action" && key != "resource" &&
        key != "context" && key != "attributes" && key != "tokens") {
      return absl::StrCat(where, "unknown member \"", key,
                          "\"; an access request has subject, action, "
                          "resource and context");
    }
  }
  for (const char* name : {"subject", "action", "resource"}) {
    const bool is_searched =
        searched != nullptr && std::string(searched) == name;
    std::string error = CheckEntity(request, where, name, is_searched);
    if (!error.empty()) return error;
  }
  if (request.contains("context") && !request["context"].is_object()) {
    return absl::StrCat(where, "member \"context\" must be an object, not ",
                        DescribeType(request["context"]));
  }
  return "";
}

absl::Status Decide(const Program& program, const Json& request,
                    DecisionApi api, const DecisionRecorder* recorder,
                    Json& decision) {
  // Each server thread keeps its frame, whose buffers stay grown between
  // requests. DecodeJsonRequest resets it for `program`.
  thread_local Frame frame;
  const std::string text =
      request.dump(-1, ' ', false, Json::error_handler_t::replace);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const absl::Status status = DecideAndRecord(
      recorder, api, program, frame,
      [&](const Program& target, Frame& target_frame) {
        return DecodeJsonRequest(target, text, now, target_frame);
      },
      [&](const Decision& result) {
        decision = DecisionToJson(program, frame, result);
      });
  return status;
}

}  // namespace authzen_internal

namespace {

using Json = nlohmann::json;
using authzen_internal::CheckAccessRequest;
using authzen_internal::Decide;
using authzen_internal::DescribeType;
using authzen_internal::ParseBody;

enum class Semantic { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit };

JsonResponse NoProgram() {
  return ErrorResponse(503, "no policy set is loaded yet; retry shortly");
}

// Reads options.evaluations_semantic of a batch; returns an error message,
// or an empty string.
std::string ReadSemantic(const Json& batch, Semantic& semantic) {
  semantic = Semantic::kExecuteAll;
  if (!batch.contains("options")) return "";
  const Json& options = batch["options"];
  if (!options.is_object()) {
    return absl::StrCat("member \"options\" must be an object, not ",
                        DescribeType(options));
  }
  if (!options.contains("evaluations_semantic")) return "";
  const Json& value = options["evaluations_semantic"];
  const std::string text = value.is_string() ? value.get<std::string>() : "";
  if (text == "execute_all") return "";
  if (text == "deny_on_first_deny") {
    semantic = Semantic::kDenyOnFirstDeny;
    return "";
  }
  if (text == "permit_on_first_permit") {
    semantic = Semantic::kPermitOnFirstPermit;
    return "";
  }
  return absl::StrCat("invalid options.evaluations_semantic ", value.dump(),
                      "; expected \"execute_all\", \"deny_on_first_deny\" or "
                      "\"permit_on_first_permit\"");
}

// The result of a batch item that could not be decided: a deny whose
// context carries the error, so the other items still get their decisions.
Json ItemError(const std::string& message) {
  return {{"decision", false},
          {"context", {{"error", {{"code", 400}, {"message", message}}}}}};
}

}  // namespace

void AuthzenHttpService::Register(HttpServer& server) {
  server.Route("POST", kEvaluationPath, [this](const httplib::Request& r) {
    return Evaluation(r.body);
  });
  server.Route("POST", kEvaluationsPath, [this](const httplib::Request& r) {
    return Evaluations(r.body);
  });
  server.Route("POST", kSearchSubjectPath, [this](const httplib::Request& r) {
    return Search(SearchKind::kSubject, r.body);
  });
  server.Route("POST", kSearchResourcePath, [this](const httplib::Request& r) {
    return Search(SearchKind::kResource, r.body);
  });
  server.Route("POST", kSearchActionPath, [this](const httplib::Request& r) {
    return Search(SearchKind::kAction, r.body);
  });
  server.Route("GET", kMetadataPath, [this](const httplib::Request& r) {
    return Metadata(r.get_header_value("Host"));
  });
}

JsonResponse AuthzenHttpService::Evaluation(const std::string& body) const {
  Json request;
  if (absl::Status s = ParseBody(body, request); !s.ok()) {
    return Reject(DecisionApi::kAuthzenEvaluation, std::string(s.message()));
  }
  if (std::string error = CheckAccessRequest(request, ""); !error.empty()) {
    return Reject(DecisionApi::kAuthzenEvaluation, std::move(error));
  }
  const std::shared_ptr<const Program> program = store_.Current();
  if (program == nullptr) return NoProgram();
  Json decision;
  if (absl::Status s =
          Decide(*program, request, DecisionApi::kAuthzenEvaluation, recorder_,
                 decision);
      !s.ok()) {
    return ErrorResponse(400, std::string(s.message()));
  }
  return {200, std::move(decision)};
}

JsonResponse AuthzenHttpService::Reject(DecisionApi api,
                                        std::string message) const {
  if (recorder_ != nullptr) recorder_->RecordRejectedRequest(api);
  return ErrorResponse(400, std::move(message));
}

JsonResponse AuthzenHttpService::Evaluations(const std::string& body) const {
  Json batch;
  if (absl::Status s = ParseBody(body, batch); !s.ok()) {
    return Reject(DecisionApi::kAuthzenEvaluations, std::string(s.message()));
  }
  if (!batch.is_object()) {
    return Reject(DecisionApi::kAuthzenEvaluations,
                  absl::StrCat("an evaluations request must be a JSON "
                               "object, not ",
                               DescribeType(batch)));
  }
  // Without items, the request is a single evaluation and gets a single
  // decision, as the Access Evaluations API specifies for compatibility.
  if (!batch.contains("evaluations") ||
      (batch["evaluations"].is_array() && batch["evaluations"].empty())) {
    batch.erase("evaluations");
    batch.erase("options");
    return Evaluation(batch.dump());
  }
  const Json& items = batch["evaluations"];
  if (!items.is_array()) {
    return Reject(DecisionApi::kAuthzenEvaluations,
                  absl::StrCat("member \"evaluations\" must be an "
                               "array, not ",
                               DescribeType(items)));
  }
  if (items.size() > kMaxBatchRequests) {
    return ErrorResponse(
        400, absl::StrCat("\"evaluations\" has ", items.size(),
                          " items, more than the limit of ", kMaxBatchRequests,
                          "; split it into several requests"));
  }
  for (const auto& [key, value] : batch.items()) {
    if (key != "subject" && key != "action" && key != "resource" &&
        key != "context" && key != "evaluations" && key != "options") {
      return Reject(
          DecisionApi::kAuthzenEvaluations,
          absl::StrCat("unknown member \"", key,
                       "\"; an evaluations request has subject, action, "
                       "resource, context, evaluations and options"));
    }
  }
  Semantic semantic;
  if (std::string error = ReadSemantic(batch, semantic); !error.empty()) {
    return Reject(DecisionApi::kAuthzenEvaluations, std::move(error));
  }
  const std::shared_ptr<const Program> program = store_.Current();
  if (program == nullptr) return NoProgram();

  Json results = Json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = absl::StrCat("evaluations[", i, "]: ");
    if (!items[i].is_object()) {
      return Reject(DecisionApi::kAuthzenEvaluations,
                    absl::StrCat(where, "must be an object, not ",
                                 DescribeType(items[i])));
    }
    // The item's members replace the top-level defaults whole.
    Json request = Json::object();
    for (const char* member : {"subject", "action", "resource", "context"}) {
      if (batch.contains(member)) request[member] = batch[member];
    }
    for (const auto& [key, value] : items[i].items()) request[key] = value;

    Json decision;
    if (std::string error = CheckAccessRequest(request, where);
        !error.empty()) {
      if (recorder_ != nullptr) {
        recorder_->RecordRejectedRequest(DecisionApi::kAuthzenEvaluations);
      }
      decision = ItemError(error);
    } else if (absl::Status s =
                   Decide(*program, request, DecisionApi::kAuthzenEvaluations,
                          recorder_, decision);
               !s.ok()) {
      decision = ItemError(absl::StrCat(where, s.message()));
    }
    const bool permit = decision["decision"].get<bool>();
    results.push_back(std::move(decision));
    if ((semantic == Semantic::kDenyOnFirstDeny && !permit) ||
        (semantic == Semantic::kPermitOnFirstPermit && permit)) {
      break;
    }
  }
  return {200, {{"evaluations", std::move(results)}}};
}

JsonResponse AuthzenHttpService::Metadata(const std::string& host) const {
  // NOTE: the listener speaks plain HTTP, so the URLs use http://; behind a
  // TLS-terminating proxy that forwards Host, the scheme is not the one
  // clients use.
  const std::string base = absl::StrCat("http://", host);
  return {
      200,
      {{"policy_decision_point", base},
       {"access_evaluation_endpoint", absl::StrCat(base, kEvaluationPath)},
       {"access_evaluations_endpoint", absl::StrCat(base, kEvaluationsPath)},
       {"search_subject_endpoint", absl::StrCat(base, kSearchSubjectPath)},
       {"search_resource_endpoint", absl::StrCat(base, kSearchResourcePath)},
       {"search_action_endpoint", absl::StrCat(base, kSearchActionPath)}}};
}

}  // namespace verdict::server
