// Text and JSON renderings of a LintReport.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/analysis.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace {

using Json = nlohmann::json;

std::string EffectName(const PolicyInfo& info) {
  return info.effect == PolicyEffect::kPermit ? "permit" : "forbid";
}

std::string PolicyName(const Program& program, uint32_t policy) {
  const PolicyInfo& info = program.policies[policy];
  return absl::StrCat(EffectName(info), " \"", info.id, "\"");
}

std::string RelatedSuffix(const Program& program, const LintFinding& finding) {
  if (finding.related.empty()) return "";
  std::vector<std::string> names;
  for (uint32_t p : finding.related) {
    names.push_back(absl::StrCat("\"", program.policies[p].id, "\""));
  }
  return absl::StrCat(" (on the witness: ", absl::StrJoin(names, ", "), ")");
}

bool ConstantError(const Program& program, uint32_t policy) {
  const Formula& f = program.formulas[program.policy_formulas[policy]];
  return f.kind == FormulaKind::kConst && f.constant == Truth::kError;
}

std::string Message(const Program& program, const LintFinding& finding) {
  const std::string name = PolicyName(program, finding.policy);
  const bool error = ConstantError(program, finding.policy);
  switch (finding.kind) {
    case LintKind::kNeverApplies:
      return absl::StrCat(name, " applies to no request");
    case LintKind::kAlwaysTrue:
      return error ? absl::StrCat("the condition of ", name,
                                  " is always an error, so it denies every "
                                  "request")
                   : absl::StrCat("the condition of ", name, " is always true");
    case LintKind::kAlwaysFalse:
      return error ? absl::StrCat("the condition of ", name,
                                  " is always an error, so it never applies")
                   : absl::StrCat("the condition of ", name, " is always false");
    case LintKind::kAlwaysApplies:
      return absl::StrCat(name,
                          " applies to every request that has every attribute");
    case LintKind::kShadowed:
      return absl::StrCat(name,
                          " is shadowed: wherever it grants, another permit "
                          "grants too, so removing it changes no decision",
                          RelatedSuffix(program, finding));
    case LintKind::kOverridden:
      return absl::StrCat(name,
                          " never grants: wherever it applies, a forbid denies",
                          RelatedSuffix(program, finding));
    case LintKind::kRedundantForbid:
      return absl::StrCat(name,
                          " is redundant: it denies only where no permit "
                          "applies");
    case LintKind::kRedundant:
      return absl::StrCat(name,
                          " changes no decision: without it every request "
                          "is decided the same, though it may still be named "
                          "as a reason or carry advice");
  }
  return name;
}

std::string Plural(size_t count, const char* one, const char* many) {
  return absl::StrCat(count, " ", count == 1 ? one : many);
}

std::string Counts(const LintReport& report) {
  return absl::StrCat(Plural(report.questions, "question", "questions"), ", ",
                      Plural(report.pruned, "infeasible branch", "infeasible branches"), " pruned, ",
                      Plural(report.regions, "DAG region", "DAG regions"), " walked");
}

constexpr char kLegend[] =
    "Findings are proved only where marked exact.\n"
    "exact: proved. The witness request was decoded and decided by the "
    "engine,\n"
    "  and every region that would contradict the finding was shown "
    "unreachable.\n"
    "approximate: neither proved nor refuted (a limit was reached, or the "
    "policy\n"
    "  uses conditions this analysis does not model); check it by hand.\n";

}  // namespace

std::string FormatLintText(const Program& program, const LintReport& report) {
  std::string out;
  size_t exact = 0;
  for (const LintFinding& finding : report.findings) {
    exact += finding.exact;
    absl::StrAppend(&out, program.policies[finding.policy].location, ": ",
                    ToAbsl(LintKindName(finding.kind)), ": ",
                    Message(program, finding), "\n  ", finding.basis, "\n");
    if (finding.witness) {
      absl::StrAppend(&out, "  witness: ", finding.witness->dump(), "\n",
                      "  engine: ", finding.witness_permit ? "PERMIT" : "DENY",
                      " [", absl::StrJoin(finding.witness_reasons, ", "), "]\n");
    }
  }
  if (!report.complete) {
    absl::StrAppend(&out,
                    "note: the walk stopped at the region limit; regions past "
                    "it were not analysed\n");
  }
  if (!report.relations_checked) {
    absl::StrAppend(&out,
                    "note: the policies use policy sets, so shadowed, "
                    "overridden and redundant-forbid do not apply,\n"
                    "  and redundancy was not checked for every policy\n");
  }
  if (report.findings.empty()) {
    absl::StrAppend(&out, "no findings (", Counts(report), ")\n");
    return out;
  }
  const size_t n = report.findings.size();
  absl::StrAppend(&out, n, n == 1 ? " finding: " : " findings: ", exact,
                  " exact, ", n - exact, " approximate (", Counts(report),
                  ")\n", kLegend);
  return out;
}

Json LintToJson(const Program& program, const LintReport& report) {
  Json findings = Json::array();
  size_t exact = 0;
  for (const LintFinding& finding : report.findings) {
    exact += finding.exact;
    const PolicyInfo& info = program.policies[finding.policy];
    Json related = Json::array();
    for (uint32_t p : finding.related) related.push_back(program.policies[p].id);
    Json item = {{"kind", std::string(LintKindName(finding.kind))},
                 {"policy", info.id},
                 {"effect", EffectName(info)},
                 {"location", info.location},
                 {"message", Message(program, finding)},
                 {"exact", finding.exact},
                 {"basis", finding.basis},
                 {"related", related}};
    if (finding.witness) {
      item["witness"] = *finding.witness;
      item["witness_decision"] = {{"decision", finding.witness_permit},
                                  {"reasons", finding.witness_reasons}};
    }
    findings.push_back(std::move(item));
  }
  return {{"findings", findings},
          {"summary",
           {{"findings", report.findings.size()},
            {"exact", exact},
            {"approximate", report.findings.size() - exact},
            {"questions", report.questions},
            {"regions", report.regions},
            {"pruned", report.pruned},
            {"complete", report.complete},
            {"relations_checked", report.relations_checked}}}};
}

}  // namespace verdict::compiler
