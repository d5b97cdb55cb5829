// Tests of the formatter behind `verdict fmt`: golden files, idempotence and
// unchanged ASTs on every policy file in the repository, refusal of files
// that do not parse, and the exit codes and output of the command.
//
// Set VERDICT_UPDATE_GOLDEN=1 to rewrite tests/golden/fmt/*.golden from the
// formatter's output; review the change before committing it.

#include "compiler/formatter.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/ast_text.h"
#include "compiler/format_layout.h"
#include "compiler/format_tokens.h"
#include "compiler/parser.h"
#include "compiler/source.h"
#include "gtest/gtest.h"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;

fs::path SourceDir() { return fs::path(VERDICT_SOURCE_DIR); }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Every *.verdict file under `dir`, sorted.
std::vector<fs::path> VerdictFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".verdict") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Formatted {
  std::optional<std::string> text;
  std::string diagnostics;
};

Formatted Format(std::string text) {
  const SourceFile source("test.verdict", std::move(text));
  Diagnostics diagnostics;
  Formatted result;
  result.text = FormatSource(source, diagnostics);
  result.diagnostics = diagnostics.Render();
  return result;
}

// Returns the AST of `text` as text, or "" when it does not parse.
std::string AstOf(std::string text) {
  const SourceFile source("test.verdict", std::move(text));
  Diagnostics diagnostics;
  const FileAst ast = ParseFile(source, diagnostics);
  return diagnostics.has_errors() ? "" : AstText(ast);
}

// Formats `input`, which must parse, and checks that the result keeps its
// AST and that formatting the result changes nothing.
std::string FormatChecked(const std::string& input) {
  const Formatted formatted = Format(input);
  if (!formatted.text.has_value()) {
    ADD_FAILURE() << "not formatted:\n" << formatted.diagnostics;
    return "";
  }
  EXPECT_EQ(AstOf(*formatted.text), AstOf(input));
  const Formatted again = Format(*formatted.text);
  EXPECT_EQ(again.text, formatted.text) << "formatting is not idempotent";
  return *formatted.text;
}

TEST(FormatterGolden, EachInputFormatsToItsGolden) {
  const std::vector<fs::path> inputs =
      VerdictFiles(SourceDir() / "tests" / "golden" / "fmt");
  ASSERT_GE(inputs.size(), 6u);
  const bool update = std::getenv("VERDICT_UPDATE_GOLDEN") != nullptr;
  for (const fs::path& input : inputs) {
    SCOPED_TRACE(input.string());
    const std::string formatted = FormatChecked(ReadFile(input));
    const fs::path golden = input.string() + ".golden";
    if (update) WriteFile(golden, formatted);
    EXPECT_EQ(formatted, ReadFile(golden));
    EXPECT_EQ(FormatChecked(ReadFile(golden)), ReadFile(golden));
  }
}

// Files with syntax errors must be rejected. Every other policy file must
// format to the same AST, and its formatted text must be a fixed point.
TEST(FormatterRepository, PolicyFilesKeepAstAndAreStable) {
  int formatted_files = 0;
  for (const char* dir : {"examples", "docs/examples"}) {
    for (const fs::path& path : VerdictFiles(SourceDir() / dir)) {
      SCOPED_TRACE(path.string());
      const std::string text = ReadFile(path);
      if (AstOf(text).empty() && !text.empty()) {
        EXPECT_FALSE(Format(text).text.has_value());
        continue;
      }
      FormatChecked(text);
      ++formatted_files;
    }
  }
  EXPECT_GE(formatted_files, 18);
}

TEST(Formatter, RefusesFileThatDoesNotParse) {
  const Formatted formatted = Format("permit \"x\" when { subject.id == }\n");
  EXPECT_FALSE(formatted.text.has_value());
  EXPECT_NE(formatted.diagnostics.find("test.verdict:1:"), std::string::npos)
      << formatted.diagnostics;
}

TEST(Formatter, SpellsSymbolicOperatorsAsWords) {
  EXPECT_EQ(FormatChecked("permit \"x\" when { !a.b&&c.d||!(e.f) }"),
            "permit \"x\" when {\n  not a.b and c.d or not (e.f)\n}\n");
}

TEST(Formatter, EmptyAndCommentOnlyFiles) {
  EXPECT_EQ(FormatChecked(""), "");
  EXPECT_EQ(FormatChecked(" \n\n\t\n"), "");
  EXPECT_EQ(FormatChecked("\n\n// only a comment   \n\n\n"),
            "// only a comment\n");
  EXPECT_EQ(FormatChecked("/* a */ /* b */\n\n\n// c"),
            "/* a */ /* b */\n\n// c\n");
}

