// The gRPC service verdict.v1.Verdict.

#ifndef VERDICT_SERVER_VERDICT_SERVICE_H_
#define VERDICT_SERVER_VERDICT_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "engine/snapshot.h"
#include "grpcpp/grpcpp.h"
#include "server/arena_allocator.h"
#include "server/decision_recorder.h"
#include "server/in_flight_limiter.h"
#include "verdict/v1/verdict.grpc.pb.h"

namespace verdict::server {

// Maximum requests in one BatchDecide call. A larger batch is rejected as a
// whole with INVALID_ARGUMENT, so that one call cannot hold a server thread
// for long; clients split larger workloads.
inline constexpr size_t kMaxBatchRequests = 10'000;

// Default of ServiceOptions::max_in_flight: room for two full batches.
// BatchDecide costs about 1.6 us of server CPU per item (docs/benchmarks.md),
// so 20,000 admitted decisions are an estimated 32 ms of CPU, 16 ms on 2
// cores. Calls that gRPC has not yet handed to a handler are not counted.
inline constexpr int64_t kDefaultMaxInFlight = 20'000;

// Batch items decided between two checks of the call's deadline and
// cancellation: about 0.1 ms of work at 1.6 us per item.
inline constexpr int kBatchDeadlineCheckInterval = 64;

struct ServiceOptions {
  // Maximum decisions being evaluated at once over all calls: 1 per Decide
  // call or stream message, the item count per BatchDecide call (capped at
  // this limit, so a larger batch runs alone). A call beyond it fails at
  // once with RESOURCE_EXHAUSTED. At least 1.
  int64_t max_in_flight = kDefaultMaxInFlight;
};

// Counts of call outcomes since the service started.
struct ServiceStats {
  // Requests decoded and, when valid, evaluated, including batch items.
  int64_t decisions = 0;
  // Calls or stream messages rejected with RESOURCE_EXHAUSTED by the
  // in-flight limit.
  int64_t rejected_in_flight = 0;
  // Calls that stopped with DEADLINE_EXCEEDED or CANCELLED, before or
  // during evaluation.
  int64_t deadline_exceeded = 0;
  int64_t cancelled = 0;
  int64_t in_flight = 0;  // decisions admitted now
};

// Decides requests against the program currently published in a
// ProgramStore. Each RPC reads the store through a thread-local
// ProgramStore::Reader, so the read path takes no lock, and decodes into a
// thread-local Frame. A BatchDecide call decides every item against the same
// program. A DecideStream call acquires the program anew for each request,
// so a long stream follows reloads.
//
// The handlers use gRPC's callback API and run on gRPC's own threads, which
// poll the connections and decide in place. The synchronous API handed each
// call from a polling thread to a worker thread: against bench/loadgen with
// 32 calls in flight on 2 cores, it used 25 us of server CPU per Decide
// call where this uses 16 us. Deciding never blocks, but a batch of
// kMaxBatchRequests holds its thread for its whole evaluation.
//
// A call whose deadline has passed, or that the client cancelled, is not
// evaluated: it fails with DEADLINE_EXCEEDED or CANCELLED when its handler
// starts, and a batch checks again every kBatchDeadlineCheckInterval items.
// Calls beyond ServiceOptions::max_in_flight fail with RESOURCE_EXHAUSTED.
//
// Each decoded request, batch item and stream message is reported to the
// DecisionRecorder, when one is given, before the next one is decoded.
//
// Thread-safe: gRPC calls the handlers from many threads at once. Does not
// own the store or the recorder, which must outlive the service.
class VerdictService final : public v1::Verdict::CallbackService {
 public:
  // REQUIRES: options.max_in_flight >= 1. `recorder` may be null.
  explicit VerdictService(const ProgramStore& store,
                          const ServiceOptions& options = {},
                          const DecisionRecorder* recorder = nullptr);

  // Returns the outcome counts so far. Each count is exact once no call is
  // running; during calls they may be read at slightly different moments.
  ServiceStats stats() const;

  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* context,
                                   const v1::DecideRequest* request,
                                   v1::DecideResponse* response) override;

  grpc::ServerUnaryReactor* BatchDecide(
      grpc::CallbackServerContext* context,
      const v1::BatchDecideRequest* request,
      v1::BatchDecideResponse* response) override;

  // Decides each request as it arrives and writes its response before
  // reading the next, which keeps responses in request order.
  grpc::ServerBidiReactor<v1::DecideRequest, v1::DecideResponse>* DecideStream(
      grpc::CallbackServerContext* context) override;

 private:
  class StreamReactor;

  grpc::Status DecideUnary(const grpc::CallbackServerContext& context,
                           const v1::DecideRequest& request,
                           v1::DecideResponse& response);
  grpc::Status DecideBatch(const grpc::CallbackServerContext& context,
                           const v1::BatchDecideRequest& request,
                           v1::BatchDecideResponse& response);

  // Returns DEADLINE_EXCEEDED or CANCELLED, and counts it, when `context`'s
  // call is over; OK while the client still waits for the response.
  grpc::Status CheckCallActive(const grpc::CallbackServerContext& context);

  // Returns RESOURCE_EXHAUSTED for a call of `decisions` that the in-flight
  // limit rejected, and counts it.
  grpc::Status OverloadStatus(int64_t decisions);

  // Returns the program to serve, or null before the first publication.
  const Program* AcquireProgram() const;

  const ProgramStore& store_;
  const DecisionRecorder* const recorder_;  // may be null
  InFlightLimiter in_flight_;
  // Relaxed counters: they order nothing and are read only for stats().
  std::atomic<int64_t> decisions_{0};
  std::atomic<int64_t> rejected_in_flight_{0};
  std::atomic<int64_t> deadline_exceeded_{0};
  std::atomic<int64_t> cancelled_{0};
  // When OverloadStatus last logged, in absl::GetCurrentTimeNanos() units.
  std::atomic<int64_t> last_overload_warning_nanos_{0};
  ArenaMessageAllocator<v1::DecideRequest, v1::DecideResponse>
      decide_allocator_;
  ArenaMessageAllocator<v1::BatchDecideRequest, v1::BatchDecideResponse>
      batch_allocator_;
  // Distinguishes this service's thread-local readers from those of any
  // other service in the process, including one later built at the same
  // address.
  const uint64_t instance_id_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_VERDICT_SERVICE_H_
