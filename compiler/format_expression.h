// The layout of expressions for `verdict fmt` (formatter.h): policy
// conditions, constant values and the values of obligation fields.
//
// Internal to the formatter.

#ifndef VERDICT_COMPILER_FORMAT_EXPRESSION_H_
#define VERDICT_COMPILER_FORMAT_EXPRESSION_H_

#include <cstddef>
#include <vector>

#include "compiler/format_tokens.h"
#include "compiler/format_writer.h"

namespace verdict::compiler::format_internal {

// The indentation of one nesting level.
inline constexpr int kIndent = 2;

// Writes expressions through a LineWriter. An expression that fits on its
// line stays on it. One that does not breaks before each 'or' outside
// brackets, or before each 'and' when it has no such 'or'. A parenthesised
// group or a collection that still does not fit breaks inside its brackets.
// Not thread-safe; cheap to construct. Writing takes time linear in the
// number of tokens times the bracket depth.
class ExpressionLayout {
 public:
  ExpressionLayout(const std::vector<FormatToken>& tokens, LineWriter& out)
      : tokens_(tokens), out_(out) {}

  // Writes the expression in tokens [begin, end). The first token is placed
  // as `first` requests, and a line that it or an operator starts is
  // indented by `indent`. `tail` is the width of the text that will follow
  // the expression on its last line, such as the ')' of an enclosing group.
  void Write(size_t begin, size_t end, Break first, int indent, int tail);

 private:
  void Chain(size_t begin, size_t end, Break first, int first_indent,
             int indent, int tail);
  void Operand(size_t begin, size_t end, Break first, int indent, int tail);
  bool IsBreakableOpener(size_t i) const;
  bool BreaksGroup(size_t open, size_t end, Break brk, int indent,
                   int tail) const;
  size_t Group(size_t open, size_t end, Break brk, int indent, int tail);
  size_t Collection(size_t open, Break brk, int indent);

  bool Fits(size_t begin, size_t end, int column, int tail) const;
  int ColumnFor(Break brk, int indent) const;
  size_t ClosersEnd(size_t close, size_t end) const;
  std::vector<size_t> TopLevel(size_t begin, size_t end, TokenKind kind) const;

  const std::vector<FormatToken>& tokens_;
  LineWriter& out_;
};

}  // namespace verdict::compiler::format_internal

#endif  // VERDICT_COMPILER_FORMAT_EXPRESSION_H_
