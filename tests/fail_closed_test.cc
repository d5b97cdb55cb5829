// Every way a decision can go wrong inside the engine, each next to a
// permit that would otherwise apply: the decision must be DENY, with a
// reason that names what went wrong, and never PERMIT.
//
// Token failures (token_invalid:<check>) and conflicts with token claims
// are enumerated in tests/tokens/scenarios_test.cc and
// tests/tokens/presentation_test.cc. Requests that cannot be decoded get
// no decision at all: DecodeJsonRequest returns INVALID_ARGUMENT and the
// server returns that status.

#include <map>
#include <string>
#include <vector>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::ElementsAreArray;

struct FailureCase {
  std::string name;
  std::string policies;
  std::map<std::string, std::string> data;
  std::string request;
  std::vector<std::string> reasons;  // exactly, in order
};

// "allow" applies to "read" requests unless a failure stops them. Cases
// about a failing permit use other actions, so only that permit could apply.
constexpr char kSchema[] = R"(
schema subject from users { id: string  roles?: set<string> }
schema resource { owner?: string  amount?: int  price?: decimal }
schema action { name: string }
permit "allow" when { action.name == "read" }
)";

const std::vector<FailureCase>& Cases() {
  static const auto* cases = new std::vector<FailureCase>{
      {"ErroredPermitDoesNotApply",
       R"(schema context { level: int }
          permit "leveled" when { context.level > 2 })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "write"}})",
       {"default_deny"}},
      {"AbsentAttributeInForbidDenies",
       R"(schema context { region: string }
          forbid "outside-eu" when { context.region != "eu" })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"}})",
       {"forbid_error:outside-eu"}},
      {"ExplicitNullIsAbsentInForbid",
       R"(schema context { region: string }
          forbid "outside-eu" when { context.region != "eu" })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"},
           "context": {"region": null}})",
       {"forbid_error:outside-eu"}},
      {"IntegerOverflowInForbidDenies",
       R"(forbid "large" when { resource has amount and
                                resource.amount + 1 > 100 })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"},
           "resource": {"properties": {"amount": 9223372036854775807}}})",
       {"forbid_error:large"}},
      {"IntegerOverflowInPermitDoesNotApply",
       R"(permit "small" when { action.name == "pay" and resource has amount
                                and resource.amount + 1 < 100 })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "pay"},
           "resource": {"properties": {"amount": 9223372036854775807}}})",
       {"default_deny"}},
      {"DecimalOverflowInForbidDenies",
       R"(forbid "pricey" when { resource has price and
                                 resource.price + decimal("1.0") >
                                 decimal("100.0") })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"},
           "resource": {"properties": {"price": "922337203685477.5807"}}})",
       {"forbid_error:pricey"}},
      {"RequestContradictingDataDenies",
       "",
       {{"users", R"({"alice": {"roles": ["staff"]}})"}},
       R"({"subject": {"id": "alice", "properties": {"roles": ["admin"]}},
           "action": {"name": "read"}})",
       {"attribute_conflict:subject.roles"}},
      {"UnfulfillableObligationDenies",
       R"(permit "audited" when { action.name == "read" }
            obligation "audit" { owner: resource.owner })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"}})",
       {"obligation_error:audited"}},
      {"ErroredForbidInsidePolicySetDenies",
       R"(schema context { region: string }
          policyset "regional" deny_overrides {
            forbid "outside-eu" when { context.region != "eu" }
          })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"}})",
       {"forbid_error:outside-eu"}},
      {"ErroredForbidFirstInFirstApplicableDenies",
       R"(schema context { region: string }
          policyset "regional" first_applicable {
            forbid "outside-eu" when { context.region != "eu" }
            permit "readers" when { action.name == "read" }
          })",
       {},
       R"({"subject": {"id": "alice"}, "action": {"name": "read"}})",
       {"forbid_error:outside-eu"}},
  };
  return *cases;
}

class FailClosedTest : public ::testing::TestWithParam<FailureCase> {};

TEST_P(FailClosedTest, DeniesWithReason) {
  const FailureCase& c = GetParam();
  std::map<std::string, std::string> data = c.data;
  if (data.empty()) data["users"] = R"({"alice": {}})";
  compiler::Compilation compiled = testing::CompileFiles(
      {{"schema.verdict", kSchema}, {"case.verdict", c.policies}}, data);
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  const Program& program = *compiled.program;
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(program, c.request, 0, frame).ok());
  const Decision decision = Evaluate(program, frame);

  EXPECT_FALSE(decision.permit);
  EXPECT_THAT(DecisionReasons(program, frame, decision),
              ElementsAreArray(c.reasons));
}

INSTANTIATE_TEST_SUITE_P(
    EveryFailure, FailClosedTest, ::testing::ValuesIn(Cases()),
    [](const ::testing::TestParamInfo<FailureCase>& info) {
      return info.param.name;
    });

// The permit of kSchema applies when nothing fails, so each case above is
// denied by its failure and not by the policies.
TEST(FailClosedBaseline, PermitAppliesWithoutFailure) {
  compiler::Compilation compiled = testing::CompileFiles(
      {{"schema.verdict", kSchema}}, {{"users", R"({"alice": {}})"}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(*compiled.program,
                                R"({"subject": {"id": "alice"},
                                    "action": {"name": "read"}})",
                                0, frame)
                  .ok());
  const Decision decision = Evaluate(*compiled.program, frame);
  EXPECT_TRUE(decision.permit);
}

}  // namespace
}  // namespace verdict