TEST(Formatter, LineEndsAndByteOrderMark) {
  EXPECT_EQ(FormatChecked("permit \"x\";\r\n\r\n\r\nconst A = 1\r\n"),
            "permit \"x\";\n\nconst A = 1\n");
  EXPECT_EQ(FormatChecked("\xEF\xBB\xBF"
                          "permit \"x\";"),
            "\xEF\xBB\xBF"
            "permit \"x\";\n");
}

TEST(Formatter, CommentsBeforeCommasFollowThem) {
  EXPECT_EQ(FormatChecked("const A = [\"a\" // first\n, \"b\"]"),
            "const A = [\n  \"a\", // first\n  \"b\",\n]\n");
  EXPECT_EQ(FormatChecked("permit \"x\" // open\n;"),
            "permit \"x\"; // open\n");
}

TEST(Formatter, LineCommentInsideAnOperandBreaksIt) {
  EXPECT_EQ(FormatChecked("permit \"x\" when { a.b == // note\n \"c\" }"),
            "permit \"x\" when {\n  a.b == // note\n    \"c\"\n}\n");
}

TEST(Formatter, BlankLinesAfterOpenersAndBeforeClosersGo) {
  EXPECT_EQ(FormatChecked("schema s {\n\n  a: int\n\n}\n"),
            "schema s {\n  a: int\n}\n");
  EXPECT_EQ(FormatChecked("permit \"x\" when {\n\n  // c\n  a.b\n\n}\n"),
            "permit \"x\" when {\n  // c\n  a.b\n}\n");
}

// The language grows: call literals, `like`, methods, collections of other
// literals and new type names. The layout goes by token shapes, so that
// such syntax formats sensibly without a change to the formatter. The lexer
// and layout run here without the parser, which may not accept it yet.
TEST(FormatterLayout, SyntaxFormatsByTokenShape) {
  const SourceFile source(
      "new.verdict",
      "schema context { ip: ip, net?: cidr , amount: decimal }\n"
      "permit \"net\" when { context.ip.isInRange(cidr( \"10.0.0.0/8\" )) and "
      "resource.path like \"/docs/*\" and subject.tags.containsAny( [ \"a\" , "
      "1 , ip(\"10.0.0.1\") ] ) and subject.tags.size( ) > -2 and "
      "context.amount > decimal(\"1.5\") and "
      "env.now < timestamp ( \"2026-01-01T00:00:00Z\" ) }\n");
  const std::string expected =
      "schema context {\n"
      "  ip: ip\n"
      "  net?: cidr\n"
      "  amount: decimal\n"
      "}\n"
      "\n"
      "permit \"net\" when {\n"
      "  context.ip.isInRange(cidr(\"10.0.0.0/8\"))\n"
      "  and resource.path like \"/docs/*\"\n"
      "  and subject.tags.containsAny([\"a\", 1, ip(\"10.0.0.1\")])\n"
      "  and subject.tags.size() > -2\n"
      "  and context.amount > decimal(\"1.5\")\n"
      "  and env.now < timestamp(\"2026-01-01T00:00:00Z\")\n"
      "}\n";
  const std::string formatted =
      format_internal::LayOut(format_internal::Lex(source));
  EXPECT_EQ(formatted, expected);
  const SourceFile again("new.verdict", formatted);
  EXPECT_EQ(format_internal::LayOut(format_internal::Lex(again)), formatted);
}

// A block of declarations, such as a policy set, indents the declarations
// in it. Whether `policyset` is a keyword depends on the grammar version,
// so the test marks it as one.
TEST(FormatterLayout, BlockIndentsItsDeclarations) {
  const SourceFile source(
      "sets.verdict",
      "policyset \"payments\" first_applicable { permit \"a\"; // why\n"
      "forbid \"b\" when { s.x } policyset \"inner\" { } }\n"
      "const X = 1");
  std::vector<format_internal::FormatToken> tokens =
      format_internal::Lex(source);
  for (format_internal::FormatToken& token : tokens) {
    if (token.text == "policyset") token.starts_declaration = true;
  }
  EXPECT_EQ(format_internal::LayOut(tokens),
            "policyset \"payments\" first_applicable {\n"
            "  permit \"a\"; // why\n"
            "\n"
            "  forbid \"b\" when {\n"
            "    s.x\n"
            "  }\n"
            "\n"
            "  policyset \"inner\" {}\n"
            "}\n"
            "\n"
            "const X = 1\n");
}

}  // namespace
}  // namespace verdict::compiler
