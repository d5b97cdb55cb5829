#include "compiler/parser.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/ast.h"
#include "compiler/source.h"
#include "engine/types.h"
#include "gtest/gtest.h"

namespace verdict::compiler {
namespace {

// A parsed file together with the source that its spans point into.
struct Parsed {
  std::unique_ptr<SourceFile> source;
  Diagnostics diagnostics;
  FileAst ast;
};

std::unique_ptr<Parsed> Parse(std::string text) {
  auto parsed = std::make_unique<Parsed>();
  parsed->source =
      std::make_unique<SourceFile>("test.verdict", std::move(text));
  parsed->ast = ParseFile(*parsed->source, parsed->diagnostics);
  return parsed;
}

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::string OperatorName(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kCollectionLiteral:
      return "list";
    case ExprKind::kHas:
      return absl::StrCat("has ", expr.has_path);
    case ExprKind::kNot:
      return "not";
    case ExprKind::kNegate:
      return "neg";
    case ExprKind::kAnd:
      return "and";
    case ExprKind::kOr:
      return "or";
    case ExprKind::kCompare:
      return CompareOpName(expr.compare_op);
    case ExprKind::kAdd:
      return "+";
    case ExprKind::kSubtract:
      return "-";
    case ExprKind::kIn:
      return "in";
    case ExprKind::kMethodCall:
      return absl::StrCat(".", expr.method);
    default:
      return "?";
  }
}

// Writes `expr` as an S-expression: `(or a (and b c))`. Names are dotted,
// strings quoted, durations end in "s" and every operator is in brackets.
std::string ToSExpr(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kBoolLiteral:
      return expr.bool_value ? "true" : "false";
    case ExprKind::kIntLiteral:
      return absl::StrCat(expr.int_value);
    case ExprKind::kDurationLiteral:
      return absl::StrCat(expr.int_value, "s");
    case ExprKind::kStringLiteral:
      return absl::StrCat("\"", expr.string_value, "\"");
    case ExprKind::kName:
      return absl::StrJoin(expr.path, ".");
    default:
      break;
  }
  std::string out = absl::StrCat("(", OperatorName(expr));
  for (const std::unique_ptr<Expr>& child : expr.children) {
    absl::StrAppend(&out, " ", ToSExpr(*child));
  }
  return absl::StrCat(out, ")");
}

std::string SpanText(const Span& span) {
  return absl::StrCat(span.line, ":", span.column, "-", span.end_line, ":",
                      span.end_column);
}

// Returns "line:col: message" for each diagnostic.
std::vector<std::string> Messages(const Diagnostics& diagnostics) {
  std::vector<std::string> messages;
  for (const Diagnostic& diagnostic : diagnostics.all()) {
    messages.push_back(absl::StrCat(diagnostic.span.line, ":",
                                    diagnostic.span.column, ": ",
                                    diagnostic.message));
  }
  return messages;
}

// Parses `condition` inside a policy and returns its S-expression, or the
// rendered diagnostics when it did not parse.
std::string ConditionOf(const std::string& condition) {
  auto parsed = Parse(absl::StrCat("permit \"p\" when { ", condition, " }"));
  if (parsed->diagnostics.has_errors() || parsed->ast.policies.size() != 1) {
    return absl::StrCat("error: ", parsed->diagnostics.Render());
  }
  return ToSExpr(*parsed->ast.policies[0].condition);
}

TEST(Parser, SchemaDeclaration) {
  auto parsed = Parse(
      "schema subject from users {\n"
      "  id: string\n"
      "  roles: set<string>,\n"
      "  email?: string  // optional\n"
      "  tcb.snp: int, debug: bool\n"
      "  seen: timestamp ttl: duration names: list<string>\n"
      "}\n");
  ASSERT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  ASSERT_EQ(parsed->ast.schemas.size(), 1u);
  const SchemaDecl& schema = parsed->ast.schemas[0];
  EXPECT_EQ(schema.group, "subject");
  EXPECT_EQ(schema.data_set, "users");
  EXPECT_EQ(SpanText(schema.span), "1:8-1:15");
  EXPECT_EQ(SpanText(schema.data_span), "1:21-1:26");
  EXPECT_EQ(schema.span.file, parsed->source.get());

  struct Expected {
    const char* name;
    Type type;
    bool optional;
  };
  const std::vector<Expected> expected = {
      {"id", Type::kString, false},    {"roles", Type::kStringSet, false},
      {"email", Type::kString, true},  {"tcb.snp", Type::kInt, false},
      {"debug", Type::kBool, false},   {"seen", Type::kTimestamp, false},
      {"ttl", Type::kDuration, false}, {"names", Type::kStringList, false}};
  ASSERT_EQ(schema.attributes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(schema.attributes[i].name, expected[i].name);
    EXPECT_EQ(schema.attributes[i].type, expected[i].type) << expected[i].name;
    EXPECT_EQ(schema.attributes[i].optional, expected[i].optional)
        << expected[i].name;
  }
  // An attribute's span covers its dotted name.
  EXPECT_EQ(SpanText(schema.attributes[2].span), "4:3-4:8");
  EXPECT_EQ(SpanText(schema.attributes[3].span), "5:3-5:10");
}

