// verdict diff: changed regions with examples checked by the engine,
// infeasible regions pruned, merged switch keys, and golden output.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "compiler/compile.h"
#include "compiler/diff.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::CompileText;

std::shared_ptr<const Program> MustCompile(const std::string& source,
                                           compiler::CompileOptions options = {}) {
  compiler::Compilation result = CompileText(source, {}, options);
  EXPECT_NE(result.program, nullptr) << result.diagnostics;
  return result.program;
}

compiler::DiffReport RunDiff(const Program& before, const Program& after,
                             bool policies = false) {
  compiler::DiffOptions options;
  options.policies = policies;
  return compiler::Diff(before, after, options);
}

// Decodes each region's example against both programs and checks that the
// engine decides it as the region states.
void ExpectExamplesDecideAsReported(const Program& before, const Program& after,
                                    const compiler::DiffReport& report) {
  Frame frame;
  for (const compiler::DiffRegion& region : report.regions) {
    ASSERT_TRUE(region.example.has_value()) << region.basis;
    const std::string json = region.example->dump();
    ASSERT_TRUE(DecodeJsonRequest(before, json, 0, frame).ok()) << json;
    EXPECT_EQ(Evaluate(before, frame).permit, region.old_permit) << json;
    ASSERT_TRUE(DecodeJsonRequest(after, json, 0, frame).ok()) << json;
    EXPECT_EQ(Evaluate(after, frame).permit, region.new_permit) << json;
  }
}

constexpr char kDocsSchema[] = R"(
  schema subject { id: string  roles: set<string> }
  schema action { name: string }
  schema resource { type: string  owner?: string }
  permit "read-docs" when { action.name == "read" and resource.type == "doc" }
  forbid "no-guests-edit" when { "guest" in subject.roles and action.name == "edit" }
)";

TEST(DiffTest, RoleAddedAndForbidAdded) {
  auto before = MustCompile(std::string(kDocsSchema) + R"(
    permit "edit-own" when {
      action.name == "edit" and "editor" in subject.roles
      and resource has owner and resource.owner == subject.id
    })");
  auto after = MustCompile(std::string(kDocsSchema) + R"(
    permit "edit-own" when {
      action.name == "edit"
      and ("editor" in subject.roles or "admin" in subject.roles)
      and resource has owner and resource.owner == subject.id
    }
    forbid "archive-frozen" when {
      action.name == "edit" and resource.type == "archive"
    })");
  compiler::DiffReport report = RunDiff(*before, *after);
  EXPECT_TRUE(report.complete);
  std::multiset<std::pair<bool, bool>> directions;
  for (const compiler::DiffRegion& region : report.regions) {
    EXPECT_TRUE(region.exact) << region.basis;
    directions.insert({region.old_permit, region.new_permit});
  }
  // Admins gain their own edits; archived and type-less edits are lost.
  EXPECT_EQ(directions.count({false, true}), 1u);
  EXPECT_EQ(directions.count({true, false}), 2u);
  ExpectExamplesDecideAsReported(*before, *after, report);
}

// Only levels 4 and 5 change. The product region where `level > 5` is true
// in the old version and `level > 3` fails in the new one is infeasible
// and must not be reported as PERMIT -> DENY.
TEST(DiffTest, ThresholdChangeOnlyBetweenBounds) {
  auto before = MustCompile(R"(
    schema resource { level: int }
    permit "high" when { resource.level > 5 })");
  auto after = MustCompile(R"(
    schema resource { level: int }
    permit "high" when { resource.level > 3 })");
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_EQ(report.regions.size(), 1u);
  const compiler::DiffRegion& region = report.regions[0];
  EXPECT_FALSE(region.old_permit);
  EXPECT_TRUE(region.new_permit);
  EXPECT_THAT(region.condition, Contains("not (resource.level > 5)"));
  EXPECT_THAT(region.condition, Contains("resource.level > 3"));
  EXPECT_GE(report.pruned, 1u);
  ASSERT_TRUE(region.example.has_value());
  const int64_t level = (*region.example)["resource"]["properties"]["level"];
  EXPECT_GT(level, 3);
  EXPECT_LE(level, 5);
  ExpectExamplesDecideAsReported(*before, *after, report);
}

TEST(DiffTest, EquivalentRewriteHasNoChanges) {
  auto before = MustCompile(R"(
    schema action { name: string }
    schema subject { roles: set<string> }
    permit "read" when { action.name == "read" and "viewer" in subject.roles }
    forbid "guests" when { "guest" in subject.roles })");
  auto after = MustCompile(R"(
    schema action { name: string }
    schema subject { roles: set<string> }
    forbid "guests" when { "guest" in subject.roles }
    permit "read" when { "viewer" in subject.roles and action.name in ["read"] })");
  compiler::DiffReport report = RunDiff(*before, *after);
  EXPECT_TRUE(report.complete);
  EXPECT_THAT(report.regions, IsEmpty());
}

