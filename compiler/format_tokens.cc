#include "compiler/format_tokens.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "VerdictLexer.h"
#include "antlr4-runtime.h"

namespace verdict::compiler::format_internal {
namespace {

using verdict_grammar::VerdictLexer;

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// An ANTLR character stream with one character per source byte, as in
// parser.cc, so that token indices are byte offsets into the source.
class ByteStream : public antlr4::ANTLRInputStream {
 public:
  explicit ByteStream(std::string_view bytes) {
    _data.reserve(bytes.size());
    for (const char byte : bytes) {
      _data.push_back(static_cast<unsigned char>(byte));
    }
  }
};

std::string_view TokenText(std::string_view source,
                           const antlr4::Token& token) {
  const size_t start = token.getStartIndex();
  const size_t stop = token.getStopIndex();
  if (token.getType() == antlr4::Token::EOF || stop < start ||
      stop >= source.size()) {
    return {};
  }
  return source.substr(start, stop - start + 1);
}

// Returns the comment with the trailing whitespace of each of its lines
// removed and its line breaks written as "\n".
std::string CleanComment(std::string_view text) {
  std::string out;
  while (true) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    const size_t end = line.find_last_not_of(" \t\r\f");
    out.append(line.substr(0, end == std::string_view::npos ? 0 : end + 1));
    if (newline == std::string_view::npos) return out;
    out.push_back('\n');
    text.remove_prefix(newline + 1);
  }
}

TokenKind KindOf(size_t type, std::string_view text) {
  switch (type) {
    case VerdictLexer::AND:
    case VerdictLexer::AND_AND:
      return TokenKind::kAnd;
    case VerdictLexer::OR:
    case VerdictLexer::OR_OR:
      return TokenKind::kOr;
    case VerdictLexer::NOT:
    case VerdictLexer::BANG:
      return TokenKind::kNot;
    case VerdictLexer::MINUS:
      return TokenKind::kMinus;
    case VerdictLexer::LPAREN:
      return TokenKind::kOpenParen;
    case VerdictLexer::RPAREN:
      return TokenKind::kCloseParen;
    case VerdictLexer::LBRACKET:
      return TokenKind::kOpenBracket;
    case VerdictLexer::RBRACKET:
      return TokenKind::kCloseBracket;
    case VerdictLexer::LBRACE:
      return TokenKind::kOpenBrace;
    case VerdictLexer::RBRACE:
      return TokenKind::kCloseBrace;
    case VerdictLexer::COMMA:
      return TokenKind::kComma;
    case VerdictLexer::DOT:
      return TokenKind::kDot;
    case VerdictLexer::COLON:
      return TokenKind::kColon;
    case VerdictLexer::QUESTION:
      return TokenKind::kQuestion;
    case VerdictLexer::SEMI:
      return TokenKind::kSemicolon;
    default:
      break;
  }
  // Token types added to the grammar later are classified by their
  // spelling.
  if (text == "::") return TokenKind::kScope;
  const unsigned char first = text.empty() ? 0 : text[0];
  if (std::isalpha(first) || first == '_') return TokenKind::kWord;
  if (std::isdigit(first) || first == '"') return TokenKind::kLiteral;
  return TokenKind::kOperator;
}

// Returns the text that the formatter writes for a token of `kind`.
std::string CanonicalText(TokenKind kind, std::string_view text) {
  switch (kind) {
    case TokenKind::kAnd:
      return "and";
    case TokenKind::kOr:
      return "or";
    case TokenKind::kNot:
      return "not";
    default:
      return std::string(text);
  }
}

// True for the keywords that start a declaration. The lexer's vocabulary
// names a keyword by its spelling in quotes. A word that is not a keyword,
// such as `policyset` before the grammar reserves it, has no such name.
bool IsDeclarationKeyword(std::string_view literal_name) {
  return literal_name == "'schema'" || literal_name == "'const'" ||
         literal_name == "'permit'" || literal_name == "'forbid'" ||
         literal_name == "'policyset'";
}

FormatToken MakeToken(size_t type, std::string_view text,
                      const antlr4::dfa::Vocabulary& vocabulary) {
  FormatToken token;
  token.kind =
      type == antlr4::Token::EOF ? TokenKind::kEnd : KindOf(type, text);
  token.text = CanonicalText(token.kind, text);
  token.starts_declaration =
      type != antlr4::Token::EOF &&
      IsDeclarationKeyword(vocabulary.getLiteralName(type));
  return token;
}

}  // namespace

bool NeedsLineBreak(const Comment& comment) {
  return comment.is_line || comment.own_line ||
         comment.text.find('\n') != std::string::npos;
}

bool IsOpener(TokenKind kind) {
  return kind == TokenKind::kOpenParen || kind == TokenKind::kOpenBracket ||
         kind == TokenKind::kOpenBrace;
}

