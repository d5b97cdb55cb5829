// Templates: policies linked once per record of a data set and compiled into
// one lookup; and modules, which qualify the names a file declares.

#include <string>
#include <vector>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::HasSubstr;
using testing::CompileFiles;
using testing::CompileText;

constexpr char kSchema[] = R"(
schema subject { id: string  tenant?: string  level: int }
schema resource { id: string }
schema action { name: string }
)";

constexpr char kShares[] = R"([
  {"user": "alice", "doc": "plan.md"},
  {"user": "bob", "doc": "plan.md", "granted_by": "carol"},
  {"user": "alice", "doc": "notes.md"}
])";

struct Outcome {
  bool permit = false;
  std::vector<std::string> determining;
  std::vector<std::string> errored;
};

Outcome Decide(const Program& program, const std::string& request) {
  Frame frame;
  absl::Status status = DecodeJsonRequest(program, request, 1000, frame);
  EXPECT_TRUE(status.ok()) << status;
  Decision decision = Evaluate(program, frame);
  Outcome out;
  out.permit = decision.permit;
  for (uint32_t policy : decision.determining) {
    out.determining.push_back(program.policies[policy].id);
  }
  for (const ErroredPolicy& error : decision.errors) {
    out.errored.push_back(program.policies[error.policy].id);
  }
  return out;
}

std::string Request(const std::string& user, const std::string& doc,
                    const std::string& action = "view") {
  return R"({"subject": {"id": ")" + user + R"(", "properties": {"level": 1}},
             "resource": {"id": ")" + doc + R"("},
             "action": {"name": ")" + action + R"("}})";
}

TEST(Template, EachRecordLinksThePolicy) {
  compiler::Compilation compiled = CompileText(
      std::string(kSchema) + R"(
permit "shared" from shares when {
  subject.id == ?user and resource.id == ?doc and action.name == "view"
})",
      {{"shares", kShares}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  const Program& program = *compiled.program;
  EXPECT_TRUE(Decide(program, Request("alice", "plan.md")).permit);
  EXPECT_TRUE(Decide(program, Request("bob", "plan.md")).permit);
  EXPECT_TRUE(Decide(program, Request("alice", "notes.md")).permit);
  EXPECT_EQ(Decide(program, Request("alice", "plan.md")).determining,
            std::vector<std::string>{"shared"});
  // A pair that no single record holds.
  EXPECT_FALSE(Decide(program, Request("bob", "notes.md")).permit);
  EXPECT_FALSE(Decide(program, Request("mallory", "plan.md")).permit);
  EXPECT_FALSE(Decide(program, Request("alice", "plan.md", "edit")).permit);
}

// Thousands of links stay one predicate with one table, not copies.
TEST(Template, LinksCompileIntoOneTest) {
  std::string links = "[";
  for (int i = 0; i < 5000; ++i) {
    if (i > 0) links += ",";
    links += R"({"user": "u)" + std::to_string(i) + R"(", "doc": "d)" +
             std::to_string(i % 97) + R"("})";
  }
  links += "]";
  compiler::Compilation compiled = CompileText(
      std::string(kSchema) + R"(
permit "shared" from shares when { subject.id == ?user and resource.id == ?doc })",
      {{"shares", links}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  const Program& program = *compiled.program;
  ASSERT_EQ(program.link_tables.size(), 1u);
  EXPECT_EQ(program.link_tables[0].link_count(), 5000u);
  EXPECT_EQ(program.predicates.size(), 1u);
  // One test node and its true, false and error leaves.
  EXPECT_LE(program.nodes.size(), 4u);
  EXPECT_TRUE(Decide(program, Request("u4321", "d" + std::to_string(4321 % 97))).permit);
  EXPECT_FALSE(Decide(program, Request("u4321", "d0")).permit);
}

TEST(Template, IntFieldsAndForbids) {
  compiler::Compilation compiled = CompileText(
      std::string(kSchema) + R"(
permit "all" when { action.name == "view" }
forbid "blocked-levels" from blocked when { subject.level == ?level })",
      {{"blocked", R"([{"level": 7}, {"level": -3}])"}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  auto request = [](int level) {
    return R"({"subject": {"id": "a", "properties": {"level": )" +
           std::to_string(level) +
           R"(}}, "resource": {"id": "r"}, "action": {"name": "view"}})";
  };
  EXPECT_TRUE(Decide(*compiled.program, request(1)).permit);
  Outcome blocked = Decide(*compiled.program, request(-3));
  EXPECT_FALSE(blocked.permit);
  EXPECT_EQ(blocked.determining, std::vector<std::string>{"blocked-levels"});
}

// An absent bound attribute makes the link test unknown, as the equality
// it stands for would be: a forbid then denies.
TEST(Template, AbsentAttributeErrors) {
  compiler::Compilation compiled = CompileText(
      std::string(kSchema) + R"(
permit "all" when { action.name == "view" }
forbid "revoked" from shares when { subject.id == ?user and resource.id == ?doc })",
      {{"shares", kShares}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  Outcome outcome = Decide(*compiled.program,
                           R"({"subject": {"id": "alice", "properties":
                               {"level": 1}}, "action": {"name": "view"}})");
  EXPECT_FALSE(outcome.permit);
  EXPECT_EQ(outcome.errored, std::vector<std::string>{"revoked"});
}

