// Explanations: golden text and JSON for fixed requests on the bundled
// examples, and the failure walk on small policy sets.
//
// Each tests/golden/explain/<example>-<name>.request.json holds
//   {"description": "...", "now": <Unix seconds>, "request": {AuthZEN request}}
// and is explained against examples/<example>. The text rendering must equal
// <example>-<name>.txt byte for byte, and the JSON rendering must equal
// <example>-<name>.out.json when that file exists. The output is what
//   verdict explain --policies examples/<example>/policies
//       [--data examples/<example>/data] --now <now> --request FILE
// prints from the repository root. Run the test with VERDICT_UPDATE_GOLDEN=1
// to rewrite the golden files after an intended change, then review the diff.

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/explain.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/compile_text.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;

fs::path GoldenDir() { return fs::path("tests") / "golden" / "explain"; }

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool UpdateGolden() { return std::getenv("VERDICT_UPDATE_GOLDEN") != nullptr; }

// Compares `actual` with the golden file, or rewrites it in update mode.
void ExpectGolden(const fs::path& golden, const std::string& actual) {
  if (UpdateGolden()) {
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden))
      << golden << " is missing; run with VERDICT_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, ReadText(golden)) << "golden file " << golden;
}

// Golden paths are relative to the source tree, so that policy locations
// read as they do from the repository root.
class ExplainGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { fs::current_path(VERDICT_SOURCE_DIR); }
};

std::vector<std::string> GoldenNames() {
  std::vector<std::string> names;
  const std::string suffix = ".request.json";
  fs::path dir = fs::path(VERDICT_SOURCE_DIR) / GoldenDir();
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (file.ends_with(suffix)) {
      names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Returns the example whose directory name prefixes `name`, longest first.
std::string ExampleOf(const std::string& name) {
  std::string best;
  for (const fs::directory_entry& entry : fs::directory_iterator("examples")) {
    std::string example = entry.path().filename().string();
    if (name.starts_with(example + "-") && example.size() > best.size()) {
      best = example;
    }
  }
  return best;
}

TEST_P(ExplainGoldenTest, MatchesGolden) {
  const std::string& name = GetParam();
  std::string example = ExampleOf(name);
  ASSERT_FALSE(example.empty()) << name << " does not start with an example";
  fs::path example_dir = fs::path("examples") / example;
  fs::path data_dir = example_dir / "data";
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory((example_dir / "policies").string(),
                                 fs::is_directory(data_dir) ? data_dir.string() : "",
                                 {});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  ASSERT_NE(compilation->program, nullptr) << compilation->diagnostics;
  const Program& program = *compilation->program;

  nlohmann::json file = nlohmann::json::parse(
      ReadText(GoldenDir() / (name + ".request.json")), nullptr, false);
  ASSERT_TRUE(file.is_object()) << name << ".request.json is not a JSON object";
  ASSERT_TRUE(file["now"].is_number_integer());
  Frame frame;
  absl::Status status = DecodeJsonRequest(program, file["request"].dump(),
                                          file["now"].get<int64_t>(), frame);
  ASSERT_TRUE(status.ok()) << status;
  Decision decision = Evaluate(program, frame);
  Explanation explanation = Explain(program, frame, decision, {});

  ExpectGolden(GoldenDir() / (name + ".txt"), ExplanationToText(explanation));
  fs::path json_golden = GoldenDir() / (name + ".out.json");
  if (fs::exists(json_golden)) {
    ExpectGolden(json_golden, ExplanationToJson(explanation).dump(2) + "\n");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ExplainGoldenTest, ::testing::ValuesIn(GoldenNames()),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// ---------------------------------------------------------------------------
// The failure walk on small policy sets.

Explanation ExplainText(const std::string& source, const std::string& request,
                        size_t max_nearest = 3) {
  compiler::Compilation compilation = testing::CompileText(source);
  EXPECT_NE(compilation.program, nullptr) << compilation.diagnostics;
  if (compilation.program == nullptr) return {};
  Frame frame;
  absl::Status status =
      DecodeJsonRequest(*compilation.program, request, 1767225600, frame);
  EXPECT_TRUE(status.ok()) << status;
  Decision decision = Evaluate(*compilation.program, frame);
  return Explain(*compilation.program, frame, decision,
                 ExplainOptions{max_nearest});
}

constexpr char kSchema[] = R"(
schema subject { id: string  roles: set<string>  level: int  tags?: list<string> }
schema action { name: string }
schema context { mfa?: bool }
)";

TEST(Explain, NotShowsNegatedCondition) {
  Explanation explanation = ExplainText(
      std::string(kSchema) + R"(permit "not-admin" when { not ("admin" in subject.roles) })",
      R"({"subject": {"type": "u", "id": "a", "properties": {"roles": ["admin"], "level": 1}},
          "action": {"name": "read"}})");
  ASSERT_EQ(explanation.nearest.size(), 1u);
  ASSERT_EQ(explanation.nearest[0].failures.size(), 1u);
  const FailedCondition& failure = explanation.nearest[0].failures[0];
  EXPECT_EQ(failure.condition, R"(not ("admin" in subject.roles))");
  EXPECT_EQ(failure.outcome, Truth::kTrue);
  ASSERT_EQ(failure.values.size(), 1u);
  EXPECT_EQ(failure.values[0].text, R"(["admin"])");
}

TEST(Explain, OrListsEveryAlternative) {
  Explanation explanation = ExplainText(
      std::string(kSchema) + R"(permit "p" when {
        action.name == "read" and ("a" in subject.roles or subject.level > 3) })",
      R"({"subject": {"type": "u", "id": "x", "properties": {"roles": ["b"], "level": 2}},
          "action": {"name": "read"}})");
  ASSERT_EQ(explanation.nearest.size(), 1u);
  const PolicyReport& report = explanation.nearest[0];
  EXPECT_EQ(report.conditions, 2u);
  EXPECT_EQ(report.failed, 1u);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_EQ(report.failures[0].condition, R"("a" in subject.roles)");
  EXPECT_EQ(report.failures[1].condition, "subject.level > 3");
  ASSERT_EQ(report.failures[1].values.size(), 1u);
  EXPECT_EQ(report.failures[1].values[0].text, "2");
  EXPECT_EQ(report.failures[1].values[0].json, 2);
}

