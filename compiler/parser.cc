#include "compiler/parser.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "VerdictLexer.h"
#include "VerdictParser.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "antlr4-runtime.h"
#include "compiler/fast_parser.h"
#include "compiler/parser_internal.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace {

using antlr4::Token;
using verdict_grammar::VerdictLexer;
using verdict_grammar::VerdictParser;

// ---------------------------------------------------------------------------
// Input and tokens

// An ANTLR character stream with one character per source byte. The stock
// ANTLRInputStream decodes UTF-8, which would make ANTLR's indices and columns
// count code points, while spans count bytes. Every token of the grammar is
// ASCII, so a byte >= 0x80 matters only inside strings and comments. Token
// text is therefore read from the source by index (TokenText), never with
// Token::getText(), which would re-encode those bytes.
class ByteStream : public antlr4::ANTLRInputStream {
 public:
  explicit ByteStream(std::string_view bytes) {
    _data.reserve(bytes.size());
    for (const char byte : bytes) {
      _data.push_back(static_cast<unsigned char>(byte));
    }
  }
};

// Returns the source text of `token`, or "" for EOF and for tokens that the
// parser invented while recovering from an error.
std::string_view TokenText(const SourceFile& source, const Token* token) {
  const size_t start = token->getStartIndex();
  const size_t stop = token->getStopIndex();
  if (start == INVALID_INDEX || stop == INVALID_INDEX || stop < start ||
      stop >= source.text().size()) {
    return {};
  }
  return std::string_view(source.text()).substr(start, stop - start + 1);
}

// Returns the span from the start of `first` through the end of `last`.
Span SpanOf(const SourceFile& source, const Token* first, const Token* last) {
  Span span;
  span.file = &source;
  span.line = static_cast<uint32_t>(first->getLine());
  span.column = static_cast<uint32_t>(first->getCharPositionInLine() + 1);
  span.end_line = static_cast<uint32_t>(last->getLine());
  span.end_column = static_cast<uint32_t>(last->getCharPositionInLine() + 1);
  for (const char byte : TokenText(source, last)) {
    if (byte == '\n') {
      ++span.end_line;
      span.end_column = 1;
    } else {
      ++span.end_column;
    }
  }
  return span;
}

Span SpanOf(const SourceFile& source, const Token* token) {
  return SpanOf(source, token, token);
}

Span SpanOf(const SourceFile& source, antlr4::ParserRuleContext* context) {
  return SpanOf(source, context->getStart(), context->getStop());
}

// Returns a zero-width span just after `token`.
Span SpanAfter(const SourceFile& source, const Token* token) {
  Span span = SpanOf(source, token);
  span.line = span.end_line;
  span.column = span.end_column;
  return span;
}

bool IsOnDefaultChannel(const Token* token) {
  return token->getChannel() == Token::DEFAULT_CHANNEL;
}

// Returns the nearest token before `token` that the parser reads, or null.
const Token* PreviousToken(antlr4::TokenStream& tokens, const Token* token) {
  size_t index = token->getTokenIndex();
  if (index == INVALID_INDEX) return nullptr;
  while (index > 0) {
    --index;
    const Token* previous = tokens.get(index);
    if (IsOnDefaultChannel(previous)) return previous;
  }
  return nullptr;
}

// True for the tokens that can end an operand: after them a '-' subtracts.
bool EndsOperand(size_t type) {
  switch (type) {
    case VerdictLexer::IDENT:
    case VerdictLexer::INT_LIT:
    case VerdictLexer::DURATION_LIT:
    case VerdictLexer::STRING_LIT:
    case VerdictLexer::TRUE:
    case VerdictLexer::FALSE:
    case VerdictLexer::RPAREN:
    case VerdictLexer::RBRACKET:
      return true;
    default:
      return false;
  }
}

bool IsComparisonOperator(size_t type) {
  switch (type) {
    case VerdictLexer::EQ:
    case VerdictLexer::NE:
    case VerdictLexer::LT:
    case VerdictLexer::LE:
    case VerdictLexer::GT:
    case VerdictLexer::GE:
    case VerdictLexer::IN:
    case VerdictLexer::HAS:
      return true;
    default:
      return false;
  }
}

// True for the tokens that start a declaration or open or close its body.
// No expression contains them, so the parser has unwound any nesting there.
bool IsDeclarationBoundary(size_t type) {
  switch (type) {
    case VerdictLexer::SCHEMA:
    case VerdictLexer::POLICYSET:
    case VerdictLexer::CONST:
    case VerdictLexer::PERMIT:
    case VerdictLexer::FORBID:
    case VerdictLexer::LBRACE:
    case VerdictLexer::RBRACE:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Error bookkeeping

// Error records from the lexical check and the parser's error handling.
// They let ParseTokens leave every declaration with an error out of the AST.
struct ErrorMarks {
  // Indices of malformed tokens, reported before parsing.
  std::set<size_t> malformed_tokens;
  // Indices of tokens whose parser errors are a consequence of an error
  // already reported, such as the token after a hidden stray character.
  std::set<size_t> silenced_tokens;
  // Declarations in which the parser met an error.
  std::set<const antlr4::tree::ParseTree*> failed_declarations;
  // Set while the error strategy reports a closing or separating token that
  // is missing. When the found token is on a later line, the diagnostic then
  // points just after the token before it, where the missing one belongs.
  bool report_after_previous_token = false;
};

const antlr4::tree::ParseTree* EnclosingDeclaration(
    const antlr4::tree::ParseTree* node) {
  for (; node != nullptr; node = node->parent) {
    if (dynamic_cast<const VerdictParser::DeclarationContext*>(node)) {
      return node;
    }
  }
  return nullptr;
}

// True when `tree` contains a token that the parser skipped or invented, or
// a rule that an error cut short.
bool ContainsParseError(const antlr4::tree::ParseTree* tree) {
  if (dynamic_cast<const antlr4::tree::ErrorNode*>(tree) != nullptr) {
    return true;
  }
  const auto* rule = dynamic_cast<const antlr4::ParserRuleContext*>(tree);
  if (rule != nullptr && rule->exception != nullptr) return true;
  return std::any_of(tree->children.begin(), tree->children.end(),
                     ContainsParseError);
}

bool IsCleanDeclaration(VerdictParser::DeclarationContext* declaration,
                        const ErrorMarks& marks) {
  if (marks.failed_declarations.count(declaration) > 0) return false;
  const Token* start = declaration->getStart();
  const Token* stop = declaration->getStop();
  if (start == nullptr || stop == nullptr ||
      stop->getTokenIndex() < start->getTokenIndex()) {
    return false;
  }
  const auto malformed =
      marks.malformed_tokens.lower_bound(start->getTokenIndex());
  if (malformed != marks.malformed_tokens.end() &&
      *malformed <= stop->getTokenIndex()) {
    return false;
  }
  return !ContainsParseError(declaration);
}

// ---------------------------------------------------------------------------
// Checks on the token stream before parsing

// Returns the message for a malformed token, which the grammar's lexer
// emits instead of failing, so that each problem is named precisely.
std::string MalformedTokenMessage(size_t type, std::string_view text,
                                  bool at_end_of_file) {
  switch (type) {
    case VerdictLexer::BAD_NUMBER:
      return absl::StrCat("invalid number ", Quote(text),
                          ": digits may be followed only by one duration "
                          "unit, s, m, h or d");
    case VerdictLexer::UNTERMINATED_STRING:
      return absl::StrCat(
          "missing closing '\"' for the string literal before the end of the ",
          at_end_of_file ? "file" : "line",
          "; a string literal cannot span lines, so write a line break as "
          "\\n");
    case VerdictLexer::UNTERMINATED_COMMENT:
      return "missing '*/' to close the block comment";
    default:
      break;
  }
  if (static_cast<unsigned char>(text[0]) >= 0x80) {
    return absl::StrCat("unexpected non-ASCII text ", Quote(text),
                        " outside a string literal");
  }
  std::string message = absl::StrCat("unexpected character ", Quote(text));
  if (text == "&") absl::StrAppend(&message, "; write 'and' or '&&'");
  if (text == "|") absl::StrAppend(&message, "; write 'or' or '||'");
  if (text == "'") absl::StrAppend(&message, "; strings use double quotes");
  return message;
}

// True for a UTF-8 byte order mark at the start of the file, which some
// editors write and which is not an error.
bool IsByteOrderMark(const SourceFile& source, const Token& token) {
  return token.getType() == VerdictLexer::INVALID_CHAR &&
         token.getStartIndex() == 0 &&
         TokenText(source, &token) == "\xEF\xBB\xBF";
}

// Returns the index of the first token after `index` that the parser reads.
size_t NextDefaultToken(const std::vector<Token*>& tokens, size_t index) {
  for (size_t i = index + 1; i < tokens.size(); ++i) {
    if (IsOnDefaultChannel(tokens[i])) return i;
  }
  return tokens.size() - 1;  // EOF
}

// Reports each malformed token and rewrites it so that the parser reads on
// as if the input were well-formed. A bad number reads as an integer and an
// unterminated string as a string. A stray character or an unterminated
// comment is hidden. IsCleanDeclaration drops the declaration around each.
void ReportMalformedTokens(const SourceFile& source,
                           const std::vector<Token*>& tokens,
                           Diagnostics& diagnostics, ErrorMarks& marks) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    // CommonTokenFactory makes CommonTokens, which are writable. Any other
    // token throws std::bad_cast here, and ParseFile reports it.
    auto& token = dynamic_cast<antlr4::WritableToken&>(*tokens[i]);
    const size_t type = tokens[i]->getType();
    Span span = SpanOf(source, tokens[i]);
    if (IsByteOrderMark(source, *tokens[i])) {
      token.setChannel(Token::HIDDEN_CHANNEL);
      continue;
    }
    switch (type) {
      case VerdictLexer::BAD_NUMBER:
        token.setType(VerdictLexer::INT_LIT);
        break;
      case VerdictLexer::UNTERMINATED_STRING:
        token.setType(VerdictLexer::STRING_LIT);
        break;
      case VerdictLexer::UNTERMINATED_COMMENT:
        span.end_line = span.line;  // underline the "/*" only
        span.end_column = span.column + 2;
        [[fallthrough]];
      case VerdictLexer::INVALID_CHAR:
        token.setChannel(Token::HIDDEN_CHANNEL);
        marks.silenced_tokens.insert(NextDefaultToken(tokens, i));
        break;
      default:
        continue;
    }
    const bool at_end_of_file =
        tokens[i]->getStopIndex() + 1 >= source.text().size();
    diagnostics.Error(span,
                      MalformedTokenMessage(type, TokenText(source, tokens[i]),
                                            at_end_of_file));
    marks.malformed_tokens.insert(i);
    marks.silenced_tokens.insert(i);
  }
}

