// The layout rules of `verdict fmt` (formatter.h), applied to the tokens of
// one policy file.
//
// Internal to the formatter: nothing outside formatter.cc includes this.

#ifndef VERDICT_COMPILER_FORMAT_LAYOUT_H_
#define VERDICT_COMPILER_FORMAT_LAYOUT_H_

#include <string>
#include <vector>

#include "compiler/format_tokens.h"

namespace verdict::compiler::format_internal {

// Returns the text of `tokens` in the canonical layout. `tokens` must come
// from a file that parses, and end with a kEnd token. Thread-safe; takes
// time linear in the number of tokens times the bracket depth.
std::string LayOut(const std::vector<FormatToken>& tokens);

}  // namespace verdict::compiler::format_internal

#endif  // VERDICT_COMPILER_FORMAT_LAYOUT_H_
