#include "compiler/regions.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace verdict::compiler {
namespace {

Outcome FromTruth(Truth truth) {
  switch (truth) {
    case Truth::kTrue: return Outcome::kTrue;
    case Truth::kFalse: return Outcome::kFalse;
    case Truth::kError: return Outcome::kError;
  }
  return Outcome::kUnknown;
}

// One pending node of the product walk: the node reached in each program.
struct WalkItem {
  std::array<uint32_t, 2> nodes{};
  Constraints constraints;
  bool visit_now = false;  // the filter asked to visit it as one region
};

void ExpandTest(const Universe& universe, size_t k, const WalkItem& item,
                const Node& node, std::vector<WalkItem>& out, size_t& pruned) {
  const uint32_t predicate = universe.PredicateOf(k, node.a);
  const bool is_has = universe.predicate(predicate).kind == PredicateKind::kHas;
  for (Truth truth : {Truth::kTrue, Truth::kFalse, Truth::kError}) {
    if (is_has && truth == Truth::kError) continue;  // `has` never errors
    WalkItem next{item.nodes, item.constraints, false};
    next.nodes[k] = node.children[static_cast<int>(truth)];
    if (next.constraints.Add(predicate, truth)) {
      out.push_back(std::move(next));
    } else {
      ++pruned;
    }
  }
}

void ExpandSwitch(const Universe& universe, size_t k, const WalkItem& item,
                  const Node& node, std::vector<WalkItem>& out, size_t& pruned) {
  const Program& program = universe.program(k);
  const uint32_t slot = universe.SlotOf(k, node.a);
  // Keys in text order, so the walk (and every report) is deterministic and
  // reads alphabetically.
  std::vector<std::pair<const std::string*, SwitchEntry>> entries;
  for (uint32_t i = 0; i < node.c; ++i) {
    const SwitchEntry& entry = program.switch_entries[node.b + i];
    if (entry.symbol == kNoSymbol) continue;
    entries.push_back({&program.symbols[entry.symbol], entry});
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::vector<uint32_t> keys;
  auto emit = [&](WalkItem next, bool feasible) {
    if (feasible) {
      out.push_back(std::move(next));
    } else {
      ++pruned;
    }
  };
  for (const auto& [text, entry] : entries) {
    const uint32_t symbol = universe.SymbolOf(k, entry.symbol);
    keys.push_back(symbol);
    WalkItem next{item.nodes, item.constraints, false};
    next.nodes[k] = entry.target;
    const bool feasible = next.constraints.AddSwitchKey(slot, symbol);
    emit(std::move(next), feasible);
  }
  std::sort(keys.begin(), keys.end());
  WalkItem other{item.nodes, item.constraints, false};
  other.nodes[k] = node.children[0];
  const bool other_feasible = other.constraints.AddSwitchOther(slot, keys);
  emit(std::move(other), other_feasible);
  WalkItem absent{item.nodes, item.constraints, false};
  absent.nodes[k] = node.children[1];
  const bool absent_feasible = absent.constraints.AddAbsent(slot);
  emit(std::move(absent), absent_feasible);
}

}  // namespace

Outcome EvaluateUnder(const Universe& universe, size_t program,
                      uint32_t formula, const Constraints& constraints,
                      uint32_t* branch) {
  const Program& prog = universe.program(program);
  struct Item {
    uint32_t formula;
    uint32_t next = 0;
    bool error = false;
    bool unknown = false;
    uint32_t open = kNoPredicate;  // first open predicate of an unknown child
  };
  std::vector<Item> stack{Item{formula}};
  Outcome result = Outcome::kUnknown;
  uint32_t result_open = kNoPredicate;
  while (!stack.empty()) {
    Item& top = stack.back();
    const Formula& f = prog.formulas[top.formula];
    if (f.kind == FormulaKind::kConst || f.kind == FormulaKind::kAtom) {
      result_open = kNoPredicate;
      if (f.kind == FormulaKind::kConst) {
        result = FromTruth(f.constant);
      } else {
        const uint32_t predicate = universe.PredicateOf(program, f.predicate);
        std::optional<Truth> truth = constraints.Decide(predicate);
        result = truth ? FromTruth(*truth) : Outcome::kUnknown;
        if (!truth) result_open = predicate;
      }
      stack.pop_back();
      continue;
    }
    if (f.kind == FormulaKind::kNot) {
      if (top.next == 0) {
        top.next = 1;
        stack.push_back(Item{prog.formula_children[f.begin]});
        continue;
      }
      if (result == Outcome::kTrue || result == Outcome::kFalse) {
        result = result == Outcome::kTrue ? Outcome::kFalse : Outcome::kTrue;
      }
      stack.pop_back();
      continue;
    }
    const bool is_and = f.kind == FormulaKind::kAnd;
    const Outcome dominant = is_and ? Outcome::kFalse : Outcome::kTrue;
    if (top.next > 0) {
      if (result == dominant) {
        result_open = kNoPredicate;
        stack.pop_back();
        continue;
      }
      if (result == Outcome::kUnknown && top.open == kNoPredicate) {
        top.open = result_open;
      }
      top.unknown |= result == Outcome::kUnknown;
      top.error |= result == Outcome::kError;
    }
    if (top.next == f.count) {
      result = top.unknown ? Outcome::kUnknown
               : top.error ? Outcome::kError
               : is_and    ? Outcome::kTrue
                           : Outcome::kFalse;
      result_open = top.unknown ? top.open : kNoPredicate;
      stack.pop_back();
      continue;
    }
    const uint32_t child = prog.formula_children[f.begin + top.next];
    ++top.next;
    stack.push_back(Item{child});
  }
  *branch = result == Outcome::kUnknown ? result_open : kNoPredicate;
  return result;
}

WalkStats WalkRegions(const Universe& universe, const Constraints& start,
                      size_t max_regions, const RegionVisitor& visit,
                      const SubtreeFilter& keep) {
  const size_t programs = universe.program_count();
  WalkStats stats;
  std::vector<WalkItem> stack;
  WalkItem root{{}, start, false};
  for (size_t k = 0; k < programs; ++k) root.nodes[k] = universe.program(k).root;
  const Expand expand = keep ? keep(start) : Expand::kDescend;
  if (expand == Expand::kSkip) return stats;
  root.visit_now = expand == Expand::kVisit;
  stack.push_back(std::move(root));
  std::vector<WalkItem> children;
  while (!stack.empty()) {
    WalkItem item = std::move(stack.back());
    stack.pop_back();
    size_t k = 0;
    while (k < programs &&
           universe.program(k).nodes[item.nodes[k]].kind == NodeKind::kLeaf) {
      ++k;
    }
    if (k == programs || item.visit_now) {
      if (stats.regions == max_regions) {
        stats.complete = false;
        break;
      }
      ++stats.regions;
      visit(item.constraints, std::span<const uint32_t>(item.nodes.data(), programs));
      continue;
    }
    const Node& node = universe.program(k).nodes[item.nodes[k]];
    if (node.kind == NodeKind::kTest) {
      ExpandTest(universe, k, item, node, children, stats.pruned);
    } else {
      ExpandSwitch(universe, k, item, node, children, stats.pruned);
    }
    // Pushed in reverse so that the first edge is visited first.
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      const Expand expand = keep ? keep(it->constraints) : Expand::kDescend;
      if (expand == Expand::kSkip) continue;
      if (expand == Expand::kVisit) it->visit_now = true;
      stack.push_back(std::move(*it));
    }
    children.clear();
  }
  return stats;
}

