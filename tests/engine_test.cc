// Decision semantics of the compiled engine, one behaviour per test.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "engine/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::CompileText;

constexpr char kSchema[] = R"(schema subject from users {
  id: string
  roles: set<string>
  email?: string
  level: int
}
schema resource { type: string  owner?: string  path: list<string> }
schema action { name: string }
schema env { now: timestamp }
schema token { issued_at: timestamp }
)";

constexpr char kUsers[] =
    R"({"alice": {"roles": ["admin"], "email": "alice@x.com", "level": 5},
        "bob": {"roles": ["viewer"]}})";

// Compiles the schema plus `policies` and decides `request` (JSON) at time
// 1000; returns the reasons, or the decode error prefixed with "error: ".
class EngineTest : public ::testing::Test {
 protected:
  void Compile(const std::string& policies) {
    compiler::Compilation result =
        CompileText(kSchema + policies, {{"users", kUsers}});
    ASSERT_NE(result.program, nullptr) << result.diagnostics;
    program_ = result.program;
  }

  Decision Decide(const std::string& request) {
    absl::Status status = DecodeJsonRequest(*program_, request, 1000, frame_);
    EXPECT_TRUE(status.ok()) << status;
    return Evaluate(*program_, frame_);
  }

  std::vector<std::string> Reasons(const std::string& request) {
    Decision decision = Decide(request);
    return DecisionReasons(*program_, frame_, decision);
  }

  std::shared_ptr<const Program> program_;
  Frame frame_;
};

TEST_F(EngineTest, DefaultDeny) {
  Compile(R"(permit "p" when { action.name == "read" })");
  EXPECT_THAT(Reasons(R"({"action": {"name": "write"}})"),
              ElementsAre("default_deny"));
}

TEST_F(EngineTest, ForbidOverridesPermit) {
  Compile(R"(permit "p" when { action.name == "read" }
             forbid "f" when { "viewer" in subject.roles })");
  EXPECT_THAT(Reasons(R"({"subject": {"id": "bob"}, "action": {"name": "read"}})"),
              ElementsAre("forbid:f"));
  EXPECT_THAT(Reasons(R"({"subject": {"id": "alice"}, "action": {"name": "read"}})"),
              ElementsAre("permit:p"));
}

TEST_F(EngineTest, ErroredForbidDenies) {
  Compile(R"(permit "p" when { action.name == "read" }
             forbid "f" when { subject.level > 3 })");
  // carol has no record, so subject.level is absent and the forbid errors.
  Decision decision =
      Decide(R"({"subject": {"id": "carol"}, "action": {"name": "read"}})");
  EXPECT_FALSE(decision.permit);
  ASSERT_EQ(decision.errors.size(), 1u);
  EXPECT_EQ(DescribeError(*program_, frame_, decision.errors[0].predicate),
            "attribute subject.level is absent");
  EXPECT_THAT(DecisionReasons(*program_, frame_, decision),
              ElementsAre("forbid_error:f"));
}

TEST_F(EngineTest, ErroredPermitDoesNotApply) {
  Compile(R"(permit "p" when { subject.level > 3 }
             permit "q" when { action.name == "read" })");
  Decision decision =
      Decide(R"({"subject": {"id": "carol"}, "action": {"name": "write"}})");
  EXPECT_FALSE(decision.permit);
  ASSERT_EQ(decision.errors.size(), 1u);
  EXPECT_EQ(program_->policies[decision.errors[0].policy].id, "p");
}

TEST_F(EngineTest, FalseConjunctDecidesDespiteError) {
  Compile(R"(forbid "f" when { action.name == "delete" and subject.level > 3 })");
  Decision decision =
      Decide(R"({"subject": {"id": "carol"}, "action": {"name": "read"}})");
  EXPECT_TRUE(decision.errors.empty());
}

TEST_F(EngineTest, DataJoinFillsAttributes) {
  Compile(R"(permit "p" when { "admin" in subject.roles and subject has email
                               and subject.email.endsWith("@x.com") })");
  EXPECT_TRUE(Decide(R"({"subject": {"id": "alice"}})").permit);
  EXPECT_FALSE(Decide(R"({"subject": {"id": "bob"}})").permit);
}

