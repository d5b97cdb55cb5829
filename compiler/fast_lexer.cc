#include "compiler/fast_lexer.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "compiler/parser_internal.h"

namespace verdict::compiler {
namespace {

struct ReservedWord {
  std::string_view text;
  TokenType type;
};

constexpr ReservedWord kReservedWords[] = {
    {"schema", TokenType::kSchema},
    {"module", TokenType::kModule},
    {"policyset", TokenType::kPolicySet},
    {"from", TokenType::kFrom},
    {"const", TokenType::kConst},
    {"permit", TokenType::kPermit},
    {"forbid", TokenType::kForbid},
    {"when", TokenType::kWhen},
    {"and", TokenType::kAnd},
    {"or", TokenType::kOr},
    {"not", TokenType::kNot},
    {"in", TokenType::kIn},
    {"has", TokenType::kHas},
    {"obligation", TokenType::kObligation},
    {"advice", TokenType::kAdvice},
    {"like", TokenType::kLike},
    {"true", TokenType::kTrue},
    {"false", TokenType::kFalse},
    {"bool", TokenType::kBool},
    {"int", TokenType::kInt},
    {"string", TokenType::kString},
    {"timestamp", TokenType::kTimestamp},
    {"duration", TokenType::kDuration},
    {"set", TokenType::kSet},
    {"list", TokenType::kList},
};

TokenType WordType(std::string_view word) {
  for (const ReservedWord& reserved : kReservedWords) {
    if (reserved.text == word) return reserved.type;
  }
  return TokenType::kIdent;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentPart(char c) { return IsIdentStart(c) || IsDigit(c); }

// ---------------------------------------------------------------------------
// Lexer

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  bool Tokenize(std::vector<Token>& tokens);

 private:
  // Returns the length of the token at `pos_`, setting `type`, or 0.
  size_t Scan(TokenType& type);
  size_t ScanNumber(TokenType& type) const;
  size_t ScanString() const;
  size_t ScanOperator(TokenType& type) const;
  // Skips whitespace and comments. Returns false at an unterminated
  // block comment.
  bool SkipSpace();

  char At(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;  // offset of the first byte of the current line
};

bool Lexer::Tokenize(std::vector<Token>& tokens) {
  // A UTF-8 byte order mark is hidden as ANTLR's INVALID_CHAR token, which
  // takes every byte >= 0x80 in a row: it is skipped only when it is the
  // whole token.
  if (text_.substr(0, 3) == "\xEF\xBB\xBF" &&
      static_cast<unsigned char>(At(3)) < 0x80) {
    pos_ = 3;
  }
  tokens.reserve(text_.size() / 4);
  while (true) {
    if (!SkipSpace()) return false;
    Token token;
    token.offset = static_cast<uint32_t>(pos_);
    token.line = line_;
    token.column = static_cast<uint32_t>(pos_ - line_start_ + 1);
    if (pos_ >= text_.size()) {
      tokens.push_back(token);  // kEnd
      return true;
    }
    const size_t length = Scan(token.type);
    if (length == 0) return false;
    token.length = static_cast<uint32_t>(length);
    tokens.push_back(token);
    pos_ += length;
  }
}

bool Lexer::SkipSpace() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '\n') {
      ++line_;
      line_start_ = ++pos_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++pos_;
    } else if (c == '/' && At(pos_ + 1) == '/') {
      while (pos_ < text_.size() && text_[pos_] != '\n' &&
             text_[pos_] != '\r') {
        ++pos_;
      }
    } else if (c == '/' && At(pos_ + 1) == '*') {
      const size_t close = text_.find("*/", pos_ + 2);
      if (close == std::string_view::npos) return false;
      for (; pos_ < close + 2; ++pos_) {
        if (text_[pos_] == '\n') {
          ++line_;
          line_start_ = pos_ + 1;
        }
      }
    } else {
      return true;
    }
  }
  return true;
}

size_t Lexer::Scan(TokenType& type) {
  const char c = text_[pos_];
  if (IsDigit(c)) return ScanNumber(type);
  if (IsIdentStart(c)) {
    size_t end = pos_ + 1;
    while (end < text_.size() && IsIdentPart(text_[end])) ++end;
    type = WordType(text_.substr(pos_, end - pos_));
    return end - pos_;
  }
  if (c == '"') {
    type = TokenType::kStringLiteral;
    return ScanString();
  }
  return ScanOperator(type);
}

// DURATION_LIT is digits and one unit letter. Digits followed by any other
// run of letters are BAD_NUMBER, which is longer and so wins.
size_t Lexer::ScanNumber(TokenType& type) const {
  size_t end = pos_;
  while (end < text_.size() && IsDigit(text_[end])) ++end;
  if (!IsIdentStart(At(end))) {
    type = TokenType::kIntLiteral;
    return end - pos_;
  }
  const char unit = text_[end];
  const bool is_unit = unit == 's' || unit == 'm' || unit == 'h' || unit == 'd';
  if (!is_unit || IsIdentPart(At(end + 1))) return 0;
  type = TokenType::kDurationLiteral;
  return end + 1 - pos_;
}