// The deepest nesting of brackets and prefix operators in one declaration.
struct NestingScan {
  int max_depth = 0;
  const Token* first_too_deep = nullptr;  // the token that passed the limit
};

// Measures nesting on the tokens. ANTLR's generated parser recurses through
// several rules for each bracket and each prefix operator, so input nested
// past kMaxNestingDepth is rejected here, before it can exhaust the stack.
// Each bracket counts one level, and so does each prefix operator until its
// operand ends; binary operators do not nest in the grammar's recursion.
NestingScan ScanNesting(const std::vector<Token*>& tokens) {
  NestingScan scan;
  std::vector<int> pending_prefixes = {0};  // per open bracket
  int depth = 0;
  const Token* previous = nullptr;
  for (const Token* token : tokens) {
    if (!IsOnDefaultChannel(token)) continue;
    const size_t type = token->getType();
    if (IsDeclarationBoundary(type)) {
      if (scan.first_too_deep != nullptr) break;
      pending_prefixes.assign(1, 0);
      depth = 0;
    } else if (type == VerdictLexer::LPAREN || type == VerdictLexer::LBRACKET) {
      pending_prefixes.push_back(0);
      ++depth;
    } else if (type == VerdictLexer::NOT || type == VerdictLexer::BANG ||
               (type == VerdictLexer::MINUS &&
                (previous == nullptr || !EndsOperand(previous->getType())))) {
      ++pending_prefixes.back();
      ++depth;
    } else if (type == VerdictLexer::RPAREN || type == VerdictLexer::RBRACKET) {
      if (pending_prefixes.size() > 1) {
        depth -= pending_prefixes.back() + 1;
        pending_prefixes.pop_back();
      }
    }
    if (EndsOperand(type)) {  // the operand of the pending prefixes ended
      depth -= pending_prefixes.back();
      pending_prefixes.back() = 0;
    }
    scan.max_depth = std::max(scan.max_depth, depth);
    if (depth > kMaxNestingDepth && scan.first_too_deep == nullptr) {
      scan.first_too_deep = token;
    }
    previous = token;
  }
  return scan;
}

// ---------------------------------------------------------------------------
// Syntax error messages

constexpr size_t kDeclarationStarts[] = {
    VerdictLexer::SCHEMA, VerdictLexer::CONST, VerdictLexer::PERMIT,
    VerdictLexer::FORBID, VerdictLexer::POLICYSET};
constexpr size_t kTypeStarts[] = {
    VerdictLexer::BOOL,      VerdictLexer::INT,      VerdictLexer::STRING,
    VerdictLexer::TIMESTAMP, VerdictLexer::DURATION, VerdictLexer::SET,
    VerdictLexer::LIST};
// The tokens that start an operand. A message names them, together with
// the prefix operators, "an expression".
constexpr size_t kOperandStarts[] = {
    VerdictLexer::TRUE,       VerdictLexer::FALSE,
    VerdictLexer::INT_LIT,    VerdictLexer::DURATION_LIT,
    VerdictLexer::STRING_LIT, VerdictLexer::LBRACKET,
    VerdictLexer::LPAREN,     VerdictLexer::IDENT,
    VerdictLexer::TIMESTAMP,  VerdictLexer::DURATION,
    VerdictLexer::QUESTION};
constexpr size_t kOperators[] = {
    VerdictLexer::OR,      VerdictLexer::OR_OR, VerdictLexer::AND,
    VerdictLexer::AND_AND, VerdictLexer::EQ,    VerdictLexer::NE,
    VerdictLexer::LT,      VerdictLexer::LE,    VerdictLexer::GT,
    VerdictLexer::GE,      VerdictLexer::IN,    VerdictLexer::HAS,
    VerdictLexer::LIKE,
    VerdictLexer::PLUS,    VerdictLexer::MINUS, VerdictLexer::DOT};

// The reserved words that the grammar's pathPart rule accepts, so that
// parser.cc can report them as names. A message names them "a name".
constexpr size_t kWordsInPaths[] = {
    VerdictLexer::FROM,      VerdictLexer::WHEN,     VerdictLexer::AND,
    VerdictLexer::OR,        VerdictLexer::NOT,      VerdictLexer::IN,
    VerdictLexer::HAS,       VerdictLexer::TRUE,     VerdictLexer::FALSE,
    VerdictLexer::LIKE,      VerdictLexer::OBLIGATION, VerdictLexer::ADVICE,
    VerdictLexer::MODULE,
    VerdictLexer::BOOL,      VerdictLexer::INT,      VerdictLexer::STRING,
    VerdictLexer::TIMESTAMP, VerdictLexer::DURATION, VerdictLexer::SET,
    VerdictLexer::LIST};

// Tokens that close or separate parts of a declaration. When only these
// were expected, the input is missing one of them.
constexpr size_t kPunctuation[] = {
    VerdictLexer::RBRACE, VerdictLexer::RPAREN, VerdictLexer::RBRACKET,
    VerdictLexer::LBRACE, VerdictLexer::SEMI,   VerdictLexer::WHEN,
    VerdictLexer::COLON,  VerdictLexer::COMMA,  VerdictLexer::LT,
    VerdictLexer::GT,     VerdictLexer::ASSIGN, VerdictLexer::OBLIGATION,
    VerdictLexer::ADVICE, VerdictLexer::FROM};

