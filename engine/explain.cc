#include "engine/explain.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/absl_compat.h"
#include "engine/values.h"

namespace verdict {
namespace {

using Json = nlohmann::ordered_json;

// Quotes `text` as a JSON string: quotes, backslashes and control
// characters are escaped, other UTF-8 is kept, invalid bytes become U+FFFD.
std::string Quote(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false,
                                      Json::error_handler_t::replace);
}

// Renders a string collection, such as `["a", "b"]`.
ObservedValue Strings(const std::vector<std::string>& elements) {
  ObservedValue out;
  std::vector<std::string> quoted;
  for (const std::string& element : elements) quoted.push_back(Quote(element));
  out.text = absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
  out.json = Json::parse(out.text);
  return out;
}

std::vector<std::string> ListElements(std::string_view encoded) {
  std::vector<std::string> elements;
  if (encoded.empty()) return elements;
  // Every element is preceded by the separator, so skip the first one.
  for (absl::string_view element : absl::StrSplit(
           ToAbsl(encoded).substr(1), kListSeparator, absl::AllowEmpty())) {
    elements.emplace_back(element);
  }
  return elements;
}

ObservedValue Integer(int64_t value) {
  return ObservedValue{"", absl::StrCat(value), Json(value)};
}

// Renders `text` without quotes, such as an address.
ObservedValue Plain(std::string text) {
  return ObservedValue{"", text, Json(text)};
}

// The parts of a slot or data value that a type may use.
struct RawValue {
  int64_t integer = 0;
  std::string_view text;  // string bytes, list encoding or address bytes
  std::vector<std::string> elements;  // set elements
};

ObservedValue Render(Type type, const RawValue& raw) {
  switch (type) {
    case Type::kBool:
      return ObservedValue{"", raw.integer != 0 ? "true" : "false",
                           Json(raw.integer != 0)};
    case Type::kInt:
      return Integer(raw.integer);
    case Type::kDuration:
      return ObservedValue{"", FormatDuration(raw.integer), Json(raw.integer)};
    case Type::kDecimal:
      return Plain(FormatDecimal(raw.integer));
    case Type::kIp:
      return Plain(FormatIp(raw.text));
    case Type::kCidr:
      return Plain(FormatCidr(raw.text));
    case Type::kTimestamp: {
      std::string text =
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(raw.integer),
                           absl::UTCTimeZone());
      return ObservedValue{"", text, Json(text)};
    }
    case Type::kString:
      return ObservedValue{"", Quote(raw.text), Json(std::string(raw.text))};
    case Type::kStringSet: {
      std::vector<std::string> sorted = raw.elements;
      std::sort(sorted.begin(), sorted.end());
      return Strings(sorted);
    }
    case Type::kStringList:
      return Strings(ListElements(raw.text));
    default:
      break;
  }
  // Types added after this renderer: values with text as quoted strings,
  // anything else as its integer.
  if (!raw.text.empty()) {
    return ObservedValue{"", Quote(raw.text), Json(std::string(raw.text))};
  }
  return Integer(raw.integer);
}

// Returns the value of `slot` in the joined entity record, or an
// `unknown` value when no record of the request's key has one.
ObservedValue ObserveData(const Program& program, const Frame& frame,
                          uint32_t slot) {
  for (const DataJoin& join : program.joins) {
    const SlotValue& key = frame.slot(join.key_slot);
    if (!key.present) continue;
    auto record = join.records.find(ToAbsl(frame.Text(key)));
    if (record == join.records.end()) continue;
    for (const DataValue& value : record->second.values) {
      if (value.slot != slot) continue;
      RawValue raw{value.integer, {}, {}};
      if (value.symbol != kNoSymbol) raw.text = program.symbols[value.symbol];
      for (uint32_t symbol : value.elements) {
        raw.elements.push_back(program.symbols[symbol]);
      }
      ObservedValue out = Render(program.slots[slot].type, raw);
      out.path = program.slots[slot].path;
      return out;
    }
  }
  return ObservedValue{program.slots[slot].path, "unknown", nullptr};
}

PolicyReport Report(const Program& program, uint32_t policy) {
  const PolicyInfo& info = program.policies[policy];
  PolicyReport report;
  report.policy = policy;
  report.id = info.id;
  report.effect = info.effect;
  report.location = info.location;
  return report;
}

std::span<const uint32_t> Children(const Program& program,
                                   const Formula& formula) {
  return std::span<const uint32_t>(program.formula_children)
      .subspan(formula.begin, formula.count);
}

FailedCondition Failure(const Program& program, const Frame& frame,
                        uint32_t predicate, bool negated) {
  FailedCondition failure;
  std::string text = program.DescribePredicate(predicate);
  failure.condition = negated ? absl::StrCat("not (", text, ")") : text;
  failure.outcome = EvaluatePredicate(program, frame, predicate);
  for (uint32_t slot : PredicateSlots(program, predicate)) {
    failure.values.push_back(ObserveSlot(program, frame, slot));
  }
  return failure;
}