// STRING_LIT: a backslash may escape any byte but a line break, and any
// other byte but '"' and a line break stands for itself.
size_t Lexer::ScanString() const {
  size_t end = pos_ + 1;
  while (end < text_.size()) {
    const char c = text_[end];
    if (c == '"') return end + 1 - pos_;
    if (c == '\n' || c == '\r') return 0;
    if (c == '\\') {
      const char escaped = At(end + 1);
      if (end + 1 >= text_.size() || escaped == '\n' || escaped == '\r') {
        return 0;
      }
      end += 2;
    } else {
      ++end;
    }
  }
  return 0;
}

size_t Lexer::ScanOperator(TokenType& type) const {
  const char c = text_[pos_];
  const char next = At(pos_ + 1);
  auto one_or_two = [&](char second, TokenType pair, TokenType single) {
    type = next == second ? pair : single;
    return next == second ? size_t{2} : size_t{1};
  };
  switch (c) {
    case '&':
      type = TokenType::kAndAnd;
      return next == '&' ? 2 : 0;
    case '|':
      type = TokenType::kOrOr;
      return next == '|' ? 2 : 0;
    case '=':
      return one_or_two('=', TokenType::kEq, TokenType::kAssign);
    case '!':
      return one_or_two('=', TokenType::kNe, TokenType::kBang);
    case '<':
      return one_or_two('=', TokenType::kLe, TokenType::kLt);
    case '>':
      return one_or_two('=', TokenType::kGe, TokenType::kGt);
    case ':':
      return one_or_two(':', TokenType::kColonColon, TokenType::kColon);
    default:
      break;
  }
  switch (c) {
    case '+':
      type = TokenType::kPlus;
      break;
    case '-':
      type = TokenType::kMinus;
      break;
    case '.':
      type = TokenType::kDot;
      break;
    case ',':
      type = TokenType::kComma;
      break;
    case ';':
      type = TokenType::kSemi;
      break;
    case '?':
      type = TokenType::kQuestion;
      break;
    case '(':
      type = TokenType::kLParen;
      break;
    case ')':
      type = TokenType::kRParen;
      break;
    case '{':
      type = TokenType::kLBrace;
      break;
    case '}':
      type = TokenType::kRBrace;
      break;
    case '[':
      type = TokenType::kLBracket;
      break;
    case ']':
      type = TokenType::kRBracket;
      break;
    default:
      return 0;  // INVALID_CHAR
  }
  return 1;
}

// ---------------------------------------------------------------------------
// The nesting check

// True for the tokens that can end an operand: after them a '-' subtracts.
bool EndsOperand(TokenType type) {
  switch (type) {
    case TokenType::kIdent:
    case TokenType::kIntLiteral:
    case TokenType::kDurationLiteral:
    case TokenType::kStringLiteral:
    case TokenType::kTrue:
    case TokenType::kFalse:
    case TokenType::kRParen:
    case TokenType::kRBracket:
      return true;
    default:
      return false;
  }
}

bool IsDeclarationBoundary(TokenType type) {
  switch (type) {
    case TokenType::kSchema:
    case TokenType::kPolicySet:
    case TokenType::kConst:
    case TokenType::kPermit:
    case TokenType::kForbid:
    case TokenType::kLBrace:
    case TokenType::kRBrace:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Tokenize(std::string_view text, std::vector<Token>& tokens) {
  return Lexer(text).Tokenize(tokens);
}

bool NestingWithinLimit(const std::vector<Token>& tokens) {
  std::vector<int> pending_prefixes = {0};  // per open bracket
  int depth = 0;
  bool has_previous = false;
  TokenType previous = TokenType::kEnd;
  for (const Token& token : tokens) {
    const TokenType type = token.type;
    if (IsDeclarationBoundary(type)) {
      pending_prefixes.assign(1, 0);
      depth = 0;
    } else if (type == TokenType::kLParen || type == TokenType::kLBracket) {
      pending_prefixes.push_back(0);
      ++depth;
    } else if (type == TokenType::kNot || type == TokenType::kBang ||
               (type == TokenType::kMinus &&
                (!has_previous || !EndsOperand(previous)))) {
      ++pending_prefixes.back();
      ++depth;
    } else if (type == TokenType::kRParen || type == TokenType::kRBracket) {
      if (pending_prefixes.size() > 1) {
        depth -= pending_prefixes.back() + 1;
        pending_prefixes.pop_back();
      }
    }
    if (EndsOperand(type)) {
      depth -= pending_prefixes.back();
      pending_prefixes.back() = 0;
    }
    if (depth > kMaxNestingDepth) return false;
    previous = type;
    has_previous = true;
  }
  return true;
}

}  // namespace verdict::compiler
