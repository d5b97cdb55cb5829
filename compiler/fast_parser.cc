#include "compiler/fast_parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/fast_lexer.h"
#include "compiler/parser_internal.h"

namespace verdict::compiler {
namespace {

// Policy sets nested deeper than this are left to the ANTLR parser, so that
// this parser's recursion stays bounded. NestingWithinLimit does not count
// braces.
constexpr int kMaxPolicySetDepth = 64;

// A recursive-descent parser over the rules of grammar/Verdict.g4. Each
// rule is one method, and expression rules are loops where the grammar's
// are, so binary operators nest to the left as in AstBuilder (parser.cc).
// Every AstBuilder check that reports a diagnostic is a failure here.
//
// After a failure `ok_` is false, every method returns at once, and the
// partial AST is discarded.
class Parser {
 public:
  Parser(const SourceFile& source, const std::vector<Token>& tokens)
      : source_(source), tokens_(tokens) {}

  bool ParseFile(FileAst& ast);

 private:
  // An expression with the first and last token of its grammar rule, which
  // the spans of enclosing expressions reach to. For `(a or b)` they are the
  // parentheses, while the span of the kOr expression covers `a or b`.
  // `depth` counts nodes from this one to its deepest leaf.
  struct Node {
    std::unique_ptr<Expr> expr;
    int depth = 1;
    size_t first = 0;
    size_t last = 0;
  };

  // Declarations.
  void ParseModule(FileAst& ast);
  void ParseSchema(FileAst& ast);
  void ParseAttribute(SchemaDecl& schema);
  std::optional<Type> ParseType();
  void ParseConst(FileAst& ast);
  std::optional<PolicyDecl> ParsePolicy();
  void ParsePolicySet(int parent, int depth, FileAst& ast);
  void ParseDuty(PolicyDecl& policy);

  // Expressions, from the lowest precedence to the highest.
  std::unique_ptr<Expr> ParseTopLevelExpr();
  Node ParseOr();
  Node ParseAnd();
  Node ParseNot();
  Node ParseComparison();
  Node ParseHas(Node subject);
  Node ParseAdditive();
  Node ParseUnary();
  Node ParsePostfix();
  Node ParsePrimary();
  Node ParseIdentPrimary();
  Node ParseName();
  Node ParseCall();
  Node ParseCollection();
  bool ParseArguments(std::vector<Node>& arguments);

  // Literals.
  Node Leaf(ExprKind kind, size_t first, size_t last);
  Node ParseNumber(std::optional<size_t> minus);
  std::optional<std::string> DecodeString(size_t index);

  Node Combine(ExprKind kind, size_t first, size_t last,
               std::vector<Node>& children);
  Node Binary(ExprKind kind, Node left, Node right);

  // Token access.
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  bool At(TokenType type) const { return Peek().type == type; }
  bool Accept(TokenType type) {
    if (!At(type)) return false;
    ++pos_;
    return true;
  }
  // Consumes a token of `type` and returns its index, or fails.
  size_t Expect(TokenType type) {
    if (!Accept(type)) ok_ = false;
    return pos_ - 1;
  }
  std::string_view Text(size_t index) const {
    const Token& token = tokens_[index];
    return std::string_view(source_.text()).substr(token.offset, token.length);
  }
  Span SpanOf(size_t first, size_t last) const {
    const Token& start = tokens_[first];
    const Token& stop = tokens_[last];
    return {&source_, start.line, start.column, stop.line,
            stop.column + stop.length};
  }
  Node Fail() {
    ok_ = false;
    return {};
  }

