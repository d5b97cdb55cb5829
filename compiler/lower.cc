#include "compiler/lower.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/patterns.h"
#include "engine/values.h"
#include "re2/re2.h"

namespace verdict::compiler {
namespace {

std::optional<int64_t> FoldInt(const TExpr& expr) {
  switch (expr.kind) {
    case TExprKind::kLiteral:
      return expr.int_value;
    case TExprKind::kNegate: {
      std::optional<int64_t> value = FoldInt(expr.children[0]);
      int64_t out;
      if (!value || __builtin_sub_overflow(int64_t{0}, *value, &out)) {
        return std::nullopt;
      }
      return out;
    }
    case TExprKind::kAdd:
    case TExprKind::kSubtract: {
      std::optional<int64_t> left = FoldInt(expr.children[0]);
      std::optional<int64_t> right = FoldInt(expr.children[1]);
      int64_t out;
      if (!left || !right) return std::nullopt;
      bool overflow = expr.kind == TExprKind::kAdd
                          ? __builtin_add_overflow(*left, *right, &out)
                          : __builtin_sub_overflow(*left, *right, &out);
      if (overflow) return std::nullopt;
      return out;
    }
    default:
      return std::nullopt;
  }
}

bool CompareInts(int64_t left, CompareOp op, int64_t right) {
  switch (op) {
    case CompareOp::kEq: return left == right;
    case CompareOp::kNe: return left != right;
    case CompareOp::kLt: return left < right;
    case CompareOp::kLe: return left <= right;
    case CompareOp::kGt: return left > right;
    case CompareOp::kGe: return left >= right;
  }
  return false;
}

IntOp ToIntOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return IntOp::kEq;
    case CompareOp::kNe: return IntOp::kNe;
    case CompareOp::kLt: return IntOp::kLt;
    case CompareOp::kLe: return IntOp::kLe;
    case CompareOp::kGt: return IntOp::kGt;
    case CompareOp::kGe: return IntOp::kGe;
  }
  return IntOp::kEq;
}

class Lowerer {
 public:
  Lowerer(Program& program, FormulaStore& store)
      : program_(program), store_(store) {}

  // Lays out the attribute slots. `checked` has every attribute; its
  // policies may be yet to come.
  void Begin(const CheckedSet& checked);
  // Lowers policy i of `checked`, after policies 0 to i-1.
  void LowerPolicy(const CheckedSet& checked, size_t i);
  // Lays out the policy sets and link tables once every policy is lowered.
  void Finish(const CheckedSet& checked);

 private:
  uint32_t LowerExpr(const TExpr& expr);
  uint32_t LowerCompare(const TExpr& expr);
  uint32_t LowerEquality(const TExpr& left, const TExpr& right);
  uint32_t LowerIntCompare(const TExpr& expr);
  uint32_t LowerIn(const TExpr& expr);
  uint32_t LowerStringTest(const TExpr& expr);
  uint32_t LowerSetTest(const TExpr& expr);
  uint32_t LowerMatch(const TExpr& expr);
  uint32_t LowerLinked(const TExpr& expr);
  uint32_t LowerIpIn(const TExpr& expr);
  void LowerDuties(const CheckedPolicy& policy, PolicyInfo& info);
  void LowerSets();
  void EmitInt(const TExpr& expr, std::vector<IntInstr>& code);

  uint32_t Bool(bool value) {
    return store_.Constant(value ? Truth::kTrue : Truth::kFalse);
  }
  uint32_t Symbol(std::string_view text) { return InternSymbol(program_, text); }
  uint32_t ConstSet(const std::vector<std::string>& elements);
  uint32_t ListSymbol(const std::vector<std::string>& elements) {
    std::string encoded;
    for (const std::string& element : elements) {
      encoded.push_back(kListSeparator);
      encoded += element;
    }
    return Symbol(encoded);
  }
  // Interns `predicate` and returns its atom formula.
  uint32_t Atom(Predicate predicate);

