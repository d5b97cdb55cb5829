// Compares the hand-written parser (compiler/fast_parser.h) with the ANTLR
// parser on every policy file of the repository, on generated workloads,
// on a table of edge cases and on mutations of all of them. Wherever the
// hand-written parser accepts a source, ANTLR must report no diagnostic and
// build the same AST, spans included. Wherever ANTLR reports no diagnostic,
// the hand-written parser must accept the source.

#include "compiler/fast_parser.h"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/ast_text.h"
#include "compiler/fast_lexer.h"
#include "compiler/parser.h"
#include "compiler/source.h"
#include "gtest/gtest.h"

#ifdef VERDICT_HAVE_WORKLOAD
#include "bench/workload/workload.h"
#endif

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;

struct NamedSource {
  std::string name;
  std::string text;
};

// How a source fared in both parsers.
struct Comparison {
  bool fast_accepted = false;
  bool antlr_clean = false;  // no diagnostic from the ANTLR parser
};

// Parses `source` with both parsers and checks that they agree, as the
// file comment states. `name` labels failures.
Comparison CompareParsers(const std::string& name, const std::string& text) {
  const SourceFile source(name, text);
  Diagnostics diagnostics;
  const FileAst antlr = ParseFileWithAntlr(source, diagnostics);
  const std::optional<FileAst> fast = ParseFileFast(source);
  Comparison result;
  result.fast_accepted = fast.has_value();
  result.antlr_clean = diagnostics.all().empty();
  if (fast.has_value()) {
    EXPECT_TRUE(result.antlr_clean)
        << name << ": the hand-written parser accepted a source that ANTLR "
        << "reports:\n"
        << diagnostics.Render() << "source:\n"
        << text;
    EXPECT_EQ(AstTextWithSpans(*fast), AstTextWithSpans(antlr))
        << name << ": the two parsers built different ASTs from:\n"
        << text;
  } else {
    EXPECT_FALSE(result.antlr_clean)
        << name << ": the hand-written parser rejected a source that ANTLR "
        << "parses without a diagnostic:\n"
        << text;
  }
  return result;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every *.verdict file under the source directory, outside build trees and
// hidden directories: the examples, docs/examples, test inputs (valid and
// invalid) and the policy fuzzer's seed corpus.
std::vector<NamedSource> RepositoryPolicyFiles() {
  std::vector<NamedSource> files;
  const fs::path root = VERDICT_SOURCE_DIR;
  for (fs::recursive_directory_iterator it(root), end; it != end; ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() &&
        (name.starts_with("build") || name.starts_with("."))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".verdict") {
      files.push_back(
          {fs::relative(it->path(), root).string(), ReadFile(it->path())});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const NamedSource& a, const NamedSource& b) {
              return a.name < b.name;
            });
  return files;
}

// The ```verdict code blocks of the Markdown files in the source directory
// and docs/, which include fragments with errors.
std::vector<NamedSource> DocumentationSnippets() {
  std::vector<NamedSource> snippets;
  const fs::path root = VERDICT_SOURCE_DIR;
  std::vector<fs::path> pages;
  for (const fs::path& dir : {root, root / "docs"}) {
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".md") pages.push_back(entry.path());
    }
  }
  std::sort(pages.begin(), pages.end());
  for (const fs::path& page : pages) {
    std::istringstream lines(ReadFile(page));
    std::string line;
    std::string block;
    int line_number = 0;
    int block_start = 0;
    bool in_block = false;
    while (std::getline(lines, line)) {
      ++line_number;
      if (!in_block && line == "```verdict") {
        in_block = true;
        block_start = line_number;
        block.clear();
      } else if (in_block && line == "```") {
        in_block = false;
        snippets.push_back(
            {absl::StrCat(fs::relative(page, root).string(), ":", block_start),
             block});
      } else if (in_block) {
        absl::StrAppend(&block, line, "\n");
      }
    }
  }
  return snippets;
}

