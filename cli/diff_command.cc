// `verdict diff`: the requests whose decision changes between two versions
// of a policy set.

#include <iostream>

#include "absl/strings/numbers.h"
#include "cli/commands.h"
#include "cli/compile_util.h"
#include "compiler/diff.h"

namespace verdict::cli {

const CommandSpec& DiffSpec() {
  static const CommandSpec spec = {
      "diff",
      "Show the requests whose decision changes between two policy versions.",
      "verdict diff [--data DIR | --old-data DIR --new-data DIR] "
      "[--format text|json] [--max N] [--policies] OLD_DIR NEW_DIR",
      {{"data", "DIR",
        "Directory of entity data sets (<name>.json) that both versions "
        "join."},
       {"old-data", "DIR",
        "Data directory of the old version, such as the links of its "
        "templates before a change."},
       {"new-data", "DIR", "Data directory of the new version."},
       {"format", "FORMAT", "Output format: text (the default) or json."},
       {"max", "N", "Regions to show; the rest are counted (default: 20)."},
       {"policies", "",
        "Also show regions where the decision is the same but the policies "
        "that determine it differ."}},
      "OLD_DIR NEW_DIR"};
  return spec;
}

int RunDiff(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(DiffSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict diff: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(DiffSpec());
    return 0;
  }
  if (parsed->positionals.size() != 2) {
    std::cerr << "verdict diff: give two directories, OLD_DIR and NEW_DIR\n";
    return 2;
  }
  const std::string format = parsed->Get("format", "text");
  if (format != "text" && format != "json") {
    std::cerr << "verdict diff: --format " << format
              << " is not supported; use text or json\n";
    return 2;
  }
  size_t max = 20;
  if (parsed->Has("max") && !absl::SimpleAtoi(parsed->Get("max"), &max)) {
    std::cerr << "verdict diff: --max " << parsed->Get("max")
              << " is not a number of regions; give a count such as 50\n";
    return 2;
  }
  if (parsed->Has("data") &&
      (parsed->Has("old-data") || parsed->Has("new-data"))) {
    std::cerr << "verdict diff: give --data for both versions, or "
                 "--old-data and --new-data, not both\n";
    return 2;
  }
  const std::string data = parsed->Get("data");
  std::shared_ptr<const Program> before = CompileOrReport(
      parsed->positionals[0], parsed->Get("old-data", data));
  std::shared_ptr<const Program> after = CompileOrReport(
      parsed->positionals[1], parsed->Get("new-data", data));
  if (before == nullptr || after == nullptr) return 2;
  compiler::DiffOptions options;
  options.policies = parsed->Has("policies");
  compiler::DiffReport report = compiler::Diff(*before, *after, options);
  if (format == "json") {
    std::cout << compiler::DiffToJson(report, max).dump(2) << "\n";
  } else {
    std::cout << compiler::FormatDiffText(report, max);
  }
  return report.regions.empty() ? 0 : 1;
}

}  // namespace verdict::cli
