// `verdict test`: run the test cases of policy directories and report which
// policies and conditions they covered.
//
// Each DIR is laid out like the bundled examples: DIR/policies/*.verdict,
// an optional DIR/data/ of entity data sets, and DIR/cases/*.json, one case
// per file in the format of engine/policy_test_runner.h.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "compiler/compile.h"
#include "engine/policy_test_runner.h"

namespace verdict::cli {
namespace {

namespace fs = std::filesystem;

struct Totals {
  size_t passed = 0;
  size_t failed = 0;
};

// Returns the name that prefixes the suite's cases: the directory's own
// name, also when DIR is given with a trailing slash.
std::string SuiteName(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  std::string name = path.filename().string();
  if (name.empty()) name = path.parent_path().filename().string();
  return name.empty() ? dir : name;
}

std::vector<fs::path> CaseFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void Fail(const std::string& name, const std::string& message, Totals& totals) {
  std::cout << "FAIL " << name << ": " << message << "\n";
  ++totals.failed;
}

// Compiles DIR/policies with DIR/data; returns null after reporting a
// failure.
std::shared_ptr<const Program> CompileSuite(const std::string& dir,
                                            const std::string& name,
                                            Totals& totals) {
  fs::path root(dir);
  fs::path data = root / "data";
  absl::StatusOr<compiler::Compilation> compilation = compiler::CompileDirectory(
      (root / "policies").string(), fs::is_directory(data) ? data.string() : "",
      {});
  if (!compilation.ok()) {
    Fail(name, std::string(compilation.status().message()), totals);
    return nullptr;
  }
  if (compilation->program == nullptr) {
    std::cerr << compilation->diagnostics;
    Fail(name,
         absl::StrCat("the policies in ", (root / "policies").string(),
                      " do not compile (", compilation->error_count,
                      compilation->error_count == 1 ? " error" : " errors",
                      ", listed on standard error)"),
         totals);
  }
  return compilation->program;
}

void RunCase(PolicyTestRunner& runner, const fs::path& file,
             const std::string& name, bool verbose, Totals& totals) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Fail(name, absl::StrCat("cannot read ", file.string()), totals);
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  CaseResult result = runner.Run(text.str());
  if (!result.passed) {
    // A case that could not be decided names its file by path, so that it
    // can be opened. A decided case is named by its suite and file name.
    Fail(name,
         result.reasons.empty() ? absl::StrCat(file.string(), ": ", result.failure)
                                : result.failure,
         totals);
  } else {
    std::cout << "PASS " << name << "\n";
    ++totals.passed;
  }
  if (verbose) {
    if (!result.description.empty()) std::cout << "  " << result.description << "\n";
    if (!result.reasons.empty()) {
      std::cout << "  reasons: " << absl::StrJoin(result.reasons, ", ") << "\n";
    }
  }
}

// Runs every case of suite `dir`; returns its coverage report, or an empty
// string when the policies did not compile.
std::string RunSuite(const std::string& dir, bool verbose, Totals& totals) {
  std::string suite = SuiteName(dir);
  if (!fs::is_directory(dir)) {
    Fail(suite, absl::StrCat(dir, " is not a directory"), totals);
    return "";
  }
  std::shared_ptr<const Program> program = CompileSuite(dir, suite, totals);
  if (program == nullptr) return "";
  std::vector<fs::path> files = CaseFiles(fs::path(dir) / "cases");
  if (files.empty()) {
    Fail(suite,
         absl::StrCat("no test cases; add one JSON file per case to ",
                      (fs::path(dir) / "cases").string()),
         totals);
  }
  PolicyTestRunner runner(*program);
  for (const fs::path& file : files) {
    RunCase(runner, file, absl::StrCat(suite, "/", file.stem().string()),
            verbose, totals);
  }
  return absl::StrCat("coverage of ", dir, ": ", runner.CoverageReport());
}

}  // namespace

const CommandSpec& TestSpec() {
  static const CommandSpec spec = {
      "test",
      "Run the test cases of policy directories and report coverage.",
      "verdict test DIR... [--coverage] [--verbose]",
      {{"coverage", "",
        "Print the coverage report: policies no case made apply and "
        "conditions not seen both true and false (printed by default)."},
       {"verbose", "", "Print each case's description and reasons."}},
      "DIR"};
  return spec;
}

int RunTest(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(TestSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict test: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(TestSpec());
    return 0;
  }
  if (parsed->positionals.empty()) {
    std::cerr << "verdict test: give at least one DIR with policies/ and "
                 "cases/\n";
    return 2;
  }
  Totals totals;
  std::vector<std::string> reports;
  for (const std::string& dir : parsed->positionals) {
    std::string report = RunSuite(dir, parsed->Has("verbose"), totals);
    if (!report.empty()) reports.push_back(std::move(report));
  }
  for (const std::string& report : reports) std::cout << "\n" << report;
  std::cout << "\n" << totals.passed << " passed, " << totals.failed
            << " failed\n";
  return totals.failed == 0 ? 0 : 1;
}

}  // namespace verdict::cli
