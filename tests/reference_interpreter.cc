#include "tests/reference_interpreter.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_split.h"
#include "compiler/checker_internal.h"
#include "re2/re2.h"

namespace verdict::testing {
namespace {

using compiler::CheckedSet;
using compiler::CompareOp;
using compiler::TExpr;
using compiler::TExprKind;

// A value during reference evaluation; kError stands for "unknown".
struct Value {
  enum Kind { kError, kBool, kInt, kString, kSet, kList, kBytes } kind = kError;
  bool boolean = false;
  int64_t integer = 0;
  std::string text;
  std::set<std::string> set;
  std::vector<std::string> list;
};

Value Error() { return Value{}; }
Value Bool(bool b) {
  Value v;
  v.kind = Value::kBool;
  v.boolean = b;
  return v;
}
Value Int(int64_t i) {
  Value v;
  v.kind = Value::kInt;
  v.integer = i;
  return v;
}

bool InRange(const std::string& ip, const std::string& cidr);

// A path that path tests accept: no empty segment between two slashes, and
// no segment that decodes to "." or "..", where "%2e" decodes to a dot.
// A leading "scheme://authority" is not part of the path.
bool IsResolvedPath(const std::string& text) {
  std::string path = text;
  static const LazyRE2 kSchemeAndAuthority = {R"(^[A-Za-z][A-Za-z0-9+.-]*://[^/]*)"};
  RE2::Replace(&path, *kSchemeAndAuthority, "");
  std::vector<std::string> segments = absl::StrSplit(path, '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string decoded;
    for (size_t at = 0; at < segments[i].size(); ++at) {
      std::string code = segments[i].substr(at, 3);
      std::transform(code.begin(), code.end(), code.begin(), ::tolower);
      if (code == "%2e") {
        decoded += '.';
        at += 2;
      } else {
        decoded += segments[i][at];
      }
    }
    if (decoded == "." || decoded == "..") return false;
    // The first segment of "/a" and the last of "/a/" are empty and allowed.
    if (decoded.empty() && i > 0 && i + 1 < segments.size()) return false;
  }
  return true;
}
bool Matches(const TExpr& expr, const std::string& text);

class Interpreter {
 public:
  Interpreter(const Program& program, const Frame& frame,
              const ReferenceLinks& links)
      : program_(program), frame_(frame), links_(links) {}

  Value Eval(const TExpr& expr);

 private:
  Value ReadAttribute(uint32_t slot);
  Value Literal(const TExpr& expr);
  Value Logic(const TExpr& expr);
  Value Compare(const TExpr& expr);
  Value Arithmetic(const TExpr& expr);

  Value Linked(const TExpr& expr);

