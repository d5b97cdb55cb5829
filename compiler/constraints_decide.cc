// Constraints::Decide and the checks it shares with Add: which outcomes
// every request of a region gives.

#include <algorithm>

#include "compiler/constraints.h"

namespace verdict::compiler {
namespace {

template <typename T>
bool SortedContains(const std::vector<T>& values, const T& value) {
  return std::binary_search(values.begin(), values.end(), value);
}

// The outcome of `value op constant` for every allowed value of `c`.
std::optional<bool> DecideInt(const SlotConstraint& c, IntOp op, int64_t k) {
  switch (op) {
    case IntOp::kEq:
    case IntOp::kNe: {
      std::optional<bool> equal;
      if (c.low == c.high) {
        equal = c.low == k;
      } else if (k < c.low || k > c.high || SortedContains(c.holes, k)) {
        equal = false;
      }
      if (!equal) return std::nullopt;
      return op == IntOp::kEq ? *equal : !*equal;
    }
    case IntOp::kLt:
      if (c.high < k) return true;
      if (c.low >= k) return false;
      return std::nullopt;
    case IntOp::kLe:
      if (c.high <= k) return true;
      if (c.low > k) return false;
      return std::nullopt;
    case IntOp::kGt:
      if (c.low > k) return true;
      if (c.high <= k) return false;
      return std::nullopt;
    case IntOp::kGe:
      if (c.low >= k) return true;
      if (c.high < k) return false;
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

SlotConstraint SetSizeRange(const SlotConstraint& c) {
  SlotConstraint range;
  range.holes = c.holes;
  range.high = c.high;
  range.low = c.set_fixed ? static_cast<int64_t>(c.set_value.size())
                          : std::max<int64_t>(c.low, c.contains.size());
  if (c.set_fixed) range.high = std::min<int64_t>(range.high, range.low);
  while (range.low <= range.high && SortedContains(range.holes, range.low)) {
    ++range.low;
  }
  if (range.low > range.high) return range;
  if (range.low < c.low) range.low = range.high + 1;  // fixed size below the bound
  return range;
}

bool TextAllowed(const SlotConstraint& c, std::string_view text,
                 uint32_t symbol) {
  if (symbol != kNoSymbol && SortedContains(c.excluded, symbol)) return false;
  for (const std::string& p : c.prefixes) {
    if (!text.starts_with(p)) return false;
  }
  for (const std::string& s : c.suffixes) {
    if (!text.ends_with(s)) return false;
  }
  for (const std::string& p : c.not_prefixes) {
    if (text.starts_with(p)) return false;
  }
  for (const std::string& s : c.not_suffixes) {
    if (text.ends_with(s)) return false;
  }
  return true;
}

bool Constraints::AcceptsText(uint32_t slot, std::string_view text,
                              uint32_t symbol) const {
  const SlotConstraint& c = slots_[slot];
  if (c.equal != kNoSymbol && symbol != c.equal) return false;
  if (c.restricted && (symbol == kNoSymbol || !SortedContains(c.candidates, symbol))) {
    return false;
  }
  return TextAllowed(c, text, symbol);
}

std::optional<Truth> Constraints::Decide(uint32_t predicate) const {
  auto it = std::lower_bound(
      literals_.begin(), literals_.end(), predicate,
      [](const std::pair<uint32_t, Truth>& l, uint32_t p) { return l.first < p; });
  if (it != literals_.end() && it->first == predicate) return it->second;
  const UniversePredicate& p = universe_->predicate(predicate);
  if (p.kind == PredicateKind::kHas) {
    Presence presence = slots_[p.slot].presence;
    if (presence == Presence::kUnknown) return std::nullopt;
    return presence == Presence::kPresent ? Truth::kTrue : Truth::kFalse;
  }
  bool all_present = true;
  for (uint32_t slot : p.slots) {
    if (slots_[slot].presence == Presence::kAbsent) return Truth::kError;
    all_present &= slots_[slot].presence == Presence::kPresent;
  }
  if (!p.modeled || !all_present || p.may_overflow) return std::nullopt;
  std::optional<bool> value = DecideValue(p);
  if (!value) return std::nullopt;
  return *value ? Truth::kTrue : Truth::kFalse;
}

std::optional<bool> Constraints::DecideValue(const UniversePredicate& p) const {
  switch (p.kind) {
    case PredicateKind::kBoolIs:
      return DecideInt(slots_[p.slot], IntOp::kNe, 0);
    case PredicateKind::kStrEq:
    case PredicateKind::kStrInConst:
    case PredicateKind::kStrStartsWith:
    case PredicateKind::kStrEndsWith:
      return DecideString(p.slot, p);
    case PredicateKind::kStrEqSlot: {
      uint32_t a = slots_[p.slot].equal, b = slots_[p.slot2].equal;
      if (a != kNoSymbol && b != kNoSymbol) return a == b;
      if (a != kNoSymbol && !AcceptsText(p.slot2, universe_->SymbolText(a), a)) {
        return false;
      }
      if (b != kNoSymbol && !AcceptsText(p.slot, universe_->SymbolText(b), b)) {
        return false;
      }
      return std::nullopt;
    }
    case PredicateKind::kSetContains:
      return DecideSet(slots_[p.slot], p.symbol);
    case PredicateKind::kSetContainsSlot:
      if (slots_[p.slot2].equal == kNoSymbol) return std::nullopt;
      return DecideSet(slots_[p.slot], slots_[p.slot2].equal);
    case PredicateKind::kSetContainsAllConst:
    case PredicateKind::kSetContainsAnyConst: {
      const bool all = p.kind == PredicateKind::kSetContainsAllConst;
      size_t in = 0, out = 0;
      for (uint32_t symbol : p.set) {
        std::optional<bool> member = DecideSet(slots_[p.slot], symbol);
        in += member == true;
        out += member == false;
      }
      if (all) {
        if (in == p.set.size()) return true;
        if (out > 0) return false;
      } else {
        if (in > 0) return true;
        if (out == p.set.size()) return false;
      }
      return std::nullopt;
    }
    case PredicateKind::kSetEqConst: {
      const SlotConstraint& c = slots_[p.slot];
      if (c.set_fixed) return c.set_value == p.set;
      for (const auto& other : c.set_not_equal) {
        if (other == p.set) return false;
      }
      for (uint32_t s : c.contains) {
        if (!SortedContains(p.set, s)) return false;
      }
      for (uint32_t s : c.not_contains) {
        if (SortedContains(p.set, s)) return false;
      }
      return std::nullopt;
    }
    case PredicateKind::kIntCompare:
      if (!p.simple_int) return std::nullopt;
      if (p.set_size) {
        const SlotConstraint range = SetSizeRange(slots_[p.slot]);
        if (range.low > range.high) return std::nullopt;
        return DecideInt(range, p.op, p.constant);
      }
      return DecideInt(slots_[p.slot], p.op, p.constant);
    default:
      return std::nullopt;
  }
}

bool Constraints::Holds(const UniversePredicate& p, uint32_t symbol) const {
  const std::string& text = universe_->SymbolText(symbol);
  switch (p.kind) {
    case PredicateKind::kStrEq: return symbol == p.symbol;
    case PredicateKind::kStrInConst: return SortedContains(p.set, symbol);
    case PredicateKind::kStrStartsWith: return text.starts_with(p.text);
    case PredicateKind::kStrEndsWith: return text.ends_with(p.text);
    default: return false;
  }
}

std::optional<bool> Constraints::DecideString(uint32_t slot,
                                              const UniversePredicate& p) const {
  const SlotConstraint& c = slots_[slot];
  if (c.equal != kNoSymbol) return Holds(p, c.equal);
  if (c.restricted) {
    size_t hits = 0;
    for (uint32_t s : c.candidates) hits += Holds(p, s);
    if (hits == c.candidates.size()) return true;
    if (hits == 0) return false;
    return std::nullopt;
  }
  // Unrestricted: strings no program mentions are possible values.
  switch (p.kind) {
    case PredicateKind::kStrEq:
      if (!TextAllowed(c, universe_->SymbolText(p.symbol), p.symbol)) return false;
      return std::nullopt;
    case PredicateKind::kStrInConst:
      for (uint32_t s : p.set) {
        if (TextAllowed(c, universe_->SymbolText(s), s)) return std::nullopt;
      }
      return false;
    case PredicateKind::kStrStartsWith:
    case PredicateKind::kStrEndsWith: {
      const bool prefix = p.kind == PredicateKind::kStrStartsWith;
      auto contains = [&](const std::string& outer, const std::string& inner) {
        return prefix ? outer.starts_with(inner) : outer.ends_with(inner);
      };
      for (const std::string& q : prefix ? c.prefixes : c.suffixes) {
        if (contains(q, p.text)) return true;
        if (!contains(p.text, q)) return false;
      }
      for (const std::string& n : prefix ? c.not_prefixes : c.not_suffixes) {
        if (contains(p.text, n)) return false;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<bool> Constraints::DecideSet(const SlotConstraint& c,
                                           uint32_t symbol) const {
  if (c.set_fixed) return SortedContains(c.set_value, symbol);
  if (SortedContains(c.contains, symbol)) return true;
  if (SortedContains(c.not_contains, symbol)) return false;
  return std::nullopt;
}

}  // namespace verdict::compiler
