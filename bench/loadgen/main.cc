// loadgen: drives a running `verdict serve` over gRPC on loopback and
// reports decisions per second, latency percentiles and errors.

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/loadgen/driver.h"
#include "bench/loadgen/request_source.h"
#include "server/verdict_service.h"

namespace verdict::loadgen {
namespace {

constexpr char kUsage[] = R"(Usage: loadgen --target HOST:PORT [options]

Sends verdict.v1.Verdict calls to a server on this host and reports
decisions per second, latency percentiles and errors by status code.
Latency is measured from the intended send time of each message.

Options:
  --target HOST:PORT     server address; HOST must be 127.0.0.1 (or another
                         127.x.x.x address), [::1] or localhost
  --rpc KIND             decide (unary Decide), batch (BatchDecide) or
                         stream (DecideStream); default decide
  --concurrency N        closed loop: messages in flight at all times;
                         default 16
  --rate R               open loop instead: R decisions per second on a
                         fixed schedule (a batch run sends R / batch calls)
  --batch K              requests per BatchDecide call, 1 to 10000;
                         default 100
  --streams S            DecideStream calls per worker; default 1
  --workers W            client threads, each with its own connection;
                         default 1
  --requests PATH        JSON Lines file of AuthZEN requests, or a directory
                         of *.json requests; default the Todo example's
                         requests
  --duration SECONDS     measured time, after warmup; default 10, max 3600
  --warmup SECONDS       time sent but not measured, first; default 1
  --count N              stop after N measured decisions; default 0, no
                         limit
  --timeout-ms MS        deadline of each call; default 10000
  --format FORMAT        text (default) or row: one tab-separated line of
                         label, rpc, load, decisions/s, p50, p90, p99,
                         p99.9 and max in microseconds, errors, send lag
  --label NAME           first field of the row format; default the rpc
  --help                 print this help and exit

Exits 0 when every call succeeded and at least one decision was measured,
1 when any call failed or nothing was decided, 2 for invalid options.
)";

struct Flags {
  std::map<std::string, std::string> values;
};

// Reads `--name value` and `--name=value` pairs; every option takes a value.
absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  static const char* const kNames[] = {
      "target",   "rpc",    "concurrency", "rate",       "batch",
      "streams",  "workers", "requests",   "duration",   "warmup",
      "count",    "timeout-ms", "format",  "label"};
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", word, "'; see --help"));
    }
    std::string name = word.substr(2);
    std::string value;
    if (size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " needs a value; see --help"));
    }
    if (std::find(std::begin(kNames), std::end(kNames), name) ==
        std::end(kNames)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name, "; see --help"));
    }
    flags.values[name] = value;
  }
  return flags;
}

// Returns OK when `target` is HOST:PORT with a loopback HOST.
absl::Status CheckLoopbackTarget(const std::string& target) {
  const size_t colon = target.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(target.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --target '", target,
        "'; expected HOST:PORT such as 127.0.0.1:8181"));
  }
  const std::string host = target.substr(0, colon);
  in_addr ipv4{};
  const bool loopback =
      host == "localhost" || host == "[::1]" ||
      (inet_pton(AF_INET, host.c_str(), &ipv4) == 1 &&
       (ntohl(ipv4.s_addr) >> 24) == 127);
  if (!loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--target host '", host,
        "' is not a loopback address; loadgen only sends to 127.0.0.1 (or "
        "another 127.x.x.x address), [::1] or localhost"));
  }
  return absl::OkStatus();
}

absl::Status ParseInt(const Flags& flags, const std::string& name, int64_t min,
                      int64_t max, int64_t& out) {
  auto it = flags.values.find(name);
  if (it == flags.values.end()) return absl::OkStatus();
  if (!absl::SimpleAtoi(it->second, &out) || out < min || out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --", name, " '", it->second,
                     "'; expected an integer from ", min, " to ", max));
  }
  return absl::OkStatus();
}