  const Program& program_;
  const Frame& frame_;
  const ReferenceLinks& links_;
};

// Some record equals every bound attribute; unknown while one is absent.
Value Interpreter::Linked(const TExpr& expr) {
  std::vector<std::string> values;
  for (const TExpr& child : expr.children) {
    Value value = Eval(child);
    if (value.kind == Value::kError) return Error();
    values.push_back(value.kind == Value::kInt ? std::to_string(value.integer)
                                               : value.text);
  }
  auto records = links_.find(expr.text);
  if (records == links_.end()) return Bool(false);
  for (const auto& record : records->second) {
    bool all = true;
    for (size_t i = 0; i < values.size(); ++i) {
      auto field = record.find(expr.elements[i]);
      all &= field != record.end() && field->second == values[i];
    }
    if (all) return Bool(true);
  }
  return Bool(false);
}

Value Interpreter::ReadAttribute(uint32_t slot) {
  const SlotValue& raw = frame_.slot(slot);
  if (!raw.present) return Error();
  Value v;
  switch (program_.slots[slot].type) {
    case Type::kBool:
      return Bool(raw.integer != 0);
    case Type::kInt:
    case Type::kTimestamp:
    case Type::kDuration:
    case Type::kDecimal:
      return Int(raw.integer);
    case Type::kIp:
    case Type::kCidr:
      v.kind = Value::kBytes;
      v.text = std::string(frame_.Text(raw));
      return v;
    case Type::kString:
      v.kind = Value::kString;
      v.text = std::string(frame_.Text(raw));
      return v;
    case Type::kStringSet:
      v.kind = Value::kSet;
      for (uint32_t symbol : frame_.Set(raw)) {
        v.set.insert(std::string(frame_.SymbolText(symbol)));
      }
      return v;
    case Type::kStringList: {
      v.kind = Value::kList;
      // Each element is preceded by the separator.
      std::string_view encoded = frame_.SymbolText(raw.symbol);
      size_t start = 0;
      while (start < encoded.size()) {
        size_t next = encoded.find(kListSeparator, start + 1);
        if (next == std::string_view::npos) next = encoded.size();
        v.list.emplace_back(encoded.substr(start + 1, next - start - 1));
        start = next;
      }
      return v;
    }
  }
  return Error();
}

Value Interpreter::Literal(const TExpr& expr) {
  Value v;
  switch (expr.type) {
    case Type::kBool:
      return Bool(expr.bool_value);
    case Type::kString:
      v.kind = Value::kString;
      v.text = expr.text;
      return v;
    case Type::kStringSet:
      v.kind = Value::kSet;
      v.set.insert(expr.elements.begin(), expr.elements.end());
      return v;
    case Type::kStringList:
      v.kind = Value::kList;
      v.list = expr.elements;
      return v;
    case Type::kIp:
    case Type::kCidr:
      v.kind = Value::kBytes;
      v.text = expr.text;
      return v;
    default:
      if (expr.type == compiler::checker_internal::kCidrCollection) {
        v.kind = Value::kList;
        v.list = expr.elements;
        return v;
      }
      return Int(expr.int_value);
  }
}

Value Interpreter::Eval(const TExpr& expr) {
  switch (expr.kind) {
    case TExprKind::kLiteral:
      return Literal(expr);
    case TExprKind::kAttribute:
      return ReadAttribute(expr.attribute);
    case TExprKind::kHas:
      return Bool(frame_.slot(expr.attribute).present);
    case TExprKind::kNot:
    case TExprKind::kAnd:
    case TExprKind::kOr:
      return Logic(expr);
    case TExprKind::kCompare:
      return Compare(expr);
    case TExprKind::kAdd:
    case TExprKind::kSubtract:
    case TExprKind::kNegate:
      return Arithmetic(expr);
    case TExprKind::kIn: {
      Value element = Eval(expr.children[0]);
      Value set = Eval(expr.children[1]);
      if (element.kind == Value::kError || set.kind == Value::kError) {
        return Error();
      }
      if (element.kind == Value::kBytes) {
        if (set.kind == Value::kBytes) return Bool(InRange(element.text, set.text));
        return Bool(std::any_of(set.list.begin(), set.list.end(),
                                [&](const std::string& range) {
                                  return InRange(element.text, range);
                                }));
      }
      return Bool(set.set.count(element.text) > 0);
    }
    case TExprKind::kContainsAll:
    case TExprKind::kContainsAny: {
      Value set = Eval(expr.children[0]);
      Value other = Eval(expr.children[1]);
      if (set.kind == Value::kError || other.kind == Value::kError) {
        return Error();
      }
      if (expr.kind == TExprKind::kContainsAll) {
        return Bool(std::includes(set.set.begin(), set.set.end(),
                                  other.set.begin(), other.set.end()));
      }
      return Bool(std::any_of(other.set.begin(), other.set.end(),
                              [&](const std::string& element) {
                                return set.set.count(element) > 0;
                              }));
    }
    case TExprKind::kSize: {
      Value set = Eval(expr.children[0]);
      if (set.kind == Value::kError) return set;
      return Int(static_cast<int64_t>(set.set.size()));
    }
    case TExprKind::kMatches: {
      Value text = Eval(expr.children[0]);
      if (text.kind == Value::kError) return text;
      if (static_cast<PatternKind>(expr.int_value) != PatternKind::kRegex &&
          !IsResolvedPath(text.text)) {
        return Error();
      }
      return Bool(Matches(expr, text.text));
    }
    case TExprKind::kLinked:
      return Linked(expr);
    case TExprKind::kStartsWith:
    case TExprKind::kEndsWith: {
      Value text = Eval(expr.children[0]);
      Value affix = Eval(expr.children[1]);
      if (text.kind == Value::kError) return Error();
      if (affix.text.find('/') != std::string::npos &&
          !IsResolvedPath(text.text)) {
        return Error();
      }
      std::string_view view = text.text;
      return Bool(expr.kind == TExprKind::kStartsWith
                      ? view.starts_with(affix.text)
                      : view.ends_with(affix.text));
    }
  }
  return Error();
}

Value Interpreter::Logic(const TExpr& expr) {
  if (expr.kind == TExprKind::kNot) {
    Value inner = Eval(expr.children[0]);
    if (inner.kind == Value::kError) return inner;
    return Bool(!inner.boolean);
  }
  // Kleene logic: a deciding operand wins over an unknown one.
  const bool deciding = expr.kind == TExprKind::kOr;
  bool unknown = false;
  for (const TExpr& child : expr.children) {
    Value value = Eval(child);
    if (value.kind == Value::kError) {
      unknown = true;
    } else if (value.boolean == deciding) {
      return Bool(deciding);
    }
  }
  return unknown ? Error() : Bool(!deciding);
}

Value Interpreter::Compare(const TExpr& expr) {
  Value left = Eval(expr.children[0]);
  Value right = Eval(expr.children[1]);
  if (left.kind == Value::kError || right.kind == Value::kError) return Error();
  switch (expr.compare_op) {
    case CompareOp::kEq:
    case CompareOp::kNe: {
      bool equal = left.boolean == right.boolean &&
                   left.integer == right.integer && left.text == right.text &&
                   left.set == right.set && left.list == right.list;
      return Bool(expr.compare_op == CompareOp::kEq ? equal : !equal);
    }
    case CompareOp::kLt: return Bool(left.integer < right.integer);
    case CompareOp::kLe: return Bool(left.integer <= right.integer);
    case CompareOp::kGt: return Bool(left.integer > right.integer);
    case CompareOp::kGe: return Bool(left.integer >= right.integer);
  }
  return Error();
}

Value Interpreter::Arithmetic(const TExpr& expr) {
  Value left = Eval(expr.children[0]);
  if (left.kind == Value::kError) return left;
  int64_t out;
  if (expr.kind == TExprKind::kNegate) {
    if (__builtin_sub_overflow(int64_t{0}, left.integer, &out)) return Error();
    return Int(out);
  }
  Value right = Eval(expr.children[1]);
  if (right.kind == Value::kError) return right;
  bool overflow = expr.kind == TExprKind::kAdd
                      ? __builtin_add_overflow(left.integer, right.integer, &out)
                      : __builtin_sub_overflow(left.integer, right.integer, &out);
  return overflow ? Error() : Int(out);
}

// Bit by bit, without the engine's byte-wise shortcut.
bool InRange(const std::string& ip, const std::string& cidr) {
  const int prefix = static_cast<unsigned char>(cidr[16]);
  for (int bit = 0; bit < prefix; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((ip[bit / 8] & mask) != (cidr[bit / 8] & mask)) return false;
  }
  return true;
}

// Glob matching by backtracking over the pattern text itself.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.starts_with("**")) {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (GlobMatch(pattern.substr(2), text.substr(i))) return true;
    }
    return false;
  }
  if (pattern[0] == '*') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (GlobMatch(pattern.substr(1), text.substr(i))) return true;
      if (i < text.size() && text[i] == '/') break;
    }
    return false;
  }
  if (text.empty()) return false;
  if (pattern[0] == '?') {
    return text[0] != '/' && GlobMatch(pattern.substr(1), text.substr(1));
  }
  size_t width = 1;
  char literal = pattern[0];
  if (literal == '\\' && pattern.size() > 1) {
    literal = pattern[1];
    width = 2;
  }
  return text[0] == literal && GlobMatch(pattern.substr(width), text.substr(1));
}

