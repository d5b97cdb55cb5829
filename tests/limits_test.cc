// One test per budget on untrusted input: each exceeds the limit by one
// and checks that the error names the limit's value and what to do. Where
// the limit is cheap to reach, the test also checks that a value exactly
// at the limit is accepted.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/compile.h"
#include "compiler/patterns.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"
#include "tokens/compact_jws.h"

namespace verdict {
namespace {

using testing::CompileFiles;
using testing::CompileText;
using ::testing::HasSubstr;
using ::testing::Not;

// Reads every request attribute that the request limits apply to, so that
// each is declared in the program's schema.
constexpr char kRequestPolicies[] = R"(
schema subject { id: string  roles?: set<string>  trail?: list<string> }
schema resource { path?: string }
schema action { name: string }
permit "read" when {
  action.name == "read"
  and subject has roles and "admin" in subject.roles
  and subject has trail and subject.trail == ["home"]
  and resource has path and resource.path == "/"
}
)";

class RequestLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    compiler::Compilation compiled = CompileText(kRequestPolicies);
    ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
    program_ = compiled.program;
  }

  absl::Status Decode(std::string_view json) {
    return DecodeJsonRequest(*program_, json, 1000, frame_);
  }

  // A request whose `member` of the subject's properties is a JSON array
  // of `count` copies of `element`.
  static std::string WithArray(const std::string& member, size_t count,
                               const std::string& element = "a") {
    std::vector<std::string> elements(count, absl::StrCat("\"", element, "\""));
    return absl::StrCat(R"({"subject": {"id": "alice", "properties": {")",
                        member, R"(": [)", absl::StrJoin(elements, ","),
                        R"(]}}, "action": {"name": "read"}})");
  }

  // A request whose resource.path is `path`.
  static std::string WithPath(const std::string& path) {
    return absl::StrCat(R"({"resource": {"properties": {"path": ")", path,
                        R"("}}, "action": {"name": "read"}})");
  }

  std::shared_ptr<const Program> program_;
  Frame frame_;
};

TEST_F(RequestLimits, RequestBytes) {
  const std::string request = R"({"action": {"name": "read"}})";
  std::string at_limit = request;
  at_limit.resize(kMaxRequestBytes, ' ');
  EXPECT_TRUE(Decode(at_limit).ok());

  std::string over_limit = request;
  over_limit.resize(kMaxRequestBytes + 1, ' ');
  absl::Status status = Decode(over_limit);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("the request is 4194305 bytes, more than the limit "
                        "of 4194304 bytes (4 MiB); send a smaller request"));
}

TEST_F(RequestLimits, JsonNesting) {
  // `objects` nested objects, "context" the outermost.
  auto nested = [](int objects) {
    std::string json = R"({"context": {"deep": )";
    for (int i = 0; i < objects - 1; ++i) json += R"({"k": )";
    json += "1";
    for (int i = 0; i < objects - 1; ++i) json += "}";
    return json + "}}";
  };
  EXPECT_TRUE(Decode(nested(32)).ok());

  absl::Status status = Decode(nested(33));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("nests deeper than 32 objects, the limit; flatten it "
                        "into fewer levels"));
}

