// Compile errors: each names the problem with file:line:col, a source line
// and a caret, and one run reports all of them.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::HasSubstr;
using testing::CompileText;

constexpr char kSchema[] = R"(schema subject {
  id: string
  roles: set<string>
  email?: string
  level: int
}
schema action { name: string }
schema env { now: timestamp }
schema token { issued_at: timestamp }
)";

struct ErrorCase {
  std::string name;
  std::string policy;
  std::string message;  // expected substring of the diagnostics
};

class CheckerErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CheckerErrorTest, ReportsError) {
  compiler::Compilation result = CompileText(kSchema + GetParam().policy);
  EXPECT_EQ(result.program, nullptr);
  EXPECT_GE(result.error_count, 1u);
  EXPECT_THAT(result.diagnostics, HasSubstr(GetParam().message));
  EXPECT_THAT(result.diagnostics, HasSubstr("policy.verdict:"));
}

INSTANTIATE_TEST_SUITE_P(
    Checker, CheckerErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownAttributeSuggests",
                  "permit \"p\" when { \"a\" in subject.rolez }",
                  "unknown attribute 'subject.rolez'; did you mean "
                  "'subject.roles'?"},
        ErrorCase{"UnknownName", "permit \"p\" when { FOO }",
                  "unknown name 'FOO'"},
        ErrorCase{"TypeMismatch", "permit \"p\" when { subject.level == \"x\" }",
                  "cannot compare int == string"},
        ErrorCase{"DurationNeedsUnit",
                  "permit \"p\" when { env.now - token.issued_at < 300 }",
                  "write the integer with a unit"},
        ErrorCase{"UnguardedOptional",
                  "permit \"p\" when { subject.email == \"a@b\" }",
                  "optional attribute 'subject.email' is read without a "
                  "guard; test `subject has email` first"},
        ErrorCase{"GuardInOrDoesNotCount",
                  "permit \"p\" when { subject has email or subject.email == "
                  "\"a\" }",
                  "optional attribute 'subject.email'"},
        ErrorCase{"ConditionMustBeBool", "permit \"p\" when { subject.level }",
                  "a policy condition must be bool, but this is int"},
        ErrorCase{"DuplicatePolicyId",
                  "permit \"p\";\nforbid \"p\";", "policy id \"p\" is already used"},
        ErrorCase{"OrderingOnStrings",
                  "permit \"p\" when { subject.id < \"m\" }",
                  "operator < needs int, decimal, timestamp or duration "
                  "operands"},
        ErrorCase{"InNeedsSet", "permit \"p\" when { subject.id in subject.id }",
                  "the right operand of `in` must be set<string>"},
        ErrorCase{"UnknownMethod",
                  "permit \"p\" when { subject.id.contains(\"x\") }",
                  "unknown method 'contains'"},
        ErrorCase{"BareGroup", "permit \"p\" when { subject }",
                  "'subject' is an attribute group"},
        ErrorCase{"ConstantOverflow",
                  "forbid \"f\" when { 9223372036854775807 + 1 > 0 }",
                  "this constant expression overflows"},
        ErrorCase{"ObligationValueIsNotAnExpression",
                  "permit \"p\" when { true } obligation \"o\" { v: subject.level + 1 }",
                  "an obligation or advice value is a literal, a constant or "
                  "an attribute"},
        ErrorCase{"ObligationFieldTwice",
                  "permit \"p\" obligation \"o\" { v: 1, v: 2 }",
                  "field 'v' is given twice in obligation \"o\""},
        ErrorCase{"SyntaxError", "permit \"p\" when { subject.id == }",
                  "error:"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return info.param.name;
    });

TEST(Checker, ReportsEveryErrorWithCaret) {
  compiler::Compilation result = CompileText(std::string(kSchema) +
                                             "permit \"a\" when { subject.nme == \"x\" }\n"
                                             "permit \"b\" when { subject.level == true }\n");
  EXPECT_EQ(result.error_count, 2u);
  EXPECT_THAT(result.diagnostics, HasSubstr("policy.verdict:10:19: error: unknown attribute"));
  EXPECT_THAT(result.diagnostics, HasSubstr("policy.verdict:11:19: error: cannot compare"));
  EXPECT_THAT(result.diagnostics,
              HasSubstr("  permit \"a\" when { subject.nme == \"x\" }\n"
                        "                    ^~~~~~~~~~~"));
}

TEST(Checker, CollectionConstantServesSetsAndLists) {
  compiler::Compilation result = CompileText(
      "schema resource { path: list<string>  tags: set<string> }\n"
      "const K1 = [\"default\", \"keys\", \"k1\"]\n"
      "permit \"list\" when { resource.path == K1 }\n"
      "permit \"set\" when { resource.tags == K1 }\n");
  EXPECT_NE(result.program, nullptr) << result.diagnostics;
}

TEST(Checker, GuardedOptionalCompiles) {
  compiler::Compilation result = CompileText(
      std::string(kSchema) +
      "permit \"p\" when { subject has email and subject.email.endsWith(\"@x\") }");
  EXPECT_NE(result.program, nullptr) << result.diagnostics;
}

TEST(Checker, DataSetMustExist) {
  compiler::Compilation result = CompileText(
      "schema subject from users { id: string }\npermit \"p\";");
  EXPECT_EQ(result.program, nullptr);
  EXPECT_THAT(result.diagnostics, HasSubstr("no data directory was given"));
}

TEST(Checker, DataValueTypeChecked) {
  compiler::Compilation result = CompileText(
      "schema subject from users { id: string  roles: set<string> }\n"
      "permit \"p\";",
      {{"users", R"({"alice": {"roles": "admin"}})"}});
  EXPECT_EQ(result.program, nullptr);
  EXPECT_THAT(result.diagnostics,
              HasSubstr("record \"alice\": subject.roles must be set<string>, "
                        "but is \"admin\""));
}

TEST(Checker, SameInputSameRevisionAndDag) {
  std::string source = std::string(kSchema) +
                       "permit \"p\" when { action.name in [\"a\", \"b\"] and "
                       "\"r\" in subject.roles }\n"
                       "forbid \"f\" when { subject.level > 3 }\n";
  compiler::Compilation first = CompileText(source);
  compiler::Compilation second = CompileText(source);
  ASSERT_NE(first.program, nullptr);
  ASSERT_NE(second.program, nullptr);
  EXPECT_EQ(first.program->revision, second.program->revision);
  ASSERT_EQ(first.program->nodes.size(), second.program->nodes.size());
  for (size_t i = 0; i < first.program->nodes.size(); ++i) {
    EXPECT_EQ(first.program->nodes[i].kind, second.program->nodes[i].kind);
    EXPECT_EQ(first.program->nodes[i].a, second.program->nodes[i].a);
  }
}

}  // namespace
}  // namespace verdict