// Returns `text` changed at one token: deleted, doubled, swapped with the
// next, replaced by another token of the file, or with one byte inserted.
std::string Mutate(const std::string& text, const std::vector<Token>& tokens,
                   std::mt19937& random) {
  const auto pick = [&random](size_t size) {
    return std::uniform_int_distribution<size_t>(0, size - 1)(random);
  };
  const size_t count = tokens.size() - 1;  // without kEnd
  const Token& token = tokens[pick(count)];
  const std::string_view word =
      std::string_view(text).substr(token.offset, token.length);
  std::string out = text;
  switch (pick(5)) {
    case 0:
      out.erase(token.offset, token.length);
      break;
    case 1:
      out.insert(token.offset, std::string(word) + " ");
      break;
    case 2: {
      const Token& other = tokens[pick(count)];
      out.replace(token.offset, token.length,
                  text.substr(other.offset, other.length));
      break;
    }
    case 3: {
      static constexpr std::string_view kBytes =
          "(){}[]<>=!&|+-.,:;?\"'/*\\ \n\t\r0123456789abc_Z\x80\xEF";
      out.insert(out.begin() + token.offset + pick(token.length + 1),
                 kBytes[pick(kBytes.size())]);
      break;
    }
    default: {
      const size_t next = std::min<size_t>(&token - tokens.data() + 1, count);
      const Token& second = tokens[next];
      if (second.offset <= token.offset) break;
      const std::string_view second_word =
          std::string_view(text).substr(second.offset, second.length);
      out.replace(second.offset, second.length, word);
      out.replace(token.offset, token.length, second_word);
      break;
    }
  }
  return out;
}

// Compares the parsers on `mutations` mutations of each source that the
// hand-written lexer can split into tokens. Returns how many mutated
// sources the hand-written parser accepted.
size_t CompareMutations(const std::vector<NamedSource>& sources,
                        int mutations) {
  std::mt19937 random(20261206);
  size_t compared = 0;
  size_t accepted = 0;
  for (const NamedSource& source : sources) {
    std::vector<Token> tokens;
    if (!Tokenize(source.text, tokens) || tokens.size() < 2) continue;
    for (int i = 0; i < mutations; ++i) {
      const std::string mutated = Mutate(source.text, tokens, random);
      accepted +=
          CompareParsers(absl::StrCat(source.name, " mutation ", i), mutated)
              .fast_accepted;
      ++compared;
      if (::testing::Test::HasFailure()) return accepted;
    }
  }
  std::cout << "mutations compared: " << compared << ", accepted " << accepted
            << "\n";
  return accepted;
}

TEST(FastParser, AgreesOnRepositoryPolicyFiles) {
  const std::vector<NamedSource> files = RepositoryPolicyFiles();
  size_t accepted = 0;
  for (const NamedSource& file : files) {
    accepted += CompareParsers(file.name, file.text).fast_accepted;
  }
  std::cout << "repository policy files: " << files.size() << ", accepted "
            << accepted << "\n";
  // Guards against a walk that finds nothing: the examples, docs/examples
  // and tests/golden alone hold more than 60 files.
  EXPECT_GT(files.size(), 60u);
}

TEST(FastParser, AgreesOnDocumentationSnippets) {
  const std::vector<NamedSource> snippets = DocumentationSnippets();
  size_t accepted = 0;
  for (const NamedSource& snippet : snippets) {
    accepted += CompareParsers(snippet.name, snippet.text).fast_accepted;
  }
  std::cout << "documentation snippets: " << snippets.size() << ", accepted "
            << accepted << "\n";
  EXPECT_GT(snippets.size(), 20u);
  CompareMutations(snippets, 20);
}

TEST(FastParser, AgreesOnMutatedRepositoryFiles) {
  EXPECT_GT(CompareMutations(RepositoryPolicyFiles(), 50), 0u);
}

#ifdef VERDICT_HAVE_WORKLOAD
std::vector<NamedSource> GeneratedWorkloads() {
  using namespace verdict::workload;
  std::vector<NamedSource> sources;
  for (const int size : {1, 10, 300}) {
    const ZeroTrustWorkload zero_trust = GenerateZeroTrust(size, 7, 0);
    sources.push_back({absl::StrCat("zero_trust ", size),
                       ZeroTrustPolicyText(zero_trust, 0, size, true)});
    for (const HierarchyFamily family :
         {HierarchyFamily::kGitHub, HierarchyFamily::kGDrive}) {
      const HierarchyWorkload workload = GenerateHierarchy(family, size, 7, 0);
      sources.push_back({absl::StrCat(FamilyName(family), " ", size),
                         HierarchyPolicyText(workload, 0, size, true)});
    }
  }
  return sources;
}

