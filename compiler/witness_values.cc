// Candidate values for witness requests, chosen from the constraints of a
// region, and the adjustments for relations between attributes.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "compiler/witness.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace {

// Fillers for strings no program mentions; they start and end with
// different characters so that one of them avoids any excluded affix.
constexpr const char* kFillers[] = {"other", "unlisted", "x", "zz", "q-1",
                                    "b", "k7", "m", "other-2", "y"};
constexpr size_t kMaxTextCandidates = 24;
constexpr size_t kMaxIntCandidates = 40;
// Sets built for a witness hold at most this many elements.
constexpr int64_t kMaxSetSize = 64;

// Generic addresses and ranges to try after the slot's own hints.
constexpr const char* kIpFallbacks[] = {"192.0.2.1", "2001:db8::1"};
constexpr const char* kCidrFallbacks[] = {"192.0.2.0/24", "10.0.0.0/8",
                                          "2001:db8::/32"};

std::vector<std::string> DecodeList(const std::string& encoded) {
  std::vector<std::string> elements;
  if (encoded.empty()) return elements;
  for (absl::string_view element : absl::StrSplit(
           ToAbsl(encoded).substr(1), kListSeparator, absl::AllowEmpty())) {
    elements.emplace_back(element);
  }
  return elements;
}

std::string EncodeList(const std::vector<std::string>& elements) {
  std::string encoded;
  for (const std::string& e : elements) {
    encoded.push_back(kListSeparator);
    encoded += e;
  }
  return encoded;
}

bool Allowed(const SlotConstraint& c, int64_t v) {
  return v >= c.low && v <= c.high &&
         !std::binary_search(c.holes.begin(), c.holes.end(), v);
}

// The allowed value nearest to `preferred`; low and high are allowed, so a
// walk from the clamped value in either direction ends.
int64_t Nearest(const SlotConstraint& c, int64_t preferred) {
  const int64_t start = std::clamp(preferred, c.low, c.high);
  for (int64_t v = start;; ++v) {
    if (Allowed(c, v)) return v;
    if (v == c.high) break;
  }
  for (int64_t v = start;; --v) {
    if (Allowed(c, v)) return v;
  }
}

}  // namespace

std::vector<WitnessBuilder::Value> WitnessBuilder::Candidates(
    const Constraints& c, uint32_t slot) const {
  const SlotConstraint& sc = c.slot(slot);
  if (sc.presence == Presence::kAbsent) return {Value{}};
  const Type type = universe_.slot(slot).type;
  std::vector<Value> out;
  if (IsIntegral(type)) {
    out = IntCandidates(sc, type);
  } else if (type == Type::kString) {
    out = TextCandidates(c, slot);
  } else if (type == Type::kStringList) {
    out = ListCandidates(c, slot);
  } else if (type == Type::kStringSet) {
    out = SetCandidates(c, slot);
  } else if (type == Type::kIp || type == Type::kCidr) {
    for (const std::string& hint : universe_.slot(slot).hints) {
      out.push_back(Value{true, 0, hint, {}});
    }
    if (type == Type::kIp) {
      for (const char* text : kIpFallbacks) out.push_back(Value{true, 0, text, {}});
    } else {
      for (const char* text : kCidrFallbacks) out.push_back(Value{true, 0, text, {}});
    }
  }
  // Types this analysis cannot build values for stay without candidates.
  if (sc.presence == Presence::kUnknown) out.push_back(Value{});
  return out;
}

std::vector<WitnessBuilder::Value> WitnessBuilder::IntCandidates(
    const SlotConstraint& c, Type type) const {
  const int64_t preferred = type == Type::kTimestamp ? now_ : 0;
  std::vector<int64_t> raw = {Nearest(c, preferred), 0, 1, -1};
  for (int64_t k : universe_.int_constants()) {
    int64_t v;
    raw.push_back(k);
    if (!__builtin_add_overflow(k, 1, &v)) raw.push_back(v);
    if (!__builtin_sub_overflow(k, 1, &v)) raw.push_back(v);
    if (type == Type::kTimestamp && !__builtin_sub_overflow(now_, k, &v)) {
      raw.push_back(v);
    }
  }
  raw.push_back(c.low);
  raw.push_back(c.high);
  std::vector<Value> out;
  std::vector<int64_t> seen;
  for (int64_t v : raw) {
    if (!Allowed(c, v) || std::find(seen.begin(), seen.end(), v) != seen.end()) {
      continue;
    }
    seen.push_back(v);
    out.push_back(Value{true, v, "", {}});
    if (out.size() == kMaxIntCandidates) break;
  }
  return out;
}