TEST(Parser, SchemaWithoutDataSet) {
  auto parsed = Parse("schema tee { tcb.snp: int  debug: bool }");
  ASSERT_FALSE(parsed->diagnostics.has_errors());
  ASSERT_EQ(parsed->ast.schemas.size(), 1u);
  EXPECT_EQ(parsed->ast.schemas[0].group, "tee");
  EXPECT_EQ(parsed->ast.schemas[0].data_set, "");
  EXPECT_EQ(parsed->ast.schemas[0].data_span.file, nullptr);
  EXPECT_EQ(parsed->ast.schemas[0].attributes.size(), 2u);
}

TEST(Parser, CollectionTypesHoldStrings) {
  auto parsed = Parse(
      "schema s {\n"
      "  a: set<int>\n"
      "  b: list<set<string>>\n"
      "  c: list<string>\n"
      "}\n");
  EXPECT_EQ(Messages(parsed->diagnostics),
            (std::vector<std::string>{
                "2:10: a set holds strings only: write set<string>",
                "3:11: a list holds strings only: write list<string>"}));
  EXPECT_TRUE(parsed->ast.schemas.empty());
}

TEST(Parser, ConstDeclarations) {
  auto parsed = Parse(
      "const AGENT = \"https://agent.example.com/app\"\n"
      "const APPROVED = [\"a\", \"b\",]\n"
      "const NONE = []\n"
      "const MAX_AGE = 5m\n"
      "const LIMIT = 10\n"
      "const FLAG = true\n");
  ASSERT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  const std::vector<ConstDecl>& constants = parsed->ast.constants;
  ASSERT_EQ(constants.size(), 6u);
  EXPECT_EQ(constants[0].name, "AGENT");
  EXPECT_EQ(SpanText(constants[0].span), "1:7-1:12");
  EXPECT_EQ(constants[0].value->kind, ExprKind::kStringLiteral);
  EXPECT_EQ(constants[0].value->string_value, "https://agent.example.com/app");
  EXPECT_EQ(SpanText(constants[0].value->span), "1:15-1:46");

  const Expr& approved = *constants[1].value;
  EXPECT_EQ(approved.kind, ExprKind::kCollectionLiteral);
  EXPECT_EQ(ToSExpr(approved), "(list \"a\" \"b\")");
  EXPECT_EQ(SpanText(approved.span), "2:18-2:29");
  EXPECT_EQ(SpanText(approved.children[1]->span), "2:24-2:27");

  EXPECT_EQ(ToSExpr(*constants[2].value), "(list)");
  EXPECT_EQ(constants[3].value->kind, ExprKind::kDurationLiteral);
  EXPECT_EQ(constants[3].value->int_value, 300);
  EXPECT_EQ(constants[4].value->kind, ExprKind::kIntLiteral);
  EXPECT_EQ(constants[4].value->int_value, 10);
  EXPECT_EQ(constants[5].value->kind, ExprKind::kBoolLiteral);
  EXPECT_TRUE(constants[5].value->bool_value);
}

TEST(Parser, PolicyWithCondition) {
  auto parsed = Parse(
      "permit \"read-todos\" when {\n"
      "  action.name == \"can_read_todos\" and \"viewer\" in subject.roles\n"
      "}\n"
      "forbid \"debug-tee\" when { tee.debug }\n");
  ASSERT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  ASSERT_EQ(parsed->ast.policies.size(), 2u);
  const PolicyDecl& read = parsed->ast.policies[0];
  EXPECT_EQ(read.effect, Effect::kPermit);
  EXPECT_EQ(read.id, "read-todos");
  EXPECT_EQ(SpanText(read.span), "1:1-1:20");
  EXPECT_EQ(SpanText(read.id_span), "1:8-1:20");
  ASSERT_NE(read.condition, nullptr);
  EXPECT_EQ(ToSExpr(*read.condition),
            "(and (== action.name \"can_read_todos\") "
            "(in \"viewer\" subject.roles))");
  EXPECT_EQ(SpanText(read.condition->span), "2:3-2:64");
  const Expr& compare = *read.condition->children[0];
  EXPECT_EQ(SpanText(compare.span), "2:3-2:34");
  EXPECT_EQ(SpanText(compare.children[0]->span), "2:3-2:14");
  EXPECT_EQ(SpanText(read.condition->children[1]->children[1]->span),
            "2:51-2:64");

  const PolicyDecl& debug = parsed->ast.policies[1];
  EXPECT_EQ(debug.effect, Effect::kForbid);
  EXPECT_EQ(debug.id, "debug-tee");
  EXPECT_EQ(ToSExpr(*debug.condition), "tee.debug");
  EXPECT_EQ(SpanText(debug.condition->span), "4:27-4:36");
}