absl::Status ParseSeconds(const Flags& flags, const std::string& name,
                          double min, double max, absl::Duration& out) {
  auto it = flags.values.find(name);
  if (it == flags.values.end()) return absl::OkStatus();
  double seconds = 0;
  if (!absl::SimpleAtod(it->second, &seconds) || !std::isfinite(seconds) ||
      seconds < min || seconds > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --", name, " '", it->second,
                     "'; expected seconds from ", min, " to ", max));
  }
  out = absl::Seconds(seconds);
  return absl::OkStatus();
}

struct Config {
  LoadOptions load;
  std::string requests = VERDICT_SOURCE_DIR "/examples/authzen-todo/requests";
  std::string format = "text";
  std::string label;
};

absl::StatusOr<Config> ParseConfig(const Flags& flags) {
  Config config;
  LoadOptions& load = config.load;
  auto get = [&](const std::string& name, const std::string& fallback) {
    auto it = flags.values.find(name);
    return it == flags.values.end() ? fallback : it->second;
  };
  load.target = get("target", "");
  if (load.target.empty()) {
    return absl::InvalidArgumentError(
        "missing --target HOST:PORT, the address of a running verdict serve");
  }
  if (absl::Status s = CheckLoopbackTarget(load.target); !s.ok()) return s;

  const std::string rpc = get("rpc", "decide");
  if (rpc == "decide") {
    load.rpc = RpcKind::kDecide;
  } else if (rpc == "batch") {
    load.rpc = RpcKind::kBatchDecide;
  } else if (rpc == "stream") {
    load.rpc = RpcKind::kStream;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --rpc '", rpc, "'; expected decide, batch or stream"));
  }

  int64_t concurrency = load.concurrency, batch = load.batch,
          streams = load.streams, workers = load.workers, count = load.count,
          timeout_ms = absl::ToInt64Milliseconds(load.timeout);
  for (absl::Status s :
       {ParseInt(flags, "concurrency", 1, 100'000, concurrency),
        ParseInt(flags, "batch", 1,
                 static_cast<int64_t>(server::kMaxBatchRequests), batch),
        ParseInt(flags, "streams", 1, 1'000, streams),
        ParseInt(flags, "workers", 1, 64, workers),
        ParseInt(flags, "count", 0, int64_t{1} << 50, count),
        ParseInt(flags, "timeout-ms", 1, 3'600'000, timeout_ms),
        ParseSeconds(flags, "duration", 0.001, 3600, load.duration),
        ParseSeconds(flags, "warmup", 0, 600, load.warmup)}) {
    if (!s.ok()) return s;
  }
  load.concurrency = static_cast<int>(concurrency);
  load.batch = static_cast<int>(batch);
  load.streams = static_cast<int>(streams);
  load.workers = static_cast<int>(workers);
  load.count = count;
  load.timeout = absl::Milliseconds(timeout_ms);
  if (load.rpc == RpcKind::kDecide || load.rpc == RpcKind::kStream) {
    load.batch = 1;
  }

  if (flags.values.contains("rate")) {
    const std::string& text = flags.values.at("rate");
    if (!absl::SimpleAtod(text, &load.rate) || !(load.rate >= 1) ||
        load.rate > 1e8) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --rate '", text,
          "'; expected decisions per second from 1 to 100000000"));
    }
  }
  if (load.rpc == RpcKind::kStream && load.rate == 0 &&
      load.concurrency < load.streams * load.workers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--concurrency ", load.concurrency, " is less than the ",
        load.streams * load.workers,
        " streams; give each stream at least one message in flight"));
  }
  if (load.concurrency < load.workers && load.rate == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--concurrency ", load.concurrency, " is less than --workers ",
        load.workers, "; every worker needs a message in flight"));
  }

  config.requests = get("requests", config.requests);
  config.format = get("format", config.format);
  if (config.format != "text" && config.format != "row") {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --format '", config.format, "'; expected text or row"));
  }
  config.label = get("label", rpc);
  return config;
}

std::string RpcName(RpcKind rpc) {
  switch (rpc) {
    case RpcKind::kDecide:
      return "Decide";
    case RpcKind::kBatchDecide:
      return "BatchDecide";
    case RpcKind::kStream:
      return "DecideStream";
  }
  return "";
}