bool ContainsOnly(const antlr4::misc::IntervalSet& set,
                  std::span<const size_t> allowed) {
  for (const ssize_t type : set.toList()) {
    if (std::find(allowed.begin(), allowed.end(), static_cast<size_t>(type)) ==
        allowed.end()) {
      return false;
    }
  }
  return !set.isEmpty();
}

// Removes `group` from `set` if `set` contains all of it.
bool TakeGroup(antlr4::misc::IntervalSet& set, std::span<const size_t> group) {
  for (const size_t type : group) {
    if (!set.contains(type)) return false;
  }
  for (const size_t type : group) set.remove(type);
  return true;
}

// Names a closing token with what it closes around `node`.
std::string DescribeCloser(size_t type, antlr4::tree::ParseTree* node) {
  for (; node != nullptr; node = node->parent) {
    if (type == VerdictLexer::RBRACE &&
        dynamic_cast<VerdictParser::PolicyDeclContext*>(node) != nullptr) {
      return "'}' to close the policy condition";
    }
    if (type == VerdictLexer::RBRACE &&
        dynamic_cast<VerdictParser::SchemaDeclContext*>(node) != nullptr) {
      return "'}' to close the schema";
    }
    if (type == VerdictLexer::RPAREN &&
        dynamic_cast<VerdictParser::MethodCallContext*>(node) != nullptr) {
      return "')' to close the argument list";
    }
    auto* primary = dynamic_cast<VerdictParser::PrimaryContext*>(node);
    if (type == VerdictLexer::RPAREN && primary != nullptr &&
        primary->LPAREN() != nullptr) {
      return "')' to close the parenthesis";
    }
    if (type == VerdictLexer::RBRACKET &&
        dynamic_cast<VerdictParser::CollectionContext*>(node) != nullptr) {
      return "']' to close the collection";
    }
  }
  return {};
}

std::string DescribeTokenType(ssize_t type, antlr4::tree::ParseTree* context,
                              const antlr4::dfa::Vocabulary& vocabulary) {
  switch (type) {
    case -1:  // Token::EOF as IntervalSet stores it
      return "end of file";
    case VerdictLexer::IDENT:
      return "a name";
    case VerdictLexer::INT_LIT:
      return "an integer";
    case VerdictLexer::DURATION_LIT:
      return "a duration";
    case VerdictLexer::STRING_LIT:
      return "a string";
    default:
      break;
  }
  std::string closer = DescribeCloser(static_cast<size_t>(type), context);
  if (!closer.empty()) return closer;
  return vocabulary.getLiteralName(static_cast<size_t>(type));
}

// Joins alternatives as "a", "a or b", "a, b or c".
std::string JoinAlternatives(const std::vector<std::string>& items) {
  if (items.size() <= 1) return items.empty() ? "more input" : items[0];
  return absl::StrCat(absl::StrJoin(items.begin(), items.end() - 1, ", "),
                      " or ", items.back());
}

// Describes what the parser `expected` in `context`, naming the usual
// groups of tokens as one thing each.
std::string DescribeExpected(antlr4::misc::IntervalSet expected,
                             antlr4::tree::ParseTree* context,
                             const antlr4::dfa::Vocabulary& vocabulary) {
  std::vector<std::string> items;
  if (expected.contains(size_t{VerdictLexer::IDENT})) {
    TakeGroup(expected, kWordsInPaths);
  }
  if (TakeGroup(expected, kDeclarationStarts)) {
    expected.remove(Token::EOF);
    items.push_back(
        "a declaration ('schema', 'const', 'permit', 'forbid' or "
        "'policyset')");
  }
  if (TakeGroup(expected, kTypeStarts)) {
    // ip, cidr and decimal come in as names.
    expected.remove(size_t{VerdictLexer::IDENT});
    items.push_back(
        "a type (bool, int, string, timestamp, duration, decimal, ip, cidr, "
        "set<string> or list<string>)");
  }
  if (TakeGroup(expected, kOperandStarts)) {
    for (const size_t prefix :
         {VerdictLexer::NOT, VerdictLexer::BANG, VerdictLexer::MINUS}) {
      expected.remove(prefix);
    }
    items.push_back("an expression");
  }
  // An operator could continue almost any expression, so operators are
  // named only when nothing else was expected.
  antlr4::misc::IntervalSet others = expected;
  for (const size_t type : kOperators) others.remove(type);
  if (!others.isEmpty() || !items.empty()) expected = others;
  // Kinds of token, such as "a string", read best before punctuation.
  std::vector<std::string> punctuation;
  for (const ssize_t type : expected.toList()) {
    const bool is_kind =
        type == VerdictLexer::IDENT || type == VerdictLexer::INT_LIT ||
        type == VerdictLexer::DURATION_LIT || type == VerdictLexer::STRING_LIT;
    (is_kind ? items : punctuation)
        .push_back(DescribeTokenType(type, context, vocabulary));
  }
  items.insert(items.end(), punctuation.begin(), punctuation.end());
  return JoinAlternatives(items);
}

std::string DescribeFound(const SourceFile& source, const Token* token) {
  if (token->getType() == Token::EOF) return "end of file";
  return Quote(TokenText(source, token));
}

// True when a comparison operator precedes `token` in the same operand of
// 'and' or 'or', as in `a == b == c`: comparisons do not chain.
bool FollowsComparison(antlr4::TokenStream& tokens, const Token* token) {
  constexpr int kMaxTokensBack = 1000;  // bounds the work per error
  int depth = 0;
  const Token* previous = PreviousToken(tokens, token);
  for (int steps = 0; previous != nullptr && steps < kMaxTokensBack;
       ++steps, previous = PreviousToken(tokens, previous)) {
    const size_t type = previous->getType();
    if (type == VerdictLexer::RPAREN || type == VerdictLexer::RBRACKET) {
      ++depth;
    } else if (type == VerdictLexer::LPAREN || type == VerdictLexer::LBRACKET) {
      if (--depth < 0) return false;
    } else if (depth == 0 && IsComparisonOperator(type)) {
      return true;
    } else if (depth == 0 && !EndsOperand(type) && type != VerdictLexer::DOT &&
               type != VerdictLexer::PLUS && type != VerdictLexer::MINUS &&
               type != VerdictLexer::COMMA) {
      return false;  // 'and', 'or', 'not', '{', '=' and the like
    }
  }
  return false;
}

