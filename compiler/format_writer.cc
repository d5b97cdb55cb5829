#include "compiler/format_writer.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace verdict::compiler::format_internal {
namespace {

std::string_view StripTrailingSpace(std::string_view line) {
  const size_t end = line.find_last_not_of(" \t\r");
  return end == std::string_view::npos ? std::string_view()
                                       : line.substr(0, end + 1);
}

}  // namespace

void LineWriter::Emit(size_t i, Break brk, int indent, int comment_indent) {
  const FormatToken& token = tokens_[i];
  // A comma or ';' goes before the comments that precede it, so that it
  // stays on the line of the token it follows: `"a", // note`.
  const bool punctuation_first = (token.kind == TokenKind::kComma ||
                                  token.kind == TokenKind::kSemicolon) &&
                                 brk == Break::kNone && !need_newline_ &&
                                 !line_empty_;
  if (punctuation_first) {
    Append(token.text);
    after_comment_ = false;
    WriteComments(token, brk, comment_indent);
    return;
  }
  const bool blank_owed = WriteComments(token, brk, comment_indent);
  if (token.kind == TokenKind::kEnd) return;
  if (brk == Break::kLine || brk == Break::kBlankLine || need_newline_ ||
      line_empty_) {
    const bool blank =
        blank_owed || (token.blank_before && !IsCloser(token.kind));
    NewLine(indent, blank);
  } else if (brk == Break::kSpace || after_comment_) {
    line_ += ' ';
  }
  Append(token.text);
  after_comment_ = false;
  allow_blank_ = !IsOpener(token.kind);
}

void LineWriter::Skip(size_t i, int comment_indent) {
  WriteComments(tokens_[i], Break::kNone, comment_indent);
}

void LineWriter::Write(std::string_view text) {
  Append(text);
  after_comment_ = false;
}

bool LineWriter::WriteComments(const FormatToken& token, Break brk,
                               int comment_indent) {
  bool force_blank = brk == Break::kBlankLine;
  for (const Comment& comment : token.comments) {
    if (comment.own_line || line_empty_) {
      NewLine(comment_indent, force_blank || comment.blank_before);
      force_blank = false;
      allow_blank_ = true;
    } else {
      line_ += ' ';
    }
    Append(comment.text);
    need_newline_ = need_newline_ || NeedsLineBreak(comment);
    after_comment_ = true;
  }
  return force_blank;
}

int LineWriter::column() const {
  const size_t newline = line_.rfind('\n');
  const std::string_view last =
      newline == std::string::npos
          ? std::string_view(line_)
          : std::string_view(line_).substr(newline + 1);
  return TextWidth(last);
}

void LineWriter::NewLine(int indent, bool blank) {
  if (!line_empty_) lines_.push_back(std::move(line_));
  if (blank && allow_blank_ && !lines_.empty() && !lines_.back().empty()) {
    lines_.emplace_back();
  }
  line_.assign(static_cast<size_t>(indent), ' ');
  line_empty_ = true;
  line_indent_ = indent;
  need_newline_ = false;
  after_comment_ = false;
}

void LineWriter::Append(std::string_view text) {
  line_.append(text);
  line_empty_ = false;
}

std::string LineWriter::Finish() {
  if (!line_empty_) lines_.push_back(std::move(line_));
  line_.clear();
  line_empty_ = true;
  std::string out;
  for (const std::string& line : lines_) {
    // A block comment may hold several lines.
    std::string_view rest = line;
    while (true) {
      const size_t newline = rest.find('\n');
      out.append(StripTrailingSpace(rest.substr(0, newline)));
      out.push_back('\n');
      if (newline == std::string_view::npos) break;
      rest.remove_prefix(newline + 1);
    }
  }
  return out;
}

}  // namespace verdict::compiler::format_internal
