// The gRPC service envoy.service.auth.v3.Authorization, which lets Envoy's
// ext_authz filter ask Verdict whether an HTTP request may proceed.

#ifndef VERDICT_SERVER_EXT_AUTHZ_SERVICE_H_
#define VERDICT_SERVER_EXT_AUTHZ_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "engine/snapshot.h"
#include "envoy/service/auth/v3/external_auth.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/decision_recorder.h"
#include "server/in_flight_limiter.h"
#include "server/verdict_service.h"

namespace verdict::server {

// Counts of Check outcomes since the service started.
struct ExtAuthzStats {
  int64_t permitted = 0;
  int64_t denied = 0;   // by policy, including obligation_invalid
  int64_t invalid = 0;  // requests that could not be decoded, also denied
  int64_t rejected_in_flight = 0;
};

// Decides Check calls against the program currently published in a
// ProgramStore, like VerdictService: a thread-local ProgramStore::Reader
// and Frame per gRPC thread, no lock on the read path. The request is
// mapped to attributes by DecodeCheckRequest (envoy_request.h) and the
// decision back by BuildCheckResponse (envoy_response.h). Unlike Decide,
// a Check allocates while decoding: the normalised path, the header and
// query sets and the response. Evaluation itself allocates nothing.
//
// Fails closed: a request that cannot be decoded (an unsafe path, a JWT
// claim of the wrong type) gets a denial with gRPC status OK, so Envoy
// denies it whatever its failure_mode_allow setting. Only conditions of
// the server itself are gRPC errors, which Envoy treats as it is
// configured to: UNAVAILABLE before the first policy set is loaded,
// DEADLINE_EXCEEDED or CANCELLED for a call that is over, and
// RESOURCE_EXHAUSTED beyond ServiceOptions::max_in_flight decisions. The
// limit is counted apart from VerdictService's, so a server running both
// admits up to twice the limit.
//
// Each decoded Check request is reported to the DecisionRecorder, when one
// is given.
//
// Thread-safe. Does not own the store or the recorder, which must outlive
// the service.
class ExtAuthzService final
    : public envoy::service::auth::v3::Authorization::CallbackService {
 public:
  // REQUIRES: options.max_in_flight >= 1. `recorder` may be null.
  explicit ExtAuthzService(const ProgramStore& store,
                           const ServiceOptions& options = {},
                           const DecisionRecorder* recorder = nullptr);

  ExtAuthzStats stats() const;

  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context,
      const envoy::service::auth::v3::CheckRequest* request,
      envoy::service::auth::v3::CheckResponse* response) override;

 private:
  grpc::Status CheckOne(const grpc::CallbackServerContext& context,
                        const envoy::service::auth::v3::CheckRequest& request,
                        envoy::service::auth::v3::CheckResponse& response);

  const ProgramStore& store_;
  const DecisionRecorder* const recorder_;  // may be null
  InFlightLimiter in_flight_;
  // Relaxed counters: they order nothing and are read only for stats().
  std::atomic<int64_t> permitted_{0};
  std::atomic<int64_t> denied_{0};
  std::atomic<int64_t> invalid_{0};
  std::atomic<int64_t> rejected_in_flight_{0};
  // Tells this service's thread-local readers apart from any other's.
  const uint64_t instance_id_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_EXT_AUTHZ_SERVICE_H_
