// Check calls over loopback gRPC: a server on 127.0.0.1 serving both
// envoy.service.auth.v3.Authorization and verdict.v1.Verdict on one port,
// with the policies of examples/envoy, answers every CheckRequest of
// examples/envoy/checks with the HTTP outcome that file expects.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/compile.h"
#include "engine/snapshot.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/ext_authz_service.h"
#include "server/server.h"
#include "server/verdict_service.h"

namespace verdict::server {
namespace {

namespace auth = ::envoy::service::auth::v3;
namespace fs = std::filesystem;
using ::testing::ElementsAreArray;

std::string ReadText(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::map<std::string, std::string> HeaderMap(
    const google::protobuf::RepeatedPtrField<
        envoy::config::core::v3::HeaderValueOption>& headers) {
  std::map<std::string, std::string> out;
  for (const auto& header : headers) {
    out[header.header().key()] = header.header().value();
  }
  return out;
}

std::map<std::string, std::string> ExpectedHeaders(const nlohmann::json& json,
                                                   const char* key) {
  std::map<std::string, std::string> out;
  if (json.contains(key)) {
    for (const auto& [name, value] : json.at(key).items()) {
      out[name] = value.get<std::string>();
    }
  }
  return out;
}

class ExtAuthzE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<compiler::Compilation> compiled =
        compiler::CompileDirectory(
            absl::StrCat(VERDICT_ENVOY_EXAMPLE_DIR, "/policies"), "", {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
    store_.Publish(compiled->program);
    int port = 0;
    absl::StatusOr<std::unique_ptr<grpc::Server>> server = StartGrpcServer(
        "127.0.0.1:0", {&verdict_, &ext_authz_}, GrpcLimits(), port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  ProgramStore store_;
  VerdictService verdict_{store_};
  ExtAuthzService ext_authz_{store_};
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ExtAuthzE2eTest, EveryExampleCheckGetsItsExpectedOutcome) {
  auto stub = auth::Authorization::NewStub(channel_);
  int files = 0;
  const fs::path dir = fs::path(VERDICT_ENVOY_EXAMPLE_DIR) / "checks";
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    const nlohmann::json file = nlohmann::json::parse(ReadText(entry.path()));
    const nlohmann::json& expected = file.at("expected");
    auth::CheckRequest request;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    file.at("check").dump(), &request)
                    .ok());
    auth::CheckResponse response;
    const grpc::Status status = stub->Check(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();

    EXPECT_EQ(response.status().code(), expected.at("code").get<int>());
    std::vector<std::string> reasons;
    for (const auto& reason :
         response.dynamic_metadata().fields().at("reasons").list_value().values()) {
      reasons.push_back(reason.string_value());
    }
    EXPECT_THAT(reasons, ElementsAreArray(expected.at("reasons")
                                              .get<std::vector<std::string>>()));
    if (expected.at("code") == 0) {
      ASSERT_TRUE(response.has_ok_response());
      const auth::OkHttpResponse& ok = response.ok_response();
      EXPECT_EQ(HeaderMap(ok.headers()),
                ExpectedHeaders(expected, "requestHeaders"));
      EXPECT_EQ(HeaderMap(ok.response_headers_to_add()),
                ExpectedHeaders(expected, "responseHeaders"));
      std::vector<std::string> removed(ok.headers_to_remove().begin(),
                                       ok.headers_to_remove().end());
      EXPECT_EQ(removed, expected.value("headersToRemove",
                                        std::vector<std::string>{}));
    } else {
      ASSERT_TRUE(response.has_denied_response());
      const auth::DeniedHttpResponse& denied = response.denied_response();
      EXPECT_EQ(static_cast<int>(denied.status().code()),
                expected.at("httpStatus").get<int>());
      EXPECT_EQ(denied.body(), expected.value("body", ""));
      EXPECT_EQ(HeaderMap(denied.headers()),
                ExpectedHeaders(expected, "responseHeaders"));
    }
  }
  EXPECT_GE(files, 5) << "too few check files in " << dir;
  EXPECT_EQ(ext_authz_.stats().permitted + ext_authz_.stats().denied +
                ext_authz_.stats().invalid,
            files);
}

TEST_F(ExtAuthzE2eTest, DecideAnswersOnTheSamePort) {
  auto stub = v1::Verdict::NewStub(channel_);
  v1::DecideRequest request;
  request.mutable_action()->set_name("GET");
  auto& fields = *request.mutable_resource()->mutable_properties()->mutable_fields();
  fields["host"].set_string_value("shop.example");
  fields["path"].set_string_value("/public/index.html");
  v1::DecideResponse response;
  const grpc::Status status = stub->Decide(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.decision());
  EXPECT_THAT(response.policies(), ElementsAreArray({"public-pages"}));
}

TEST_F(ExtAuthzE2eTest, EmptyCheckRequestIsDenied) {
  auto stub = auth::Authorization::NewStub(channel_);
  auth::CheckResponse response;
  const grpc::Status status =
      stub->Check(Context().get(), auth::CheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_EQ(response.denied_response().status().code(), 403);
}

}  // namespace
}  // namespace verdict::server
