// Lint findings: what the answers to the questions of lint.cc prove.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/lint_internal.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace lint_internal {

LintFinding Linter::Make(LintKind kind, uint32_t policy, const Query* witness,
                         std::vector<const Query*> universal,
                         std::string_view claim) const {
  LintFinding finding;
  finding.kind = kind;
  finding.policy = policy;
  if (witness != nullptr && witness->witnessed) {
    finding.witness = witness->witness;
    finding.witness_permit = witness->permit;
    finding.witness_reasons = witness->reasons;
  }
  size_t undecided = 0;
  bool proved = true;
  for (const Query* query : universal) {
    proved &= query->none;
    undecided += query->undecided;
  }
  if (witness != nullptr && !finding.witness) {
    finding.basis = "approximate: no witness request could be confirmed";
  } else if (!proved && undecided > 0) {
    finding.basis = absl::StrCat("approximate: ", undecided, " DAG region",
                                 undecided == 1 ? "" : "s",
                                 " could not be decided");
  } else if (!proved) {
    finding.basis = absl::StrCat(
        "approximate: the search stopped at its limits (",
        options_.max_regions, " DAG regions)");
  } else {
    finding.exact = true;
    finding.basis = absl::StrCat("exact: ", witness ? "proved by witness; " : "",
                                 ToAbsl(claim));
  }
  return finding;
}

void Linter::Derive(uint32_t policy, LintReport& report) const {
  const Formula& condition = Condition(policy);
  const PolicyQueries& q = per_policy_[policy];
  if (q.applies == kNone) {  // a constant that never applies
    LintFinding finding = Make(LintKind::kAlwaysFalse, policy, nullptr, {},
                               "the condition simplifies to a constant");
    report.findings.push_back(std::move(finding));
    return;
  }
  const Query& applies = queries_[q.applies];
  if (condition.kind == FormulaKind::kConst) {
    LintFinding finding = Make(LintKind::kAlwaysTrue, policy, nullptr, {},
                               "the condition simplifies to a constant");
    if (applies.witnessed) {  // shown for illustration; not needed as proof
      finding.witness = applies.witness;
      finding.witness_permit = applies.permit;
      finding.witness_reasons = applies.reasons;
    }
    report.findings.push_back(std::move(finding));
  } else if (!applies.witnessed) {
    report.findings.push_back(Make(LintKind::kNeverApplies, policy, nullptr,
                                   {&applies},
                                   "no reachable region where it applies"));
    return;
  } else if (!queries_[q.full_other].witnessed &&
             queries_[q.full_true].witnessed) {
    report.findings.push_back(Make(
        LintKind::kAlwaysApplies, policy, &queries_[q.full_true],
        {&queries_[q.full_other]},
        "no reachable region with every attribute present where it does not "
        "apply"));
  }
  if (report.relations_checked) DeriveRelations(policy, report);
}

void Linter::DeriveRelations(uint32_t policy, LintReport& report) const {
  const PolicyQueries& q = per_policy_[policy];
  const Query& applies = queries_[q.applies];
  if (!applies.witnessed) return;
  if (IsPermit(policy)) {
    const Query& grants = queries_[q.grants];
    const Query& alone = queries_[q.alone];
    if (!grants.witnessed) {
      LintFinding finding = Make(LintKind::kOverridden, policy, &applies,
                                 {&grants},
                                 "no reachable region where it applies and no "
                                 "forbid denies");
      for (uint32_t p : applies.applying) {
        if (!IsPermit(p)) finding.related.push_back(p);
      }
      for (uint32_t p : applies.erroring) {
        if (!IsPermit(p)) finding.related.push_back(p);
      }
      std::sort(finding.related.begin(), finding.related.end());
      report.findings.push_back(std::move(finding));
    } else if (!alone.witnessed) {
      LintFinding finding = Make(LintKind::kShadowed, policy, &grants,
                                 {&alone},
                                 "no reachable region where it grants without "
                                 "another permit");
      for (uint32_t p : grants.applying) {
        if (IsPermit(p) && p != policy) finding.related.push_back(p);
      }
      report.findings.push_back(std::move(finding));
    }
    return;
  }
  std::vector<const Query*> universal;
  for (size_t index : q.with_permit) {
    if (queries_[index].witnessed) return;
    universal.push_back(&queries_[index]);
  }
  report.findings.push_back(Make(LintKind::kRedundantForbid, policy, &applies,
                                 std::move(universal),
                                 "no reachable region where it denies and a "
                                 "permit applies"));
}

}  // namespace lint_internal

std::string_view LintKindName(LintKind kind) {
  switch (kind) {
    case LintKind::kNeverApplies: return "never-applies";
    case LintKind::kAlwaysTrue: return "always-true";
    case LintKind::kAlwaysFalse: return "always-false";
    case LintKind::kAlwaysApplies: return "always-applies";
    case LintKind::kShadowed: return "shadowed";
    case LintKind::kOverridden: return "overridden";
    case LintKind::kRedundantForbid: return "redundant-forbid";
    case LintKind::kRedundant: return "redundant";
  }
  return "unknown";
}

}  // namespace verdict::compiler
