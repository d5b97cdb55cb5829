#include "compiler/universe.h"

#include <algorithm>
#include <functional>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/values.h"
#include "compiler/samples.h"
#include "re2/re2.h"

namespace verdict::compiler {
namespace {

bool IsSymbolType(Type type) {
  return type == Type::kString || type == Type::kStringList;
}

bool IsKnownOpcode(IntOpcode opcode) {
  return opcode == IntOpcode::kPushSlot || opcode == IntOpcode::kPushConst ||
         opcode == IntOpcode::kAdd || opcode == IntOpcode::kSub ||
         opcode == IntOpcode::kNegate;
}

// Evaluates integer code that reads no slot. Returns false when it reads a
// slot or overflows.
bool ConstantValue(const std::vector<IntInstr>& code, int64_t& value) {
  std::vector<int64_t> stack;
  for (const IntInstr& instr : code) {
    if (instr.opcode == IntOpcode::kPushConst) {
      stack.push_back(instr.value);
      continue;
    }
    if (instr.opcode == IntOpcode::kNegate && !stack.empty()) {
      if (__builtin_sub_overflow(int64_t{0}, stack.back(), &stack.back())) {
        return false;
      }
      continue;
    }
    if ((instr.opcode != IntOpcode::kAdd && instr.opcode != IntOpcode::kSub) ||
        stack.size() < 2) {
      return false;
    }
    int64_t right = stack.back();
    stack.pop_back();
    bool overflow = instr.opcode == IntOpcode::kAdd
                        ? __builtin_add_overflow(stack.back(), right, &stack.back())
                        : __builtin_sub_overflow(stack.back(), right, &stack.back());
    if (overflow) return false;
  }
  if (stack.size() != 1) return false;
  value = stack[0];
  return true;
}

bool IsSingleSlot(const std::vector<IntInstr>& code) {
  return code.size() == 1 && code[0].opcode == IntOpcode::kPushSlot;
}

// The operator that holds when the operands are swapped: c < x is x > c.
IntOp Swapped(IntOp op) {
  switch (op) {
    case IntOp::kLt: return IntOp::kGt;
    case IntOp::kLe: return IntOp::kGe;
    case IntOp::kGt: return IntOp::kLt;
    case IntOp::kGe: return IntOp::kLe;
    default: return op;
  }
}

}  // namespace

Universe::Universe(std::vector<const Program*> programs)
    : programs_(std::move(programs)) {
  predicate_map_.resize(programs_.size());
  slot_map_.resize(programs_.size());
  symbol_map_.resize(programs_.size());
  for (size_t i = 0; i < programs_.size(); ++i) AddProgram(i);
  std::sort(int_constants_.begin(), int_constants_.end());
  int_constants_.erase(std::unique(int_constants_.begin(), int_constants_.end()),
                       int_constants_.end());
  for (size_t i = 0; i < programs_.size() && env_now_slot_ == kNoSlot; ++i) {
    if (programs_[i]->env_now_slot != kNoSlot) {
      env_now_slot_ = slot_map_[i][programs_[i]->env_now_slot];
    }
  }
}

uint32_t Universe::FindSymbol(std::string_view text) const {
  auto it = symbol_index_.find(ToAbsl(text));
  return it == symbol_index_.end() ? kNoSymbol : it->second;
}

uint32_t Universe::InternSymbol(const std::string& text) {
  auto [it, inserted] = symbol_index_.emplace(text, symbols_.size());
  if (inserted) symbols_.push_back(text);
  return it->second;
}

uint32_t Universe::InternSlot(const SlotInfo& info, size_t program,
                              uint32_t index) {
  std::string key = absl::StrCat(info.path, ":", ToAbsl(TypeName(info.type)));
  auto [it, inserted] = slot_index_.emplace(key, slots_.size());
  if (inserted) {
    UniverseSlot slot;
    slot.path = info.path;
    slot.group = info.group;
    slot.type = info.type;
    slot.source.assign(programs_.size(), kNotInProgram);
    slots_.push_back(std::move(slot));
  }
  slots_[it->second].source[program] = index;
  slots_[it->second].computed |= info.computed;
  return it->second;
}

void Universe::AddProgram(size_t index) {
  const Program& program = *programs_[index];
  for (uint32_t i = 0; i < program.slots.size(); ++i) {
    slot_map_[index].push_back(InternSlot(program.slots[i], index, i));
  }
  for (const std::string& text : program.symbols) {
    symbol_map_[index].push_back(InternSymbol(text));
  }
  for (const AncestorsSlot& a : program.ancestors) {
    if (a.slot == kNoSlot || a.type_slot == kNoSlot || a.id_slot == kNoSlot) continue;
    AncestorsLink link{slot_map_[index][a.slot], slot_map_[index][a.type_slot],
                       slot_map_[index][a.id_slot]};
    auto same = [&](const AncestorsLink& l) { return l.ancestors == link.ancestors; };
    if (std::none_of(ancestors_links_.begin(), ancestors_links_.end(), same)) {
      ancestors_links_.push_back(link);
    }
  }
  for (uint32_t i = 0; i < program.predicates.size(); ++i) {
    const Predicate& p = program.predicates[i];
    std::string key = absl::StrCat(static_cast<int>(p.kind), "|",
                                   program.DescribePredicate(i));
    std::string rendered_suffix;
    if (p.kind == PredicateKind::kLinked) {
      // Templates with other links are other predicates.
      absl::StrAppend(&key, "|", AddLinkHints(index, p, key, &rendered_suffix));
    }
    for (uint32_t slot : PredicateSlots(p)) {
      absl::StrAppend(&key, "|", slots_[slot_map_[index][slot]].path, ":",
                      ToAbsl(TypeName(program.slots[slot].type)));
    }
    for (const auto* code : {&p.left, &p.right}) {
      for (const IntInstr& instr : *code) {
        if (instr.opcode == IntOpcode::kPushSetSize) {
          slots_[slot_map_[index][instr.slot]].sized = true;
        }
      }
    }
    auto [it, inserted] = predicate_index_.emplace(key, predicates_.size());
    if (inserted) {
      predicates_.push_back(Translate(index, i));
      predicates_.back().rendered += rendered_suffix;
    }
    predicates_[it->second].source[index] = i;
    predicate_map_[index].push_back(it->second);
  }
}

namespace {

// Returns the links of `table` as text, one vector of field values each,
// sorted.
std::vector<std::vector<std::string>> LinkTuples(const Program& program,
                                                 const LinkTable& table) {
  const size_t width = table.fields.size();
  std::vector<std::vector<std::string>> tuples(table.link_count());
  for (size_t link = 0; link < tuples.size(); ++link) {
    for (size_t i = 0; i < width; ++i) {
      const int64_t value = table.values[link * width + i];
      tuples[link].push_back(
          program.slots[table.slots[i]].type == Type::kInt
              ? std::to_string(value)
              : std::string(program.symbols[static_cast<size_t>(value)]));
    }
  }
  std::sort(tuples.begin(), tuples.end());
  return tuples;
}

}  // namespace

std::string Universe::AddLinkHints(size_t program_index, const Predicate& p,
                                   const std::string& key,
                                   std::string* rendered_suffix) {
  const Program& program = *programs_[program_index];
  const LinkTable& table = program.link_tables[p.set];
  std::vector<std::vector<std::string>> tuples = LinkTuples(program, table);
  // Hints start with the values of the links that only one program has,
  // so that a diff can show them. The values of the first links follow, so
  // that a witness can match one.
  constexpr size_t kHintLinks = 3;
  std::vector<std::vector<std::string>> hinted(
      tuples.begin(), tuples.begin() + std::min(kHintLinks, tuples.size()));
  std::vector<std::vector<std::string>> changed;
  auto [other, first] = link_tuples_.try_emplace(
      key, LinkVersion{tuples, static_cast<uint32_t>(predicates_.size())});
  if (!first && other->second.tuples != tuples) {
    std::set_symmetric_difference(tuples.begin(), tuples.end(),
                                  other->second.tuples.begin(),
                                  other->second.tuples.end(),
                                  std::back_inserter(changed));
    constexpr size_t kChangedLinks = 8;
    changed.resize(std::min(changed.size(), kChangedLinks));
    // Both versions render alike, so each is marked with its links.
    if (other->second.predicate < predicates_.size()) {
      predicates_[other->second.predicate].rendered += " (old links)";
    }
    *rendered_suffix = " (new links)";
  }
  auto add = [&](const std::vector<std::string>& tuple, bool front) {
    for (size_t i = 0; i < tuple.size(); ++i) {
      if (program.slots[table.slots[i]].type == Type::kInt) {
        int_constants_.push_back(std::stoll(tuple[i]));
        continue;
      }
      std::vector<std::string>& target =
          slots_[slot_map_[program_index][table.slots[i]]].hints;
      std::erase(target, tuple[i]);
      target.insert(front ? target.begin() : target.end(), tuple[i]);
    }
  };
  for (const auto& tuple : hinted) add(tuple, /*front=*/false);
  for (auto it = changed.rbegin(); it != changed.rend(); ++it) {
    add(*it, /*front=*/true);
  }
  std::string digest;
  for (const std::vector<std::string>& tuple : tuples) {
    for (const std::string& value : tuple) {
      absl::StrAppend(&digest, value.size(), ":", value);
    }
  }
  return std::to_string(std::hash<std::string>{}(digest));
}

UniversePredicate Universe::Translate(size_t program_index, uint32_t index) {
  const Program& program = *programs_[program_index];
  const Predicate& p = program.predicates[index];
  UniversePredicate out;
  out.kind = p.kind;
  out.rendered = program.DescribePredicate(index);
  out.source.assign(programs_.size(), kNotInProgram);
  const auto& slots = slot_map_[program_index];
  for (uint32_t slot : PredicateSlots(p)) out.slots.push_back(slots[slot]);
  std::sort(out.slots.begin(), out.slots.end());
  if (p.slot != kNoSlot) out.slot = slots[p.slot];
  if (p.slot2 != kNoSlot) out.slot2 = slots[p.slot2];
  auto type = [&](uint32_t slot) { return program.slots[slot].type; };
  auto map_set = [&](const std::vector<uint32_t>& set) {
    for (uint32_t symbol : set) {
      out.set.push_back(symbol_map_[program_index][symbol]);
    }
    std::sort(out.set.begin(), out.set.end());
  };
  switch (p.kind) {
    case PredicateKind::kBoolIs:
      out.modeled = type(p.slot) == Type::kBool;
      break;
    case PredicateKind::kHas:
      out.modeled = true;
      break;
    case PredicateKind::kStrEq:
      out.modeled = IsSymbolType(type(p.slot));
      out.symbol = symbol_map_[program_index][p.symbol];
      break;
    case PredicateKind::kStrInConst:
      out.modeled = type(p.slot) == Type::kString;
      map_set(program.const_sets[p.set]);
      break;
    case PredicateKind::kStrStartsWith:
    case PredicateKind::kStrEndsWith:
      out.modeled = type(p.slot) == Type::kString;
      out.text = p.text;
      break;
    case PredicateKind::kStrEqSlot:
      out.modeled = IsSymbolType(type(p.slot)) && type(p.slot) == type(p.slot2);
      break;
    case PredicateKind::kSetContains:
      out.modeled = type(p.slot) == Type::kStringSet;
      out.symbol = symbol_map_[program_index][p.symbol];
      break;
    case PredicateKind::kSetContainsSlot:
      out.modeled = type(p.slot) == Type::kStringSet &&
                    type(p.slot2) == Type::kString;
      break;
    case PredicateKind::kSetEqConst:
    case PredicateKind::kSetContainsAllConst:
    case PredicateKind::kSetContainsAnyConst:
      out.modeled = type(p.slot) == Type::kStringSet;
      map_set(program.const_sets[p.set]);
      break;
    case PredicateKind::kIntCompare:
      TranslateInt(program_index, p, out);
      break;
    case PredicateKind::kStrMatches:
      out.text = p.text;
      out.pattern = p.pattern;
      break;
    default:
      out.text = p.text;  // opaque; kept for value hints
      break;
  }
  // A path test errors on an unresolved path even when its slot is present.
  if (IsPathTest(p)) out.may_overflow = true;
  AddHints(program, p, out);
  return out;
}

namespace {

// Adds one to (or, when `down`, subtracts one from) a big-endian address;
// returns false when it wraps around.
bool Step(std::string& address, bool down) {
  for (size_t i = address.size(); i-- > 0;) {
    unsigned char byte = static_cast<unsigned char>(address[i]);
    address[i] = static_cast<char>(down ? byte - 1 : byte + 1);
    if (down ? byte != 0 : byte != 0xFF) return true;
  }
  return false;
}

// Adds the first and last address of range `cidr` (kCidrBytes), and the
// neighbours just outside it.
void AddRangeHints(const std::string& cidr, std::vector<std::string>& hints) {
  std::string first = cidr.substr(0, kIpBytes);
  std::string last = first;
  const int prefix = static_cast<unsigned char>(cidr[kIpBytes]);
  for (int bit = prefix; bit < 128; ++bit) {
    last[bit / 8] = static_cast<char>(last[bit / 8] | (0x80 >> (bit % 8)));
  }
  hints.push_back(FormatIp(first));
  hints.push_back(FormatIp(last));
  if (Step(last, /*down=*/false)) hints.push_back(FormatIp(last));
  if (Step(first, /*down=*/true)) hints.push_back(FormatIp(first));
}

}  // namespace

void Universe::AddHints(const Program& program, const Predicate& p,
                        const UniversePredicate& out) {
  std::vector<std::string> hints;
  if (p.kind == PredicateKind::kIpEq && p.text.size() == kIpBytes) {
    hints.push_back(FormatIp(p.text));
  } else if ((p.kind == PredicateKind::kIpInCidr ||
              p.kind == PredicateKind::kIpInCidrList) &&
             !p.text.empty() && p.text.size() % kCidrBytes == 0) {
    for (size_t at = 0; at < p.text.size(); at += kCidrBytes) {
      AddRangeHints(p.text.substr(at, kCidrBytes), hints);
    }
  } else if (p.kind == PredicateKind::kStrMatches && p.set < program.regexes.size()) {
    // Globs and templates are compiled to regexes too, so one sampler
    // serves all three; a sample is kept only when the regex matches it.
    const RE2& regex = *program.regexes[p.set];
    std::optional<std::string> sample = SampleMatch(regex.pattern());
    if (sample && RE2::FullMatch(*sample, regex)) hints.push_back(*sample);
  }
  if (out.slot == kNoSlot) return;
  std::vector<std::string>& target = slots_[out.slot].hints;
  for (std::string& hint : hints) {
    if (std::find(target.begin(), target.end(), hint) == target.end()) {
      target.push_back(std::move(hint));
    }
  }
}

void Universe::TranslateInt(size_t program_index, const Predicate& p,
                            UniversePredicate& out) {
  const Program& program = *programs_[program_index];
  out.op = p.op;
  out.may_overflow = true;  // until shown to be `slot op constant`
  bool known = true;
  for (const auto* code : {&p.left, &p.right}) {
    for (const IntInstr& instr : *code) {
      if (instr.opcode == IntOpcode::kPushConst) {
        int_constants_.push_back(instr.value);
      } else if (!IsKnownOpcode(instr.opcode) ||
                 (instr.opcode == IntOpcode::kPushSlot &&
                  !IsIntegral(program.slots[instr.slot].type))) {
        known = false;  // stays opaque, such as a set's size
      }
    }
  }
  if (!known) {
    TranslateSetSize(program_index, p, out);
    return;
  }
  out.modeled = true;
  int64_t value = 0;
  const auto& slots = slot_map_[program_index];
  if (IsSingleSlot(p.left) && ConstantValue(p.right, value)) {
    out.simple_int = true;
    out.slot = slots[p.left[0].slot];
  } else if (IsSingleSlot(p.right) && ConstantValue(p.left, value)) {
    out.simple_int = true;
    out.slot = slots[p.right[0].slot];
    out.op = Swapped(p.op);
  }
  if (out.simple_int) {
    out.constant = value;
    out.may_overflow = false;
    int_constants_.push_back(value);
  }
}

namespace {

// Reads `s.size() + c1 - c2 ...` (set size plus constants). Every partial
// offset stays within 2^62, so for any size below 2^32 the engine's
// step-by-step arithmetic cannot overflow and the sum is exact.
bool SizePlusOffset(const std::vector<IntInstr>& code, uint32_t& slot,
                    int64_t& offset) {
  constexpr int64_t kBound = int64_t{1} << 62;
  if (code.empty() || code[0].opcode != IntOpcode::kPushSetSize) return false;
  if ((code.size() - 1) % 2 != 0) return false;
  slot = code[0].slot;
  offset = 0;
  for (size_t i = 1; i < code.size(); i += 2) {
    if (code[i].opcode != IntOpcode::kPushConst) return false;
    const int64_t value = code[i].value;
    if (value > kBound || value < -kBound) return false;
    if (code[i + 1].opcode == IntOpcode::kAdd) {
      offset += value;
    } else if (code[i + 1].opcode == IntOpcode::kSub) {
      offset -= value;
    } else {
      return false;
    }
    if (offset > kBound || offset < -kBound) return false;
  }
  return true;
}

}  // namespace

// Models `s.size() + offset op constant` as `size op constant - offset` on
// the set slot, so that set sizes get intervals like integers do.
void Universe::TranslateSetSize(size_t program_index, const Predicate& p,
                                UniversePredicate& out) {
  uint32_t slot = kNoSlot;
  int64_t offset = 0, value = 0;
  IntOp op = p.op;
  if (!SizePlusOffset(p.left, slot, offset) || !ConstantValue(p.right, value)) {
    if (!SizePlusOffset(p.right, slot, offset) || !ConstantValue(p.left, value)) {
      return;
    }
    op = Swapped(p.op);
  }
  int64_t bound;
  if (__builtin_sub_overflow(value, offset, &bound)) return;
  out.modeled = true;
  out.simple_int = true;
  out.set_size = true;
  out.may_overflow = false;
  out.slot = slot_map_[program_index][slot];
  out.op = op;
  out.constant = bound;
}

bool Universe::IsJoinKey(uint32_t slot) const {
  for (size_t i = 0; i < programs_.size(); ++i) {
    for (const DataJoin& join : programs_[i]->joins) {
      if (join.key_slot != kNoSlot && slot_map_[i][join.key_slot] == slot) {
        return true;
      }
    }
  }
  return false;
}

bool Universe::IsJoinedId(uint32_t slot, std::string_view text) const {
  for (size_t i = 0; i < programs_.size(); ++i) {
    for (const DataJoin& join : programs_[i]->joins) {
      if (join.key_slot == kNoSlot || slot_map_[i][join.key_slot] != slot) {
        continue;
      }
      if (join.records.contains(ToAbsl(text))) return true;
    }
  }
  return false;
}

}  // namespace verdict::compiler
