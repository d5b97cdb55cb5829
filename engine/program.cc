#include "engine/program.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"

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

// Renders a duration in the largest unit that divides it: 300 -> "5m".
std::string FormatDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  for (auto [unit, size] : {std::pair{'d', 86400}, {'h', 3600}, {'m', 60}}) {
    if (seconds % size == 0) return absl::StrCat(seconds / size, std::string(1, unit));
  }
  return absl::StrCat(seconds, "s");
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
        stack.push_back(instr.type == Type::kDuration
                            ? FormatDuration(instr.value)
                            : absl::StrCat(instr.value));
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
    case PredicateKind::kSetContains:
      return absl::StrCat(Quote(symbols[p.symbol]), " in ", path);
    case PredicateKind::kSetContainsSlot:
      return absl::StrCat(slots[p.slot2].path, " in ", path);
    case PredicateKind::kSetEqConst:
      return absl::StrCat(path, " == ", RenderSet(*this, const_sets[p.set]));
    case PredicateKind::kIntCompare:
      return absl::StrCat(RenderIntCode(*this, p.left), " ", ToAbsl(IntOpText(p.op)),
                          " ", RenderIntCode(*this, p.right));
  }
  return "";
}

}  // namespace verdict
