// `verdict serve`: the gRPC policy decision server.

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "engine/absl_compat.h"
#include "server/log.h"
#include "server/server.h"

namespace verdict::cli {

const CommandSpec& ServeSpec() {
  static const CommandSpec* const spec = new CommandSpec{
      .name = "serve",
      .summary =
          "Serve policy decisions over gRPC (Verdict's API and Envoy's "
          "ext_authz) and, with --http-listen, the AuthZEN HTTP API, "
          "reloading policies when they change",
      .usage =
          "verdict serve --policies DIR [--data DIR] "
          "[--shadow-policies DIR] [--listen HOST:PORT] [--port-file FILE] "
          "[--http-listen HOST:PORT] "
          "[--http-port-file FILE] [--http-threads N] "
          "[--metrics-listen HOST:PORT] [--metrics-port-file FILE] "
          "[--max-in-flight N] "
          "[--max-message-mib N] [--grpc-memory-mib N] "
          "[--max-streams-per-connection N] [--decision-log FILE] "
          "[--decision-log-max-mib N] [--decision-log-files N] "
          "[--decision-log-queue N] [--decision-log-mask PATH]",
      .options =
          {
              {.name = "policies",
               .value_name = "DIR",
               .help = "directory of *.verdict policy files, read "
                       "recursively; reloaded when a file under it changes "
                       "and on SIGHUP",
               .required = true},
              {.name = "data",
               .value_name = "DIR",
               .help = "directory of entity data sets <name>.json that "
                       "`schema <group> from <name>` joins; reloaded like "
                       "the policies (default: no data)"},
              {.name = "shadow-policies",
               .value_name = "DIR",
               .help = "directory of a second policy set that decides every "
                       "request beside --policies and is never enforced; "
                       "differences are counted, logged and written to the "
                       "decision log; reloaded with --policies (default: "
                       "none)"},
              {.name = "listen",
               .value_name = "HOST:PORT",
               .help = "address to accept gRPC connections on; port 0 lets "
                       "the OS choose a free port (default: 127.0.0.1:8181)"},
              {.name = "port-file",
               .value_name = "FILE",
               .help = "file that receives the bound port number once the "
                       "server accepts requests, replaced atomically "
                       "(default: none)"},
              {.name = "http-listen",
               .value_name = "HOST:PORT",
               .help = "address to serve the AuthZEN Authorization API over "
                       "HTTP/JSON on, such as 127.0.0.1:8180; port 0 lets "
                       "the OS choose (default: off)"},
              {.name = "http-port-file",
               .value_name = "FILE",
               .help = "file that receives the bound HTTP port once the "
                       "HTTP listener accepts requests (default: none)"},
              {.name = "http-threads",
               .value_name = "N",
               .help = "threads serving HTTP requests; an open keep-alive "
                       "connection holds one, so this bounds the HTTP "
                       "connections served at once (default: 8)"},
              {.name = "metrics-listen",
               .value_name = "HOST:PORT",
               .help = "address to serve Prometheus metrics on, at GET "
                       "/metrics, such as 127.0.0.1:9180; port 0 lets the OS "
                       "choose. The --http-listen listener serves /metrics "
                       "too (default: off)"},
              {.name = "metrics-port-file",
               .value_name = "FILE",
               .help = "file that receives the bound metrics port once the "
                       "metrics listener accepts requests (default: none)"},
              {.name = "max-in-flight",
               .value_name = "N",
               .help = "maximum decisions evaluated at once over all calls, "
                       "counting a BatchDecide call by its items; calls "
                       "beyond it fail at once with RESOURCE_EXHAUSTED "
                       "(default: 20000, two full batches)"},
              {.name = "max-message-mib",
               .value_name = "N",
               .help = "largest request message accepted, in MiB; larger "
                       "ones fail with RESOURCE_EXHAUSTED (default: 16, "
                       "room for a 10000-item batch of 1.6 KiB requests)"},
              {.name = "grpc-memory-mib",
               .value_name = "N",
               .help = "memory quota of gRPC's transport buffers and call "
                       "state, in MiB; a soft bound that gRPC tries to keep, "
                       "not a cap on the process size (default: 256)"},
              {.name = "max-streams-per-connection",
               .value_name = "N",
               .help = "calls one client connection may have open at once "
                       "(HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); further "
                       "calls wait in the client (default: 100)"},
              {.name = "decision-log",
               .value_name = "FILE",
               .help = "file that receives one JSON line per decision, "
                       "created or appended to, and rotated by size "
                       "(default: off)"},
              {.name = "decision-log-max-mib",
               .value_name = "N",
               .help = "size in MiB past which the decision log is rotated "
                       "to FILE.1 (default: 100)"},
              {.name = "decision-log-files",
               .value_name = "N",
               .help = "rotated decision log files kept, FILE.1 (newest) to "
                       "FILE.N; 0 keeps none (default: 5)"},
              {.name = "decision-log-queue",
               .value_name = "N",
               .help = "decision log lines waiting to be written; beyond "
                       "it lines are dropped and counted (default: 65536)"},
              {.name = "decision-log-mask",
               .value_name = "PATH",
               .help = "attribute whose value the decision log replaces by "
                       "\"[masked]\", such as subject.email, or a prefix such "
                       "as context. for everything under it; repeatable or "
                       "comma-separated. Credential headers are always "
                       "masked (default: none)",
               .repeatable = true},
          },
      .positional_name = ""};
  return *spec;
}

namespace {

// Sets `out` to the integer value of option `name`, when given, after
// checking that it lies in [min, max].
absl::Status ParseBounded(const ParsedArgs& parsed, const std::string& name,
                          int64_t min, int64_t max, int64_t& out) {
  if (!parsed.Has(name)) return absl::OkStatus();
  const std::string text = parsed.Get(name);
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --", name, " '", text,
                     "'; expected an integer from ", min, " to ", max));
  }
  out = value;
  return absl::OkStatus();
}

