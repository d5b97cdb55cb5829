#include "compiler/format_layout.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "compiler/format_expression.h"
#include "compiler/format_tokens.h"
#include "compiler/format_writer.h"

namespace verdict::compiler::format_internal {
namespace {

// Lays out the declarations of one file. Each method writes the tokens
// [begin, end) that it is given, and `base` is the indentation of the
// declaration: 0 at the top level, more inside a block of declarations.
class Layout {
 public:
  explicit Layout(const std::vector<FormatToken>& tokens)
      : tokens_(tokens), out_(tokens), expressions_(tokens, out_) {}

  std::string Run();

 private:
  void Declarations(size_t begin, size_t end, int base);
  size_t DeclarationEnd(size_t begin, size_t end) const;
  void Declaration(size_t begin, size_t end, int base);
  bool Block(size_t begin, size_t end, int base);
  void Schema(size_t begin, size_t end, int base);
  size_t AttributeEnd(size_t begin, size_t close) const;
  void Attribute(size_t begin, size_t end, int indent);
  void Const(size_t begin, size_t end, int base);
  void Policy(size_t begin, size_t end, int base);
  void Duty(size_t begin, size_t open, size_t close, int indent);
  std::vector<size_t> FieldStarts(size_t begin, size_t end) const;
  bool DutyFitsOnLine(const std::vector<size_t>& fields, size_t close) const;
  void Flat(size_t begin, size_t end, Break first, int indent);
  size_t Find(size_t begin, size_t end, TokenKind kind) const;

  const std::vector<FormatToken>& tokens_;
  LineWriter out_;
  ExpressionLayout expressions_;
};

std::string Layout::Run() {
  const size_t end = tokens_.size() - 1;  // the kEnd token
  Declarations(0, end, 0);
  out_.Emit(end, Break::kLine, 0);  // the comments after the last token
  return out_.Finish();
}

// Declarations follow one another with one blank line between them.
void Layout::Declarations(size_t begin, size_t end, int base) {
  size_t i = begin;
  while (i < end) {
    const size_t next = DeclarationEnd(i, end);
    Declaration(i, next, base);
    i = next;
  }
}

// Returns the start of the declaration after the one at `begin`, or `end`.
size_t Layout::DeclarationEnd(size_t begin, size_t end) const {
  int depth = 0;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin && depth == 0 && tokens_[i].starts_declaration) return i;
    if (IsOpener(tokens_[i].kind)) ++depth;
    if (IsCloser(tokens_[i].kind)) --depth;
  }
  return end;
}

void Layout::Declaration(size_t begin, size_t end, int base) {
  const std::string& word = tokens_[begin].text;
  if (word == "schema") {
    Schema(begin, end, base);
  } else if (word == "const") {
    Const(begin, end, base);
  } else if (word == "permit" || word == "forbid") {
    Policy(begin, end, base);
  } else if (!Block(begin, end, base)) {
    Flat(begin, end, Break::kBlankLine, base);
  }
}

// A block of declarations, such as a policy set. Returns false, having
// written nothing, when tokens [begin, end) are not one.
//
// policyset "payments" first_applicable {
//   permit ...
// }
bool Layout::Block(size_t begin, size_t end, int base) {
  const size_t open = Find(begin, end, TokenKind::kOpenBrace);
  const size_t close = end - 1;
  if (open == kNotFound || MatchingCloser(tokens_, open) != close ||
      (open + 1 < close && !tokens_[open + 1].starts_declaration)) {
    return false;
  }
  Flat(begin, open + 1, Break::kBlankLine, base);
  Declarations(open + 1, close, base + kIndent);
  out_.Emit(close, open + 1 == close ? Break::kNone : Break::kLine, base,
            base + kIndent);
  return true;
}