  const CheckedSet* checked_ = nullptr;  // the argument of the last call
  Program& program_;
  FormulaStore& store_;
  absl::flat_hash_map<std::string, uint32_t> predicate_index_;
  absl::flat_hash_map<std::string, uint32_t> const_set_index_;
  absl::flat_hash_map<std::string, uint32_t> regex_index_;
};

std::string PredicateKey(const Predicate& p) {
  std::string key = absl::StrCat(static_cast<int>(p.kind), "|",
                                 static_cast<int>(p.op), "|",
                                 static_cast<int>(p.pattern), "|", p.slot, "|",
                                 p.slot2, "|", p.symbol, "|", p.set, "|",
                                 p.text.size(), ":", p.text);
  for (const auto* code : {&p.left, &p.right}) {
    absl::StrAppend(&key, "|");
    for (const IntInstr& instr : *code) {
      absl::StrAppend(&key, static_cast<int>(instr.opcode), ",", instr.slot,
                      ",", instr.value, ";");
    }
  }
  return key;
}

void Lowerer::Begin(const CheckedSet& checked) {
  checked_ = &checked;
  for (const Attribute& attribute : checked_->attributes) {
    uint32_t slot = static_cast<uint32_t>(program_.slots.size());
    program_.slots.push_back(
        SlotInfo{attribute.path, attribute.group, attribute.type,
                 attribute.optional, attribute.computed});
    program_.slot_index[attribute.path] = slot;
  }
  for (uint32_t slot = 0; slot < program_.slots.size(); ++slot) {
    const SlotInfo& info = program_.slots[slot];
    if (!info.computed) continue;
    program_.ancestors.push_back(
        AncestorsSlot{slot, program_.FindSlot(info.group + ".type"),
                      program_.FindSlot(info.group + ".id")});
  }
  for (uint32_t slot = 0; slot < program_.slots.size(); ++slot) {
    const std::string& path = program_.slots[slot].path;
    if (!path.starts_with(kProvenancePrefix)) continue;
    const uint32_t target =
        program_.FindSlot(std::string_view(path).substr(
            std::string_view(kProvenancePrefix).size()));
    // The checker reports a provenance attribute of another type or
    // without its target.
    if (target == kNoSlot || program_.slots[slot].type != Type::kString) {
      continue;
    }
    program_.provenance.push_back(ProvenanceSlot{slot, target});
  }
  program_.env_now_slot = program_.FindSlot("env.now");
  if (program_.env_now_slot != kNoSlot &&
      program_.slots[program_.env_now_slot].type != Type::kTimestamp) {
    program_.env_now_slot = kNoSlot;
  }
}

void Lowerer::LowerPolicy(const CheckedSet& checked, size_t i) {
  checked_ = &checked;
  const CheckedPolicy& policy = checked_->policies[i];
  program_.policies.push_back(PolicyInfo{
      policy.id,
      policy.effect == Effect::kPermit ? PolicyEffect::kPermit
                                       : PolicyEffect::kForbid,
      FormatLocation(policy.span)});
  LowerDuties(policy, program_.policies.back());
  PolicyInfo& info = program_.policies.back();
  info.set = static_cast<uint32_t>(policy.set + 1);
  for (int set = policy.set; set >= 0; set = checked_->sets[set].parent) {
    info.decides_root &=
        checked_->sets[set].algorithm == CombiningAlgorithm::kDenyOverrides;
  }
  program_.policy_formulas.push_back(
      policy.has_condition ? LowerExpr(policy.condition) : Bool(true));
}

void Lowerer::Finish(const CheckedSet& checked) {
  checked_ = &checked;
  // A template left out of the program (CompileOptions::disabled_policies)
  // keeps an empty table, so that indexes match CheckedSet::templates.
  program_.link_tables.resize(checked_->templates.size());
  LowerSets();
}

