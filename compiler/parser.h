// Parsing of one policy file into the AST.
//
// ANTLR is wrapped here: its exceptions and types never leave parser.cc.

#ifndef VERDICT_COMPILER_PARSER_H_
#define VERDICT_COMPILER_PARSER_H_

#include "compiler/ast.h"
#include "compiler/source.h"

namespace verdict::compiler {

// Parses `source`. Every syntax error (and every literal that cannot be
// represented, such as an integer past 64 bits) is added to `diagnostics`
// with its span, and parsing continues so that one run reports all of them.
// The returned AST contains the declarations that parsed cleanly. It points into
// `source`, which must outlive it. Thread-safe for distinct sources.
//
// Valid files are parsed by the hand-written parser of fast_parser.h, which
// is faster and builds the same AST (docs/benchmarks.md, "Compilation").
// Any file that it rejects is parsed again by ParseFileWithAntlr, which
// produces the diagnostics.
FileAst ParseFile(const SourceFile& source, Diagnostics& diagnostics);

// Parses `source` with the ANTLR parser generated from grammar/Verdict.g4,
// with the contract of ParseFile. ParseFile calls it for the files that the
// hand-written parser rejects. Tests call it to compare the two parsers.
FileAst ParseFileWithAntlr(const SourceFile& source, Diagnostics& diagnostics);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_PARSER_H_