// Reports syntax errors in plain words: "expected '}' to close the policy
// condition, found 'permit'", in place of ANTLR's "mismatched input" texts.
// It also marks the declaration that contains each error, including errors
// met while recovering, which ANTLR does not report.
class VerdictErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  VerdictErrorStrategy(const SourceFile& source, ErrorMarks& marks)
      : source_(source), marks_(marks) {}

  void recover(antlr4::Parser* parser, std::exception_ptr error) override {
    MarkDeclaration(parser);
    DefaultErrorStrategy::recover(parser, error);
  }

  Token* recoverInline(antlr4::Parser* parser) override {
    MarkDeclaration(parser);
    return DefaultErrorStrategy::recoverInline(parser);
  }

 protected:
  void reportNoViableAlternative(
      antlr4::Parser* parser, const antlr4::NoViableAltException& e) override {
    Report(parser, e.getOffendingToken(), e.getExpectedTokens());
  }

  void reportInputMismatch(antlr4::Parser* parser,
                           const antlr4::InputMismatchException& e) override {
    Report(parser, e.getOffendingToken(), e.getExpectedTokens());
  }

  void reportFailedPredicate(
      antlr4::Parser* parser,
      const antlr4::FailedPredicateException& e) override {
    // The grammar has no semantic predicates, so this runs only if one is
    // added.
    Report(parser, e.getOffendingToken(), e.getExpectedTokens());
  }

  void reportUnwantedToken(antlr4::Parser* parser) override {
    MarkDeclaration(parser);
    if (inErrorRecoveryMode(parser)) return;
    beginErrorCondition(parser);
    Report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
  }

  void reportMissingToken(antlr4::Parser* parser) override {
    MarkDeclaration(parser);
    if (inErrorRecoveryMode(parser)) return;
    beginErrorCondition(parser);
    Report(parser, parser->getCurrentToken(), getExpectedTokens(parser));
  }

 private:
  void MarkDeclaration(antlr4::Parser* parser) {
    const antlr4::tree::ParseTree* declaration =
        EnclosingDeclaration(parser->getContext());
    if (declaration != nullptr) marks_.failed_declarations.insert(declaration);
  }

  void Report(antlr4::Parser* parser, Token* found,
              const antlr4::misc::IntervalSet& expected) {
    MarkDeclaration(parser);
    marks_.report_after_previous_token = ContainsOnly(expected, kPunctuation);
    parser->notifyErrorListeners(found, Message(parser, found, expected),
                                 nullptr);
    marks_.report_after_previous_token = false;
  }

  std::string Message(antlr4::Parser* parser, const Token* found,
                      const antlr4::misc::IntervalSet& expected) const;

  const SourceFile& source_;
  ErrorMarks& marks_;
};

std::string VerdictErrorStrategy::Message(
    antlr4::Parser* parser, const Token* found,
    const antlr4::misc::IntervalSet& expected) const {
  antlr4::TokenStream& tokens = *parser->getTokenStream();
  const std::string found_text = DescribeFound(source_, found);
  const Token* previous = PreviousToken(tokens, found);
  if (previous != nullptr && previous->getType() == VerdictLexer::DOT &&
      found->getType() != VerdictLexer::IDENT) {
    return absl::StrCat("expected a name after '.', found ", found_text);
  }
  if (found->getType() == VerdictLexer::MODULE &&
      !expected.contains(size_t{VerdictLexer::MODULE})) {
    return "`module` must be the first declaration of a file, and a file "
           "has at most one";
  }
  if (IsComparisonOperator(found->getType()) &&
      !expected.contains(found->getType()) &&
      FollowsComparison(tokens, found)) {
    return absl::StrCat("unexpected ", found_text,
                        " after a comparison; comparisons do not chain, so "
                        "join two comparisons with 'and'");
  }
  std::string description =
      DescribeExpected(expected, parser->getContext(), parser->getVocabulary());
  if (expected.contains(size_t{VerdictLexer::WHEN}) &&
      expected.contains(size_t{VerdictLexer::SEMI})) {
    description =
        "'when' and a condition, an obligation or advice, or ';', after the "
        "policy id";
  }
  std::string message =
      absl::StrCat("expected ", description, ", found ", found_text);
  if (found->getType() == VerdictLexer::ASSIGN && previous != nullptr &&
      EndsOperand(previous->getType())) {
    absl::StrAppend(&message, "; write '==' to compare two values");
  }
  if (found->getType() == VerdictLexer::LPAREN && previous != nullptr &&
      previous->getType() == VerdictLexer::IDENT) {
    absl::StrAppend(&message,
                    "; only methods can be called, as in "
                    "'subject.id.startsWith(\"a\")'");
  }
  return message;
}

// Turns each error that the lexer or parser reports into a diagnostic.
class DiagnosticListener : public antlr4::BaseErrorListener {
 public:
  DiagnosticListener(const SourceFile& source, antlr4::TokenStream& tokens,
                     Diagnostics& diagnostics, const ErrorMarks& marks)
      : source_(source),
        tokens_(tokens),
        diagnostics_(diagnostics),
        marks_(marks) {}

  void syntaxError(antlr4::Recognizer* recognizer, Token* offending_token,
                   size_t line, size_t column, const std::string& message,
                   std::exception_ptr error) override {
    if (offending_token == nullptr) {
      // A lexer error. The grammar's INVALID_CHAR rule matches any input,
      // so this is reached only if a grammar change loses that rule.
      const auto line32 = static_cast<uint32_t>(line);
      const auto column32 = static_cast<uint32_t>(column + 1);
      diagnostics_.Error({&source_, line32, column32, line32, column32 + 1},
                         message);
      return;
    }
    if (marks_.silenced_tokens.count(offending_token->getTokenIndex()) > 0) {
      return;
    }
    diagnostics_.Error(ErrorSpan(offending_token), message);
  }

 private:
  // Returns the span of `token`. Missing input at the end of the file or
  // of a line is shown just after the token before it, where it belongs.
  Span ErrorSpan(const Token* token) {
    const Token* previous = PreviousToken(tokens_, token);
    if (token->getType() == Token::EOF) {
      if (previous == nullptr) return {&source_, 1, 1, 1, 1};
      return SpanAfter(source_, previous);
    }
    const Span span = SpanOf(source_, token);
    if (marks_.report_after_previous_token && previous != nullptr) {
      const Span after = SpanAfter(source_, previous);
      if (after.line < span.line) return after;
    }
    return span;
  }

  const SourceFile& source_;
  antlr4::TokenStream& tokens_;
  Diagnostics& diagnostics_;
  const ErrorMarks& marks_;
};

// ---------------------------------------------------------------------------
// AST construction

// Builds AST declarations from the parse tree of declarations that parsed
// without errors. Reports literals that cannot be represented and
// expressions nested too deeply.
class AstBuilder {
 public:
  AstBuilder(const SourceFile& source, Diagnostics& diagnostics)
      : source_(source), diagnostics_(diagnostics) {}

  std::optional<SchemaDecl> BuildSchema(VerdictParser::SchemaDeclContext* ctx);
  std::optional<ConstDecl> BuildConst(VerdictParser::ConstDeclContext* ctx);
  std::optional<PolicyDecl> BuildPolicy(VerdictParser::PolicyDeclContext* ctx);
  // Adds the set and, recursively, its members to `ast`.
  void BuildPolicySet(VerdictParser::PolicySetDeclContext* ctx, int parent,
                      FileAst& ast);

 private:
  // An expression under construction. `expr` is null after a diagnostic
  // about it, and when it nests deeper than kMaxNestingDepth. `depth` is
  // its nesting depth in either case, a leaf counting 1.
  struct Node {
    std::unique_ptr<Expr> expr;
    int depth = 1;
  };

  std::unique_ptr<Expr> NewExpr(ExprKind kind, const Span& span) const;
  Node Leaf(std::unique_ptr<Expr> expr) const;
  Node Combine(std::unique_ptr<Expr> parent, std::vector<Node> children) const;
  Node Binary(ExprKind kind, const Span& span, Node left, Node right) const;

  std::unique_ptr<Expr> BuildTopLevelExpr(VerdictParser::ExprContext* ctx);
  Node BuildExpr(VerdictParser::ExprContext* ctx);
  Node BuildOr(VerdictParser::OrExprContext* ctx);
  Node BuildAnd(VerdictParser::AndExprContext* ctx);
  Node BuildNot(VerdictParser::NotExprContext* ctx);
  Node BuildComparison(VerdictParser::ComparisonContext* ctx);
  Node BuildHas(VerdictParser::ComparisonContext* ctx, Node subject);
  Node BuildAdditive(VerdictParser::AdditiveContext* ctx);
  Node BuildUnary(VerdictParser::UnaryContext* ctx);
  Node BuildPostfix(VerdictParser::PostfixContext* ctx);
  Node BuildPrimary(VerdictParser::PrimaryContext* ctx);
  Node BuildCollection(VerdictParser::CollectionContext* ctx);
  Node BuildCall(VerdictParser::CallContext* ctx);
  Node BuildEntityRef(VerdictParser::EntityRefContext* ctx);
  std::optional<DutyDecl> BuildDuty(VerdictParser::DutyContext* ctx);
  Node BuildName(VerdictParser::NameContext* ctx);