uint32_t Lowerer::Atom(Predicate predicate) {
  std::string key = PredicateKey(predicate);
  auto [it, inserted] = predicate_index_.try_emplace(
      key, static_cast<uint32_t>(program_.predicates.size()));
  if (inserted) program_.predicates.push_back(std::move(predicate));
  return store_.Atom(it->second);
}

uint32_t Lowerer::ConstSet(const std::vector<std::string>& elements) {
  std::vector<uint32_t> symbols;
  for (const std::string& element : elements) symbols.push_back(Symbol(element));
  std::sort(symbols.begin(), symbols.end());
  std::string key = absl::StrJoin(symbols, ",");
  auto [it, inserted] = const_set_index_.try_emplace(
      key, static_cast<uint32_t>(program_.const_sets.size()));
  if (inserted) program_.const_sets.push_back(std::move(symbols));
  return it->second;
}

uint32_t Lowerer::LowerExpr(const TExpr& expr) {
  switch (expr.kind) {
    case TExprKind::kLiteral:
      return Bool(expr.bool_value);
    case TExprKind::kAttribute: {
      Predicate p;
      p.kind = PredicateKind::kBoolIs;
      p.slot = expr.attribute;
      return Atom(std::move(p));
    }
    case TExprKind::kHas: {
      Predicate p;
      p.kind = PredicateKind::kHas;
      p.slot = expr.attribute;
      return Atom(std::move(p));
    }
    case TExprKind::kNot:
      return store_.Not(LowerExpr(expr.children[0]));
    case TExprKind::kAnd:
    case TExprKind::kOr: {
      std::vector<uint32_t> operands;
      for (const TExpr& child : expr.children) operands.push_back(LowerExpr(child));
      return expr.kind == TExprKind::kAnd ? store_.And(std::move(operands))
                                          : store_.Or(std::move(operands));
    }
    case TExprKind::kCompare:
      return LowerCompare(expr);
    case TExprKind::kIn:
      return LowerIn(expr);
    case TExprKind::kStartsWith:
    case TExprKind::kEndsWith:
      return LowerStringTest(expr);
    case TExprKind::kContainsAll:
    case TExprKind::kContainsAny:
      return LowerSetTest(expr);
    case TExprKind::kMatches:
      return LowerMatch(expr);
    case TExprKind::kLinked:
      return LowerLinked(expr);
    default:
      break;  // arithmetic never has type bool
  }
  return store_.Constant(Truth::kFalse);
}

uint32_t Lowerer::LowerCompare(const TExpr& expr) {
  const TExpr& left = expr.children[0];
  const TExpr& right = expr.children[1];
  if (left.type == Type::kInt || left.type == Type::kTimestamp ||
      left.type == Type::kDuration || left.type == Type::kDecimal) {
    return LowerIntCompare(expr);
  }
  uint32_t equal = LowerEquality(left, right);
  return expr.compare_op == CompareOp::kNe ? store_.Not(equal) : equal;
}

uint32_t Lowerer::LowerEquality(const TExpr& left, const TExpr& right) {
  const bool left_literal = left.kind == TExprKind::kLiteral;
  const bool right_literal = right.kind == TExprKind::kLiteral;
  if (left.type == Type::kBool) {
    // a == b is (a and b) or (not a and not b): errored when either errs.
    uint32_t a = LowerExpr(left);
    uint32_t b = LowerExpr(right);
    return store_.Or({store_.And({a, b}),
                      store_.And({store_.Not(a), store_.Not(b)})});
  }
  if (left_literal && right_literal) {
    return Bool(left.text == right.text && left.elements == right.elements);
  }
  const TExpr& attribute = left_literal ? right : left;
  const TExpr& other = left_literal ? left : right;
  Predicate p;
  p.slot = attribute.attribute;
  const bool address = left.type == Type::kIp || left.type == Type::kCidr;
  if (address && other.kind == TExprKind::kAttribute) {
    p.kind = PredicateKind::kIpEqSlot;
    p.slot = std::min(left.attribute, right.attribute);
    p.slot2 = std::max(left.attribute, right.attribute);
  } else if (address) {
    p.kind = PredicateKind::kIpEq;
    p.text = other.text;
  } else if (other.kind == TExprKind::kAttribute) {
    p.kind = PredicateKind::kStrEqSlot;
    p.slot = std::min(left.attribute, right.attribute);
    p.slot2 = std::max(left.attribute, right.attribute);
  } else if (attribute.type == Type::kString) {
    p.kind = PredicateKind::kStrEq;
    p.symbol = Symbol(other.text);
  } else if (attribute.type == Type::kStringList) {
    p.kind = PredicateKind::kStrEq;
    p.symbol = ListSymbol(other.elements);
  } else {
    p.kind = PredicateKind::kSetEqConst;
    p.set = ConstSet(other.elements);
  }
  return Atom(std::move(p));
}

