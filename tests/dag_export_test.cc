// DAG export: golden DOT, text and statistics for the bundled examples,
// DOT escaping, shared-node references, and an SVG smoke test.
//
// The golden files under tests/golden/dag/ are what `verdict dag` prints for
// the example. Run the test with VERDICT_UPDATE_GOLDEN=1 to rewrite them
// after an intended change, then review the diff.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "compiler/compile.h"
#include "compiler/dag_export.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

fs::path SourceDir() { return fs::path(VERDICT_SOURCE_DIR); }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Compares `actual` with tests/golden/dag/<name>, or rewrites the file when
// VERDICT_UPDATE_GOLDEN is set.
void ExpectGolden(const std::string& name, const std::string& actual) {
  fs::path golden = SourceDir() / "tests" / "golden" / "dag" / name;
  if (std::getenv("VERDICT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden))
      << golden << " is missing; run with VERDICT_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, ReadText(golden)) << "golden file " << golden;
}

std::shared_ptr<const Program> CompileExample(const std::string& example) {
  fs::path dir = SourceDir() / "examples" / example;
  absl::StatusOr<Compilation> compilation = CompileDirectory(
      (dir / "policies").string(),
      fs::is_directory(dir / "data") ? (dir / "data").string() : "", {});
  EXPECT_TRUE(compilation.ok()) << compilation.status();
  if (!compilation.ok()) return nullptr;
  EXPECT_NE(compilation->program, nullptr) << compilation->diagnostics;
  return compilation->program;
}

TEST(DagGolden, QuickstartDot) {
  std::shared_ptr<const Program> program = CompileExample("quickstart");
  ASSERT_NE(program, nullptr);
  ExpectGolden("quickstart.dot", DagToDot(*program));
}

TEST(DagGolden, QuickstartText) {
  std::shared_ptr<const Program> program = CompileExample("quickstart");
  ASSERT_NE(program, nullptr);
  ExpectGolden("quickstart.txt", DagToText(*program));
}

TEST(DagGolden, QuickstartStats) {
  std::shared_ptr<const Program> program = CompileExample("quickstart");
  ASSERT_NE(program, nullptr);
  ExpectGolden("quickstart.stats.txt",
               FormatDagStatistics(ComputeDagStatistics(*program)));
}

TEST(DagGolden, AuthzenTodoStats) {
  std::shared_ptr<const Program> program = CompileExample("authzen-todo");
  ASSERT_NE(program, nullptr);
  ExpectGolden("authzen-todo.stats.txt",
               FormatDagStatistics(ComputeDagStatistics(*program)));
}

TEST(DotQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(DotQuote("plain"), "\"plain\"");
  EXPECT_EQ(DotQuote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(DotQuote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(DotQuote("a\nb"), "\"a\\\\nb\"");
  EXPECT_EQ(DotQuote(std::string("a\x01") + "b"), "\"a\\\\x01b\"");
  EXPECT_EQ(DotQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

constexpr char kSwitchPolicies[] = R"(
schema action { name: string }
schema resource { kind?: string }
permit "quote" when { action.name == "say \"hi\"" }
permit "slash" when { action.name == "back\\slash" }
permit "plain" when { action.name == "read" and resource has kind }
)";

TEST(DagToDot, EscapesSwitchKeys) {
  Compilation compilation = testing::CompileText(kSwitchPolicies);
  ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
  std::string dot = DagToDot(*compilation.program);
  // The key `say "hi"` is quoted as policy source writes it, `"say \"hi\""`,
  // and that text is then escaped for DOT.
  EXPECT_THAT(dot, HasSubstr(R"(label="\"say \\\"hi\\\"\"")"));
  EXPECT_THAT(dot, HasSubstr(R"(label="\"back\\\\slash\"")"));
  EXPECT_THAT(dot, HasSubstr(R"(label="other")"));
  EXPECT_THAT(dot, HasSubstr(R"(label="absent")"));
  EXPECT_THAT(dot, StartsWith("// The decision DAG of revision"));
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
}

TEST(DagToText, ReferencesSharedNodesOnce) {
  Compilation compilation = testing::CompileText(kSwitchPolicies);
  ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
  std::string text = DagToText(*compilation.program);
  EXPECT_THAT(text, StartsWith("#"));
  EXPECT_THAT(text, HasSubstr("switch action.name"));
  EXPECT_THAT(text, HasSubstr("-> see #"));
  DagStatistics stats = ComputeDagStatistics(*compilation.program);
  EXPECT_GT(stats.shared_nodes, 0u);
  EXPECT_EQ(stats.switches, 1u);
  EXPECT_EQ(stats.switch_entries, 3u);
  EXPECT_EQ(stats.policies, 3u);
}

TEST(DagStatistics, UnconditionalPolicyIsOneLeaf) {
  Compilation compilation = testing::CompileText(R"(
    schema action { name: string }
    permit "all";
  )");
  ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
  DagStatistics stats = ComputeDagStatistics(*compilation.program);
  EXPECT_EQ(stats.nodes, 1u);
  EXPECT_EQ(stats.leaves, 1u);
  EXPECT_EQ(stats.tests, 0u);
  EXPECT_EQ(stats.max_depth, 0u);
  EXPECT_EQ(stats.shared_nodes, 0u);
  EXPECT_EQ(DagToText(*compilation.program), "#0 PERMIT; permit: all\n");
}

// A leaf's PERMIT or DENY follows the sets' combining algorithms: in a
// permit_overrides set a permit wins over a forbid, and in a
// first_applicable set the first member that applies decides.
TEST(DagToText, LeafLabelFollowsPolicySets) {
  const struct {
    const char* algorithm;
    const char* members;
    const char* expected;
  } cases[] = {
      {"permit_overrides", R"(forbid "f"; permit "p";)", "#0 PERMIT"},
      {"deny_overrides", R"(permit "p"; forbid "f";)", "#0 DENY"},
      {"first_applicable", R"(permit "p"; forbid "f";)", "#0 PERMIT"},
      {"first_applicable", R"(forbid "f"; permit "p";)", "#0 DENY"},
  };
  for (const auto& [algorithm, members, expected] : cases) {
    SCOPED_TRACE(absl::StrCat(algorithm, " ", members));
    Compilation compilation = testing::CompileText(
        absl::StrCat("schema action { name: string }\npolicyset \"s\" ",
                     algorithm, " {\n", members, "\n}\n"));
    ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
    EXPECT_THAT(DagToText(*compilation.program), StartsWith(expected));
  }
}

TEST(RenderSvg, DrawsQuickstart) {
  std::shared_ptr<const Program> program = CompileExample("quickstart");
  ASSERT_NE(program, nullptr);
  absl::StatusOr<std::string> svg =
      RenderSvg(DagToDot(*program), absl::Seconds(60));
  if (absl::IsNotFound(svg.status())) {
    GTEST_SKIP() << "Graphviz dot is not installed: " << svg.status();
  }
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_TRUE(svg->starts_with("<?xml") || svg->starts_with("<svg"))
      << svg->substr(0, 80);
}

TEST(RenderSvg, ReportsDotSyntaxErrors) {
  absl::StatusOr<std::string> svg =
      RenderSvg("digraph { this is not DOT", absl::Seconds(60));
  if (absl::IsNotFound(svg.status())) {
    GTEST_SKIP() << "Graphviz dot is not installed: " << svg.status();
  }
  EXPECT_FALSE(svg.ok());
  EXPECT_THAT(std::string(svg.status().message()),
              HasSubstr("Graphviz dot failed"));
}

// A `dot` that never exits plays Graphviz on a graph too large to lay out.
// RenderSvg must kill it at the deadline.
TEST(RenderSvg, KillsDotAtDeadline) {
  fs::path dir = fs::temp_directory_path() /
                 ("verdict-slow-dot-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "dot") << "#!/bin/sh\nexec /bin/sleep 30\n";
  fs::permissions(dir / "dot", fs::perms::owner_all);
  std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", dir.c_str(), 1);
  absl::Time start = absl::Now();
  absl::StatusOr<std::string> svg =
      RenderSvg("digraph { a -> b }", absl::Milliseconds(300));
  absl::Duration elapsed = absl::Now() - start;
  setenv("PATH", saved_path.c_str(), 1);
  fs::remove_all(dir);
  EXPECT_TRUE(absl::IsDeadlineExceeded(svg.status())) << svg.status();
  EXPECT_LT(elapsed, absl::Seconds(10));
}

TEST(RenderSvg, NamesPackageWhenDotIsMissing) {
  std::string saved_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", "/nonexistent-verdict-test-dir", 1);
  absl::StatusOr<std::string> svg =
      RenderSvg("digraph { a -> b }", absl::Seconds(10));
  setenv("PATH", saved_path.c_str(), 1);
  EXPECT_TRUE(absl::IsNotFound(svg.status())) << svg.status();
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("graphviz"));
}

}  // namespace
}  // namespace verdict::compiler