// schema GROUP [from DATA_SET] {
//   NAME: TYPE
// }
void Layout::Schema(size_t begin, size_t end, int base) {
  const size_t open = Find(begin, end, TokenKind::kOpenBrace);
  const size_t close = end - 1;
  if (open == kNotFound || tokens_[close].kind != TokenKind::kCloseBrace) {
    Flat(begin, end, Break::kBlankLine, base);
    return;
  }
  Flat(begin, open + 1, Break::kBlankLine, base);
  size_t i = open + 1;
  while (i < close) {
    const size_t next = AttributeEnd(i, close);
    if (next == kNotFound) {  // syntax added to the grammar later
      Flat(i, close, Break::kLine, base + kIndent);
      break;
    }
    Attribute(i, next, base + kIndent);
    i = next;
  }
  out_.Emit(close, close == open + 1 ? Break::kNone : Break::kLine, base,
            base + kIndent);
}

// Returns the end of the attribute at `begin`, with its optional comma:
// `name.part?: type<...>,`. Returns kNotFound for anything else.
size_t Layout::AttributeEnd(size_t begin, size_t close) const {
  auto is = [&](size_t i, TokenKind kind) {
    return i < close && tokens_[i].kind == kind;
  };
  size_t i = begin;
  if (!is(i, TokenKind::kWord)) return kNotFound;
  ++i;
  while (is(i, TokenKind::kDot) && is(i + 1, TokenKind::kWord)) i += 2;
  if (is(i, TokenKind::kQuestion)) ++i;
  if (!is(i, TokenKind::kColon) || !is(i + 1, TokenKind::kWord)) {
    return kNotFound;
  }
  i += 2;
  if (i < close && tokens_[i].text == "<") {
    int depth = 0;
    for (; i < close; ++i) {
      if (tokens_[i].text == "<") ++depth;
      if (tokens_[i].text == ">" && --depth == 0) break;
    }
    if (i == close) return kNotFound;
    ++i;
  }
  if (is(i, TokenKind::kComma)) ++i;
  return i;
}

// `name?: set<string>` on a line of its own, without the comma after it.
void Layout::Attribute(size_t begin, size_t end, int indent) {
  out_.Emit(begin, Break::kLine, indent);
  for (size_t i = begin + 1; i < end; ++i) {
    if (i + 1 == end && tokens_[i].kind == TokenKind::kComma) {
      out_.Skip(i, indent);
      continue;
    }
    const TokenKind previous = tokens_[i - 1].kind;
    const bool space =
        previous == TokenKind::kColon || previous == TokenKind::kComma;
    out_.Emit(i, space ? Break::kSpace : Break::kNone, indent + kIndent);
  }
}

// const NAME = value
void Layout::Const(size_t begin, size_t end, int base) {
  size_t assign = begin;
  while (assign < end && tokens_[assign].text != "=") ++assign;
  if (assign + 1 >= end) {
    Flat(begin, end, Break::kBlankLine, base);
    return;
  }
  Flat(begin, assign + 1, Break::kBlankLine, base);
  expressions_.Write(assign + 1, end, Break::kSpace, base + kIndent, 0);
}

// A policy, with its condition and its obligations and advice, each of
// these on a line of its own:
//
// permit "id" when {
//   condition
// }
//   obligation "name" { field: value, other: value }
void Layout::Policy(size_t begin, size_t end, int base) {
  out_.Emit(begin, Break::kBlankLine, base);
  size_t i = begin + 1;
  while (i < end) {
    const size_t open = Find(i, end, TokenKind::kOpenBrace);
    const size_t close =
        open == kNotFound ? kNotFound : MatchingCloser(tokens_, open);
    if (close == kNotFound || close >= end) {  // `"id";`
      Flat(i, end, FlatBreak(tokens_, i), base + kIndent);
      return;
    }
    if (i > begin + 1) {  // an obligation or advice
      Duty(i, open, close, base + kIndent);
    } else if (tokens_[open - 1].text == "when" && open + 1 < close) {
      Flat(i, open + 1, FlatBreak(tokens_, i), base + kIndent);
      expressions_.Write(open + 1, close, Break::kLine, base + kIndent, 0);
      out_.Emit(close, Break::kLine, base, base + kIndent);
    } else {  // the first obligation of a policy without a condition
      out_.Emit(i, Break::kSpace, base + kIndent);
      Duty(i + 1, open, close, base + kIndent);
    }
    i = close + 1;
  }
}