TEST(Explain, AbsentValueAndErrorMessage) {
  Explanation explanation = ExplainText(
      std::string(kSchema) + R"(forbid "f" when { subject.level > 3 })",
      R"({"subject": {"type": "u", "id": "x", "properties": {"roles": []}},
          "action": {"name": "read"}})");
  EXPECT_FALSE(explanation.permit);
  ASSERT_EQ(explanation.errored.size(), 1u);
  EXPECT_EQ(explanation.errored[0].error, "attribute subject.level is absent");
  EXPECT_EQ(explanation.summary,
            "DENY: forbid \"f\" could not be evaluated, and a forbid that "
            "cannot be evaluated denies");
}

TEST(Explain, ListAndAbsentValuesRender) {
  Explanation explanation = ExplainText(
      std::string(kSchema) + R"(permit "p" when {
        subject has tags and subject.tags == ["x", "y"] and context has mfa })",
      R"({"subject": {"type": "u", "id": "x", "properties": {"roles": [], "level": 0,
                                                             "tags": ["y", "x\"q"]}},
          "action": {"name": "read"}})");
  ASSERT_EQ(explanation.nearest.size(), 1u);
  const PolicyReport& report = explanation.nearest[0];
  EXPECT_EQ(report.failed, 2u);
  ASSERT_FALSE(report.failures.empty());
  ASSERT_EQ(report.failures[0].values.size(), 1u);
  const ObservedValue& value = report.failures[0].values[0];
  if (value.path == "subject.tags") {
    EXPECT_EQ(value.text, R"(["y", "x\"q"])");
  } else {
    EXPECT_EQ(value.path, "context.mfa");
    EXPECT_EQ(value.text, "absent");
    EXPECT_TRUE(value.json.is_null());
  }
}

TEST(Explain, AddressAndDecimalValuesRender) {
  Explanation explanation = ExplainText(R"(
      schema source { ip: ip }
      schema resource { price: decimal }
      permit "internal-cheap" when {
        source.ip in cidr("10.0.0.0/8") and resource.price < decimal("10.5") })",
      R"({"resource": {"type": "r", "id": "x", "properties": {"price": "12.25"}},
          "attributes": {"source": {"ip": "::ffff:10.1.2.3"}}})");
  ASSERT_EQ(explanation.nearest.size(), 1u);
  const PolicyReport& report = explanation.nearest[0];
  ASSERT_EQ(report.failures.size(), 1u);
  ASSERT_EQ(report.failures[0].values.size(), 1u);
  EXPECT_EQ(report.failures[0].values[0].path, "resource.price");
  EXPECT_EQ(report.failures[0].values[0].text, "12.25");

  Frame frame;
  compiler::Compilation compilation = testing::CompileText(R"(
      schema source { ip: ip }
      permit "p" when { source.ip in cidr("10.0.0.0/8") })");
  ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
  ASSERT_TRUE(DecodeJsonRequest(*compilation.program,
                                R"({"attributes": {"source": {"ip": "::ffff:10.1.2.3"}}})",
                                0, frame)
                  .ok());
  ObservedValue ip = ObserveSlot(*compilation.program, frame,
                                 compilation.program->FindSlot("source.ip"));
  EXPECT_EQ(ip.text, "10.1.2.3");
  EXPECT_EQ(ip.json, "10.1.2.3");
}

TEST(Explain, DefaultDenyRanksOnlyPermits) {
  Explanation explanation = ExplainText(
      std::string(kSchema) + R"(
        permit "far" when { action.name == "a" and subject.level > 5 }
        permit "near" when { action.name == "read" and subject.level > 5 }
        forbid "never" when { action.name == "delete" })",
      R"({"subject": {"type": "u", "id": "x", "properties": {"roles": [], "level": 1}},
          "action": {"name": "read"}})");
  ASSERT_EQ(explanation.nearest.size(), 2u);
  EXPECT_EQ(explanation.nearest[0].id, "near");
  EXPECT_EQ(explanation.nearest[1].id, "far");
  EXPECT_EQ(explanation.not_applied, 2u);
  EXPECT_EQ(explanation.summary,
            "DENY: no permit applied; nearest: \"near\", \"far\"");
}

TEST(Explain, MaxNearestLimitsAndZeroShowsAll) {
  std::string source = std::string(kSchema) + R"(
      permit "p1" when { action.name == "a" }
      permit "p2" when { action.name == "b" }
      permit "p3" when { action.name == "c" }
      permit "p4" when { action.name == "d" })";
  std::string request =
      R"({"subject": {"type": "u", "id": "x", "properties": {"roles": [], "level": 1}},
          "action": {"name": "z"}})";
  EXPECT_EQ(ExplainText(source, request).nearest.size(), 3u);
  Explanation all = ExplainText(source, request, /*max_nearest=*/0);
  EXPECT_EQ(all.nearest.size(), 4u);
  EXPECT_EQ(all.not_applied, 4u);
}

}  // namespace
}  // namespace verdict
