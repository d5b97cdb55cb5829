// In-process tests of the verdict.v1.Verdict service on the AuthZEN Todo
// example: a real gRPC server on a loopback port and a channel to it.

#include "server/verdict_service.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "engine/snapshot.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/decision_recorder.h"
#include "server/json_convert.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tests/server/prometheus_text.h"
#include "tests/server/test_util.h"

namespace verdict::server {
namespace {

using ::verdict::server::testing::ExpandEvaluations;
using ::verdict::server::testing::ParsePrometheusText;
using ::verdict::server::testing::PromPage;
using ::verdict::server::testing::ReadFile;

constexpr char kInteropFile[] = VERDICT_INTEROP_DIR
    "/authzen-todo-backend__test__decisions-authorization-api-1_0-02.json";
constexpr char kRick[] =
    "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

v1::DecideRequest ToProto(const nlohmann::json& json) {
  absl::StatusOr<v1::DecideRequest> request = JsonToDecideRequest(json);
  EXPECT_TRUE(request.ok()) << request.status() << " for " << json.dump();
  return request.ok() ? *request : v1::DecideRequest();
}

// A server on 127.0.0.1 with a port the OS chose, serving `store`, whose
// decisions are counted in metrics().
class TestServer {
 public:
  explicit TestServer(const ProgramStore& store)
      : metrics_(&store),
        recorder_(&metrics_, nullptr, nullptr),
        service_(store, ServiceOptions(), &recorder_) {
    int port = 0;
    absl::StatusOr<std::unique_ptr<grpc::Server>> server =
        StartGrpcServer("127.0.0.1:0", service_, GrpcLimits(), port);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return;
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Verdict::NewStub(channel_);
  }
  ~TestServer() {
    if (server_ != nullptr) server_->Shutdown();
  }

