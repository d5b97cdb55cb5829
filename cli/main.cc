// The `verdict` command: one binary with a subcommand per task.

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

struct Command {
  const verdict::cli::CommandSpec& (*spec)();
  int (*run)(const std::vector<std::string>&);
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {verdict::cli::CheckSpec, verdict::cli::RunCheck},
      {verdict::cli::EvalSpec, verdict::cli::RunEval},
      {verdict::cli::ServeSpec, verdict::cli::RunServe},
      {verdict::cli::DecideSpec, verdict::cli::RunDecide},
      {verdict::cli::FmtSpec, verdict::cli::RunFmt},
      {verdict::cli::ExplainSpec, verdict::cli::RunExplain},
      {verdict::cli::DagSpec, verdict::cli::RunDag},
      {verdict::cli::TestSpec, verdict::cli::RunTest},
      {verdict::cli::LintSpec, verdict::cli::RunLint},
      {verdict::cli::DiffSpec, verdict::cli::RunDiff},
      {verdict::cli::PlaygroundSpec, verdict::cli::RunPlayground},
  };
  return commands;
}

void PrintUsage(std::ostream& out) {
  out << "Usage: verdict COMMAND [options]\n\n"
         "Verdict is a policy decision point: it compiles policies into a "
         "decision DAG\nand answers authorization requests.\n\nCommands:\n";
  for (const Command& command : Commands()) {
    const verdict::cli::CommandSpec& spec = command.spec();
    out << "  " << spec.name << std::string(12 - spec.name.size(), ' ')
        << spec.summary << "\n";
  }
  out << "\nRun 'verdict COMMAND --help' for the options of a command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(std::cerr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& command : Commands()) {
    if (command.spec().name == name) return command.run(args);
  }
  std::cerr << "verdict: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return 2;
}