TEST(Parser, PolicyWithoutCondition) {
  auto parsed = Parse("permit \"open\";  forbid \"closed\" ;");
  ASSERT_FALSE(parsed->diagnostics.has_errors());
  ASSERT_EQ(parsed->ast.policies.size(), 2u);
  EXPECT_EQ(parsed->ast.policies[0].id, "open");
  EXPECT_EQ(parsed->ast.policies[0].condition, nullptr);
  EXPECT_EQ(parsed->ast.policies[1].effect, Effect::kForbid);
  EXPECT_EQ(SpanText(parsed->ast.policies[1].span), "1:17-1:32");
}

TEST(Parser, EmptyAndCommentOnlyFiles) {
  for (const char* text : {"", "  \n\t\r\n", "// line\n/* block\n */ // x"}) {
    auto parsed = Parse(text);
    EXPECT_FALSE(parsed->diagnostics.has_errors()) << text;
    EXPECT_TRUE(parsed->ast.policies.empty());
    EXPECT_EQ(parsed->ast.source, parsed->source.get());
  }
}

TEST(Parser, OperatorPrecedence) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a or b and not c == d", "(or a (and b (not (== c d))))"},
      {"a and b or c", "(or (and a b) c)"},
      {"a or b or c", "(or (or a b) c)"},
      {"a and b and c", "(and (and a b) c)"},
      {"a && b || !c", "(or (and a b) (not c))"},
      {"not a and b", "(and (not a) b)"},
      {"not not a", "(not (not a))"},
      {"!a == b", "(not (== a b))"},
      {"(a or b) and c", "(and (or a b) c)"},
      {"a + b - c == d", "(== (- (+ a b) c) d)"},
      {"a - b - c", "(- (- a b) c)"},
      {"-a + b", "(+ (neg a) b)"},
      {"-x.f()", "(neg (.f x))"},
      {"a + 1 in b", "(in (+ a 1) b)"},
      {"\"v\" in subject.roles", "(in \"v\" subject.roles)"},
      {"a != b", "(!= a b)"},
      {"a < b", "(< a b)"},
      {"a <= b", "(<= a b)"},
      {"a > b", "(> a b)"},
      {"a >= b", "(>= a b)"},
      {"a < b and c >= d", "(and (< a b) (>= c d))"},
      {"x in [\"a\", \"b\"]", "(in x (list \"a\" \"b\"))"},
      {"true or false", "(or true false)"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(ConditionOf(input), expected) << input;
  }
}

TEST(Parser, ChainSpansGrowFromTheLeft) {
  auto parsed = Parse("const X = a or b or c");
  ASSERT_EQ(parsed->ast.constants.size(), 1u);
  const Expr& outer = *parsed->ast.constants[0].value;
  EXPECT_EQ(SpanText(outer.span), "1:11-1:22");
  EXPECT_EQ(SpanText(outer.children[0]->span), "1:11-1:17");
  EXPECT_EQ(SpanText(outer.children[1]->span), "1:21-1:22");
}

TEST(Parser, DurationValues) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"0s", 0},     {"5s", 5},
      {"5m", 300},   {"2h", 7200},
      {"1d", 86400}, {"90m", 5400},
      {"-5m", -300}, {"106751991167300d", int64_t{106751991167300} * 86400},
  };
  for (const auto& [literal, seconds] : cases) {
    auto parsed = Parse(absl::StrCat("const D = ", literal));
    ASSERT_EQ(parsed->ast.constants.size(), 1u)
        << literal << parsed->diagnostics.Render();
    const Expr& value = *parsed->ast.constants[0].value;
    EXPECT_EQ(value.kind, ExprKind::kDurationLiteral) << literal;
    EXPECT_EQ(value.int_value, seconds) << literal;
  }
}

TEST(Parser, DurationOverflow) {
  auto parsed = Parse("const D = 106751991167301d");
  EXPECT_TRUE(parsed->ast.constants.empty());
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{
                "1:11: duration literal 106751991167301d does not fit in a "
                "signed 64-bit count of seconds"});
}