void Lowerer::EmitInt(const TExpr& expr, std::vector<IntInstr>& code) {
  IntInstr instr;
  switch (expr.kind) {
    case TExprKind::kLiteral:
      instr.opcode = IntOpcode::kPushConst;
      instr.type = expr.type;
      instr.value = expr.int_value;
      break;
    case TExprKind::kAttribute:
      instr.opcode = IntOpcode::kPushSlot;
      instr.slot = expr.attribute;
      break;
    case TExprKind::kNegate:
      EmitInt(expr.children[0], code);
      instr.opcode = IntOpcode::kNegate;
      break;
    case TExprKind::kSize:
      instr.opcode = IntOpcode::kPushSetSize;
      instr.slot = expr.children[0].attribute;
      break;
    default:
      EmitInt(expr.children[0], code);
      EmitInt(expr.children[1], code);
      instr.opcode =
          expr.kind == TExprKind::kAdd ? IntOpcode::kAdd : IntOpcode::kSub;
      break;
  }
  code.push_back(instr);
}

uint32_t Lowerer::LowerIntCompare(const TExpr& expr) {
  std::optional<int64_t> left = FoldInt(expr.children[0]);
  std::optional<int64_t> right = FoldInt(expr.children[1]);
  if (left && right) return Bool(CompareInts(*left, expr.compare_op, *right));
  Predicate p;
  p.kind = PredicateKind::kIntCompare;
  p.op = ToIntOp(expr.compare_op);
  EmitInt(expr.children[0], p.left);
  EmitInt(expr.children[1], p.right);
  return Atom(std::move(p));
}

uint32_t Lowerer::LowerIn(const TExpr& expr) {
  const TExpr& element = expr.children[0];
  const TExpr& set = expr.children[1];
  if (element.type == Type::kIp) return LowerIpIn(expr);
  const bool element_literal = element.kind == TExprKind::kLiteral;
  Predicate p;
  if (set.kind == TExprKind::kLiteral) {
    if (element_literal) {
      return Bool(std::binary_search(set.elements.begin(), set.elements.end(),
                                     element.text));
    }
    p.slot = element.attribute;
    if (set.elements.size() == 1) {
      p.kind = PredicateKind::kStrEq;
      p.symbol = Symbol(set.elements[0]);
    } else {
      p.kind = PredicateKind::kStrInConst;
      p.set = ConstSet(set.elements);
    }
  } else if (element_literal) {
    p.kind = PredicateKind::kSetContains;
    p.slot = set.attribute;
    p.symbol = Symbol(element.text);
  } else {
    p.kind = PredicateKind::kSetContainsSlot;
    p.slot = set.attribute;
    p.slot2 = element.attribute;
  }
  return Atom(std::move(p));
}

uint32_t Lowerer::LowerStringTest(const TExpr& expr) {
  const TExpr& receiver = expr.children[0];
  const std::string& affix = expr.children[1].text;
  const bool starts = expr.kind == TExprKind::kStartsWith;
  if (receiver.kind == TExprKind::kLiteral) {
    std::string_view text = receiver.text;
    return Bool(starts ? text.starts_with(affix) : text.ends_with(affix));
  }
  Predicate p;
  p.kind = starts ? PredicateKind::kStrStartsWith : PredicateKind::kStrEndsWith;
  p.slot = receiver.attribute;
  p.text = affix;
  return Atom(std::move(p));
}

