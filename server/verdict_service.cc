#include "server/verdict_service.h"

#include <atomic>
#include <chrono>
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
#include "engine/values.h"
#include "server/decision_recorder.h"
#include "server/log.h"
#include "server/proto_request.h"

namespace verdict::server {
namespace {

std::atomic<uint64_t> next_instance_id{1};

// Minimum time between two warnings about calls the in-flight limit
// rejected, so that a flood logs a line every 10 s rather than per call.
constexpr int64_t kOverloadWarningIntervalNanos = int64_t{10} * 1'000'000'000;

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

// Sets `out` to the present value of `slot`, with the Value kind its type
// maps to: decimals, addresses and ranges in their text form.
void SlotToValue(const Program& program, const Frame& frame, uint32_t slot,
                 v1::Value& out) {
  const SlotValue& value = frame.slot(slot);
  switch (program.slots[slot].type) {
    case Type::kBool:
      out.set_bool_value(value.integer != 0);
      return;
    case Type::kString:
      out.set_string_value(std::string(frame.Text(value)));
      return;
    case Type::kDecimal:
      out.set_string_value(FormatDecimal(value.integer));
      return;
    case Type::kIp:
      out.set_string_value(FormatIp(frame.Text(value)));
      return;
    case Type::kCidr:
      out.set_string_value(FormatCidr(frame.Text(value)));
      return;
    case Type::kStringSet: {
      v1::StringList& set = *out.mutable_string_set();
      for (uint32_t symbol : frame.Set(value)) {
        set.add_values(std::string(frame.SymbolText(symbol)));
      }
      return;
    }
    case Type::kStringList: {
      // Each element is stored behind a kListSeparator byte.
      v1::StringList& list = *out.mutable_string_list();
      const std::string_view encoded = frame.SymbolText(value.symbol);
      size_t start = 0;
      while (start < encoded.size()) {
        size_t next = encoded.find(kListSeparator, start + 1);
        if (next == std::string_view::npos) next = encoded.size();
        list.add_values(
            std::string(encoded.substr(start + 1, next - start - 1)));
        start = next;
      }
      return;
    }
    default:
      out.set_int_value(value.integer);
      return;
  }
}

// Sets `out` to a literal duty field, with the kinds of SlotToValue.
void LiteralToValue(const DutyField& field, v1::Value& out) {
  switch (field.type) {
    case Type::kBool:
      out.set_bool_value(field.integer != 0);
      return;
    case Type::kString:
      out.set_string_value(field.text);
      return;
    case Type::kDecimal:
      out.set_string_value(FormatDecimal(field.integer));
      return;
    case Type::kIp:
      out.set_string_value(FormatIp(field.text));
      return;
    case Type::kCidr:
      out.set_string_value(FormatCidr(field.text));
      return;
    case Type::kStringSet:
    case Type::kStringList: {
      v1::StringList& elements = field.type == Type::kStringSet
                                     ? *out.mutable_string_set()
                                     : *out.mutable_string_list();
      for (const std::string& element : field.elements) {
        elements.add_values(element);
      }
      return;
    }
    default:
      out.set_int_value(field.integer);
      return;
  }
}

// Fills `response` from `decision`, the result of evaluating the request
// in `frame`.
void BuildResponse(const Program& program, const Frame& frame,
                   const Decision& decision, v1::DecideResponse& response) {
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
  for (uint32_t policy : decision.determining) {
    const PolicyInfo& info = program.policies[policy];
    for (const Duty& duty : info.duties) {
      v1::Duty* out =
          duty.advice ? response.add_advice() : response.add_obligations();
      out->set_policy(info.id);
      out->set_name(duty.name);
      auto& fields = *out->mutable_fields()->mutable_fields();
      for (const DutyField& field : duty.fields) {
        if (field.slot == kNoSlot) {
          LiteralToValue(field, fields[field.key]);
        } else if (frame.slot(field.slot).present) {
          SlotToValue(program, frame, field.slot, fields[field.key]);
        }
      }
    }
  }
}

// Decodes and evaluates `request` into `response`, and reports it to
// `recorder` when not null. Returns the decoder's INVALID_ARGUMENT error
// for a malformed request.
absl::Status DecideOne(const Program& program, const v1::DecideRequest& request,
                       int64_t now, Frame& frame, DecisionApi api,
                       const DecisionRecorder* recorder,
                       v1::DecideResponse& response) {
  return DecideAndRecord(
      recorder, api, program, frame,
      [&](const Program& target, Frame& target_frame) {
        return DecodeDecideRequest(target, request, now, target_frame);
      },
      [&](const Decision& decision) {
        BuildResponse(program, frame, decision, response);
      });
}

int64_t NowUnixSeconds() { return absl::ToUnixSeconds(absl::Now()); }

}  // namespace

VerdictService::VerdictService(const ProgramStore& store,
                               const ServiceOptions& options,
                               const DecisionRecorder* recorder)
    : store_(store),
      recorder_(recorder),
      in_flight_(options.max_in_flight),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {
  SetMessageAllocatorFor_Decide(&decide_allocator_);
  SetMessageAllocatorFor_BatchDecide(&batch_allocator_);
}

ServiceStats VerdictService::stats() const {
  ServiceStats stats;
  stats.decisions = decisions_.load(std::memory_order_relaxed);
  stats.rejected_in_flight =
      rejected_in_flight_.load(std::memory_order_relaxed);
  stats.deadline_exceeded = deadline_exceeded_.load(std::memory_order_relaxed);
  stats.cancelled = cancelled_.load(std::memory_order_relaxed);
  stats.in_flight = in_flight_.in_flight();
  return stats;
}

grpc::Status VerdictService::CheckCallActive(
    const grpc::CallbackServerContext& context) {
  // The deadline is compared directly because gRPC cancels an expired call
  // only when its timer runs, which can be later.
  if (std::chrono::system_clock::now() >= context.deadline()) {
    deadline_exceeded_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the call's deadline passed before its decisions "
                        "were made; allow a longer deadline");
  }
  if (context.IsCancelled()) {
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the client cancelled the call");
  }
  return grpc::Status::OK;
}