  grpc::Server& server() { return *server_; }
  const ServerMetrics& metrics() const { return metrics_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  v1::Verdict::Stub& stub() { return *stub_; }

 private:
  ServerMetrics metrics_;
  DecisionRecorder recorder_;
  VerdictService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Verdict::Stub> stub_;
};

class TodoServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<compiler::Compilation> compiled = compiler::CompileDirectory(
        testing::TodoPolicyDir(), testing::TodoDataDir(), {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
    program_ = new std::shared_ptr<const Program>(compiled->program);
  }
  static void TearDownTestSuite() {
    delete program_;
    program_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(program_, nullptr);
    store_.Publish(*program_);
    server_ = std::make_unique<TestServer>(store_);
    const std::string text = ReadFile(kInteropFile);
    ASSERT_FALSE(text.empty())
        << "no interop decisions at " << kInteropFile
        << "; set the CMake cache variable VERDICT_SHARED_DIR";
    interop_ = nlohmann::json::parse(text);
  }

  grpc::Status Decide(const v1::DecideRequest& request,
                      v1::DecideResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return server_->stub().Decide(&context, request, &response);
  }

  grpc::Status BatchDecide(const v1::BatchDecideRequest& request,
                           v1::BatchDecideResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    return server_->stub().BatchDecide(&context, request, &response);
  }

  static std::shared_ptr<const Program>* program_;
  ProgramStore store_;
  std::unique_ptr<TestServer> server_;
  nlohmann::json interop_;
};

std::shared_ptr<const Program>* TodoServiceTest::program_ = nullptr;

TEST_F(TodoServiceTest, DecideMatchesInteropEvaluation) {
  const nlohmann::json& cases = interop_.at("evaluation");
  ASSERT_EQ(cases.size(), 40u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json& request = cases[i].at("request");
    SCOPED_TRACE(absl::StrCat("case ", i, ": ", request.dump()));
    v1::DecideResponse response;
    grpc::Status status = Decide(ToProto(request), response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.decision(), cases[i].at("expected").get<bool>());
    EXPECT_EQ(response.revision(), (*program_)->revision);
  }
}

TEST_F(TodoServiceTest, BatchMatchesInteropEvaluations) {
  const nlohmann::json& cases = interop_.at("evaluations");
  ASSERT_EQ(cases.size(), 3u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("batch case ", i));
    const std::vector<nlohmann::json> requests =
        ExpandEvaluations(cases[i].at("request"));
    const nlohmann::json& expected = cases[i].at("expected");
    ASSERT_EQ(requests.size(), expected.size());

    v1::BatchDecideRequest batch;
    for (const nlohmann::json& request : requests) {
      *batch.add_requests() = ToProto(request);
    }
    v1::BatchDecideResponse response;
    grpc::Status status = BatchDecide(batch, response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.results_size(), static_cast<int>(expected.size()));
    for (size_t j = 0; j < expected.size(); ++j) {
      const v1::BatchItem& item = response.results(static_cast<int>(j));
      ASSERT_TRUE(item.has_response()) << item.error().message();
      EXPECT_EQ(item.response().decision(),
                expected[j].at("decision").get<bool>())
          << "item " << j << ": " << requests[j].dump();
    }
  }
}

TEST_F(TodoServiceTest, BatchOfAllEvaluationCases) {
  const nlohmann::json& cases = interop_.at("evaluation");
  v1::BatchDecideRequest batch;
  for (const nlohmann::json& entry : cases) {
    *batch.add_requests() = ToProto(entry.at("request"));
  }
  v1::BatchDecideResponse response;
  grpc::Status status = BatchDecide(batch, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), static_cast<int>(cases.size()));
  for (size_t i = 0; i < cases.size(); ++i) {
    const v1::BatchItem& item = response.results(static_cast<int>(i));
    ASSERT_TRUE(item.has_response()) << item.error().message();
    EXPECT_EQ(item.response().decision(), cases[i].at("expected").get<bool>())
        << "case " << i << ": " << cases[i].at("request").dump();
  }
}

TEST_F(TodoServiceTest, DecideReportsPolicyAndReasons) {
  v1::DecideRequest request;
  request.mutable_subject()->set_type("user");
  request.mutable_subject()->set_id(kRick);
  request.mutable_action()->set_name("can_delete_todo");
  request.mutable_resource()->set_type("todo");
  request.mutable_resource()->set_id("todo-7");
  v1::DecideResponse response;
  grpc::Status status = Decide(request, response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_TRUE(response.decision());
  EXPECT_EQ(response.revision(), (*program_)->revision);
  EXPECT_EQ(response.decision_id().size(), 36u) << response.decision_id();
  EXPECT_NE(std::find(response.policies().begin(), response.policies().end(),
                      "delete-any-todo"),
            response.policies().end());
  EXPECT_NE(std::find(response.reasons().begin(), response.reasons().end(),
                      "permit:delete-any-todo"),
            response.reasons().end());
}

TEST_F(TodoServiceTest, DecideRejectsStringForSet) {
  v1::DecideRequest request;
  request.mutable_subject()->set_type("user");
  request.mutable_subject()->set_id(kRick);
  (*request.mutable_subject()->mutable_properties()->mutable_fields())["roles"]
      .set_string_value("admin");
  request.mutable_action()->set_name("can_read_todos");
  v1::DecideResponse response;
  grpc::Status status = Decide(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("subject.roles"), std::string::npos)
      << status.error_message();
}

TEST_F(TodoServiceTest, BatchOverLimitIsRejected) {
  v1::DecideRequest request;
  request.mutable_action()->set_name("can_read_todos");
  v1::BatchDecideRequest batch;
  for (size_t i = 0; i < kMaxBatchRequests + 1; ++i) {
    *batch.add_requests() = request;
  }
  v1::BatchDecideResponse response;
  grpc::Status status = BatchDecide(batch, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find(
                absl::StrCat(kMaxBatchRequests + 1, " requests")),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(
      status.error_message().find(absl::StrCat("limit is ", kMaxBatchRequests)),
      std::string::npos)
      << status.error_message();
  EXPECT_EQ(response.results_size(), 0);
}

TEST_F(TodoServiceTest, BatchAtLimitIsDecided) {
  v1::DecideRequest request;
  request.mutable_action()->set_name("can_read_todos");
  v1::BatchDecideRequest batch;
  for (size_t i = 0; i < kMaxBatchRequests; ++i) {
    *batch.add_requests() = request;
  }
  v1::BatchDecideResponse response;
  grpc::Status status = BatchDecide(batch, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), static_cast<int>(kMaxBatchRequests));
  EXPECT_TRUE(response.results(0).response().decision());
  EXPECT_TRUE(response.results(static_cast<int>(kMaxBatchRequests) - 1)
                  .response()
                  .decision());
}

TEST_F(TodoServiceTest, BadBatchItemKeepsOthers) {
  v1::DecideRequest good;
  good.mutable_action()->set_name("can_read_todos");
  v1::DecideRequest bad = good;
  (*bad.mutable_subject()->mutable_properties()->mutable_fields())["roles"]
      .set_int_value(7);
  v1::BatchDecideRequest batch;
  *batch.add_requests() = good;
  *batch.add_requests() = bad;
  *batch.add_requests() = good;

  v1::BatchDecideResponse response;
  grpc::Status status = BatchDecide(batch, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_TRUE(response.results(0).response().decision());
  ASSERT_TRUE(response.results(1).has_error());
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(response.results(1).error().message().find("subject.roles"),
            std::string::npos)
      << response.results(1).error().message();
  EXPECT_TRUE(response.results(2).response().decision());
}

TEST_F(TodoServiceTest, PublishedProgramServesNextCall) {
  v1::DecideRequest request;
  request.mutable_action()->set_name("can_read_todos");
  v1::DecideResponse before;
  ASSERT_TRUE(Decide(request, before).ok());

  // Publish a policy set that permits creating todos only.
  std::string dir = ::testing::TempDir() + "verdict_service_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
  const std::string policy = dir + "/create.verdict";
  std::FILE* file = std::fopen(policy.c_str(), "w");
  ASSERT_NE(file, nullptr) << policy;
  std::fputs(
      "schema action { name: string }\n"
      "permit \"create\" when { action.name == \"can_create_todo\" }\n",
      file);
  std::fclose(file);
  absl::StatusOr<compiler::Compilation> other =
      compiler::CompileDirectory(dir, "", compiler::CompileOptions{});
  std::remove(policy.c_str());
  rmdir(dir.c_str());
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_NE(other->program, nullptr) << other->diagnostics;
  store_.Publish(other->program);

  v1::DecideResponse after;
  ASSERT_TRUE(Decide(request, after).ok());
  EXPECT_TRUE(before.decision());
  EXPECT_FALSE(after.decision());
  EXPECT_NE(after.revision(), before.revision());
}

// Compiles `policy_text` as the only file of a temporary directory.
std::shared_ptr<const Program> CompilePolicyText(const std::string& text) {
  std::string dir = ::testing::TempDir() + "verdict_duty_test_XXXXXX";
  EXPECT_NE(mkdtemp(dir.data()), nullptr) << dir;
  const std::string policy = dir + "/policy.verdict";
  std::FILE* file = std::fopen(policy.c_str(), "w");
  EXPECT_NE(file, nullptr) << policy;
  if (file == nullptr) return nullptr;
  std::fputs(text.c_str(), file);
  std::fclose(file);
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir, "", compiler::CompileOptions{});
  std::remove(policy.c_str());
  rmdir(dir.c_str());
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return nullptr;
  EXPECT_NE(compiled->program, nullptr) << compiled->diagnostics;
  return compiled->program;
}

TEST(VerdictServiceTest, DutiesCarryTypedFields) {
  std::shared_ptr<const Program> program = CompilePolicyText(R"(
schema subject { id: string  roles: set<string>  path: list<string>
                 email?: string }
schema action { name: string }
permit "go" when { action.name == "go" }
  obligation "audit" { who: subject.id, roles: subject.roles,
                       path: subject.path, level: 3, tag: "t" }
  advice "mail" { to: subject.email, urgent: true }
)");
  ASSERT_NE(program, nullptr);
  ProgramStore store;
  store.Publish(program);
  TestServer server(store);

  v1::DecideRequest request;
  request.mutable_subject()->set_id("ann");
  auto& properties =
      *request.mutable_subject()->mutable_properties()->mutable_fields();
  properties["roles"].mutable_string_set()->add_values("b");
  properties["roles"].mutable_string_set()->add_values("a");
  properties["path"].mutable_string_list()->add_values("z");
  properties["path"].mutable_string_list()->add_values("y");
  request.mutable_action()->set_name("go");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::DecideResponse response;
  grpc::Status status = server.stub().Decide(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(response.decision());

  ASSERT_EQ(response.obligations_size(), 1);
  const v1::Duty& audit = response.obligations(0);
  EXPECT_EQ(audit.policy(), "go");
  EXPECT_EQ(audit.name(), "audit");
  const auto& fields = audit.fields().fields();
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields.at("who").string_value(), "ann");
  ASSERT_EQ(fields.at("roles").string_set().values_size(), 2);
  std::vector<std::string> roles(
      fields.at("roles").string_set().values().begin(),
      fields.at("roles").string_set().values().end());
  std::sort(roles.begin(), roles.end());
  EXPECT_EQ(roles, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(fields.at("path").string_list().values_size(), 2);
  EXPECT_EQ(fields.at("path").string_list().values(0), "z");
  EXPECT_EQ(fields.at("path").string_list().values(1), "y");
  EXPECT_EQ(fields.at("level").int_value(), 3);
  EXPECT_EQ(fields.at("tag").string_value(), "t");

  // Advice keeps its literal field and leaves out the absent email.
  ASSERT_EQ(response.advice_size(), 1);
  const v1::Duty& mail = response.advice(0);
  EXPECT_EQ(mail.name(), "mail");
  EXPECT_EQ(mail.fields().fields().size(), 1u);
  EXPECT_TRUE(mail.fields().fields().at("urgent").bool_value());
}

// Sends `requests` on one DecideStream call, closes the sending side, and
// reads every response until the server ends the call.
grpc::Status RunStream(v1::Verdict::Stub& stub,
                       const std::vector<v1::DecideRequest>& requests,
                       std::vector<v1::DecideResponse>& responses) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::DecideRequest, v1::DecideResponse>>
      stream = stub.DecideStream(&context);
  for (const v1::DecideRequest& request : requests) {
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  v1::DecideResponse response;
  while (stream->Read(&response)) responses.push_back(response);
  return stream->Finish();
}

TEST_F(TodoServiceTest, StreamMatchesInteropEvaluation) {
  const nlohmann::json& cases = interop_.at("evaluation");
  std::vector<v1::DecideRequest> requests;
  for (const nlohmann::json& entry : cases) {
    requests.push_back(ToProto(entry.at("request")));
  }
  std::vector<v1::DecideResponse> responses;
  grpc::Status status = RunStream(server_->stub(), requests, responses);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(responses[i].decision(), cases[i].at("expected").get<bool>())
        << "case " << i << ": " << cases[i].at("request").dump();
    EXPECT_EQ(responses[i].revision(), (*program_)->revision);
  }
}

TEST_F(TodoServiceTest, EachMethodReportsItsDecisions) {
  v1::DecideRequest good;
  good.mutable_action()->set_name("can_read_todos");
  v1::DecideRequest bad = good;
  (*bad.mutable_subject()->mutable_properties()->mutable_fields())["roles"]
      .set_int_value(7);
  v1::DecideResponse response;
  ASSERT_TRUE(Decide(good, response).ok());
  v1::BatchDecideRequest batch;
  *batch.add_requests() = good;
  *batch.add_requests() = bad;
  *batch.add_requests() = good;
  v1::BatchDecideResponse batch_response;
  ASSERT_TRUE(BatchDecide(batch, batch_response).ok());
  std::vector<v1::DecideResponse> responses;
  ASSERT_TRUE(RunStream(server_->stub(), {good, good}, responses).ok());

  absl::StatusOr<PromPage> page =
      ParsePrometheusText(server_->metrics().Render());
  ASSERT_TRUE(page.ok()) << page.status();
  const auto decisions = [&](const std::string& api,
                             const std::string& outcome) {
    return page->Value("verdict_decisions_total",
                       {{"api", api}, {"outcome", outcome}});
  };
  EXPECT_EQ(decisions("decide", "permit"), 1);
  EXPECT_EQ(decisions("batch_decide", "permit"), 2);
  EXPECT_EQ(decisions("batch_decide", "invalid"), 1);
  EXPECT_EQ(decisions("decide_stream", "permit"), 2);
  EXPECT_EQ(page->Value("verdict_decision_duration_seconds_count",
                        {{"api", "batch_decide"}}),
            3);
}

TEST_F(TodoServiceTest, StreamResponseMatchesDecide) {
  v1::DecideRequest request;
  request.mutable_subject()->set_type("user");
  request.mutable_subject()->set_id(kRick);
  request.mutable_action()->set_name("can_delete_todo");
  request.mutable_resource()->set_type("todo");
  request.mutable_resource()->set_id("todo-7");
  v1::DecideResponse unary;
  ASSERT_TRUE(Decide(request, unary).ok());

  std::vector<v1::DecideResponse> responses;
  grpc::Status status =
      RunStream(server_->stub(), {request, request}, responses);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 2u);
  for (v1::DecideResponse& response : responses) {
    EXPECT_NE(response.decision_id(), unary.decision_id());
    response.clear_decision_id();
  }
  unary.clear_decision_id();
  EXPECT_EQ(responses[0].SerializeAsString(), unary.SerializeAsString());
  EXPECT_EQ(responses[1].SerializeAsString(), unary.SerializeAsString());
}

TEST_F(TodoServiceTest, EmptyStreamEndsOk) {
  std::vector<v1::DecideResponse> responses;
  grpc::Status status = RunStream(server_->stub(), {}, responses);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(responses.empty());
}

TEST_F(TodoServiceTest, StreamEndsAtBadRequest) {
  v1::DecideRequest good;
  good.mutable_action()->set_name("can_read_todos");
  v1::DecideRequest bad = good;
  (*bad.mutable_subject()->mutable_properties()->mutable_fields())["roles"]
      .set_int_value(7);

  std::vector<v1::DecideResponse> responses;
  grpc::Status status =
      RunStream(server_->stub(), {good, bad, good}, responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("subject.roles"), std::string::npos)
      << status.error_message();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(responses[0].decision());
}

TEST_F(TodoServiceTest, StreamFollowsPublication) {
  v1::DecideRequest request;
  request.mutable_action()->set_name("can_read_todos");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::DecideRequest, v1::DecideResponse>>
      stream = server_->stub().DecideStream(&context);
  v1::DecideResponse before;
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&before));

  // A policy set that permits only creating todos, published while the
  // stream is open.
  std::string dir = ::testing::TempDir() + "verdict_stream_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
  const std::string policy = dir + "/none.verdict";
  std::FILE* file = std::fopen(policy.c_str(), "w");
  ASSERT_NE(file, nullptr) << policy;
  std::fputs(
      "schema action { name: string }\n"
      "permit \"create\" when { action.name == \"can_create_todo\" }\n",
      file);
  std::fclose(file);
  absl::StatusOr<compiler::Compilation> other =
      compiler::CompileDirectory(dir, "", compiler::CompileOptions{});
  std::remove(policy.c_str());
  rmdir(dir.c_str());
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_NE(other->program, nullptr) << other->diagnostics;
  store_.Publish(other->program);

  v1::DecideResponse after;
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&after));
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(before.decision());
  EXPECT_FALSE(after.decision());
  EXPECT_NE(after.revision(), before.revision());
}