absl::Status ParseLimits(const ParsedArgs& parsed,
                         server::ServerOptions& options) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t max_in_flight = options.service.max_in_flight;
  int64_t message_mib = options.grpc_limits.max_receive_message_bytes / kMiB;
  int64_t memory_mib =
      static_cast<int64_t>(options.grpc_limits.memory_bytes) / kMiB;
  int64_t streams = options.grpc_limits.max_streams_per_connection;
  // gRPC takes the message size as an int, so 2047 MiB is its maximum.
  for (absl::Status s :
       {ParseBounded(parsed, "max-in-flight", 1, 1'000'000'000, max_in_flight),
        ParseBounded(parsed, "max-message-mib", 1, 2047, message_mib),
        ParseBounded(parsed, "grpc-memory-mib", 1, 1 << 20, memory_mib),
        ParseBounded(parsed, "max-streams-per-connection", 1, 1 << 20,
                     streams)}) {
    if (!s.ok()) return s;
  }
  int64_t http_threads = options.http.threads;
  if (absl::Status s =
          ParseBounded(parsed, "http-threads", 1, 1024, http_threads);
      !s.ok()) {
    return s;
  }
  options.http.threads = static_cast<int>(http_threads);
  options.service.max_in_flight = max_in_flight;
  options.grpc_limits.max_receive_message_bytes =
      static_cast<int>(message_mib * kMiB);
  options.grpc_limits.memory_bytes = static_cast<size_t>(memory_mib * kMiB);
  options.grpc_limits.max_streams_per_connection = static_cast<int>(streams);
  return absl::OkStatus();
}

// Fills options.decision_log from the --decision-log flags.
absl::Status ParseDecisionLog(const ParsedArgs& parsed,
                              server::ServerOptions& options) {
  server::DecisionLogOptions& log = options.decision_log;
  log.path = parsed.Get("decision-log");
  if (parsed.Has("decision-log") && log.path.empty()) {
    return absl::InvalidArgumentError(
        "--decision-log needs a file path; leave the flag out to turn the "
        "decision log off");
  }
  if (log.path.empty()) {
    for (const char* name : {"decision-log-max-mib", "decision-log-files",
                             "decision-log-queue", "decision-log-mask"}) {
      if (parsed.Has(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name,
                         " needs --decision-log FILE, which turns the "
                         "decision log on"));
      }
    }
    return absl::OkStatus();
  }
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t max_mib = log.max_file_bytes / kMiB;
  int64_t files = log.max_files;
  int64_t queue = static_cast<int64_t>(log.queue_capacity);
  for (absl::Status s :
       {ParseBounded(parsed, "decision-log-max-mib", 1, 1 << 20, max_mib),
        ParseBounded(parsed, "decision-log-files", 0,
                     server::kMaxDecisionLogFiles, files),
        ParseBounded(parsed, "decision-log-queue", 1, 1 << 24, queue)}) {
    if (!s.ok()) return s;
  }
  log.max_file_bytes = max_mib * kMiB;
  log.max_files = static_cast<int>(files);
  log.queue_capacity = static_cast<size_t>(queue);
  if (parsed.Has("decision-log-mask")) {
    for (absl::string_view mask :
         absl::StrSplit(parsed.Get("decision-log-mask"), ',')) {
      if (absl::Status s = server::ValidateMaskPath(ToStd(mask)); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--decision-log-mask: ", s.message()));
      }
      log.masked_attributes.emplace_back(mask);
    }
  }
  return absl::OkStatus();
}

