// Construction of the decision DAG from policy formulas.
//
// The builder starts with every policy's condition and repeatedly picks a
// test: a multi-way switch on a discrete attribute when equality tests on
// that attribute are the most common, otherwise the predicate that the most
// remaining policies mention. Each outcome substitutes its predicate values
// into the remaining formulas; a policy whose formula becomes a constant is
// decided. Equal states (same undecided formulas, same decided policies)
// are built once and shared, and the whole DAG is deterministic for the
// same input. When `max_nodes` is reached, the remaining formulas stay in
// the leaf as residual conditions that the evaluator runs directly.
//
// Edges taken when a predicate errors (an absent attribute) also end in a
// residual leaf: under Kleene logic an errored operand leaves most formulas
// undecided, and expanding every such combination multiplies the DAG for
// requests that are rare and denied anyway unless another condition decides.

#ifndef VERDICT_COMPILER_DAG_BUILDER_H_
#define VERDICT_COMPILER_DAG_BUILDER_H_

#include <cstddef>

#include "compiler/formula.h"
#include "engine/program.h"

namespace verdict::compiler {

// The automatic node budget: kMinDagNodes, or kDagNodesPerPolicy for each
// policy when that is larger. A policy that tests a handful of attributes
// takes 5 to 10 nodes once the switches have narrowed the candidates down
// to it. A fixed budget would therefore stop expanding a large policy set
// early and leave most of its policies to residual leaves, which the
// evaluator scans one condition at a time. A budget linear in the input
// still bounds compile time and memory, so the exponential cases (many
// independent conditions) stay capped.
inline constexpr size_t kMinDagNodes = 200'000;
inline constexpr size_t kDagNodesPerPolicy = 16;

// Returns `max_nodes`, or the automatic budget for `policies` when it is 0.
size_t DagNodeBudget(size_t max_nodes, size_t policies);

struct DagStats {
  size_t nodes = 0;
  size_t leaves = 0;
  size_t residual_leaves = 0;
};

// Fills program.nodes, switch_entries, leaves, leaf_* and root from
// program.policy_formulas, building at most DagNodeBudget(max_nodes, policy
// count) nodes. REQUIRES: Lower() has filled `program` and `store`.
// Thread-compatible.
DagStats BuildDag(FormulaStore& store, Program& program, size_t max_nodes);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_DAG_BUILDER_H_