// Program set i+1 is checked set i; set 0 is the top level.
void Lowerer::LowerSets() {
  program_.sets.resize(checked_->sets.size() + 1);
  program_.has_policy_sets = !checked_->sets.empty();
  std::vector<std::vector<std::pair<uint64_t, SetMember>>> members(
      program_.sets.size());
  for (size_t i = 0; i < checked_->sets.size(); ++i) {
    const CheckedPolicySet& set = checked_->sets[i];
    PolicySetInfo& out = program_.sets[i + 1];
    out.id = set.id;
    out.location = FormatLocation(set.span);
    out.algorithm = static_cast<Combining>(set.algorithm);
    members[set.parent + 1].push_back(
        {set.order, SetMember{true, static_cast<uint32_t>(i + 1)}});
  }
  for (size_t i = 0; i < checked_->policies.size(); ++i) {
    const CheckedPolicy& policy = checked_->policies[i];
    members[policy.set + 1].push_back(
        {policy.order, SetMember{false, static_cast<uint32_t>(i)}});
  }
  for (size_t i = 0; i < members.size(); ++i) {
    std::sort(members[i].begin(), members[i].end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [order, member] : members[i]) {
      program_.sets[i].members.push_back(member);
    }
  }
}

void Lowerer::LowerDuties(const CheckedPolicy& policy, PolicyInfo& info) {
  for (const CheckedDuty& duty : policy.duties) {
    Duty out{duty.advice, duty.name, {}};
    for (const auto& [key, value] : duty.fields) {
      DutyField field;
      field.key = key;
      field.type = value.type;
      if (value.kind == TExprKind::kAttribute) {
        field.slot = value.attribute;
        info.obligations_read_slots |= !duty.advice;
      } else {
        field.integer = value.type == Type::kBool ? value.bool_value
                                                  : value.int_value;
        field.text = value.text;
        field.elements = value.elements;
      }
      out.fields.push_back(std::move(field));
    }
    info.duties.push_back(std::move(out));
  }
}

uint32_t Lowerer::LowerIpIn(const TExpr& expr) {
  const TExpr& address = expr.children[0];
  const TExpr& range = expr.children[1];
  if (address.kind == TExprKind::kLiteral && range.kind == TExprKind::kLiteral) {
    if (range.type == Type::kCidr) return Bool(IpInCidr(address.text, range.text));
    return Bool(std::any_of(range.elements.begin(), range.elements.end(),
                            [&](const std::string& cidr) {
                              return IpInCidr(address.text, cidr);
                            }));
  }
  Predicate p;
  if (address.kind == TExprKind::kLiteral) {
    // Only a cidr attribute is left on the right.
    p.kind = PredicateKind::kCidrHasIp;
    p.slot = range.attribute;
    p.text = address.text;
    return Atom(std::move(p));
  }
  p.slot = address.attribute;
  if (range.kind == TExprKind::kAttribute) {
    p.kind = PredicateKind::kIpInCidrSlot;
    p.slot2 = range.attribute;
    return Atom(std::move(p));
  }
  if (range.type == Type::kCidr) {
    p.kind = PredicateKind::kIpInCidr;
    p.text = range.text;
    return Atom(std::move(p));
  }
  // One predicate for the whole list keeps large range lists cheap to
  // compile; it scans the ranges at run time.
  p.kind = PredicateKind::kIpInCidrList;
  std::vector<std::string> ranges = range.elements;
  std::sort(ranges.begin(), ranges.end());
  ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
  for (const std::string& cidr : ranges) p.text += cidr;
  return Atom(std::move(p));
}

