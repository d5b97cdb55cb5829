// The `verdict serve` process: gRPC server, policy loading, hot reload and
// graceful stop.

#ifndef VERDICT_SERVER_SERVER_H_
#define VERDICT_SERVER_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/decision_log.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/verdict_service.h"

namespace verdict::server {

// Default largest request message the server accepts, in bytes: room for a
// full batch of kMaxBatchRequests requests of about 1.6 KiB each. A request
// of the Todo example encodes to under 200 bytes.
inline constexpr int kMaxReceiveMessageBytes = 16 << 20;

// Default memory bound of the server's grpc::ResourceQuota: 16 messages of
// the default maximum size. gRPC "will attempt to keep" the memory it
// accounts for, its transport buffers and per-call state, below this bound
// (grpcpp/resource_quota.h, gRPC 1.51). It is a soft bound on gRPC's share,
// not a cap on the process's resident size.
inline constexpr size_t kDefaultGrpcMemoryBytes = size_t{256} << 20;

// Threads gRPC may create for services that use the synchronous API (server
// reflection). The callback handlers of the Verdict and health services run
// on gRPC's own event threads, which this quota does not bound in gRPC 1.51.
inline constexpr int kMaxGrpcThreads = 16;

// Default number of calls one HTTP/2 connection may have open at once, sent
// to clients as SETTINGS_MAX_CONCURRENT_STREAMS. The HTTP/2 initial value is
// unlimited. A gRPC client queues its further calls until one ends, and
// gRPC 1.51 treats a stream opened past the limit as an error of the whole
// connection, so one connection cannot make the server hold more calls.
inline constexpr int kDefaultMaxStreamsPerConnection = 100;

// Bounds on what a flood of connections and calls can make the gRPC server
// hold.
struct GrpcLimits {
  int max_receive_message_bytes = kMaxReceiveMessageBytes;
  size_t memory_bytes = kDefaultGrpcMemoryBytes;
  int max_threads = kMaxGrpcThreads;
  int max_streams_per_connection = kDefaultMaxStreamsPerConnection;
};

struct ServerOptions {
  std::string policy_dir;  // compiled recursively: every *.verdict file
  std::string data_dir;    // entity data sets; empty for none
  // Policies of the shadow set, decided beside the enforced set and never
  // enforced (ShadowPolicies); empty for none.
  std::string shadow_policy_dir;
  std::string listen_address = "127.0.0.1:8181";  // host:port; port 0 lets
                                                  // the OS choose
  std::string port_file;  // receives the bound port when ready; may be empty
  // How long a stop waits for in-flight RPCs before cancelling them.
  // NOTE: with gRPC 1.51 a stop can take this long even with no RPC in
  // flight while an idle client keeps its connection open, as gRPC waits for
  // the client to acknowledge the connection's shutdown (observed, not
  // measured in detail).
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Quiet time after the last file change before a reload, so that an
  // editor's burst of writes reloads once.
  absl::Duration reload_debounce = absl::Milliseconds(200);
  ServiceOptions service;  // the in-flight limit
  // The AuthZEN HTTP/JSON listener; off while http.listen_address is empty.
  HttpOptions http;
  // The Prometheus listener; off while metrics.listen_address is empty.
  MetricsOptions metrics;
  GrpcLimits grpc_limits;
  // The decision log; off while decision_log.path is empty.
  DecisionLogOptions decision_log;
};

// Builds and starts a gRPC server for `service` on `listen_address`, with
// the default health service (status NOT_SERVING until the caller sets it),
// server reflection, and the message size and resource quota of `limits`. Two
// servers never share a port: SO_REUSEPORT is off. Stores the bound port in
// `bound_port`. Returns UNAVAILABLE when the address cannot be bound.
// Thread-safe; the caller owns the server, and `service` must outlive it.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen_address, grpc::Service& service,
    const GrpcLimits& limits, int& bound_port);

// StartGrpcServer serving every one of `services` on the one port.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen_address,
    const std::vector<grpc::Service*>& services, const GrpcLimits& limits,
    int& bound_port);

// Returns `listen_address` with its port replaced by `port`:
// ("127.0.0.1:0", 40123) -> "127.0.0.1:40123", ("[::1]:0", 7) -> "[::1]:7".
std::string BoundAddress(const std::string& listen_address, int port);

// Writes `port` and a newline to `path` through a temporary file and a
// rename, so a reader never sees a partial file.
absl::Status WritePortFile(const std::string& path, int port);

// Runs the server until SIGTERM or SIGINT: compiles the initial policy set,
// listens, marks the health service SERVING, writes the port file, then
// reloads on SIGHUP and on changes under the policy and data directories.
// On stop it refuses new RPCs, lets in-flight ones finish within
// `shutdown_grace`, and returns OK.
//
// Returns an error, without serving, when the initial policy set does not
// compile, the address cannot be bound, or the port file cannot be written.
// Blocks SIGHUP, SIGINT and SIGTERM in the calling thread, so call it before
// starting other threads. Call once at a time per process.
absl::Status RunServer(const ServerOptions& options);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_SERVER_H_