// Collects why `formula` did not come out as the policy needed. It evaluated
// to false, or to true when `negated` (it sits under a `not`). A false child
// of an `and`, or a true child of an `or`, decides the formula alone, so
// only the first such child is followed. Otherwise every child had the
// formula's value, and each one is followed.
void CollectFailures(const Program& program, const Frame& frame,
                     uint32_t index, bool negated,
                     std::vector<FailedCondition>& out) {
  const Formula& formula = program.formulas[index];
  switch (formula.kind) {
    case FormulaKind::kConst:
      out.push_back(FailedCondition{negated ? "true" : "false",
                                    formula.constant, {}});
      return;
    case FormulaKind::kAtom:
      out.push_back(Failure(program, frame, formula.predicate, negated));
      return;
    case FormulaKind::kNot:
      CollectFailures(program, frame, Children(program, formula)[0], !negated,
                      out);
      return;
    case FormulaKind::kAnd:
    case FormulaKind::kOr:
      break;
  }
  const Truth value = negated ? Truth::kTrue : Truth::kFalse;
  const bool decides_alone = (formula.kind == FormulaKind::kAnd) != negated;
  for (uint32_t child : Children(program, formula)) {
    if (EvaluateFormula(program, frame, child) != value) continue;
    CollectFailures(program, frame, child, negated, out);
    if (decides_alone) return;
  }
}

// Ranks a policy whose condition was false by the conjuncts of its
// top-level `and` that were not true, and finds the first false one.
PolicyReport NotApplied(const Program& program, const Frame& frame,
                        uint32_t policy) {
  PolicyReport report = Report(program, policy);
  uint32_t index = program.policy_formulas[policy];
  const Formula& formula = program.formulas[index];
  if (formula.kind != FormulaKind::kAnd) {
    report.conditions = report.failed = 1;
    CollectFailures(program, frame, index, false, report.failures);
    return report;
  }
  report.conditions = formula.count;
  uint32_t first_false = kNoSlot;
  for (uint32_t child : Children(program, formula)) {
    Truth truth = EvaluateFormula(program, frame, child);
    if (truth != Truth::kTrue) ++report.failed;
    if (truth == Truth::kFalse && first_false == kNoSlot) first_false = child;
  }
  if (first_false != kNoSlot) {
    CollectFailures(program, frame, first_false, false, report.failures);
  }
  return report;
}

// Returns the first predicate under `index` that errors; the formula
// evaluated to kError.
uint32_t FirstErrorPredicate(const Program& program, const Frame& frame,
                             uint32_t index) {
  const Formula& formula = program.formulas[index];
  if (formula.kind == FormulaKind::kConst ||
      formula.kind == FormulaKind::kAtom) {
    return formula.predicate;
  }
  for (uint32_t child : Children(program, formula)) {
    if (EvaluateFormula(program, frame, child) == Truth::kError) {
      return FirstErrorPredicate(program, frame, child);
    }
  }
  return 0;
}

std::string Quoted(const std::vector<PolicyReport>& reports,
                   PolicyEffect effect) {
  std::vector<std::string> ids;
  for (const PolicyReport& report : reports) {
    if (report.effect == effect) ids.push_back(Quote(report.id));
  }
  return absl::StrJoin(ids, ", ");
}

std::string Summary(const Explanation& explanation) {
  if (explanation.rejected) {
    return absl::StrCat("DENY: the request was rejected before evaluation (",
                        absl::StrJoin(explanation.reasons, ", "),
                        "), so no policy was evaluated");
  }
  std::string forbids = Quoted(explanation.applied, PolicyEffect::kForbid);
  std::string errored = Quoted(explanation.errored, PolicyEffect::kForbid);
  // A permit-overrides or first-applicable policy set can permit although a
  // forbid applied or errored.
  if (explanation.permit && !(forbids.empty() && errored.empty())) {
    return absl::StrCat("PERMIT: permit ",
                        Quoted(explanation.applied, PolicyEffect::kPermit),
                        " applied, and the combining algorithm of its policy "
                        "set overrides forbid ",
                        forbids.empty() ? errored : forbids);
  }
  if (!forbids.empty()) return absl::StrCat("DENY: forbid ", forbids, " applied");
  if (!errored.empty()) {
    return absl::StrCat("DENY: forbid ", errored,
                        " could not be evaluated, and a forbid that cannot "
                        "be evaluated denies");
  }
  if (explanation.permit) {
    return absl::StrCat("PERMIT: permit ",
                        Quoted(explanation.applied, PolicyEffect::kPermit),
                        " applied and no forbid applied");
  }
  if (explanation.nearest.empty()) return "DENY: no permit applied";
  return absl::StrCat("DENY: no permit applied; nearest: ",
                      Quoted(explanation.nearest, PolicyEffect::kPermit));
}

void ExplainConflicts(const Program& program, const Frame& frame,
                      Explanation& out) {
  for (const std::string& path : frame.conflicts()) {
    uint32_t slot = program.FindSlot(path);
    if (slot == kNoSlot) continue;
    out.conflicts.push_back(ConflictReport{path, ObserveSlot(program, frame, slot),
                                           ObserveData(program, frame, slot)});
  }
}