  std::unique_ptr<Expr> BuildNumber(const Token* literal, const Token* minus);
  std::unique_ptr<Expr> BuildStringLiteral(const Token* literal);
  std::optional<std::string> DecodeString(const Token* literal);
  std::optional<SchemaAttribute> BuildAttribute(
      VerdictParser::AttributeContext* ctx);
  std::optional<Type> BuildType(VerdictParser::TypeNameContext* ctx);
  std::optional<std::string> BuildPathPart(VerdictParser::PathPartContext* ctx);
  std::optional<std::string> BuildPath(
      VerdictParser::AttributePathContext* ctx);

  const SourceFile& source_;
  Diagnostics& diagnostics_;
};

std::unique_ptr<Expr> AstBuilder::NewExpr(ExprKind kind,
                                          const Span& span) const {
  auto expr = std::make_unique<Expr>();
  expr->kind = kind;
  expr->span = span;
  return expr;
}

AstBuilder::Node AstBuilder::Leaf(std::unique_ptr<Expr> expr) const {
  Node node;
  node.expr = std::move(expr);
  return node;
}

// Returns `parent` over `children`. The result has no expression when a
// child has none or when it would nest past kMaxNestingDepth, so that no
// tree deeper than the limit is ever built, not even to be destroyed.
AstBuilder::Node AstBuilder::Combine(std::unique_ptr<Expr> parent,
                                     std::vector<Node> children) const {
  Node node;
  bool complete = true;
  for (const Node& child : children) {
    node.depth = std::max(node.depth, child.depth + 1);
    complete = complete && child.expr != nullptr;
  }
  if (!complete || node.depth > kMaxNestingDepth) return node;
  for (Node& child : children) {
    parent->children.push_back(std::move(child.expr));
  }
  node.expr = std::move(parent);
  return node;
}

AstBuilder::Node AstBuilder::Binary(ExprKind kind, const Span& span, Node left,
                                    Node right) const {
  std::vector<Node> children;
  children.push_back(std::move(left));
  children.push_back(std::move(right));
  return Combine(NewExpr(kind, span), std::move(children));
}

std::unique_ptr<Expr> AstBuilder::BuildTopLevelExpr(
    VerdictParser::ExprContext* ctx) {
  Node node = BuildExpr(ctx);
  if (node.depth > kMaxNestingDepth) {
    diagnostics_.Error(
        SpanOf(source_, ctx),
        absl::StrFormat("expression nesting depth %d exceeds the limit of "
                        "%d; each operand of a chain of 'or', 'and', '+', "
                        "'-' or method calls nests one level deeper. Split "
                        "the chain, for example into a set test with 'in'",
                        node.depth, kMaxNestingDepth));
    return nullptr;
  }
  return std::move(node.expr);
}

AstBuilder::Node AstBuilder::BuildExpr(VerdictParser::ExprContext* ctx) {
  return BuildOr(ctx->orExpr());
}

// `a or b or c` nests to the left: ((a or b) or c).
AstBuilder::Node AstBuilder::BuildOr(VerdictParser::OrExprContext* ctx) {
  const std::vector<VerdictParser::AndExprContext*> operands = ctx->andExpr();
  Node result = BuildAnd(operands[0]);
  for (size_t i = 1; i < operands.size(); ++i) {
    const Span span = SpanOf(source_, ctx->getStart(), operands[i]->getStop());
    result =
        Binary(ExprKind::kOr, span, std::move(result), BuildAnd(operands[i]));
  }
  return result;
}

AstBuilder::Node AstBuilder::BuildAnd(VerdictParser::AndExprContext* ctx) {
  const std::vector<VerdictParser::NotExprContext*> operands = ctx->notExpr();
  Node result = BuildNot(operands[0]);
  for (size_t i = 1; i < operands.size(); ++i) {
    const Span span = SpanOf(source_, ctx->getStart(), operands[i]->getStop());
    result =
        Binary(ExprKind::kAnd, span, std::move(result), BuildNot(operands[i]));
  }
  return result;
}

AstBuilder::Node AstBuilder::BuildNot(VerdictParser::NotExprContext* ctx) {
  if (ctx->comparison() != nullptr) return BuildComparison(ctx->comparison());
  std::vector<Node> children;
  children.push_back(BuildNot(ctx->notExpr()));
  return Combine(NewExpr(ExprKind::kNot, SpanOf(source_, ctx)),
                 std::move(children));
}

CompareOp CompareOpOf(VerdictParser::CompareOpContext* ctx) {
  switch (ctx->getStart()->getType()) {
    case VerdictLexer::NE:
      return CompareOp::kNe;
    case VerdictLexer::LT:
      return CompareOp::kLt;
    case VerdictLexer::LE:
      return CompareOp::kLe;
    case VerdictLexer::GT:
      return CompareOp::kGt;
    case VerdictLexer::GE:
      return CompareOp::kGe;
    default:
      return CompareOp::kEq;
  }
}

AstBuilder::Node AstBuilder::BuildComparison(
    VerdictParser::ComparisonContext* ctx) {
  const std::vector<VerdictParser::AdditiveContext*> operands = ctx->additive();
  Node left = BuildAdditive(operands[0]);
  if (ctx->HAS() != nullptr) return BuildHas(ctx, std::move(left));
  if (operands.size() == 1) return left;

  Node right = BuildAdditive(operands[1]);
  const Span span = SpanOf(source_, ctx);
  if (ctx->IN() != nullptr) {
    return Binary(ExprKind::kIn, span, std::move(left), std::move(right));
  }
  if (ctx->LIKE() != nullptr) {
    return Binary(ExprKind::kLike, span, std::move(left), std::move(right));
  }
  const CompareOp op = CompareOpOf(ctx->compareOp());
  Node result =
      Binary(ExprKind::kCompare, span, std::move(left), std::move(right));
  if (result.expr != nullptr) result.expr->compare_op = op;
  return result;
}

AstBuilder::Node AstBuilder::BuildHas(VerdictParser::ComparisonContext* ctx,
                                      Node subject) {
  if (subject.expr != nullptr && subject.expr->kind != ExprKind::kName) {
    diagnostics_.Error(subject.expr->span,
                       "the left side of 'has' must be a name, as in "
                       "'subject has email'");
    subject.expr = nullptr;
  }
  auto has = NewExpr(ExprKind::kHas, SpanOf(source_, ctx));
  std::optional<std::string> path = BuildPath(ctx->attributePath());
  if (!path.has_value()) subject.expr = nullptr;
  has->has_path = path.value_or("");
  std::vector<Node> children;
  children.push_back(std::move(subject));
  return Combine(std::move(has), std::move(children));
}

AstBuilder::Node AstBuilder::BuildAdditive(
    VerdictParser::AdditiveContext* ctx) {
  const std::vector<VerdictParser::UnaryContext*> operands = ctx->unary();
  Node result = BuildUnary(operands[0]);
  size_t next_operand = 1;
  for (antlr4::tree::ParseTree* child : ctx->children) {
    auto* op = dynamic_cast<antlr4::tree::TerminalNode*>(child);
    if (op == nullptr) continue;
    VerdictParser::UnaryContext* operand = operands[next_operand++];
    const ExprKind kind = op->getSymbol()->getType() == VerdictLexer::PLUS
                              ? ExprKind::kAdd
                              : ExprKind::kSubtract;
    const Span span = SpanOf(source_, ctx->getStart(), operand->getStop());
    result = Binary(kind, span, std::move(result), BuildUnary(operand));
  }
  return result;
}

// Returns the literal token when `ctx` is a bare integer or duration
// literal, with no method called on it.
const Token* BareNumber(VerdictParser::UnaryContext* ctx) {
  VerdictParser::PostfixContext* postfix = ctx->postfix();
  if (postfix == nullptr || !postfix->methodCall().empty()) return nullptr;
  VerdictParser::PrimaryContext* primary = postfix->primary();
  if (primary->INT_LIT() != nullptr) return primary->INT_LIT()->getSymbol();
  if (primary->DURATION_LIT() != nullptr) {
    return primary->DURATION_LIT()->getSymbol();
  }
  return nullptr;
}

