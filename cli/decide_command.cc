// `verdict decide`: a client that sends JSON requests to `verdict serve`.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "server/json_convert.h"
#include "server/verdict_service.h"
#include "verdict/v1/verdict.grpc.pb.h"

namespace verdict::cli {
namespace {

constexpr int64_t kDefaultTimeoutMillis = 5'000;
constexpr int64_t kMaxTimeoutMillis = 3'600'000;
// Largest response the client accepts, in bytes: a full batch with long
// reasons and error messages.
constexpr int kMaxResponseBytes = 64 << 20;

// Prints a failure and returns the exit code for a command that ran and
// found a problem.
int Fail(const std::string& message) {
  std::cerr << "verdict decide: " << message << "\n";
  return 1;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin),
                       std::istreambuf_iterator<char>());
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("failed to open request file ", path,
                     "; pass an existing file, or - for standard input"));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Parses one JSON request; `where` names it in errors ("req.json line 3").
absl::StatusOr<v1::DecideRequest> ParseRequest(const std::string& text,
                                               const std::string& where) {
  nlohmann::json document =
      nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": invalid JSON; expected one request object"));
  }
  absl::StatusOr<v1::DecideRequest> request =
      server::JsonToDecideRequest(document);
  if (!request.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", request.status().message()));
  }
  return request;
}

// Splits `text` into one request per non-blank line.
absl::StatusOr<std::vector<v1::DecideRequest>> ParseBatch(
    const std::string& text, const std::string& source) {
  std::vector<v1::DecideRequest> requests;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    absl::StatusOr<v1::DecideRequest> request =
        ParseRequest(line, absl::StrCat(source, " line ", number));
    if (!request.ok()) return request.status();
    requests.push_back(*std::move(request));
  }
  return requests;
}

std::string RpcFailure(const char* method, const std::string& server,
                       const grpc::Status& status) {
  const absl::StatusCode code =
      static_cast<absl::StatusCode>(static_cast<int>(status.error_code()));
  return absl::StrCat(method, " on ", server,
                      " failed: ", absl::StatusCodeToString(code), ": ",
                      status.error_message());
}

class DecideClient {
 public:
  DecideClient(const std::string& server, int64_t timeout_millis)
      : server_(server), timeout_(std::chrono::milliseconds(timeout_millis)) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(kMaxResponseBytes);
    stub_ = v1::Verdict::NewStub(grpc::CreateCustomChannel(
        server, grpc::InsecureChannelCredentials(), arguments));
  }

  // Sends one request and prints its decision. Returns the exit code.
  int DecideOne(const v1::DecideRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    v1::DecideResponse response;
    grpc::Status status = stub_->Decide(&context, request, &response);
    if (!status.ok()) return Fail(RpcFailure("Decide", server_, status));
    std::cout << server::DecideResponseToJson(response).dump() << "\n";
    return 0;
  }

  // Sends the requests in batches of at most kMaxBatchRequests and prints
  // one line per request. Returns the exit code: 1 when an RPC or any item
  // failed.
  int DecideBatch(const std::vector<v1::DecideRequest>& requests) {
    size_t failed_items = 0;
    for (size_t begin = 0; begin < requests.size();
         begin += server::kMaxBatchRequests) {
      const size_t end =
          std::min(requests.size(), begin + server::kMaxBatchRequests);
      v1::BatchDecideRequest batch;
      for (size_t i = begin; i < end; ++i) *batch.add_requests() = requests[i];

      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + timeout_);
      v1::BatchDecideResponse response;
      grpc::Status status = stub_->BatchDecide(&context, batch, &response);
      if (!status.ok()) return Fail(RpcFailure("BatchDecide", server_, status));
      for (const v1::BatchItem& item : response.results()) {
        if (item.has_error()) {
          ++failed_items;
          std::cout << server::ItemErrorToJson(item.error()).dump() << "\n";
        } else {
          std::cout << server::DecideResponseToJson(item.response()).dump()
                    << "\n";
        }
      }
    }
    if (failed_items > 0) {
      return Fail(absl::StrCat(failed_items, " of ", requests.size(),
                               " requests were rejected; see the \"error\" "
                               "lines above"));
    }
    return 0;
  }

 private:
  const std::string server_;
  const std::chrono::milliseconds timeout_;
  std::unique_ptr<v1::Verdict::Stub> stub_;
};

}  // namespace

const CommandSpec& DecideSpec() {
  static const CommandSpec* const spec = new CommandSpec{
      .name = "decide",
      .summary =
          "Send JSON requests to a running `verdict serve` and print "
          "its decisions",
      .usage =
          "verdict decide --server HOST:PORT --request FILE|- [--batch] "
          "[--timeout-ms N]",
      .options =
          {
              {.name = "server",
               .value_name = "HOST:PORT",
               .help = "address of the `verdict serve` to ask",
               .required = true},
              {.name = "request",
               .value_name = "FILE",
               .help = "AuthZEN-shaped JSON request to send, as read by "
                       "`verdict eval`; - reads standard input",
               .required = true},
              {.name = "batch",
               .value_name = "",
               .help = "read one JSON request per line and send them with "
                       "BatchDecide, up to 10000 per call"},
              {.name = "timeout-ms",
               .value_name = "N",
               .help = "deadline of each RPC in milliseconds, from 1 to "
                       "3600000 (default: 5000)"},
          },
      .positional_name = ""};
  return *spec;
}

int RunDecide(const std::vector<std::string>& args) {
  const CommandSpec& spec = DecideSpec();
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(spec, args);
  if (!parsed.ok()) {
    std::cerr << "verdict decide: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(spec);
    return 0;
  }
  if (!parsed->Has("server") || !parsed->Has("request")) {
    std::cerr << "verdict decide: --server HOST:PORT and --request FILE are "
                 "both required\n";
    return 2;
  }
  int64_t timeout_millis = kDefaultTimeoutMillis;
  if (parsed->Has("timeout-ms") &&
      (!absl::SimpleAtoi(parsed->Get("timeout-ms"), &timeout_millis) ||
       timeout_millis < 1 || timeout_millis > kMaxTimeoutMillis)) {
    std::cerr << "verdict decide: invalid --timeout-ms \""
              << parsed->Get("timeout-ms")
              << "\"; pass a whole number of milliseconds from 1 to "
              << kMaxTimeoutMillis << "\n";
    return 2;
  }

  const std::string path = parsed->Get("request");
  const std::string source = path == "-" ? "standard input" : path;
  absl::StatusOr<std::string> text = ReadInput(path);
  if (!text.ok()) return Fail(std::string(text.status().message()));

  DecideClient client(parsed->Get("server"), timeout_millis);
  if (parsed->Has("batch")) {
    absl::StatusOr<std::vector<v1::DecideRequest>> requests =
        ParseBatch(*text, source);
    if (!requests.ok()) return Fail(std::string(requests.status().message()));
    if (requests->empty()) {
      return Fail(absl::StrCat(source,
                               " has no requests; --batch expects one "
                               "JSON request per line"));
    }
    return client.DecideBatch(*requests);
  }
  absl::StatusOr<v1::DecideRequest> request = ParseRequest(*text, source);
  if (!request.ok()) return Fail(std::string(request.status().message()));
  return client.DecideOne(*request);
}

}  // namespace verdict::cli
