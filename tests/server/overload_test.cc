// Tests of the service's overload protection: deadlines, cancellation and
// the in-flight limit, on the AuthZEN Todo example over loopback.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "compiler/compile.h"
#include "engine/snapshot.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_interceptor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/in_flight_limiter.h"
#include "server/json_convert.h"
#include "server/server.h"
#include "server/verdict_service.h"
#include "tests/server/test_util.h"

namespace verdict::server {
namespace {

using ::verdict::server::testing::ReadFile;

constexpr char kInteropFile[] = VERDICT_INTEROP_DIR
    "/authzen-todo-backend__test__decisions-authorization-api-1_0-02.json";

// Client metadata that makes DelayInterceptor hold a call after its request
// message arrives and before the handler runs: until the call's deadline
// plus the value in milliseconds, which may be negative.
constexpr char kDelayHeader[] = "x-test-delay-after-deadline-ms";

// Holds calls that carry kDelayHeader, so that a test can make a call's
// deadline pass before or during its handler.
class DelayInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit DelayInterceptor(grpc::experimental::ServerRpcInfo* info)
      : info_(info) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_MESSAGE)) {
      grpc::ServerContextBase& context = *info_->server_context();
      const auto& metadata = context.client_metadata();
      auto it = metadata.find(kDelayHeader);
      int offset_millis = 0;
      if (it != metadata.end() &&
          absl::SimpleAtoi(std::string(it->second.data(), it->second.size()),
                           &offset_millis)) {
        std::this_thread::sleep_until(context.deadline() +
                                      std::chrono::milliseconds(offset_millis));
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
};

class DelayInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new DelayInterceptor(info);
  }
};

// A VerdictService with `options` on 127.0.0.1 with a port the OS chose,
// behind DelayInterceptor.
class OverloadServer {
 public:
  OverloadServer(const ProgramStore& store, const ServiceOptions& options)
      : service_(store, options) {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
    builder.RegisterService(&service_);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<DelayInterceptorFactory>());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_NE(port, 0);
    stub_ = v1::Verdict::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~OverloadServer() {
    if (server_ != nullptr) server_->Shutdown();
  }

  VerdictService& service() { return service_; }
  v1::Verdict::Stub& stub() { return *stub_; }

  // Waits up to 10 s for `done` to hold on the service's stats, because a
  // call the client gave up on may still be in the server's handler.
  template <typename Predicate>
  bool WaitForStats(Predicate done) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done(service_.stats())) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  VerdictService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Verdict::Stub> stub_;
};

struct InteropCase {
  v1::DecideRequest request;
  bool expected = false;
};

class OverloadTest : public ::testing::Test {
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
    const std::string text = ReadFile(kInteropFile);
    ASSERT_FALSE(text.empty())
        << "no interop decisions at " << kInteropFile
        << "; set the CMake cache variable VERDICT_SHARED_DIR";
    const nlohmann::json interop = nlohmann::json::parse(text);
    for (const nlohmann::json& entry : interop.at("evaluation")) {
      absl::StatusOr<v1::DecideRequest> request =
          JsonToDecideRequest(entry.at("request"));
      ASSERT_TRUE(request.ok()) << request.status();
      cases_.push_back({*request, entry.at("expected").get<bool>()});
    }
    ASSERT_FALSE(cases_.empty());
  }

  // A batch of `count` interop requests, cycling through the cases.
  v1::BatchDecideRequest InteropBatch(int count) const {
    v1::BatchDecideRequest batch;
    for (int i = 0; i < count; ++i) {
      *batch.add_requests() = cases_[i % cases_.size()].request;
    }
    return batch;
  }

  static std::shared_ptr<const Program>* program_;
  ProgramStore store_;
  std::vector<InteropCase> cases_;
};

std::shared_ptr<const Program>* OverloadTest::program_ = nullptr;