// A minus sign directly before an integer or duration literal is folded
// into one negative literal: this is how -9223372036854775808, whose
// magnitude does not fit in int64, is written. Any other operand of '-'
// becomes kNegate.
AstBuilder::Node AstBuilder::BuildUnary(VerdictParser::UnaryContext* ctx) {
  if (ctx->postfix() != nullptr) return BuildPostfix(ctx->postfix());
  if (const Token* literal = BareNumber(ctx->unary())) {
    return Leaf(BuildNumber(literal, ctx->MINUS()->getSymbol()));
  }
  std::vector<Node> children;
  children.push_back(BuildUnary(ctx->unary()));
  return Combine(NewExpr(ExprKind::kNegate, SpanOf(source_, ctx)),
                 std::move(children));
}

AstBuilder::Node AstBuilder::BuildPostfix(VerdictParser::PostfixContext* ctx) {
  Node result = BuildPrimary(ctx->primary());
  for (VerdictParser::MethodCallContext* call : ctx->methodCall()) {
    auto expr = NewExpr(ExprKind::kMethodCall,
                        SpanOf(source_, ctx->getStart(), call->getStop()));
    std::optional<std::string> method = BuildPathPart(call->pathPart());
    if (!method.has_value()) result.expr = nullptr;
    expr->method = method.value_or("");
    std::vector<Node> children;
    children.push_back(std::move(result));
    if (call->arguments() != nullptr) {
      for (VerdictParser::ExprContext* argument : call->arguments()->expr()) {
        children.push_back(BuildExpr(argument));
      }
    }
    result = Combine(std::move(expr), std::move(children));
  }
  return result;
}

AstBuilder::Node AstBuilder::BuildPrimary(VerdictParser::PrimaryContext* ctx) {
  if (ctx->expr() != nullptr) return BuildExpr(ctx->expr());
  if (ctx->collection() != nullptr) return BuildCollection(ctx->collection());
  if (ctx->call() != nullptr) return BuildCall(ctx->call());
  if (ctx->entityRef() != nullptr) return BuildEntityRef(ctx->entityRef());
  if (ctx->placeholder() != nullptr) {
    auto placeholder =
        NewExpr(ExprKind::kPlaceholder, SpanOf(source_, ctx->placeholder()));
    placeholder->string_value =
        std::string(TokenText(source_, ctx->placeholder()->IDENT()->getSymbol()));
    return Leaf(std::move(placeholder));
  }
  if (ctx->qualifiedName() != nullptr) {
    auto name = NewExpr(ExprKind::kName, SpanOf(source_, ctx->qualifiedName()));
    name->path.push_back(ctx->qualifiedName()->getText());
    return Leaf(std::move(name));
  }
  if (ctx->name() != nullptr) return BuildName(ctx->name());
  const Token* token = ctx->getStart();
  switch (token->getType()) {
    case VerdictLexer::TRUE:
    case VerdictLexer::FALSE: {
      auto expr = NewExpr(ExprKind::kBoolLiteral, SpanOf(source_, token));
      expr->bool_value = token->getType() == VerdictLexer::TRUE;
      return Leaf(std::move(expr));
    }
    case VerdictLexer::INT_LIT:
    case VerdictLexer::DURATION_LIT:
      return Leaf(BuildNumber(token, nullptr));
    default:  // STRING_LIT
      return Leaf(BuildStringLiteral(token));
  }
}

AstBuilder::Node AstBuilder::BuildCollection(
    VerdictParser::CollectionContext* ctx) {
  auto collection = NewExpr(ExprKind::kCollectionLiteral, SpanOf(source_, ctx));
  std::vector<Node> elements;
  for (VerdictParser::ExprContext* element : ctx->expr()) {
    elements.push_back(BuildExpr(element));
  }
  return Combine(std::move(collection), std::move(elements));
}

AstBuilder::Node AstBuilder::BuildEntityRef(
    VerdictParser::EntityRefContext* ctx) {
  std::optional<std::string> id = DecodeString(ctx->STRING_LIT()->getSymbol());
  if (!id.has_value()) return Node();
  auto ref = NewExpr(ExprKind::kEntityRef, SpanOf(source_, ctx));
  ref->path.emplace_back(TokenText(source_, ctx->IDENT()->getSymbol()));
  ref->string_value = *std::move(id);
  return Leaf(std::move(ref));
}

AstBuilder::Node AstBuilder::BuildCall(VerdictParser::CallContext* ctx) {
  auto call = NewExpr(ExprKind::kCall, SpanOf(source_, ctx));
  call->method = std::string(TokenText(source_, ctx->callee));
  std::vector<Node> arguments;
  if (ctx->arguments() != nullptr) {
    for (VerdictParser::ExprContext* argument : ctx->arguments()->expr()) {
      arguments.push_back(BuildExpr(argument));
    }
  }
  return Combine(std::move(call), std::move(arguments));
}

AstBuilder::Node AstBuilder::BuildName(VerdictParser::NameContext* ctx) {
  auto name = NewExpr(ExprKind::kName, SpanOf(source_, ctx));
  name->path.emplace_back(TokenText(source_, ctx->IDENT()->getSymbol()));
  for (VerdictParser::PathPartContext* part : ctx->pathPart()) {
    std::optional<std::string> text = BuildPathPart(part);
    if (!text.has_value()) return Node();
    name->path.push_back(*std::move(text));
  }
  return Leaf(std::move(name));
}

// Returns the literal as an expression, negated when `minus` is the sign
// before it, or null after reporting a value past the int64 range.
std::unique_ptr<Expr> AstBuilder::BuildNumber(const Token* literal,
                                              const Token* minus) {
  const std::string_view text = TokenText(source_, literal);
  const bool is_duration = literal->getType() == VerdictLexer::DURATION_LIT;
  const std::string_view digits =
      is_duration ? text.substr(0, text.size() - 1) : text;
  const uint64_t unit = is_duration ? DurationUnitSeconds(text.back()) : 1;
  // A negative value may reach one past INT64_MAX: -2^63.
  const uint64_t limit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
      (minus != nullptr ? 1 : 0);
  const std::optional<uint64_t> magnitude = ParseMagnitude(digits, unit, limit);
  const Span span =
      SpanOf(source_, minus != nullptr ? minus : literal, literal);
  if (!magnitude.has_value()) {
    std::string written =
        absl::StrCat(minus != nullptr ? "-" : "", ToAbsl(text));
    if (written.size() > 40) {
      written = absl::StrCat(written.substr(0, 20), "... (", digits.size(),
                             " digits)");
    }
    diagnostics_.Error(
        span, is_duration
                  ? absl::StrCat("duration literal ", written,
                                 " does not fit in a signed 64-bit count of "
                                 "seconds")
                  : absl::StrCat("integer literal ", written,
                                 " does not fit in a signed 64-bit integer"));
    return nullptr;
  }
  auto expr = NewExpr(
      is_duration ? ExprKind::kDurationLiteral : ExprKind::kIntLiteral, span);
  // 0 - magnitude in uint64 arithmetic wraps to the two's complement value,
  // which is exact for every magnitude up to 2^63.
  expr->int_value = static_cast<int64_t>(
      minus != nullptr ? uint64_t{0} - *magnitude : *magnitude);
  return expr;
}

std::unique_ptr<Expr> AstBuilder::BuildStringLiteral(const Token* literal) {
  std::optional<std::string> value = DecodeString(literal);
  if (!value.has_value()) return nullptr;
  auto expr = NewExpr(ExprKind::kStringLiteral, SpanOf(source_, literal));
  expr->string_value = *std::move(value);
  return expr;
}

