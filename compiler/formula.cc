#include "compiler/formula.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace verdict::compiler {
namespace {

Truth Negate(Truth truth) {
  switch (truth) {
    case Truth::kTrue: return Truth::kFalse;
    case Truth::kFalse: return Truth::kTrue;
    case Truth::kError: return Truth::kError;
  }
  return Truth::kError;
}

}  // namespace

std::optional<std::pair<Truth, uint32_t>> Assignment::Find(
    uint32_t predicate) const {
  auto it = outcomes_.find(predicate);
  if (it != outcomes_.end()) return it->second;
  if (error_slots_ != nullptr &&
      std::find(absent_slots_.begin(), absent_slots_.end(),
                (*error_slots_)[predicate]) != absent_slots_.end()) {
    return std::make_pair(Truth::kError, predicate);
  }
  return std::nullopt;
}

FormulaStore::FormulaStore()
    : index_(0, IndexHash{this}, IndexEq{this}) {}

uint32_t FormulaStore::Intern(Formula formula, std::vector<uint32_t> children) {
  const Key key{formula.kind, formula.constant, formula.predicate, children};
  return *index_.lazy_emplace(key, [&](const auto& construct) {
    const auto index = static_cast<uint32_t>(formulas_.size());
    formula.begin = static_cast<uint32_t>(children_.size());
    formula.count = static_cast<uint32_t>(children.size());
    children_.insert(children_.end(), children.begin(), children.end());
    formulas_.push_back(formula);
    construct(index);
  });
}

uint32_t FormulaStore::Constant(Truth truth, uint32_t error_predicate) {
  Formula formula;
  formula.kind = FormulaKind::kConst;
  formula.constant = truth;
  formula.predicate = truth == Truth::kError ? error_predicate : 0;
  return Intern(formula, {});
}

uint32_t FormulaStore::Atom(uint32_t predicate) {
  Formula formula;
  formula.kind = FormulaKind::kAtom;
  formula.predicate = predicate;
  return Intern(formula, {});
}

uint32_t FormulaStore::Not(uint32_t operand) {
  const Formula& inner = formulas_[operand];
  if (inner.kind == FormulaKind::kConst) {
    return Constant(Negate(inner.constant), inner.predicate);
  }
  if (inner.kind == FormulaKind::kNot) return children_[inner.begin];
  Formula formula;
  formula.kind = FormulaKind::kNot;
  return Intern(formula, {operand});
}

uint32_t FormulaStore::And(std::vector<uint32_t> operands) {
  return Combine(FormulaKind::kAnd, std::move(operands));
}

uint32_t FormulaStore::Or(std::vector<uint32_t> operands) {
  return Combine(FormulaKind::kOr, std::move(operands));
}

uint32_t FormulaStore::Combine(FormulaKind kind,
                               std::vector<uint32_t> operands) {
  // `and` is decided by a false operand and neutral to true; `or` the dual.
  const Truth dominant = kind == FormulaKind::kAnd ? Truth::kFalse : Truth::kTrue;
  const Truth neutral = kind == FormulaKind::kAnd ? Truth::kTrue : Truth::kFalse;
  std::vector<uint32_t> kept;
  uint32_t first_error = UINT32_MAX;
  for (uint32_t operand : operands) {
    const Formula& formula = formulas_[operand];
    if (formula.kind == kind) {
      // Flatten nested operators of the same kind.
      auto children = Children(operand);
      kept.insert(kept.end(), children.begin(), children.end());
      continue;
    }
    if (formula.kind != FormulaKind::kConst) {
      kept.push_back(operand);
      continue;
    }
    if (formula.constant == dominant) return Constant(dominant);
    if (formula.constant == Truth::kError && first_error == UINT32_MAX) {
      first_error = operand;
    }
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  if (kept.empty()) {
    return first_error == UINT32_MAX ? Constant(neutral) : first_error;
  }
  if (first_error != UINT32_MAX) kept.push_back(first_error);
  if (kept.size() == 1) return kept[0];
  Formula formula;
  formula.kind = kind;
  return Intern(formula, std::move(kept));
}

std::span<const uint32_t> FormulaStore::Children(uint32_t index) const {
  const Formula& formula = formulas_[index];
  return std::span<const uint32_t>(children_).subspan(formula.begin,
                                                      formula.count);
}

uint32_t FormulaStore::Substitute(uint32_t formula, const Assignment& assignment,
                                  absl::flat_hash_map<uint32_t, uint32_t>& memo) {
  auto cached = memo.find(formula);
  if (cached != memo.end()) return cached->second;
  const Formula node = formulas_[formula];
  uint32_t result = formula;
  switch (node.kind) {
    case FormulaKind::kConst:
      break;
    case FormulaKind::kAtom:
      if (const auto value = assignment.Find(node.predicate)) {
        result = Constant(value->first, value->second);
      }
      break;
    case FormulaKind::kNot:
      result = Not(Substitute(children_[node.begin], assignment, memo));
      break;
    case FormulaKind::kAnd:
    case FormulaKind::kOr: {
      std::vector<uint32_t> operands;
      bool changed = false;
      for (uint32_t i = 0; i < node.count; ++i) {
        uint32_t child = children_[node.begin + i];
        uint32_t substituted = Substitute(child, assignment, memo);
        changed |= substituted != child;
        operands.push_back(substituted);
      }
      if (changed) result = Combine(node.kind, std::move(operands));
      break;
    }
  }
  memo[formula] = result;
  return result;
}

const std::vector<uint32_t>& FormulaStore::Predicates(uint32_t formula) {
  auto it = predicates_.find(formula);
  if (it != predicates_.end()) return it->second;
  std::vector<uint32_t> out;
  const Formula node = formulas_[formula];
  if (node.kind == FormulaKind::kAtom) {
    out.push_back(node.predicate);
  } else {
    for (uint32_t i = 0; i < node.count; ++i) {
      const std::vector<uint32_t>& inner =
          Predicates(children_[node.begin + i]);
      out.insert(out.end(), inner.begin(), inner.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return predicates_[formula] = std::move(out);
}

void FormulaStore::MoveTo(Program& program) {
  program.formulas = std::move(formulas_);
  program.formula_children = std::move(children_);
  index_.clear();
  predicates_.clear();
}

}  // namespace verdict::compiler
