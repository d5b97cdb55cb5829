// A playground workspace: the policy, data and test case files that the
// page edits, compiled on request.
//
// A workspace maps relative paths to file contents. Paths start with
// `policies/` (*.verdict files, and trust.json with the key and certificate
// files it names), `data/` (entity data sets, as `verdict eval --data`
// reads them) or `cases/` (test cases, as `verdict test` reads them), or
// are `request.json`. The page sends the whole workspace with every call,
// so the server keeps no state between calls beyond a small cache of
// compiled programs.

#ifndef VERDICT_PLAYGROUND_WORKSPACE_H_
#define VERDICT_PLAYGROUND_WORKSPACE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/program.h"
#include "nlohmann/json.hpp"

namespace verdict::playground {

// Path -> contents, sorted by path.
using Workspace = std::map<std::string, std::string>;

// Budgets for a workspace sent by the page.
struct WorkspaceLimits {
  size_t max_files = 1000;
  size_t max_total_bytes = size_t{8} << 20;
  size_t max_path_bytes = 256;
};

// Returns OK when `path` is a valid workspace path: segments of letters,
// digits, '.', '_', '-' and '@' separated by '/', none empty or starting
// with '.', under policies/, data/ or cases/, or exactly request.json.
// Otherwise INVALID_ARGUMENT naming the path and the rule it breaks.
absl::Status CheckWorkspacePath(std::string_view path);

// Reads the workspace from the JSON object {"<path>": "<contents>", ...}.
// Returns INVALID_ARGUMENT for a value that is not a string, an invalid
// path, an exceeded limit, or a policies/trust.json that names a file
// outside the workspace.
absl::StatusOr<Workspace> WorkspaceFromJson(const nlohmann::json& files,
                                            const WorkspaceLimits& limits);

// Reads a workspace from disk: every regular file under `policies_dir` (as
// policies/...), the *.json files directly in `data_dir` (as data/...) and
// in `cases_dir` (as cases/...), skipping hidden entries. Empty directory
// names are skipped. Returns NOT_FOUND naming a directory that is not one,
// and INVALID_ARGUMENT when the files exceed `limits`.
absl::StatusOr<Workspace> ReadWorkspace(const std::string& policies_dir,
                                        const std::string& data_dir,
                                        const std::string& cases_dir,
                                        const WorkspaceLimits& limits);

// Returns the names of the bundled examples, sorted.
std::vector<std::string> ExampleNames();

// Returns the bundled example `name`. NOT_FOUND names the known examples.
absl::StatusOr<Workspace> ExampleWorkspace(std::string_view name);

// A compiler diagnostic located in the workspace.
struct PlaygroundDiagnostic {
  std::string file;     // workspace path, or "" when not about one file
  uint32_t line = 0;    // 1-based; 0 when the diagnostic has no position
  uint32_t column = 0;  // 1-based, in bytes
  uint32_t width = 0;   // bytes the compiler marked, at least 1 with a line
  bool error = true;    // false for a warning
  std::string message;
};

struct WorkspaceCompilation {
  std::shared_ptr<const Program> program;  // null when there are errors
  size_t error_count = 0;
  // The diagnostics as `verdict check` prints them, with workspace paths.
  std::string text;
  std::vector<PlaygroundDiagnostic> diagnostics;
  // The temporary directory the files were compiled in, with a trailing
  // '/'. It no longer exists, but the program's policy locations start
  // with it, so responses remove it with StripRoot.
  std::string root;
};

// Returns `text` without any occurrence of `root`.
std::string StripRoot(std::string_view text, std::string_view root);

// Removes `root` from every string in `json`, at any depth.
void StripRoot(nlohmann::json& json, std::string_view root);

// Compiles the workspace: writes its policies/ and data/ files into a new
// private temporary directory (mode 0700, under $TMPDIR or /tmp), compiles
// them as `verdict check --data` would, and removes the directory before
// returning. Policy errors are in the result; the Status is an error only
// when the temporary files cannot be written or read. Thread-safe.
absl::StatusOr<WorkspaceCompilation> CompileWorkspace(
    const Workspace& workspace);

// Parses diagnostics rendered by compiler::Diagnostics::Render and the
// `file: error: message` lines of the data loaders, replacing the prefix
// `root` of each file name (a temporary directory with its trailing '/')
// by nothing.
std::vector<PlaygroundDiagnostic> ParseDiagnostics(std::string_view text,
                                                   std::string_view root);

}  // namespace verdict::playground

#endif  // VERDICT_PLAYGROUND_WORKSPACE_H_
