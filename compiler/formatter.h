// The canonical layout of policy files, as `verdict fmt` writes it.
//
// The formatter works on the token stream, not on the AST, so that every
// comment survives with its text. It rewrites whitespace and spells `&&`,
// `||` and `!` as `and`, `or` and `not`. It also drops the optional commas
// of schemas and of collections on one line, and adds the optional comma
// after the last element of a collection on several lines. The layout rules
// are listed in docs/tools.md under "verdict fmt".

#ifndef VERDICT_COMPILER_FORMATTER_H_
#define VERDICT_COMPILER_FORMATTER_H_

#include <optional>
#include <string>

#include "compiler/source.h"

namespace verdict::compiler {

// Returns `source` in the canonical layout. Formatting its own output
// returns that output unchanged.
//
// A source that does not parse is never formatted: its syntax errors are
// added to `diagnostics` and the result is nullopt. Before returning, the
// formatter parses and lexes its output. If the output would parse to a
// different AST than `source` or lacks one of its comments, the result is
// nullopt too, with an internal error in `diagnostics`.
//
// Thread-safe for distinct sources. Parses and lexes the source twice. The
// layout itself takes time linear in the source size times the bracket
// depth.
std::optional<std::string> FormatSource(const SourceFile& source,
                                        Diagnostics& diagnostics);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_FORMATTER_H_