TEST(FastParser, AcceptsGeneratedWorkloads) {
  for (const NamedSource& source : GeneratedWorkloads()) {
    EXPECT_TRUE(CompareParsers(source.name, source.text).fast_accepted)
        << source.name;
  }
}

TEST(FastParser, AgreesOnMutatedWorkloads) {
  std::vector<NamedSource> small;
  for (NamedSource& source : GeneratedWorkloads()) {
    if (source.text.size() < 20'000) small.push_back(std::move(source));
  }
  CompareMutations(small, 100);
}
#endif

// Sources that exercise one rule each: the ones marked valid must be
// accepted, and both parsers must agree on every one.
struct EdgeCase {
  const char* name;
  const char* text;
  bool valid;
};

const EdgeCase kEdgeCases[] = {
    {"empty", "", true},
    {"comments only", "// a\n/* b\n c */ // d", true},
    {"byte order mark", "\xEF\xBB\xBFpermit \"a\";", true},
    {"byte order mark then non-ASCII", "\xEF\xBB\xBF\xC3\xA9", false},
    {"crlf and tabs", "permit \"a\" when {\r\n\ta == 1\r\n}\r\n", true},
    {"form feed", "permit \"a\";\f", true},
    {"module", "module a::b;\nconst X = 1", true},
    {"module with comments", "module a /* x */ :: b ;", true},
    {"module twice", "module a; module b;", false},
    {"module after a declaration", "const X = 1 module a;", false},
    {"schema",
     "schema s from d { a: int, b.c?: set<string> d: ip e: cidr "
     "f: decimal g: list<string> h: timestamp i: duration j: bool "
     "k: string }",
     true},
    {"set of int", "schema s { a: set<int> }", false},
    {"unknown type", "schema s { a: float }", false},
    {"reserved word in schema path", "schema s { a.in: int }", false},
    {"most negative integer", "const X = -9223372036854775808", true},
    {"integer overflow", "const X = 9223372036854775808", false},
    {"negative overflow", "const X = -9223372036854775809", false},
    {"duration overflow", "const X = 106751991167301d", false},
    {"negative duration", "const X = - 5m", true},
    {"negated method call", "const X = -5.abs()", true},
    {"negated parenthesis", "const X = -(5)", true},
    {"double negation", "const X = --5", true},
    {"subtraction of negative", "const X = a - -5 - b", true},
    {"bad number", "const X = 5ms", false},
    {"prefix chains", "permit \"a\" when { not !not a == b }", true},
    {"precedence",
     "permit \"a\" when { a or b and c == d + e - f or "
     "g || h && i }",
     true},
    {"comparisons do not chain", "permit \"a\" when { a == b == c }", false},
    {"has on a parenthesized name",
     "permit \"a\" when { (subject) has email.x }", true},
    {"has on a call", "permit \"a\" when { f() has x }", false},
    {"has with a reserved word", "permit \"a\" when { s has in }", false},
    {"method call on a name",
     "permit \"a\" when { a.b.c.startsWith(\"x\", 1).d() }", true},
    {"method call on a parenthesis", "permit \"a\" when { (a or b).f() }",
     true},
    {"method named by a reserved word", "permit \"a\" when { a.in() }", false},
    {"reserved word in a name", "permit \"a\" when { a.set }", false},
    {"calls",
     "const X = [ip(\"1.2.3.4\"), timestamp(\"t\"), duration(\"1h\"), "
     "f(), g(1, 2,),]",
     false},
    {"calls without trailing comma",
     "const X = [ip(\"1.2.3.4\"), timestamp(\"t\"), duration(\"1h\"), f(),]",
     true},
    {"bare type keyword", "const X = timestamp", false},
    {"entity and qualified names",
     "permit \"a\" when { subject in Group::\"eng\" and a::b::c == x::y }",
     true},
    {"qualified name called", "permit \"a\" when { a::b() }", false},
    {"qualified name then entity", "const X = a::b::\"c\"", false},
    {"placeholder", "permit \"a\" from shares when { x == ?user }", true},
    {"like", "permit \"a\" when { a like \"x*\" }", true},
    {"empty collection", "const X = []", true},
    {"collection double comma", "const X = [1,,2]", false},
    {"strings",
     "const X = [\"\\\"\\\\\\/\\n\\r\\t\\u00e9\\uD83D\\uDE00\", "
     "\"\xC3\xA9\", \"\t\"]",
     true},
    {"invalid escape", "const X = \"\\q\"", false},
    {"lone surrogate", "const X = \"\\uD83D\"", false},
    {"invalid UTF-8 in a string", "const X = \"\xC3\"", false},
    {"unterminated string", "const X = \"abc", false},
    {"string across lines", "const X = \"a\nb\"", false},
    {"unterminated comment", "const X = 1 /* x", false},
    {"stray slash", "const X = 1 / 2", false},
    {"stray character", "const X = 1 @", false},
    {"single ampersand", "permit \"a\" when { a & b }", false},
    {"duties",
     "permit \"a\" when { x } obligation \"o\" { a: 1, b: x.y "
     "c: [1] } advice \"v\" {}",
     true},
    {"duties without condition", "forbid \"a\" advice \"v\" { a: 1 }", true},
    {"policy without body", "permit \"a\"", false},
    {"policy with both", "permit \"a\" when { x };", false},
    {"escaped policy id", "permit \"a\\u0041\";", true},
    {"policy sets",
     "policyset \"s\" first_applicable { permit \"a\"; "
     "policyset \"t\" { forbid \"b\"; } permit \"c\"; } "
     "permit \"d\";",
     true},
    {"unknown combining algorithm", "policyset \"s\" best { }", false},
    {"const in a policy set", "policyset \"s\" { const X = 1 }", false},
    {"keyword as a duty field", "permit \"a\" advice \"v\" { in: 1 }", false},
};

TEST(FastParser, AgreesOnEdgeCases) {
  std::vector<NamedSource> sources;
  for (const EdgeCase& edge : kEdgeCases) {
    const Comparison result = CompareParsers(edge.name, edge.text);
    EXPECT_EQ(result.antlr_clean, edge.valid) << edge.name;
    sources.push_back({edge.name, edge.text});
  }
  CompareMutations(sources, 50);
}

TEST(FastParser, AgreesOnDeepNesting) {
  for (const int depth : {63, 64, 65, 100}) {
    const std::string parentheses = absl::StrCat(
        "const X = ", std::string(depth, '('), "1", std::string(depth, ')'));
    CompareParsers(absl::StrCat(depth, " parentheses"), parentheses);
    std::string prefixes = "const X = ";
    for (int i = 0; i < depth; ++i) prefixes += i % 2 == 0 ? "not " : "- ";
    CompareParsers(absl::StrCat(depth, " prefix operators"),
                   absl::StrCat(prefixes, "a"));
    std::string calls = "const X = a";
    for (int i = 0; i < depth; ++i) calls += ".f()";
    CompareParsers(absl::StrCat(depth, " method calls"), calls);
  }
  // A chain of 64 'or' operands is as deep as the limit allows.
  for (const int operands : {64, 65}) {
    std::string chain = "const X = a";
    for (int i = 1; i < operands; ++i) chain += " or a";
    const Comparison result =
        CompareParsers(absl::StrCat(operands, " operands of or"), chain);
    EXPECT_EQ(result.fast_accepted, operands == 64);
  }
}

TEST(FastParser, RejectsOversizedSource) {
  const std::string text =
      absl::StrCat("permit \"a\";", std::string(1 << 20, ' '));
  EXPECT_FALSE(ParseFileFast(SourceFile("big.verdict", text)).has_value());
  CompareParsers("oversized", text);
}

}  // namespace
}  // namespace verdict::compiler