// Returns the value of a string literal token, or nullopt after reporting
// its first invalid escape or byte.
std::optional<std::string> AstBuilder::DecodeString(const Token* literal) {
  const std::string_view text = TokenText(source_, literal);
  StringError error;
  std::optional<std::string> value =
      DecodeStringBody(text.substr(1, text.size() - 2), error);
  if (!value.has_value()) {
    // A string literal is on one line, and its body starts after the quote.
    Span span = SpanOf(source_, literal);
    span.column += static_cast<uint32_t>(1 + error.offset);
    span.end_column = span.column + static_cast<uint32_t>(error.length);
    diagnostics_.Error(span, std::move(error.message));
  }
  return value;
}

// Returns the name in `ctx`, or nullopt after reporting a reserved word.
std::optional<std::string> AstBuilder::BuildPathPart(
    VerdictParser::PathPartContext* ctx) {
  const std::string_view text = TokenText(source_, ctx->getStart());
  if (ctx->keyword() != nullptr) {
    diagnostics_.Error(SpanOf(source_, ctx),
                       absl::StrCat("'", ToAbsl(text),
                                    "' is a reserved word and cannot be used "
                                    "as a name"));
    return std::nullopt;
  }
  return std::string(text);
}

// Returns the dotted name in `ctx`, or nullopt after reporting a reserved
// word in it.
std::optional<std::string> AstBuilder::BuildPath(
    VerdictParser::AttributePathContext* ctx) {
  std::vector<std::string> parts;
  for (VerdictParser::PathPartContext* part : ctx->pathPart()) {
    std::optional<std::string> text = BuildPathPart(part);
    if (!text.has_value()) return std::nullopt;
    parts.push_back(*std::move(text));
  }
  return absl::StrJoin(parts, ".");
}

Type BasicTypeOf(VerdictParser::TypeNameContext* ctx) {
  switch (ctx->getStart()->getType()) {
    case VerdictLexer::INT:
      return Type::kInt;
    case VerdictLexer::STRING:
      return Type::kString;
    case VerdictLexer::TIMESTAMP:
      return Type::kTimestamp;
    case VerdictLexer::DURATION:
      return Type::kDuration;
    case VerdictLexer::SET:
      return Type::kStringSet;
    case VerdictLexer::LIST:
      return Type::kStringList;
    default:
      return Type::kBool;
  }
}

// Returns the type named in `ctx`, or nullopt after reporting a set or list
// of anything but strings.
std::optional<Type> AstBuilder::BuildType(VerdictParser::TypeNameContext* ctx) {
  if (ctx->IDENT() != nullptr) {
    const std::string_view name = TokenText(source_, ctx->IDENT()->getSymbol());
    if (name == "ip") return Type::kIp;
    if (name == "cidr") return Type::kCidr;
    if (name == "decimal") return Type::kDecimal;
    diagnostics_.Error(
        SpanOf(source_, ctx),
        absl::StrCat("unknown type '", ToAbsl(name),
                     "'; the types are bool, int, string, timestamp, "
                     "duration, decimal, ip, cidr, set<string> and "
                     "list<string>"));
    return std::nullopt;
  }
  const Type type = BasicTypeOf(ctx);
  VerdictParser::TypeNameContext* element = ctx->typeName();
  if (element == nullptr) return type;
  const bool holds_strings =
      element->typeName() == nullptr &&
      element->getStart()->getType() == VerdictLexer::STRING;
  if (holds_strings) return type;
  const std::string_view container = TokenText(source_, ctx->getStart());
  diagnostics_.Error(
      SpanOf(source_, element),
      absl::StrCat("a ", ToAbsl(container), " holds strings only: write ",
                   ToAbsl(container), "<string>"));
  return std::nullopt;
}

std::optional<SchemaAttribute> AstBuilder::BuildAttribute(
    VerdictParser::AttributeContext* ctx) {
  std::optional<std::string> name = BuildPath(ctx->attributePath());
  std::optional<Type> type = BuildType(ctx->typeName());
  if (!name.has_value() || !type.has_value()) return std::nullopt;
  SchemaAttribute attribute;
  attribute.name = *std::move(name);
  attribute.type = *type;
  attribute.optional = ctx->optional != nullptr;
  attribute.span = SpanOf(source_, ctx->attributePath());
  return attribute;
}

std::optional<SchemaDecl> AstBuilder::BuildSchema(
    VerdictParser::SchemaDeclContext* ctx) {
  SchemaDecl schema;
  schema.group = std::string(TokenText(source_, ctx->group));
  schema.span = SpanOf(source_, ctx->group);
  if (ctx->dataSet != nullptr) {
    schema.data_set = std::string(TokenText(source_, ctx->dataSet));
    schema.data_span = SpanOf(source_, ctx->dataSet);
  }
  bool complete = true;
  for (VerdictParser::AttributeContext* context : ctx->attribute()) {
    std::optional<SchemaAttribute> attribute = BuildAttribute(context);
    if (attribute.has_value()) {
      schema.attributes.push_back(*std::move(attribute));
    } else {
      complete = false;  // report every bad attribute before giving up
    }
  }
  if (!complete) return std::nullopt;
  return schema;
}

std::optional<ConstDecl> AstBuilder::BuildConst(
    VerdictParser::ConstDeclContext* ctx) {
  ConstDecl constant;
  const Token* name = ctx->IDENT()->getSymbol();
  constant.name = std::string(TokenText(source_, name));
  constant.span = SpanOf(source_, name);
  constant.value = BuildTopLevelExpr(ctx->expr());
  if (constant.value == nullptr) return std::nullopt;
  return constant;
}

std::optional<PolicyDecl> AstBuilder::BuildPolicy(
    VerdictParser::PolicyDeclContext* ctx) {
  PolicyDecl policy;
  const Token* id = ctx->STRING_LIT()->getSymbol();
  policy.effect = ctx->effect->getType() == VerdictLexer::FORBID
                      ? Effect::kForbid
                      : Effect::kPermit;
  policy.span = SpanOf(source_, ctx->effect, id);
  policy.id_span = SpanOf(source_, id);
  std::optional<std::string> decoded_id = DecodeString(id);
  std::unique_ptr<Expr> condition;
  if (ctx->expr() != nullptr) condition = BuildTopLevelExpr(ctx->expr());
  if (!decoded_id.has_value() ||
      (ctx->expr() != nullptr && condition == nullptr)) {
    return std::nullopt;
  }
  policy.id = *std::move(decoded_id);
  policy.condition = std::move(condition);
  if (ctx->dataSet != nullptr) {
    policy.link_data_set = std::string(TokenText(source_, ctx->dataSet));
    policy.link_span = SpanOf(source_, ctx->dataSet);
  }
  for (VerdictParser::DutyContext* duty : ctx->duty()) {
    std::optional<DutyDecl> built = BuildDuty(duty);
    if (!built.has_value()) return std::nullopt;
    policy.duties.push_back(*std::move(built));
  }
  return policy;
}