TEST_F(EngineTest, RequestContradictingDataFailsClosed) {
  Compile(R"(permit "p" when { "admin" in subject.roles })");
  Decision decision = Decide(
      R"({"subject": {"id": "bob", "properties": {"roles": ["admin"]}}})");
  EXPECT_FALSE(decision.permit);
  EXPECT_TRUE(decision.rejected);
  EXPECT_THAT(DecisionReasons(*program_, frame_, decision),
              ElementsAre("attribute_conflict:subject.roles"));
  // Agreeing with the data is fine.
  EXPECT_TRUE(Decide(R"({"subject": {"id": "alice",
                         "properties": {"roles": ["admin"]}}})")
                  .permit);
}

TEST_F(EngineTest, SetsMatchWholeElements) {
  Compile(R"(permit "p" when { "sales.read" in subject.roles })");
  EXPECT_FALSE(Decide(R"({"subject": {"id": "zed",
                          "properties": {"roles": ["sales.reader"]}}})")
                   .permit);
  EXPECT_TRUE(Decide(R"({"subject": {"id": "zed",
                         "properties": {"roles": ["x", "sales.read"]}}})")
                  .permit);
}

TEST_F(EngineTest, OverflowIsAnErrorNotAPermit) {
  Compile(R"(permit "p" when { subject.level + 1 > 0 })");
  Decision decision = Decide(R"({"subject": {"id": "zed",
      "properties": {"level": 9223372036854775807}}})");
  EXPECT_FALSE(decision.permit);
  ASSERT_EQ(decision.errors.size(), 1u);
  EXPECT_THAT(DescribeError(*program_, frame_, decision.errors[0].predicate),
              HasSubstr("integer overflow"));
}

TEST_F(EngineTest, DurationArithmetic) {
  Compile(R"(permit "fresh" when { env.now - token.issued_at < 5m })");
  EXPECT_TRUE(Decide(R"({"attributes": {"token": {"issued_at": 701}}})").permit);
  EXPECT_FALSE(Decide(R"({"attributes": {"token": {"issued_at": 700}}})").permit);
  EXPECT_TRUE(Decide(R"({"attributes": {"token": {"issued_at": 701},
                         "env": {"now": "1970-01-01T00:16:40Z"}}})")
                  .permit);
}

TEST_F(EngineTest, ListsCompareInOrder) {
  Compile(R"(permit "p" when { resource.path == ["default", "keys", "k1"] })");
  EXPECT_TRUE(Decide(R"({"resource": {"properties":
                         {"path": ["default", "keys", "k1"]}}})")
                  .permit);
  EXPECT_FALSE(Decide(R"({"resource": {"properties":
                          {"path": ["keys", "default", "k1"]}}})")
                   .permit);
}

TEST_F(EngineTest, RejectsIllTypedRequest) {
  Compile(R"(permit "p";)");
  absl::Status status = DecodeJsonRequest(
      *program_, R"({"subject": {"properties": {"level": 1.5}}})", 0, frame_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("subject.level"));
  status = DecodeJsonRequest(
      *program_, R"({"subject": {"properties": {"roles": "admin"}}})", 0, frame_);
  EXPECT_THAT(status.message(),
              HasSubstr("subject.roles: expected set<string>, got the string"));
  status = DecodeJsonRequest(*program_, R"({"subjct": {}})", 0, frame_);
  EXPECT_THAT(status.message(), HasSubstr("unknown request member \"subjct\""));
  status = DecodeJsonRequest(*program_, R"({"action": {"name": {"x": "y"}}})",
                             0, frame_);
  EXPECT_THAT(status.message(),
              HasSubstr("action.name: expected string, got an object"));
  status = DecodeJsonRequest(*program_, R"({"context": 5})", 0, frame_);
  EXPECT_THAT(status.message(), HasSubstr("\"context\" must be an object"));
  status = DecodeJsonRequest(*program_, R"({"subject": )", 0, frame_);
  EXPECT_THAT(status.message(), HasSubstr("not valid JSON"));
}

