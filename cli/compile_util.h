// Helpers shared by the subcommands that compile a policy directory.

#ifndef VERDICT_CLI_COMPILE_UTIL_H_
#define VERDICT_CLI_COMPILE_UTIL_H_

#include <memory>
#include <string>

#include "engine/program.h"

namespace verdict::cli {

// Compiles `policy_dir` (with entity data from `data_dir` when not empty),
// printing diagnostics to stderr. Returns null when compilation failed.
std::shared_ptr<const Program> CompileOrReport(const std::string& policy_dir,
                                               const std::string& data_dir);

}  // namespace verdict::cli

#endif  // VERDICT_CLI_COMPILE_UTIL_H_
