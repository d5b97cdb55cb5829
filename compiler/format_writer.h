// The line writer behind `verdict fmt` (formatter.h).
//
// The layout (format_layout.h) passes each token to a LineWriter, once, with
// the break it wants before the token. The writer then writes the comments
// attached to the token, in source order, and adds the line breaks that
// comments force, so that the layout decides only where breaks and spaces go
// between tokens. formatter.cc checks that the output has every comment.
//
// Internal to the formatter.

#ifndef VERDICT_COMPILER_FORMAT_WRITER_H_
#define VERDICT_COMPILER_FORMAT_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/format_tokens.h"

namespace verdict::compiler::format_internal {

// The placement of a token relative to the text written before it.
enum class Break {
  kNone,       // right after it
  kSpace,      // after one space
  kLine,       // on a new line; a blank line in the source is kept
  kBlankLine,  // on a new line after exactly one blank line
};

// Returns kSpace when tokens[i] takes a space after tokens[i - 1] on one
// line, else kNone.
inline Break FlatBreak(const std::vector<FormatToken>& tokens, size_t i) {
  return SpaceBefore(tokens, i) ? Break::kSpace : Break::kNone;
}

// Writes tokens and their comments into lines. Not thread-safe; cheap.
//
// Comments keep their source position relative to the tokens. A comment
// that trails a token on its line stays after it, separated by one space. A
// comment on its own line stays on its own line, and the next token starts a
// new line.
// A blank line in the source before a comment, or before a token placed on
// a new line, is kept as one blank line, except right after an opening
// bracket and right before a closing one.
class LineWriter {
 public:
  explicit LineWriter(const std::vector<FormatToken>& tokens)
      : tokens_(tokens) {}

  // Writes the comments before tokens[i], then tokens[i] placed as `brk`
  // requests. A line that the token starts, or that a comment forces, is
  // indented by `indent`, and a comment on its own line by `comment_indent`.
  void Emit(size_t i, Break brk, int indent, int comment_indent);
  void Emit(size_t i, Break brk, int indent) { Emit(i, brk, indent, indent); }

  // Writes the comments before tokens[i] but leaves the token out: a comma
  // that the layout drops.
  void Skip(size_t i, int comment_indent);

  // Writes `text`, which is not in the source, at the end of the line.
  void Write(std::string_view text);

  // The column at which the next text on the current line would start.
  int column() const;
  // The indentation of the current line.
  int line_indent() const { return line_indent_; }

  // Returns the lines written, each without trailing whitespace, and a
  // final newline unless nothing was written.
  std::string Finish();

 private:
  // Writes the comments before `token`. Returns true when `brk` requests a
  // blank line that no comment took, so that the token must take it.
  bool WriteComments(const FormatToken& token, Break brk, int comment_indent);
  void NewLine(int indent, bool blank);
  void Append(std::string_view text);

  const std::vector<FormatToken>& tokens_;
  std::vector<std::string> lines_;
  std::string line_;
  bool line_empty_ = true;
  int line_indent_ = 0;
  bool need_newline_ = false;   // a comment written last must end its line
  bool after_comment_ = false;  // the last text on the line is a comment
  bool allow_blank_ = false;    // false at the start and after an opener
};

}  // namespace verdict::compiler::format_internal

#endif  // VERDICT_COMPILER_FORMAT_WRITER_H_
