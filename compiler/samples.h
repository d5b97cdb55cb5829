// Sample values for witness requests: strings that a pattern matches.
//
// Stateless and thread-safe. Cost: linear in the pattern.

#ifndef VERDICT_COMPILER_SAMPLES_H_
#define VERDICT_COMPILER_SAMPLES_H_

#include <optional>
#include <string>
#include <string_view>

namespace verdict::compiler {

// Returns a string that RE2 regular expression `regex` likely matches in
// full: the first alternative of every choice, the first character of every
// class (or one outside a negated class), and the fewest repetitions each
// quantifier allows. Returns nullopt for constructs it does not handle
// (Unicode classes, back-references). The result is a guess: callers check
// it with the real matcher.
std::optional<std::string> SampleMatch(std::string_view regex);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_SAMPLES_H_
