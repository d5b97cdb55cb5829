// The compiler driver: policy directory (and entity data) in, Program out.

#ifndef VERDICT_COMPILER_COMPILE_H_
#define VERDICT_COMPILER_COMPILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/program.h"

namespace verdict::tokens {
class ReplayCache;
}  // namespace verdict::tokens

namespace verdict::compiler {

// Budgets for untrusted policy input. An exceeded file-count or data-size
// budget is a compile error that names the limit and the value.
struct CompileOptions {
  // DAG nodes to build. Past it the compiler is not failed: leaves keep the
  // remaining conditions and evaluate them at run time. 0 chooses the
  // budget from the policy count (see DagNodeBudget in dag_builder.h).
  size_t max_dag_nodes = 0;
  // DAG nodes the program may have at all; past it compilation fails. The
  // budget above grows with the policy count, so this bounds the memory of
  // very large policy sets: 10,000,000 nodes take about 280 MB.
  size_t dag_node_limit = 10'000'000;
  size_t max_policy_files = 10'000;
  // Ids of policies to compile as never applying, which decides like
  // removing them; analyses compare such a program with the full one.
  std::vector<std::string> disabled_policies;
  size_t max_data_bytes = 256u << 20;  // all entity data files together
  // The trust file for the tokens requests present; empty to use
  // `<policy_dir>/trust.json` when it exists.
  std::string trust_file;
  // The jtis seen so far, shared by the programs a server compiles in turn
  // so that a reload does not forget them. Null gives each compilation its
  // own.
  std::shared_ptr<tokens::ReplayCache> replay_cache;
};

struct Compilation {
  std::shared_ptr<const Program> program;  // null when there are errors
  std::string diagnostics;  // every error and warning, rendered
  size_t error_count = 0;
};

// Compiles every `*.verdict` file under `policy_dir` (recursively, in sorted
// path order, skipping files and directories whose names start with a dot)
// and, when `data_dir` is not empty, joins the entity data sets
// `<data_dir>/<name>.json`. Policy errors are reported in the returned
// Compilation; the Status is an error only when the directories cannot be
// read. Deterministic: the same input gives the same Program and revision.
// Thread-safe.
absl::StatusOr<Compilation> CompileDirectory(const std::string& policy_dir,
                                             const std::string& data_dir,
                                             const CompileOptions& options);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_COMPILE_H_
