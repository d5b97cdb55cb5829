#include "server/ext_authz_service.h"

#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "server/decision_recorder.h"
#include "server/envoy_request.h"
#include "server/envoy_response.h"

namespace verdict::server {
namespace {

namespace auth = ::envoy::service::auth::v3;

std::atomic<uint64_t> next_instance_id{1};

// The per-thread scratch of the handler; a warm Frame decodes without
// allocating.
struct ThreadState {
  uint64_t service_id = 0;
  std::optional<ProgramStore::Reader> reader;
  Frame frame;
};

ThreadState& LocalState() {
  thread_local ThreadState state;
  return state;
}

}  // namespace

ExtAuthzService::ExtAuthzService(const ProgramStore& store,
                                 const ServiceOptions& options,
                                 const DecisionRecorder* recorder)
    : store_(store),
      recorder_(recorder),
      in_flight_(options.max_in_flight),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

ExtAuthzStats ExtAuthzService::stats() const {
  ExtAuthzStats stats;
  stats.permitted = permitted_.load(std::memory_order_relaxed);
  stats.denied = denied_.load(std::memory_order_relaxed);
  stats.invalid = invalid_.load(std::memory_order_relaxed);
  stats.rejected_in_flight =
      rejected_in_flight_.load(std::memory_order_relaxed);
  return stats;
}

grpc::ServerUnaryReactor* ExtAuthzService::Check(
    grpc::CallbackServerContext* context, const auth::CheckRequest* request,
    auth::CheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(CheckOne(*context, *request, *response));
  return reactor;
}

grpc::Status ExtAuthzService::CheckOne(
    const grpc::CallbackServerContext& context,
    const auth::CheckRequest& request, auth::CheckResponse& response) {
  if (std::chrono::system_clock::now() >= context.deadline()) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the call's deadline passed before the request was "
                        "decided; allow a longer ext_authz timeout");
  }
  if (context.IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client cancelled the call");
  }
  InFlightGrant grant(in_flight_, 1);
  if (!grant.admitted()) {
    rejected_in_flight_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("the server is at its limit of ", in_flight_.limit(),
                     " Check calls in flight (--max-in-flight); retry with "
                     "backoff, or raise --max-in-flight if the server has "
                     "idle CPU"));
  }
  ThreadState& state = LocalState();
  if (state.service_id != instance_id_) {
    state.reader.emplace(store_);
    state.service_id = instance_id_;
  }
  const Program* program = state.reader->Acquire();
  if (program == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "no policy set is loaded yet; retry after the server "
                        "reports SERVING on its health service");
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const absl::Status status = DecideAndRecord(
      recorder_, DecisionApi::kEnvoyCheck, *program, state.frame,
      [&](const Program& target, Frame& target_frame) {
        return DecodeCheckRequest(target, request, now, target_frame);
      },
      [&](const Decision& decision) {
        BuildCheckResponse(*program, state.frame, decision, response);
        (response.status().code() == 0 ? permitted_ : denied_)
            .fetch_add(1, std::memory_order_relaxed);
      });
  if (!status.ok()) {
    invalid_.fetch_add(1, std::memory_order_relaxed);
    BuildInvalidRequestResponse(program->revision, status, response);
  }
  return grpc::Status::OK;
}

}  // namespace verdict::server
