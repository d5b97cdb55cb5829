#include "server/policy_loader.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/program.h"
#include "server/log.h"
#include "server/metrics.h"
#include "tokens/token_cache.h"
#include "tokens/trust_config.h"

namespace verdict::server {
namespace {

// Gives the loader one replay cache for every program it compiles, so that
// a one-time token seen before a reload is still rejected after it. The
// capacity follows the trust file of the latest compilation.
compiler::CompileOptions WithReplayCache(compiler::CompileOptions options) {
  if (options.replay_cache == nullptr) {
    options.replay_cache = std::make_shared<tokens::ReplayCache>(
        tokens::TrustConfig{}.replay_cache_capacity);
  }
  return options;
}

// Logs every non-empty line of the compiler's rendered diagnostics as its
// own log line, so each keeps a timestamp and level.
void LogDiagnostics(LogLevel level, absl::string_view prefix,
                    const std::string& diagnostics) {
  for (absl::string_view line : absl::StrSplit(diagnostics, '\n')) {
    if (!line.empty()) Log(level, absl::StrCat(prefix, line));
  }
}

}  // namespace

PolicyLoader::PolicyLoader(std::string policy_dir, std::string data_dir,
                           ProgramStore& store,
                           compiler::CompileOptions options,
                           std::string log_prefix)
    : policy_dir_(std::move(policy_dir)),
      data_dir_(std::move(data_dir)),
      store_(store),
      options_(WithReplayCache(std::move(options))),
      log_prefix_(std::move(log_prefix)) {}

absl::StatusOr<std::string> PolicyLoader::Load() {
  absl::StatusOr<std::string> revision = CompileAndPublish();
  if (metrics_ != nullptr) metrics_->RecordReload(revision.ok(), shadow_set_);
  return revision;
}

absl::StatusOr<std::string> PolicyLoader::CompileAndPublish() {
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(policy_dir_, data_dir_, options_);
  if (!compiled.ok()) return Reject(compiled.status(), "");

  compiler::Compilation& compilation = *compiled;
  if (compilation.program == nullptr || compilation.error_count > 0) {
    // Before the first publication the server is starting, so no running
    // server would reload a fix.
    const bool serving = store_.Current() != nullptr;
    return Reject(
        absl::FailedPreconditionError(absl::StrCat(
            "the policy set in ", policy_dir_, " has ", compilation.error_count,
            compilation.error_count == 1 ? " error" : " errors",
            serving ? "; fix the files and save them again, or send SIGHUP"
                    : "; fix the files and start the server again")),
        compilation.diagnostics);
  }
  LogDiagnostics(LogLevel::kWarning, log_prefix_, compilation.diagnostics);

  const std::string revision = compilation.program->revision;
  const std::shared_ptr<const Program> current = store_.Current();
  if (current != nullptr && current->revision == revision) {
    LogInfo(absl::StrCat(log_prefix_,
                         "policy set unchanged, still serving revision ",
                         revision));
    return revision;
  }
  const size_t policy_count = compilation.program->policies.size();
  store_.Publish(std::move(compilation.program));
  LogInfo(absl::StrCat(log_prefix_, "serving revision ", revision, ": ",
                       policy_count, " policies from ", policy_dir_,
                       data_dir_.empty() ? "" : " with data from ", data_dir_));
  return revision;
}

absl::Status PolicyLoader::Reject(const absl::Status& status,
                                  const std::string& diagnostics) {
  const std::shared_ptr<const Program> current = store_.Current();
  const std::string keeps =
      current == nullptr
          ? std::string("no policy set is loaded")
          : absl::StrCat("revision ", current->revision, " keeps serving");
  LogError(absl::StrCat(log_prefix_, "policy set rejected (", keeps,
                        "): ", status.message()));
  LogDiagnostics(LogLevel::kError, log_prefix_, diagnostics);
  return status;
}

}  // namespace verdict::server
