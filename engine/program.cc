#include "engine/program.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "engine/values.h"

namespace verdict {
namespace {

std::string Quote(std::string_view text) {
  std::string escaped = absl::StrReplaceAll(ToAbsl(text), {{"\\", "\\\\"}, {"\"", "\\\""}});
  return absl::StrCat("\"", escaped, "\"");
}

std::string_view IntOpText(IntOp op) {
  switch (op) {
    case IntOp::kEq: return "==";
    case IntOp::kNe: return "!=";
    case IntOp::kLt: return "<";
    case IntOp::kLe: return "<=";
    case IntOp::kGt: return ">";
    case IntOp::kGe: return ">=";
  }
  return "?";
}

std::string RenderIntConstant(const IntInstr& instr) {
  switch (instr.type) {
    case Type::kDuration:
      return FormatDuration(instr.value);
    case Type::kDecimal:
      return absl::StrCat("decimal(\"", FormatDecimal(instr.value), "\")");
    default:
      return absl::StrCat(instr.value);
  }
}

std::string_view PatternMethod(PatternKind kind) {
  switch (kind) {
    case PatternKind::kGlob: return " like ";
    case PatternKind::kTemplate: return ".matchesTemplate(";
    case PatternKind::kRegex: break;
  }
  return ".matches(";
}

// Renders postfix integer code back to infix, fully parenthesised below the
// top level.
std::string RenderIntCode(const Program& program,
                          const std::vector<IntInstr>& code) {
  std::vector<std::string> stack;
  for (const IntInstr& instr : code) {
    switch (instr.opcode) {
      case IntOpcode::kPushSlot:
        stack.push_back(program.slots[instr.slot].path);
        break;
      case IntOpcode::kPushConst:
        stack.push_back(RenderIntConstant(instr));
        break;
      case IntOpcode::kPushSetSize:
        stack.push_back(absl::StrCat(program.slots[instr.slot].path, ".size()"));
        break;
      case IntOpcode::kNegate:
        stack.back() = absl::StrCat("-", stack.back());
        break;
      case IntOpcode::kAdd:
      case IntOpcode::kSub: {
        std::string right = std::move(stack.back());
        stack.pop_back();
        std::string left = std::move(stack.back());
        stack.back() =
            absl::StrCat("(", left,
                         instr.opcode == IntOpcode::kAdd ? " + " : " - ",
                         right, ")");
        break;
      }
    }
  }
  if (stack.empty()) return "";
  std::string out = std::move(stack.back());
  if (out.size() > 1 && out.front() == '(' && out.back() == ')') {
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

std::string RenderSet(const Program& program, const std::vector<uint32_t>& set) {
  std::vector<std::string> elements;
  for (uint32_t symbol : set) elements.push_back(Quote(program.symbols[symbol]));
  return absl::StrCat("[", absl::StrJoin(elements, ", "), "]");
}

std::string RenderSymbol(const Program& program, uint32_t slot,
                         uint32_t symbol) {
  const std::string& text = program.symbols[symbol];
  if (program.slots[slot].type != Type::kStringList) return Quote(text);
  std::vector<std::string> elements;
  if (!text.empty()) {
    // Skip the separator that precedes the first element.
    for (absl::string_view element : absl::StrSplit(
             ToAbsl(text).substr(1), kListSeparator, absl::AllowEmpty())) {
      elements.push_back(Quote(ToStd(element)));
    }
  }
  return absl::StrCat("[", absl::StrJoin(elements, ", "), "]");
}

}  // namespace

namespace {

uint64_t LinkHash(const int64_t* key, size_t count) {
  uint64_t hash = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < count; ++i) {
    hash ^= static_cast<uint64_t>(key[i]);
    hash *= 0xBF58476D1CE4E5B9ull;
    hash ^= hash >> 31;
  }
  return hash;
}

}  // namespace

bool LinkTable::Contains(const int64_t* key) const {
  if (buckets.empty()) return false;
  const size_t width = fields.size();
  const size_t mask = buckets.size() - 1;
  for (size_t at = LinkHash(key, width) & mask;; at = (at + 1) & mask) {
    const uint32_t entry = buckets[at];
    if (entry == 0) return false;
    if (std::equal(key, key + width, values.begin() + (entry - 1) * width)) {
      return true;
    }
  }
}

void LinkTable::BuildIndex() {
  const size_t width = fields.size();
  const size_t count = link_count();
  buckets.assign(std::bit_ceil(std::max<size_t>(2, count * 2)), 0);
  const size_t mask = buckets.size() - 1;
  for (size_t link = 0; link < count; ++link) {
    const int64_t* key = values.data() + link * width;
    size_t at = LinkHash(key, width) & mask;
    while (buckets[at] != 0) at = (at + 1) & mask;
    buckets[at] = static_cast<uint32_t>(link + 1);
  }
}

bool IsPathTest(const Predicate& p) {
  switch (p.kind) {
    case PredicateKind::kStrMatches:
      return p.pattern != PatternKind::kRegex;
    case PredicateKind::kStrStartsWith:
    case PredicateKind::kStrEndsWith:
      return p.text.find('/') != std::string::npos;
    default:
      return false;
  }
}

std::vector<uint32_t> PredicateSlots(const Predicate& p) {
  std::vector<uint32_t> slots(p.slots.begin(), p.slots.end());
  if (p.slot != kNoSlot) slots.push_back(p.slot);
  if (p.slot2 != kNoSlot) slots.push_back(p.slot2);
  for (const auto* code : {&p.left, &p.right}) {
    for (const IntInstr& instr : *code) {
      if (instr.opcode == IntOpcode::kPushSlot ||
          instr.opcode == IntOpcode::kPushSetSize) {
        slots.push_back(instr.slot);
      }
    }
  }
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

uint32_t Program::FindSymbol(std::string_view text) const {
  auto it = symbol_index.find(ToAbsl(text));
  return it == symbol_index.end() ? kNoSymbol : it->second;
}

uint32_t Program::FindSlot(std::string_view path) const {
  auto it = slot_index.find(ToAbsl(path));
  return it == slot_index.end() ? kNoSlot : it->second;
}

std::string Program::DescribePredicate(uint32_t predicate) const {
  const Predicate& p = predicates[predicate];
  const std::string& path = p.slot == kNoSlot ? "" : slots[p.slot].path;
  switch (p.kind) {
    case PredicateKind::kBoolIs:
      return path;
    case PredicateKind::kHas: {
      const SlotInfo& slot = slots[p.slot];
      return absl::StrCat(slot.group, " has ",
                          path.substr(slot.group.size() + 1));
    }
    case PredicateKind::kStrEq:
      return absl::StrCat(path, " == ", RenderSymbol(*this, p.slot, p.symbol));
    case PredicateKind::kStrInConst:
      return absl::StrCat(path, " in ", RenderSet(*this, const_sets[p.set]));
    case PredicateKind::kStrStartsWith:
      return absl::StrCat(path, ".startsWith(", Quote(p.text), ")");
    case PredicateKind::kStrEndsWith:
      return absl::StrCat(path, ".endsWith(", Quote(p.text), ")");
    case PredicateKind::kStrEqSlot:
      return absl::StrCat(path, " == ", slots[p.slot2].path);
    case PredicateKind::kSetContains: {
      const SlotInfo& slot = slots[p.slot];
      if (slot.computed) {
        // A hierarchy test: `subject in Group::"eng"`.
        std::string_view entity = symbols[p.symbol];
        size_t separator = entity.find("::");
        return absl::StrCat(slot.group, " in ",
                            ToAbsl(entity.substr(0, separator)), "::",
                            Quote(entity.substr(separator + 2)));
      }
      return absl::StrCat(Quote(symbols[p.symbol]), " in ", path);
    }
    case PredicateKind::kSetContainsSlot:
      return absl::StrCat(slots[p.slot2].path, " in ", path);
    case PredicateKind::kSetEqConst:
      return absl::StrCat(path, " == ", RenderSet(*this, const_sets[p.set]));
    case PredicateKind::kIntCompare:
      return absl::StrCat(RenderIntCode(*this, p.left), " ", ToAbsl(IntOpText(p.op)),
                          " ", RenderIntCode(*this, p.right));
    case PredicateKind::kSetContainsAllConst:
      return absl::StrCat(path, ".containsAll(",
                          RenderSet(*this, const_sets[p.set]), ")");
    case PredicateKind::kSetContainsAnyConst:
      return absl::StrCat(path, ".containsAny(",
                          RenderSet(*this, const_sets[p.set]), ")");
    case PredicateKind::kSetContainsAllSlot:
      return absl::StrCat(path, ".containsAll(", slots[p.slot2].path, ")");
    case PredicateKind::kSetContainsAnySlot:
      return absl::StrCat(path, ".containsAny(", slots[p.slot2].path, ")");
    case PredicateKind::kIpEq:
      return absl::StrCat(path, " == ip(\"", FormatIp(p.text), "\")");
    case PredicateKind::kIpEqSlot:
      return absl::StrCat(path, " == ", slots[p.slot2].path);
    case PredicateKind::kIpInCidr:
      return absl::StrCat(path, " in cidr(\"", FormatCidr(p.text), "\")");
    case PredicateKind::kIpInCidrSlot:
      return absl::StrCat(path, " in ", slots[p.slot2].path);
    case PredicateKind::kIpInCidrList: {
      std::vector<std::string> ranges;
      for (size_t at = 0; at < p.text.size(); at += kCidrBytes) {
        ranges.push_back(absl::StrCat(
            "cidr(\"", FormatCidr(std::string_view(p.text).substr(at, kCidrBytes)),
            "\")"));
      }
      return absl::StrCat(path, " in [", absl::StrJoin(ranges, ", "), "]");
    }
    case PredicateKind::kCidrHasIp:
      return absl::StrCat("ip(\"", FormatIp(p.text), "\") in ", path);
    case PredicateKind::kStrMatches: {
      std::string_view method = PatternMethod(p.pattern);
      return absl::StrCat(path, ToAbsl(method), Quote(p.text),
                          p.pattern == PatternKind::kGlob ? "" : ")");
    }
    case PredicateKind::kLinked: {
      // The template's binding terms, and where their values come from.
      const LinkTable& table = link_tables[p.set];
      std::vector<std::string> terms;
      for (size_t i = 0; i < table.fields.size(); ++i) {
        terms.push_back(
            absl::StrCat(slots[table.slots[i]].path, " == ?", table.fields[i]));
      }
      return absl::StrCat(absl::StrJoin(terms, " and "), " for a record of ",
                          table.data_set);
    }
  }
  return "";
}

}  // namespace verdict
