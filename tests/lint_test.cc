// verdict lint: each finding kind, witnesses checked with the engine,
// infeasible regions pruned, and golden output on fixed policy sets.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/analysis.h"
#include "compiler/compile.h"
#include "compiler/constraints.h"
#include "compiler/regions.h"
#include "compiler/universe.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using testing::CompileText;

std::shared_ptr<const Program> MustCompile(const std::string& source,
                                           compiler::CompileOptions options = {}) {
  compiler::Compilation result = CompileText(source, {}, options);
  EXPECT_NE(result.program, nullptr) << result.diagnostics;
  return result.program;
}

// "kind policy exact|approximate" for each finding, in report order.
std::vector<std::string> Summary(const Program& program,
                                 const compiler::LintReport& report) {
  std::vector<std::string> out;
  for (const compiler::LintFinding& f : report.findings) {
    out.push_back(std::string(compiler::LintKindName(f.kind)) + " " +
                  program.policies[f.policy].id + " " +
                  (f.exact ? "exact" : "approximate"));
  }
  return out;
}

compiler::LintReport RunLint(const Program& program) {
  return compiler::Lint(program, compiler::AnalysisOptions{});
}

// With a trust file, decoding sets token.verified and tee.verified to false
// when no token verifies. Witnesses give those attributes as plain ones, so
// the policies of the token example still have requests they apply to.
TEST(LintTest, TokenPoliciesHaveWitnesses) {
  absl::StatusOr<compiler::Compilation> compiled = compiler::CompileDirectory(
      std::string(VERDICT_SOURCE_DIR) + "/examples/agent-tokens/policies", "",
      compiler::CompileOptions{});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
  ASSERT_NE(compiled->program->token_source, nullptr);
  compiler::LintReport report = RunLint(*compiled->program);
  EXPECT_THAT(Summary(*compiled->program, report), IsEmpty());
}

TEST(LintTest, ContradictoryConditionNeverApplies) {
  auto program = MustCompile(R"(
    schema resource { level: int }
    permit "impossible" when { resource.level > 5 and resource.level < 3 }
    permit "high" when { resource.level > 5 }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("never-applies impossible exact"));
  EXPECT_THAT(report.findings[0].basis, HasSubstr("no reachable region where it applies"));
  EXPECT_FALSE(report.findings[0].witness.has_value());
}

TEST(LintTest, ContradictorySetSizesNeverApply) {
  auto program = MustCompile(R"(
    schema resource { tags: set<string> }
    permit "impossible" when {
      resource.tags.size() > 5 and resource.tags.size() - 1 < 2
    }
    permit "many" when { resource.tags.size() > 5 }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("never-applies impossible exact"));
}

TEST(LintTest, ConstantConditions) {
  auto program = MustCompile(R"(
    schema action { name: string }
    permit "everything";
    permit "nothing" when { false }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("always-true everything exact",
                          "always-false nothing exact"));
}

TEST(LintTest, AppliesWheneverAttributesArePresent) {
  auto program = MustCompile(R"(
    schema resource { level: int }
    permit "any-level" when { resource.level > 5 or resource.level <= 5 }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("always-applies any-level exact"));
}

// The region where `level > 5` is true and `level > 3` fails is infeasible;
// without pruning it, "high" would look like it grants alone there.
TEST(LintTest, ShadowedPermitNeedsInfeasibleRegionPruned) {
  auto program = MustCompile(R"(
    schema resource { level: int }
    permit "high" when { resource.level > 5 }
    permit "mid" when { resource.level > 3 }
  )");
  compiler::LintReport report = RunLint(*program);
  // "mid" grants alone at level 4 or 5: no finding for it.
  EXPECT_THAT(Summary(*program, report), ElementsAre("shadowed high exact"));
  ASSERT_EQ(report.findings[0].related.size(), 1u);
  EXPECT_EQ(program->policies[report.findings[0].related[0]].id, "mid");
}

TEST(LintTest, OverriddenPermit) {
  auto program = MustCompile(R"(
    schema action { name: string }
    permit "edit" when { action.name == "edit" }
    permit "read" when { action.name == "read" }
    forbid "no-edit" when { action.name == "edit" }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report), ElementsAre("overridden edit exact"));
  ASSERT_EQ(report.findings[0].related.size(), 1u);
  EXPECT_EQ(program->policies[report.findings[0].related[0]].id, "no-edit");
}

