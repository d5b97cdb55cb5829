// `verdict test`: passing and failing suites, exit codes, messages for
// broken case files, and the coverage report, run through RunTest on suites
// written to temporary directories.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace verdict::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPolicies[] = R"(schema subject { id: string  level?: int }
schema action { name: string }

permit "read" when { action.name == "read" }

permit "write" when {
  action.name == "write" and subject has level and subject.level >= 2
}

forbid "banned" when { subject.id == "mallory" }
)";

std::string Case(const std::string& user, const std::string& action,
                 const std::string& expected) {
  return R"({"description": ")" + user + " " + action + R"(", "now": 0,
  "request": {"subject": {"type": "user", "id": ")" + user +
         R"("}, "action": {"name": ")" + action + R"("}},
  "expected": )" + expected + "}";
}

// A suite directory `suite` under a fresh temporary directory, which is
// made the working directory so that paths in the output are relative.
class TestCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() /
            ("verdict-test-command-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    fs::create_directories(root_ / "suite" / "policies");
    fs::create_directories(root_ / "suite" / "cases");
    Write("suite/policies/policy.verdict", kPolicies);
    saved_dir_ = fs::current_path();
    fs::current_path(root_);
  }
  void TearDown() override {
    fs::current_path(saved_dir_);
    fs::remove_all(root_);
  }

  void Write(const std::string& path, const std::string& text) {
    std::ofstream(root_ / path, std::ios::binary) << text;
  }
  void WriteCase(const std::string& name, const std::string& text) {
    Write("suite/cases/" + name + ".json", text);
  }

  // Runs `verdict test ARGS`, storing its standard output in output_.
  int Run(const std::vector<std::string>& args) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int code = RunTest(args);
    output_ = ::testing::internal::GetCapturedStdout();
    errors_ = ::testing::internal::GetCapturedStderr();
    return code;
  }

  fs::path root_;
  fs::path saved_dir_;
  std::string output_;
  std::string errors_;
};

TEST_F(TestCommandTest, PassingSuiteExitsZero) {
  WriteCase("alice-reads", Case("alice", "read", R"({"decision": true,
      "reasons": ["permit:read"], "policies": ["read"], "errors": []})"));
  WriteCase("mallory-reads", Case("mallory", "read", R"({"decision": false,
      "reasons": ["forbid:banned"], "not_reasons": ["permit:read"]})"));
  EXPECT_EQ(Run({"suite"}), 0) << output_;
  EXPECT_THAT(output_, HasSubstr("PASS suite/alice-reads\n"));
  EXPECT_THAT(output_, HasSubstr("PASS suite/mallory-reads\n"));
  EXPECT_THAT(output_, HasSubstr("\n2 passed, 0 failed\n"));
}

TEST_F(TestCommandTest, WrongDecisionFailsWithReasons) {
  WriteCase("bob-writes", Case("bob", "write", R"({"decision": true})"));
  EXPECT_EQ(Run({"suite"}), 1);
  EXPECT_THAT(output_,
              HasSubstr("FAIL suite/bob-writes: expected PERMIT, got DENY "
                        "(reasons default_deny)\n"));
  EXPECT_THAT(output_, HasSubstr("\n0 passed, 1 failed\n"));
}

TEST_F(TestCommandTest, PolicyAndErrorSetsAreExact) {
  WriteCase("policies", Case("alice", "read", R"({"decision": true,
      "policies": ["read", "write"]})"));
  WriteCase("errors", Case("alice", "write", R"({"decision": false,
      "errors": ["write"]})"));
  WriteCase("not-reasons", Case("alice", "read", R"({"decision": true,
      "not_reasons": ["permit:read"]})"));
  EXPECT_EQ(Run({"suite"}), 1);
  EXPECT_THAT(output_, HasSubstr("FAIL suite/policies: expected policies "
                                 "[read, write], got [read] (reasons "
                                 "permit:read)\n"));
  EXPECT_THAT(output_, HasSubstr("FAIL suite/errors: expected errors [write], "
                                 "got [] (reasons default_deny)\n"));
  EXPECT_THAT(output_, HasSubstr("FAIL suite/not-reasons: unexpected reason "
                                 "permit:read (reasons permit:read)\n"));
}