bool IsCloser(TokenKind kind) {
  return kind == TokenKind::kCloseParen || kind == TokenKind::kCloseBracket ||
         kind == TokenKind::kCloseBrace;
}

bool IsOperatorWord(std::string_view word) {
  return word == "in" || word == "has" || word == "like" || word == "when" ||
         word == "from";
}

bool EndsOperand(const FormatToken& token) {
  switch (token.kind) {
    case TokenKind::kLiteral:
    case TokenKind::kCloseParen:
    case TokenKind::kCloseBracket:
      return true;
    case TokenKind::kWord:
      return !IsOperatorWord(token.text);
    default:
      return false;
  }
}

bool IsTrailingComma(const std::vector<FormatToken>& tokens, size_t i) {
  return tokens[i].kind == TokenKind::kComma && i + 1 < tokens.size() &&
         tokens[i + 1].kind == TokenKind::kCloseBracket;
}

size_t MatchingCloser(const std::vector<FormatToken>& tokens, size_t open) {
  int depth = 0;
  for (size_t i = open; i < tokens.size(); ++i) {
    if (IsOpener(tokens[i].kind)) ++depth;
    if (IsCloser(tokens[i].kind) && --depth == 0) return i;
  }
  return kNotFound;
}

bool SpaceBefore(const std::vector<FormatToken>& tokens, size_t i) {
  const FormatToken& previous = tokens[i - 1];
  const FormatToken& token = tokens[i];
  switch (token.kind) {
    case TokenKind::kCloseParen:
    case TokenKind::kCloseBracket:
    case TokenKind::kComma:
    case TokenKind::kDot:
    case TokenKind::kScope:
    case TokenKind::kColon:
    case TokenKind::kSemicolon:
      return false;
    case TokenKind::kQuestion:
      // `email?: string` marks an optional attribute; elsewhere `?user` is
      // a template's placeholder.
      if (EndsOperand(previous)) return false;
      break;
    default:
      break;
  }
  switch (previous.kind) {
    case TokenKind::kOpenParen:
    case TokenKind::kOpenBracket:
    case TokenKind::kDot:
    case TokenKind::kScope:
    case TokenKind::kQuestion:
      return false;
    case TokenKind::kMinus:  // no space after a sign: -CLOCK_SKEW
      if (i < 2 || !EndsOperand(tokens[i - 2])) return false;
      break;
    default:
      break;
  }
  // A '(' after an operand calls, as in `f(x)` and `ip("10.0.0.1")`. After
  // an operator, a bracket opens a group or a collection: `not (x)`.
  if (token.kind == TokenKind::kOpenParen ||
      token.kind == TokenKind::kOpenBracket) {
    return !EndsOperand(previous);
  }
  return true;
}

std::optional<int> FlatWidth(const std::vector<FormatToken>& tokens,
                             size_t begin, size_t end) {
  int width = 0;
  bool after_comment = false;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) {
      for (const Comment& comment : tokens[i].comments) {
        if (NeedsLineBreak(comment)) return std::nullopt;
        width += 1 + TextWidth(comment.text);
        after_comment = true;
      }
      if (IsTrailingComma(tokens, i)) continue;
      if (after_comment || SpaceBefore(tokens, i)) ++width;
    }
    after_comment = false;
    width += TextWidth(tokens[i].text);
  }
  return width;
}

int TextWidth(std::string_view text) {
  return static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::vector<FormatToken> Lex(const SourceFile& source) {
  ByteStream input(source.text());
  VerdictLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream stream(&lexer);
  stream.fill();

  std::vector<FormatToken> tokens;
  std::vector<Comment> comments;
  size_t previous_end_line = 0;  // where the last token or comment ended
  for (const antlr4::Token* token : stream.getTokens()) {
    const size_t type = token->getType();
    const std::string_view text = TokenText(source.text(), *token);
    if (token->getStartIndex() == 0 && text == kByteOrderMark) continue;
    const size_t line = token->getLine();
    const bool own_line = line > previous_end_line;
    const bool blank_before =
        previous_end_line > 0 && line > previous_end_line + 1;
    previous_end_line = line + std::count(text.begin(), text.end(), '\n');
    if (type == VerdictLexer::LINE_COMMENT ||
        type == VerdictLexer::BLOCK_COMMENT) {
      comments.push_back({CleanComment(text),
                          type == VerdictLexer::LINE_COMMENT, own_line,
                          blank_before});
      continue;
    }
    tokens.push_back(MakeToken(type, text, lexer.getVocabulary()));
    tokens.back().blank_before = blank_before;
    tokens.back().comments = std::move(comments);
    comments.clear();
  }
  if (tokens.empty() || tokens.back().kind != TokenKind::kEnd) {
    // The lexer always ends with EOF. This guard keeps the kEnd token that
    // the layout relies on.
    tokens.emplace_back();
    tokens.back().comments = std::move(comments);
  }
  return tokens;
}

}  // namespace verdict::compiler::format_internal