TEST(Parser, IntegerLimits) {
  auto parsed = Parse(
      "const MAX = 9223372036854775807\n"
      "const MIN = -9223372036854775808\n"
      "const ZERO = 007\n");
  ASSERT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  ASSERT_EQ(parsed->ast.constants.size(), 3u);
  EXPECT_EQ(parsed->ast.constants[0].value->int_value,
            std::numeric_limits<int64_t>::max());
  // The minus folds into the literal, which spans both.
  const Expr& min = *parsed->ast.constants[1].value;
  EXPECT_EQ(min.kind, ExprKind::kIntLiteral);
  EXPECT_EQ(min.int_value, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(SpanText(min.span), "2:13-2:33");
  EXPECT_EQ(parsed->ast.constants[2].value->int_value, 7);
}

TEST(Parser, NegationOfNonLiterals) {
  EXPECT_EQ(ConditionOf("a - -5 == 0"), "(== (- a -5) 0)");
  EXPECT_EQ(ConditionOf("--5 == 5"), "(== (neg -5) 5)");
  EXPECT_EQ(ConditionOf("-(5) == x"), "(== (neg 5) x)");
  EXPECT_EQ(ConditionOf("- 5 == x"), "(== -5 x)");
}

TEST(Parser, OversizedIntegerLiteral) {
  auto parsed = Parse(
      "const A = 99999999999999999999\n"
      "const B = 9223372036854775808\n"
      "const C = -9223372036854775809\n"
      "const D = 1\n");
  EXPECT_EQ(Messages(parsed->diagnostics),
            (std::vector<std::string>{
                "1:11: integer literal 99999999999999999999 does not fit in "
                "a signed 64-bit integer",
                "2:11: integer literal 9223372036854775808 does not fit in "
                "a signed 64-bit integer",
                "3:11: integer literal -9223372036854775809 does not fit in "
                "a signed 64-bit integer"}));
  ASSERT_EQ(parsed->ast.constants.size(), 1u);
  EXPECT_EQ(parsed->ast.constants[0].name, "D");
  EXPECT_EQ(SpanText(parsed->diagnostics.all()[0].span), "1:11-1:31");
}

TEST(Parser, StringEscapes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("plain")", "plain"},
      {R"("a\"b")", "a\"b"},
      {R"("back\\slash")", "back\\slash"},
      {R"("a\/b")", "a/b"},
      {R"("\n\t\r")", "\n\t\r"},
      {R"("\u0041")", "A"},
      {R"("\u00e9")", "\xC3\xA9"},
      {R"("\u20AC")", "\xE2\x82\xAC"},
      {R"("\uD83D\uDE00")", "\xF0\x9F\x98\x80"},
      {"\"caf\xC3\xA9\"", "caf\xC3\xA9"},
      {R"("")", ""},
  };
  for (const auto& [literal, value] : cases) {
    auto parsed = Parse(absl::StrCat("const S = ", literal));
    ASSERT_EQ(parsed->ast.constants.size(), 1u)
        << literal << parsed->diagnostics.Render();
    EXPECT_EQ(parsed->ast.constants[0].value->string_value, value) << literal;
  }
}

TEST(Parser, PolicyIdIsUnescaped) {
  auto parsed = Parse(R"(permit "a\"b\u0021";)");
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  EXPECT_EQ(parsed->ast.policies[0].id, "a\"b!");
  EXPECT_EQ(SpanText(parsed->ast.policies[0].id_span), "1:8-1:20");
}

TEST(Parser, InvalidStringContents) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("ab\qc")",
       "1:14: invalid escape sequence '\\q' in string literal; the escapes "
       "are \\\" \\\\ \\/ \\n \\r \\t and \\uXXXX"},
      {R"("\u12")",
       "1:12: invalid escape '\\u12': \\u takes exactly four hexadecimal "
       "digits"},
      {R"("\uD800x")",
       "1:12: invalid escape '\\uD800': a UTF-16 surrogate must be one of a "
       "high and low pair such as \\uD83D\\uDE00"},
      {"\"a\xFF\"",
       "1:13: string literal is not valid UTF-8: unexpected byte 0xFF"},
  };
  for (const auto& [literal, message] : cases) {
    auto parsed = Parse(absl::StrCat("const S = ", literal));
    EXPECT_TRUE(parsed->ast.constants.empty()) << literal;
    EXPECT_EQ(Messages(parsed->diagnostics), std::vector<std::string>{message})
        << literal;
  }
}

TEST(Parser, RawNewlineInString) {
  auto parsed = Parse(
      "permit \"a\" when { x == \"two\n"
      "lines\" }\n"
      "permit \"b\";\n");
  ASSERT_GE(parsed->diagnostics.error_count(), 1u);
  EXPECT_EQ(Messages(parsed->diagnostics)[0],
            "1:24: missing closing '\"' for the string literal before the end "
            "of the line; a string literal cannot span lines, so write a line "
            "break as \\n");
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  EXPECT_EQ(parsed->ast.policies[0].id, "b");
}