TEST_F(TestCommandTest, BrokenFilesNameTheFile) {
  WriteCase("not-json", "{\"now\": 0,");
  WriteCase("bad-request", R"({"now": 0, "request": {"subject": 7},
      "expected": {"decision": false}})");
  WriteCase("typo", R"({"now": 0, "request": {}, "expected": {"decison": true}})");
  WriteCase("unknown-policy", R"({"now": 0, "request": {},
      "expected": {"decision": false, "policies": ["nope"]}})");
  EXPECT_EQ(Run({"suite"}), 1);
  EXPECT_THAT(output_, HasSubstr("FAIL suite/not-json: suite/cases/not-json.json: "
                                 "invalid JSON: "));
  EXPECT_THAT(output_, HasSubstr("FAIL suite/bad-request: "
                                 "suite/cases/bad-request.json: invalid request: "));
  EXPECT_THAT(output_, HasSubstr("FAIL suite/typo: suite/cases/typo.json: "
                                 "unknown member \"decison\" in \"expected\""));
  EXPECT_THAT(output_, HasSubstr("FAIL suite/unknown-policy: "
                                 "suite/cases/unknown-policy.json: "
                                 "\"expected.policies\" names no policy of this "
                                 "set: \"nope\"\n"));
  EXPECT_THAT(output_, HasSubstr("\n0 passed, 4 failed\n"));
}

TEST_F(TestCommandTest, SuiteWithoutCasesFails) {
  EXPECT_EQ(Run({"suite"}), 1);
  EXPECT_THAT(output_, HasSubstr("FAIL suite: no test cases; add one JSON file "
                                 "per case to suite/cases\n"));
}

TEST_F(TestCommandTest, PoliciesThatDoNotCompileFail) {
  Write("suite/policies/policy.verdict", "permit \"x\" when { nope }");
  WriteCase("any", Case("alice", "read", R"({"decision": true})"));
  EXPECT_EQ(Run({"suite"}), 1);
  EXPECT_THAT(output_, HasSubstr("FAIL suite: the policies in suite/policies do "
                                 "not compile (1 error"));
  EXPECT_THAT(errors_, HasSubstr("suite/policies/policy.verdict:1:"));
}

TEST_F(TestCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({"--frobnicate", "suite"}), 2);
}

TEST_F(TestCommandTest, MissingDirectoryFails) {
  EXPECT_EQ(Run({"no-such-dir"}), 1);
  EXPECT_THAT(output_, HasSubstr("FAIL no-such-dir: no-such-dir is not a "
                                 "directory\n"));
}

TEST_F(TestCommandTest, VerbosePrintsDescriptionAndReasons) {
  WriteCase("alice-reads", Case("alice", "read", R"({"decision": true})"));
  EXPECT_EQ(Run({"suite", "--verbose"}), 0);
  EXPECT_THAT(output_, HasSubstr("PASS suite/alice-reads\n  alice read\n"
                                 "  reasons: permit:read\n"));
}

TEST_F(TestCommandTest, CoverageReportListsGaps) {
  WriteCase("alice-reads", Case("alice", "read", R"({"decision": true})"));
  WriteCase("alice-writes", Case("alice", "write", R"({"decision": false})"));
  EXPECT_EQ(Run({"suite", "--coverage"}), 0) << output_;
  const std::string expected =
      "PASS suite/alice-reads\n"
      "PASS suite/alice-writes\n"
      "\n"
      "coverage of suite: 1 of 3 policies applied (33%), 6 of 10 condition "
      "outcomes (60%)\n"
      "policies that no case made apply:\n"
      "  suite/policies/policy.verdict:6:1: permit \"write\"\n"
      "  suite/policies/policy.verdict:10:1: forbid \"banned\"\n"
      "conditions not seen both true and false:\n"
      "  suite/policies/policy.verdict:6:1: write: subject has level (never "
      "true)\n"
      "  suite/policies/policy.verdict:6:1: write: subject.level >= 2 (never "
      "true or false)\n"
      "  suite/policies/policy.verdict:10:1: banned: subject.id == \"mallory\" "
      "(never true)\n"
      "\n"
      "2 passed, 0 failed\n";
  EXPECT_EQ(output_, expected);
}

// The case files that predate `policies`, `errors` and `not_reasons` stay
// valid, and every bundled example passes with every policy applied.
TEST(TestCommandExamples, BundledExamplesPass) {
  fs::path examples = fs::path(VERDICT_SOURCE_DIR) / "examples";
  std::vector<std::string> dirs;
  for (const fs::directory_entry& entry : fs::directory_iterator(examples)) {
    if (entry.is_directory()) dirs.push_back(entry.path().string());
  }
  ASSERT_FALSE(dirs.empty());
  ::testing::internal::CaptureStdout();
  int code = RunTest(dirs);
  std::string output = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, Not(HasSubstr("FAIL ")));
  EXPECT_THAT(output, Not(HasSubstr("policies that no case made apply")));
}

}  // namespace
}  // namespace verdict::cli
