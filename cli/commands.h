// Entry points of the `verdict` subcommands. Each takes the words after the
// subcommand name and returns the process exit code: 0 on success, 1 when
// the command ran and found a problem (invalid policies, a failed test), 2
// for usage errors.

#ifndef VERDICT_CLI_COMMANDS_H_
#define VERDICT_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "cli/args.h"

namespace verdict::cli {

int RunCheck(const std::vector<std::string>& args);
int RunEval(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunDecide(const std::vector<std::string>& args);
int RunFmt(const std::vector<std::string>& args);
int RunExplain(const std::vector<std::string>& args);
int RunDag(const std::vector<std::string>& args);
int RunTest(const std::vector<std::string>& args);
int RunLint(const std::vector<std::string>& args);
int RunDiff(const std::vector<std::string>& args);
int RunPlayground(const std::vector<std::string>& args);

const CommandSpec& CheckSpec();
const CommandSpec& EvalSpec();
const CommandSpec& ServeSpec();
const CommandSpec& DecideSpec();
const CommandSpec& FmtSpec();
const CommandSpec& ExplainSpec();
const CommandSpec& DagSpec();
const CommandSpec& TestSpec();
const CommandSpec& LintSpec();
const CommandSpec& DiffSpec();
const CommandSpec& PlaygroundSpec();

}  // namespace verdict::cli

#endif  // VERDICT_CLI_COMMANDS_H_