void AstBuilder::BuildPolicySet(VerdictParser::PolicySetDeclContext* ctx,
                                int parent, FileAst& ast) {
  PolicySetDecl set;
  const Token* id = ctx->STRING_LIT()->getSymbol();
  set.span = SpanOf(source_, ctx->POLICYSET()->getSymbol(), id);
  set.set = parent;
  set.order = static_cast<uint32_t>(ast.policies.size() + ast.policy_sets.size());
  std::optional<std::string> decoded = DecodeString(id);
  if (!decoded.has_value()) return;
  set.id = *std::move(decoded);
  if (ctx->algorithm != nullptr) {
    const std::string_view name = TokenText(source_, ctx->algorithm);
    if (name == "permit_overrides") {
      set.algorithm = CombiningAlgorithm::kPermitOverrides;
    } else if (name == "first_applicable") {
      set.algorithm = CombiningAlgorithm::kFirstApplicable;
    } else if (name != "deny_overrides") {
      diagnostics_.Error(SpanOf(source_, ctx->algorithm),
                         absl::StrCat("unknown combining algorithm '",
                                      ToAbsl(name),
                                      "'; write deny_overrides, "
                                      "permit_overrides or first_applicable"));
      return;
    }
  }
  const int index = static_cast<int>(ast.policy_sets.size());
  ast.policy_sets.push_back(std::move(set));
  // Members in source order: the parse tree keeps policies and sets in two
  // lists, so merge them by token position.
  std::vector<antlr4::ParserRuleContext*> members;
  for (auto* policy : ctx->policyDecl()) members.push_back(policy);
  for (auto* nested : ctx->policySetDecl()) members.push_back(nested);
  std::sort(members.begin(), members.end(), [](auto* a, auto* b) {
    return a->getStart()->getTokenIndex() < b->getStart()->getTokenIndex();
  });
  for (antlr4::ParserRuleContext* member : members) {
    if (auto* nested = dynamic_cast<VerdictParser::PolicySetDeclContext*>(member)) {
      BuildPolicySet(nested, index, ast);
      continue;
    }
    std::optional<PolicyDecl> policy =
        BuildPolicy(static_cast<VerdictParser::PolicyDeclContext*>(member));
    if (!policy.has_value()) continue;
    policy->set = index;
    policy->order =
        static_cast<uint32_t>(ast.policies.size() + ast.policy_sets.size());
    ast.policies.push_back(*std::move(policy));
  }
}

std::optional<DutyDecl> AstBuilder::BuildDuty(VerdictParser::DutyContext* ctx) {
  DutyDecl duty;
  duty.advice = ctx->kind->getType() == VerdictLexer::ADVICE;
  duty.span = SpanOf(source_, ctx->kind, ctx->STRING_LIT()->getSymbol());
  std::optional<std::string> name = DecodeString(ctx->STRING_LIT()->getSymbol());
  if (!name.has_value()) return std::nullopt;
  duty.name = *std::move(name);
  for (VerdictParser::DutyFieldContext* field : ctx->dutyField()) {
    std::unique_ptr<Expr> value = BuildTopLevelExpr(field->expr());
    if (value == nullptr) return std::nullopt;
    duty.fields.emplace_back(TokenText(source_, field->IDENT()->getSymbol()),
                             std::move(value));
  }
  return duty;
}

// ---------------------------------------------------------------------------
// The parse

void AddDeclaration(AstBuilder& builder,
                    VerdictParser::DeclarationContext* declaration,
                    FileAst& ast) {
  if (declaration->schemaDecl() != nullptr) {
    std::optional<SchemaDecl> schema =
        builder.BuildSchema(declaration->schemaDecl());
    if (schema.has_value()) ast.schemas.push_back(*std::move(schema));
  } else if (declaration->constDecl() != nullptr) {
    std::optional<ConstDecl> constant =
        builder.BuildConst(declaration->constDecl());
    if (constant.has_value()) ast.constants.push_back(*std::move(constant));
  } else if (declaration->policyDecl() != nullptr) {
    std::optional<PolicyDecl> policy =
        builder.BuildPolicy(declaration->policyDecl());
    if (policy.has_value()) {
      policy->order = static_cast<uint32_t>(ast.policies.size() +
                                            ast.policy_sets.size());
      ast.policies.push_back(*std::move(policy));
    }
  } else if (declaration->policySetDecl() != nullptr) {
    builder.BuildPolicySet(declaration->policySetDecl(), -1, ast);
  }
}

// Reports input nested past kMaxNestingDepth. Returns false when there is
// some, in which case the file must not be parsed.
bool CheckNesting(const SourceFile& source, const std::vector<Token*>& tokens,
                  Diagnostics& diagnostics) {
  const NestingScan scan = ScanNesting(tokens);
  if (scan.first_too_deep == nullptr) return true;
  diagnostics.Error(
      SpanOf(source, scan.first_too_deep),
      absl::StrFormat("expression nesting depth %d exceeds the limit of %d; "
                      "the file was not parsed further. Remove levels of "
                      "brackets, 'not' or negation",
                      scan.max_depth, kMaxNestingDepth));
  return false;
}

// Parses `source` into `ast`, reporting into `diagnostics`. Throws what
// ANTLR or the allocator throw.
//
// Parsers of distinct sources may run on several threads at once, because
// all of this state is local. VerdictParser instances share ANTLR's static
// DFA cache, which the 4.9 C++ runtime guards with its own locks
// (ATNSimulator::_stateLock and _edgeLock).
void ParseTokens(const SourceFile& source, Diagnostics& diagnostics,
                 FileAst& ast) {
  ByteStream input(source.text());
  VerdictLexer lexer(&input);
  antlr4::CommonTokenStream tokens(&lexer);
  ErrorMarks marks;
  DiagnosticListener listener(source, tokens, diagnostics, marks);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&listener);
  tokens.fill();

  ReportMalformedTokens(source, tokens.getTokens(), diagnostics, marks);
  if (!CheckNesting(source, tokens.getTokens(), diagnostics)) return;
  tokens.seek(0);  // skips a first token that was just hidden

  VerdictParser parser(&tokens);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  parser.setErrorHandler(std::make_shared<VerdictErrorStrategy>(source, marks));
  VerdictParser::FileContext* file = parser.file();

  AstBuilder builder(source, diagnostics);
  if (VerdictParser::ModuleDeclContext* module = file->moduleDecl();
      module != nullptr && module->moduleName() != nullptr &&
      module->exception == nullptr) {
    ast.module = module->moduleName()->getText();
    ast.module_span = SpanOf(source, module->moduleName());
  }
  for (VerdictParser::DeclarationContext* declaration : file->declaration()) {
    if (IsCleanDeclaration(declaration, marks)) {
      AddDeclaration(builder, declaration, ast);
    }
  }
}

// Adds `found` to `diagnostics` in source order. The parse reports in
// passes, lexical problems first, and a reader expects line order.
void AddInSourceOrder(const Diagnostics& found, Diagnostics& diagnostics) {
  std::vector<Diagnostic> sorted = found.all();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.span.line, a.span.column) <
                            std::tie(b.span.line, b.span.column);
                   });
  for (Diagnostic& diagnostic : sorted) {
    if (diagnostic.severity == Severity::kError) {
      diagnostics.Error(diagnostic.span, std::move(diagnostic.message));
    } else {
      diagnostics.Warning(diagnostic.span, std::move(diagnostic.message));
    }
  }
}

}  // namespace

FileAst ParseFile(const SourceFile& source, Diagnostics& diagnostics) {
  // Valid files take the hand-written parser. Any other file is parsed
  // again by ANTLR, whose error recovery reports every problem.
  try {
    std::optional<FileAst> fast = ParseFileFast(source);
    if (fast.has_value()) return *std::move(fast);
  } catch (const std::exception&) {
    // Such as std::bad_alloc. The ANTLR path runs instead and reports any
    // exception that recurs there as a diagnostic.
  }
  return ParseFileWithAntlr(source, diagnostics);
}

FileAst ParseFileWithAntlr(const SourceFile& source,
                           Diagnostics& diagnostics) {
  FileAst ast;
  ast.source = &source;
  const Span file_start = {&source, 1, 1, 1, 1};
  if (source.text().size() > kMaxSourceBytes) {
    diagnostics.Error(
        file_start,
        absl::StrFormat("source file is %d bytes, larger than the limit of "
                        "%d bytes (1 MiB); split it into several files",
                        source.text().size(), kMaxSourceBytes));
    return ast;
  }
  Diagnostics found;
  try {
    ParseTokens(source, found, ast);
  } catch (const std::exception& e) {
    found.Error(file_start,
                absl::StrCat("internal error in the parser: ", e.what()));
  } catch (...) {
    found.Error(file_start, "internal error in the parser: unknown exception");
  }
  AddInSourceOrder(found, diagnostics);
  return ast;
}

}  // namespace verdict::compiler