TEST(LintTest, RedundantForbid) {
  auto program = MustCompile(R"(
    schema action { name: string }
    permit "read" when { action.name == "read" }
    forbid "no-delete" when { action.name == "delete" }
  )");
  compiler::LintReport report = RunLint(*program);
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("redundant-forbid no-delete exact"));
}

// With policy sets, a policy is redundant when the program compiled
// without it decides every request the same.
TEST(LintTest, RedundancyUnderPolicySets) {
  const std::string source = R"(
    schema action { name: string }
    schema subject { level: int }
    policyset "s" first_applicable {
      permit "read" when { action.name == "read" }
      permit "read-senior" when { action.name == "read" and subject.level > 1 }
      forbid "no-write" when { action.name == "write" }
    }
    permit "write-senior" when { action.name == "write" and subject.level > 5 }
  )";
  auto program = MustCompile(source);
  compiler::LintReport report = RunLint(*program);
  EXPECT_FALSE(report.relations_checked);
  compiler::CheckRedundancyUnderSets(
      *program,
      [&](const std::string& id) {
        compiler::CompileOptions options;
        options.disabled_policies = {id};
        return MustCompile(source, options);
      },
      {}, report);
  EXPECT_TRUE(report.relations_checked);
  // "read" decides first, so "read-senior" never does; the top level
  // combines deny-overrides, so "no-write" denies every write that
  // "write-senior" would permit. "read" and "no-write" both decide.
  EXPECT_THAT(Summary(*program, report),
              ElementsAre("redundant read-senior exact",
                          "redundant write-senior exact"));
}

TEST(LintTest, CleanPolicySetHasNoFindings) {
  auto program = MustCompile(R"(
    schema action { name: string }
    schema subject { roles: set<string> }
    permit "read" when { action.name == "read" }
    permit "admin" when { "admin" in subject.roles }
    forbid "guests-read-only" when {
      "guest" in subject.roles and action.name != "read"
    }
  )");
  EXPECT_THAT(Summary(*program, RunLint(*program)), IsEmpty());
}

// Every witness is decoded and decided again here, independently of lint.
TEST(LintTest, WitnessesDecideAsReported) {
  auto program = MustCompile(R"(
    schema resource { level: int  owner?: string }
    schema subject { id: string }
    permit "high" when { resource.level > 5 }
    permit "mid" when { resource.level > 3 }
    permit "own" when { resource has owner and resource.owner == subject.id }
    forbid "frozen" when { resource.level > 100 and resource has owner }
    permit "any-level" when { resource.level > 5 or resource.level <= 5 }
  )");
  compiler::LintReport report = RunLint(*program);
  ASSERT_FALSE(report.findings.empty());
  Frame frame;
  for (const compiler::LintFinding& finding : report.findings) {
    if (!finding.witness) continue;
    ASSERT_TRUE(DecodeJsonRequest(*program, finding.witness->dump(), 0, frame).ok());
    Decision decision = Evaluate(*program, frame);
    EXPECT_EQ(decision.permit, finding.witness_permit);
    EXPECT_EQ(DecisionReasons(*program, frame, decision), finding.witness_reasons);
    Truth truth = EvaluateFormula(*program, frame,
                                  program->policy_formulas[finding.policy]);
    EXPECT_EQ(truth, Truth::kTrue) << program->policies[finding.policy].id;
  }
}

// Two attributes compared with each other are beyond interval reasoning:
// the finding is reported, but marked approximate.
TEST(LintTest, UnmodeledContradictionIsApproximate) {
  auto program = MustCompile(R"(
    schema resource { a: int  b: int }
    permit "cycle" when { resource.a > resource.b and resource.b > resource.a }
  )");
  compiler::LintReport report = RunLint(*program);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, compiler::LintKind::kNeverApplies);
  EXPECT_FALSE(report.findings[0].exact);
  EXPECT_THAT(report.findings[0].basis, StartsWith("approximate: "));
}