grpc::Status VerdictService::OverloadStatus(int64_t decisions) {
  const int64_t rejected =
      rejected_in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_overload_warning_nanos_.load(std::memory_order_relaxed);
  // The exchange lets one of the threads that see the interval elapsed log.
  if (now - last >= kOverloadWarningIntervalNanos &&
      last_overload_warning_nanos_.compare_exchange_strong(
          last, now, std::memory_order_relaxed)) {
    LogWarning(absl::StrCat(
        "rejecting calls with RESOURCE_EXHAUSTED: ", in_flight_.in_flight(),
        " of the limit of ", in_flight_.limit(),
        " decisions are in flight (--max-in-flight); ", rejected,
        " calls rejected since the server started"));
  }
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      absl::StrCat("the server is at its limit of ", in_flight_.limit(),
                   " decisions in flight (--max-in-flight) and cannot admit ",
                   decisions,
                   " more; retry with backoff, or raise "
                   "--max-in-flight if the server has idle CPU"));
}

const Program* VerdictService::AcquireProgram() const {
  ThreadState& state = LocalState();
  if (state.service_id != instance_id_) {
    state.reader.emplace(store_);
    state.service_id = instance_id_;
  }
  return state.reader->Acquire();
}

grpc::ServerUnaryReactor* VerdictService::Decide(
    grpc::CallbackServerContext* context, const v1::DecideRequest* request,
    v1::DecideResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(DecideUnary(*context, *request, *response));
  return reactor;
}

grpc::ServerUnaryReactor* VerdictService::BatchDecide(
    grpc::CallbackServerContext* context, const v1::BatchDecideRequest* request,
    v1::BatchDecideResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(DecideBatch(*context, *request, *response));
  return reactor;
}

grpc::Status VerdictService::DecideUnary(
    const grpc::CallbackServerContext& context,
    const v1::DecideRequest& request, v1::DecideResponse& response) {
  if (grpc::Status active = CheckCallActive(context); !active.ok()) {
    return active;
  }
  InFlightGrant grant(in_flight_, 1);
  if (!grant.admitted()) return OverloadStatus(1);
  const Program* program = AcquireProgram();
  if (program == nullptr) return NoProgramStatus();
  absl::Status status =
      DecideOne(*program, request, NowUnixSeconds(), LocalState().frame,
                DecisionApi::kDecide, recorder_, response);
  decisions_.fetch_add(1, std::memory_order_relaxed);
  return ToGrpcStatus(status);
}

