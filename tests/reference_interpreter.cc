#include "tests/reference_interpreter.h"

#include <algorithm>
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
bool Matches(const TExpr& expr, const std::string& text);

class Interpreter {
 public:
  Interpreter(const Program& program, const Frame& frame)
      : program_(program), frame_(frame) {}

  Value Eval(const TExpr& expr);

 private:
  Value ReadAttribute(uint32_t slot);
  Value Literal(const TExpr& expr);
  Value Logic(const TExpr& expr);
  Value Compare(const TExpr& expr);
  Value Arithmetic(const TExpr& expr);

  const Program& program_;
  const Frame& frame_;
};

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
      return Bool(Matches(expr, text.text));
    }
    case TExprKind::kStartsWith:
    case TExprKind::kEndsWith: {
      Value text = Eval(expr.children[0]);
      Value affix = Eval(expr.children[1]);
      if (text.kind == Value::kError) return Error();
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

ReferenceDecision ReferenceEvaluate(const CheckedSet& checked,
                                    const Program& program,
                                    const Frame& frame) {
  ReferenceDecision decision;
  if (!frame.conflicts().empty()) return decision;
  Interpreter interpreter(program, frame);
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
  // A permit whose obligation reads an absent attribute cannot be carried
  // out, which denies.
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
