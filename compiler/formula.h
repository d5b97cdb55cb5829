// Hash-consed condition formulas over predicates, under Kleene logic.
//
// Lowering turns each policy condition into a formula; the DAG builder then
// substitutes predicate outcomes into formulas as it branches. Identical
// formulas share one index, so equal residual conditions on different paths
// are recognised by comparing integers.

#ifndef VERDICT_COMPILER_FORMULA_H_
#define VERDICT_COMPILER_FORMULA_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/container/node_hash_map.h"
#include "engine/program.h"

namespace verdict::compiler {

// Outcomes assigned to predicates on one branch of the DAG. For kError the
// second member of the value names the predicate whose error it stands for.
// A switch assigns every key's predicate at once, so lookups are hashed:
// Find costs O(1) however many predicates are assigned.
class Assignment {
 public:
  // Assigns `predicate` unless it already has an outcome; the first wins.
  void Set(uint32_t predicate, Truth truth, uint32_t error_predicate) {
    outcomes_.try_emplace(predicate, truth, error_predicate);
  }
  // Makes every predicate p with error_slots[p] == slot error (naming
  // itself) unless Set gave it an outcome. An absent attribute can be read
  // by thousands of predicates (one per group in `X in subject.$ancestors`),
  // so they are matched on lookup instead of listed. REQUIRES:
  // `error_slots` has one entry per predicate and outlives the assignment.
  void SetAbsent(uint32_t slot, const std::vector<uint32_t>& error_slots) {
    error_slots_ = &error_slots;
    absent_slots_.push_back(slot);
  }
  // Returns the outcome of `predicate`: its truth value and, for kError,
  // the predicate whose error it stands for.
  std::optional<std::pair<Truth, uint32_t>> Find(uint32_t predicate) const;

 private:
  absl::flat_hash_map<uint32_t, std::pair<Truth, uint32_t>> outcomes_;
  const std::vector<uint32_t>* error_slots_ = nullptr;
  std::vector<uint32_t> absent_slots_;
};

// Thread-compatible.
class FormulaStore {
 public:
  FormulaStore();
  // The index's hash and equality read the store they belong to.
  FormulaStore(const FormulaStore&) = delete;
  FormulaStore& operator=(const FormulaStore&) = delete;

  uint32_t Constant(Truth truth, uint32_t error_predicate = 0);
  uint32_t Atom(uint32_t predicate);
  uint32_t Not(uint32_t operand);
  // Both simplify under Kleene logic: `and` is false if any operand is
  // false, else errored if any is, else true; `or` is the dual.
  uint32_t And(std::vector<uint32_t> operands);
  uint32_t Or(std::vector<uint32_t> operands);

  const Formula& at(uint32_t index) const { return formulas_[index]; }
  std::span<const uint32_t> Children(uint32_t index) const;
  bool IsConstant(uint32_t index) const {
    return formulas_[index].kind == FormulaKind::kConst;
  }

  // Returns `formula` with the assigned predicates replaced by constants and
  // simplified. `memo` caches results for one assignment across calls.
  uint32_t Substitute(uint32_t formula, const Assignment& assignment,
                      absl::flat_hash_map<uint32_t, uint32_t>& memo);

  // Returns the distinct predicates `formula` mentions, sorted.
  const std::vector<uint32_t>& Predicates(uint32_t formula);

  // Moves the formulas into the program's flat arrays; indexes are kept.
  void MoveTo(Program& program);

 private:
  // The identity of a formula: every field but where its children are
  // stored.
  struct Key {
    FormulaKind kind;
    Truth constant;
    uint32_t predicate;
    std::span<const uint32_t> children;

    template <typename H>
    friend H AbslHashValue(H h, const Key& key) {
      h = H::combine_contiguous(std::move(h), key.children.data(),
                                key.children.size());
      return H::combine(std::move(h), key.kind, key.constant, key.predicate,
                        key.children.size());
    }
    friend bool operator==(const Key& a, const Key& b) {
      return a.kind == b.kind && a.constant == b.constant &&
             a.predicate == b.predicate &&
             std::equal(a.children.begin(), a.children.end(),
                        b.children.begin(), b.children.end());
    }
  };
  // The index contains formula numbers and hashes each by its Key, so
  // interning builds no key of its own.
  struct IndexHash {
    using is_transparent = void;
    size_t operator()(const Key& key) const { return absl::Hash<Key>{}(key); }
    size_t operator()(uint32_t formula) const {
      return (*this)(store->KeyOf(formula));
    }
    const FormulaStore* store;
  };
  struct IndexEq {
    using is_transparent = void;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, const Key& b) const {
      return store->KeyOf(a) == b;
    }
    bool operator()(const Key& a, uint32_t b) const {
      return a == store->KeyOf(b);
    }
    const FormulaStore* store;
  };

  Key KeyOf(uint32_t formula) const {
    const Formula& f = formulas_[formula];
    return Key{f.kind, f.constant, f.predicate, Children(formula)};
  }
  uint32_t Intern(Formula formula, std::vector<uint32_t> children);
  uint32_t Combine(FormulaKind kind, std::vector<uint32_t> operands);

  std::vector<Formula> formulas_;
  std::vector<uint32_t> children_;
  absl::flat_hash_set<uint32_t, IndexHash, IndexEq> index_;
  absl::node_hash_map<uint32_t, std::vector<uint32_t>> predicates_;  // stable references
};

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_FORMULA_H_
