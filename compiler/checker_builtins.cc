// Type checking of the built-in constructors, collection literals, patterns
// and methods.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "compiler/checker_internal.h"
#include "compiler/patterns.h"
#include "engine/absl_compat.h"
#include "engine/values.h"
#include "re2/re2.h"

namespace verdict::compiler::checker_internal {

std::string TypeText(Type type) {
  if (type == kUntypedCollection) return "string collection";
  if (type == kCidrCollection) return "cidr collection";
  return std::string(TypeName(type));
}

std::optional<TExpr> Checker::SingleArgument(const Expr& expr) {
  const size_t first = expr.kind == ExprKind::kMethodCall ? 1 : 0;
  const size_t given = expr.children.size() - first;
  if (given != 1) {
    diagnostics_.Error(expr.span, absl::StrCat(expr.method,
                                               " takes one "
                                               "argument, but ",
                                               given, " were given"));
    return std::nullopt;
  }
  return CheckExpr(*expr.children[first]);
}

// Constructors turn a string literal into a typed literal at compile time:
// ip("10.0.0.1"), cidr("10.0.0.0/8"), decimal("1.25"),
// timestamp("2026-01-01T00:00:00+02:00"), duration("1h30m").
std::optional<TExpr> Checker::CheckCall(const Expr& expr) {
  static constexpr std::string_view kConstructors[] = {"ip", "cidr", "decimal",
                                                       "timestamp", "duration"};
  if (std::find(std::begin(kConstructors), std::end(kConstructors),
                expr.method) == std::end(kConstructors)) {
    diagnostics_.Error(expr.span,
                       absl::StrCat("unknown function '", expr.method,
                                    "'; the constructors are ip, cidr, "
                                    "decimal, timestamp and duration"));
    return std::nullopt;
  }
  std::optional<TExpr> argument = SingleArgument(expr);
  if (!argument) return std::nullopt;
  if (argument->kind != TExprKind::kLiteral ||
      argument->type != Type::kString) {
    diagnostics_.Error(argument->span,
                       absl::StrCat(expr.method, " takes a string literal"));
    return std::nullopt;
  }
  const std::string& text = argument->text;
  TExpr out;
  out.span = expr.span;
  std::string_view expected;
  if (expr.method == "ip" || expr.method == "cidr") {
    const bool ip = expr.method == "ip";
    std::optional<std::string> bytes = ip ? ParseIp(text) : ParseCidr(text);
    out.type = ip ? Type::kIp : Type::kCidr;
    if (bytes) out.text = *std::move(bytes);
    if (!bytes) {
      expected = ip ? "an IPv4 or IPv6 address such as 10.0.0.1"
                    : "a CIDR range with zero host bits, such as 10.0.0.0/8";
    }
  } else {
    std::optional<int64_t> value;
    if (expr.method == "decimal") {
      value = ParseDecimal(text);
      out.type = Type::kDecimal;
      expected = "a decimal with at most 4 fractional digits, such as 12.5";
    } else if (expr.method == "duration") {
      value = ParseDuration(text);
      out.type = Type::kDuration;
      expected = "a duration such as 90s, 5m or 1h30m";
    } else {
      absl::Time time;
      std::string error;
      if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
        value = absl::ToUnixSeconds(time);
      }
      out.type = Type::kTimestamp;
      expected = "an RFC 3339 time such as 2026-01-01T00:00:00Z";
    }
    if (value) {
      out.int_value = *value;
      expected = "";
    }
  }
  if (!expected.empty()) {
    diagnostics_.Error(argument->span,
                       absl::StrCat("invalid ", expr.method, " \"", text,
                                    "\": expected ", ToAbsl(expected)));
    return std::nullopt;
  }
  return out;
}