// Calls grpc.health.v1.Health/Check for the whole server and returns the
// serving status, kServing or kNotServing, or -1 on failure. The messages
// are encoded by hand because Debian ships no health.proto: the request is
// empty (service ""), the response is field 1 as a varint.
constexpr int kServing = 1;     // grpc.health.v1 ServingStatus SERVING
constexpr int kNotServing = 2;  // and NOT_SERVING

int HealthStatus(std::shared_ptr<grpc::Channel> channel) {
  grpc::GenericStub stub(std::move(channel));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  // A request buffer needs one slice, even an empty one.
  grpc::Slice empty_message("");
  grpc::ByteBuffer request(&empty_message, 1);
  grpc::ByteBuffer response;

  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mutex);
                   status = std::move(s);
                   done = true;
                   done_cv.notify_one();
                 });
  // The callback runs by the call's deadline; cancelling makes it run at
  // once, and it must run before the variables it captures go away.
  std::unique_lock<std::mutex> lock(mutex);
  if (!done_cv.wait_for(lock, std::chrono::seconds(15), [&] { return done; })) {
    context.TryCancel();
    done_cv.wait(lock, [&] { return done; });
    return -1;
  }

  std::vector<grpc::Slice> slices;
  if (!status.ok() || !response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

TEST(VerdictServiceTest, HealthFollowsServingStatus) {
  ProgramStore store;
  TestServer server(store);
  EXPECT_EQ(HealthStatus(server.channel()), kNotServing);
  server.server().GetHealthCheckService()->SetServingStatus(true);
  EXPECT_EQ(HealthStatus(server.channel()), kServing);
}

TEST(VerdictServiceTest, UnavailableWithoutProgram) {
  ProgramStore store;
  TestServer server(store);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::DecideRequest request;
  v1::DecideResponse response;
  grpc::Status status = server.stub().Decide(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);

  grpc::ClientContext batch_context;
  batch_context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(10));
  v1::BatchDecideRequest batch;
  *batch.add_requests() = request;
  v1::BatchDecideResponse batch_response;
  status = server.stub().BatchDecide(&batch_context, batch, &batch_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);

  std::vector<v1::DecideResponse> stream_responses;
  status = RunStream(server.stub(), {request}, stream_responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(stream_responses.empty());
}

}  // namespace
}  // namespace verdict::server