std::vector<WitnessBuilder::Value> WitnessBuilder::TextCandidates(
    const Constraints& c, uint32_t slot) const {
  const SlotConstraint& sc = c.slot(slot);
  std::vector<std::string> texts;
  if (sc.equal != kNoSymbol) return {Value{true, 0, universe_.SymbolText(sc.equal), {}}};
  if (sc.restricted) {
    for (uint32_t s : sc.candidates) texts.push_back(universe_.SymbolText(s));
    std::sort(texts.begin(), texts.end());
  } else {
    auto longest = [](const std::vector<std::string>& list) {
      std::string best;
      for (const std::string& s : list) {
        if (s.size() > best.size()) best = s;
      }
      return best;
    };
    const std::string prefix = longest(sc.prefixes), suffix = longest(sc.suffixes);
    const bool key = universe_.IsJoinKey(slot);
    auto usable = [&](const std::string& t) {
      return c.AcceptsText(slot, t, universe_.FindSymbol(t)) &&
             !(key && universe_.IsJoinedId(slot, t));
    };
    for (const std::string& hint : universe_.slot(slot).hints) {
      if (usable(hint)) texts.push_back(hint);
    }
    for (const char* filler : kFillers) {
      std::string t = absl::StrCat(prefix, filler, suffix);
      if (usable(t) && texts.size() < 8) texts.push_back(t);
    }
    for (uint32_t s = 0; s < universe_.symbol_count() && texts.size() < kMaxTextCandidates; ++s) {
      const std::string& t = universe_.SymbolText(s);
      if (usable(t) && std::find(texts.begin(), texts.end(), t) == texts.end()) {
        texts.push_back(t);
      }
    }
  }
  std::vector<Value> out;
  for (std::string& t : texts) {
    if (out.size() == kMaxTextCandidates) break;
    out.push_back(Value{true, 0, std::move(t), {}});
  }
  return out;
}

std::vector<WitnessBuilder::Value> WitnessBuilder::ListCandidates(
    const Constraints& c, uint32_t slot) const {
  const SlotConstraint& sc = c.slot(slot);
  std::vector<std::string> encoded;
  if (sc.equal != kNoSymbol) {
    encoded.push_back(universe_.SymbolText(sc.equal));
  } else if (sc.restricted) {
    for (uint32_t s : sc.candidates) encoded.push_back(universe_.SymbolText(s));
  } else {
    for (const auto& list : std::vector<std::vector<std::string>>{
             {"other"}, {"unlisted"}, {}, {"other", "unlisted"}}) {
      std::string text = EncodeList(list);
      if (c.AcceptsText(slot, text, universe_.FindSymbol(text))) {
        encoded.push_back(text);
      }
    }
  }
  std::vector<Value> out;
  for (std::string& text : encoded) {
    out.push_back(Value{true, 0, text, DecodeList(text)});
  }
  return out;
}

std::vector<WitnessBuilder::Value> WitnessBuilder::SetCandidates(
    const Constraints& c, uint32_t slot) const {
  const SlotConstraint& sc = c.slot(slot);
  auto texts = [&](const std::vector<uint32_t>& symbols) {
    std::vector<std::string> out;
    for (uint32_t s : symbols) out.push_back(universe_.SymbolText(s));
    std::sort(out.begin(), out.end());
    return out;
  };
  if (sc.set_fixed) return {Value{true, 0, "", texts(sc.set_value)}};
  // A string no program mentions differs from every element a policy
  // names, so adding it makes the set unequal to every constant set.
  std::string fresh = "other";
  for (const char* filler : kFillers) {
    if (universe_.FindSymbol(filler) == kNoSymbol) {
      fresh = filler;
      break;
    }
  }
  Value base{true, 0, "", texts(sc.contains)};
  // "Contains any of" holding needs one element of its set.
  for (const auto& [predicate, truth] : c.literals()) {
    const UniversePredicate& p = universe_.predicate(predicate);
    if (p.slot != slot || truth != Truth::kTrue ||
        p.kind != PredicateKind::kSetContainsAnyConst) {
      continue;
    }
    std::vector<uint32_t> shared;
    std::set_intersection(p.set.begin(), p.set.end(), sc.contains.begin(),
                          sc.contains.end(), std::back_inserter(shared));
    for (uint32_t symbol : p.set) {
      if (!shared.empty()) break;
      if (std::binary_search(sc.not_contains.begin(), sc.not_contains.end(), symbol)) {
        continue;
      }
      shared.push_back(symbol);
      base.elements.push_back(universe_.SymbolText(symbol));
    }
  }
  std::sort(base.elements.begin(), base.elements.end());
  base.elements.erase(std::unique(base.elements.begin(), base.elements.end()),
                      base.elements.end());
  const bool must_differ =
      std::find(sc.set_not_equal.begin(), sc.set_not_equal.end(), sc.contains) !=
      sc.set_not_equal.end();
  // Sizes the size interval allows, from the smallest up; elements added
  // to reach them are strings no program mentions.
  std::vector<Value> out;
  const SlotConstraint range = SetSizeRange(sc);
  int64_t size = std::max<int64_t>(range.low, base.elements.size());
  if (must_differ && size == static_cast<int64_t>(base.elements.size())) ++size;
  for (; out.size() < 3 && size <= range.high && size <= kMaxSetSize; ++size) {
    if (!Allowed(range, size)) continue;
    Value sized = base;
    for (int64_t n = 1; static_cast<int64_t>(sized.elements.size()) < size; ++n) {
      sized.elements.push_back(n == 1 ? fresh : absl::StrCat(fresh, "-", n));
    }
    std::sort(sized.elements.begin(), sized.elements.end());
    out.push_back(std::move(sized));
  }
  if (universe_.slot(slot).sized) AddSizedSets(base, fresh, out);
  return out;
}

