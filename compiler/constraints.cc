#include "compiler/constraints.h"

#include <algorithm>

namespace verdict::compiler {
namespace {

template <typename T>
bool SortedContains(const std::vector<T>& values, const T& value) {
  return std::binary_search(values.begin(), values.end(), value);
}

template <typename T>
void SortedInsert(std::vector<T>& values, const T& value) {
  auto it = std::lower_bound(values.begin(), values.end(), value);
  if (it == values.end() || *it != value) values.insert(it, value);
}

IntOp Negated(IntOp op) {
  switch (op) {
    case IntOp::kEq: return IntOp::kNe;
    case IntOp::kNe: return IntOp::kEq;
    case IntOp::kLt: return IntOp::kGe;
    case IntOp::kLe: return IntOp::kGt;
    case IntOp::kGt: return IntOp::kLe;
    case IntOp::kGe: return IntOp::kLt;
  }
  return op;
}

// The longest of `affixes` when every other one is contained in it (as a
// prefix, or as a suffix when `prefix` is false); nullopt when two conflict.
std::optional<std::string> LongestAffix(const std::vector<std::string>& affixes,
                                        bool prefix) {
  std::string longest;
  for (const std::string& a : affixes) {
    if (a.size() > longest.size()) longest = a;
  }
  for (const std::string& a : affixes) {
    if (prefix ? !longest.starts_with(a) : !longest.ends_with(a)) {
      return std::nullopt;
    }
  }
  return longest;
}

}  // namespace

bool CompareInt(int64_t value, IntOp op, int64_t constant) {
  switch (op) {
    case IntOp::kEq: return value == constant;
    case IntOp::kNe: return value != constant;
    case IntOp::kLt: return value < constant;
    case IntOp::kLe: return value <= constant;
    case IntOp::kGt: return value > constant;
    case IntOp::kGe: return value >= constant;
  }
  return false;
}

Constraints::Constraints(const Universe& universe)
    : universe_(&universe), slots_(universe.slot_count()) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (universe.slot(i).type == Type::kBool) {
      slots_[i].low = 0;
      slots_[i].high = 1;
    } else if (universe.slot(i).type == Type::kStringSet) {
      slots_[i].low = 0;  // the size
    }
  }
}

// Sets a slot's presence and what follows for computed ancestors: they are
// present exactly when the group's type and id both are.
bool Constraints::SetPresence(uint32_t slot, Presence presence) {
  std::vector<std::pair<uint32_t, Presence>> pending = {{slot, presence}};
  while (!pending.empty()) {
    auto [s, p] = pending.back();
    pending.pop_back();
    SlotConstraint& c = slots_[s];
    if (c.presence == p) continue;
    if (c.presence != Presence::kUnknown) return false;
    c.presence = p;
    for (const Universe::AncestorsLink& link : universe_->ancestors_links()) {
      const Presence type = slots_[link.type].presence;
      const Presence id = slots_[link.id].presence;
      if (s == link.ancestors && p == Presence::kPresent) {
        pending.push_back({link.type, Presence::kPresent});
        pending.push_back({link.id, Presence::kPresent});
      } else if ((s == link.type || s == link.id) && p == Presence::kAbsent) {
        pending.push_back({link.ancestors, Presence::kAbsent});
      } else if ((s == link.type || s == link.id) && type == Presence::kPresent &&
                 id == Presence::kPresent) {
        pending.push_back({link.ancestors, Presence::kPresent});
      }
    }
  }
  return true;
}

bool Constraints::RequirePresent(uint32_t slot) {
  return SetPresence(slot, Presence::kPresent);
}

bool Constraints::RequireAllPresent() {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!SetPresence(i, Presence::kPresent)) return false;
  }
  all_present_ = true;
  return true;
}

bool Constraints::Add(uint32_t predicate, Truth truth) {
  auto it = std::lower_bound(
      literals_.begin(), literals_.end(), predicate,
      [](const std::pair<uint32_t, Truth>& l, uint32_t p) { return l.first < p; });
  if (it != literals_.end() && it->first == predicate) return it->second == truth;
  std::optional<Truth> known = Decide(predicate);
  literals_.insert(it, {predicate, truth});
  if (known) return *known == truth;
  steps_.push_back(Step{StepKind::kLiteral, predicate, truth, kNoSlot, {}});
  const UniversePredicate& p = universe_->predicate(predicate);
  if (!p.modeled) return AddPresenceFromOutcome(p, truth);
  if (p.kind == PredicateKind::kHas) {
    if (truth == Truth::kError) return false;  // `has` never errors
    return SetPresence(p.slot, truth == Truth::kTrue ? Presence::kPresent
                                                     : Presence::kAbsent);
  }
  if (!AddPresenceFromOutcome(p, truth)) return false;
  if (truth == Truth::kError) return true;
  return AddValue(p, truth);
}