TEST_F(EngineTest, RejectsAttributeGivenTwice) {
  Compile(R"(permit "p" when { subject.id == "admin" })");
  for (const char* request : {
           R"({"subject": {"id": "alice", "properties": {"id": "admin"}}})",
           R"({"subject": {"id": "alice"}, "attributes": {"subject": {"id": "admin"}}})",
           R"({"action": {"name": "a"}, "attributes": {"action": {"name": null}}})"}) {
    absl::Status status = DecodeJsonRequest(*program_, request, 0, frame_);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << request;
    EXPECT_THAT(status.message(), HasSubstr("is given twice")) << request;
  }
}

TEST_F(EngineTest, ErrorMessageKeepsDurationUnits) {
  Compile(R"(permit "fresh" when { env.now - token.issued_at < 5m })");
  Decision decision = Decide(
      R"({"attributes": {"token": {"issued_at": -9223372036854775807}}})");
  ASSERT_EQ(decision.errors.size(), 1u);
  EXPECT_EQ(DescribeError(*program_, frame_, decision.errors[0].predicate),
            "integer overflow in `env.now - token.issued_at < 5m`");
}

TEST_F(EngineTest, ResidualLeavesDecideLikeTheFullDag) {
  std::string policies = R"(
    permit "a" when { action.name == "read" and "viewer" in subject.roles }
    permit "b" when { action.name == "write" and "admin" in subject.roles }
    forbid "c" when { resource.type == "secret" and subject.level < 9 })";
  compiler::CompileOptions tiny;
  tiny.max_dag_nodes = 1;
  compiler::Compilation residual =
      CompileText(kSchema + policies, {{"users", kUsers}}, tiny);
  ASSERT_NE(residual.program, nullptr);
  Compile(policies);
  EXPECT_LT(residual.program->nodes.size(), program_->nodes.size());
  for (const char* request : {
           R"({"subject": {"id": "bob"}, "action": {"name": "read"}, "resource": {"type": "doc"}})",
           R"({"subject": {"id": "alice"}, "action": {"name": "write"}, "resource": {"type": "secret"}})",
           R"({"subject": {"id": "bob"}, "action": {"name": "read"}, "resource": {"type": "secret"}})"}) {
    Frame frame;
    ASSERT_TRUE(DecodeJsonRequest(*residual.program, request, 0, frame).ok());
    bool residual_permit = Evaluate(*residual.program, frame).permit;
    EXPECT_EQ(residual_permit, Decide(request).permit) << request;
  }
}

TEST_F(EngineTest, ReachedBudgetIsAWarning) {
  compiler::CompileOptions tiny;
  tiny.max_dag_nodes = 1;
  compiler::Compilation result = CompileText(
      std::string(kSchema) + R"(permit "a" when { action.name == "read" })",
      {{"users", kUsers}}, tiny);
  ASSERT_NE(result.program, nullptr);
  EXPECT_THAT(result.diagnostics,
              ::testing::HasSubstr("warning: the decision DAG reached its "
                                   "budget of 1 nodes"));
}

TEST_F(EngineTest, DagNodeLimitIsACompileError) {
  compiler::CompileOptions limited;
  limited.dag_node_limit = 3;
  compiler::Compilation result = CompileText(
      std::string(kSchema) +
          R"(permit "a" when { action.name == "read" and subject.level > 1 })",
      {{"users", kUsers}}, limited);
  EXPECT_EQ(result.program, nullptr);
  EXPECT_EQ(result.error_count, 1u);
  EXPECT_THAT(result.diagnostics,
              ::testing::HasSubstr("error: the decision DAG needs more than 3 "
                                   "nodes, the limit, for 1 policies"));
}