TEST(DiffTest, SwitchKeysMergeIntoOneRegion) {
  auto before = MustCompile(R"(
    schema action { name: string }
    schema resource { type: string }
    permit "read" when { action.name == "read" and resource.type == "doc" })");
  auto after = MustCompile(R"(
    schema action { name: string }
    schema resource { type: string }
    permit "read" when {
      action.name in ["read", "list", "search"] and resource.type == "doc"
    })");
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_EQ(report.regions.size(), 1u);
  EXPECT_THAT(report.regions[0].condition,
              Contains("action.name in [\"list\", \"search\"]"));
  ExpectExamplesDecideAsReported(*before, *after, report);
}

TEST(DiffTest, RenamedPermitOnlyWithPoliciesOption) {
  auto before = MustCompile(R"(
    schema action { name: string }
    permit "read" when { action.name == "read" })");
  auto after = MustCompile(R"(
    schema action { name: string }
    permit "reads" when { action.name == "read" })");
  EXPECT_THAT(RunDiff(*before, *after).regions, IsEmpty());
  compiler::DiffReport report = RunDiff(*before, *after, /*policies=*/true);
  ASSERT_EQ(report.regions.size(), 1u);
  EXPECT_TRUE(report.regions[0].old_permit);
  EXPECT_TRUE(report.regions[0].new_permit);
  EXPECT_THAT(report.regions[0].new_reasons, Contains("permit:reads"));
}

// With a node budget of four, leaves keep residual conditions and diff
// enumerates them; the changes found must be the same.
TEST(DiffTest, ResidualLeavesFindTheSameChanges) {
  const std::string flags = R"(
    schema resource { level: int  a: bool  b: bool  c: bool  d: bool }
    schema action { name: string }
    permit "fa" when { resource.a and action.name == "write" }
    permit "fb" when { resource.b and action.name == "write" }
    permit "fc" when { resource.c and action.name == "write" }
    permit "fd" when { resource.d and action.name == "write" }
    forbid "no-delete" when { action.name == "delete" })";
  const std::string old_source = flags + R"(
    permit "high" when { resource.level > 5 and action.name == "read" })";
  const std::string new_source = flags + R"(
    permit "high" when { resource.level > 3 and action.name in ["read", "list"] })";
  compiler::CompileOptions small;
  small.max_dag_nodes = 4;
  auto before = MustCompile(old_source, small);
  auto after = MustCompile(new_source, small);
  ASSERT_GT(before->leaf_residuals.size(), 0u);
  ASSERT_GT(after->leaf_residuals.size(), 0u);
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_FALSE(report.regions.empty());
  for (const compiler::DiffRegion& region : report.regions) {
    EXPECT_TRUE(region.exact) << region.basis;
    EXPECT_FALSE(region.old_permit);
    EXPECT_TRUE(region.new_permit);
  }
  ExpectExamplesDecideAsReported(*before, *after, report);

  // Without a budget the same requests change: the examples of one report
  // fall in regions of the other.
  auto full_before = MustCompile(old_source);
  auto full_after = MustCompile(new_source);
  compiler::DiffReport full = RunDiff(*full_before, *full_after);
  ASSERT_FALSE(full.regions.empty());
  ExpectExamplesDecideAsReported(*full_before, *full_after, report);
  ExpectExamplesDecideAsReported(*before, *after, full);
}

// Swapping two members of a first-applicable set changes the decision
// exactly where both apply.
TEST(DiffTest, PolicySetsFollowTheirAlgorithm) {
  const std::string schema = R"(
    schema subject { roles: set<string> }
    schema action { name: string })";
  auto before = MustCompile(schema + R"(
    policyset "doors" first_applicable {
      forbid "interns" when { "intern" in subject.roles }
      permit "staff" when { "staff" in subject.roles and action.name == "open" }
    })");
  auto after = MustCompile(schema + R"(
    policyset "doors" first_applicable {
      permit "staff" when { "staff" in subject.roles and action.name == "open" }
      forbid "interns" when { "intern" in subject.roles }
    })");
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_EQ(report.regions.size(), 1u);
  const compiler::DiffRegion& region = report.regions[0];
  EXPECT_TRUE(region.exact) << region.basis;
  EXPECT_FALSE(region.old_permit);
  EXPECT_TRUE(region.new_permit);
  EXPECT_THAT(region.condition, Contains("\"intern\" in subject.roles"));
  EXPECT_THAT(region.condition, Contains("\"staff\" in subject.roles"));
  ExpectExamplesDecideAsReported(*before, *after, report);
}

