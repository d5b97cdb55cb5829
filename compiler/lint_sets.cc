// Redundancy under policy sets. A set's combining algorithm decides how a
// policy's outcome reaches the decision, so the relations of lint.cc
// (a forbid overrides, a permit grants) do not hold. A policy is redundant
// when the program decides every request the same without it. Diff answers
// that question: the program is compared with a copy compiled with the
// policy never applying, which decides like one without it under every
// combining algorithm. The policy may still be the reason named for some
// decisions, or carry advice, and the finding message mentions both.

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "compiler/analysis.h"
#include "compiler/diff.h"

namespace verdict::compiler {

void CheckRedundancyUnderSets(const Program& program,
                              const CompileWithout& compile_without,
                              const AnalysisOptions& options,
                              LintReport& report) {
  const size_t count =
      std::min(program.policies.size(), kMaxRedundancyChecks);
  DiffOptions diff_options;
  diff_options.analysis = options;
  for (uint32_t policy = 0; policy < count; ++policy) {
    const bool reported = std::any_of(
        report.findings.begin(), report.findings.end(),
        [&](const LintFinding& f) { return f.policy == policy; });
    if (reported) continue;  // never applies or always false, reported above
    std::shared_ptr<const Program> without =
        compile_without(program.policies[policy].id);
    if (without == nullptr) continue;
    const DiffReport diff = Diff(program, *without, diff_options);
    report.regions += diff.regions_walked;
    report.pruned += diff.pruned;
    if (!diff.regions.empty() || !diff.complete) continue;
    LintFinding finding;
    finding.kind = LintKind::kRedundant;
    finding.policy = policy;
    finding.exact = true;
    finding.basis = absl::StrCat(
        "exact: compared with the policies compiled without it, no region of "
        "the request space changes decision (",
        diff.regions_walked, " regions walked)");
    report.findings.push_back(std::move(finding));
  }
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const LintFinding& a, const LintFinding& b) {
                     return std::tie(a.policy, a.kind) <
                            std::tie(b.policy, b.kind);
                   });
  report.relations_checked = program.policies.size() <= kMaxRedundancyChecks;
}

}  // namespace verdict::compiler