  const SourceFile& source_;
  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------
// Declarations

bool Parser::ParseFile(FileAst& ast) {
  if (At(TokenType::kModule)) ParseModule(ast);
  while (ok_ && !At(TokenType::kEnd)) {
    switch (Peek().type) {
      case TokenType::kSchema:
        ParseSchema(ast);
        break;
      case TokenType::kConst:
        ParseConst(ast);
        break;
      case TokenType::kPermit:
      case TokenType::kForbid: {
        std::optional<PolicyDecl> policy = ParsePolicy();
        if (!ok_) break;
        policy->order =
            static_cast<uint32_t>(ast.policies.size() + ast.policy_sets.size());
        ast.policies.push_back(*std::move(policy));
        break;
      }
      case TokenType::kPolicySet:
        ParsePolicySet(-1, 1, ast);
        break;
      default:
        ok_ = false;
    }
  }
  return ok_;
}

// `module a::b;`. The module name is the text of its tokens without the
// space and comments between them, as ANTLR's getText() returns it.
void Parser::ParseModule(FileAst& ast) {
  ++pos_;
  const size_t first = Expect(TokenType::kIdent);
  while (ok_ && Accept(TokenType::kColonColon)) Expect(TokenType::kIdent);
  const size_t last = pos_ - 1;
  Expect(TokenType::kSemi);
  if (!ok_) return;
  for (size_t i = first; i <= last; ++i) ast.module.append(Text(i));
  ast.module_span = SpanOf(first, last);
}

void Parser::ParseSchema(FileAst& ast) {
  ++pos_;
  SchemaDecl schema;
  const size_t group = Expect(TokenType::kIdent);
  if (!ok_) return;
  schema.group = std::string(Text(group));
  schema.span = SpanOf(group, group);
  if (Accept(TokenType::kFrom)) {
    const size_t data_set = Expect(TokenType::kIdent);
    if (!ok_) return;
    schema.data_set = std::string(Text(data_set));
    schema.data_span = SpanOf(data_set, data_set);
  }
  Expect(TokenType::kLBrace);
  while (ok_ && !At(TokenType::kRBrace)) {
    ParseAttribute(schema);
    Accept(TokenType::kComma);
  }
  Expect(TokenType::kRBrace);
  if (ok_) ast.schemas.push_back(std::move(schema));
}

// `tcb.snp?: int`. A reserved word in the path is an AstBuilder error.
void Parser::ParseAttribute(SchemaDecl& schema) {
  SchemaAttribute attribute;
  const size_t first = Expect(TokenType::kIdent);
  if (!ok_) return;
  attribute.name = std::string(Text(first));
  while (ok_ && Accept(TokenType::kDot)) {
    const size_t part = Expect(TokenType::kIdent);
    if (!ok_) return;
    attribute.name.push_back('.');
    attribute.name.append(Text(part));
  }
  attribute.span = SpanOf(first, pos_ - 1);
  attribute.optional = Accept(TokenType::kQuestion);
  Expect(TokenType::kColon);
  if (!ok_) return;
  const std::optional<Type> type = ParseType();
  if (!type.has_value()) {
    ok_ = false;
    return;
  }
  attribute.type = *type;
  schema.attributes.push_back(std::move(attribute));
}

// Returns the type, or nullopt for any type that AstBuilder rejects: an
// unknown name, or a set or list of anything but strings.
std::optional<Type> Parser::ParseType() {
  const TokenType type = Peek().type;
  ++pos_;
  switch (type) {
    case TokenType::kBool:
      return Type::kBool;
    case TokenType::kInt:
      return Type::kInt;
    case TokenType::kString:
      return Type::kString;
    case TokenType::kTimestamp:
      return Type::kTimestamp;
    case TokenType::kDuration:
      return Type::kDuration;
    case TokenType::kSet:
    case TokenType::kList:
      Expect(TokenType::kLt);
      Expect(TokenType::kString);
      Expect(TokenType::kGt);
      if (!ok_) return std::nullopt;
      return type == TokenType::kSet ? Type::kStringSet : Type::kStringList;
    case TokenType::kIdent: {
      const std::string_view name = Text(pos_ - 1);
      if (name == "ip") return Type::kIp;
      if (name == "cidr") return Type::kCidr;
      if (name == "decimal") return Type::kDecimal;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

void Parser::ParseConst(FileAst& ast) {
  ++pos_;
  ConstDecl constant;
  const size_t name = Expect(TokenType::kIdent);
  Expect(TokenType::kAssign);
  if (!ok_) return;
  constant.name = std::string(Text(name));
  constant.span = SpanOf(name, name);
  constant.value = ParseTopLevelExpr();
  if (ok_) ast.constants.push_back(std::move(constant));
}

// `permit "id" (from data_set)? (when { expr } duty* | duty+ | ;)`. The
// caller sets `set` and `order`.
std::optional<PolicyDecl> Parser::ParsePolicy() {
  PolicyDecl policy;
  const size_t effect = pos_++;
  policy.effect = tokens_[effect].type == TokenType::kForbid ? Effect::kForbid
                                                             : Effect::kPermit;
  const size_t id = Expect(TokenType::kStringLiteral);
  if (!ok_) return std::nullopt;
  policy.span = SpanOf(effect, id);
  policy.id_span = SpanOf(id, id);
  std::optional<std::string> decoded_id = DecodeString(id);
  if (!decoded_id.has_value()) return std::nullopt;
  policy.id = *std::move(decoded_id);

  if (Accept(TokenType::kFrom)) {
    const size_t data_set = Expect(TokenType::kIdent);
    if (!ok_) return std::nullopt;
    policy.link_data_set = std::string(Text(data_set));
    policy.link_span = SpanOf(data_set, data_set);
  }

  const auto at_duty = [this] {
    return At(TokenType::kObligation) || At(TokenType::kAdvice);
  };
  if (Accept(TokenType::kWhen)) {
    Expect(TokenType::kLBrace);
    if (!ok_) return std::nullopt;
    policy.condition = ParseTopLevelExpr();
    Expect(TokenType::kRBrace);
  } else if (!at_duty()) {
    Expect(TokenType::kSemi);
  }
  while (ok_ && at_duty()) ParseDuty(policy);
  if (!ok_) return std::nullopt;
  return policy;
}

// `policyset "id" algorithm? { (policy | policyset)* }`. Adds the set, then
// its members in source order, to `ast`.
void Parser::ParsePolicySet(int parent, int depth, FileAst& ast) {
  if (depth > kMaxPolicySetDepth) {
    ok_ = false;
    return;
  }
  PolicySetDecl set;
  const size_t keyword = pos_++;
  const size_t id = Expect(TokenType::kStringLiteral);
  if (!ok_) return;
  set.span = SpanOf(keyword, id);
  set.set = parent;
  set.order =
      static_cast<uint32_t>(ast.policies.size() + ast.policy_sets.size());
  std::optional<std::string> decoded = DecodeString(id);
  if (!decoded.has_value()) return;
  set.id = *std::move(decoded);

  if (At(TokenType::kIdent)) {
    const std::string_view name = Text(pos_++);
    if (name == "permit_overrides") {
      set.algorithm = CombiningAlgorithm::kPermitOverrides;
    } else if (name == "first_applicable") {
      set.algorithm = CombiningAlgorithm::kFirstApplicable;
    } else if (name != "deny_overrides") {
      ok_ = false;
      return;
    }
  }
  Expect(TokenType::kLBrace);
  if (!ok_) return;

  const int index = static_cast<int>(ast.policy_sets.size());
  ast.policy_sets.push_back(std::move(set));
  while (ok_ && !At(TokenType::kRBrace)) {
    if (At(TokenType::kPolicySet)) {
      ParsePolicySet(index, depth + 1, ast);
      continue;
    }
    if (!At(TokenType::kPermit) && !At(TokenType::kForbid)) {
      ok_ = false;
      return;
    }
    std::optional<PolicyDecl> policy = ParsePolicy();
    if (!ok_) return;
    policy->set = index;
    policy->order =
        static_cast<uint32_t>(ast.policies.size() + ast.policy_sets.size());
    ast.policies.push_back(*std::move(policy));
  }
  Expect(TokenType::kRBrace);
}

// `obligation "name" { field: expr, ... }`: commas between fields are
// optional.
void Parser::ParseDuty(PolicyDecl& policy) {
  DutyDecl duty;
  const size_t kind = pos_++;
  duty.advice = tokens_[kind].type == TokenType::kAdvice;
  const size_t name = Expect(TokenType::kStringLiteral);
  if (!ok_) return;
  duty.span = SpanOf(kind, name);
  std::optional<std::string> decoded = DecodeString(name);
  if (!decoded.has_value()) return;
  duty.name = *std::move(decoded);
  Expect(TokenType::kLBrace);
  while (ok_ && !At(TokenType::kRBrace)) {
    const size_t field = Expect(TokenType::kIdent);
    Expect(TokenType::kColon);
    if (!ok_) return;
    std::unique_ptr<Expr> value = ParseTopLevelExpr();
    if (!ok_) return;
    duty.fields.emplace_back(Text(field), std::move(value));
    Accept(TokenType::kComma);
  }
  Expect(TokenType::kRBrace);
  if (ok_) policy.duties.push_back(std::move(duty));
}

// ---------------------------------------------------------------------------
// Expressions

std::unique_ptr<Expr> Parser::ParseTopLevelExpr() {
  Node node = ParseOr();
  if (!ok_) return nullptr;
  return std::move(node.expr);
}

// Returns `kind` over `children`, spanning tokens [first, last]. Fails when
// the result nests past kMaxNestingDepth, which AstBuilder reports.
Parser::Node Parser::Combine(ExprKind kind, size_t first, size_t last,
                             std::vector<Node>& children) {
  Node node;
  node.first = first;
  node.last = last;
  node.expr = std::make_unique<Expr>();
  node.expr->kind = kind;
  node.expr->span = SpanOf(first, last);
  node.expr->children.reserve(children.size());
  for (Node& child : children) {
    node.depth = std::max(node.depth, child.depth + 1);
    node.expr->children.push_back(std::move(child.expr));
  }
  if (node.depth > kMaxNestingDepth) return Fail();
  return node;
}

// Binary operators span from the first token of the left operand's rule to
// the last of the right's, as AstBuilder spans them.
Parser::Node Parser::Binary(ExprKind kind, Node left, Node right) {
  const size_t first = left.first;
  const size_t last = right.last;
  std::vector<Node> children;
  children.reserve(2);
  children.push_back(std::move(left));
  children.push_back(std::move(right));
  return Combine(kind, first, last, children);
}

// `a or b or c` nests to the left: ((a or b) or c). The same holds for
// 'and', '+' and '-'.
Parser::Node Parser::ParseOr() {
  Node result = ParseAnd();
  while (ok_ && (At(TokenType::kOr) || At(TokenType::kOrOr))) {
    ++pos_;
    Node right = ParseAnd();
    if (!ok_) return {};
    result = Binary(ExprKind::kOr, std::move(result), std::move(right));
  }
  return result;
}

Parser::Node Parser::ParseAnd() {
  Node result = ParseNot();
  while (ok_ && (At(TokenType::kAnd) || At(TokenType::kAndAnd))) {
    ++pos_;
    Node right = ParseNot();
    if (!ok_) return {};
    result = Binary(ExprKind::kAnd, std::move(result), std::move(right));
  }
  return result;
}

Parser::Node Parser::ParseNot() {
  if (!At(TokenType::kNot) && !At(TokenType::kBang)) return ParseComparison();
  const size_t first = pos_++;
  std::vector<Node> operand;
  operand.push_back(ParseNot());
  if (!ok_) return {};
  const size_t last = operand[0].last;
  return Combine(ExprKind::kNot, first, last, operand);
}

// At most one comparison: `a == b == c` does not parse, and the caller
// fails at the second operator.
Parser::Node Parser::ParseComparison() {
  Node left = ParseAdditive();
  if (!ok_) return {};
  const TokenType op = Peek().type;
  ExprKind kind = ExprKind::kCompare;
  CompareOp compare_op = CompareOp::kEq;
  switch (op) {
    case TokenType::kEq:
      break;
    case TokenType::kNe:
      compare_op = CompareOp::kNe;
      break;
    case TokenType::kLt:
      compare_op = CompareOp::kLt;
      break;
    case TokenType::kLe:
      compare_op = CompareOp::kLe;
      break;
    case TokenType::kGt:
      compare_op = CompareOp::kGt;
      break;
    case TokenType::kGe:
      compare_op = CompareOp::kGe;
      break;
    case TokenType::kIn:
      kind = ExprKind::kIn;
      break;
    case TokenType::kLike:
      kind = ExprKind::kLike;
      break;
    case TokenType::kHas:
      ++pos_;
      return ParseHas(std::move(left));
    default:
      return left;
  }

  ++pos_;
  Node right = ParseAdditive();
  if (!ok_) return {};
  Node result = Binary(kind, std::move(left), std::move(right));
  if (ok_) result.expr->compare_op = compare_op;
  return result;
}

// `subject has tcb.snp`, after 'has'. The left side must be a name.
Parser::Node Parser::ParseHas(Node subject) {
  if (subject.expr->kind != ExprKind::kName) return Fail();
  const size_t head = Expect(TokenType::kIdent);
  if (!ok_) return {};
  std::string path(Text(head));
  while (ok_ && Accept(TokenType::kDot)) {
    const size_t part = Expect(TokenType::kIdent);
    if (!ok_) return {};
    path.push_back('.');
    path.append(Text(part));
  }
  if (!ok_) return {};
  const size_t first = subject.first;
  std::vector<Node> children;
  children.push_back(std::move(subject));
  Node has = Combine(ExprKind::kHas, first, pos_ - 1, children);
  if (ok_) has.expr->has_path = std::move(path);
  return has;
}

Parser::Node Parser::ParseAdditive() {
  Node result = ParseUnary();
  while (ok_ && (At(TokenType::kPlus) || At(TokenType::kMinus))) {
    const ExprKind kind =
        At(TokenType::kPlus) ? ExprKind::kAdd : ExprKind::kSubtract;
    ++pos_;
    Node right = ParseUnary();
    if (!ok_) return {};
    result = Binary(kind, std::move(result), std::move(right));
  }
  return result;
}

// A minus sign directly before an integer or duration literal on which no
// method is called is folded into one negative literal, as in AstBuilder:
// that is how -9223372036854775808 is written. A '.' after the literal
// starts a method call.
Parser::Node Parser::ParseUnary() {
  if (!At(TokenType::kMinus)) return ParsePostfix();
  const size_t minus = pos_++;
  const TokenType next = Peek().type;
  if ((next == TokenType::kIntLiteral || next == TokenType::kDurationLiteral) &&
      Peek(1).type != TokenType::kDot) {
    return ParseNumber(minus);
  }
  std::vector<Node> operand;
  operand.push_back(ParseUnary());
  if (!ok_) return {};
  const size_t last = operand[0].last;
  return Combine(ExprKind::kNegate, minus, last, operand);
}

// `primary.method(args).method(args)`: each call spans from the primary.
Parser::Node Parser::ParsePostfix() {
  Node result = ParsePrimary();
  while (ok_ && At(TokenType::kDot)) {
    ++pos_;
    const size_t method = Expect(TokenType::kIdent);
    std::vector<Node> children;
    children.push_back(std::move(result));
    if (!ok_ || !ParseArguments(children)) return Fail();
    const size_t first = children[0].first;
    result = Combine(ExprKind::kMethodCall, first, pos_ - 1, children);
    if (ok_) result.expr->method = std::string(Text(method));
  }
  return result;
}

Parser::Node Parser::ParsePrimary() {
  const size_t first = pos_;
  switch (Peek().type) {
    case TokenType::kTrue:
    case TokenType::kFalse: {
      Node node = Leaf(ExprKind::kBoolLiteral, first, first);
      node.expr->bool_value = Peek().type == TokenType::kTrue;
      ++pos_;
      return node;
    }
    case TokenType::kIntLiteral:
    case TokenType::kDurationLiteral:
      return ParseNumber(std::nullopt);
    case TokenType::kStringLiteral: {
      std::optional<std::string> value = DecodeString(pos_++);
      if (!value.has_value()) return Fail();
      Node node = Leaf(ExprKind::kStringLiteral, first, first);
      node.expr->string_value = *std::move(value);
      return node;
    }
    case TokenType::kLBracket:
      return ParseCollection();
    case TokenType::kLParen: {
      ++pos_;
      Node inner = ParseOr();
      Expect(TokenType::kRParen);
      if (!ok_) return {};
      inner.first = first;
      inner.last = pos_ - 1;
      return inner;
    }
    case TokenType::kQuestion: {
      ++pos_;
      const size_t name = Expect(TokenType::kIdent);
      if (!ok_) return {};
      Node node = Leaf(ExprKind::kPlaceholder, first, name);
      node.expr->string_value = std::string(Text(name));
      return node;
    }
    case TokenType::kTimestamp:
    case TokenType::kDuration:
      if (Peek(1).type != TokenType::kLParen) return Fail();
      return ParseCall();
    case TokenType::kIdent:
      return ParseIdentPrimary();
    default:
      return Fail();
  }
}

// A primary that starts with a name: a call `ip("...")`, an entity
// `Group::"eng"`, a qualified constant `payments::LIMIT` or a name.
Parser::Node Parser::ParseIdentPrimary() {
  const size_t first = pos_;
  if (Peek(1).type == TokenType::kLParen) return ParseCall();
  if (Peek(1).type != TokenType::kColonColon) return ParseName();
  if (Peek(2).type == TokenType::kStringLiteral) {
    pos_ += 3;
    std::optional<std::string> id = DecodeString(first + 2);
    if (!id.has_value()) return Fail();
    Node node = Leaf(ExprKind::kEntityRef, first, first + 2);
    node.expr->path.emplace_back(Text(first));
    node.expr->string_value = *std::move(id);
    return node;
  }
  if (Peek(2).type != TokenType::kIdent) return Fail();
  pos_ += 3;
  while (At(TokenType::kColonColon) && Peek(1).type == TokenType::kIdent) {
    pos_ += 2;
  }
  // The qualified name is one path element: the text of its tokens without
  // space or comments, as ANTLR's getText() returns it.
  Node node = Leaf(ExprKind::kName, first, pos_ - 1);
  std::string& text = node.expr->path.emplace_back();
  for (size_t i = first; i < pos_; ++i) text.append(Text(i));
  return node;
}

// `a.b.c`. The name stops before a `.f` that '(' follows: that is a method
// call on the name.
Parser::Node Parser::ParseName() {
  const size_t first = pos_++;
  Node node = Leaf(ExprKind::kName, first, first);
  node.expr->path.emplace_back(Text(first));
  while (At(TokenType::kDot) && Peek(2).type != TokenType::kLParen) {
    if (Peek(1).type != TokenType::kIdent) return Fail();
    node.expr->path.emplace_back(Text(pos_ + 1));
    pos_ += 2;
  }
  node.last = pos_ - 1;
  node.expr->span = SpanOf(first, node.last);
  return node;
}

// `callee(args)`, where the callee is a name, `timestamp` or `duration`.
Parser::Node Parser::ParseCall() {
  const size_t callee = pos_++;
  std::vector<Node> arguments;
  if (!ParseArguments(arguments)) return Fail();
  Node call = Combine(ExprKind::kCall, callee, pos_ - 1, arguments);
  if (ok_) call.expr->method = std::string(Text(callee));
  return call;
}

// Parses `(expr, ...)` at '(' and appends the arguments. Returns false on
// failure.
bool Parser::ParseArguments(std::vector<Node>& arguments) {
  Expect(TokenType::kLParen);
  if (ok_ && !At(TokenType::kRParen)) {
    do {
      arguments.push_back(ParseOr());
    } while (ok_ && Accept(TokenType::kComma));
  }
  Expect(TokenType::kRParen);
  return ok_;
}

// `[a, b, c]`, with an optional trailing comma.
Parser::Node Parser::ParseCollection() {
  const size_t first = pos_++;
  std::vector<Node> elements;
  while (ok_ && !At(TokenType::kRBracket)) {
    elements.push_back(ParseOr());
    if (!ok_ || !Accept(TokenType::kComma)) break;
  }
  Expect(TokenType::kRBracket);
  if (!ok_) return {};
  return Combine(ExprKind::kCollectionLiteral, first, pos_ - 1, elements);
}

// ---------------------------------------------------------------------------
// Literals

Parser::Node Parser::Leaf(ExprKind kind, size_t first, size_t last) {
  Node node;
  node.first = first;
  node.last = last;
  node.expr = std::make_unique<Expr>();
  node.expr->kind = kind;
  node.expr->span = SpanOf(first, last);
  return node;
}

// Parses the integer or duration literal at `pos_`, negated when `minus`
// is the index of the sign before it. Fails past the int64 range.
Parser::Node Parser::ParseNumber(std::optional<size_t> minus) {
  const size_t literal = pos_++;
  const std::string_view text = Text(literal);
  const bool is_duration = tokens_[literal].type == TokenType::kDurationLiteral;
  const std::string_view digits =
      is_duration ? text.substr(0, text.size() - 1) : text;
  const uint64_t unit = is_duration ? DurationUnitSeconds(text.back()) : 1;
  // A negative value may reach one past INT64_MAX: -2^63.
  const uint64_t limit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
      (minus.has_value() ? 1 : 0);
  const std::optional<uint64_t> magnitude = ParseMagnitude(digits, unit, limit);
  if (!magnitude.has_value()) return Fail();
  Node node =
      Leaf(is_duration ? ExprKind::kDurationLiteral : ExprKind::kIntLiteral,
           minus.value_or(literal), literal);
  // 0 - magnitude in uint64 arithmetic wraps to the two's complement value,
  // which is exact for every magnitude up to 2^63.
  node.expr->int_value = static_cast<int64_t>(
      minus.has_value() ? uint64_t{0} - *magnitude : *magnitude);
  return node;
}

// Returns the value of the string literal token at `index`, or fails on an
// invalid escape or byte.
std::optional<std::string> Parser::DecodeString(size_t index) {
  const std::string_view text = Text(index);
  StringError error;
  std::optional<std::string> value =
      DecodeStringBody(text.substr(1, text.size() - 2), error);
  if (!value.has_value()) ok_ = false;
  return value;
}

}  // namespace

std::optional<FileAst> ParseFileFast(const SourceFile& source) {
  if (source.text().size() > kMaxSourceBytes) return std::nullopt;
  std::vector<Token> tokens;
  if (!Tokenize(source.text(), tokens) || !NestingWithinLimit(tokens)) {
    return std::nullopt;
  }
  FileAst ast;
  ast.source = &source;
  Parser parser(source, tokens);
  if (!parser.ParseFile(ast)) return std::nullopt;
  return ast;
}

}  // namespace verdict::compiler
