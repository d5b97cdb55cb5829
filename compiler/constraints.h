// Constraints on the requests of one region: what a DAG path (or the
// intersection of two paths) implies for each attribute.
//
// A region is the set of decoded requests for which a conjunction of
// predicate outcomes and switch edges is true. Constraints keeps, per slot,
// what the outcomes imply: presence, a known value or a finite set of
// candidates and excluded symbols, affixes for strings, required and
// excluded elements for sets, and an interval with holes for integers.
//
// Soundness contract, which the analyses' exact findings rest on:
//   * Add* returns false only when no request satisfies the constraints
//     (the region is infeasible). Anything it cannot decide it accepts.
//   * Decide returns an outcome only when every request in the region
//     gives that outcome.
// Predicates that the Universe does not model are remembered as stated and
// never inferred.
//
// A value type: copy it to branch. Thread-compatible. Cost: Add and Decide
// are linear in the constraints on the slots the predicate reads.

#ifndef VERDICT_COMPILER_CONSTRAINTS_H_
#define VERDICT_COMPILER_CONSTRAINTS_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/universe.h"
#include "engine/program.h"

namespace verdict::compiler {

enum class Presence : uint8_t { kUnknown, kPresent, kAbsent };

struct SlotConstraint {
  Presence presence = Presence::kUnknown;
  // string and list<string> slots.
  uint32_t equal = kNoSymbol;          // the value, when known
  bool restricted = false;             // the value is one of `candidates`
  std::vector<uint32_t> candidates;    // sorted universe symbols
  std::vector<uint32_t> excluded;      // sorted universe symbols
  std::vector<std::string> prefixes, suffixes, not_prefixes, not_suffixes;
  // set<string> slots.
  std::vector<uint32_t> contains, not_contains;  // sorted
  bool set_fixed = false;
  std::vector<uint32_t> set_value;  // sorted, when set_fixed
  std::vector<std::vector<uint32_t>> set_not_equal;
  // Integral slots: the value lies in [low, high] and is not a hole. After
  // every change, low and high are themselves allowed values. For a set
  // slot the same fields bound its size.
  int64_t low = std::numeric_limits<int64_t>::min();
  int64_t high = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> holes;  // sorted, strictly inside [low, high]
};

// One condition of a region, kept in the order it was added, for rendering
// and for checking a witness request. Steps already implied when added are
// not kept.
enum class StepKind : uint8_t {
  kLiteral,      // predicate has outcome `truth`
  kSwitchKey,    // slot == keys[0]
  kSwitchOther,  // slot present and not in keys
  kAbsent,       // slot absent (a switch's absent edge)
  kPresent,      // slot present
};

struct Step {
  StepKind kind = StepKind::kLiteral;
  uint32_t predicate = 0;
  Truth truth = Truth::kTrue;
  uint32_t slot = kNoSlot;
  std::vector<uint32_t> keys;  // sorted universe symbols
};

class Constraints {
 public:
  // REQUIRES: `universe` outlives the constraints.
  explicit Constraints(const Universe& universe);

  // Each returns false when the region becomes infeasible.
  bool Add(uint32_t predicate, Truth truth);
  bool AddSwitchKey(uint32_t slot, uint32_t symbol);
  bool AddSwitchOther(uint32_t slot, std::span<const uint32_t> keys);
  bool AddAbsent(uint32_t slot);
  bool AddPresent(uint32_t slot);
  // Presence facts that are not region conditions, such as `env.now`,
  // which decoding always fills. Not recorded as steps.
  bool RequirePresent(uint32_t slot);
  bool RequireAllPresent();

  // The outcome of `predicate` on every request of the region, if one.
  std::optional<Truth> Decide(uint32_t predicate) const;
  // True when a string slot may hold `text` (`symbol` is its universe
  // symbol, or kNoSymbol for a text that no program contains).
  bool AcceptsText(uint32_t slot, std::string_view text, uint32_t symbol) const;

  const Universe& universe() const { return *universe_; }
  const SlotConstraint& slot(uint32_t index) const { return slots_[index]; }
  const std::vector<Step>& steps() const { return steps_; }
  // Every outcome stated, implied or not, sorted by predicate.
  const std::vector<std::pair<uint32_t, Truth>>& literals() const {
    return literals_;
  }
  bool all_present() const { return all_present_; }

 private:
  bool SetPresence(uint32_t slot, Presence presence);
  bool AddValue(const UniversePredicate& p, Truth truth);
  bool AddPresenceFromOutcome(const UniversePredicate& p, Truth truth);
  bool AddInt(uint32_t slot, IntOp op, int64_t constant);
  bool Restrict(uint32_t slot, std::span<const uint32_t> allowed);
  bool Exclude(uint32_t slot, std::span<const uint32_t> symbols);
  bool AddAffix(uint32_t slot, bool prefix, bool holds, const std::string& text);
  bool AddSetOutcome(const UniversePredicate& p, Truth truth);
  bool AddSetValue(const UniversePredicate& p, Truth truth);
  bool AddMember(SlotConstraint& c, uint32_t symbol, bool holds);
  bool NormalizeSymbols(uint32_t slot);
  bool NormalizeInt(SlotConstraint& slot);
  bool CheckSetSize(const SlotConstraint& c) const;
  std::optional<bool> DecideValue(const UniversePredicate& p) const;
  std::optional<bool> DecideString(uint32_t slot, const UniversePredicate& p) const;
  std::optional<bool> DecideSet(const SlotConstraint& c, uint32_t symbol) const;
  bool Holds(const UniversePredicate& p, uint32_t symbol) const;

  const Universe* universe_;
  std::vector<SlotConstraint> slots_;
  std::vector<std::pair<uint32_t, Truth>> literals_;
  std::vector<Step> steps_;
  bool all_present_ = false;
};

// True when `value op constant` is true.
bool CompareInt(int64_t value, IntOp op, int64_t constant);

// The interval of a set slot's size, tightened by the elements it must
// contain (or fixed by its value); low and high are allowed sizes unless
// the interval is empty (low > high).
SlotConstraint SetSizeRange(const SlotConstraint& c);

// True when the excluded symbols and the affixes of `c` allow `text`
// (`symbol` is its universe symbol, or kNoSymbol); ignores candidates.
bool TextAllowed(const SlotConstraint& c, std::string_view text,
                 uint32_t symbol);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_CONSTRAINTS_H_