// Sorts the policies that did not apply, nearest first, and keeps the first
// `max_nearest` of them (all when it is 0). Among policies with as many
// failed conjuncts, more satisfied conjuncts rank nearer, then those of
// effect `relevant`, which could have changed the decision, then policy
// order.
void RankNearest(std::vector<PolicyReport>& candidates, PolicyEffect relevant,
                 size_t max_nearest) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const PolicyReport& a, const PolicyReport& b) {
                     if (a.failed != b.failed) return a.failed < b.failed;
                     size_t a_passed = a.conditions - a.failed;
                     size_t b_passed = b.conditions - b.failed;
                     if (a_passed != b_passed) return a_passed > b_passed;
                     return a.effect == relevant && b.effect != relevant;
                   });
  if (max_nearest != 0 && candidates.size() > max_nearest) {
    candidates.resize(max_nearest);
  }
}

// Every opcode but constants and arithmetic reads its `slot` (a value, or a
// set's size), including opcodes added after this function.
bool ReadsSlot(IntOpcode opcode) {
  return opcode != IntOpcode::kPushConst && opcode != IntOpcode::kAdd &&
         opcode != IntOpcode::kSub && opcode != IntOpcode::kNegate;
}

}  // namespace

std::vector<uint32_t> PredicateSlots(const Program& program,
                                     uint32_t predicate) {
  const Predicate& p = program.predicates[predicate];
  std::vector<uint32_t> slots;
  auto add = [&](uint32_t slot) {
    if (slot < program.slots.size() &&
        std::find(slots.begin(), slots.end(), slot) == slots.end()) {
      slots.push_back(slot);
    }
  };
  for (uint32_t slot : p.slots) add(slot);  // a template's, in order
  add(p.slot);
  add(p.slot2);
  for (const auto* code : {&p.left, &p.right}) {
    for (const IntInstr& instr : *code) {
      if (ReadsSlot(instr.opcode)) add(instr.slot);
    }
  }
  return slots;
}

ObservedValue ObserveSlot(const Program& program, const Frame& frame,
                          uint32_t slot) {
  const SlotValue& value = frame.slot(slot);
  const Type type = program.slots[slot].type;
  ObservedValue out{"", "absent", nullptr};
  if (value.present) {
    RawValue raw{value.integer, frame.Text(value), {}};
    if (type == Type::kStringList) raw.text = frame.SymbolText(value.symbol);
    for (uint32_t symbol : frame.Set(value)) {
      raw.elements.emplace_back(frame.SymbolText(symbol));
    }
    out = Render(type, raw);
  }
  out.path = program.slots[slot].path;
  return out;
}

Explanation Explain(const Program& program, const Frame& frame,
                    const Decision& decision, const ExplainOptions& options) {
  Explanation out;
  out.permit = decision.permit;
  out.reasons = DecisionReasons(program, frame, decision);
  out.revision = program.revision;
  if (decision.rejected) {
    out.rejected = true;
    for (size_t i = 0; i < frame.rejections().size(); ++i) {
      out.rejections.push_back(RejectionReport{frame.rejections()[i],
                                               frame.rejection_details()[i]});
    }
    ExplainConflicts(program, frame, out);
    out.summary = Summary(out);
    return out;
  }
  // Without a permit, a forbid that applied is in `determining`; without
  // either of those or a forbid error, the deny is the default one.
  const bool default_deny =
      !decision.permit && decision.determining.empty() &&
      std::none_of(decision.errors.begin(), decision.errors.end(),
                   [&](const ErroredPolicy& e) {
                     return program.policies[e.policy].effect ==
                            PolicyEffect::kForbid;
                   });
  std::vector<PolicyReport> candidates;
  for (uint32_t policy = 0; policy < program.policies.size(); ++policy) {
    uint32_t formula = program.policy_formulas[policy];
    Truth truth = EvaluateFormula(program, frame, formula);
    if (truth == Truth::kTrue) {
      out.applied.push_back(Report(program, policy));
    } else if (truth == Truth::kError) {
      // Prefer the predicate Evaluate reported, so that the message
      // matches the decision's own errors.
      auto it = std::find_if(decision.errors.begin(), decision.errors.end(),
                             [&](const ErroredPolicy& e) { return e.policy == policy; });
      uint32_t predicate = it != decision.errors.end()
                               ? it->predicate
                               : FirstErrorPredicate(program, frame, formula);
      PolicyReport report = Report(program, policy);
      report.error = DescribeError(program, frame, predicate);
      out.errored.push_back(std::move(report));
    } else if (!default_deny ||
               program.policies[policy].effect == PolicyEffect::kPermit) {
      candidates.push_back(NotApplied(program, frame, policy));
    }
  }
  out.not_applied = candidates.size();
  RankNearest(candidates,
              decision.permit ? PolicyEffect::kForbid : PolicyEffect::kPermit,
              options.max_nearest);
  out.nearest = std::move(candidates);
  out.summary = Summary(out);
  return out;
}

}  // namespace verdict