// Checks that option `name`, when given, is HOST:PORT: a host name, an
// IPv4 address or a bracketed IPv6 address, and a port from 0 to 65535.
// The server would otherwise find a malformed address only after compiling
// the policies, or, for gRPC, listen on a port it did not report.
absl::Status CheckListenAddress(const ParsedArgs& parsed,
                                const std::string& name) {
  if (!parsed.Has(name)) return absl::OkStatus();
  const std::string address = parsed.Get(name);
  const size_t colon = address.rfind(':');
  const std::string host =
      colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port =
      colon == std::string::npos ? "" : address.substr(colon + 1);
  int port_number = -1;
  const bool host_ok =
      !host.empty() &&
      (host.front() == '[' ? host.back() == ']' && host.size() > 2
                           : host.find(':') == std::string::npos);
  const bool port_ok =
      !port.empty() &&
      port.find_first_not_of("0123456789") == std::string::npos &&
      absl::SimpleAtoi(port, &port_number) && port_number <= 65535;
  if (host_ok && port_ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid --", name, " '", address,
      "'; expected HOST:PORT with a port from 0 to 65535, such as "
      "127.0.0.1:8181, [::1]:8181 or 0.0.0.0:8181 (port 0 lets the OS "
      "choose)"));
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  const CommandSpec& spec = ServeSpec();
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(spec, args);
  if (!parsed.ok()) {
    std::cerr << "verdict serve: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(spec);
    return 0;
  }
  if (!parsed->Has("policies")) {
    std::cerr << "verdict serve: missing --policies DIR, the directory of "
                 "policy files to serve\n";
    return 2;
  }

  server::ServerOptions options;
  options.policy_dir = parsed->Get("policies");
  options.data_dir = parsed->Get("data");
  options.shadow_policy_dir = parsed->Get("shadow-policies");
  options.listen_address = parsed->Get("listen", options.listen_address);
  options.port_file = parsed->Get("port-file");
  options.http.listen_address = parsed->Get("http-listen");
  options.http.port_file = parsed->Get("http-port-file");
  if (options.http.listen_address.empty() &&
      (parsed->Has("http-port-file") || parsed->Has("http-threads"))) {
    std::cerr << "verdict serve: --http-port-file and --http-threads need "
                 "--http-listen HOST:PORT, which turns the HTTP API on\n";
    return 2;
  }
  options.metrics.listen_address = parsed->Get("metrics-listen");
  options.metrics.port_file = parsed->Get("metrics-port-file");
  if (options.metrics.listen_address.empty() &&
      parsed->Has("metrics-port-file")) {
    std::cerr << "verdict serve: --metrics-port-file needs --metrics-listen "
                 "HOST:PORT, which turns the metrics listener on\n";
    return 2;
  }
  for (const char* name : {"listen", "http-listen", "metrics-listen"}) {
    if (absl::Status s = CheckListenAddress(*parsed, name); !s.ok()) {
      std::cerr << "verdict serve: " << s.message() << "\n";
      return 2;
    }
  }
  if (absl::Status s = ParseLimits(*parsed, options); !s.ok()) {
    std::cerr << "verdict serve: " << s.message() << "\n";
    return 2;
  }
  if (absl::Status s = ParseDecisionLog(*parsed, options); !s.ok()) {
    std::cerr << "verdict serve: " << s.message() << "\n";
    return 2;
  }

  // RunServer logs progress itself; a failure ends with one more ERROR line
  // that states why the server is not running.
  if (absl::Status status = server::RunServer(options); !status.ok()) {
    server::LogError(absl::StrCat("verdict serve failed: ", status.message()));
    return 1;
  }
  return 0;
}

}  // namespace verdict::cli
