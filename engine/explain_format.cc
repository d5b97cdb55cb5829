// Text and JSON renderings of an Explanation (explain.h).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "engine/explain.h"

namespace verdict {
namespace {

using Json = nlohmann::ordered_json;

std::string_view EffectName(PolicyEffect effect) {
  return effect == PolicyEffect::kPermit ? "permit" : "forbid";
}

std::string_view TruthName(Truth truth) {
  switch (truth) {
    case Truth::kTrue: return "true";
    case Truth::kFalse: return "false";
    case Truth::kError: return "error";
  }
  return "error";
}

// `permit "read-docs" at policies/docs.verdict:9:1`
std::string Heading(const PolicyReport& report) {
  return absl::StrCat(ToAbsl(EffectName(report.effect)), " ",
                      Json(report.id).dump(), " at ", report.location);
}

// Returns the values the failures read, each attribute once.
std::vector<const ObservedValue*> DistinctValues(const PolicyReport& report) {
  std::vector<const ObservedValue*> values;
  for (const FailedCondition& failure : report.failures) {
    for (const ObservedValue& value : failure.values) {
      bool seen = false;
      for (const ObservedValue* kept : values) seen |= kept->path == value.path;
      if (!seen) values.push_back(&value);
    }
  }
  return values;
}

void AppendNotApplied(const PolicyReport& report, std::string& out) {
  absl::StrAppend(&out, "  ", Heading(report), "\n");
  std::vector<std::string> conditions;
  for (const FailedCondition& failure : report.failures) {
    conditions.push_back(failure.condition);
  }
  // Several failures come from an `or` whose every alternative failed.
  absl::StrAppend(&out, "    ", report.failed, " of ", report.conditions,
                  report.conditions == 1 ? " condition" : " conditions",
                  " failed");
  if (!conditions.empty()) {
    absl::StrAppend(&out, ", first: ", absl::StrJoin(conditions, " or "));
  }
  absl::StrAppend(&out, "\n");
  for (const ObservedValue* value : DistinctValues(report)) {
    absl::StrAppend(&out, "      ", value->path, " = ", value->text, "\n");
  }
}

Json PolicyJson(const PolicyReport& report) {
  return Json{{"policy", report.id},
              {"effect", EffectName(report.effect)},
              {"location", report.location}};
}

Json ValueJson(const ObservedValue& value) {
  return Json{{"attribute", value.path}, {"value", value.json}};
}

Json NotAppliedJson(const PolicyReport& report) {
  Json json = PolicyJson(report);
  json["conditions"] = report.conditions;
  json["failed"] = report.failed;
  Json failures = Json::array();
  for (const FailedCondition& failure : report.failures) {
    Json values = Json::array();
    for (const ObservedValue& value : failure.values) {
      values.push_back(ValueJson(value));
    }
    failures.push_back(Json{{"condition", failure.condition},
                            {"outcome", TruthName(failure.outcome)},
                            {"values", std::move(values)}});
  }
  json["failures"] = std::move(failures);
  return json;
}

}  // namespace

std::string ExplanationToText(const Explanation& explanation) {
  std::string out = absl::StrCat(explanation.summary, "\nreasons: ",
                                 absl::StrJoin(explanation.reasons, ", "), "\n");
  if (!explanation.rejections.empty()) {
    absl::StrAppend(&out, "\nrejected:\n");
    for (const RejectionReport& rejection : explanation.rejections) {
      absl::StrAppend(&out, "  ", rejection.reason,
                      rejection.detail.empty() ? "" : ": ", rejection.detail,
                      "\n");
    }
  }
  if (!explanation.conflicts.empty()) {
    absl::StrAppend(&out, "\nconflicts with entity data:\n");
    for (const ConflictReport& conflict : explanation.conflicts) {
      absl::StrAppend(&out, "  ", conflict.path, ": the request gives ",
                      conflict.request.text, ", the data has ",
                      conflict.data.text, "\n");
    }
  }
  if (!explanation.applied.empty()) {
    absl::StrAppend(&out, "\napplied:\n");
    for (const PolicyReport& report : explanation.applied) {
      bool overridden =
          !explanation.permit && report.effect == PolicyEffect::kPermit;
      absl::StrAppend(&out, "  ", Heading(report),
                      overridden ? " (overridden by the deny)" : "", "\n");
    }
  }
  if (!explanation.errored.empty()) {
    absl::StrAppend(&out, "\ncould not be evaluated:\n");
    for (const PolicyReport& report : explanation.errored) {
      absl::StrAppend(&out, "  ", Heading(report), "\n    ", report.error, "\n");
    }
  }
  if (!explanation.nearest.empty()) {
    absl::StrAppend(&out, "\ndid not apply, nearest first (",
                    explanation.nearest.size(), " of ",
                    explanation.not_applied, "):\n");
    for (const PolicyReport& report : explanation.nearest) {
      AppendNotApplied(report, out);
    }
  }
  return out;
}

Json ExplanationToJson(const Explanation& explanation) {
  Json conflicts = Json::array();
  for (const ConflictReport& conflict : explanation.conflicts) {
    conflicts.push_back(Json{{"attribute", conflict.path},
                             {"request", conflict.request.json},
                             {"data", conflict.data.json}});
  }
  Json rejections = Json::array();
  for (const RejectionReport& rejection : explanation.rejections) {
    rejections.push_back(
        Json{{"reason", rejection.reason}, {"detail", rejection.detail}});
  }
  Json applied = Json::array();
  for (const PolicyReport& report : explanation.applied) {
    applied.push_back(PolicyJson(report));
  }
  Json errors = Json::array();
  for (const PolicyReport& report : explanation.errored) {
    Json json = PolicyJson(report);
    json["message"] = report.error;
    errors.push_back(std::move(json));
  }
  Json nearest = Json::array();
  for (const PolicyReport& report : explanation.nearest) {
    nearest.push_back(NotAppliedJson(report));
  }
  return Json{{"decision", explanation.permit},
              {"summary", explanation.summary},
              {"reasons", explanation.reasons},
              {"revision", explanation.revision},
              {"rejections", std::move(rejections)},
              {"conflicts", std::move(conflicts)},
              {"applied", std::move(applied)},
              {"errors", std::move(errors)},
              {"nearest", std::move(nearest)},
              {"not_applied", explanation.not_applied}};
}

}  // namespace verdict