// Sets of the sizes that integer comparisons mention, and their
// neighbours, for conditions such as `s.size() + 1 > LIMIT`.
void WitnessBuilder::AddSizedSets(const Value& base, const std::string& fresh,
                                  std::vector<Value>& out) const {
  constexpr int64_t kMaxSize = kMaxSetSize;
  std::vector<int64_t> sizes;
  for (int64_t k : universe_.int_constants()) {
    for (int64_t size : {k - 1, k, k + 1}) {
      if (size >= 0 && size <= kMaxSize &&
          size > static_cast<int64_t>(base.elements.size())) {
        sizes.push_back(size);
      }
    }
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (int64_t size : sizes) {
    Value sized = base;
    for (int64_t n = 1; static_cast<int64_t>(sized.elements.size()) < size; ++n) {
      sized.elements.push_back(absl::StrCat(fresh, "-", n));
    }
    std::sort(sized.elements.begin(), sized.elements.end());
    out.push_back(std::move(sized));
  }
}

// Adjusts values so that stated relations between two attributes hold:
// equal strings share one value, and a string stated to be in a set is
// added to it.
void WitnessBuilder::FixRelations(const Constraints& c,
                                  std::vector<Value>& values) const {
  for (const auto& [predicate, truth] : c.literals()) {
    const UniversePredicate& p = universe_.predicate(predicate);
    if (!p.modeled || truth != Truth::kTrue ||
        (p.kind != PredicateKind::kStrEqSlot &&
         p.kind != PredicateKind::kSetContainsSlot)) {
      continue;
    }
    Value& a = values[p.slot];
    Value& b = values[p.slot2];
    if (!a.present || !b.present) continue;
    if (p.kind == PredicateKind::kStrEqSlot && a.text != b.text) {
      if (c.AcceptsText(p.slot2, a.text, universe_.FindSymbol(a.text))) {
        b = a;
      } else if (c.AcceptsText(p.slot, b.text, universe_.FindSymbol(b.text))) {
        a = b;
      }
    } else if (p.kind == PredicateKind::kSetContainsSlot &&
               !c.slot(p.slot).set_fixed &&
               std::find(a.elements.begin(), a.elements.end(), b.text) ==
                   a.elements.end()) {
      a.elements.push_back(b.text);
      std::sort(a.elements.begin(), a.elements.end());
    }
  }
}

// A computed `<group>.$ancestors` set comes from the entity named by the
// group's type and id, so the constraints on it are met by choosing that
// entity: one whose ancestors (itself included) hold every required element
// and no excluded one.
void WitnessBuilder::FixAncestors(const Constraints& c,
                                  std::vector<Value>& values) const {
  for (size_t k = 0; k < universe_.program_count(); ++k) {
    const Program& program = universe_.program(k);
    for (const AncestorsSlot& a : program.ancestors) {
      const uint32_t set = universe_.SlotOf(k, a.slot);
      const uint32_t type = universe_.SlotOf(k, a.type_slot);
      const uint32_t id = universe_.SlotOf(k, a.id_slot);
      const SlotConstraint& sc = c.slot(set);
      if (sc.presence != Presence::kPresent && sc.contains.empty()) continue;
      std::vector<std::string> keys;
      for (const auto& [key, ancestors] : program.hierarchy) keys.push_back(key);
      std::sort(keys.begin(), keys.end());
      for (uint32_t s : sc.contains) keys.push_back(universe_.SymbolText(s));
      for (const std::string& key : keys) {
        size_t split = key.find("::");
        if (split == std::string::npos) continue;
        std::string type_text = key.substr(0, split), id_text = key.substr(split + 2);
        if (!c.AcceptsText(type, type_text, universe_.FindSymbol(type_text)) ||
            !c.AcceptsText(id, id_text, universe_.FindSymbol(id_text)) ||
            !AncestorsFit(program, k, sc, key)) {
          continue;
        }
        values[type] = Value{true, 0, type_text, {}};
        values[id] = Value{true, 0, id_text, {}};
        break;
      }
    }
  }
}

bool WitnessBuilder::AncestorsFit(const Program& program, size_t k,
                                  const SlotConstraint& sc,
                                  const std::string& key) const {
  std::vector<uint32_t> ancestors;
  auto it = program.hierarchy.find(key);
  if (it == program.hierarchy.end()) {
    ancestors.push_back(universe_.FindSymbol(key));
  } else {
    for (uint32_t symbol : it->second) ancestors.push_back(universe_.SymbolOf(k, symbol));
  }
  std::sort(ancestors.begin(), ancestors.end());
  auto has = [&](uint32_t s) {
    return std::binary_search(ancestors.begin(), ancestors.end(), s);
  };
  for (uint32_t s : sc.contains) {
    if (!has(s)) return false;
  }
  for (uint32_t s : sc.not_contains) {
    if (has(s)) return false;
  }
  return !sc.set_fixed || sc.set_value == ancestors;
}

}  // namespace verdict::compiler