// A template matches segment by segment: {name} is one non-empty segment.
bool TemplateMatch(std::string_view pattern, std::string_view text) {
  while (!pattern.empty()) {
    size_t close = pattern.find('}');
    if (pattern[0] == '{' && close != std::string_view::npos && close > 1) {
      size_t end = text.find('/');
      if (end == std::string_view::npos) end = text.size();
      if (end == 0) return false;
      pattern.remove_prefix(close + 1);
      text.remove_prefix(end);
      continue;
    }
    if (text.empty() || text[0] != pattern[0]) return false;
    pattern.remove_prefix(1);
    text.remove_prefix(1);
  }
  return text.empty();
}

bool Matches(const TExpr& expr, const std::string& text) {
  switch (static_cast<PatternKind>(expr.int_value)) {
    case PatternKind::kGlob:
      return GlobMatch(expr.text, text);
    case PatternKind::kTemplate:
      return TemplateMatch(expr.text, text);
    case PatternKind::kRegex:
      break;
  }
  return RE2::FullMatch(text, RE2(expr.text));
}

}  // namespace

// Combines policy sets by their algorithms, written directly over the
// checked set: a result is "P" (permit), "D" (deny) or "" (not applicable),
// and an errored forbid counts as a deny.
class SetCombiner {
 public:
  SetCombiner(const CheckedSet& checked,
              const std::map<std::string, char>& outcomes)
      : checked_(checked), outcomes_(outcomes) {}