// Set sizes compared with constants are intervals too.
TEST(DiffTest, SetSizeLimitChange) {
  auto before = MustCompile(R"(
    schema resource { recipients: set<string> }
    permit "small-share" when { resource.recipients.size() + 1 <= 5 })");
  auto after = MustCompile(R"(
    schema resource { recipients: set<string> }
    permit "small-share" when { resource.recipients.size() + 1 <= 6 })");
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_EQ(report.regions.size(), 1u);
  ASSERT_TRUE(report.regions[0].example.has_value());
  EXPECT_EQ((*report.regions[0].example)["resource"]["properties"]["recipients"].size(),
            5u);
  ExpectExamplesDecideAsReported(*before, *after, report);
}

TEST(DiffTest, TextOutputIsBoundedByMax) {
  auto before = MustCompile(R"(
    schema action { name: string }
    permit "read" when { action.name == "read" })");
  auto after = MustCompile(R"(
    schema action { name: string }
    schema resource { level: int }
    permit "read" when { action.name == "read" and resource.level > 0 })");
  compiler::DiffReport report = RunDiff(*before, *after);
  ASSERT_GE(report.regions.size(), 2u);
  std::string text = compiler::FormatDiffText(report, 1);
  EXPECT_THAT(text, HasSubstr("\n1. PERMIT -> DENY when"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("\n2. ")));
  EXPECT_THAT(text, HasSubstr("... and " + std::to_string(report.regions.size() - 1) +
                              " more"));
}

// Golden files: tests/golden/diff/<case>/{old,new} -> expected.txt and
// expected.json. Set VERDICT_UPDATE_GOLDEN=1 to rewrite them.
class DiffGoldenTest : public ::testing::TestWithParam<std::string> {};

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

std::shared_ptr<const Program> CompileDir(const std::filesystem::path& dir) {
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir.string(), "", {});
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return nullptr;
  EXPECT_NE(compiled->program, nullptr) << compiled->diagnostics;
  return compiled->program;
}

TEST_P(DiffGoldenTest, MatchesGoldenOutput) {
  const std::filesystem::path dir =
      std::filesystem::path(VERDICT_SOURCE_DIR) / "tests/golden/diff" / GetParam();
  auto before = CompileDir(dir / "old");
  auto after = CompileDir(dir / "new");
  ASSERT_NE(before, nullptr);
  ASSERT_NE(after, nullptr);
  compiler::DiffReport report = RunDiff(*before, *after);
  CompareGolden(dir / "expected.txt", compiler::FormatDiffText(report, 20));
  CompareGolden(dir / "expected.json",
                compiler::DiffToJson(report, 20).dump(2) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, DiffGoldenTest,
                         ::testing::Values("role-and-forbid", "merge-actions",
                                           "intervals", "no-change"));

// A template whose links change in the data: the regions name which
// version's links they test, and a revoked share is shown with a request.
TEST(DiffTest, TemplateLinksChange) {
  const std::string policy = R"(
schema subject { id: string }
schema resource { id: string }
permit "shared" from shares when { subject.id == ?user and resource.id == ?doc })";
  compiler::Compilation before = CompileText(
      policy, {{"shares", R"([{"user": "alice", "doc": "a"},
                              {"user": "bob", "doc": "b"}])"}});
  compiler::Compilation after =
      CompileText(policy, {{"shares", R"([{"user": "bob", "doc": "b"}])"}});
  ASSERT_NE(before.program, nullptr) << before.diagnostics;
  ASSERT_NE(after.program, nullptr) << after.diagnostics;
  compiler::DiffReport report = RunDiff(*before.program, *after.program);
  ASSERT_FALSE(report.regions.empty());
  bool revoked = false;
  for (const compiler::DiffRegion& region : report.regions) {
    if (!region.example || !region.old_permit || region.new_permit) continue;
    revoked = true;
    EXPECT_EQ(region.example->dump(),
              R"({"resource":{"id":"a"},"subject":{"id":"alice"}})");
  }
  EXPECT_TRUE(revoked);
  std::string text = compiler::FormatDiffText(report, 20);
  EXPECT_THAT(text, HasSubstr("for a record of shares (old links)"));
  EXPECT_THAT(text, HasSubstr("for a record of shares (new links)"));
}

}  // namespace
}  // namespace verdict