grpc::Status VerdictService::DecideBatch(
    const grpc::CallbackServerContext& context,
    const v1::BatchDecideRequest& request, v1::BatchDecideResponse& response) {
  const size_t count = static_cast<size_t>(request.requests_size());
  if (count > kMaxBatchRequests) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("batch has ", count, " requests but the limit is ",
                     kMaxBatchRequests, "; split it into smaller batches"));
  }
  if (grpc::Status active = CheckCallActive(context); !active.ok()) {
    return active;
  }
  InFlightGrant grant(in_flight_, static_cast<int64_t>(count));
  if (!grant.admitted()) return OverloadStatus(static_cast<int64_t>(count));
  const Program* program = AcquireProgram();
  if (program == nullptr) return NoProgramStatus();

  // One clock reading for the batch, like one program: every item is
  // decided as of the same instant.
  const int64_t now = NowUnixSeconds();
  Frame& frame = LocalState().frame;
  response.mutable_results()->Reserve(static_cast<int>(count));
  int decided = 0;
  for (; decided < static_cast<int>(count); ++decided) {
    // No client waits for the rest of a batch whose deadline passed or
    // that was cancelled, so it stops rather than hold a server thread.
    if (decided % kBatchDeadlineCheckInterval == 0 && decided > 0) {
      if (grpc::Status active = CheckCallActive(context); !active.ok()) {
        decisions_.fetch_add(decided, std::memory_order_relaxed);
        response.clear_results();
        return active;
      }
    }
    const v1::DecideRequest& item = request.requests(decided);
    v1::BatchItem* result = response.add_results();
    absl::Status status =
        DecideOne(*program, item, now, frame, DecisionApi::kBatchDecide,
                  recorder_, *result->mutable_response());
    if (!status.ok()) {
      v1::ItemError* error = result->mutable_error();
      error->set_code(static_cast<int32_t>(status.code()));
      error->set_message(std::string(status.message()));
    }
  }
  decisions_.fetch_add(decided, std::memory_order_relaxed);
  return grpc::Status::OK;
}

// One DecideStream call: read a request, decide it, write the response,
// then read the next. gRPC runs at most one of these steps at a time, since
// each starts only when the previous one is done, so the reactor needs no
// lock, and a stream has at most one request that has no response yet.
// Each request counts as one decision against the in-flight limit while it
// is evaluated. A request past the stream's deadline or beyond the limit
// ends the stream with that status. The reactor deletes itself when gRPC
// reports the call done.
class VerdictService::StreamReactor final
    : public grpc::ServerBidiReactor<v1::DecideRequest, v1::DecideResponse> {
 public:
  StreamReactor(VerdictService& service,
                const grpc::CallbackServerContext& context)
      : service_(service), context_(context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    // A failed read means the client closed its side or the call ended.
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (grpc::Status active = service_.CheckCallActive(context_);
        !active.ok()) {
      Finish(active);
      return;
    }
    absl::Status status;
    {
      InFlightGrant grant(service_.in_flight_, 1);
      if (!grant.admitted()) {
        Finish(service_.OverloadStatus(1));
        return;
      }
      const Program* program = service_.AcquireProgram();
      if (program == nullptr) {
        Finish(NoProgramStatus());
        return;
      }
      // Clear() keeps the response's allocated fields for reuse.
      response_.Clear();
      status =
          DecideOne(*program, request_, NowUnixSeconds(), LocalState().frame,
                    DecisionApi::kDecideStream, service_.recorder_, response_);
      service_.decisions_.fetch_add(1, std::memory_order_relaxed);
    }
    if (!status.ok()) {
      Finish(ToGrpcStatus(status));
      return;
    }
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    // A write fails only when the call is over: cancelled or past deadline.
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the client cancelled the stream"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  VerdictService& service_;
  const grpc::CallbackServerContext& context_;
  v1::DecideRequest request_;
  v1::DecideResponse response_;
};

grpc::ServerBidiReactor<v1::DecideRequest, v1::DecideResponse>*
VerdictService::DecideStream(grpc::CallbackServerContext* context) {
  return new StreamReactor(*this, *context);
}

}  // namespace verdict::server