TEST(Parser, MethodCallsAndPaths) {
  EXPECT_EQ(ConditionOf("subject.id"), "subject.id");
  EXPECT_EQ(ConditionOf("subject.id.startsWith(\"a\")"),
            "(.startsWith subject.id \"a\")");
  EXPECT_EQ(ConditionOf("x.f()"), "(.f x)");
  EXPECT_EQ(ConditionOf("x.f().g(1, y.z)"), "(.g (.f x) 1 y.z)");
  EXPECT_EQ(ConditionOf("a.b.c.d == x.y"), "(== a.b.c.d x.y)");
  EXPECT_EQ(ConditionOf("\"abc\".startsWith(\"a\")"),
            "(.startsWith \"abc\" \"a\")");

  auto parsed = Parse("permit \"p\" when { subject.id.startsWith(\"a\") }");
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  const Expr& call = *parsed->ast.policies[0].condition;
  EXPECT_EQ(call.kind, ExprKind::kMethodCall);
  EXPECT_EQ(call.method, "startsWith");
  ASSERT_EQ(call.children.size(), 2u);
  EXPECT_EQ(call.children[0]->kind, ExprKind::kName);
  EXPECT_EQ(call.children[0]->path,
            (std::vector<std::string>{"subject", "id"}));
  EXPECT_EQ(SpanText(call.span), "1:19-1:45");
  EXPECT_EQ(SpanText(call.children[0]->span), "1:19-1:29");
  EXPECT_EQ(SpanText(call.children[1]->span), "1:41-1:44");
}

TEST(Parser, HasExpression) {
  EXPECT_EQ(ConditionOf("subject has email"), "(has email subject)");
  EXPECT_EQ(ConditionOf("tee has tcb.snp and tee.tcb.snp > 3"),
            "(and (has tcb.snp tee) (> tee.tcb.snp 3))");
  EXPECT_EQ(ConditionOf("not a.b has c"), "(not (has c a.b))");

  auto parsed = Parse("permit \"p\" when { tee has tcb.snp }");
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  const Expr& has = *parsed->ast.policies[0].condition;
  EXPECT_EQ(has.kind, ExprKind::kHas);
  EXPECT_EQ(has.has_path, "tcb.snp");
  EXPECT_EQ(has.children[0]->path, std::vector<std::string>{"tee"});
  EXPECT_EQ(SpanText(has.span), "1:19-1:34");
}

TEST(Parser, HasNeedsNameOnTheLeft) {
  auto parsed = Parse("permit \"p\" when { \"x\" has y }");
  EXPECT_TRUE(parsed->ast.policies.empty());
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{"1:19: the left side of 'has' must be "
                                     "a name, as in 'subject has email'"});
}

TEST(Parser, ReservedWordsInNames) {
  auto parsed = Parse(
      "schema s { from: int }\n"
      "permit \"a\" when { subject.in == 1 }\n"
      "permit \"b\" when { x has y.string }\n"
      "permit \"c\";\n");
  EXPECT_EQ(Messages(parsed->diagnostics),
            (std::vector<std::string>{
                "1:12: 'from' is a reserved word and cannot be used as a name",
                "2:27: 'in' is a reserved word and cannot be used as a name",
                "3:27: 'string' is a reserved word and cannot be used as a "
                "name"}));
  EXPECT_TRUE(parsed->ast.schemas.empty());
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  EXPECT_EQ(parsed->ast.policies[0].id, "c");
}

