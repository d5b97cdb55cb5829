#include "server/server.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/snapshot.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/authzen_http.h"
#include "server/decision_recorder.h"
#include "server/directory_watcher.h"
#include "server/ext_authz_service.h"
#include "server/log.h"
#include "server/policy_loader.h"
#include "server/shadow_policies.h"
#include "server/signal_channel.h"
#include "server/verdict_service.h"

namespace verdict::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Upper bound on how long a continuous stream of file changes can postpone a
// reload.
constexpr auto kMaxReloadDelay = std::chrono::seconds(2);

constexpr SteadyClock::time_point kNoReload = SteadyClock::time_point::max();

// Maximum single wait of the event loop, so the loop wakes up periodically
// even if a descriptor never becomes ready.
constexpr int kMaxPollMillis = 1000;

const char* SignalName(int signal) {
  switch (signal) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

// Waits for signals and file changes, reloading the policy set as needed.
// Returns the signal that asked the server to stop.
class EventLoop {
 public:
  // `shadow_loader` is null when no shadow policy set is configured.
  EventLoop(SignalChannel& signals, DirectoryWatcher* watcher,
            PolicyLoader& loader, PolicyLoader* shadow_loader,
            absl::Duration debounce)
      : signals_(signals),
        watcher_(watcher),
        loader_(loader),
        shadow_loader_(shadow_loader),
        debounce_(absl::ToChronoMilliseconds(debounce)) {}

  absl::StatusOr<int> Run() {
    for (;;) {
      pollfd fds[2] = {{signals_.fd(), POLLIN, 0},
                       {watcher_ ? watcher_->fd() : -1, POLLIN, 0}};
      const int ready = poll(fds, 2, PollTimeoutMillis());
      if (ready < 0 && errno != EINTR) {
        return absl::InternalError(
            absl::StrCat("poll failed: ", std::strerror(errno)));
      }
      if (ready > 0 && (fds[0].revents & POLLIN)) {
        if (std::optional<int> stop = HandleSignals(); stop.has_value()) {
          return *stop;
        }
      }
      if (ready > 0 && (fds[1].revents & POLLIN) && watcher_->ReadEvents()) {
        ScheduleReload();
      }
      if (ReloadPending() && SteadyClock::now() >= reload_at_) {
        LogInfo("policy or data files changed; reloading");
        Reload();
      }
    }
  }

 private:
  // Handles every pending signal; returns the stop signal if one came.
  std::optional<int> HandleSignals() {
    while (const int signal = signals_.ReadSignal()) {
      if (signal != SIGHUP) return signal;
      LogInfo("received SIGHUP; reloading");
      Reload();
    }
    return std::nullopt;
  }

  void ScheduleReload() {
    const SteadyClock::time_point now = SteadyClock::now();
    if (!ReloadPending()) first_change_ = now;
    reload_at_ = std::min(now + debounce_, first_change_ + kMaxReloadDelay);
  }

  void Reload() {
    reload_at_ = kNoReload;
    if (watcher_ != nullptr) watcher_->Rescan();
    // Load() logs success and rejection alike; a rejected set leaves the
    // previous revision serving, so there is nothing more to do here.
    loader_.Load().IgnoreError();
    // The shadow set is reloaded with the enforced one, so that both follow
    // a change to the shared data directory together.
    if (shadow_loader_ != nullptr) shadow_loader_->Load().IgnoreError();
  }

  bool ReloadPending() const { return reload_at_ != kNoReload; }

  int PollTimeoutMillis() const {
    if (!ReloadPending()) return kMaxPollMillis;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(
        reload_at_ - SteadyClock::now());
    return static_cast<int>(
        std::clamp<int64_t>(wait.count(), 0, kMaxPollMillis));
  }

  SignalChannel& signals_;
  DirectoryWatcher* watcher_;  // null when inotify is unavailable
  PolicyLoader& loader_;
  PolicyLoader* shadow_loader_;  // may be null
  const std::chrono::milliseconds debounce_;
  // When the debounced reload is due; kNoReload while none is scheduled.
  SteadyClock::time_point reload_at_ = kNoReload;
  SteadyClock::time_point first_change_;
};

std::unique_ptr<DirectoryWatcher> StartWatcher(const ServerOptions& options) {
  std::vector<std::string> roots = {options.policy_dir};
  if (!options.data_dir.empty()) roots.push_back(options.data_dir);
  if (!options.shadow_policy_dir.empty()) {
    roots.push_back(options.shadow_policy_dir);
  }
  absl::StatusOr<std::unique_ptr<DirectoryWatcher>> watcher =
      DirectoryWatcher::Create(std::move(roots));
  if (!watcher.ok()) {
    LogWarning(
        absl::StrCat("file changes will not trigger reloads, only "
                     "SIGHUP: ",
                     watcher.status().message()));
    return nullptr;
  }
  return *std::move(watcher);
}

void StopServer(grpc::Server& server, absl::Duration grace) {
  server.GetHealthCheckService()->SetServingStatus(false);
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
  server.Shutdown(deadline);
  server.Wait();
}

// Starts the AuthZEN HTTP listener, with GET /metrics when `metrics` is not
// null, and writes its port file.
absl::StatusOr<std::unique_ptr<HttpServer>> StartHttpServer(
    const HttpOptions& options, AuthzenHttpService& authzen,
    const ServerMetrics* metrics) {
  auto http = std::make_unique<HttpServer>(options);
  authzen.Register(*http);
  if (metrics != nullptr) RegisterMetricsRoute(*http, *metrics);
  if (absl::Status s = http->Start(); !s.ok()) return s;
  LogInfo(absl::StrCat("serving AuthZEN over HTTP on ",
                       BoundAddress(options.listen_address, http->port()),
                       " with ", options.threads, " threads, max body ",
                       options.max_body_bytes, " bytes"));
  if (!options.port_file.empty()) {
    if (absl::Status s = WritePortFile(options.port_file, http->port());
        !s.ok()) {
      return s;
    }
  }
  return http;
}

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen_address, grpc::Service& service,
    const GrpcLimits& limits, int& bound_port) {
  return StartGrpcServer(listen_address, std::vector<grpc::Service*>{&service},
                         limits, bound_port);
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen_address,
    const std::vector<grpc::Service*>& services, const GrpcLimits& limits,
    int& bound_port) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  bound_port = 0;
  builder.AddListeningPort(listen_address, grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(limits.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             limits.max_streams_per_connection);
  grpc::ResourceQuota quota("verdict-serve");
  quota.Resize(limits.memory_bytes);
  quota.SetMaxThreads(limits.max_threads);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat(
        "failed to listen on ", listen_address,
        ": the address is malformed, not one of this host, or already in use; "
        "pass "
        "--listen HOST:PORT with a free port, or port 0 to pick one"));
  }
  server->GetHealthCheckService()->SetServingStatus(false);
  return server;
}

