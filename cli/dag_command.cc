// `verdict dag`: the compiled decision DAG as DOT, SVG, text or statistics.

#include <fstream>
#include <iostream>

#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/compile_util.h"
#include "compiler/dag_export.h"

namespace verdict::cli {
namespace {

// Graphviz takes seconds for DAGs of thousands of nodes; past this limit the
// picture would be unreadable anyway.
constexpr absl::Duration kSvgTimeout = absl::Seconds(60);

absl::StatusOr<std::string> Render(const Program& program,
                                   const std::string& format) {
  if (format == "dot") return compiler::DagToDot(program);
  if (format == "text") return compiler::DagToText(program);
  return compiler::RenderSvg(compiler::DagToDot(program), kSvgTimeout);
}

// Writes `text` to `path`, or to standard output when `path` is empty.
bool WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    return true;
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::cerr << "verdict dag: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

const CommandSpec& DagSpec() {
  static const CommandSpec spec = {
      "dag",
      "Show the compiled decision DAG as DOT, SVG, text or statistics.",
      "verdict dag --policies DIR [--data DIR] [--format dot|svg|text] "
      "[--stats] [--output FILE]",
      {{"policies", "DIR", "Directory of *.verdict policy files.", true},
       {"data", "DIR",
        "Directory of entity data sets (<name>.json) that schemas join."},
       {"format", "FORMAT",
        "dot (Graphviz source, the default), svg (drawn by Graphviz dot, "
        "which must be installed) or text (an indented tree)."},
       {"stats", "",
        "Print node counts, depth and sharing instead of the graph."},
       {"output", "FILE", "Write to FILE instead of standard output."}},
      /*positional_name=*/""};
  return spec;
}

int RunDag(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(DagSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict dag: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(DagSpec());
    return 0;
  }
  std::string format = parsed->Get("format", "dot");
  if (format != "dot" && format != "svg" && format != "text") {
    std::cerr << "verdict dag: --format " << format
              << " is not supported; use dot, svg or text\n";
    return 2;
  }
  if (parsed->Has("stats") && parsed->Has("format")) {
    std::cerr << "verdict dag: --stats prints statistics; drop --format\n";
    return 2;
  }
  std::shared_ptr<const Program> program =
      CompileOrReport(parsed->Get("policies"), parsed->Get("data"));
  if (program == nullptr) return 1;

  absl::StatusOr<std::string> text =
      parsed->Has("stats")
          ? compiler::FormatDagStatistics(compiler::ComputeDagStatistics(*program))
          : Render(*program, format);
  if (!text.ok()) {
    std::cerr << "verdict dag: " << text.status().message() << "\n";
    return 1;
  }
  return WriteOutput(parsed->Get("output"), *text) ? 0 : 1;
}

}  // namespace verdict::cli