TEST(Parser, SeveralSyntaxErrorsAreAllReported) {
  auto parsed = Parse(
      "permit \"a\" when { x == \"y\"\n"              // line 1
      "permit \"b\" when { a == b == c }\n"           // line 2
      "schema s { a: int b: set<int> }\n"             // line 3
      "permit \"ok\" when { subject.id == \"x\" }\n"  // line 4
      "foo\n"                                         // line 5
      "permit \"c\" when { a = \"x\" }\n"             // line 6
      "permit \"d\" when { a.b. }\n"                  // line 7
      "permit \"e\" when { [1 }\n"                   // line 8
      "permit \"f\"\n"                                // line 9
      "const X = (1 + 2\n"                            // line 10
      "forbid \"also-ok\";\n");                       // line 11
  EXPECT_EQ(
      Messages(parsed->diagnostics),
      (std::vector<std::string>{
          "1:27: expected '}' to close the policy condition, found 'permit'",
          "2:26: unexpected '==' after a comparison; comparisons do not "
          "chain, so join two comparisons with 'and'",
          "3:26: a set holds strings only: write set<string>",
          "5:1: expected a declaration ('schema', 'const', 'permit', "
          "'forbid' or 'policyset'), found 'foo'",
          "6:21: expected '}' to close the policy condition, found '='; "
          "write '==' to compare two values",
          "7:24: expected a name after '.', found '}'",
          "8:22: expected ',' or ']' to close the collection, found '}'",
          "9:11: expected 'when' and a condition, an obligation or advice, "
          "or ';', after the policy id, found 'const'",
          "10:17: expected ')' to close the parenthesis, found 'forbid'"}));
  std::vector<std::string> ids;
  for (const PolicyDecl& policy : parsed->ast.policies)
    ids.push_back(policy.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ok", "also-ok"}));
  EXPECT_TRUE(parsed->ast.schemas.empty());
  EXPECT_TRUE(parsed->ast.constants.empty());
}

TEST(Parser, ErrorsAtEndOfFile) {
  auto parsed = Parse("permit \"a\" when { x ");
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{"1:20: expected '}' to close the policy "
                                     "condition, found end of file"});
  EXPECT_TRUE(parsed->ast.policies.empty());
}

TEST(Parser, QualifiedNamesCannotBeCalled) {
  auto parsed = Parse("permit \"a\" when { a.f(x).g }");
  EXPECT_FALSE(Messages(parsed->diagnostics).empty());
}

TEST(Parser, FunctionCallsParse) {
  auto parsed = Parse("permit \"a\" when { source.ip in cidr(\"10.0.0.0/8\") }");
  ASSERT_TRUE(Messages(parsed->diagnostics).empty());
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  const Expr& in = *parsed->ast.policies[0].condition;
  ASSERT_EQ(in.kind, ExprKind::kIn);
  const Expr& call = *in.children[1];
  EXPECT_EQ(call.kind, ExprKind::kCall);
  EXPECT_EQ(call.method, "cidr");
  ASSERT_EQ(call.children.size(), 1u);
  EXPECT_EQ(call.children[0]->string_value, "10.0.0.0/8");
}

TEST(Parser, LikeAndCollectionsOfExpressions) {
  auto parsed = Parse(
      "permit \"a\" when { resource.path like \"/docs/*\" and "
      "source.ip in [cidr(\"10.0.0.0/8\"), cidr(\"::1/128\")] }");
  ASSERT_TRUE(Messages(parsed->diagnostics).empty());
  const Expr& both = *parsed->ast.policies[0].condition;
  ASSERT_EQ(both.kind, ExprKind::kAnd);
  EXPECT_EQ(both.children[0]->kind, ExprKind::kLike);
  const Expr& collection = *both.children[1]->children[1];
  ASSERT_EQ(collection.kind, ExprKind::kCollectionLiteral);
  ASSERT_EQ(collection.children.size(), 2u);
  EXPECT_EQ(collection.children[1]->kind, ExprKind::kCall);
}

TEST(Parser, LexicalErrors) {
  auto parsed = Parse(
      "permit \"a\" when { a & b }\n"
      "permit \"b\" when { 5ms > x }\n"
      "permit \"c\" when { \xC3\xA9 }\n"
      "permit \"d\";\n"
      "/* never closed\n"
      "permit \"e\";\n");
  EXPECT_EQ(Messages(parsed->diagnostics),
            (std::vector<std::string>{
                "1:21: unexpected character '&'; write 'and' or '&&'",
                "2:19: invalid number '5ms': digits may be followed only by "
                "one duration unit, s, m, h or d",
                "3:19: unexpected non-ASCII text '\xC3\xA9' outside a string "
                "literal",
                "5:1: missing '*/' to close the block comment"}));
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  EXPECT_EQ(parsed->ast.policies[0].id, "d");
}

TEST(Parser, NestingWithinLimit) {
  const std::string parens = std::string(64, '(') + "x" + std::string(64, ')');
  auto parsed = Parse(absl::StrCat("const A = ", parens, "\n",
                                   "const B = ", std::string(63, '-'), "x\n"));
  EXPECT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  EXPECT_EQ(parsed->ast.constants.size(), 2u);

  // 64 operands of 'or' make a tree 64 levels deep.
  std::vector<std::string> operands(64, "x");
  parsed = Parse(absl::StrCat("const C = ", absl::StrJoin(operands, " or ")));
  EXPECT_FALSE(parsed->diagnostics.has_errors());
  EXPECT_EQ(parsed->ast.constants.size(), 1u);
}

