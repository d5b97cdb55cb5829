// Limits and literal decoding shared by the two parsers of policy files:
// the hand-written one (fast_parser.h) and the ANTLR one (parser.h).

#ifndef VERDICT_COMPILER_PARSER_INTERNAL_H_
#define VERDICT_COMPILER_PARSER_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verdict::compiler {

// Expressions nested deeper than this are rejected, so that every later stage
// may recurse over an expression tree without watching its stack. The depth
// of an AST expression counts its nodes from the root to the deepest leaf,
// so a chain of 64 'or' operands is as deep as the limit allows. Before
// parsing, the tokens are held to the same limit for brackets and prefix
// operators, which are what make ANTLR's parser recurse.
inline constexpr int kMaxNestingDepth = 64;

// Larger sources get one diagnostic and are not parsed.
inline constexpr size_t kMaxSourceBytes = size_t{1} << 20;

// Returns `text` single-quoted for a message, with control bytes escaped
// and anything past 40 bytes cut off.
std::string Quote(std::string_view text);

// Returns the value of decimal `digits` times `unit`, or nullopt when it is
// larger than `limit`.
std::optional<uint64_t> ParseMagnitude(std::string_view digits, uint64_t unit,
                                       uint64_t limit);

// Returns the seconds in one duration unit: 's', 'm', 'h' or 'd'.
uint64_t DurationUnitSeconds(char unit);

// An invalid part of a string literal's body: its byte offset and length
// in the body, and what is wrong with it.
struct StringError {
  size_t offset = 0;
  size_t length = 0;
  std::string message;
};

// Decodes the body of a string literal, without its quotes. Raw bytes must
// be UTF-8, as the values that policies compare strings with are. Returns
// nullopt with `error` set at the first invalid escape or byte.
std::optional<std::string> DecodeStringBody(std::string_view body,
                                            StringError& error);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_PARSER_INTERNAL_H_
