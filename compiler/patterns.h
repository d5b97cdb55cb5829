// Translation of glob patterns and path templates into RE2 regular
// expressions. Every pattern is anchored at both ends: it must match the
// whole string.

#ifndef VERDICT_COMPILER_PATTERNS_H_
#define VERDICT_COMPILER_PATTERNS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "re2/re2.h"

namespace verdict::compiler {

// Bytes of one pattern as written, checked before RE2 parses it. Globs,
// path templates and regexes in policies run to tens or hundreds of bytes.
inline constexpr size_t kMaxPatternBytes = 4096;

// The memory budget of each compiled pattern: its RE2 programs and DFA
// caches. It is RE2's default (8 MiB in re2.h), set explicitly so that it
// does not change with the library version. A pattern whose program does
// not fit fails to compile. A DFA that fills its share of the budget
// flushes its cache and starts over.
inline constexpr int64_t kPatternMaxMemBytes = int64_t{8} << 20;

// Returns the RE2 options every policy pattern is compiled with: the
// memory budget above and no logging of errors.
RE2::Options PatternOptions();

// Globs treat '/' as the delimiter:
//   *   any run of characters without '/' (possibly empty)
//   **  any run of characters, '/' included
//   ?   exactly one character other than '/'
//   \x  the character x itself (so \* is a literal star)
// Every other character matches itself.
std::string GlobToRegex(std::string_view glob);

// Templates such as "/project/{id}/files": each {name} matches exactly one
// non-empty path segment (no '/'); everything else matches itself.
std::string TemplateToRegex(std::string_view path_template);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_PATTERNS_H_