TEST_F(EngineTest, OutputsFollowPolicyOrderWithResiduals) {
  compiler::CompileOptions tiny;
  tiny.max_dag_nodes = 1;
  compiler::Compilation result = CompileText(
      std::string(kSchema) +
          R"(permit "p0" when { action.name == "b" }
             permit "p1" when { action.name == "c" or resource.type == "a" }
             permit "p2" when { action.name == "c" })",
      {{"users", kUsers}}, tiny);
  ASSERT_NE(result.program, nullptr);
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(*result.program,
                                R"({"action": {"name": "c"}})", 0, frame)
                  .ok());
  Decision decision = Evaluate(*result.program, frame);
  std::vector<std::string> ids;
  for (uint32_t policy : decision.determining) {
    ids.push_back(result.program->policies[policy].id);
  }
  EXPECT_THAT(ids, ElementsAre("p1", "p2"));
}

TEST_F(EngineTest, ObligationsAndAdviceOfDeterminingPolicies) {
  Compile(R"(permit "read" when { action.name == "read" }
               obligation "add_header" { name: "x-user", value: subject.id }
               advice "reason" { text: "readers may read" }
             permit "mail" when { action.name == "mail" }
               obligation "notify" { to: subject.email }
             forbid "no-guests" when { "guest" in subject.roles }
               advice "step_up" { acr_values: ["mfa", "hwk"] })");
  Decision decision =
      Decide(R"({"subject": {"id": "alice"}, "action": {"name": "read"}})");
  ASSERT_TRUE(decision.permit);
  nlohmann::json duties = DutiesToJson(*program_, frame_, decision);
  EXPECT_EQ(duties["obligations"].dump(),
            R"([{"fields":{"name":"x-user","value":"alice"},"name":"add_header","policy":"read"}])");
  EXPECT_EQ(duties["advice"].dump(),
            R"([{"fields":{"text":"readers may read"},"name":"reason","policy":"read"}])");

  // bob has no email, so the obligation cannot be carried out: DENY.
  decision = Decide(R"({"subject": {"id": "bob"}, "action": {"name": "mail"}})");
  EXPECT_FALSE(decision.permit);
  EXPECT_THAT(DecisionReasons(*program_, frame_, decision),
              ElementsAre("obligation_error:mail"));

  // Advice of a deciding forbid comes back with the denial.
  decision = Decide(R"({"subject": {"id": "zed", "properties": {"roles": ["guest"]}},
                        "action": {"name": "read"}})");
  EXPECT_FALSE(decision.permit);
  duties = DutiesToJson(*program_, frame_, decision);
  EXPECT_EQ(duties["advice"][0]["fields"]["acr_values"].dump(), R"(["hwk","mfa"])");
}

TEST(PolicySets, CombiningAlgorithmsNest) {
  compiler::Compilation result = CompileText(R"(
    schema subject { roles: set<string> }
    schema action { name: string }
    forbid "freeze" when { "frozen" in subject.roles }
    policyset "payments" permit_overrides {
      forbid "no-large" when { action.name == "pay-large" }
      permit "cfo-pays" when { "cfo" in subject.roles }
      policyset "ordered" first_applicable {
        forbid "deny-interns" when { "intern" in subject.roles }
        permit "staff-pays" when { "staff" in subject.roles and action.name == "pay-small" }
      }
    })");
  ASSERT_NE(result.program, nullptr) << result.diagnostics;
  const Program& program = *result.program;
  struct Expectation {
    std::string roles, action;
    bool permit;
    std::string reason, set;
  };
  for (const Expectation& e : std::vector<Expectation>{
           {R"(["cfo"])", "pay-large", true, "permit:cfo-pays", "payments"},
           {R"(["staff"])", "pay-large", false, "forbid:no-large", "payments"},
           {R"(["staff", "intern"])", "pay-small", false, "forbid:deny-interns", "ordered"},
           {R"(["staff"])", "pay-small", true, "permit:staff-pays", "ordered"},
           {R"(["cfo", "frozen"])", "pay-small", false, "forbid:freeze", ""}}) {
    Frame frame;
    std::string request = R"({"subject": {"properties": {"roles": )" + e.roles +
                          R"(}}, "action": {"name": ")" + e.action + R"("}})";
    ASSERT_TRUE(DecodeJsonRequest(program, request, 0, frame).ok());
    Decision decision = Evaluate(program, frame);
    EXPECT_EQ(decision.permit, e.permit) << request;
    EXPECT_THAT(DecisionReasons(program, frame, decision), ElementsAre(e.reason))
        << request;
    EXPECT_EQ(program.sets[decision.deciding_set].id, e.set) << request;
  }
}