  // Returns the result of set `set` (-1: the top level) and adds the
  // policies that determined it to `determining`.
  char Combine(int set, std::set<std::string>* determining) const {
    struct Member {
      uint64_t order;
      int set;           // >= 0 for a nested set
      std::string policy;
    };
    std::vector<Member> members;
    for (size_t i = 0; i < checked_.sets.size(); ++i) {
      if (checked_.sets[i].parent == set) {
        members.push_back({checked_.sets[i].order, static_cast<int>(i), ""});
      }
    }
    for (const compiler::CheckedPolicy& policy : checked_.policies) {
      if (policy.set == set) members.push_back({policy.order, -1, policy.id});
    }
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.order < b.order; });
    auto result_of = [&](const Member& m) {
      return m.set >= 0 ? Combine(m.set, nullptr) : Outcome(m.policy);
    };
    auto collect = [&](const Member& m) {
      if (determining == nullptr) return;
      if (m.set >= 0) {
        Combine(m.set, determining);
      } else if (outcomes_.at(m.policy) == 'T') {
        determining->insert(m.policy);
      }
    };
    const compiler::CombiningAlgorithm algorithm =
        set < 0 ? compiler::CombiningAlgorithm::kDenyOverrides
                : checked_.sets[set].algorithm;
    if (algorithm == compiler::CombiningAlgorithm::kFirstApplicable) {
      for (const Member& m : members) {
        char r = result_of(m);
        if (r != 0) {
          collect(m);
          return r;
        }
      }
      return 0;
    }
    const char strong =
        algorithm == compiler::CombiningAlgorithm::kDenyOverrides ? 'D' : 'P';
    char result = 0;
    for (const Member& m : members) {
      char r = result_of(m);
      if (r == strong || (r != 0 && result == 0)) result = r;
    }
    if (result != 0) {
      for (const Member& m : members) {
        if (result_of(m) == result) collect(m);
      }
    }
    return result;
  }

 private:
  char Outcome(const std::string& policy) const {
    const bool permit = Effects().at(policy);
    char o = outcomes_.at(policy);
    if (o == 'T') return permit ? 'P' : 'D';
    if (o == 'E' && !permit) return 'D';
    return 0;
  }
  const std::map<std::string, bool>& Effects() const {
    if (effects_.empty()) {
      for (const compiler::CheckedPolicy& policy : checked_.policies) {
        effects_[policy.id] = policy.effect == compiler::Effect::kPermit;
      }
    }
    return effects_;
  }

  const CheckedSet& checked_;
  const std::map<std::string, char>& outcomes_;
  mutable std::map<std::string, bool> effects_;
};

