// Source files, spans and compiler diagnostics.
//
// Every AST node carries a Span into the SourceFile it came from, so that any
// later stage can report `file:line:col: error: message` with the source line
// and a caret under the offending column.

#ifndef VERDICT_COMPILER_SOURCE_H_
#define VERDICT_COMPILER_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace verdict::compiler {

// The text of one policy file. Immutable after construction; thread-safe.
class SourceFile {
 public:
  SourceFile(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  // Returns line `line` (1-based) without its newline, or "" past the end.
  std::string_view Line(uint32_t line) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> line_starts_;  // byte offset of each line's start
};

// A position range in a source file. Lines and columns are 1-based; columns
// count bytes. `file` is null only for synthesised nodes.
struct Span {
  const SourceFile* file = nullptr;
  uint32_t line = 0;
  uint32_t column = 0;
  uint32_t end_line = 0;
  uint32_t end_column = 0;  // exclusive
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  Span span;
  std::string message;
};

// Collects diagnostics from every compiler stage so that one run reports all
// of them, not only the first. Thread-compatible.
class Diagnostics {
 public:
  void Error(const Span& span, std::string message);
  void Warning(const Span& span, std::string message);

  bool has_errors() const { return error_count_ > 0; }
  size_t error_count() const { return error_count_; }
  const std::vector<Diagnostic>& all() const { return diagnostics_; }

  // Renders every diagnostic as
  //   file:line:col: error: message
  //     <source line>
  //     <caret under the column>
  // in the order they were reported.
  std::string Render() const;

 private:
  std::vector<Diagnostic> diagnostics_;
  size_t error_count_ = 0;
};

// Renders one diagnostic in the format described at Diagnostics::Render.
std::string RenderDiagnostic(const Diagnostic& diagnostic);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_SOURCE_H_
