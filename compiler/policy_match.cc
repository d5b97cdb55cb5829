#include "compiler/policy_match.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "compiler/regions.h"

namespace verdict::compiler {
namespace {

// The attribute paths that a policy's obligations read, sorted. Advice
// never changes a decision, so it is left out.
std::vector<std::string> ObligationPaths(const Program& program,
                                         const PolicyInfo& info) {
  std::vector<std::string> paths;
  for (const Duty& duty : info.duties) {
    if (duty.advice) continue;
    for (const DutyField& field : duty.fields) {
      if (field.slot != kNoSlot) paths.push_back(program.slots[field.slot].path);
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

PolicyMatcher::PolicyMatcher(const Universe& universe) : universe_(universe) {
  const Program& before = universe.program(0);
  const Program& after = universe.program(1);
  absl::flat_hash_map<std::string, uint32_t> by_id;
  for (uint32_t p = 0; p < after.policies.size(); ++p) {
    by_id.emplace(after.policies[p].id, p);
  }
  std::vector<bool> matched(after.policies.size(), false);
  for (uint32_t p = 0; p < before.policies.size(); ++p) {
    auto it = by_id.find(before.policies[p].id);
    if (it == by_id.end()) {
      unmatched_.push_back({0, p});
      continue;
    }
    matched[it->second] = true;
    const PolicyInfo& a = before.policies[p];
    const PolicyInfo& b = after.policies[it->second];
    const bool same =
        a.effect == b.effect &&
        FormulasEqual(before.policy_formulas[p], after.policy_formulas[it->second]) &&
        ObligationPaths(before, a) == ObligationPaths(after, b);
    if (!same) differing_.push_back(Pair{p, it->second});
  }
  for (uint32_t p = 0; p < after.policies.size(); ++p) {
    if (!matched[p]) unmatched_.push_back({1, p});
  }
  comparable_ = before.has_policy_sets == after.has_policy_sets &&
                (!before.has_policy_sets || (unmatched_.empty() && SetsEqual()));
}

// Compares two formula trees node by node, atoms by universe predicate.
bool PolicyMatcher::FormulasEqual(uint32_t old_formula, uint32_t new_formula) const {
  const Program& before = universe_.program(0);
  const Program& after = universe_.program(1);
  std::vector<std::pair<uint32_t, uint32_t>> stack = {{old_formula, new_formula}};
  while (!stack.empty()) {
    auto [x_index, y_index] = stack.back();
    stack.pop_back();
    const Formula& x = before.formulas[x_index];
    const Formula& y = after.formulas[y_index];
    if (x.kind != y.kind || x.count != y.count) return false;
    if (x.kind == FormulaKind::kConst) {
      if (x.constant != y.constant) return false;
    } else if (x.kind == FormulaKind::kAtom) {
      if (universe_.PredicateOf(0, x.predicate) != universe_.PredicateOf(1, y.predicate)) {
        return false;
      }
    } else {
      for (uint32_t i = 0; i < x.count; ++i) {
        stack.push_back({before.formula_children[x.begin + i],
                         after.formula_children[y.begin + i]});
      }
    }
  }
  return true;
}

// True when both versions group their policies into the same sets, with
// the same algorithms and members in the same order.
bool PolicyMatcher::SetsEqual() const {
  const Program& before = universe_.program(0);
  const Program& after = universe_.program(1);
  if (before.sets.size() != after.sets.size()) return false;
  for (size_t s = 0; s < before.sets.size(); ++s) {
    const PolicySetInfo& a = before.sets[s];
    const PolicySetInfo& b = after.sets[s];
    if (a.algorithm != b.algorithm || a.members.size() != b.members.size()) {
      return false;
    }
    for (size_t m = 0; m < a.members.size(); ++m) {
      const SetMember& x = a.members[m];
      const SetMember& y = b.members[m];
      if (x.is_set != y.is_set) return false;
      if (x.is_set ? x.index != y.index
                   : before.policies[x.index].id != after.policies[y.index].id) {
        return false;
      }
    }
  }
  return true;
}

int PolicyMatcher::Contribution(size_t program, uint32_t policy,
                                const Constraints& c) const {
  const Program& p = universe_.program(program);
  uint32_t branch = kNoPredicate;
  const Outcome outcome =
      EvaluateUnder(universe_, program, p.policy_formulas[policy], c, &branch);
  if (outcome == Outcome::kUnknown) return -1;
  if (p.policies[policy].effect == PolicyEffect::kPermit) {
    return outcome == Outcome::kTrue ? 1 : 0;
  }
  return outcome == Outcome::kFalse ? 0 : 2;
}

uint32_t PolicyMatcher::OpenDifferingPredicate(const Constraints& c) const {
  auto open = [&](size_t program, uint32_t policy) {
    uint32_t branch = kNoPredicate;
    const Program& p = universe_.program(program);
    EvaluateUnder(universe_, program, p.policy_formulas[policy], c, &branch);
    return branch;
  };
  for (const Pair& pair : differing_) {
    for (uint32_t branch : {open(0, pair.old_policy), open(1, pair.new_policy)}) {
      if (branch != kNoPredicate) return branch;
    }
  }
  for (const auto& [program, policy] : unmatched_) {
    const uint32_t branch = open(program, policy);
    if (branch != kNoPredicate) return branch;
  }
  return kNoPredicate;
}

bool PolicyMatcher::SameDecisions(const Constraints& c) const {
  if (!comparable_) return false;
  for (const Pair& pair : differing_) {
    const int before = Contribution(0, pair.old_policy, c);
    if (before < 0 || before != Contribution(1, pair.new_policy, c)) return false;
    // Permits that apply in both may still carry different obligations.
    const Program& a = universe_.program(0);
    const Program& b = universe_.program(1);
    if (before == 1 && ObligationPaths(a, a.policies[pair.old_policy]) !=
                           ObligationPaths(b, b.policies[pair.new_policy])) {
      return false;
    }
  }
  for (const auto& [program, policy] : unmatched_) {
    if (Contribution(program, policy, c) != 0) return false;
  }
  return true;
}

}  // namespace verdict::compiler
