#include "compiler/dag_export.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {
namespace {

// Leaves list at most this many policy ids per kind, then "and N more", so
// that a leaf of a large policy set stays readable.
constexpr size_t kMaxIdsPerLine = 8;

struct Edge {
  uint32_t target = 0;
  std::string label;
};

// Quotes `text` as policy source would: `"a\"b"`, keeping UTF-8.
std::string QuoteString(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Renders a switch key of `slot`: a quoted string, or a list of them.
std::string RenderKey(const Program& program, uint32_t slot, uint32_t symbol) {
  std::string_view text = program.SymbolText(symbol);
  if (program.slots[slot].type != Type::kStringList) return QuoteString(text);
  std::vector<std::string> elements;
  if (!text.empty()) {
    // Every element is preceded by the separator, so skip the first one.
    for (absl::string_view element : absl::StrSplit(
             ToAbsl(text).substr(1), kListSeparator, absl::AllowEmpty())) {
      elements.push_back(QuoteString(ToStd(element)));
    }
  }
  return absl::StrCat("[", absl::StrJoin(elements, ", "), "]");
}

// Appends an edge, merging it into an earlier edge to the same target.
void AddEdge(std::vector<Edge>& edges, uint32_t target, std::string label) {
  for (Edge& edge : edges) {
    if (edge.target == target) {
      absl::StrAppend(&edge.label, ", ", label);
      return;
    }
  }
  edges.push_back(Edge{target, std::move(label)});
}

// Returns the outgoing edges of node `index` in a fixed order. A test has
// true, false and error. A switch has its keys sorted by text, then other
// and absent.
std::vector<Edge> OutEdges(const Program& program, uint32_t index) {
  const Node& node = program.nodes[index];
  std::vector<Edge> edges;
  if (node.kind == NodeKind::kTest) {
    AddEdge(edges, node.children[0], "true");
    AddEdge(edges, node.children[1], "false");
    AddEdge(edges, node.children[2], "error");
  } else if (node.kind == NodeKind::kSwitch) {
    std::vector<std::pair<std::string, uint32_t>> keys;
    for (uint32_t i = node.b; i < node.b + node.c; ++i) {
      const SwitchEntry& entry = program.switch_entries[i];
      if (entry.symbol == kNoSymbol) continue;
      keys.emplace_back(RenderKey(program, node.a, entry.symbol), entry.target);
    }
    std::sort(keys.begin(), keys.end());
    for (auto& [key, target] : keys) AddEdge(edges, target, std::move(key));
    AddEdge(edges, node.children[0], "other");
    AddEdge(edges, node.children[1], "absent");
  }
  return edges;
}

// The nodes reachable from the root, in index order.
std::vector<uint32_t> ReachableNodes(const Program& program) {
  std::vector<bool> seen(program.nodes.size(), false);
  std::vector<uint32_t> stack = {program.root};
  seen[program.root] = true;
  while (!stack.empty()) {
    uint32_t index = stack.back();
    stack.pop_back();
    for (const Edge& edge : OutEdges(program, index)) {
      if (!seen[edge.target]) {
        seen[edge.target] = true;
        stack.push_back(edge.target);
      }
    }
  }
  std::vector<uint32_t> nodes;
  for (uint32_t i = 0; i < seen.size(); ++i) {
    if (seen[i]) nodes.push_back(i);
  }
  return nodes;
}

// What a leaf decides before its residual conditions, if any, run.
struct LeafSummary {
  bool permit = false;
  std::vector<std::string> lines;  // "permit: a, b", "+2 residual", ...
};

std::string IdList(const std::vector<std::string>& ids) {
  if (ids.size() <= kMaxIdsPerLine) return absl::StrJoin(ids, ", ");
  std::vector<std::string> shown(ids.begin(), ids.begin() + kMaxIdsPerLine);
  return absl::StrCat(absl::StrJoin(shown, ", "), " and ",
                      ids.size() - kMaxIdsPerLine, " more");
}

LeafSummary SummarizeLeaf(const Program& program, const Leaf& leaf) {
  auto ids = [&](uint32_t begin, uint32_t count) {
    std::vector<std::string> out;
    for (uint32_t i = begin; i < begin + count; ++i) {
      out.push_back(program.policies[program.leaf_policies[i]].id);
    }
    return out;
  };
  std::vector<std::string> permits = ids(leaf.permits_begin, leaf.permits_count);
  std::vector<std::string> forbids = ids(leaf.forbids_begin, leaf.forbids_count);
  std::vector<std::string> errors;
  bool forbid_errored = false;
  for (uint32_t i = leaf.errors_begin; i < leaf.errors_begin + leaf.errors_count;
       ++i) {
    const PolicyInfo& policy = program.policies[program.leaf_errors[i].policy];
    errors.push_back(policy.id);
    forbid_errored |= policy.effect == PolicyEffect::kForbid;
  }
  LeafSummary summary;
  summary.permit = forbids.empty() && !forbid_errored && !permits.empty();
  if (program.has_policy_sets) {
    // The sets' combining algorithms decide, so a permit can override a
    // forbid (permit-overrides) or come before one (first-applicable).
    const auto policies = program.leaf_policies.begin();
    std::vector<uint32_t> applying(
        policies + leaf.permits_begin,
        policies + leaf.permits_begin + leaf.permits_count);
    applying.insert(applying.end(), policies + leaf.forbids_begin,
                    policies + leaf.forbids_begin + leaf.forbids_count);
    std::vector<uint32_t> errored;
    for (uint32_t i = leaf.errors_begin;
         i < leaf.errors_begin + leaf.errors_count; ++i) {
      errored.push_back(program.leaf_errors[i].policy);
    }
    summary.permit = PolicySetsPermit(program, applying, errored);
  }
  if (!permits.empty()) summary.lines.push_back("permit: " + IdList(permits));
  if (!forbids.empty()) summary.lines.push_back("forbid: " + IdList(forbids));
  if (!errors.empty()) summary.lines.push_back("error: " + IdList(errors));
  if (leaf.residual_count > 0) {
    summary.lines.push_back(absl::StrCat("+", leaf.residual_count, " residual"));
  }
  return summary;
}

// Returns the DOT attributes of node `index`, without the brackets.
std::string DotAttributes(const Program& program, uint32_t index) {
  const Node& node = program.nodes[index];
  if (node.kind == NodeKind::kTest) {
    return absl::StrCat("shape=box, style=rounded, label=",
                        DotQuote(program.DescribePredicate(node.a)));
  }
  if (node.kind == NodeKind::kSwitch) {
    return absl::StrCat(
        "shape=hexagon, style=filled, fillcolor=\"#e3f2fd\", label=",
        DotQuote(program.slots[node.a].path));
  }
  const Leaf& leaf = program.leaves[node.a];
  LeafSummary summary = SummarizeLeaf(program, leaf);
  std::vector<std::string> lines = {summary.permit ? "PERMIT" : "DENY"};
  for (const std::string& line : summary.lines) lines.push_back(DotEscape(line));
  // `\n` between the escaped lines is DOT's centred line break.
  return absl::StrFormat(
      "shape=box, style=\"%s\", fillcolor=\"%s\", label=\"%s\"",
      leaf.residual_count > 0 ? "filled,dashed" : "filled",
      summary.permit ? "#c8e6c9" : "#ffcdd2", absl::StrJoin(lines, "\\n"));
}

std::string TextNode(const Program& program, uint32_t index) {
  const Node& node = program.nodes[index];
  if (node.kind == NodeKind::kTest) {
    return absl::StrCat("test ", program.DescribePredicate(node.a));
  }
  if (node.kind == NodeKind::kSwitch) {
    return absl::StrCat("switch ", program.slots[node.a].path);
  }
  LeafSummary summary = SummarizeLeaf(program, program.leaves[node.a]);
  std::string text = summary.permit ? "PERMIT" : "DENY";
  for (const std::string& line : summary.lines) absl::StrAppend(&text, "; ", line);
  return text;
}

}  // namespace

std::string DotQuote(std::string_view text) {
  return absl::StrCat("\"", DotEscape(text), "\"");
}

std::string DotEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      // A visible backslash-n, because a raw `\n` is a DOT line break.
      out += "\\\\n";
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppend(&out, "\\\\x", absl::Hex(byte, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

DagStatistics ComputeDagStatistics(const Program& program) {
  DagStatistics stats;
  stats.predicates = program.predicates.size();
  stats.policies = program.policies.size();
  stats.symbols = program.symbols.size();
  if (program.nodes.empty()) return stats;

  std::vector<uint32_t> nodes = ReachableNodes(program);
  std::vector<uint32_t> parents(program.nodes.size(), 0);
  std::vector<std::vector<uint32_t>> children(program.nodes.size());
  for (uint32_t index : nodes) {
    const Node& node = program.nodes[index];
    ++stats.nodes;
    if (node.kind == NodeKind::kTest) ++stats.tests;
    if (node.kind == NodeKind::kSwitch) {
      ++stats.switches;
      for (uint32_t i = node.b; i < node.b + node.c; ++i) {
        stats.switch_entries += program.switch_entries[i].symbol != kNoSymbol;
      }
    }
    if (node.kind == NodeKind::kLeaf) {
      ++stats.leaves;
      stats.residual_leaves += program.leaves[node.a].residual_count > 0;
    }
    for (const Edge& edge : OutEdges(program, index)) {
      ++parents[edge.target];  // edges are merged per target already
      children[index].push_back(edge.target);
    }
  }
  for (uint32_t index : nodes) stats.shared_nodes += parents[index] > 1;

  // Longest path by an iterative post-order walk: a node's depth is known
  // once every child's is.
  std::vector<size_t> depth(program.nodes.size(), 0);
  std::vector<uint8_t> state(program.nodes.size(), 0);  // 0 new, 1 open, 2 done
  std::vector<uint32_t> stack = {program.root};
  while (!stack.empty()) {
    uint32_t index = stack.back();
    if (state[index] == 0) {
      state[index] = 1;
      for (uint32_t child : children[index]) {
        if (state[child] == 0) stack.push_back(child);
      }
      continue;
    }
    stack.pop_back();
    if (state[index] == 2) continue;
    state[index] = 2;
    for (uint32_t child : children[index]) {
      depth[index] = std::max(depth[index], depth[child] + 1);
    }
  }
  stats.max_depth = depth[program.root];
  return stats;
}

std::string FormatDagStatistics(const DagStatistics& stats) {
  const std::pair<const char*, size_t> rows[] = {
      {"nodes", stats.nodes},
      {"  tests", stats.tests},
      {"  switches", stats.switches},
      {"  leaves", stats.leaves},
      {"  residual leaves", stats.residual_leaves},
      {"switch entries", stats.switch_entries},
      {"max depth", stats.max_depth},
      {"shared nodes", stats.shared_nodes},
      {"predicates", stats.predicates},
      {"policies", stats.policies},
      {"symbols", stats.symbols},
  };
  std::string out;
  for (const auto& [name, value] : rows) {
    absl::StrAppendFormat(&out, "%-20s %u\n", name, value);
  }
  return out;
}

std::string DagToDot(const Program& program) {
  std::string out = absl::StrCat(
      "// The decision DAG of revision ", program.revision, ", from verdict dag.\n",
      "digraph verdict {\n"
      "  graph [rankdir=TB, fontname=\"Helvetica\"];\n"
      "  node [fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=10];\n");
  if (program.nodes.empty()) return out + "}\n";
  for (uint32_t index : ReachableNodes(program)) {
    // The root gets a thick border, because node numbers follow build
    // order and the root is usually the last node.
    absl::StrAppendFormat(&out, "  n%u [%s%s];\n", index,
                          DotAttributes(program, index),
                          index == program.root ? ", penwidth=2.5" : "");
    for (const Edge& edge : OutEdges(program, index)) {
      bool error_only = edge.label == "error";
      absl::StrAppendFormat(&out, "  n%u -> n%u [label=%s%s];\n", index,
                            edge.target, DotQuote(edge.label),
                            error_only ? ", style=dashed, color=gray40" : "");
    }
  }
  return out + "}\n";
}

std::string DagToText(const Program& program) {
  if (program.nodes.empty()) return "";
  struct Item {
    uint32_t node;
    size_t depth;
    std::string label;  // the edge that leads here; empty for the root
  };
  std::vector<bool> printed(program.nodes.size(), false);
  std::vector<Item> stack = {{program.root, 0, ""}};
  std::string out;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    std::string indent(2 * item.depth, ' ');
    std::string prefix = item.label.empty() ? "" : item.label + " -> ";
    if (printed[item.node]) {
      absl::StrAppend(&out, indent, prefix, "see #", item.node, "\n");
      continue;
    }
    printed[item.node] = true;
    absl::StrAppend(&out, indent, prefix, "#", item.node, " ",
                    TextNode(program, item.node), "\n");
    std::vector<Edge> edges = OutEdges(program, item.node);
    for (auto it = edges.rbegin(); it != edges.rend(); ++it) {
      stack.push_back(Item{it->target, item.depth + 1, std::move(it->label)});
    }
  }
  return out;
}

}  // namespace verdict::compiler
