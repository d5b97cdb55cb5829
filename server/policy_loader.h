// Compiling policy sets from disk and publishing them to a ProgramStore.

#ifndef VERDICT_SERVER_POLICY_LOADER_H_
#define VERDICT_SERVER_POLICY_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "compiler/compile.h"
#include "engine/snapshot.h"

namespace verdict::server {

class ServerMetrics;

// Compiles the policy directory (and entity data directory) and publishes
// the result. A policy set that fails to compile is rejected: its
// diagnostics are logged and the store keeps the program it had, so a bad
// edit never takes down a serving policy set.
//
// Thread-compatible: call Load() from one thread at a time. Does not own the
// store, which must outlive the loader.
class PolicyLoader {
 public:
  // `data_dir` may be empty for a policy set that joins no entity data.
  // `log_prefix` starts every line the loader logs, to tell policy sets
  // apart.
  PolicyLoader(std::string policy_dir, std::string data_dir,
               ProgramStore& store, compiler::CompileOptions options = {},
               std::string log_prefix = "");

  // Compiles and, on success, publishes the program unless the store already
  // serves the same revision. Logs the outcome. Returns the revision being
  // served, or FAILED_PRECONDITION when the policy set has errors and the
  // compiler's error when the directories cannot be read.
  absl::StatusOr<std::string> Load();

  // Counts every Load() in `metrics`, which must outlive the loader; null,
  // the default, counts nothing. `shadow_set` counts the loads as those of
  // the shadow policy set.
  void set_metrics(ServerMetrics* metrics, bool shadow_set = false) {
    metrics_ = metrics;
    shadow_set_ = shadow_set;
  }

  const std::string& policy_dir() const { return policy_dir_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  absl::StatusOr<std::string> CompileAndPublish();
  // Logs the rejection of a policy set and returns the error for the caller.
  absl::Status Reject(const absl::Status& status,
                      const std::string& diagnostics);

  const std::string policy_dir_;
  const std::string data_dir_;
  ProgramStore& store_;
  const compiler::CompileOptions options_;
  const std::string log_prefix_;
  ServerMetrics* metrics_ = nullptr;
  bool shadow_set_ = false;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_POLICY_LOADER_H_
