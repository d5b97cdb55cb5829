#include "engine/evaluator.h"

#include <algorithm>
#include <array>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/absl_compat.h"
#include "engine/values.h"

namespace verdict {
namespace {

// Runs postfix integer code with overflow checks. Returns false when a slot
// is absent or an operation overflows.
bool RunIntCode(const std::vector<IntInstr>& code, const Frame& frame,
                int64_t& result) {
  std::array<int64_t, kMaxIntStack> stack;
  size_t depth = 0;
  for (const IntInstr& instr : code) {
    switch (instr.opcode) {
      case IntOpcode::kPushSlot: {
        const SlotValue& value = frame.slot(instr.slot);
        if (!value.present) return false;
        stack[depth++] = value.integer;
        break;
      }
      case IntOpcode::kPushConst:
        stack[depth++] = instr.value;
        break;
      case IntOpcode::kPushSetSize: {
        const SlotValue& value = frame.slot(instr.slot);
        if (!value.present) return false;
        stack[depth++] = value.set_size;
        break;
      }
      case IntOpcode::kNegate:
        if (__builtin_sub_overflow(int64_t{0}, stack[depth - 1],
                                   &stack[depth - 1])) {
          return false;
        }
        break;
      case IntOpcode::kAdd:
      case IntOpcode::kSub: {
        int64_t right = stack[--depth];
        int64_t& left = stack[depth - 1];
        bool overflow = instr.opcode == IntOpcode::kAdd
                            ? __builtin_add_overflow(left, right, &left)
                            : __builtin_sub_overflow(left, right, &left);
        if (overflow) return false;
        break;
      }
    }
  }
  result = stack[0];
  return true;
}

bool CompareInts(int64_t left, IntOp op, int64_t right) {
  switch (op) {
    case IntOp::kEq: return left == right;
    case IntOp::kNe: return left != right;
    case IntOp::kLt: return left < right;
    case IntOp::kLe: return left <= right;
    case IntOp::kGt: return left > right;
    case IntOp::kGe: return left >= right;
  }
  return false;
}

Truth FromBool(bool value) { return value ? Truth::kTrue : Truth::kFalse; }

bool Contains(std::span<const uint32_t> sorted, uint32_t symbol) {
  return std::binary_search(sorted.begin(), sorted.end(), symbol);
}

// Both ranges are sorted and unique.
bool ContainsAll(std::span<const uint32_t> set, std::span<const uint32_t> of) {
  return std::includes(set.begin(), set.end(), of.begin(), of.end());
}

bool ContainsAny(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

uint32_t SwitchTarget(const Program& program, const Node& node,
                      uint32_t symbol) {
  const SwitchEntry* table = program.switch_entries.data() + node.b;
  const uint32_t mask = node.c - 1;
  for (uint32_t index = SwitchHash(symbol, node.c);;
       index = (index + 1) & mask) {
    if (table[index].symbol == symbol) return table[index].target;
    if (table[index].symbol == kNoSymbol) return node.children[0];
  }
}

// Returns the child of test or switch `node` that the request in `frame`
// leads to. Evaluate and WalkPath both step through the DAG with it.
inline uint32_t NextNode(const Program& program, const Frame& frame,
                         const Node& node) {
  if (node.kind == NodeKind::kTest) {
    Truth truth = EvaluatePredicate(program, frame, node.a);
    return node.children[static_cast<int>(truth)];
  }
  const SlotValue& value = frame.slot(node.a);
  return value.present ? SwitchTarget(program, node, value.symbol)
                       : node.children[1];
}

// Returns the first predicate under `formula` that errors on this request;
// called only for formulas that evaluated to kError.
uint32_t FindErrorPredicate(const Program& program, const Frame& frame,
                            uint32_t formula) {
  const Formula& node = program.formulas[formula];
  if (node.kind == FormulaKind::kConst) return node.predicate;
  if (node.kind == FormulaKind::kAtom) return node.predicate;
  for (uint32_t i = 0; i < node.count; ++i) {
    uint32_t child = program.formula_children[node.begin + i];
    if (EvaluateFormula(program, frame, child) == Truth::kError) {
      return FindErrorPredicate(program, frame, child);
    }
  }
  return 0;
}

// A per-thread generator for decision ids, seeded once from the OS.
DecisionId NextDecisionId() {
  thread_local std::mt19937_64 generator(std::random_device{}());
  DecisionId id{generator(), generator()};
  id.high = (id.high & ~0xF000ull) | 0x4000ull;            // version 4
  id.low = (id.low & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 1
  return id;
}

Truth EvaluateSlotPair(PredicateKind kind, const Frame& frame,
                       const SlotValue& value, const SlotValue& other) {
  switch (kind) {
    case PredicateKind::kStrEqSlot:
      return FromBool(value.symbol == other.symbol);
    case PredicateKind::kSetContainsSlot:
      return FromBool(Contains(frame.Set(value), other.symbol));
    case PredicateKind::kSetContainsAllSlot:
      return FromBool(ContainsAll(frame.Set(value), frame.Set(other)));
    case PredicateKind::kSetContainsAnySlot:
      return FromBool(ContainsAny(frame.Set(value), frame.Set(other)));
    case PredicateKind::kIpEqSlot:
      return FromBool(frame.Text(value) == frame.Text(other));
    case PredicateKind::kIpInCidrSlot:
      return FromBool(IpInCidr(frame.Text(value), frame.Text(other)));
    default:
      return Truth::kError;
  }
}

// Returns the first applying permit with an obligation that reads an absent
// attribute, or kNoPolicy.
uint32_t FindUnfulfillable(const Program& program, const Frame& frame) {
  for (uint32_t policy : frame.permits) {
    const PolicyInfo& info = program.policies[policy];
    if (!info.obligations_read_slots) continue;
    for (const Duty& duty : info.duties) {
      if (duty.advice) continue;
      for (const DutyField& field : duty.fields) {
        if (field.slot != kNoSlot && !frame.slot(field.slot).present) {
          return policy;
        }
      }
    }
  }
  return kNoPolicy;
}

enum class Combined : uint8_t { kNotApplicable, kPermit, kDeny };

// Per-policy outcome marks in Frame::policy_status.
constexpr uint8_t kApplies = 1;
constexpr uint8_t kErrored = 2;

Combined PolicyOutcome(const Program& program, const Frame& frame,
                       uint32_t policy) {
  const bool permit =
      program.policies[policy].effect == PolicyEffect::kPermit;
  const uint8_t status = frame.policy_status[policy];
  if (status == kApplies) return permit ? Combined::kPermit : Combined::kDeny;
  // An errored forbid denies; an errored permit does not apply.
  if (status == kErrored && !permit) return Combined::kDeny;
  return Combined::kNotApplicable;
}

Combined MemberOutcome(const Program& program, const Frame& frame,
                       const SetMember& member) {
  if (member.is_set) {
    return static_cast<Combined>(frame.set_results[member.index]);
  }
  return PolicyOutcome(program, frame, member.index);
}

// Combines every set into frame.set_results. A nested set always has a
// larger index than its parent, so going from the last set to the first
// combines children before parents, in time linear in the members.
void CombineAllSets(const Program& program, Frame& frame) {
  frame.set_results.assign(program.sets.size(), 0);
  for (size_t set = program.sets.size(); set-- > 0;) {
    const PolicySetInfo& info = program.sets[set];
    Combined result = Combined::kNotApplicable;
    if (info.algorithm == Combining::kFirstApplicable) {
      for (const SetMember& member : info.members) {
        result = MemberOutcome(program, frame, member);
        if (result != Combined::kNotApplicable) break;
      }
    } else {
      const Combined strong = info.algorithm == Combining::kDenyOverrides
                                  ? Combined::kDeny
                                  : Combined::kPermit;
      for (const SetMember& member : info.members) {
        Combined value = MemberOutcome(program, frame, member);
        if (value == strong) {
          result = strong;
          break;
        }
        if (value != Combined::kNotApplicable) result = value;
      }
    }
    frame.set_results[set] = static_cast<uint8_t>(result);
  }
}

}  // namespace

bool PolicySetsPermit(const Program& program,
                      std::span<const uint32_t> applying,
                      std::span<const uint32_t> errored) {
  Frame frame;
  frame.policy_status.assign(program.policies.size(), 0);
  for (uint32_t policy : applying) frame.policy_status[policy] = kApplies;
  for (uint32_t policy : errored) frame.policy_status[policy] = kErrored;
  CombineAllSets(program, frame);
  return static_cast<Combined>(frame.set_results[0]) == Combined::kPermit;
}

namespace {

// Appends to frame.determining the policies under `set` that produced its
// result: for first-applicable the first member that applied, otherwise
// every member with the set's result. An errored forbid denies without
// being a determining policy.
void CollectDetermining(const Program& program, Frame& frame, uint32_t set) {
  const Combined result = static_cast<Combined>(frame.set_results[set]);
  if (result == Combined::kNotApplicable) return;
  for (const SetMember& member : program.sets[set].members) {
    if (MemberOutcome(program, frame, member) != result) continue;
    if (member.is_set) {
      CollectDetermining(program, frame, member.index);
    } else if (frame.policy_status[member.index] == kApplies) {
      frame.determining.push_back(member.index);
    }
    if (program.sets[set].algorithm == Combining::kFirstApplicable) return;
  }
}

// Decides a program with policy sets from the policies decided in `frame`.
void CombineSets(const Program& program, Frame& frame, Decision& decision) {
  for (uint32_t policy : frame.permits) frame.policy_status[policy] = kApplies;
  for (uint32_t policy : frame.forbids) frame.policy_status[policy] = kApplies;
  for (const ErroredPolicy& error : frame.errors) {
    frame.policy_status[error.policy] = kErrored;
  }
  frame.determining.clear();
  CombineAllSets(program, frame);
  CollectDetermining(program, frame, 0);
  const Combined result = static_cast<Combined>(frame.set_results[0]);
  for (uint32_t policy : frame.permits) frame.policy_status[policy] = 0;
  for (uint32_t policy : frame.forbids) frame.policy_status[policy] = 0;
  for (const ErroredPolicy& error : frame.errors) {
    frame.policy_status[error.policy] = 0;
  }
  // Errored permits are left out whenever a top-level-deciding forbid
  // applies or errors, as the DAG builder drops them then.
  auto decides = [&](uint32_t policy) {
    const PolicyInfo& info = program.policies[policy];
    return info.effect == PolicyEffect::kForbid && info.decides_root;
  };
  bool root_denied =
      std::any_of(frame.forbids.begin(), frame.forbids.end(), decides) ||
      std::any_of(frame.errors.begin(), frame.errors.end(),
                  [&](const ErroredPolicy& e) { return decides(e.policy); });
  if (root_denied) {
    std::erase_if(frame.errors, [&](const ErroredPolicy& e) {
      return program.policies[e.policy].effect == PolicyEffect::kPermit;
    });
  }
  decision.errors = frame.errors;
  if (!frame.determining.empty()) {
    decision.deciding_set = program.policies[frame.determining[0]].set;
  }
  if (result == Combined::kPermit) {
    // Check obligations over the determining permits only.
    std::swap(frame.permits, frame.determining);
    decision.unfulfillable_policy = FindUnfulfillable(program, frame);
    std::swap(frame.permits, frame.determining);
    decision.permit = decision.unfulfillable_policy == kNoPolicy;
  }
  if (result != Combined::kNotApplicable &&
      decision.unfulfillable_policy == kNoPolicy) {
    decision.determining = frame.determining;
  }
}

// A template's link test: errors when a bound attribute is absent, as the
// equality terms it stands for would; otherwise one hash lookup.
Truth EvaluateLinked(const Program& program, const Frame& frame,
                     const Predicate& p) {
  const LinkTable& table = program.link_tables[p.set];
  int64_t key[kMaxLinkFields];
  bool known = true;
  for (size_t i = 0; i < p.slots.size(); ++i) {
    const SlotValue& value = frame.slot(p.slots[i]);
    if (!value.present) return Truth::kError;
    if (program.slots[p.slots[i]].type == Type::kString) {
      // A string no policy or link mentions has a request-local symbol.
      known &= value.symbol < program.symbols.size();
      key[i] = value.symbol;
    } else {
      key[i] = value.integer;
    }
  }
  return FromBool(known && table.Contains(key));
}

}  // namespace

std::string DecisionId::ToString() const {
  // The 8-4-4-4-12 hex layout, written by hand: every response carries an
  // id, and absl::StrFormat costs several times as much here.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  int position = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (position == 8 || position == 13 || position == 18 || position == 23) {
      ++position;
    }
    const uint64_t word = nibble < 16 ? high : low;
    const int shift = 60 - 4 * (nibble % 16);
    text[position++] = kHex[(word >> shift) & 0xF];
  }
  return text;
}

// A path test (IsPathTest) errors on a path that IsNonCanonicalPath
// rejects, so that "/public/../admin" passes no "/public/" test and
// "//admin" cannot slip past an "/admin/" forbid. A regex is tested on the
// raw string.
Truth EvaluatePredicate(const Program& program, const Frame& frame,
                        uint32_t predicate) {
  const Predicate& p = program.predicates[predicate];
  if (p.kind == PredicateKind::kIntCompare) {
    int64_t left, right;
    if (!RunIntCode(p.left, frame, left) || !RunIntCode(p.right, frame, right)) {
      return Truth::kError;
    }
    return FromBool(CompareInts(left, p.op, right));
  }
  const SlotValue& value = frame.slot(p.slot);
  if (p.kind == PredicateKind::kHas) return FromBool(value.present);
  if (!value.present) return Truth::kError;
  switch (p.kind) {
    case PredicateKind::kBoolIs:
      return FromBool(value.integer != 0);
    case PredicateKind::kStrEq:
      return FromBool(value.symbol == p.symbol);
    case PredicateKind::kStrInConst:
      return FromBool(Contains(program.const_sets[p.set], value.symbol));
    case PredicateKind::kStrStartsWith:
      if (IsPathTest(p) && IsNonCanonicalPath(frame.Text(value))) {
        return Truth::kError;
      }
      return FromBool(frame.Text(value).starts_with(p.text));
    case PredicateKind::kStrEndsWith:
      if (IsPathTest(p) && IsNonCanonicalPath(frame.Text(value))) {
        return Truth::kError;
      }
      return FromBool(frame.Text(value).ends_with(p.text));
    case PredicateKind::kSetContains:
      return FromBool(Contains(frame.Set(value), p.symbol));
    case PredicateKind::kSetEqConst: {
      std::span<const uint32_t> given = frame.Set(value);
      const std::vector<uint32_t>& expected = program.const_sets[p.set];
      return FromBool(std::equal(given.begin(), given.end(), expected.begin(),
                                 expected.end()));
    }
    case PredicateKind::kSetContainsAllConst:
      return FromBool(ContainsAll(frame.Set(value), program.const_sets[p.set]));
    case PredicateKind::kSetContainsAnyConst:
      return FromBool(ContainsAny(frame.Set(value), program.const_sets[p.set]));
    case PredicateKind::kIpEq:
      return FromBool(frame.Text(value) == p.text);
    case PredicateKind::kIpInCidr:
      return FromBool(IpInCidr(frame.Text(value), p.text));
    case PredicateKind::kIpInCidrList: {
      std::string_view ip = frame.Text(value);
      for (size_t at = 0; at < p.text.size(); at += kCidrBytes) {
        if (IpInCidr(ip, std::string_view(p.text).substr(at, kCidrBytes))) {
          return Truth::kTrue;
        }
      }
      return Truth::kFalse;
    }
    case PredicateKind::kCidrHasIp:
      return FromBool(IpInCidr(p.text, frame.Text(value)));
    case PredicateKind::kStrMatches: {
      std::string_view text = frame.Text(value);
      if (IsPathTest(p) && IsNonCanonicalPath(text)) return Truth::kError;
      return FromBool(RE2::FullMatch(re2::StringPiece(text.data(), text.size()),
                                     *program.regexes[p.set]));
    }
    case PredicateKind::kLinked:
      return EvaluateLinked(program, frame, p);
    case PredicateKind::kStrEqSlot:
    case PredicateKind::kSetContainsSlot:
    case PredicateKind::kSetContainsAllSlot:
    case PredicateKind::kSetContainsAnySlot:
    case PredicateKind::kIpEqSlot:
    case PredicateKind::kIpInCidrSlot: {
      const SlotValue& other = frame.slot(p.slot2);
      if (!other.present) return Truth::kError;
      return EvaluateSlotPair(p.kind, frame, value, other);
    }
    default:
      return Truth::kError;
  }
}

Truth EvaluateFormula(const Program& program, const Frame& frame,
                      uint32_t formula) {
  const Formula& node = program.formulas[formula];
  switch (node.kind) {
    case FormulaKind::kConst:
      return node.constant;
    case FormulaKind::kAtom:
      return EvaluatePredicate(program, frame, node.predicate);
    case FormulaKind::kNot: {
      Truth inner =
          EvaluateFormula(program, frame, program.formula_children[node.begin]);
      if (inner == Truth::kError) return inner;
      return inner == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
    }
    case FormulaKind::kAnd:
    case FormulaKind::kOr: {
      const Truth dominant =
          node.kind == FormulaKind::kAnd ? Truth::kFalse : Truth::kTrue;
      bool errored = false;
      for (uint32_t i = 0; i < node.count; ++i) {
        Truth value = EvaluateFormula(program, frame,
                                      program.formula_children[node.begin + i]);
        if (value == dominant) return dominant;
        errored |= value == Truth::kError;
      }
      if (errored) return Truth::kError;
      return node.kind == FormulaKind::kAnd ? Truth::kTrue : Truth::kFalse;
    }
  }
  return Truth::kError;
}

std::vector<uint32_t> WalkPath(const Program& program, const Frame& frame) {
  std::vector<uint32_t> path;
  if (program.nodes.empty() || !frame.conflicts().empty() ||
      !frame.rejections().empty()) {
    return path;
  }
  uint32_t index = program.root;
  path.push_back(index);
  while (program.nodes[index].kind != NodeKind::kLeaf) {
    index = NextNode(program, frame, program.nodes[index]);
    path.push_back(index);
  }
  return path;
}

Decision Evaluate(const Program& program, Frame& frame) {
  frame.permits.clear();
  frame.forbids.clear();
  frame.errors.clear();
  Decision decision;
  decision.id = NextDecisionId();
  if (!frame.conflicts().empty() || !frame.rejections().empty()) {
    decision.rejected = true;
    return decision;
  }

  // The hot loop: one switch lookup or predicate test per level.
  uint32_t index = program.root;
  while (program.nodes[index].kind != NodeKind::kLeaf) {
    index = NextNode(program, frame, program.nodes[index]);
  }

  const Leaf& leaf = program.leaves[program.nodes[index].a];
  auto policies = program.leaf_policies.begin();
  frame.permits.assign(policies + leaf.permits_begin,
                       policies + leaf.permits_begin + leaf.permits_count);
  frame.forbids.assign(policies + leaf.forbids_begin,
                       policies + leaf.forbids_begin + leaf.forbids_count);
  auto errors = program.leaf_errors.begin() + leaf.errors_begin;
  frame.errors.assign(errors, errors + leaf.errors_count);
  for (uint32_t i = 0; i < leaf.residual_count; ++i) {
    const ResidualPolicy& residual =
        program.leaf_residuals[leaf.residual_begin + i];
    Truth truth = EvaluateFormula(program, frame, residual.formula);
    bool permit =
        program.policies[residual.policy].effect == PolicyEffect::kPermit;
    if (truth == Truth::kTrue) {
      (permit ? frame.permits : frame.forbids).push_back(residual.policy);
    } else if (truth == Truth::kError) {
      frame.errors.push_back(ErroredPolicy{
          residual.policy,
          FindErrorPredicate(program, frame, residual.formula)});
    }
  }

  // Leaf lists are sorted; residual results are appended, so sort again to
  // keep every output in policy order.
  if (leaf.residual_count > 0) {
    std::sort(frame.permits.begin(), frame.permits.end());
    std::sort(frame.forbids.begin(), frame.forbids.end());
    std::sort(frame.errors.begin(), frame.errors.end(),
              [](const ErroredPolicy& a, const ErroredPolicy& b) {
                return a.policy < b.policy;
              });
  }

  if (program.has_policy_sets) {
    CombineSets(program, frame, decision);
    return decision;
  }
  bool forbid_errored = std::any_of(
      frame.errors.begin(), frame.errors.end(), [&](const ErroredPolicy& e) {
        return program.policies[e.policy].effect == PolicyEffect::kForbid;
      });
  if (!frame.forbids.empty() || forbid_errored) {
    // Permits are not reported once a forbid decides; see the DAG builder.
    std::erase_if(frame.errors, [&](const ErroredPolicy& e) {
      return program.policies[e.policy].effect == PolicyEffect::kPermit;
    });
    decision.determining = frame.forbids;
  } else if (!frame.permits.empty()) {
    decision.unfulfillable_policy = FindUnfulfillable(program, frame);
    decision.permit = decision.unfulfillable_policy == kNoPolicy;
    if (decision.permit) decision.determining = frame.permits;
  }
  decision.errors = frame.errors;
  return decision;
}

std::string DescribeError(const Program& program, const Frame& frame,
                          uint32_t predicate) {
  const Predicate& p = program.predicates[predicate];
  for (uint32_t slot : PredicateSlots(p)) {
    if (!frame.slot(slot).present) {
      return absl::StrCat("attribute ", program.slots[slot].path,
                          " is absent");
    }
  }
  if (p.kind == PredicateKind::kIntCompare) {
    return absl::StrCat("integer overflow in `",
                        program.DescribePredicate(predicate), "`");
  }
  if (IsPathTest(p) && IsNonCanonicalPath(frame.Text(frame.slot(p.slot)))) {
    const std::string_view text = frame.Text(frame.slot(p.slot));
    return absl::StrCat("path \"", absl::CHexEscape(ToAbsl(text)),
                        "\" has an empty, \".\" or \"..\" segment, so `",
                        program.DescribePredicate(predicate),
                        "` cannot decide; resolve the path before the request");
  }
  return absl::StrCat("could not evaluate `",
                      program.DescribePredicate(predicate), "`");
}

std::vector<std::string> DecisionReasons(const Program& program,
                                         const Frame& frame,
                                         const Decision& decision) {
  std::vector<std::string> reasons;
  if (decision.rejected) {
    reasons = frame.rejections();
    for (const std::string& path : frame.conflicts()) {
      reasons.push_back(absl::StrCat("attribute_conflict:", path));
    }
    return reasons;
  }
  if (!decision.permit) {
    for (uint32_t policy : decision.determining) {
      if (program.policies[policy].effect == PolicyEffect::kForbid) {
        reasons.push_back(absl::StrCat("forbid:", program.policies[policy].id));
      }
    }
  }
  for (const ErroredPolicy& error : decision.errors) {
    if (program.policies[error.policy].effect == PolicyEffect::kForbid) {
      reasons.push_back(
          absl::StrCat("forbid_error:", program.policies[error.policy].id));
    }
  }
  if (decision.permit) {
    for (uint32_t policy : decision.determining) {
      reasons.push_back(absl::StrCat("permit:", program.policies[policy].id));
    }
  } else if (decision.unfulfillable_policy != kNoPolicy) {
    reasons.push_back(absl::StrCat(
        "obligation_error:",
        program.policies[decision.unfulfillable_policy].id));
  } else if (reasons.empty()) {
    reasons.push_back("default_deny");
  }
  return reasons;
}

}  // namespace verdict
