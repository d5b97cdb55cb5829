// A text rendering of the AST that leaves out source positions.
//
// Two sources that differ only in layout and comments render the same, which
// is how the formatter checks that it never changes what a file means.

#ifndef VERDICT_COMPILER_AST_TEXT_H_
#define VERDICT_COMPILER_AST_TEXT_H_

#include <string>

#include "compiler/ast.h"

namespace verdict::compiler {

// Returns every declaration of `ast` with every field of its nodes, one
// node per line, children indented under their parent. Spans are left out.
// Thread-safe; linear in the size of the AST.
std::string AstText(const FileAst& ast);

// Returns AstText(ast) with the span of each node and declaration as
// `@line:column-end_line:end_column`, so that two parsers' ASTs of one
// source can be compared position for position.
std::string AstTextWithSpans(const FileAst& ast);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_AST_TEXT_H_