TEST(Parser, TooDeepNestingIsRejectedBeforeParsing) {
  const int depth = 100000;
  const std::string parens =
      std::string(depth, '(') + "x" + std::string(depth, ')');
  auto parsed = Parse(absl::StrCat("permit \"ok\";\nconst A = ", parens));
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{
                "2:75: expression nesting depth 100000 exceeds the limit of "
                "64; the file was not parsed further. Remove levels of "
                "brackets, 'not' or negation"});
  EXPECT_TRUE(parsed->ast.policies.empty());

  std::string nots;
  for (int i = 0; i < depth; ++i) nots += "not ";
  parsed = Parse(absl::StrCat("permit \"p\" when { ", nots, "x }"));
  ASSERT_EQ(parsed->diagnostics.error_count(), 1u);
  EXPECT_NE(parsed->diagnostics.all()[0].message.find("depth 100000"),
            std::string::npos);

  parsed = Parse(absl::StrCat("const M = ", std::string(depth, '-'), "5"));
  EXPECT_EQ(parsed->diagnostics.error_count(), 1u);
}

TEST(Parser, TooDeepTreeFromChains) {
  std::vector<std::string> operands(65, "x");
  auto parsed = Parse(absl::StrCat("permit \"p\" when { ",
                                   absl::StrJoin(operands, " and "), " }\n",
                                   "permit \"q\";"));
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{
                "1:19: expression nesting depth 65 exceeds the limit of 64; "
                "each operand of a chain of 'or', 'and', '+', '-' or method "
                "calls nests one level deeper. Split the chain, for example "
                "into a set test with 'in'"});
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  EXPECT_EQ(parsed->ast.policies[0].id, "q");

  // A chain long enough to fill the size limit is measured without being
  // built, so neither building nor destroying it recurses deeply.
  operands.assign(150000, "x");
  parsed = Parse(absl::StrCat("const C = ", absl::StrJoin(operands, "+")));
  ASSERT_EQ(parsed->diagnostics.error_count(), 1u);
  EXPECT_NE(parsed->diagnostics.all()[0].message.find("depth 150000"),
            std::string::npos);
}

TEST(Parser, OversizedSource) {
  const size_t limit = size_t{1} << 20;
  std::string text = "permit \"a\"; //";
  text.resize(limit, 'x');
  auto parsed = Parse(text);
  EXPECT_FALSE(parsed->diagnostics.has_errors());
  EXPECT_EQ(parsed->ast.policies.size(), 1u);

  text.push_back('x');
  parsed = Parse(text);
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{
                "1:1: source file is 1048577 bytes, larger than the limit of "
                "1048576 bytes (1 MiB); split it into several files"});
  EXPECT_TRUE(parsed->ast.policies.empty());
}

TEST(Parser, CrLfLineEndingsAndTabs) {
  auto parsed = Parse("permit \"a\" when {\r\n\tx ==\r\n\t\"y\"\r\n}\r\n");
  ASSERT_EQ(parsed->ast.policies.size(), 1u);
  const Expr& compare = *parsed->ast.policies[0].condition;
  EXPECT_EQ(SpanText(compare.span), "2:2-3:5");
  EXPECT_EQ(compare.children[1]->string_value, "y");
}

TEST(Parser, ByteOrderMarkIsSkipped) {
  auto parsed = Parse("\xEF\xBB\xBFpermit \"a\";");
  EXPECT_FALSE(parsed->diagnostics.has_errors())
      << parsed->diagnostics.Render();
  EXPECT_EQ(parsed->ast.policies.size(), 1u);

  parsed = Parse("permit \"a\"; \xEF\xBB\xBF");
  EXPECT_EQ(Messages(parsed->diagnostics),
            std::vector<std::string>{"1:13: unexpected non-ASCII text "
                                     "'\xEF\xBB\xBF' outside a string "
                                     "literal"});
}

TEST(Parser, GarbageNeverThrows) {
  const std::vector<std::string> pieces = {"permit",
                                           "forbid",
                                           "schema",
                                           "const",
                                           "when",
                                           "\"s\"",
                                           "x",
                                           ".",
                                           "(",
                                           ")",
                                           "{",
                                           "}",
                                           "[",
                                           "]",
                                           "==",
                                           "and",
                                           "or",
                                           "not",
                                           "-",
                                           "5m",
                                           "9",
                                           "has",
                                           "in",
                                           ",",
                                           ";",
                                           ":",
                                           "?",
                                           "=",
                                           "set",
                                           "<",
                                           ">",
                                           "\"",
                                           "/*",
                                           "#",
                                           "\n",
                                           "\xC3",
                                           "99999999999999999999"};
  std::mt19937 random(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 30);
    for (int i = 0; i < length; ++i) {
      absl::StrAppend(&text, pieces[random() % pieces.size()], " ");
    }
    SourceFile source("fuzz.verdict", text);
    Diagnostics diagnostics;
    EXPECT_NO_THROW(ParseFile(source, diagnostics)) << text;
    // Rendering reads every span back out of the source.
    EXPECT_NO_THROW(diagnostics.Render()) << text;
  }
}