// An obligation or advice, `obligation "name" { field: value }`, from the
// keyword at `begin` through its braces at `open` and `close`. Its fields
// go on its line, separated by commas, or one per line without commas when
// they do not fit.
void Layout::Duty(size_t begin, size_t open, size_t close, int indent) {
  Flat(begin, open + 1, Break::kLine, indent);
  const std::vector<size_t> fields = FieldStarts(open + 1, close);
  if (fields.empty()) {  // `{}`, or syntax added to the grammar later
    if (open + 1 < close) Flat(open + 1, close, Break::kLine, indent + kIndent);
    out_.Emit(close, open + 1 == close ? Break::kNone : Break::kLine, indent,
              indent + kIndent);
    return;
  }
  const bool one_line = DutyFitsOnLine(fields, close);
  for (size_t k = 0; k + 1 < fields.size(); ++k) {
    size_t value_end = fields[k + 1];
    const bool comma = tokens_[value_end - 1].kind == TokenKind::kComma;
    if (comma) --value_end;
    const size_t name = fields[k];
    out_.Emit(name, one_line ? Break::kSpace : Break::kLine, indent + kIndent);
    out_.Emit(name + 1, Break::kNone, indent + 2 * kIndent);  // ':'
    if (name + 2 < value_end) {
      expressions_.Write(name + 2, value_end, Break::kSpace,
                         indent + 2 * kIndent, 0);
    }
    const bool last = k + 2 == fields.size();
    if (comma && (last || !one_line)) {
      out_.Skip(value_end, indent + kIndent);
    } else if (comma) {
      out_.Emit(value_end, Break::kNone, indent + kIndent);
    } else if (!last && one_line) {
      out_.Write(",");
    }
  }
  out_.Emit(close, one_line ? Break::kSpace : Break::kLine, indent,
            indent + kIndent);
}

// Returns the start of each field `name: value` in [begin, end), and `end`
// after them. Returns nothing when the tokens do not start with a field.
std::vector<size_t> Layout::FieldStarts(size_t begin, size_t end) const {
  std::vector<size_t> starts;
  int depth = 0;
  for (size_t i = begin; i < end; ++i) {
    if (depth == 0 && tokens_[i].kind == TokenKind::kWord && i + 1 < end &&
        tokens_[i + 1].kind == TokenKind::kColon) {
      starts.push_back(i);
    }
    if (IsOpener(tokens_[i].kind)) ++depth;
    if (IsCloser(tokens_[i].kind)) --depth;
  }
  if (starts.empty() || starts[0] != begin) return {};
  starts.push_back(end);
  return starts;
}

// True when the fields at `fields`, which end before the '}' at `close`, fit
// on the current line as `{ a: x, b: y }`, with a comma between each two.
bool Layout::DutyFitsOnLine(const std::vector<size_t>& fields,
                            size_t close) const {
  int width = out_.column() + 1;  // the space after the written '{'
  for (size_t k = 0; k + 1 < fields.size(); ++k) {
    size_t field_end = fields[k + 1];
    if (tokens_[field_end - 1].kind == TokenKind::kComma) --field_end;
    const std::optional<int> field = FlatWidth(tokens_, fields[k], field_end);
    if (!field.has_value() || !tokens_[fields[k]].comments.empty()) {
      return false;
    }
    width += *field + (k + 2 < fields.size() ? 2 : 0);  // ", "
    for (size_t i = field_end; i < fields[k + 1]; ++i) {
      if (!tokens_[i].comments.empty()) return false;  // before a comma
    }
  }
  return tokens_[close].comments.empty() && width + 2 <= kLineWidth;  // " }"
}

// Writes tokens on one line. A comment that forces a line break indents the
// rest by one more level.
void Layout::Flat(size_t begin, size_t end, Break first, int indent) {
  out_.Emit(begin, first, indent);
  for (size_t i = begin + 1; i < end; ++i) {
    out_.Emit(i, FlatBreak(tokens_, i), indent + kIndent);
  }
}

size_t Layout::Find(size_t begin, size_t end, TokenKind kind) const {
  for (size_t i = begin; i < end; ++i) {
    if (tokens_[i].kind == kind) return i;
  }
  return kNotFound;
}

}  // namespace

std::string LayOut(const std::vector<FormatToken>& tokens) {
  return Layout(tokens).Run();
}

}  // namespace verdict::compiler::format_internal