std::optional<Constraints> ReplaySteps(const Constraints& start,
                                       const std::vector<Step>& steps,
                                       const std::vector<bool>& keep) {
  Constraints c = start;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!keep[i]) continue;
    const Step& step = steps[i];
    bool feasible = true;
    switch (step.kind) {
      case StepKind::kLiteral: feasible = c.Add(step.predicate, step.truth); break;
      case StepKind::kSwitchKey: feasible = c.AddSwitchKey(step.slot, step.keys[0]); break;
      case StepKind::kSwitchOther: feasible = c.AddSwitchOther(step.slot, step.keys); break;
      case StepKind::kAbsent: feasible = c.AddAbsent(step.slot); break;
      case StepKind::kPresent: feasible = c.AddPresent(step.slot); break;
    }
    if (!feasible) return std::nullopt;
  }
  return c;
}

SearchResult Search(const Constraints& start, const GoalCheck& goal,
                    const Acceptor& accept, const SearchLimits& limits,
                    SearchStats* stats) {
  SearchStats local;
  SearchStats& counts = stats != nullptr ? *stats : local;
  struct Item {
    Constraints constraints;
    size_t depth = 0;
  };
  std::vector<Item> stack;
  stack.push_back(Item{start, 0});
  bool uncertain = false, witnessed = false;
  size_t steps = 0, rejected = 0;
  while (!stack.empty()) {
    if (++steps > limits.max_steps) {
      ++counts.cut;
      return SearchResult::kUnknown;
    }
    ++counts.steps;
    Item item = std::move(stack.back());
    stack.pop_back();
    uint32_t branch = kNoPredicate;
    const Probe probe = goal(item.constraints, &branch);
    if (probe == Probe::kViolated) continue;
    if (probe == Probe::kSatisfied) {
      if (accept(item.constraints)) {
        if (!limits.find_all) return SearchResult::kWitnessed;
        witnessed = true;
        continue;
      }
      uncertain = true;
      if (!limits.find_all && ++rejected >= limits.max_rejected) {
        return SearchResult::kUnknown;
      }
      continue;
    }
    if (item.depth >= limits.max_depth || branch == kNoPredicate) {
      uncertain = true;
      ++counts.cut;
      continue;
    }
    if (branch & kPresenceBranch) {
      const uint32_t slot = branch & ~kPresenceBranch;
      for (bool present : {false, true}) {
        Item next{item.constraints, item.depth + 1};
        const bool feasible = present ? next.constraints.AddPresent(slot)
                                      : next.constraints.AddAbsent(slot);
        if (feasible) {
          stack.push_back(std::move(next));
        } else {
          ++counts.pruned;
        }
      }
      continue;
    }
    // Pushed in reverse so that `true` is tried first.
    for (Truth truth : {Truth::kError, Truth::kFalse, Truth::kTrue}) {
      Item next{item.constraints, item.depth + 1};
      if (next.constraints.Add(branch, truth)) {
        stack.push_back(std::move(next));
      } else {
        ++counts.pruned;
      }
    }
  }
  if (uncertain) return SearchResult::kUnknown;
  return witnessed ? SearchResult::kWitnessed : SearchResult::kNone;
}

}  // namespace verdict::compiler