TEST_F(RequestLimits, SetElements) {
  EXPECT_TRUE(Decode(WithArray("roles", kMaxRequestElements)).ok());

  absl::Status status = Decode(WithArray("roles", kMaxRequestElements + 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("request attribute subject.roles: 10001 elements, "
                        "more than the limit of 10000; send at most 10000 "
                        "elements"));
}

TEST_F(RequestLimits, ListElements) {
  EXPECT_TRUE(Decode(WithArray("trail", kMaxRequestElements)).ok());

  absl::Status status = Decode(WithArray("trail", kMaxRequestElements + 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("request attribute subject.trail: 10001 elements, "
                        "more than the limit of 10000"));
}

TEST_F(RequestLimits, StringBytes) {
  EXPECT_TRUE(Decode(WithPath(std::string(kMaxRequestStringBytes, 'p'))).ok());

  absl::Status status =
      Decode(WithPath(std::string(kMaxRequestStringBytes + 1, 'p')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("request attribute resource.path: "
                                          "string \"pppp"));
  EXPECT_THAT(status.message(),
              HasSubstr("is 65537 bytes, more than the limit of 65536 bytes; "
                        "send at most 65536 bytes"));
}

TEST_F(RequestLimits, SetElementBytes) {
  const std::string at_limit(kMaxRequestStringBytes, 'r');
  EXPECT_TRUE(Decode(WithArray("roles", 2, at_limit)).ok());

  absl::Status status = Decode(WithArray("roles", 2, at_limit + "r"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("request attribute subject.roles: element string"));
  EXPECT_THAT(status.message(),
              HasSubstr("is 65537 bytes, more than the limit of 65536"));
}

TEST_F(RequestLimits, ListElementBytes) {
  absl::Status status = Decode(
      WithArray("trail", 1, std::string(kMaxRequestStringBytes + 1, 't')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("request attribute subject.trail: element string"));
}

// A rejected element leaves its attribute absent, so that code reading the
// frame of the invalid request (the decision log) finds no half-set value.
TEST_F(RequestLimits, RejectedElementsLeaveSlotAbsent) {
  const std::string long_element(kMaxRequestStringBytes + 1, 'x');
  const struct {
    const char* path;
    std::vector<std::string_view> elements;
  } cases[] = {
      {"subject.trail", {"home", "a\x1f" "b"}},
      {"subject.trail", {"home", long_element}},
      {"subject.roles", {"admin", long_element}},
  };
  for (const auto& [path, elements] : cases) {
    SCOPED_TRACE(path);
    frame_.Reset(*program_);
    RequestBuilder builder(*program_, frame_);
    ASSERT_FALSE(builder.SetStrings(path, elements).ok());
    const uint32_t slot = program_->FindSlot(path);
    ASSERT_NE(slot, kNoSlot);
    EXPECT_FALSE(frame_.slot(slot).present);
  }
}

// The builder enforces the budgets for every wire format, not only JSON.
TEST_F(RequestLimits, BuilderElements) {
  frame_.Reset(*program_);
  RequestBuilder builder(*program_, frame_);
  const std::vector<std::string_view> elements(kMaxRequestElements + 1, "a");
  absl::Status status = builder.SetStrings("subject.roles", elements);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("more than the limit of 10000"));
}

// Values under undeclared paths are read and dropped, so only the request
// size bounds them.
TEST_F(RequestLimits, UndeclaredValuesAreNotCounted) {
  EXPECT_TRUE(Decode(WithArray("other", kMaxRequestElements + 1)).ok());
  const std::string long_string(kMaxRequestStringBytes + 1, 'o');
  EXPECT_TRUE(Decode(absl::StrCat(R"({"context": {"other": ")", long_string,
                                  R"("}, "action": {"name": "read"}})"))
                  .ok());
}

TEST_F(RequestLimits, Tokens) {
  std::vector<std::string> tokens(kMaxPresentedTokens + 1, R"({"jwt": "x"})");
  absl::Status status =
      Decode(absl::StrCat(R"({"tokens": [)", absl::StrJoin(tokens, ","),
                          R"(], "action": {"name": "read"}})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("request member \"tokens\" has more than 8 tokens; "
                        "present at most 8"));
}

TEST(TokenLimits, TokenBytes) {
  constexpr size_t kLimit = 65536;  // TrustConfig::max_token_bytes default
  absl::StatusOr<tokens::CompactJws> parsed =
      tokens::ParseCompactJws(std::string(kLimit + 1, 'A'), kLimit, 32);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("the token has 65537 bytes; the limit is 65536, set "
                        "by max_token_bytes in the trust file"));
}

constexpr char kPolicySchema[] = R"(
schema subject { id: string }
schema resource { path: string }
schema action { name: string }
)";

TEST(PolicyLimits, PolicyFileBytes) {
  std::string text = std::string(kPolicySchema) + "permit \"a\"; //";
  text.resize((size_t{1} << 20) + 1, 'x');
  compiler::Compilation compiled = CompileText(text);
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("source file is 1048577 bytes, larger than the limit "
                        "of 1048576 bytes (1 MiB); split it into several "
                        "files"));
}

TEST(PolicyLimits, PolicyFiles) {
  const size_t limit = compiler::CompileOptions().max_policy_files;
  std::map<std::string, std::string> files;
  for (size_t i = 0; i <= limit; ++i) {
    files[absl::StrCat("p", i, ".verdict")] =
        absl::StrCat("permit \"p", i, "\";");
  }
  compiler::Compilation compiled = CompileFiles(files);
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("error: 10001 policy files exceed the limit of 10000; "
                        "merge small policy files"));
}

TEST(PolicyLimits, ExpressionNesting) {
  auto parenthesized = [](int depth) {
    return absl::StrCat(kPolicySchema, "permit \"p\" when { ",
                        std::string(depth, '('), "true",
                        std::string(depth, ')'), " }");
  };
  EXPECT_THAT(CompileText(parenthesized(64)).diagnostics,
              Not(HasSubstr("nesting depth")));

  compiler::Compilation compiled = CompileText(parenthesized(65));
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("expression nesting depth 65 exceeds the limit of 64; "
                        "the file was not parsed further. Remove levels of "
                        "brackets, 'not' or negation"));
}

TEST(PolicyLimits, ExpressionChainNesting) {
  // Each comparison nests one level below its 'or', so 64 operands make
  // a tree 65 levels deep.
  std::vector<std::string> operands(64, "action.name == \"read\"");
  compiler::Compilation compiled =
      CompileText(absl::StrCat(kPolicySchema, "permit \"p\" when { ",
                               absl::StrJoin(operands, " or "), " }"));
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("expression nesting depth 65 exceeds the limit of 64; "
                        "each operand of a chain"));
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("Split the chain, for example into a set test with "
                        "'in'"));
}

constexpr char kUsersSchema[] = R"(
schema subject from users { id: string  level?: int }
schema action { name: string }
permit "read" when { action.name == "read" }
)";