// A node budget of four leaves most conditions residual; the findings must
// not change.
TEST(LintTest, ResidualLeavesGiveTheSameFindings) {
  const std::string source = R"(
    schema resource { level: int  a: bool  b: bool  c: bool }
    schema action { name: string }
    permit "high" when { resource.level > 5 and action.name == "read" }
    permit "mid" when { resource.level > 3 and action.name == "read" }
    permit "fa" when { resource.a and action.name == "write" }
    permit "fb" when { resource.b and action.name == "write" }
    permit "fc" when { resource.c and action.name == "write" }
    forbid "no-delete" when { action.name == "delete" }
  )";
  auto full = MustCompile(source);
  compiler::CompileOptions small;
  small.max_dag_nodes = 4;
  auto budget = MustCompile(source, small);
  ASSERT_GT(budget->leaf_residuals.size(), 0u);
  EXPECT_THAT(Summary(*budget, RunLint(*budget)),
              ::testing::ElementsAreArray(Summary(*full, RunLint(*full))));
  EXPECT_THAT(Summary(*full, RunLint(*full)),
              ElementsAre("shadowed high exact", "redundant-forbid no-delete exact"));

  // Without the direct search every question goes to the DAG walk, which
  // enumerates the residual conditions of the budgeted DAG's leaves.
  compiler::AnalysisOptions walk_only;
  walk_only.max_search_steps = 0;
  for (const auto& program : {full, budget}) {
    compiler::LintReport report = compiler::Lint(*program, walk_only);
    EXPECT_GT(report.regions, 0u);
    EXPECT_THAT(Summary(*program, report),
                ElementsAre("shadowed high exact", "redundant-forbid no-delete exact"));
  }
}

TEST(RegionsTest, ContradictoryIntervalsAreInfeasible) {
  auto program = MustCompile(R"(
    schema resource { level: int }
    permit "high" when { resource.level > 5 }
    permit "mid" when { resource.level > 3 }
  )");
  compiler::Universe universe({program.get()});
  auto find = [&](const std::string& text) {
    for (uint32_t p = 0; p < universe.predicate_count(); ++p) {
      if (universe.predicate(p).rendered == text) return p;
    }
    ADD_FAILURE() << "no predicate " << text;
    return 0u;
  };
  compiler::Constraints c(universe);
  ASSERT_TRUE(c.Add(find("resource.level > 5"), Truth::kTrue));
  EXPECT_EQ(c.Decide(find("resource.level > 3")), Truth::kTrue);
  compiler::Constraints contradiction = c;
  EXPECT_FALSE(contradiction.Add(find("resource.level > 3"), Truth::kFalse));
  EXPECT_FALSE(contradiction.Add(find("resource.level > 3"), Truth::kError));

  // The DAG tests one comparison and then the other; the walk prunes the
  // edges that contradict the first outcome.
  compiler::WalkStats stats = compiler::WalkRegions(
      universe, compiler::Constraints(universe), 1000,
      [](const compiler::Constraints&, std::span<const uint32_t>) {});
  EXPECT_TRUE(stats.complete);
  EXPECT_GE(stats.pruned, 1u);
}

TEST(RegionsTest, SwitchKeyDecidesLaterTestsOfTheSameSlot) {
  auto program = MustCompile(R"(
    schema action { name: string }
    permit "read" when { action.name in ["read", "list"] }
    permit "write" when { action.name == "write" }
  )");
  compiler::Universe universe({program.get()});
  compiler::Constraints c(universe);
  uint32_t slot = 0;
  while (universe.slot(slot).path != "action.name") ++slot;
  ASSERT_TRUE(c.AddSwitchKey(slot, universe.FindSymbol("write")));
  for (uint32_t p = 0; p < universe.predicate_count(); ++p) {
    const std::string& text = universe.predicate(p).rendered;
    if (text == "action.name == \"write\"") {
      EXPECT_EQ(c.Decide(p), Truth::kTrue);
    } else if (text.starts_with("action.name in")) {
      EXPECT_EQ(c.Decide(p), Truth::kFalse);
    }
  }
}

// Golden files: tests/golden/lint/<case>/policies -> expected.txt and
// expected.json. Set VERDICT_UPDATE_GOLDEN=1 to rewrite them.
class LintGoldenTest : public ::testing::TestWithParam<std::string> {};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void CompareGolden(const std::filesystem::path& path, const std::string& actual) {
  if (std::getenv("VERDICT_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    return;
  }
  EXPECT_EQ(actual, ReadFile(path)) << "golden file " << path.string();
}

TEST_P(LintGoldenTest, MatchesGoldenOutput) {
  // Locations in the output are relative to the source tree.
  ASSERT_EQ(::chdir(VERDICT_SOURCE_DIR), 0);
  const std::filesystem::path dir =
      std::filesystem::path("tests/golden/lint") / GetParam();
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory((dir / "policies").string(), "", {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
  const Program& program = *compiled->program;
  compiler::LintReport report = RunLint(program);
  CompareGolden(dir / "expected.txt", compiler::FormatLintText(program, report));
  CompareGolden(dir / "expected.json",
                compiler::LintToJson(program, report).dump(2) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, LintGoldenTest,
                         ::testing::Values("relations", "constants", "clean"));

}  // namespace
}  // namespace verdict
