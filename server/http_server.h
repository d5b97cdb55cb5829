// The HTTP listener of `verdict serve`: a cpp-httplib server with request
// limits, JSON error bodies and X-Request-ID echoing. Endpoint groups (the
// AuthZEN API in authzen_http.h) register their routes on it, so further
// endpoints can share the same listener.

#ifndef VERDICT_SERVER_HTTP_SERVER_H_
#define VERDICT_SERVER_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace verdict::server {

// Default largest request body, in bytes: the same bound as a gRPC message
// (kMaxReceiveMessageBytes), room for a batch of kMaxBatchRequests items.
inline constexpr size_t kDefaultMaxHttpBodyBytes = size_t{16} << 20;

// Default number of threads that read HTTP requests, decide and respond. A
// keep-alive connection keeps its thread until it closes or stays idle
// for HttpOptions::keep_alive_timeout, so this also bounds the connections
// served at once; further connections wait in the accept queue.
inline constexpr int kDefaultHttpThreads = 8;

struct HttpOptions {
  // host:port to listen on; empty leaves the HTTP listener off. Port 0 lets
  // the OS choose.
  std::string listen_address;
  std::string port_file;  // receives the bound port when ready; may be empty
  int threads = kDefaultHttpThreads;
  // Larger bodies are rejected with 413 before they are read whole.
  size_t max_body_bytes = kDefaultMaxHttpBodyBytes;
  // How long a read or a write on a connection may block.
  absl::Duration io_timeout = absl::Seconds(5);
  // How long an idle keep-alive connection stays open.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Requests served on one connection before the server closes it.
  size_t keep_alive_max_requests = 1000;
};

// The outcome of an endpoint handler: an HTTP status and a JSON body.
struct JsonResponse {
  int status = 200;
  nlohmann::json body;
};

// Returns the error body every endpoint uses:
//   {"error": {"code": <status>, "message": "<message>"}}
JsonResponse ErrorResponse(int status, std::string message);

// An HTTP/1.1 server on one address. Register routes, then Start; handlers
// run on a pool of HttpOptions::threads threads.
//
// Every response carries the request's X-Request-ID header when it had
// one. A path with no route gets 404, a known path with another method
// 405 with an Allow header, a body over HttpOptions::max_body_bytes 413,
// all with an ErrorResponse body.
//
// Thread-safe once started: handlers run concurrently. Route registration
// is not thread-safe and must happen before Start.
class HttpServer {
 public:
  // Returns the response to a request; runs on a server thread.
  using JsonHandler = std::function<JsonResponse(const httplib::Request&)>;
  // Fills the response itself, for endpoints whose body is not JSON, such
  // as a Prometheus text page; runs on a server thread.
  using RawHandler =
      std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit HttpServer(HttpOptions options);
  HttpServer(const HttpServer&) = delete;  // owns a listening socket
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // stops the server

  // Registers `handler` for `method` ("GET" or "POST") on the exact path.
  void Route(const std::string& method, const std::string& path,
             JsonHandler handler);
  // Registers a handler that writes its own body and content type. The
  // response still gets the X-Request-ID header.
  void RouteRaw(const std::string& method, const std::string& path,
                RawHandler handler);

  // Binds the listen address and starts serving on a background thread.
  // Returns UNAVAILABLE when the address cannot be bound, INVALID_ARGUMENT
  // when it is not host:port.
  absl::Status Start();

  // Returns the bound port; valid after a successful Start.
  int port() const { return port_; }

  // Stops accepting connections, closes the open ones once their current
  // request has its response, and joins the threads. Idempotent.
  void Stop();

 private:
  void WriteJson(const httplib::Request& request, const JsonResponse& response,
                 httplib::Response& out) const;
  static void EchoRequestId(const httplib::Request& request,
                            httplib::Response& out);
  // Turns the library's bare 404, 405 and 413 responses into JSON errors.
  void HandleError(const httplib::Request& request,
                   httplib::Response& response) const;

  const HttpOptions options_;
  httplib::Server server_;
  // Path -> methods registered for it, such as "POST", for 405 and Allow.
  absl::flat_hash_map<std::string, std::string> allowed_methods_;
  int port_ = 0;
  std::thread listener_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_HTTP_SERVER_H_
