#include "server/http_server.h"

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace verdict::server {
namespace {

constexpr char kJsonContentType[] = "application/json";
constexpr char kRequestIdHeader[] = "X-Request-ID";

// Longest X-Request-ID echoed back; a longer one is cut, so a client
// cannot make every response carry a header of its choosing in full.
constexpr size_t kMaxRequestIdBytes = 256;

// Splits "host:port" or "[v6]:port" into its host and port.
absl::Status SplitHostPort(const std::string& address, std::string& host,
                           int& port) {
  const size_t colon = address.rfind(':');
  int32_t parsed = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &parsed) || parsed < 0 ||
      parsed > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid HTTP listen address '", address,
        "'; expected HOST:PORT such as 127.0.0.1:8180 or [::1]:0"));
  }
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  port = parsed;
  return absl::OkStatus();
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "payload too large";
    case 503:
      return "service unavailable";
    default:
      return "request failed";
  }
}

}  // namespace

JsonResponse ErrorResponse(int status, std::string message) {
  nlohmann::json error = {{"code", status}, {"message", std::move(message)}};
  return {status, {{"error", std::move(error)}}};
}

HttpServer::HttpServer(HttpOptions options) : options_(std::move(options)) {
  const int threads = options_.threads;
  server_.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server_.set_payload_max_length(options_.max_body_bytes);
  const int64_t io_micros = absl::ToInt64Microseconds(options_.io_timeout);
  server_.set_read_timeout(io_micros / 1'000'000, io_micros % 1'000'000);
  server_.set_write_timeout(io_micros / 1'000'000, io_micros % 1'000'000);
  server_.set_keep_alive_timeout(
      absl::ToInt64Seconds(options_.keep_alive_timeout));
  server_.set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_.set_tcp_nodelay(true);
  server_.set_error_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        HandleError(request, response);
      });
  // A handler that throws (std::bad_alloc, say) gets a 500 response rather
  // than ending the process.
  server_.set_exception_handler([this](const httplib::Request& request,
                                       httplib::Response& response,
                                       std::exception_ptr error) {
    std::string what = "an unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LogError(absl::StrCat("HTTP handler for ", request.method, " ",
                          request.path, " failed: ", what));
    WriteJson(request, ErrorResponse(500, "internal error"), response);
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& path,
                       JsonHandler handler) {
  RouteRaw(method, path,
           [this, handler = std::move(handler)](const httplib::Request& request,
                                                httplib::Response& response) {
             WriteJson(request, handler(request), response);
           });
}

void HttpServer::RouteRaw(const std::string& method, const std::string& path,
                          RawHandler handler) {
  std::string& allowed = allowed_methods_[path];
  absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", method);
  // cpp-httplib routes by regular expression; the paths here contain only
  // letters, '/', '.', '-' and '_', so escaping the dots makes them exact.
  std::string pattern;
  for (char c : path) {
    if (c == '.') pattern.push_back('\\');
    pattern.push_back(c);
  }
  auto serve = [handler = std::move(handler)](const httplib::Request& request,
                                              httplib::Response& response) {
    handler(request, response);
    EchoRequestId(request, response);
  };
  if (method == "GET") {
    server_.Get(pattern, std::move(serve));
  } else {
    server_.Post(pattern, std::move(serve));
  }
}

absl::Status HttpServer::Start() {
  std::string host;
  int port = 0;
  if (absl::Status s = SplitHostPort(options_.listen_address, host, port);
      !s.ok()) {
    return s;
  }
  const bool bound = port == 0 ? (port = server_.bind_to_any_port(host)) > 0
                               : server_.bind_to_port(host, port);
  if (!bound) {
    return absl::UnavailableError(absl::StrCat(
        "failed to listen for HTTP on ", options_.listen_address,
        ": the address is malformed, not one of this host, or already in "
        "use; pass --http-listen HOST:PORT with a free port, or port 0 to "
        "pick one"));
  }
  port_ = port;
  listener_ = std::thread([this] {
    if (!server_.listen_after_bind()) {
      LogError("the HTTP listener stopped after an accept error");
    }
  });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!listener_.joinable()) return;
  server_.stop();
  listener_.join();
}

void HttpServer::WriteJson(const httplib::Request& request,
                           const JsonResponse& response,
                           httplib::Response& out) const {
  out.status = response.status;
  // Replacing invalid UTF-8 keeps dump() from throwing; request strings
  // were validated when parsed, so only a cut error excerpt can need it.
  out.set_content(response.body.dump(-1, ' ', false,
                                     nlohmann::json::error_handler_t::replace),
                  kJsonContentType);
  if (response.status == 405) {
    auto it = allowed_methods_.find(request.path);
    if (it != allowed_methods_.end()) out.set_header("Allow", it->second);
  }
  EchoRequestId(request, out);
}

void HttpServer::EchoRequestId(const httplib::Request& request,
                               httplib::Response& out) {
  const std::string id = request.get_header_value(kRequestIdHeader);
  if (!id.empty() && !out.has_header(kRequestIdHeader)) {
    out.set_header(kRequestIdHeader, id.substr(0, kMaxRequestIdBytes));
  }
}

void HttpServer::HandleError(const httplib::Request& request,
                             httplib::Response& response) const {
  // Responses that a handler built already carry their JSON body.
  if (!response.body.empty()) return;
  if (response.status == 404) {
    auto it = allowed_methods_.find(request.path);
    if (it != allowed_methods_.end()) {
      WriteJson(
          request,
          ErrorResponse(405, absl::StrCat(request.method,
                                          " is not "
                                          "allowed on ",
                                          request.path, "; use ", it->second)),
          response);
      return;
    }
    WriteJson(request,
              ErrorResponse(404, absl::StrCat("no endpoint at ", request.path)),
              response);
    return;
  }
  // cpp-httplib 0.11 parses a form-encoded body itself and rejects one
  // over CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH with 413, whatever
  // max_body_bytes allows. curl -d sends that content type.
  if (response.status == 413 &&
      request.get_header_value("Content-Type")
              .rfind("application/x-www-form-urlencoded", 0) == 0) {
    WriteJson(
        request,
        ErrorResponse(
            413, absl::StrCat("a form-encoded request body is limited to ",
                              CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH,
                              " bytes; send the JSON body with Content-Type: "
                              "application/json")),
        response);
    return;
  }
  if (response.status == 413) {
    WriteJson(request,
              ErrorResponse(413, absl::StrCat("request body exceeds the limit "
                                              "of ",
                                              options_.max_body_bytes,
                                              " bytes; split a batch into "
                                              "smaller ones")),
              response);
    return;
  }
  WriteJson(request,
            ErrorResponse(response.status, ReasonPhrase(response.status)),
            response);
}

}  // namespace verdict::server
