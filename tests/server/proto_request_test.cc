// Tests of decoding verdict.v1.DecideRequest into a Frame, against a small
// policy set with nested, integer, set and context attributes.

#include "server/proto_request.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "gtest/gtest.h"

namespace verdict::server {
namespace {

// 2^53 + 1: the smallest positive integer a double cannot represent, so a
// decoder that went through floating point would read it as 2^53.
constexpr int64_t kBeyondDouble = 9007199254740993;

constexpr char kPolicies[] = R"(
schema tee { tcb.snp: int  debug: bool }
schema context { region: string }
schema subject { id: string  groups: set<string> }

permit "new-tcb" when { tee.tcb.snp >= 9007199254740993 and not tee.debug }
permit "eu-staff" when { context.region == "eu" and "staff" in subject.groups }
)";

v1::Value& Field(v1::Properties& properties, const std::string& name) {
  return (*properties.mutable_fields())[name];
}

class ProtoRequestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = ::testing::TempDir() + "proto_request_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
    const std::string path = dir + "/policies.verdict";
    std::FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr) << path;
    std::fputs(kPolicies, file);
    std::fclose(file);
    absl::StatusOr<compiler::Compilation> compiled =
        compiler::CompileDirectory(dir, "", compiler::CompileOptions{});
    std::remove(path.c_str());
    rmdir(dir.c_str());
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
    program_ = new std::shared_ptr<const Program>(compiled->program);
  }
  static void TearDownTestSuite() {
    delete program_;
    program_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(program_, nullptr); }

  static const Program& program() { return **program_; }

  // A request that "new-tcb" permits.
  static v1::DecideRequest TeeRequest(int64_t snp) {
    v1::DecideRequest request;
    v1::Properties& tee = (*request.mutable_attributes())["tee"];
    Field(*Field(tee, "tcb").mutable_object(), "snp").set_int_value(snp);
    Field(tee, "debug").set_bool_value(false);
    return request;
  }

  absl::Status Decode(const v1::DecideRequest& request) {
    return DecodeDecideRequest(program(), request, /*now_unix_seconds=*/0,
                               frame_);
  }

  bool Permits(const std::string& policy) {
    const Decision decision = Evaluate(program(), frame_);
    for (uint32_t index : decision.determining) {
      if (program().policies[index].id == policy) return decision.permit;
    }
    return false;
  }

  static std::shared_ptr<const Program>* program_;
  Frame frame_;
};

std::shared_ptr<const Program>* ProtoRequestTest::program_ = nullptr;

TEST_F(ProtoRequestTest, NestedObjectIsDottedPath) {
  ASSERT_TRUE(Decode(TeeRequest(kBeyondDouble)).ok());
  EXPECT_TRUE(Permits("new-tcb"));
}

TEST_F(ProtoRequestTest, IntegersStayExact) {
  ASSERT_TRUE(Decode(TeeRequest(kBeyondDouble - 1)).ok());
  const Decision decision = Evaluate(program(), frame_);
  EXPECT_FALSE(decision.permit);
}

TEST_F(ProtoRequestTest, ContextAndSetProperties) {
  v1::DecideRequest request;
  Field(*request.mutable_context()->mutable_properties(), "region")
      .set_string_value("eu");
  v1::Value& groups =
      Field(*request.mutable_subject()->mutable_properties(), "groups");
  groups.mutable_string_set()->add_values("staff");
  groups.mutable_string_set()->add_values("ops");
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_TRUE(Permits("eu-staff"));
}

TEST_F(ProtoRequestTest, EmptyValueMarksAbsent) {
  v1::DecideRequest request = TeeRequest(kBeyondDouble);
  Field((*request.mutable_attributes())["tee"], "debug").Clear();
  ASSERT_TRUE(Decode(request).ok());
  const Decision decision = Evaluate(program(), frame_);
  EXPECT_FALSE(decision.permit);
  bool new_tcb_errored = false;
  for (const ErroredPolicy& error : decision.errors) {
    new_tcb_errored |= program().policies[error.policy].id == "new-tcb";
  }
  EXPECT_TRUE(new_tcb_errored);
}

TEST_F(ProtoRequestTest, WrongTypeNamesPath) {
  v1::DecideRequest request = TeeRequest(0);
  Field(*Field((*request.mutable_attributes())["tee"], "tcb").mutable_object(),
        "snp")
      .set_string_value("5");
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("tee.tcb.snp"), absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, TokensNeedATrustFile) {
  v1::DecideRequest request = TeeRequest(kBeyondDouble);
  v1::Token* token = request.add_tokens();
  token->set_kind("id-jag");
  token->set_jwt("eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("put trust.json beside the policies"),
            absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, RejectsMalformedTokens) {
  struct Case {
    std::string kind;
    std::string jwt;
    int copies;
    std::string message;
  };
  const Case cases[] = {
      {"idjag", "a.b.c", 1, "tokens[0].kind \"idjag\" is not a token kind"},
      {"id-jag", "", 1, "tokens[0].jwt is empty"},
      {"", "a.b.c", 9, "present at most 8"},
  };
  for (const Case& c : cases) {
    v1::DecideRequest request;
    for (int i = 0; i < c.copies; ++i) {
      v1::Token* token = request.add_tokens();
      token->set_kind(c.kind);
      token->set_jwt(c.jwt);
    }
    const absl::Status status = Decode(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(status.message().find(c.message), absl::string_view::npos)
        << status;
  }
}

TEST_F(ProtoRequestTest, RejectsNonStringPresentationFact) {
  v1::DecideRequest request = TeeRequest(kBeyondDouble);
  Field(*request.mutable_context()->mutable_properties(), "dpop_jkt")
      .set_int_value(5);
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("context.dpop_jkt must be a string"),
            absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, UnknownPropertyIsIgnored) {
  v1::DecideRequest request = TeeRequest(kBeyondDouble);
  Field(*request.mutable_context()->mutable_properties(), "trace_id")
      .set_int_value(42);
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_TRUE(Permits("new-tcb"));
}

TEST_F(ProtoRequestTest, RejectsFixedGroupInAttributes) {
  v1::DecideRequest request;
  Field((*request.mutable_attributes())["subject"], "groups")
      .mutable_string_set()
      ->add_values("staff");
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("\"subject\""), absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, RejectsDottedPropertyName) {
  v1::DecideRequest request;
  Field(*request.mutable_context()->mutable_properties(), "geo.region")
      .set_string_value("eu");
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("geo.region"), absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, RejectsPropertyRepeatingId) {
  v1::DecideRequest request;
  request.mutable_subject()->set_id("alice");
  Field(*request.mutable_subject()->mutable_properties(), "id")
      .set_string_value("mallory");
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("subject.id"), absl::string_view::npos)
      << status;
}

TEST_F(ProtoRequestTest, RejectsDeepNesting) {
  v1::DecideRequest request;
  v1::Properties* level = request.mutable_context()->mutable_properties();
  for (int depth = 0; depth < kMaxObjectDepth + 1; ++depth) {
    level = Field(*level, "nested").mutable_object();
  }
  Field(*level, "leaf").set_bool_value(true);
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(std::to_string(kMaxObjectDepth)),
            absl::string_view::npos)
      << status;
}

}  // namespace
}  // namespace verdict::server
