// Tests of ShadowPolicies: a second policy set decides the same request,
// its differences from the enforced decision are counted, and a request
// that only one of the two schemas accepts counts as a difference.

#include "server/shadow_policies.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "engine/snapshot.h"
#include "gtest/gtest.h"

namespace verdict::server {
namespace {

constexpr char kSchema[] = R"(
schema subject {
  id: string
  role: string
}
schema action {
  name: string
}
)";

// Compiles `policies` (one file, after kSchema unless `schema` is given)
// and publishes the program to `store`.
void CompileInto(ProgramStore& store, const std::string& policies,
                 const std::string& schema = kSchema) {
  std::string dir = ::testing::TempDir() + "verdict_shadow_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
  std::ofstream(dir + "/policies.verdict") << schema << policies;
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir, "", {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
  store.Publish(std::move(compiled->program));
}

// What a consumer of ShadowPolicies::Decide saw.
struct Seen {
  bool called = false;
  DecisionOutcome outcome = DecisionOutcome::kInvalid;
  bool differs = false;
  std::string revision;
  std::string status;
};

// Decides `request` against the enforced store as an API does, then
// passes the event to `shadow`.
Seen DecideBoth(const ProgramStore& enforced, ShadowPolicies& shadow,
                const std::string& request) {
  const std::shared_ptr<const Program> program = enforced.Current();
  Frame frame;
  const absl::Status status =
      DecodeJsonRequest(*program, request, /*now_unix_seconds=*/0, frame);
  std::optional<Decision> decision;
  if (status.ok()) decision = Evaluate(*program, frame);
  // A FunctionRef does not own its callable, which must outlive the event.
  const auto decode_again = [&](const Program& other, Frame& other_frame) {
    return DecodeJsonRequest(other, request, 0, other_frame);
  };
  const DecisionEvent event{
      .api = DecisionApi::kDecide,
      .program = *program,
      .frame = frame,
      .decision = decision.has_value() ? &*decision : nullptr,
      .status = status,
      .start_nanos = 0,
      .duration_nanos = 0,
      .decode_again = decode_again};
  Seen seen;
  shadow.Decide(event, [&](const ShadowDecision& result) {
    seen.called = true;
    seen.outcome = result.outcome();
    seen.differs = result.differs;
    seen.revision = result.program.revision;
    seen.status = std::string(result.status.message());
  });
  return seen;
}

constexpr char kAdmin[] =
    R"({"subject": {"id": "a", "role": "admin"}, "action": {"name": "read"}})";
constexpr char kEditor[] =
    R"({"subject": {"id": "e", "role": "editor"}, "action": {"name": "read"}})";
constexpr char kViewer[] =
    R"({"subject": {"id": "v", "role": "viewer"}, "action": {"name": "read"}})";

class ShadowPoliciesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CompileInto(enforced_,
                R"(permit "admins" when { subject.role == "admin" })");
    // The change being rolled out: editors may read too.
    CompileInto(shadow_store_, R"(
permit "admins" when { subject.role == "admin" }
permit "editors-read" when {
  subject.role == "editor" and action.name == "read"
}
)");
  }

  ProgramStore enforced_;
  ProgramStore shadow_store_;
};

TEST_F(ShadowPoliciesTest, SameOutcomeIsNoDifference) {
  ShadowPolicies shadow(shadow_store_);
  const Seen admin = DecideBoth(enforced_, shadow, kAdmin);
  ASSERT_TRUE(admin.called);
  EXPECT_EQ(admin.outcome, DecisionOutcome::kPermit);
  EXPECT_FALSE(admin.differs);
  const Seen viewer = DecideBoth(enforced_, shadow, kViewer);
  EXPECT_EQ(viewer.outcome, DecisionOutcome::kDeny);
  EXPECT_FALSE(viewer.differs);
  EXPECT_EQ(shadow.decisions(), 2);
  EXPECT_EQ(shadow.differences(), 0);
}

TEST_F(ShadowPoliciesTest, ChangedOutcomeIsCounted) {
  ShadowPolicies shadow(shadow_store_);
  const Seen editor = DecideBoth(enforced_, shadow, kEditor);
  ASSERT_TRUE(editor.called);
  EXPECT_EQ(editor.outcome, DecisionOutcome::kPermit);
  EXPECT_TRUE(editor.differs);
  EXPECT_EQ(editor.revision, shadow_store_.Current()->revision);
  EXPECT_NE(editor.revision, enforced_.Current()->revision);
  EXPECT_EQ(shadow.differences(), 1);
}

TEST_F(ShadowPoliciesTest, NothingBeforeShadowIsPublished) {
  ProgramStore empty;
  ShadowPolicies shadow(empty);
  const Seen seen = DecideBoth(enforced_, shadow, kEditor);
  EXPECT_FALSE(seen.called);
  EXPECT_EQ(shadow.decisions(), 0);
}

TEST_F(ShadowPoliciesTest, FollowsShadowReload) {
  ShadowPolicies shadow(shadow_store_);
  EXPECT_TRUE(DecideBoth(enforced_, shadow, kEditor).differs);
  CompileInto(shadow_store_,
              R"(permit "admins" when { subject.role == "admin" })");
  EXPECT_FALSE(DecideBoth(enforced_, shadow, kEditor).differs);
}

TEST_F(ShadowPoliciesTest, RequestInvalidForShadowSchemaDiffers) {
  // The shadow schema types role as an integer, so the string the
  // enforced schema accepts is invalid for it.
  CompileInto(shadow_store_, R"(permit "level" when { subject.role > 3 })",
              R"(
schema subject {
  id: string
  role: int
}
schema action {
  name: string
}
)");
  ShadowPolicies shadow(shadow_store_);
  const Seen seen = DecideBoth(enforced_, shadow, kAdmin);
  ASSERT_TRUE(seen.called);
  EXPECT_EQ(seen.outcome, DecisionOutcome::kInvalid);
  EXPECT_TRUE(seen.differs);
  EXPECT_NE(seen.status.find("subject.role"), std::string::npos) << seen.status;
}

TEST_F(ShadowPoliciesTest, ThreadsCountEveryDecision) {
  ShadowPolicies shadow(shadow_store_);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        DecideBoth(enforced_, shadow, i % 2 == 0 ? kEditor : kAdmin);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(shadow.decisions(), kThreads * kPerThread);
  EXPECT_EQ(shadow.differences(), kThreads * kPerThread / 2);
}

}  // namespace
}  // namespace verdict::server