bool Constraints::AddPresenceFromOutcome(const UniversePredicate& p,
                                         Truth truth) {
  if (truth != Truth::kError) {
    for (uint32_t slot : p.slots) {
      if (!SetPresence(slot, Presence::kPresent)) return false;
    }
    return true;
  }
  if (p.may_overflow) return true;
  // The predicate errors exactly when a slot it reads is absent.
  std::vector<uint32_t> unknown;
  for (uint32_t slot : p.slots) {
    if (slots_[slot].presence == Presence::kAbsent) return true;
    if (slots_[slot].presence == Presence::kUnknown) unknown.push_back(slot);
  }
  if (unknown.empty()) return false;
  if (unknown.size() == 1) return SetPresence(unknown[0], Presence::kAbsent);
  return true;
}

bool Constraints::AddValue(const UniversePredicate& p, Truth truth) {
  const bool holds = truth == Truth::kTrue;
  switch (p.kind) {
    case PredicateKind::kBoolIs:
      return AddInt(p.slot, holds ? IntOp::kNe : IntOp::kEq, 0);
    case PredicateKind::kStrEq: {
      const uint32_t symbol[1] = {p.symbol};
      return holds ? Restrict(p.slot, symbol) : Exclude(p.slot, symbol);
    }
    case PredicateKind::kStrInConst:
      return holds ? Restrict(p.slot, p.set) : Exclude(p.slot, p.set);
    case PredicateKind::kStrStartsWith:
      return AddAffix(p.slot, /*prefix=*/true, holds, p.text);
    case PredicateKind::kStrEndsWith:
      return AddAffix(p.slot, /*prefix=*/false, holds, p.text);
    case PredicateKind::kSetContains:
    case PredicateKind::kSetEqConst:
    case PredicateKind::kSetContainsAllConst:
    case PredicateKind::kSetContainsAnyConst:
      return AddSetOutcome(p, truth);
    case PredicateKind::kIntCompare:
      if (!p.simple_int) return true;
      if (!AddInt(p.slot, holds ? p.op : Negated(p.op), p.constant)) return false;
      return !p.set_size || CheckSetSize(slots_[p.slot]);
    default:
      return true;  // relations between two slots constrain presence only
  }
}

bool Constraints::AddInt(uint32_t slot, IntOp op, int64_t k) {
  SlotConstraint& c = slots_[slot];
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  switch (op) {
    case IntOp::kEq:
      c.low = std::max(c.low, k);
      c.high = std::min(c.high, k);
      break;
    case IntOp::kNe:
      if (k >= c.low && k <= c.high) SortedInsert(c.holes, k);
      break;
    case IntOp::kLt:
      if (k == kMin) return false;
      c.high = std::min(c.high, k - 1);
      break;
    case IntOp::kLe:
      c.high = std::min(c.high, k);
      break;
    case IntOp::kGt:
      if (k == kMax) return false;
      c.low = std::max(c.low, k + 1);
      break;
    case IntOp::kGe:
      c.low = std::max(c.low, k);
      break;
  }
  return NormalizeInt(c);
}

bool Constraints::NormalizeInt(SlotConstraint& c) {
  if (c.low > c.high) return false;
  std::erase_if(c.holes, [&](int64_t h) { return h < c.low || h > c.high; });
  while (!c.holes.empty() && c.holes.front() == c.low) {
    if (c.low == c.high) return false;
    c.holes.erase(c.holes.begin());
    ++c.low;
  }
  while (!c.holes.empty() && c.holes.back() == c.high) {
    if (c.low == c.high) return false;
    c.holes.pop_back();
    --c.high;
  }
  return true;
}

bool Constraints::Restrict(uint32_t slot, std::span<const uint32_t> allowed) {
  SlotConstraint& c = slots_[slot];
  if (!c.restricted) {
    c.restricted = true;
    c.candidates.assign(allowed.begin(), allowed.end());
  } else {
    std::vector<uint32_t> both;
    std::set_intersection(c.candidates.begin(), c.candidates.end(),
                          allowed.begin(), allowed.end(),
                          std::back_inserter(both));
    c.candidates = std::move(both);
  }
  return NormalizeSymbols(slot);
}

bool Constraints::Exclude(uint32_t slot, std::span<const uint32_t> symbols) {
  SlotConstraint& c = slots_[slot];
  for (uint32_t symbol : symbols) SortedInsert(c.excluded, symbol);
  return NormalizeSymbols(slot);
}

bool Constraints::AddAffix(uint32_t slot, bool prefix, bool holds,
                           const std::string& text) {
  SlotConstraint& c = slots_[slot];
  std::vector<std::string>& list =
      prefix ? (holds ? c.prefixes : c.not_prefixes)
             : (holds ? c.suffixes : c.not_suffixes);
  if (std::find(list.begin(), list.end(), text) == list.end()) {
    list.push_back(text);
  }
  return NormalizeSymbols(slot);
}

