#include "engine/policy_test_runner.h"

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/absl_compat.h"
#include "nlohmann/json.hpp"

namespace verdict {
namespace {

using Json = nlohmann::json;

constexpr const char* kCaseMembers[] = {"description", "now", "request",
                                        "expected"};
constexpr const char* kExpectedMembers[] = {"decision", "reasons",
                                            "not_reasons", "policies", "errors"};

template <size_t N>
bool OneOf(const std::string& name, const char* const (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

// Parses `text`, returning the parser's message (with line and column) on
// failure.
absl::StatusOr<Json> ParseJson(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& error) {
    std::string message = error.what();
    // Drop the library's "[json.exception.parse_error.101] " prefix.
    size_t end = message.find("] ");
    if (end != std::string::npos) message = message.substr(end + 2);
    return absl::InvalidArgumentError(message);
  }
}

// Returns an error naming the first member of `object` not in `names`.
template <size_t N>
absl::Status CheckMembers(const Json& object, const char* const (&names)[N],
                          std::string_view where) {
  for (const auto& [name, value] : object.items()) {
    if (!OneOf(name, names)) {
      std::vector<std::string> known(std::begin(names), std::end(names));
      return absl::InvalidArgumentError(
          absl::StrCat("unknown member \"", name, "\" in ", ToAbsl(where),
                       "; known members are ", absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

// Checks that `expected[key]`, when present, is an array of strings, and
// appends them to `out`.
absl::Status ReadStrings(const Json& expected, const char* key,
                         std::vector<std::string>& out) {
  if (!expected.contains(key)) return absl::OkStatus();
  const Json& list = expected[key];
  bool ok = list.is_array() && std::all_of(list.begin(), list.end(),
                                           [](const Json& e) { return e.is_string(); });
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"expected.", key, "\" must be an array of strings"));
  }
  for (const Json& element : list) out.push_back(element.get<std::string>());
  return absl::OkStatus();
}

// The expectations of one case, validated.
struct Expectations {
  bool permit = false;
  std::vector<std::string> reasons, not_reasons, policies, errors;
  bool has_policies = false, has_errors = false;
};

absl::Status ReadExpectations(const Program& program, const Json& expected,
                              Expectations& out) {
  if (!expected.is_object()) {
    return absl::InvalidArgumentError("\"expected\" must be an object");
  }
  if (absl::Status s = CheckMembers(expected, kExpectedMembers, "\"expected\"");
      !s.ok()) {
    return s;
  }
  if (!expected.contains("decision") || !expected["decision"].is_boolean()) {
    return absl::InvalidArgumentError(
        "\"expected.decision\" must be true (PERMIT) or false (DENY)");
  }
  out.permit = expected["decision"].get<bool>();
  out.has_policies = expected.contains("policies");
  out.has_errors = expected.contains("errors");
  for (auto [key, list] : {std::pair{"reasons", &out.reasons},
                           {"not_reasons", &out.not_reasons},
                           {"policies", &out.policies},
                           {"errors", &out.errors}}) {
    if (absl::Status s = ReadStrings(expected, key, *list); !s.ok()) return s;
  }
  for (auto [key, list] : {std::pair{"policies", &out.policies},
                           {"errors", &out.errors}}) {
    for (const std::string& id : *list) {
      bool known = std::any_of(program.policies.begin(), program.policies.end(),
                               [&](const PolicyInfo& p) { return p.id == id; });
      if (!known) {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"expected.", key, "\" names no policy of this set: \"", id, "\""));
      }
    }
  }
  return absl::OkStatus();
}

std::string Bracketed(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return absl::StrCat("[", absl::StrJoin(ids, ", "), "]");
}

// Compares the decision with the expectations; returns the mismatches.
std::vector<std::string> Compare(const Program& program, const Decision& decision,
                                 const std::vector<std::string>& reasons,
                                 const Expectations& expected) {
  std::vector<std::string> mismatches;
  auto name = [](bool permit) { return permit ? "PERMIT" : "DENY"; };
  if (decision.permit != expected.permit) {
    mismatches.push_back(absl::StrCat("expected ", name(expected.permit),
                                      ", got ", name(decision.permit)));
  }
  auto has = [&](const std::string& reason) {
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
  };
  for (const std::string& reason : expected.reasons) {
    if (!has(reason)) mismatches.push_back("expected reason " + reason);
  }
  for (const std::string& reason : expected.not_reasons) {
    if (has(reason)) mismatches.push_back("unexpected reason " + reason);
  }
  std::vector<std::string> policies, errors;
  for (uint32_t policy : decision.determining) {
    policies.push_back(program.policies[policy].id);
  }
  for (const ErroredPolicy& error : decision.errors) {
    errors.push_back(program.policies[error.policy].id);
  }
  if (expected.has_policies &&
      Bracketed(policies) != Bracketed(expected.policies)) {
    mismatches.push_back(absl::StrCat("expected policies ",
                                      Bracketed(expected.policies), ", got ",
                                      Bracketed(policies)));
  }
  if (expected.has_errors && Bracketed(errors) != Bracketed(expected.errors)) {
    mismatches.push_back(absl::StrCat("expected errors ",
                                      Bracketed(expected.errors), ", got ",
                                      Bracketed(errors)));
  }
  return mismatches;
}

// Appends the predicates under `formula` to `out`, each once, in the order
// the formula lists them.
void CollectPredicates(const Program& program, uint32_t formula,
                       std::vector<uint32_t>& out) {
  const Formula& node = program.formulas[formula];
  if (node.kind == FormulaKind::kAtom) {
    if (std::find(out.begin(), out.end(), node.predicate) == out.end()) {
      out.push_back(node.predicate);
    }
    return;
  }
  if (node.kind == FormulaKind::kConst) return;
  for (uint32_t i = 0; i < node.count; ++i) {
    CollectPredicates(program, program.formula_children[node.begin + i], out);
  }
}

}  // namespace

PolicyTestRunner::PolicyTestRunner(const Program& program)
    : program_(program),
      seen_true_(program.predicates.size(), false),
      seen_false_(program.predicates.size(), false),
      determined_(program.policies.size(), false) {
  for (uint32_t policy = 0; policy < program.policies.size(); ++policy) {
    std::vector<uint32_t> predicates;
    CollectPredicates(program, program.policy_formulas[policy], predicates);
    for (uint32_t predicate : predicates) {
      conditions_.push_back(Condition{policy, predicate});
    }
  }
}

CaseResult PolicyTestRunner::Run(std::string_view json_text) {
  CaseResult result;
  absl::StatusOr<Json> file = ParseJson(json_text);
  if (!file.ok()) {
    result.failure = absl::StrCat("invalid JSON: ", file.status().message());
    return result;
  }
  if (!file->is_object()) {
    result.failure = "a case file must be one JSON object";
    return result;
  }
  if (file->contains("description") && (*file)["description"].is_string()) {
    result.description = (*file)["description"].get<std::string>();
  }
  Expectations expected;
  absl::Status status = CheckMembers(*file, kCaseMembers, "the case");
  if (status.ok() && file->contains("now") &&
      !(*file)["now"].is_number_integer()) {
    status = absl::InvalidArgumentError("\"now\" must be Unix seconds");
  }
  if (status.ok() && !(file->contains("request") && (*file)["request"].is_object())) {
    status = absl::InvalidArgumentError("\"request\" must be an object");
  }
  if (status.ok()) {
    status = ReadExpectations(program_, file->value("expected", Json()), expected);
  }
  if (!status.ok()) {
    result.failure = std::string(status.message());
    return result;
  }

  int64_t now = file->contains("now") ? (*file)["now"].get<int64_t>()
                                      : absl::ToUnixSeconds(absl::Now());
  Frame frame;
  status = DecodeJsonRequest(program_, (*file)["request"].dump(), now, frame);
  if (!status.ok()) {
    result.failure = absl::StrCat("invalid request: ", status.message());
    return result;
  }
  Decision decision = Evaluate(program_, frame);
  RecordCoverage(frame, decision);
  result.reasons = DecisionReasons(program_, frame, decision);
  std::vector<std::string> mismatches =
      Compare(program_, decision, result.reasons, expected);
  result.passed = mismatches.empty();
  if (!result.passed) {
    result.failure = absl::StrCat(absl::StrJoin(mismatches, "; "), " (reasons ",
                                  absl::StrJoin(result.reasons, ", "), ")");
  }
  return result;
}

void PolicyTestRunner::RecordCoverage(const Frame& frame,
                                      const Decision& decision) {
  // A conflict denies before any condition is evaluated.
  if (decision.rejected) return;
  for (uint32_t policy : decision.determining) determined_[policy] = true;
  for (const Condition& condition : conditions_) {
    uint32_t predicate = condition.predicate;
    if (seen_true_[predicate] && seen_false_[predicate]) continue;
    Truth truth = EvaluatePredicate(program_, frame, predicate);
    if (truth == Truth::kTrue) seen_true_[predicate] = true;
    if (truth == Truth::kFalse) seen_false_[predicate] = true;
  }
}

CoverageCount PolicyTestRunner::PolicyCoverage() const {
  CoverageCount count;
  count.total = determined_.size();
  count.covered = std::count(determined_.begin(), determined_.end(), true);
  return count;
}

CoverageCount PolicyTestRunner::ConditionCoverage() const {
  CoverageCount count;
  count.total = 2 * conditions_.size();
  for (const Condition& condition : conditions_) {
    count.covered += seen_true_[condition.predicate];
    count.covered += seen_false_[condition.predicate];
  }
  return count;
}

std::string PolicyTestRunner::CoverageReport() const {
  CoverageCount policies = PolicyCoverage();
  CoverageCount outcomes = ConditionCoverage();
  std::string out = absl::StrCat(
      policies.covered, " of ", policies.total,
      " policies applied (", policies.Percent(), "%), ", outcomes.covered,
      " of ", outcomes.total, " condition outcomes (", outcomes.Percent(), "%)\n");
  std::string uncovered;
  for (uint32_t policy = 0; policy < program_.policies.size(); ++policy) {
    if (determined_[policy]) continue;
    const PolicyInfo& info = program_.policies[policy];
    absl::StrAppend(&uncovered, "  ", info.location, ": ",
                    info.effect == PolicyEffect::kPermit ? "permit" : "forbid",
                    " \"", info.id, "\"\n");
  }
  if (!uncovered.empty()) {
    absl::StrAppend(&out, "policies that no case made apply:\n", uncovered);
  }
  uncovered.clear();
  for (const Condition& condition : conditions_) {
    bool seen_true = seen_true_[condition.predicate];
    bool seen_false = seen_false_[condition.predicate];
    if (seen_true && seen_false) continue;
    const PolicyInfo& info = program_.policies[condition.policy];
    const char* missing = seen_true    ? "never false"
                          : seen_false ? "never true"
                                       : "never true or false";
    absl::StrAppend(&uncovered, "  ", info.location, ": ", info.id, ": ",
                    program_.DescribePredicate(condition.predicate), " (",
                    missing, ")\n");
  }
  if (!uncovered.empty()) {
    absl::StrAppend(&out, "conditions not seen both true and false:\n",
                    uncovered);
  }
  return out;
}

}  // namespace verdict
