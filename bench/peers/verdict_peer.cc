// Verdict's side of the peer comparison. Compiles the generated policy
// directory, checks the decision of every workload request against its
// expected decision, then times single decisions over repeated passes of
// the same request list. A timed decision is what an in-process caller
// pays: decoding the AuthZEN JSON request text (DecodeJsonRequest) plus
// evaluating it. Prints one JSON result line in the shape the Node.js and
// Go peers print.
//
// Usage: verdict_peer --workload DIR/workload.json --policies
// DIR/verdict/policies
//            [--data DIR] [--time-limit SECONDS] [--max-decisions N]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/workload/workload.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Receives every timed decision so that evaluation stays observable.
volatile bool benchmark_sink_ = false;

// Fixed request time, so that every run decodes the same request.
constexpr int64_t kNowUnixSeconds = 1'767'225'600;  // 2026-01-01T00:00:00Z

struct Options {
  std::string workload;
  std::string policies;
  std::string data;
  double time_limit_seconds = 20;
  int64_t max_decisions = 200'000;
};

struct WorkloadRequest {
  std::string json;  // AuthZEN request text
  bool expected = false;
  Json source;  // the workload.json entry, for error messages
};

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    absl::string_view flag = argv[i];
    if (i + 1 >= argc)
      return absl::InvalidArgumentError(
          absl::StrCat("missing value after ", flag));
    absl::string_view value = argv[i + 1];
    if (flag == "--workload") {
      options.workload = std::string(value);
    } else if (flag == "--policies") {
      options.policies = std::string(value);
    } else if (flag == "--data") {
      options.data = std::string(value);
    } else if (flag == "--time-limit") {
      if (!absl::SimpleAtod(value, &options.time_limit_seconds) ||
          !(options.time_limit_seconds > 0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid --time-limit ", value, ": expected seconds > 0"));
      }
    } else if (flag == "--max-decisions") {
      if (!absl::SimpleAtoi(value, &options.max_decisions) ||
          options.max_decisions < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid --max-decisions ", value, ": expected an integer >= 1"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", flag,
                       "; options are --workload, --policies, --data, "
                       "--time-limit, --max-decisions"));
    }
  }
  if (options.workload.empty() || options.policies.empty()) {
    return absl::InvalidArgumentError(
        "missing --workload PATH or --policies DIR");
  }
  return options;
}

// Returns the workload.json entry as the generator's request, whose
// workload::ZeroTrustRequestJson is the AuthZEN form that the generated
// policies read. Throws Json::exception when a field is missing or has the
// wrong type.
workload::ZeroTrustRequest FromWorkloadJson(const Json& entry) {
  workload::ZeroTrustRequest request;
  const Json& subject = entry.at("subject");
  request.subject_id = subject.at("id").get<std::string>();
  request.role = subject.at("role").get<std::string>();
  request.subject_tenant = subject.at("tenant").get<std::string>();
  if (!entry.at("actor").is_null()) {
    request.actor_id = entry["actor"].at("id").get<std::string>();
  }
  request.scopes = entry.at("scopes").get<std::vector<std::string>>();
  if (!entry.at("tee").is_null()) {
    request.tee =
        workload::TeeClaims{.debug = entry["tee"].at("debug").get<bool>(),
                            .tcb_ok = entry["tee"].at("tcb_ok").get<bool>()};
  }
  request.action = entry.at("action").get<std::string>();
  const Json& resource = entry.at("resource");
  request.resource_id = resource.at("id").get<std::string>();
  request.resource_type = resource.at("type").get<std::string>();
  request.resource_tenant = resource.at("tenant").get<std::string>();
  request.expected = entry.at("expected").get<bool>();
  return request;
}

absl::StatusOr<std::vector<WorkloadRequest>> LoadRequests(
    const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat("failed to read workload ", path));
  Json workload = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (workload.is_discarded() || !workload.contains("requests") ||
      !workload["requests"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid workload ", path,
                     ": expected a JSON object with a \"requests\" array"));
  }
  std::vector<WorkloadRequest> requests;
  for (size_t i = 0; i < workload["requests"].size(); ++i) {
    const Json& entry = workload["requests"][i];
    try {
      workload::ZeroTrustRequest request = FromWorkloadJson(entry);
      requests.push_back(
          {workload::ZeroTrustRequestJson(request), request.expected, entry});
    } catch (const Json::exception& error) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid workload ", path, ": requests[", i, "]: ", error.what()));
    }
  }
  return requests;
}

const char* DecisionName(bool permit) { return permit ? "PERMIT" : "DENY"; }

// Decodes and evaluates one request. Fails when decoding fails or a policy
// errors, because either means that the request does not fit the schema.
absl::StatusOr<bool> Decide(const Program& program, const std::string& json,
                            Frame& frame) {
  absl::Status decoded =
      DecodeJsonRequest(program, json, kNowUnixSeconds, frame);
  if (!decoded.ok()) return decoded;
  Decision decision = Evaluate(program, frame);
  if (!decision.errors.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        decision.errors.size(), " policies errored on the request"));
  }
  return decision.permit;
}

