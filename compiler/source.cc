#include "compiler/source.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace {

// Bytes 0x80..0xBF continue a UTF-8 sequence and take no column on screen.
bool IsUtf8Continuation(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

// Returns the padding that puts a caret under byte column `column` (1-based)
// of `line`. Tabs are copied so that the caret lines up however wide the
// terminal draws them, and each multi-byte UTF-8 character counts once.
std::string CaretPadding(std::string_view line, uint32_t column) {
  std::string padding;
  const size_t prefix_bytes = std::min<size_t>(column - 1, line.size());
  for (size_t i = 0; i < prefix_bytes; ++i) {
    if (line[i] == '\t') {
      padding.push_back('\t');
    } else if (!IsUtf8Continuation(line[i])) {
      padding.push_back(' ');
    }
  }
  padding.append(column - 1 - prefix_bytes, ' ');  // a column past the end
  return padding;
}

// Returns how many characters wide the caret marker is: the characters of a
// one-line span, clipped to the line, and at least 1.
size_t MarkerWidth(std::string_view line, const Span& span) {
  if (span.end_line != span.line || span.end_column <= span.column) return 1;
  const size_t begin = std::min<size_t>(span.column - 1, line.size());
  const size_t end = std::min<size_t>(span.end_column - 1, line.size());
  size_t width = 0;
  for (size_t i = begin; i < end; ++i) {
    if (!IsUtf8Continuation(line[i])) ++width;
  }
  return std::max<size_t>(width, 1);
}

const char* SeverityName(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

}  // namespace

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

std::string_view SourceFile::Line(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  const size_t begin = line_starts_[line - 1];
  size_t end =
      line < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
  // A CRLF line ending leaves its '\r' before the '\n'.
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

void Diagnostics::Error(const Span& span, std::string message) {
  diagnostics_.push_back({Severity::kError, span, std::move(message)});
  ++error_count_;
}

void Diagnostics::Warning(const Span& span, std::string message) {
  diagnostics_.push_back({Severity::kWarning, span, std::move(message)});
}

std::string Diagnostics::Render() const {
  std::string out;
  for (const Diagnostic& diagnostic : diagnostics_) {
    absl::StrAppend(&out, RenderDiagnostic(diagnostic));
  }
  return out;
}

std::string RenderDiagnostic(const Diagnostic& diagnostic) {
  const Span& span = diagnostic.span;
  const char* severity = SeverityName(diagnostic.severity);
  if (span.file == nullptr) {
    return absl::StrCat("<unknown>: ", severity, ": ", diagnostic.message,
                        "\n");
  }
  if (span.line == 0 || span.column == 0) {
    return absl::StrCat(span.file->path(), ": ", severity, ": ",
                        diagnostic.message, "\n");
  }
  const std::string_view line = span.file->Line(span.line);
  std::string marker(MarkerWidth(line, span), '~');
  marker[0] = '^';
  return absl::StrCat(span.file->path(), ":", span.line, ":", span.column, ": ",
                      severity, ": ", diagnostic.message, "\n  ", ToAbsl(line),
                      "\n  ", CaretPadding(line, span.column), marker, "\n");
}

}  // namespace verdict::compiler
