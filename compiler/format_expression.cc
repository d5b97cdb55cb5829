#include "compiler/format_expression.h"

#include <cstddef>
#include <optional>
#include <vector>

#include "compiler/format_tokens.h"
#include "compiler/format_writer.h"

namespace verdict::compiler::format_internal {

void ExpressionLayout::Write(size_t begin, size_t end, Break first, int indent,
                             int tail) {
  Chain(begin, end, first, indent, indent, tail);
}

// Lays out a chain of operands joined by 'or', or else by 'and'. The first
// token starts a line at `first_indent` if it starts one, and a break before
// an operator at `indent`. The operands of an 'or' chain that are 'and'
// chains and do not fit break in turn, two columns deeper, so that the
// layout shows that 'and' binds tighter.
void ExpressionLayout::Chain(size_t begin, size_t end, Break first,
                             int first_indent, int indent, int tail) {
  const std::vector<size_t> ors = TopLevel(begin, end, TokenKind::kOr);
  std::vector<size_t> operators =
      ors.empty() ? TopLevel(begin, end, TokenKind::kAnd) : ors;
  if (operators.empty() ||
      Fits(begin, end, ColumnFor(first, first_indent), tail)) {
    Operand(begin, end, first, first_indent, tail);
    return;
  }
  auto operand = [&](size_t from, size_t to, Break brk, int line_indent,
                     int operand_tail) {
    if (ors.empty()) {
      Operand(from, to, brk, line_indent, operand_tail);
    } else {
      Chain(from, to, brk, line_indent, indent + kIndent, operand_tail);
    }
  };
  operators.push_back(end);
  operand(begin, operators[0], first, first_indent, 0);
  for (size_t k = 0; k + 1 < operators.size(); ++k) {
    out_.Emit(operators[k], Break::kLine, indent);
    const bool last = k + 2 == operators.size();
    operand(operators[k] + 1, operators[k + 1], Break::kSpace, indent,
            last ? tail : 0);
  }
}

// An operand goes on one line. Only a parenthesised group or a collection
// in it that does not fit breaks, inside its brackets.
void ExpressionLayout::Operand(size_t begin, size_t end, Break first,
                               int indent, int tail) {
  size_t i = begin;
  while (i < end) {
    const Break brk = i == begin ? first : FlatBreak(tokens_, i);
    const int line_indent = i == begin ? indent : indent + kIndent;
    if (IsBreakableOpener(i) && BreaksGroup(i, end, brk, line_indent, tail)) {
      i = tokens_[i].kind == TokenKind::kOpenParen
              ? Group(i, end, brk, line_indent, tail)
              : Collection(i, brk, line_indent);
      continue;
    }
    if (IsTrailingComma(tokens_, i)) {
      out_.Skip(i, line_indent);
    } else {
      out_.Emit(i, brk, line_indent);
    }
    ++i;
  }
}

// True for a '(' that groups and for a '[' that starts a collection, when
// the brackets are not empty. A '(' after a name starts a call, whose
// arguments stay on one line.
bool ExpressionLayout::IsBreakableOpener(size_t i) const {
  const TokenKind kind = tokens_[i].kind;
  if (kind != TokenKind::kOpenParen && kind != TokenKind::kOpenBracket) {
    return false;
  }
  if (i > 0 && EndsOperand(tokens_[i - 1])) return false;
  const size_t close = MatchingCloser(tokens_, i);
  return close != kNotFound && close > i + 1;
}

// True when the group at `open`, with the closing brackets right after it,
// does not fit on the current line.
bool ExpressionLayout::BreaksGroup(size_t open, size_t end, Break brk,
                                   int indent, int tail) const {
  const size_t stop = ClosersEnd(MatchingCloser(tokens_, open), end);
  return !Fits(open, stop, ColumnFor(brk, indent), stop == end ? tail : 0);
}

// (a
//  or b)
size_t ExpressionLayout::Group(size_t open, size_t end, Break brk, int indent,
                               int tail) {
  const size_t close = MatchingCloser(tokens_, open);
  out_.Emit(open, brk, indent);
  const int inner = out_.column();
  const size_t stop = ClosersEnd(close, end);
  const int inner_tail =
      FlatWidth(tokens_, close, stop).value_or(0) + (stop == end ? tail : 0);
  Write(open + 1, close, Break::kNone, inner, inner_tail);
  out_.Emit(close, Break::kNone, inner - 1, inner);
  return close + 1;
}

// [
//   "a",
//   "b",
// ]
size_t ExpressionLayout::Collection(size_t open, Break brk, int indent) {
  const size_t close = MatchingCloser(tokens_, open);
  out_.Emit(open, brk, indent);
  const int base = out_.line_indent();
  const std::vector<size_t> commas =
      TopLevel(open + 1, close, TokenKind::kComma);
  size_t start = open + 1;
  for (size_t k = 0; k <= commas.size() && start < close; ++k) {
    const size_t stop = k < commas.size() ? commas[k] : close;
    Write(start, stop, Break::kLine, base + kIndent, 1);
    if (stop < close) {
      out_.Emit(stop, Break::kNone, base + kIndent);
    } else {
      out_.Write(",");
    }
    start = stop + 1;
  }
  out_.Emit(close, Break::kLine, base, base + kIndent);
  return close + 1;
}

bool ExpressionLayout::Fits(size_t begin, size_t end, int column,
                            int tail) const {
  const std::optional<int> width = FlatWidth(tokens_, begin, end);
  return width.has_value() && column + *width + tail <= kLineWidth;
}

int ExpressionLayout::ColumnFor(Break brk, int indent) const {
  if (brk == Break::kLine || brk == Break::kBlankLine) return indent;
  return out_.column() + (brk == Break::kSpace ? 1 : 0);
}

// Returns the index after `close` and the closing brackets that follow it
// before `end`.
size_t ExpressionLayout::ClosersEnd(size_t close, size_t end) const {
  size_t stop = close + 1;
  while (stop < end && IsCloser(tokens_[stop].kind)) ++stop;
  return stop;
}

// Returns the indices of the tokens of `kind` in [begin, end) that no
// bracket in that range encloses.
std::vector<size_t> ExpressionLayout::TopLevel(size_t begin, size_t end,
                                               TokenKind kind) const {
  std::vector<size_t> found;
  int depth = 0;
  for (size_t i = begin; i < end; ++i) {
    if (IsOpener(tokens_[i].kind)) ++depth;
    if (IsCloser(tokens_[i].kind)) --depth;
    if (depth == 0 && tokens_[i].kind == kind) found.push_back(i);
  }
  return found;
}

}  // namespace verdict::compiler::format_internal
