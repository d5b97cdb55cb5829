// `verdict lint`: find policies that never apply, always apply, are shadowed
// or overridden, and forbids that change no decision.

#include <iostream>

#include "cli/commands.h"
#include "cli/compile_util.h"
#include "compiler/analysis.h"
#include "compiler/compile.h"

namespace verdict::cli {

const CommandSpec& LintSpec() {
  static const CommandSpec spec = {
      "lint",
      "Find policies that never apply, always apply, or change no decision.",
      "verdict lint [--data DIR] [--format text|json] POLICY_DIR",
      {{"data", "DIR",
        "Directory of entity data sets (<name>.json) that schemas join."},
       {"format", "FORMAT",
        "Output format: text (the default) or json."}},
      "POLICY_DIR"};
  return spec;
}

int RunLint(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(LintSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict lint: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(LintSpec());
    return 0;
  }
  if (parsed->positionals.size() != 1) {
    std::cerr << "verdict lint: give exactly one POLICY_DIR\n";
    return 2;
  }
  const std::string format = parsed->Get("format", "text");
  if (format != "text" && format != "json") {
    std::cerr << "verdict lint: --format " << format
              << " is not supported; use text or json\n";
    return 2;
  }
  std::shared_ptr<const Program> program =
      CompileOrReport(parsed->positionals[0], parsed->Get("data"));
  if (program == nullptr) return 2;
  compiler::LintReport report = compiler::Lint(*program, {});
  if (program->has_policy_sets) {
    const std::string dir = parsed->positionals[0];
    const std::string data = parsed->Get("data");
    compiler::CheckRedundancyUnderSets(
        *program,
        [&](const std::string& id) -> std::shared_ptr<const Program> {
          compiler::CompileOptions options;
          options.disabled_policies = {id};
          absl::StatusOr<compiler::Compilation> compiled =
              compiler::CompileDirectory(dir, data, options);
          return compiled.ok() ? compiled->program : nullptr;
        },
        {}, report);
  }
  if (format == "json") {
    std::cout << compiler::LintToJson(*program, report).dump(2) << "\n";
  } else {
    std::cout << compiler::FormatLintText(*program, report);
  }
  return report.findings.empty() ? 0 : 1;
}

}  // namespace verdict::cli
