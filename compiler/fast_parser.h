// A hand-written parser of policy files for the common case: valid input.
//
// ParseFile (parser.h) runs it first and keeps its AST when it accepts the
// file. It accepts exactly the files that the ANTLR parser accepts without a
// diagnostic, and builds the same AST for them, spans included. Anything
// else (a syntax error, a malformed token or literal, a reserved word used
// as a name, nesting past the limit) makes it return nullopt, so that the
// ANTLR parser runs and reports what is wrong. tests/fast_parser_test.cc
// compares the two parsers on every policy file of the repository, on
// generated workloads and on mutations of both.

#ifndef VERDICT_COMPILER_FAST_PARSER_H_
#define VERDICT_COMPILER_FAST_PARSER_H_

#include <optional>

#include "compiler/ast.h"
#include "compiler/source.h"

namespace verdict::compiler {

// Parses `source` when it is a valid policy file, or returns nullopt. The
// AST points into `source`, which must outlive it. Thread-safe for distinct
// sources. Linear in the size of the source; recursion is bounded by the
// nesting limit, which is checked on the tokens before parsing.
std::optional<FileAst> ParseFileFast(const SourceFile& source);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_FAST_PARSER_H_
