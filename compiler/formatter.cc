#include "compiler/formatter.h"

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/ast.h"
#include "compiler/ast_text.h"
#include "compiler/format_layout.h"
#include "compiler/format_tokens.h"
#include "compiler/parser.h"

namespace verdict::compiler {
namespace {

using format_internal::FormatToken;

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Returns the text of every comment in `tokens`, in order.
std::vector<std::string> CommentTexts(const std::vector<FormatToken>& tokens) {
  std::vector<std::string> texts;
  for (const FormatToken& token : tokens) {
    for (const format_internal::Comment& comment : token.comments) {
      texts.push_back(comment.text);
    }
  }
  return texts;
}

// Returns the formatted text of `source`, which parses without errors, or
// nullopt when the formatted text would parse to another AST or would lose
// a comment. A byte order mark at the start stays there.
std::optional<std::string> FormatChecked(const SourceFile& source,
                                         const FileAst& ast) {
  const std::vector<FormatToken> tokens = format_internal::Lex(source);
  std::string formatted = format_internal::LayOut(tokens);
  if (source.text().substr(0, kByteOrderMark.size()) == kByteOrderMark &&
      !formatted.empty()) {
    formatted.insert(0, kByteOrderMark);
  }

  // The layout changes only whitespace and optional tokens. Parsing and
  // lexing its output checks that, so that a layout bug cannot change a
  // policy or drop a comment.
  const SourceFile result(source.path(), formatted);
  Diagnostics result_diagnostics;
  const FileAst result_ast = ParseFile(result, result_diagnostics);
  if (result_diagnostics.has_errors() || AstText(result_ast) != AstText(ast) ||
      CommentTexts(format_internal::Lex(result)) != CommentTexts(tokens)) {
    return std::nullopt;
  }
  return formatted;
}

}  // namespace

std::optional<std::string> FormatSource(const SourceFile& source,
                                        Diagnostics& diagnostics) {
  const size_t errors_before = diagnostics.error_count();
  const FileAst ast = ParseFile(source, diagnostics);
  if (diagnostics.error_count() > errors_before) return std::nullopt;

  const Span file_start = {&source, 1, 1, 1, 1};
  std::optional<std::string> formatted;
  try {
    formatted = FormatChecked(source, ast);
  } catch (const std::exception& e) {
    diagnostics.Error(
        file_start, absl::StrCat("internal error in the formatter: ", e.what(),
                                 "; the file was left unchanged"));
    return std::nullopt;
  }
  if (!formatted.has_value()) {
    diagnostics.Error(
        file_start,
        "internal error in the formatter: the formatted text would change "
        "the meaning or the comments of the file, so the file was left "
        "unchanged; please report this with the file attached");
  }
  return formatted;
}

}  // namespace verdict::compiler
