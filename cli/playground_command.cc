// `verdict playground`: serve a page on which policy authors edit policies,
// data, test cases and a request, and see the decision, its explanation and
// the compiled DAG with the walk the request took.

#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "playground/assets.h"
#include "playground/playground_http.h"
#include "server/http_server.h"
#include "server/log.h"
#include "server/server.h"
#include "server/signal_channel.h"

namespace verdict::cli {
namespace {

constexpr char kDefaultListen[] = "127.0.0.1:8182";
constexpr char kDefaultExample[] = "quickstart";

// Returns true when `address` (HOST:PORT) names a loopback host.
bool IsLoopback(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  return absl::StartsWith(host, "127.") || host == "[::1]" || host == "::1" ||
         host == "localhost";
}

// Reads the workspace the page opens with: the directories given, or the
// bundled quickstart example. Returns the exit code after printing the
// error, or 0.
int InitialWorkspace(const ParsedArgs& parsed,
                     playground::PlaygroundOptions& options) {
  if (!parsed.Has("policies")) {
    if (parsed.Has("data") || parsed.Has("cases")) {
      std::cerr << "verdict playground: --data and --cases need --policies\n";
      return 2;
    }
    absl::StatusOr<playground::Workspace> example =
        playground::ExampleWorkspace(kDefaultExample);
    if (!example.ok()) {
      std::cerr << "verdict playground: " << example.status().message() << "\n";
      return 1;
    }
    options.initial = *std::move(example);
    options.initial_name = kDefaultExample;
    return 0;
  }
  absl::StatusOr<playground::Workspace> workspace = playground::ReadWorkspace(
      parsed.Get("policies"), parsed.Get("data"), parsed.Get("cases"),
      options.limits);
  if (!workspace.ok()) {
    std::cerr << "verdict playground: " << workspace.status().message()
              << "\n";
    return 1;
  }
  options.initial = *std::move(workspace);
  options.initial_name = parsed.Get("policies");
  return 0;
}

// Waits for SIGINT or SIGTERM on `signals`.
void WaitForStop(server::SignalChannel& signals) {
  for (;;) {
    pollfd fd = {signals.fd(), POLLIN, 0};
    if (poll(&fd, 1, -1) < 0 && errno != EINTR) return;
    int signal = signals.ReadSignal();
    if (signal == SIGINT || signal == SIGTERM) return;
  }
}

}  // namespace

const CommandSpec& PlaygroundSpec() {
  static const CommandSpec spec = {
      "playground",
      "Serve a page to edit policies and requests and see decisions, "
      "explanations and the DAG.",
      "verdict playground [--policies DIR [--data DIR] [--cases DIR]] "
      "[--listen 127.0.0.1:8182] [--port-file FILE]",
      {{"policies", "DIR",
        "Directory of *.verdict policy files (and trust.json) the page opens "
        "with; without it, the bundled quickstart example."},
       {"data", "DIR",
        "Directory of entity data sets (<name>.json) the page opens with."},
       {"cases", "DIR",
        "Directory of test cases (*.json, as verdict test reads them) the "
        "page opens with."},
       {"listen", "HOST:PORT",
        "Address to serve the page on (default 127.0.0.1:8182; port 0 lets "
        "the OS choose). An address other than loopback lets anyone who "
        "can reach it use the playground, and is logged as a warning."},
       {"port-file", "FILE",
        "Write the bound port to FILE once the page is served."}},
      /*positional_name=*/""};
  return spec;
}

int RunPlayground(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(PlaygroundSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict playground: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(PlaygroundSpec());
    return 0;
  }
  if (playground::PageFiles().empty()) {
    std::cerr << "verdict playground: this binary has no playground page, "
                 "because it was not built: "
              << playground::PageNotBuiltReason()
              << ". Install Node.js and npm (scripts/install-deps.sh), then "
                 "reconfigure and rebuild; see docs/playground.md\n";
    return 1;
  }
  playground::PlaygroundOptions options;
  if (int code = InitialWorkspace(*parsed, options); code != 0) return code;

  // Signals are blocked before the server starts its threads, which
  // inherit the mask, so that SIGTERM reaches the channel.
  absl::StatusOr<std::unique_ptr<server::SignalChannel>> signals =
      server::SignalChannel::Create({SIGINT, SIGTERM});
  if (!signals.ok()) {
    std::cerr << "verdict playground: " << signals.status().message() << "\n";
    return 1;
  }
  server::HttpOptions http_options;
  http_options.listen_address = parsed->Get("listen", kDefaultListen);
  const bool loopback = IsLoopback(http_options.listen_address);
  const std::string host = http_options.listen_address.substr(
      0, http_options.listen_address.rfind(':'));
  // Behind a loopback address only requests for a loopback name are
  // served, which defeats DNS rebinding. An operator who chose another
  // address reaches the page by names this process cannot know.
  if (loopback) options.allowed_hosts = playground::LoopbackHosts(host);
  playground::Playground playground(std::move(options));
  server::HttpServer http(http_options);
  playground.Register(http);
  if (absl::Status status = http.Start(); !status.ok()) {
    server::LogError(absl::StrCat("playground: ", status.message()));
    return 1;
  }
  if (!loopback) {
    server::LogWarning(absl::StrCat(
        "playground: listening on ", http_options.listen_address,
        ", which is not a loopback address: anyone who can reach it can "
        "make this process compile and evaluate policies"));
  }
  if (parsed->Has("port-file")) {
    if (absl::Status status =
            server::WritePortFile(parsed->Get("port-file"), http.port());
        !status.ok()) {
      server::LogError(absl::StrCat("playground: ", status.message()));
      return 1;
    }
  }
  server::LogInfo(absl::StrCat("playground: serving http://", host, ":",
                               http.port(), "/ ; stop with Ctrl-C"));
  WaitForStop(**signals);
  server::LogInfo("playground: stopping");
  http.Stop();
  return 0;
}

}  // namespace verdict::cli