std::string BoundAddress(const std::string& listen_address, int port) {
  const size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) return listen_address;
  return absl::StrCat(listen_address.substr(0, colon + 1), port);
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "failed to write port file ", temporary, ": ", std::strerror(errno),
        "; check that its directory exists and is writable"));
  }
  const bool written = std::fprintf(file, "%d\n", port) > 0;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str())) {
    const int error = errno;
    std::remove(temporary.c_str());
    return absl::FailedPreconditionError(absl::StrCat(
        "failed to write port file ", path, ": ", std::strerror(error),
        "; check that its directory exists and is writable"));
  }
  return absl::OkStatus();
}

absl::Status RunServer(const ServerOptions& options) {
  absl::StatusOr<std::unique_ptr<SignalChannel>> signals =
      SignalChannel::Create({SIGHUP, SIGINT, SIGTERM});
  if (!signals.ok()) return signals.status();
  LogInfo(absl::StrCat("verdict serve starting: policies ", options.policy_dir,
                       options.data_dir.empty() ? "" : ", data ",
                       options.data_dir));

  ProgramStore store;
  // Declared before the loader, so that it counts the initial load.
  ServerMetrics metrics(&store);
  PolicyLoader loader(options.policy_dir, options.data_dir, store);
  loader.set_metrics(&metrics);
  if (absl::StatusOr<std::string> loaded = loader.Load(); !loaded.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "not serving, because the initial policy set failed to load: ",
        loaded.status().message()));
  }

  // The shadow set is compiled with the enforced set's entity data. Like
  // the enforced set, it must compile for the server to start; later, a
  // shadow set that fails to compile keeps its previous revision.
  ProgramStore shadow_store;
  std::optional<PolicyLoader> shadow_loader;
  std::optional<ShadowPolicies> shadow;
  if (!options.shadow_policy_dir.empty()) {
    // Its own replay cache: the enforced decision has already recorded a
    // one-time token's id, which would make the shadow decision reject it.
    shadow_loader.emplace(options.shadow_policy_dir, options.data_dir,
                          shadow_store, compiler::CompileOptions{},
                          "shadow policy set: ");
    shadow_loader->set_metrics(&metrics, /*shadow_set=*/true);
    if (absl::StatusOr<std::string> loaded = shadow_loader->Load();
        !loaded.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "not serving, because the shadow policy set failed to load: ",
          loaded.status().message()));
    }
    shadow.emplace(shadow_store);
  }

  // Watching starts before the port file appears, so a change made by
  // anyone who waited for that file is always noticed.
  std::unique_ptr<DirectoryWatcher> watcher = StartWatcher(options);

  // Declared before the services, so that the log and the recorder outlive
  // every call of theirs, and the log's destructor writes every queued line
  // after the last call has ended.
  std::unique_ptr<DecisionLog> decision_log;
  if (!options.decision_log.path.empty()) {
    absl::StatusOr<std::unique_ptr<DecisionLog>> opened =
        DecisionLog::Open(options.decision_log);
    if (!opened.ok()) return opened.status();
    decision_log = *std::move(opened);
    const DecisionLog* log = decision_log.get();
    metrics.SetDecisionLogCounts([log] { return log->written(); },
                                 [log] { return log->dropped(); });
    LogInfo(absl::StrCat("writing one JSON line per decision to ",
                         options.decision_log.path));
  }
  const DecisionRecorder recorder(&metrics, decision_log.get(),
                                  shadow.has_value() ? &*shadow : nullptr);
  VerdictService service(store, options.service, &recorder);
  // Envoy's ext_authz filter calls envoy.service.auth.v3.Authorization/Check
  // on the same port.
  ExtAuthzService ext_authz(store, options.service, &recorder);
  metrics.SetVerdictServiceStats([&service] { return service.stats(); });
  metrics.SetExtAuthzStats([&ext_authz] { return ext_authz.stats(); });
  if (shadow.has_value()) metrics.SetShadowStore(&shadow_store);
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartGrpcServer(options.listen_address, {&service, &ext_authz},
                      options.grpc_limits, port);
  if (!server.ok()) return server.status();
  (*server)->GetHealthCheckService()->SetServingStatus(true);
  LogInfo(absl::StrCat(
      "listening on ", BoundAddress(options.listen_address, port),
      "; max in flight ", options.service.max_in_flight,
      " decisions, max message ", options.grpc_limits.max_receive_message_bytes,
      " bytes, gRPC memory quota ", options.grpc_limits.memory_bytes,
      " bytes, max ", options.grpc_limits.max_streams_per_connection,
      " calls per connection"));

  if (!options.port_file.empty()) {
    if (absl::Status s = WritePortFile(options.port_file, port); !s.ok()) {
      StopServer(**server, absl::ZeroDuration());
      return s;
    }
  }

  // The HTTP listener serves the same store, so it follows every reload.
  AuthzenHttpService authzen(store, &recorder);
  std::unique_ptr<HttpServer> http;
  if (!options.http.listen_address.empty()) {
    absl::StatusOr<std::unique_ptr<HttpServer>> started =
        StartHttpServer(options.http, authzen, &metrics);
    if (!started.ok()) {
      StopServer(**server, absl::ZeroDuration());
      return started.status();
    }
    http = *std::move(started);
  }
  std::unique_ptr<HttpServer> metrics_http;
  if (!options.metrics.listen_address.empty()) {
    absl::StatusOr<std::unique_ptr<HttpServer>> started =
        StartMetricsServer(options.metrics, metrics);
    if (!started.ok()) {
      if (http != nullptr) http->Stop();
      StopServer(**server, absl::ZeroDuration());
      return started.status();
    }
    metrics_http = *std::move(started);
  }

  EventLoop loop(**signals, watcher.get(), loader,
                 shadow_loader.has_value() ? &*shadow_loader : nullptr,
                 options.reload_debounce);
  absl::StatusOr<int> stop = loop.Run();
  if (stop.ok()) {
    LogInfo(absl::StrCat(
        "received ", SignalName(*stop), "; stopping, in-flight requests have ",
        absl::FormatDuration(options.shutdown_grace), " to finish"));
  } else {
    LogError(
        absl::StrCat("stopping after an error: ", stop.status().message()));
  }
  if (http != nullptr) http->Stop();
  if (metrics_http != nullptr) metrics_http->Stop();
  StopServer(**server, options.shutdown_grace);
  LogInfo("stopped");
  return stop.status();
}

}  // namespace verdict::server