// Drops candidates that the other constraints rule out and checks that an
// unrestricted string can still be built: the required prefixes (and
// suffixes) must nest, and no excluded affix may be implied by them. Then
// prefix + filler + suffix, with a filler chosen to avoid every excluded
// affix and excluded symbol, is an allowed value.
bool Constraints::NormalizeSymbols(uint32_t slot) {
  SlotConstraint& c = slots_[slot];
  if (c.restricted) {
    std::erase_if(c.candidates, [&](uint32_t s) {
      return !TextAllowed(c, universe_->SymbolText(s), s);
    });
    if (c.candidates.empty()) return false;
    if (c.candidates.size() == 1) c.equal = c.candidates[0];
    return true;
  }
  std::optional<std::string> prefix = LongestAffix(c.prefixes, true);
  std::optional<std::string> suffix = LongestAffix(c.suffixes, false);
  if (!prefix || !suffix) return false;
  for (const std::string& n : c.not_prefixes) {
    if (prefix->starts_with(n)) return false;
  }
  for (const std::string& n : c.not_suffixes) {
    if (suffix->ends_with(n)) return false;
  }
  return true;
}

// Records that the set does (or does not) hold `symbol`.
bool Constraints::AddMember(SlotConstraint& c, uint32_t symbol, bool holds) {
  const std::vector<uint32_t>& other = holds ? c.not_contains : c.contains;
  if (SortedContains(other, symbol)) return false;
  if (c.set_fixed && SortedContains(c.set_value, symbol) != holds) return false;
  SortedInsert(holds ? c.contains : c.not_contains, symbol);
  return true;
}

bool Constraints::AddSetOutcome(const UniversePredicate& p, Truth truth) {
  if (!AddSetValue(p, truth)) return false;
  return CheckSetSize(slots_[p.slot]);
}

bool Constraints::CheckSetSize(const SlotConstraint& c) const {
  const SlotConstraint range = SetSizeRange(c);
  return range.low <= range.high;
}

bool Constraints::AddSetValue(const UniversePredicate& p, Truth truth) {
  SlotConstraint& c = slots_[p.slot];
  const bool holds = truth == Truth::kTrue;
  switch (p.kind) {
    case PredicateKind::kSetContains:
      return AddMember(c, p.symbol, holds);
    case PredicateKind::kSetContainsAllConst:
    case PredicateKind::kSetContainsAnyConst: {
      // "contains all" holding, and "contains any" failing, constrain every
      // element; the other two outcomes are disjunctions, kept as stated.
      const bool all = p.kind == PredicateKind::kSetContainsAllConst;
      if (all != holds) return true;
      for (uint32_t symbol : p.set) {
        if (!AddMember(c, symbol, holds)) return false;
      }
      return true;
    }
    default:
      break;
  }
  if (!holds) {
    if (c.set_fixed && c.set_value == p.set) return false;
    c.set_not_equal.push_back(p.set);
    return true;
  }
  if (c.set_fixed) return c.set_value == p.set;
  for (uint32_t s : c.contains) {
    if (!SortedContains(p.set, s)) return false;
  }
  for (uint32_t s : c.not_contains) {
    if (SortedContains(p.set, s)) return false;
  }
  for (const auto& other : c.set_not_equal) {
    if (other == p.set) return false;
  }
  c.set_fixed = true;
  c.set_value = p.set;
  return true;
}

bool Constraints::AddSwitchKey(uint32_t slot, uint32_t symbol) {
  const bool implied = slots_[slot].equal == symbol &&
                       slots_[slot].presence == Presence::kPresent;
  if (!SetPresence(slot, Presence::kPresent)) return false;
  const uint32_t key[1] = {symbol};
  if (!Restrict(slot, key)) return false;
  if (!implied) steps_.push_back(Step{StepKind::kSwitchKey, 0, Truth::kTrue, slot, {symbol}});
  return true;
}

bool Constraints::AddSwitchOther(uint32_t slot, std::span<const uint32_t> keys) {
  const SlotConstraint& c = slots_[slot];
  bool implied = c.presence == Presence::kPresent;
  std::vector<uint32_t> fresh;
  for (uint32_t key : keys) {
    if (AcceptsText(slot, universe_->SymbolText(key), key)) fresh.push_back(key);
  }
  implied &= fresh.empty();
  if (!SetPresence(slot, Presence::kPresent)) return false;
  if (!Exclude(slot, keys)) return false;
  if (!implied) {
    steps_.push_back(Step{StepKind::kSwitchOther, 0, Truth::kFalse, slot, fresh});
  }
  return true;
}

bool Constraints::AddPresent(uint32_t slot) {
  if (slots_[slot].presence == Presence::kPresent) return true;
  if (!SetPresence(slot, Presence::kPresent)) return false;
  steps_.push_back(Step{StepKind::kPresent, 0, Truth::kTrue, slot, {}});
  return true;
}

bool Constraints::AddAbsent(uint32_t slot) {
  if (slots_[slot].presence == Presence::kAbsent) return true;
  if (!SetPresence(slot, Presence::kAbsent)) return false;
  steps_.push_back(Step{StepKind::kAbsent, 0, Truth::kError, slot, {}});
  return true;
}

}  // namespace verdict::compiler