uint32_t Lowerer::LowerSetTest(const TExpr& expr) {
  const TExpr& set = expr.children[0];
  const TExpr& argument = expr.children[1];
  const bool all = expr.kind == TExprKind::kContainsAll;
  Predicate p;
  p.slot = set.attribute;
  if (argument.kind == TExprKind::kAttribute) {
    p.kind = all ? PredicateKind::kSetContainsAllSlot
                 : PredicateKind::kSetContainsAnySlot;
    p.slot2 = argument.attribute;
  } else {
    p.kind = all ? PredicateKind::kSetContainsAllConst
                 : PredicateKind::kSetContainsAnyConst;
    p.set = ConstSet(argument.elements);
  }
  return Atom(std::move(p));
}

uint32_t Lowerer::LowerMatch(const TExpr& expr) {
  const TExpr& subject = expr.children[0];
  const std::string& regex = expr.elements[0];
  if (subject.kind == TExprKind::kLiteral) {
    return Bool(RE2::FullMatch(subject.text, RE2(regex, PatternOptions())));
  }
  auto [it, inserted] = regex_index_.try_emplace(
      regex, static_cast<uint32_t>(program_.regexes.size()));
  if (inserted) {
    program_.regexes.push_back(
        std::make_unique<const RE2>(regex, PatternOptions()));
  }
  Predicate p;
  p.kind = PredicateKind::kStrMatches;
  p.pattern = static_cast<PatternKind>(expr.int_value);
  p.slot = subject.attribute;
  p.set = it->second;
  p.text = expr.text;
  return Atom(std::move(p));
}

// The link table itself is filled from the data set by LoadLinks.
uint32_t Lowerer::LowerLinked(const TExpr& expr) {
  const CheckedTemplate& entry = checked_->templates[expr.int_value];
  if (program_.link_tables.size() <= static_cast<size_t>(expr.int_value)) {
    program_.link_tables.resize(expr.int_value + 1);
  }
  LinkTable& table = program_.link_tables[expr.int_value];
  table.policy = entry.policy;
  table.data_set = entry.data_set;
  table.fields = entry.placeholders;
  table.slots = entry.attributes;
  Predicate p;
  p.kind = PredicateKind::kLinked;
  p.slot = entry.attributes[0];
  p.slots = entry.attributes;
  p.set = static_cast<uint32_t>(expr.int_value);
  return Atom(std::move(p));
}

}  // namespace

uint32_t InternSymbol(Program& program, std::string_view text) {
  auto [it, inserted] = program.symbol_index.try_emplace(
      std::string(text), static_cast<uint32_t>(program.symbols.size()));
  if (inserted) program.symbols.emplace_back(text);
  return it->second;
}

void Lower(const CheckedSet& checked, Program& program, FormulaStore& store) {
  Lowerer lowerer(program, store);
  lowerer.Begin(checked);
  for (size_t i = 0; i < checked.policies.size(); ++i) {
    lowerer.LowerPolicy(checked, i);
  }
  lowerer.Finish(checked);
}

struct StreamingLowerer::Impl {
  Impl(Program& program, FormulaStore& store) : lowerer(program, store) {}
  Lowerer lowerer;
  bool begun = false;
  size_t lowered = 0;  // policies lowered so far
};

StreamingLowerer::StreamingLowerer(Program& program, FormulaStore& store)
    : impl_(std::make_unique<Impl>(program, store)) {}

StreamingLowerer::~StreamingLowerer() = default;

void StreamingLowerer::Lower(CheckedSet& checked) {
  if (!impl_->begun) {
    impl_->lowerer.Begin(checked);
    impl_->begun = true;
  }
  for (size_t& i = impl_->lowered; i < checked.policies.size(); ++i) {
    impl_->lowerer.LowerPolicy(checked, i);
    checked.policies[i].condition = TExpr{};
    std::vector<CheckedDuty>().swap(checked.policies[i].duties);
  }
}

void StreamingLowerer::Finish(const CheckedSet& checked) {
  if (!impl_->begun) impl_->lowerer.Begin(checked);
  impl_->lowerer.Finish(checked);
}

}  // namespace verdict::compiler