TEST(Parser, ConcurrentParsesOfDistinctSources) {
  const std::string text =
      "schema subject { id: string roles: set<string> }\n"
      "permit \"p\" when { subject.id.startsWith(\"a\") and not "
      "(\"admin\" in subject.roles) or x has y }\n"
      "permit \"bad\" when { a == }\n";
  const auto expected = Parse(text);
  const std::string expected_render = expected->diagnostics.Render();
  const std::string expected_tree =
      ToSExpr(*expected->ast.policies.at(0).condition);

  std::vector<std::string> renders(4);
  std::vector<std::string> trees(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto parsed = Parse(text);
        renders[t] = parsed->diagnostics.Render();
        trees[t] = ToSExpr(*parsed->ast.policies.at(0).condition);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(renders[t], expected_render);
    EXPECT_EQ(trees[t], expected_tree);
  }
}

TEST(Diagnostics, RenderFormat) {
  SourceFile source("policies/todo.verdict",
                    "permit \"x\" when {\n"
                    "  action.name == \"x\"\n"
                    "  and subject.rolez\n"
                    "}\n");
  Diagnostics diagnostics;
  diagnostics.Error({&source, 3, 7, 3, 20},
                    "unknown attribute 'subject.rolez'");
  diagnostics.Warning({&source, 1, 1, 1, 7}, "policy is never used");
  EXPECT_EQ(diagnostics.Render(),
            "policies/todo.verdict:3:7: error: unknown attribute "
            "'subject.rolez'\n"
            "    and subject.rolez\n"
            "        ^~~~~~~~~~~~~\n"
            "policies/todo.verdict:1:1: warning: policy is never used\n"
            "  permit \"x\" when {\n"
            "  ^~~~~~\n");
  EXPECT_EQ(diagnostics.error_count(), 1u);
  EXPECT_TRUE(diagnostics.has_errors());
}

TEST(Diagnostics, RenderParserError) {
  auto parsed = Parse("permit \"a\" when {\n  x ==\n}\n");
  EXPECT_EQ(parsed->diagnostics.Render(),
            "test.verdict:3:1: error: expected an expression, found '}'\n"
            "  }\n"
            "  ^\n");
}

TEST(Diagnostics, RenderSpecialSpans) {
  SourceFile source("a.verdict", "x\tabc\ndef\n");
  // Without a file there is no position to show.
  EXPECT_EQ(RenderDiagnostic({Severity::kError, Span{}, "lost"}),
            "<unknown>: error: lost\n");
  // Tabs before the column are copied so that the caret lines up.
  EXPECT_EQ(RenderDiagnostic({Severity::kError, {&source, 1, 3, 1, 6}, "m"}),
            "a.verdict:1:3: error: m\n  x\tabc\n   \t^~~\n");
  // A span over several lines gets a caret only.
  EXPECT_EQ(RenderDiagnostic({Severity::kError, {&source, 1, 3, 2, 2}, "m"}),
            "a.verdict:1:3: error: m\n  x\tabc\n   \t^\n");
  // A zero-width span, as at the end of a line, still gets a caret.
  EXPECT_EQ(RenderDiagnostic({Severity::kError, {&source, 2, 4, 2, 4}, "m"}),
            "a.verdict:2:4: error: m\n  def\n     ^\n");
}

TEST(SourceFile, Lines) {
  SourceFile source("a.verdict", "one\r\ntwo\n\nfour");
  EXPECT_EQ(source.Line(1), "one");
  EXPECT_EQ(source.Line(2), "two");
  EXPECT_EQ(source.Line(3), "");
  EXPECT_EQ(source.Line(4), "four");
  EXPECT_EQ(source.Line(5), "");
  EXPECT_EQ(source.Line(0), "");
  EXPECT_EQ(source.path(), "a.verdict");
}

TEST(TypeName, EveryType) {
  EXPECT_EQ(TypeName(Type::kBool), "bool");
  EXPECT_EQ(TypeName(Type::kInt), "int");
  EXPECT_EQ(TypeName(Type::kString), "string");
  EXPECT_EQ(TypeName(Type::kStringSet), "set<string>");
  EXPECT_EQ(TypeName(Type::kStringList), "list<string>");
  EXPECT_EQ(TypeName(Type::kTimestamp), "timestamp");
  EXPECT_EQ(TypeName(Type::kDuration), "duration");
}

}  // namespace
}  // namespace verdict::compiler