TEST(Template, OptionalAttributeNeedsGuard) {
  compiler::Compilation unguarded = CompileText(
      std::string(kSchema) + R"(
permit "t" from tenants when { subject.tenant == ?tenant })",
      {{"tenants", R"([{"tenant": "t1"}])"}});
  EXPECT_EQ(unguarded.program, nullptr);
  EXPECT_THAT(unguarded.diagnostics,
              HasSubstr("optional attribute 'subject.tenant' is read without a guard"));
  compiler::Compilation guarded = CompileText(
      std::string(kSchema) + R"(
permit "t" from tenants when { subject has tenant and subject.tenant == ?tenant })",
      {{"tenants", R"([{"tenant": "t1"}])"}});
  EXPECT_NE(guarded.program, nullptr) << guarded.diagnostics;
}

struct BadTemplate {
  const char* policy;
  const char* links;
  const char* message;
};

class TemplateErrors : public ::testing::TestWithParam<BadTemplate> {};

TEST_P(TemplateErrors, AreReportedWithTheirCause) {
  compiler::Compilation compiled =
      CompileText(std::string(kSchema) + GetParam().policy,
                  {{"shares", GetParam().links}});
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    All, TemplateErrors,
    ::testing::Values(
        BadTemplate{R"(permit "p" when { subject.id == ?user })", kShares,
                    "placeholder ?user must be compared with `==` to an "
                    "attribute, as a term of the top-level `and` of a "
                    "template's condition"},
        BadTemplate{R"(permit "p" from shares when {
                         subject.id == ?user or resource.id == ?doc })",
                    kShares, "placeholder ?user must be compared with `==`"},
        BadTemplate{R"(permit "p" from shares when {
                         subject.id == ?user and resource.id == ?user })",
                    kShares, "placeholder ?user is bound twice"},
        BadTemplate{R"(permit "p" from shares when { action.name == "view" })",
                    kShares, "template \"p\" binds no placeholder"},
        BadTemplate{R"(permit "p" from shares;)", kShares,
                    "template \"p\" links records of 'shares' but has no "
                    "condition"},
        BadTemplate{R"(permit "p" from shares when { subject.id == ?user })",
                    R"({"user": "alice"})",
                    "is linked by a JSON array of records"},
        BadTemplate{R"(permit "p" from shares when { subject.id == ?user })",
                    R"([{"name": "alice"}])",
                    "record 0 has no \"user\", which template \"p\" binds to "
                    "subject.id"},
        BadTemplate{R"(permit "p" from shares when { subject.level == ?l })",
                    R"([{"l": "7"}])",
                    "record 0 field \"l\" must be an integer, as subject.level "
                    "is; got string"},
        BadTemplate{R"(permit "p" from other when { subject.id == ?user })",
                    kShares, "data set 'other' that links template \"p\" is "
                             "missing; create"}));

TEST(Module, QualifiesPoliciesAndConstants) {
  compiler::Compilation compiled = CompileFiles({
      {"a.verdict", std::string("module billing;\n") + kSchema + R"(
const ACTION = "pay"
permit "allow" when { action.name == ACTION })"},
      {"b.verdict", R"(
module shipping;
const ACTION = "ship"
permit "allow" when { action.name == ACTION or action.name == billing::ACTION })"},
  });
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  const Program& program = *compiled.program;
  auto request = [](const std::string& action) {
    return R"({"subject": {"id": "a", "properties": {"level": 1}},
               "resource": {"id": "r"}, "action": {"name": ")" +
           action + R"("}})";
  };
  EXPECT_EQ(Decide(program, request("pay")).determining,
            (std::vector<std::string>{"billing::allow", "shipping::allow"}));
  EXPECT_EQ(Decide(program, request("ship")).determining,
            std::vector<std::string>{"shipping::allow"});
}

TEST(Module, ClashesAreReportedWithQualifiedNames) {
  compiler::Compilation compiled = CompileFiles({
      {"a.verdict", std::string("module billing;\n") + kSchema + R"(
permit "allow";)"},
      {"b.verdict", R"(
module billing;
permit "allow";)"},
  });
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("policy id \"billing::allow\" is already used at"));
}

TEST(Module, UnknownQualifiedConstantSuggestsTheNearest) {
  compiler::Compilation compiled = CompileFiles({
      {"a.verdict", std::string("module billing;\n") + kSchema + R"(
const ACTION = "pay")"},
      {"b.verdict", R"(permit "p" when { action.name == billing::ACTIONS })"},
  });
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("unknown name 'billing::ACTIONS'; did you mean "
                        "'billing::ACTION'?"));
}

TEST(Module, MustComeFirst) {
  compiler::Compilation compiled =
      CompileText(std::string(kSchema) + "module billing;\n");
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("`module` must be the first declaration of a file"));
}

}  // namespace
}  // namespace verdict