// A collection literal contains string literals (typed later as a set or a
// list) or cidr ranges.
std::optional<TExpr> Checker::CheckCollection(const Expr& expr) {
  if (expr.children.size() > kMaxCollectionElements) {
    diagnostics_.Error(
        expr.span, absl::StrCat("this collection has ", expr.children.size(),
                                " elements, more than the limit of ",
                                kMaxCollectionElements,
                                "; keep a larger collection in entity data "
                                "and join it"));
    return std::nullopt;
  }
  TExpr out;
  out.span = expr.span;
  out.type = kUntypedCollection;
  bool ok = true;
  for (size_t i = 0; i < expr.children.size(); ++i) {
    std::optional<TExpr> element = CheckLiteral(*expr.children[i]);
    if (!element) {
      ok = false;
      continue;
    }
    const Type want =
        element->type == Type::kCidr ? kCidrCollection : kUntypedCollection;
    if (i == 0) out.type = want;
    if ((element->type != Type::kString && element->type != Type::kCidr) ||
        want != out.type) {
      diagnostics_.Error(element->span,
                         absl::StrCat("a collection holds strings or cidr "
                                      "ranges, all of one kind; this element "
                                      "is ",
                                      TypeText(element->type)));
      ok = false;
      continue;
    }
    out.elements.push_back(std::move(element->text));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<TExpr> Checker::PatternTest(const Span& span, TExpr subject,
                                          const TExpr& pattern,
                                          PatternKind kind) {
  if (!ExpectType(subject, Type::kString, "the subject of a pattern")) {
    return std::nullopt;
  }
  if (pattern.kind != TExprKind::kLiteral || pattern.type != Type::kString) {
    diagnostics_.Error(pattern.span,
                       "a pattern must be a string literal or constant");
    return std::nullopt;
  }
  if (pattern.text.size() > kMaxPatternBytes) {
    diagnostics_.Error(
        pattern.span,
        absl::StrCat("pattern is ", pattern.text.size(),
                     " bytes, more than the limit of ", kMaxPatternBytes,
                     " bytes; split it into several shorter patterns joined "
                     "by 'or'"));
    return std::nullopt;
  }
  std::string regex = kind == PatternKind::kGlob ? GlobToRegex(pattern.text)
                      : kind == PatternKind::kTemplate
                          ? TemplateToRegex(pattern.text)
                          : pattern.text;
  RE2 compiled(regex, PatternOptions());
  if (compiled.error_code() == RE2::ErrorPatternTooLarge) {
    diagnostics_.Error(
        pattern.span,
        absl::StrCat("pattern of ", pattern.text.size(),
                     " bytes needs more than the limit of ",
                     kPatternMaxMemBytes,
                     " bytes of RE2 memory; simplify it, or split it into "
                     "several patterns joined by 'or'"));
    return std::nullopt;
  }
  if (!compiled.ok()) {
    diagnostics_.Error(pattern.span,
                       absl::StrCat("invalid pattern \"", pattern.text,
                                    "\": ", compiled.error()));
    return std::nullopt;
  }
  if (compiled.ProgramSize() > kMaxRegexProgramSize) {
    diagnostics_.Error(pattern.span,
                       absl::StrCat("pattern \"", pattern.text,
                                    "\" compiles to ", compiled.ProgramSize(),
                                    " instructions, more than the limit of ",
                                    kMaxRegexProgramSize,
                                    "; simplify it, or split it into several "
                                    "patterns joined by 'or'"));
    return std::nullopt;
  }
  TExpr out;
  out.kind = TExprKind::kMatches;
  out.type = Type::kBool;
  out.span = span;
  out.text = pattern.text;
  out.int_value = static_cast<int64_t>(kind);
  out.elements.push_back(std::move(regex));
  out.children.push_back(std::move(subject));
  return out;
}

std::optional<TExpr> Checker::CheckLike(const Expr& expr) {
  std::optional<TExpr> subject = CheckExpr(*expr.children[0]);
  std::optional<TExpr> pattern = CheckExpr(*expr.children[1]);
  if (!subject || !pattern) return std::nullopt;
  return PatternTest(expr.span, std::move(*subject), *pattern,
                     PatternKind::kGlob);
}

std::optional<TExpr> Checker::CheckMethod(const Expr& expr) {
  std::optional<TExpr> receiver = CheckExpr(*expr.children[0]);
  if (!receiver) return std::nullopt;
  switch (receiver->type) {
    case Type::kString:
      return CheckStringMethod(expr, std::move(*receiver));
    case Type::kStringSet:
      return CheckSetMethod(expr, std::move(*receiver));
    case Type::kIp:
      return CheckIpMethod(expr, std::move(*receiver));
    default:
      diagnostics_.Error(expr.span,
                         absl::StrCat("unknown method '", expr.method, "' on ",
                                      TypeText(receiver->type)));
      return std::nullopt;
  }
}

std::optional<TExpr> Checker::CheckStringMethod(const Expr& expr,
                                                TExpr receiver) {
  const std::string& method = expr.method;
  if (method != "startsWith" && method != "endsWith" && method != "matches" &&
      method != "matchesTemplate") {
    diagnostics_.Error(expr.span,
                       absl::StrCat("unknown method '", method,
                                    "'; the string methods are startsWith, "
                                    "endsWith, matches and matchesTemplate"));
    return std::nullopt;
  }
  std::optional<TExpr> argument = SingleArgument(expr);
  if (!argument) return std::nullopt;
  if (method == "matches" || method == "matchesTemplate") {
    return PatternTest(
        expr.span, std::move(receiver), *argument,
        method == "matches" ? PatternKind::kRegex : PatternKind::kTemplate);
  }
  if (!ExpectType(*argument, Type::kString,
                  absl::StrCat("the argument of ", method))) {
    return std::nullopt;
  }
  if (argument->kind != TExprKind::kLiteral) {
    diagnostics_.Error(argument->span,
                       absl::StrCat("the argument of ", method,
                                    " must be a string literal or constant"));
    return std::nullopt;
  }
  TExpr out;
  out.kind =
      method == "startsWith" ? TExprKind::kStartsWith : TExprKind::kEndsWith;
  out.type = Type::kBool;
  out.span = expr.span;
  out.children.push_back(std::move(receiver));
  out.children.push_back(std::move(*argument));
  return out;
}

std::optional<TExpr> Checker::CheckSetMethod(const Expr& expr, TExpr receiver) {
  const std::string& method = expr.method;
  TExpr out;
  out.span = expr.span;
  if (method == "size") {
    if (expr.children.size() != 1) {
      diagnostics_.Error(expr.span, "size takes no arguments");
      return std::nullopt;
    }
    out.kind = TExprKind::kSize;
    out.type = Type::kInt;
    out.children.push_back(std::move(receiver));
    return out;
  }
  if (method != "containsAll" && method != "containsAny" &&
      method != "intersects") {
    diagnostics_.Error(expr.span,
                       absl::StrCat("unknown method '", method,
                                    "'; the set methods are containsAll, "
                                    "containsAny, intersects and size"));
    return std::nullopt;
  }
  std::optional<TExpr> argument = SingleArgument(expr);
  if (!argument) return std::nullopt;
  Coerce(*argument, Type::kStringSet);
  if (!ExpectType(*argument, Type::kStringSet,
                  absl::StrCat("the argument of ", method))) {
    return std::nullopt;
  }
  if (receiver.kind != TExprKind::kAttribute) {
    diagnostics_.Error(receiver.span,
                       absl::StrCat("call ", method,
                                    " on a set attribute; write the literal "
                                    "set as the argument"));
    return std::nullopt;
  }
  out.kind = method == "containsAll" ? TExprKind::kContainsAll
                                     : TExprKind::kContainsAny;
  out.type = Type::kBool;
  out.children.push_back(std::move(receiver));
  out.children.push_back(std::move(*argument));
  return out;
}

// isIpv4() and isIpv6() test the IPv4-mapped range, which every IPv4
// address is stored in.
std::optional<TExpr> Checker::CheckIpMethod(const Expr& expr, TExpr receiver) {
  const std::string& method = expr.method;
  if ((method != "isIpv4" && method != "isIpv6") || expr.children.size() != 1) {
    diagnostics_.Error(expr.span,
                       absl::StrCat("unknown method '", method,
                                    "'; the ip methods are isIpv4() and "
                                    "isIpv6(), and ranges are tested with "
                                    "`in cidr(...)`"));
    return std::nullopt;
  }
  TExpr range;
  range.kind = TExprKind::kLiteral;
  range.type = Type::kCidr;
  range.span = expr.span;
  range.text = *ParseCidr("::ffff:0:0/96");
  TExpr in;
  in.kind = TExprKind::kIn;
  in.type = Type::kBool;
  in.span = expr.span;
  in.children.push_back(std::move(receiver));
  in.children.push_back(std::move(range));
  if (method == "isIpv4") return in;
  TExpr negated;
  negated.kind = TExprKind::kNot;
  negated.type = Type::kBool;
  negated.span = expr.span;
  negated.children.push_back(std::move(in));
  return negated;
}

}  // namespace verdict::compiler::checker_internal
