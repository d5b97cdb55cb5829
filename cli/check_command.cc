// `verdict check`: compile a policy directory and report every error.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/compile_util.h"
#include "compiler/compile.h"

namespace verdict::cli {

const CommandSpec& CheckSpec() {
  static const CommandSpec spec = {
      "check",
      "Compile the policies in DIR and report every error with file:line:col.",
      "verdict check [--data DIR] POLICY_DIR",
      {{"data", "DIR",
        "Directory of entity data sets (<name>.json) that schemas join."}},
      "POLICY_DIR"};
  return spec;
}

std::shared_ptr<const Program> CompileOrReport(const std::string& policy_dir,
                                               const std::string& data_dir) {
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory(policy_dir, data_dir, {});
  if (!compilation.ok()) {
    std::cerr << "verdict: " << compilation.status().message() << "\n";
    return nullptr;
  }
  std::cerr << compilation->diagnostics;
  if (compilation->program == nullptr) {
    std::cerr << compilation->error_count
              << (compilation->error_count == 1 ? " error\n" : " errors\n");
  }
  return compilation->program;
}

int RunCheck(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(CheckSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict check: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(CheckSpec());
    return 0;
  }
  if (parsed->positionals.size() != 1) {
    std::cerr << "verdict check: give exactly one POLICY_DIR\n";
    return 2;
  }
  const std::string& dir = parsed->positionals[0];
  std::shared_ptr<const Program> program =
      CompileOrReport(dir, parsed->Get("data"));
  if (program == nullptr) return 1;
  std::cout << dir << ": ok, " << program->policies.size() << " policies, "
            << program->predicates.size() << " predicates, "
            << program->nodes.size() << " DAG nodes, revision "
            << program->revision << "\n";
  return 0;
}

}  // namespace verdict::cli
