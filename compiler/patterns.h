// Translation of glob patterns and path templates into RE2 regular
// expressions. Every pattern is anchored at both ends: it must match the
// whole string.

#ifndef VERDICT_COMPILER_PATTERNS_H_
#define VERDICT_COMPILER_PATTERNS_H_

#include <string>
#include <string_view>

namespace verdict::compiler {

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
