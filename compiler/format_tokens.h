// The tokens of a policy file as `verdict fmt` (formatter.h) reads them.
//
// Each token carries the comments that precede it, so that the layout
// (format_layout.h) places tokens and the writer (format_writer.h) keeps
// every comment. The lexer is the grammar's, with comments on the hidden
// channel.
//
// Internal to the formatter.

#ifndef VERDICT_COMPILER_FORMAT_TOKENS_H_
#define VERDICT_COMPILER_FORMAT_TOKENS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source.h"

namespace verdict::compiler::format_internal {

// The index that MatchingCloser returns when there is none.
inline constexpr size_t kNotFound = static_cast<size_t>(-1);

// The maximum width of a line, in columns, before the layout breaks it.
inline constexpr int kLineWidth = 80;

// The class of a token that the layout works with. Keywords that act as
// operators (`in`, `has`, `like`) are words, and the layout distinguishes
// them by their text, so that operators added to the grammar later format
// sensibly.
enum class TokenKind {
  kWord,      // names and keywords: subject, in, timestamp
  kLiteral,   // numbers, durations and strings
  kOperator,  // == != < <= > >= + = and anything else
  kAnd,       // `and` or `&&`, written `and`
  kOr,        // `or` or `||`, written `or`
  kNot,       // `not` or `!`, written `not`
  kMinus,
  kOpenParen,
  kCloseParen,
  kOpenBracket,
  kCloseBracket,
  kOpenBrace,
  kCloseBrace,
  kComma,
  kDot,
  kScope,  // `::` between an entity type and its id: Group::"eng"
  kColon,
  kQuestion,
  kSemicolon,
  kEnd,  // end of file, which carries the comments after the last token
};

struct Comment {
  std::string text;           // trailing whitespace removed from each line
  bool is_line = false;       // a `//` comment: the line ends after it
  bool own_line = false;      // first on its line in the source
  bool blank_before = false;  // a blank line precedes it in the source
};

struct FormatToken {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // as written, except for the normalised and/or/not
  // A keyword that starts a declaration: schema, const, permit, forbid or
  // policyset.
  bool starts_declaration = false;
  bool blank_before = false;      // a blank line precedes it in the source
  std::vector<Comment> comments;  // those between the previous token and it
};

// True for a comment that cannot share its line with the next token: a line
// comment, one on its own line, or one that spans lines.
bool NeedsLineBreak(const Comment& comment);

// True for '(', '[' and '{'.
bool IsOpener(TokenKind kind);
// True for ')', ']' and '}'.
bool IsCloser(TokenKind kind);

// True for the words that are operators, around which an opening bracket
// takes a space: `in`, `has`, `like`, `when`, `from`.
bool IsOperatorWord(std::string_view word);

// True when `token` can end an operand, so that a '-' after it subtracts and
// a '(' after it calls.
bool EndsOperand(const FormatToken& token);

// True when a comma at `i` is the optional last one in a collection, which
// a collection on one line leaves out.
bool IsTrailingComma(const std::vector<FormatToken>& tokens, size_t i);

// Returns the index of the bracket that closes the one at tokens[open], or
// kNotFound.
size_t MatchingCloser(const std::vector<FormatToken>& tokens, size_t open);

// True when tokens[i] takes a space after tokens[i - 1] on one line.
bool SpaceBefore(const std::vector<FormatToken>& tokens, size_t i);

// Returns the columns that tokens [begin, end) take on one line, or nullopt
// when a comment among them needs a line break. Comments before `begin` do
// not count. O(end - begin).
std::optional<int> FlatWidth(const std::vector<FormatToken>& tokens,
                             size_t begin, size_t end);

// Returns the columns `text` takes: one per UTF-8 character.
int TextWidth(std::string_view text);

// Lexes `source` into tokens that carry the comments before them. The last
// token is kEnd. A UTF-8 byte order mark at the start is left out. The
// source need not parse, because every input lexes. Thread-safe, and takes
// linear time.
std::vector<FormatToken> Lex(const SourceFile& source);

}  // namespace verdict::compiler::format_internal

#endif  // VERDICT_COMPILER_FORMAT_TOKENS_H_