TEST(PolicyLimits, DataBytes) {
  const std::string users = R"({"alice": {"level": 1}, "bob": {"level": 2}})";
  compiler::CompileOptions options;
  options.max_data_bytes = users.size();
  EXPECT_NE(CompileText(kUsersSchema, {{"users", users}}, options).program,
            nullptr);

  options.max_data_bytes = users.size() - 1;
  compiler::Compilation compiled =
      CompileText(kUsersSchema, {{"users", users}}, options);
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr(absl::StrCat("error: entity data exceeds the limit of ",
                                     users.size() - 1,
                                     " bytes for all data files together; "
                                     "remove records and fields that no "
                                     "policy reads")));
}

TEST(PolicyLimits, DataRecordNesting) {
  // A record whose member "deep" nests `objects` objects.
  auto record = [](int objects) {
    std::string json = R"({"alice": {"level": 1, "deep": )";
    for (int i = 0; i < objects; ++i) json += R"({"k": )";
    json += "1";
    for (int i = 0; i < objects; ++i) json += "}";
    return json + "}}";
  };
  EXPECT_NE(CompileText(kUsersSchema, {{"users", record(16)}}).program,
            nullptr);

  compiler::Compilation compiled =
      CompileText(kUsersSchema, {{"users", record(17)}});
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("record \"alice\" nests deeper than 16 objects, the "
                        "limit; flatten it into fewer levels"));
}

TEST(PolicyLimits, DagNodes) {
  compiler::CompileOptions options;
  options.dag_node_limit = 3;
  compiler::Compilation compiled =
      CompileText(absl::StrCat(kPolicySchema,
                               R"(permit "a" when { action.name == "read" and
                                        resource.path == "/" })"),
                  {}, options);
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("error: the decision DAG needs more than 3 nodes, the "
                        "limit, for 1 policies; serve the policies from "
                        "several directories"));
}

// Compiles a policy that tests resource.path against `pattern` with
// `method` ("like", "matches" or "matchesTemplate").
compiler::Compilation CompilePattern(const std::string& method,
                                     const std::string& pattern) {
  const std::string test =
      method == "like"
          ? absl::StrCat("resource.path like \"", pattern, "\"")
          : absl::StrCat("resource.path.", method, "(\"", pattern, "\")");
  return CompileText(
      absl::StrCat(kPolicySchema, "permit \"p\" when { ", test, " }"));
}

TEST(PolicyLimits, PatternBytes) {
  EXPECT_NE(CompilePattern("like", std::string(compiler::kMaxPatternBytes, 'a'))
                .program,
            nullptr);

  compiler::Compilation compiled =
      CompilePattern("like", std::string(compiler::kMaxPatternBytes + 1, 'a'));
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("pattern is 4097 bytes, more than the limit of 4096 "
                        "bytes; split it into several shorter patterns"));
}

TEST(PolicyLimits, PatternProgramSize) {
  compiler::Compilation compiled =
      CompilePattern("matches", "(/[a-z]+){1,1000}");
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("compiles to 6003 instructions, more than the limit "
                        "of 5000; simplify it"));
}

// \pL matches any Unicode letter and compiles to hundreds of RE2
// instructions, so a thousand of them need more than the 8 MiB memory
// budget, and RE2 fails before the instruction count is checked. The
// doubled backslash is the escape of a policy string literal.
TEST(PolicyLimits, PatternMemory) {
  compiler::Compilation compiled = CompilePattern("matches", "\\\\pL{1000}");
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("pattern of 9 bytes needs more than the limit of "
                        "8388608 bytes of RE2 memory; simplify it"));
}

TEST(PolicyLimits, CollectionElements) {
  std::vector<std::string> elements(100'001, "\"a\"");
  compiler::Compilation compiled = CompileText(
      absl::StrCat(kPolicySchema, "permit \"p\" when { resource.path in [",
                   absl::StrJoin(elements, ","), "] }"));
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("this collection has 100001 elements, more than the "
                        "limit of 100000; keep a larger collection in entity "
                        "data and join it"));
}

TEST(PolicyLimits, TemplatePlaceholders) {
  std::vector<std::string> attributes;
  std::vector<std::string> bindings;
  for (int i = 1; i <= 9; ++i) {
    attributes.push_back(absl::StrCat("a", i, ": string"));
    bindings.push_back(absl::StrCat("subject.a", i, " == ?a", i));
  }
  const std::string policies = absl::StrCat(
      "schema subject { ", absl::StrJoin(attributes, "  "), " }\n",
      "schema action { name: string }\n", "permit \"t\" from links when { ",
      absl::StrJoin(bindings, " and "), " }");
  compiler::Compilation compiled = CompileText(policies, {{"links", "[]"}});
  EXPECT_EQ(compiled.program, nullptr);
  EXPECT_THAT(compiled.diagnostics,
              HasSubstr("template \"t\" binds 9 placeholders, over the limit "
                        "of 8; link it on at most 8 attributes"));
}

}  // namespace
}  // namespace verdict