// Returns an error naming the first request whose decision differs from
// its expected decision or that fails to decode or evaluate.
absl::Status CheckDecisions(const Program& program,
                            const std::vector<WorkloadRequest>& requests,
                            Frame& frame) {
  for (size_t i = 0; i < requests.size(); ++i) {
    const WorkloadRequest& request = requests[i];
    absl::StatusOr<bool> permit = Decide(program, request.json, frame);
    if (!permit.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("verdict failed on request ", i, ": ",
                       permit.status().message(), "\nrequest: ", request.json));
    }
    if (*permit != request.expected) {
      return absl::FailedPreconditionError(absl::StrCat(
          "verdict disagrees on request ", i, ": decided ",
          DecisionName(*permit), ", expected ", DecisionName(request.expected),
          "\nrequest: ", request.source.dump()));
    }
  }
  return absl::OkStatus();
}

// Per-decision times in nanoseconds: decoding plus evaluation, and the
// evaluation part alone.
struct Samples {
  std::vector<int64_t> decision;
  std::vector<int64_t> evaluation;
};

int64_t Nanoseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

// Times single decisions over repeated passes of `requests` until
// `time_limit_seconds` have passed or `max_decisions` were timed.
absl::StatusOr<Samples> Measure(const Program& program,
                                const std::vector<WorkloadRequest>& requests,
                                double time_limit_seconds,
                                int64_t max_decisions, Frame& frame) {
  Samples samples;
  samples.decision.reserve(max_decisions);
  samples.evaluation.reserve(max_decisions);
  Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(time_limit_seconds));
  while (!requests.empty()) {
    for (const WorkloadRequest& request : requests) {
      Clock::time_point begin = Clock::now();
      absl::Status decoded =
          DecodeJsonRequest(program, request.json, kNowUnixSeconds, frame);
      Clock::time_point decoded_at = Clock::now();
      Decision decision = Evaluate(program, frame);
      Clock::time_point end = Clock::now();
      if (!decoded.ok()) {
        return absl::InternalError(absl::StrCat(
            "verdict failed to decode a checked request: ", decoded.message()));
      }
      benchmark_sink_ = decision.permit;
      samples.decision.push_back(Nanoseconds(end - begin));
      samples.evaluation.push_back(Nanoseconds(end - decoded_at));
      if (static_cast<int64_t>(samples.decision.size()) >= max_decisions ||
          end >= deadline) {
        return samples;
      }
    }
  }
  return samples;
}

// Returns the nearest-rank `q` quantile of `samples`, sorting them.
// REQUIRES: `samples` is not empty.
int64_t Quantile(std::vector<int64_t>& samples, double q) {
  std::sort(samples.begin(), samples.end());
  size_t index = static_cast<size_t>(std::ceil(q * samples.size()));
  return samples[std::clamp<size_t>(index, 1, samples.size()) - 1];
}

int Run(int argc, char** argv) {
  absl::StatusOr<Options> options = ParseOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << options.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<WorkloadRequest>> requests =
      LoadRequests(options->workload);
  if (!requests.ok()) {
    std::cerr << requests.status().message() << "\n";
    return 1;
  }

  Clock::time_point setup_start = Clock::now();
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory(options->policies, options->data, {});
  if (!compilation.ok()) {
    std::cerr << compilation.status().message() << "\n";
    return 1;
  }
  if (compilation->program == nullptr) {
    std::cerr << "the policies in " << options->policies << " do not compile:\n"
              << compilation->diagnostics;
    return 1;
  }
  double setup_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - setup_start)
          .count();
  const Program& program = *compilation->program;

  Frame frame;
  absl::Status checked = CheckDecisions(program, *requests, frame);
  if (!checked.ok()) {
    std::cerr << checked.message() << "\n";
    return 1;
  }

  absl::StatusOr<Samples> samples =
      Measure(program, *requests, options->time_limit_seconds,
              options->max_decisions, frame);
  if (!samples.ok()) {
    std::cerr << samples.status().message() << "\n";
    return 1;
  }
  if (samples->decision.empty()) {
    std::cerr << "the workload " << options->workload << " has no requests\n";
    return 1;
  }

  int64_t total = 0;
  for (int64_t sample : samples->decision) total += sample;
  Json result = {
      {"engine", "verdict"},
      {"version", VERDICT_VERSION},
      {"size", program.policies.size()},
      {"requests", requests->size()},
      {"checked", requests->size()},
      {"timed", samples->decision.size()},
      {"setup_ms", std::round(setup_ms * 10) / 10},
      {"median_ns", Quantile(samples->decision, 0.5)},
      {"p99_ns", Quantile(samples->decision, 0.99)},
      {"mean_ns", total / static_cast<int64_t>(samples->decision.size())},
      {"evaluate_median_ns", Quantile(samples->evaluation, 0.5)},
      {"evaluate_p99_ns", Quantile(samples->evaluation, 0.99)}};
  std::cout << result.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace verdict

int main(int argc, char** argv) { return verdict::Run(argc, argv); }
