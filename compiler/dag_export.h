// Renderings of a compiled decision DAG for people: Graphviz DOT, an
// indented text tree, and shape statistics.
//
// Every function reads the Program only, so all are thread-safe. Output is
// deterministic: nodes are named and ordered by their index in
// Program::nodes, and switch keys are sorted by their text. Each costs time
// linear in the nodes, switch entries and leaf policy lists reachable from
// the root.

#ifndef VERDICT_COMPILER_DAG_EXPORT_H_
#define VERDICT_COMPILER_DAG_EXPORT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/program.h"

namespace verdict::compiler {

// Counts over the nodes reachable from Program::root.
struct DagStatistics {
  size_t nodes = 0;
  size_t tests = 0;
  size_t switches = 0;
  size_t leaves = 0;
  size_t residual_leaves = 0;  // leaves that evaluate conditions at run time
  size_t switch_entries = 0;   // keys over all switch tables
  size_t max_depth = 0;        // tests and switches on the longest path
  size_t shared_nodes = 0;     // nodes with more than one parent
  size_t predicates = 0;
  size_t policies = 0;
  size_t symbols = 0;
};

// Computes the statistics without recursion, so any DAG depth is safe.
DagStatistics ComputeDagStatistics(const Program& program);

// Renders `stats` as aligned `name  value` lines.
std::string FormatDagStatistics(const DagStatistics& stats);

// Renders the DAG as a Graphviz digraph. Test nodes are rounded boxes
// labelled with their predicate, with `true`, `false` and `error` edges.
// Switch nodes are hexagons labelled with the attribute, with one edge per
// key plus `other` and `absent`. Leaves are filled green for PERMIT and red
// for DENY, dashed when they keep residual conditions. Edges from one node
// to the same child are merged into one edge with a combined label.
std::string DagToDot(const Program& program);

// Renders the DAG as an indented tree, one node per line. A node reached a
// second time is not expanded again but printed as `-> see #N`.
std::string DagToText(const Program& program);

// Quotes `text` for a DOT string: backslashes and double quotes are
// escaped, control characters become visible `\n` or `\xNN` escapes, and
// other bytes, including UTF-8, are kept.
std::string DotQuote(std::string_view text);

// Returns `text` escaped as DotQuote does, without the enclosing quotes.
std::string DotEscape(std::string_view text);

// Runs Graphviz `dot -Tsvg` on `dot_source` and returns the SVG document.
// Returns NOT_FOUND naming the Debian package when `dot` is not on PATH,
// DEADLINE_EXCEEDED (after killing it) when it runs longer than `timeout`,
// and INTERNAL with its error output when it fails. Blocks the calling
// thread; SIGPIPE is blocked in that thread while writing to `dot`.
absl::StatusOr<std::string> RenderSvg(std::string_view dot_source,
                                      absl::Duration timeout);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_DAG_EXPORT_H_