TEST(InFlightLimiterTest, AdmitsUpToLimit) {
  InFlightLimiter limiter(3);
  const int64_t first = limiter.TryAcquire(2);
  EXPECT_EQ(first, 2);
  EXPECT_EQ(limiter.TryAcquire(2), 0);
  EXPECT_EQ(limiter.in_flight(), 2);
  const int64_t second = limiter.TryAcquire(1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(limiter.TryAcquire(1), 0);
  limiter.Release(first);
  limiter.Release(second);
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(InFlightLimiterTest, LargeRequestTakesWholeLimit) {
  InFlightLimiter limiter(100);
  const int64_t granted = limiter.TryAcquire(10'000);
  EXPECT_EQ(granted, 100);
  EXPECT_EQ(limiter.TryAcquire(1), 0);
  limiter.Release(granted);

  const int64_t small = limiter.TryAcquire(1);
  EXPECT_EQ(small, 1);
  EXPECT_EQ(limiter.TryAcquire(10'000), 0)
      << "a capped request still needs the whole limit free";
  limiter.Release(small);
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(InFlightLimiterTest, GrantReleasesOnScopeExit) {
  InFlightLimiter limiter(1);
  {
    InFlightGrant grant(limiter, 1);
    EXPECT_TRUE(grant.admitted());
    InFlightGrant refused(limiter, 1);
    EXPECT_FALSE(refused.admitted());
    EXPECT_EQ(limiter.in_flight(), 1);
  }
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST_F(OverloadTest, ExpiredDecideIsNotEvaluated) {
  OverloadServer server(store_, ServiceOptions{});
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(200));
  // The handler starts 50 ms after the deadline.
  context.AddMetadata(kDelayHeader, "50");
  v1::DecideResponse response;
  grpc::Status status =
      server.stub().Decide(&context, cases_[0].request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  ASSERT_TRUE(server.WaitForStats([](const ServiceStats& stats) {
    return stats.deadline_exceeded == 1 && stats.in_flight == 0;
  })) << "the server never rejected the expired call";
  EXPECT_EQ(server.service().stats().decisions, 0);

  // The same request with time to spare is evaluated and counted.
  grpc::ClientContext live;
  live.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
  status = server.stub().Decide(&live, cases_[0].request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.decision(), cases_[0].expected);
  EXPECT_EQ(server.service().stats().decisions, 1);
  EXPECT_EQ(server.service().stats().in_flight, 0);
}

TEST_F(OverloadTest, ExpiredBatchIsNotEvaluated) {
  OverloadServer server(store_, ServiceOptions{});
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(200));
  context.AddMetadata(kDelayHeader, "50");
  v1::BatchDecideResponse response;
  grpc::Status status =
      server.stub().BatchDecide(&context, InteropBatch(100), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  ASSERT_TRUE(server.WaitForStats([](const ServiceStats& stats) {
    return stats.deadline_exceeded == 1 && stats.in_flight == 0;
  })) << "the server never rejected the expired batch";
  EXPECT_EQ(server.service().stats().decisions, 0);
  EXPECT_EQ(server.service().stats().in_flight, 0);
}

TEST_F(OverloadTest, BatchStopsAtDeadline) {
  constexpr int kItems = static_cast<int>(kMaxBatchRequests);
  OverloadServer server(store_, ServiceOptions{});
  const v1::BatchDecideRequest batch = InteropBatch(kItems);

  // The same batch with time to spare is decided in full and counted.
  grpc::ClientContext live;
  live.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  v1::BatchDecideResponse full;
  grpc::Status status = server.stub().BatchDecide(&live, batch, &full);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(full.results_size(), kItems);
  ASSERT_EQ(server.service().stats().decisions, kItems);

  // The handler starts 5 ms before the server's deadline, and 10,000 items
  // take longer (about 16 ms at 1.6 us each), so the deadline passes during
  // the batch. On a loaded machine the handler may start after it, and the
  // batch stops before its first item instead.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  context.AddMetadata(kDelayHeader, "-5");
  v1::BatchDecideResponse partial;
  status = server.stub().BatchDecide(&context, batch, &partial);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  // The server computes its deadline from the timeout when the request
  // headers arrive, so it can lie a few milliseconds after the client's.
  // The client then cancels first, and the batch stops as cancelled.
  ASSERT_TRUE(server.WaitForStats([](const ServiceStats& stats) {
    return stats.deadline_exceeded + stats.cancelled == 1 &&
           stats.in_flight == 0;
  })) << "the server finished the batch past its deadline";
  const int64_t decided = server.service().stats().decisions - kItems;
  EXPECT_LT(decided, kItems);
  EXPECT_EQ(decided % kBatchDeadlineCheckInterval, 0)
      << "a batch stops only at a deadline check";
  EXPECT_EQ(server.service().stats().in_flight, 0);
}

// Outcome counts of one client thread.
struct ClientTally {
  int ok = 0;
  int rejected = 0;
  int other = 0;
  int wrong_decisions = 0;
  std::string first_rejection;
  std::string first_other;
};

TEST_F(OverloadTest, LimitOneRejectsConcurrentCalls) {
  ServiceOptions options;
  options.max_in_flight = 1;
  OverloadServer server(store_, options);
  constexpr int kThreads = 6;
  constexpr int kCallsPerThread = 15;
  constexpr int kItems = 2'000;
  const v1::BatchDecideRequest batch = InteropBatch(kItems);

  // Every thread alternates batches, unary calls and a short stream, so
  // that all three kinds meet the limit. A batch keeps the limit for a few
  // milliseconds, long enough for the other threads' calls to arrive.
  std::vector<ClientTally> tallies(kThreads);
  auto record = [](ClientTally& tally, const grpc::Status& status) {
    if (status.ok()) {
      ++tally.ok;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++tally.rejected;
      if (tally.first_rejection.empty()) {
        tally.first_rejection = status.error_message();
      }
    } else {
      ++tally.other;
      if (tally.first_other.empty()) {
        tally.first_other =
            absl::StrCat(status.error_code(), ": ", status.error_message());
      }
    }
  };
  auto run_client = [&](ClientTally& tally) {
    for (int call = 0; call < kCallsPerThread; ++call) {
      const auto deadline =
          std::chrono::system_clock::now() + std::chrono::seconds(30);
      grpc::ClientContext context;
      context.set_deadline(deadline);
      if (call % 3 == 0) {
        v1::BatchDecideResponse response;
        grpc::Status status =
            server.stub().BatchDecide(&context, batch, &response);
        record(tally, status);
        if (!status.ok()) continue;
        for (int i = 0; i < response.results_size(); ++i) {
          if (response.results(i).response().decision() !=
              cases_[i % cases_.size()].expected) {
            ++tally.wrong_decisions;
          }
        }
      } else if (call % 3 == 1) {
        const InteropCase& item = cases_[call % cases_.size()];
        v1::DecideResponse response;
        grpc::Status status =
            server.stub().Decide(&context, item.request, &response);
        record(tally, status);
        if (status.ok() && response.decision() != item.expected) {
          ++tally.wrong_decisions;
        }
      } else {
        auto stream = server.stub().DecideStream(&context);
        v1::DecideResponse response;
        size_t next = 0;
        for (; next < cases_.size(); ++next) {
          if (!stream->Write(cases_[next].request)) break;
          if (!stream->Read(&response)) break;
          if (response.decision() != cases_[next].expected) {
            ++tally.wrong_decisions;
          }
        }
        stream->WritesDone();
        while (stream->Read(&response)) ++tally.wrong_decisions;
        record(tally, stream->Finish());
      }
    }
  };
  std::vector<std::thread> threads;
  for (ClientTally& tally : tallies) {
    threads.emplace_back(run_client, std::ref(tally));
  }
  for (std::thread& thread : threads) thread.join();

  ClientTally total;
  for (const ClientTally& tally : tallies) {
    total.ok += tally.ok;
    total.rejected += tally.rejected;
    total.other += tally.other;
    total.wrong_decisions += tally.wrong_decisions;
    if (total.first_rejection.empty()) {
      total.first_rejection = tally.first_rejection;
    }
    if (total.first_other.empty()) total.first_other = tally.first_other;
  }
  EXPECT_EQ(total.wrong_decisions, 0);
  EXPECT_EQ(total.other, 0) << total.first_other;
  EXPECT_GT(total.ok, 0);
  EXPECT_GT(total.rejected, 0) << "no call met the limit of 1";
  EXPECT_NE(total.first_rejection.find("limit of 1 decisions in flight"),
            std::string::npos)
      << total.first_rejection;
  EXPECT_NE(total.first_rejection.find("--max-in-flight"), std::string::npos)
      << total.first_rejection;

  const ServiceStats stats = server.service().stats();
  EXPECT_EQ(stats.rejected_in_flight, total.rejected);
  EXPECT_EQ(stats.in_flight, 0);
}

TEST_F(OverloadTest, StreamLimitHoldsFurtherCalls) {
  constexpr int kStreams = 4;
  VerdictService service(store_);
  GrpcLimits limits;
  limits.max_streams_per_connection = kStreams;
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartGrpcServer("127.0.0.1:0", service, limits, port);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = BoundAddress("127.0.0.1:0", port);
  // Each stub opens its own connection.
  auto connect = [&address] {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::Verdict::NewStub(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args));
  };
  auto decide = [this](v1::Verdict::Stub& stub, std::chrono::milliseconds
                                                    timeout) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    v1::DecideResponse response;
    grpc::Status status =
        stub.Decide(&context, cases_[0].request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.decision(), cases_[0].expected);
    }
    return status;
  };
  std::unique_ptr<v1::Verdict::Stub> stub = connect();

  // kStreams streams that have each decided one request and stay open.
  struct OpenStream {
    grpc::ClientContext context;
    std::unique_ptr<
        grpc::ClientReaderWriter<v1::DecideRequest, v1::DecideResponse>>
        stream;
  };
  std::vector<std::unique_ptr<OpenStream>> open;
  for (int i = 0; i < kStreams; ++i) {
    auto call = std::make_unique<OpenStream>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
    call->stream = stub->DecideStream(&call->context);
    ASSERT_TRUE(call->stream->Write(cases_[0].request));
    v1::DecideResponse response;
    ASSERT_TRUE(call->stream->Read(&response));
    EXPECT_EQ(response.decision(), cases_[0].expected);
    open.push_back(std::move(call));
  }

  // A further call on the same connection waits in the client and never
  // reaches the server.
  EXPECT_EQ(decide(*stub, std::chrono::milliseconds(500)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(service.stats().decisions, kStreams);

  // Another connection has its own streams.
  std::unique_ptr<v1::Verdict::Stub> other = connect();
  grpc::Status status = decide(*other, std::chrono::seconds(10));
  EXPECT_TRUE(status.ok()) << status.error_message();

  // Ending one stream frees a place on the first connection.
  open.back()->stream->WritesDone();
  status = open.back()->stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  open.pop_back();
  status = decide(*stub, std::chrono::seconds(10));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(service.stats().decisions, kStreams + 2);

  for (std::unique_ptr<OpenStream>& call : open) {
    call->stream->WritesDone();
    EXPECT_TRUE(call->stream->Finish().ok());
  }
  (*server)->Shutdown();
}

}  // namespace
}  // namespace verdict::server