std::string LoadDescription(const LoadOptions& load) {
  std::string text =
      load.rate > 0
          ? absl::StrFormat("open loop %.0f decisions/s", load.rate)
          : absl::StrCat("closed loop ", load.concurrency, " in flight");
  if (load.rpc == RpcKind::kBatchDecide) {
    absl::StrAppend(&text, ", batch ", load.batch);
  }
  if (load.rpc == RpcKind::kStream) {
    absl::StrAppend(&text, ", ", load.streams * load.workers, " streams");
  }
  if (load.workers > 1) absl::StrAppend(&text, ", ", load.workers, " workers");
  return text;
}

double Micros(int64_t nanos) { return static_cast<double>(nanos) / 1e3; }

std::string ErrorSummary(const LoadResult& result) {
  if (result.errors.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [code, count] : result.errors) {
    parts.push_back(absl::StrCat(code, ": ", count));
  }
  return absl::StrJoin(parts, ", ");
}

void PrintReport(const Config& config, size_t request_count,
                 const LoadResult& result) {
  const LoadOptions& load = config.load;
  const double seconds = absl::ToDoubleSeconds(result.elapsed);
  const double rate =
      seconds > 0 ? static_cast<double>(result.decisions) / seconds : 0;
  const LatencyHistogram& latency = result.latency;
  if (config.format == "row") {
    absl::PrintF("%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%.1f\n",
                 config.label, RpcName(load.rpc), LoadDescription(load), rate,
                 Micros(latency.Percentile(0.5)),
                 Micros(latency.Percentile(0.9)),
                 Micros(latency.Percentile(0.99)),
                 Micros(latency.Percentile(0.999)), Micros(latency.max()),
                 ErrorSummary(result),
                 absl::ToDoubleMicroseconds(result.max_send_lag));
    return;
  }
  absl::PrintF("target      %s, %s, %s\n", load.target, RpcName(load.rpc),
               LoadDescription(load));
  absl::PrintF("requests    %d distinct, from %s\n", request_count,
               config.requests);
  absl::PrintF("measured    %.2f s after %.2f s warmup\n", seconds,
               absl::ToDoubleSeconds(load.warmup));
  absl::PrintF("decisions   %d, %.0f decisions/s\n", result.decisions, rate);
  if (load.rpc != RpcKind::kDecide) {
    absl::PrintF("messages    %d, %.0f/s\n", result.messages,
                 seconds > 0 ? static_cast<double>(result.messages) / seconds
                             : 0);
  }
  absl::PrintF(
      "latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
      Micros(latency.Percentile(0.5)), Micros(latency.Percentile(0.9)),
      Micros(latency.Percentile(0.99)), Micros(latency.Percentile(0.999)),
      Micros(latency.max()));
  if (load.rate > 0) {
    absl::PrintF("send lag    max %.1f us behind schedule\n",
                 absl::ToDoubleMicroseconds(result.max_send_lag));
  }
  absl::PrintF("errors      %s\n", ErrorSummary(result));
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::cout << kUsage;
      return 0;
    }
  }
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  absl::StatusOr<Config> config =
      flags.ok() ? ParseConfig(*flags) : flags.status();
  if (!config.ok()) {
    std::cerr << "loadgen: " << config.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<v1::DecideRequest>> requests =
      ReadRequests(config->requests);
  if (!requests.ok()) {
    std::cerr << "loadgen: " << requests.status().message() << "\n";
    return 2;
  }

  const LoadResult result = RunLoad(config->load, *requests);
  PrintReport(*config, requests->size(), result);
  if (!result.errors.empty()) {
    std::cerr << "loadgen: some calls failed (" << ErrorSummary(result)
              << "); check the requests and the server log\n";
    return 1;
  }
  if (result.decisions == 0) {
    std::cerr << "loadgen: no decision was measured; check that verdict "
                 "serve is running at "
              << config->load.target << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace verdict::loadgen

int main(int argc, char** argv) { return verdict::loadgen::Main(argc, argv); }
