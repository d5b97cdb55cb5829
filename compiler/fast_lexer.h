// The lexer of the hand-written parser (fast_parser.h), and the nesting
// check that parser.cc runs on tokens before parsing.

#ifndef VERDICT_COMPILER_FAST_LEXER_H_
#define VERDICT_COMPILER_FAST_LEXER_H_

#include <cstdint>
#include <string_view>
#include <vector>

namespace verdict::compiler {

// The tokens of grammar/Verdict.g4 that valid input contains. The grammar's
// tokens for malformed input (BAD_NUMBER and below) have no type here: the
// lexer stops at them, and ParseFileFast returns nullopt.
enum class TokenType : uint8_t {
  kEnd,
  kIdent,
  kIntLiteral,
  kDurationLiteral,
  kStringLiteral,
  // Reserved words.
  kSchema,
  kModule,
  kPolicySet,
  kFrom,
  kConst,
  kPermit,
  kForbid,
  kWhen,
  kAnd,
  kOr,
  kNot,
  kIn,
  kHas,
  kObligation,
  kAdvice,
  kLike,
  kTrue,
  kFalse,
  kBool,
  kInt,
  kString,
  kTimestamp,
  kDuration,
  kSet,
  kList,
  // Operators and punctuation.
  kAndAnd,
  kOrOr,
  kEq,
  kNe,
  kLe,
  kGe,
  kLt,
  kGt,
  kBang,
  kAssign,
  kPlus,
  kMinus,
  kDot,
  kComma,
  kColonColon,
  kColon,
  kSemi,
  kQuestion,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
};

// One token on the grammar's default channel. Columns count bytes from 1,
// as ANTLR's do over the byte stream of parser.cc. No such token contains
// a line break, so its end column is column + length.
struct Token {
  TokenType type = TokenType::kEnd;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t line = 0;
  uint32_t column = 0;
};

// Splits `text` into tokens with the rules of grammar/Verdict.g4, dropping
// whitespace and comments and skipping a UTF-8 byte order mark at the start.
// The last token is kEnd. Returns false at the first input that the grammar
// lexes as a malformed token: a number run into letters, an unterminated
// string or block comment, or any other character. REQUIRES: `text` is
// shorter than 4 GiB. Thread-safe; linear in the size of `text`.
bool Tokenize(std::string_view text, std::vector<Token>& tokens);

// Returns false when brackets and prefix operators nest past
// kMaxNestingDepth (parser_internal.h), counted as parser.cc counts them
// before it runs the ANTLR parser, which rejects such a file. The parser of
// fast_parser.cc recurses only at brackets, prefix operators and policy sets,
// so its depth of recursion within an expression is bounded by this check.
bool NestingWithinLimit(const std::vector<Token>& tokens);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_FAST_LEXER_H_