ReferenceDecision ReferenceEvaluateSets(const CheckedSet& checked,
                                        const Frame& frame,
                                        Interpreter& interpreter) {
  ReferenceDecision decision;
  std::map<std::string, char> outcomes;  // 'T', 'F' or 'E'
  bool root_denied = false;
  for (const compiler::CheckedPolicy& policy : checked.policies) {
    Value value = policy.has_condition ? interpreter.Eval(policy.condition)
                                       : Bool(true);
    char outcome = value.kind == Value::kError ? 'E' : value.boolean ? 'T' : 'F';
    outcomes[policy.id] = outcome;
    bool deny_chain = true;
    for (int set = policy.set; set >= 0; set = checked.sets[set].parent) {
      deny_chain &= checked.sets[set].algorithm ==
                    compiler::CombiningAlgorithm::kDenyOverrides;
    }
    if (policy.effect == compiler::Effect::kForbid && deny_chain &&
        outcome != 'F') {
      root_denied = true;
    }
  }
  for (const compiler::CheckedPolicy& policy : checked.policies) {
    const bool permit = policy.effect == compiler::Effect::kPermit;
    if (outcomes[policy.id] == 'E' && !(permit && root_denied)) {
      decision.errored.insert(policy.id);
    }
  }
  std::set<std::string> determining;
  char result = SetCombiner(checked, outcomes).Combine(-1, &determining);
  decision.permit = result == 'P';
  if (result != 0) decision.determining = determining;
  return decision;
}

ReferenceDecision ApplyObligations(const CheckedSet& checked,
                                   const Frame& frame,
                                   ReferenceDecision decision);

ReferenceDecision ReferenceEvaluate(const CheckedSet& checked,
                                    const Program& program, const Frame& frame,
                                    const ReferenceLinks& links) {
  ReferenceDecision decision;
  if (!frame.conflicts().empty()) return decision;
  Interpreter interpreter(program, frame, links);
  if (!checked.sets.empty()) {
    decision = ReferenceEvaluateSets(checked, frame, interpreter);
    if (!decision.permit) return decision;
    return ApplyObligations(checked, frame, decision);
  }
  std::set<std::string> permits, forbids, permit_errors, forbid_errors;
  for (const compiler::CheckedPolicy& policy : checked.policies) {
    Value value = policy.has_condition ? interpreter.Eval(policy.condition)
                                       : Bool(true);
    bool permit = policy.effect == compiler::Effect::kPermit;
    if (value.kind == Value::kError) {
      (permit ? permit_errors : forbid_errors).insert(policy.id);
    } else if (value.boolean) {
      (permit ? permits : forbids).insert(policy.id);
    }
  }
  if (!forbids.empty() || !forbid_errors.empty()) {
    decision.determining = forbids;
    decision.errored = forbid_errors;
    return decision;
  }
  decision.permit = !permits.empty();
  decision.determining = permits;
  decision.errored = permit_errors;
  return ApplyObligations(checked, frame, decision);
}

// A permit whose obligation reads an absent attribute cannot be carried
// out, which denies.
ReferenceDecision ApplyObligations(const CheckedSet& checked,
                                   const Frame& frame,
                                   ReferenceDecision decision) {
  if (!decision.permit) return decision;
  const std::set<std::string> permits = decision.determining;
  for (const compiler::CheckedPolicy& policy : checked.policies) {
    if (permits.count(policy.id) == 0) continue;
    for (const compiler::CheckedDuty& duty : policy.duties) {
      for (const auto& [key, value] : duty.fields) {
        if (!duty.advice && value.kind == TExprKind::kAttribute &&
            !frame.slot(value.attribute).present) {
          decision.permit = false;
          decision.determining.clear();
        }
      }
    }
  }
  return decision;
}

}  // namespace verdict::testing