TEST(PolicySets, UnknownAlgorithmAndDuplicateIds) {
  compiler::Compilation result = CompileText(R"(
    policyset "a" most_specific { permit "p"; }
    policyset "b" { permit "b"; })");
  EXPECT_EQ(result.program, nullptr);
  EXPECT_THAT(result.diagnostics,
              HasSubstr("unknown combining algorithm 'most_specific'"));
  EXPECT_THAT(result.diagnostics, HasSubstr("policy id \"b\" is already used"));
}

TEST(Hierarchy, InTestsTransitiveAncestors) {
  compiler::Compilation result = CompileText(
      "schema subject { type: string  id: string }\n"
      "permit \"eng\" when { subject in Group::\"eng\" }\n",
      {{"entities", R"({"user::alice": ["Group::backend"],
                        "Group::backend": ["Group::eng"]})"}});
  ASSERT_NE(result.program, nullptr) << result.diagnostics;
  Frame frame;
  auto decide = [&](const std::string& type, const std::string& id) {
    std::string request = R"({"subject": {"type": ")" + type +
                          R"(", "id": ")" + id + R"("}})";
    EXPECT_TRUE(DecodeJsonRequest(*result.program, request, 0, frame).ok());
    return Evaluate(*result.program, frame).permit;
  };
  EXPECT_TRUE(decide("user", "alice"));
  EXPECT_TRUE(decide("Group", "eng"));  // an entity is in itself
  EXPECT_FALSE(decide("user", "bob"));
  EXPECT_FALSE(decide("Group", "backend-x"));
  absl::Status injected = DecodeJsonRequest(
      *result.program,
      R"({"subject": {"type": "user", "id": "bob",
                      "properties": {"$ancestors": ["Group::eng"]}}})",
      0, frame);
  EXPECT_THAT(injected.message(), HasSubstr("is computed from the entity data"));
}

TEST(Hierarchy, CycleIsACompileError) {
  compiler::Compilation result = CompileText(
      "schema subject { type: string  id: string }\npermit \"p\";\n",
      {{"entities", R"({"G::a": ["G::b"], "G::b": ["G::c"], "G::c": ["G::a"]})"}});
  EXPECT_EQ(result.program, nullptr);
  EXPECT_THAT(result.diagnostics,
              HasSubstr("the entity hierarchy has a cycle: G::a -> G::b -> "
                        "G::c -> G::a"));
}

TEST(ProgramStore, ReadersSeeEachPublishedProgram) {
  ProgramStore store;
  ProgramStore::Reader reader(store);
  EXPECT_EQ(reader.Acquire(), nullptr);
  auto first = std::make_shared<Program>();
  first->revision = "one";
  store.Publish(first);
  EXPECT_EQ(reader.Acquire()->revision, "one");
  auto second = std::make_shared<Program>();
  second->revision = "two";
  store.Publish(second);
  EXPECT_EQ(reader.Acquire()->revision, "two");
  EXPECT_EQ(store.Current()->revision, "two");
}

TEST(ProgramStore, ConcurrentReadersDuringPublish) {
  ProgramStore store;
  store.Publish(std::make_shared<Program>());
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      ProgramStore::Reader reader(store);
      while (!stop.load()) ASSERT_NE(reader.Acquire(), nullptr);
    });
  }
  for (int i = 0; i < 1000; ++i) store.Publish(std::make_shared<Program>());
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(store.version(), 1001u);
}

}  // namespace
}  // namespace verdict
