#include "server/verdict_service.h"

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "server/json_convert.h"
#include "server/proto_request.h"

namespace verdict::server {
namespace {

// Batch items decided between two checks for a cancelled call.
constexpr int kCancellationCheckInterval = 1024;

std::atomic<uint64_t> next_instance_id{1};

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status NoProgramStatus() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "no policy set is loaded yet; retry after the server "
                      "reports SERVING on its health service");
}

// The per-thread scratch of the handlers. A Frame keeps its buffers between
// requests, so a warm thread decodes and evaluates without allocating.
struct ThreadState {
  uint64_t service_id = 0;
  std::optional<ProgramStore::Reader> reader;
  Frame frame;
};

ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

// Decodes and evaluates `request` into `response`. Returns the decoder's
// INVALID_ARGUMENT error for a malformed request.
absl::Status DecideOne(const Program& program, const v1::DecideRequest& request,
                       int64_t now, Frame& frame,
                       v1::DecideResponse& response) {
  if (absl::Status s = DecodeDecideRequest(program, request, now, frame);
      !s.ok()) {
    return s;
  }
  const Decision decision = Evaluate(program, frame);

  response.set_decision(decision.permit);
  response.set_decision_id(decision.id.ToString());
  response.set_revision(program.revision);
  for (uint32_t policy : decision.determining) {
    response.add_policies(program.policies[policy].id);
  }
  for (const ErroredPolicy& error : decision.errors) {
    v1::PolicyError* out = response.add_errors();
    out->set_policy(program.policies[error.policy].id);
    out->set_message(DescribeError(program, frame, error.predicate));
  }
  for (std::string& reason : DecisionReasons(program, frame, decision)) {
    response.add_reasons(std::move(reason));
  }
  if (decision.deciding_set != 0) {
    response.set_policy_set(program.sets[decision.deciding_set].id);
  }
  if (!decision.determining.empty()) {
    nlohmann::json duties = DutiesToJson(program, frame, decision);
    for (const char* kind : {"obligations", "advice"}) {
      for (const nlohmann::json& duty : duties[kind]) {
        v1::Duty* out = std::string_view(kind) == "advice"
                            ? response.add_advice()
                            : response.add_obligations();
        out->set_policy(duty["policy"].get<std::string>());
        out->set_name(duty["name"].get<std::string>());
        if (absl::Status s = JsonToProperties(duty["fields"],
                                              *out->mutable_fields());
            !s.ok()) {
          return s;
        }
      }
    }
  }
  return absl::OkStatus();
}

int64_t NowUnixSeconds() { return absl::ToUnixSeconds(absl::Now()); }

}  // namespace

VerdictService::VerdictService(const ProgramStore& store)
    : store_(store),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

const Program* VerdictService::AcquireProgram() const {
  ThreadState& state = LocalState();
  if (state.service_id != instance_id_) {
    state.reader.emplace(store_);
    state.service_id = instance_id_;
  }
  return state.reader->Acquire();
}

grpc::Status VerdictService::Decide(grpc::ServerContext* context,
                                    const v1::DecideRequest* request,
                                    v1::DecideResponse* response) {
  const Program* program = AcquireProgram();
  if (program == nullptr) return NoProgramStatus();
  absl::Status status = DecideOne(*program, *request, NowUnixSeconds(),
                                  LocalState().frame, *response);
  return ToGrpcStatus(status);
}

grpc::Status VerdictService::BatchDecide(grpc::ServerContext* context,
                                         const v1::BatchDecideRequest* request,
                                         v1::BatchDecideResponse* response) {
  const size_t count = static_cast<size_t>(request->requests_size());
  if (count > kMaxBatchRequests) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("batch has ", count, " requests but the limit is ",
                     kMaxBatchRequests, "; split it into smaller batches"));
  }
  const Program* program = AcquireProgram();
  if (program == nullptr) return NoProgramStatus();

  // One clock reading for the batch, like one program: every item is
  // decided as of the same instant.
  const int64_t now = NowUnixSeconds();
  Frame& frame = LocalState().frame;
  response->mutable_results()->Reserve(static_cast<int>(count));
  for (int i = 0; i < static_cast<int>(count); ++i) {
    // A client that gave up should not keep a server thread busy.
    if (i % kCancellationCheckInterval == 0 && context->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client cancelled the batch");
    }
    const v1::DecideRequest& item = request->requests(i);
    v1::BatchItem* result = response->add_results();
    absl::Status status =
        DecideOne(*program, item, now, frame, *result->mutable_response());
    if (!status.ok()) {
      v1::ItemError* error = result->mutable_error();
      error->set_code(static_cast<int32_t>(status.code()));
      error->set_message(std::string(status.message()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status VerdictService::DecideStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecideResponse, v1::DecideRequest>* stream) {
  // One request and one response message for the whole stream: Clear()
  // keeps their allocated fields, so later messages reuse that memory.
  v1::DecideRequest request;
  v1::DecideResponse response;
  while (stream->Read(&request)) {
    const Program* program = AcquireProgram();
    if (program == nullptr) return NoProgramStatus();
    response.Clear();
    absl::Status status = DecideOne(*program, request, NowUnixSeconds(),
                                    LocalState().frame, response);
    if (!status.ok()) return ToGrpcStatus(status);
    // Write fails only when the call is over: the client cancelled or the
    // deadline passed.
    if (!stream->Write(response)) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client cancelled the stream");
    }
  }
  return grpc::Status::OK;
}

}  // namespace verdict::server
