#include "compiler/combining.h"

#include <vector>

#include "compiler/regions.h"

namespace verdict::compiler {
namespace {

// A member's result in its set, or kOpen when it differs within the region.
enum class Member : uint8_t { kNotApplicable, kPermit, kDeny, kOpen };

Member PolicyMember(const Program& program, uint32_t policy, Outcome outcome) {
  const bool permit = program.policies[policy].effect == PolicyEffect::kPermit;
  switch (outcome) {
    case Outcome::kUnknown: return Member::kOpen;
    case Outcome::kTrue: return permit ? Member::kPermit : Member::kDeny;
    case Outcome::kError: return permit ? Member::kNotApplicable : Member::kDeny;
    case Outcome::kFalse: return Member::kNotApplicable;
  }
  return Member::kOpen;
}

// Mirrors CombineAllSets in engine/evaluator.cc, with kOpen for a member
// whose result is not fixed: first-applicable stops at the first member
// that is not "not applicable", and the overrides algorithms return their
// strong result if any member has it, else the weak one if any member has
// it.
Member CombineSet(const Program& program, const PolicySetInfo& info,
                  const std::vector<Outcome>& outcomes,
                  const std::vector<Member>& sets) {
  auto member_result = [&](const SetMember& member) {
    return member.is_set ? sets[member.index]
                         : PolicyMember(program, member.index, outcomes[member.index]);
  };
  if (info.algorithm == Combining::kFirstApplicable) {
    for (const SetMember& member : info.members) {
      const Member value = member_result(member);
      if (value != Member::kNotApplicable) return value;
    }
    return Member::kNotApplicable;
  }
  const Member strong = info.algorithm == Combining::kDenyOverrides
                            ? Member::kDeny
                            : Member::kPermit;
  Member result = Member::kNotApplicable;
  bool open = false;
  for (const SetMember& member : info.members) {
    const Member value = member_result(member);
    if (value == strong) return strong;
    if (value == Member::kOpen) {
      open = true;
    } else if (value != Member::kNotApplicable) {
      result = value;
    }
  }
  return open ? Member::kOpen : result;
}

// Fills `sets` with every set's result; a nested set has a larger index
// than its parent, so children are combined first.
void CombineAllSets(const Program& program, const std::vector<Outcome>& outcomes,
                    std::vector<Member>& sets) {
  sets.assign(program.sets.size(), Member::kNotApplicable);
  for (size_t i = 0; i < program.sets.size(); ++i) {
    const size_t set = program.sets.size() - 1 - i;
    sets[set] = CombineSet(program, program.sets[set], outcomes, sets);
  }
}

// The permits that determine a PERMIT of the top-level set, as
// CollectDetermining in engine/evaluator.cc collects them: for
// first-applicable the first member with the set's result, otherwise every
// member with it. REQUIRES: no outcome is kUnknown.
std::vector<uint32_t> DeterminingPermits(const Program& program,
                                         const std::vector<Outcome>& outcomes,
                                         const std::vector<Member>& sets) {
  std::vector<uint32_t> permits;
  std::vector<uint32_t> stack = {0};
  while (!stack.empty()) {
    const uint32_t set = stack.back();
    stack.pop_back();
    const PolicySetInfo& info = program.sets[set];
    for (const SetMember& member : info.members) {
      const Member value = member.is_set
                               ? sets[member.index]
                               : PolicyMember(program, member.index,
                                              outcomes[member.index]);
      if (value != sets[set]) continue;
      if (member.is_set) {
        stack.push_back(member.index);
      } else if (outcomes[member.index] == Outcome::kTrue) {
        permits.push_back(member.index);
      }
      if (info.algorithm == Combining::kFirstApplicable) break;
    }
  }
  return permits;
}

// The decision before obligations are checked.
Member CombineProgram(const Program& program, const std::vector<Outcome>& outcomes) {
  if (program.has_policy_sets) {
    std::vector<Member> sets;
    CombineAllSets(program, outcomes, sets);
    return sets.empty() ? Member::kNotApplicable : sets[0];
  }
  bool open = false;
  for (uint32_t p = 0; p < program.policies.size(); ++p) {
    if (program.policies[p].effect != PolicyEffect::kForbid) continue;
    const Member value = PolicyMember(program, p, outcomes[p]);
    if (value == Member::kDeny) return Member::kDeny;
    open |= value == Member::kOpen;
  }
  if (open) return Member::kOpen;
  for (uint32_t p = 0; p < program.policies.size(); ++p) {
    if (program.policies[p].effect != PolicyEffect::kPermit) continue;
    const Member value = PolicyMember(program, p, outcomes[p]);
    if (value == Member::kPermit) return Member::kPermit;
    open |= value == Member::kOpen;
  }
  return open ? Member::kOpen : Member::kNotApplicable;
}

// A PERMIT is kept only if the obligations of its determining permits can be
// filled: an absent attribute makes it a DENY, and an attribute of unknown
// presence leaves it open with a presence branch. With policy sets the
// determining permits are known only when every condition is, so the
// decision stays open until then.
RegionDecision CheckObligations(const Universe& universe, size_t k,
                                const Constraints& c,
                                const std::vector<Outcome>& outcomes,
                                uint32_t* branch) {
  const Program& program = universe.program(k);
  std::vector<uint32_t> permits;
  if (program.has_policy_sets) {
    if (*branch != kNoPredicate) return RegionDecision::kOpen;
    std::vector<Member> sets;
    CombineAllSets(program, outcomes, sets);
    permits = DeterminingPermits(program, outcomes, sets);
  } else {
    for (uint32_t p = 0; p < program.policies.size(); ++p) {
      if (outcomes[p] == Outcome::kTrue &&
          program.policies[p].effect == PolicyEffect::kPermit) {
        permits.push_back(p);
      }
    }
  }
  bool open = false;
  for (uint32_t p : permits) {
    const PolicyInfo& info = program.policies[p];
    if (!info.obligations_read_slots) continue;
    for (const Duty& duty : info.duties) {
      if (duty.advice) continue;
      for (const DutyField& field : duty.fields) {
        if (field.slot == kNoSlot) continue;
        const uint32_t slot = universe.SlotOf(k, field.slot);
        const Presence presence = c.slot(slot).presence;
        if (presence == Presence::kAbsent) return RegionDecision::kDeny;
        if (presence == Presence::kUnknown && *branch == kNoPredicate) {
          *branch = kPresenceBranch | slot;
        }
        open |= presence != Presence::kPresent;
      }
    }
  }
  return open ? RegionDecision::kOpen : RegionDecision::kPermit;
}

}  // namespace

RegionDecision DecideRegion(const Universe& universe, size_t k,
                            const Constraints& c, uint32_t* branch) {
  const Program& program = universe.program(k);
  *branch = kNoPredicate;
  std::vector<Outcome> outcomes(program.policies.size());
  for (uint32_t p = 0; p < program.policies.size(); ++p) {
    uint32_t open = kNoPredicate;
    outcomes[p] = EvaluateUnder(universe, k, program.policy_formulas[p], c, &open);
    if (outcomes[p] == Outcome::kUnknown && *branch == kNoPredicate) *branch = open;
  }
  switch (CombineProgram(program, outcomes)) {
    case Member::kPermit:
      return CheckObligations(universe, k, c, outcomes, branch);
    case Member::kDeny:
    case Member::kNotApplicable:
      return RegionDecision::kDeny;
    case Member::kOpen:
      return RegionDecision::kOpen;
  }
  return RegionDecision::kOpen;
}

}  // namespace verdict::compiler
