// "Did you mean" suggestions for misspelled names.

#ifndef VERDICT_COMPILER_SUGGEST_H_
#define VERDICT_COMPILER_SUGGEST_H_

#include <string>
#include <string_view>
#include <vector>

namespace verdict::compiler {

// Returns the candidate nearest to `name` by edit distance, or "" when none
// is within a third of the name's length (at least 2 edits are allowed).
// Ties go to the candidate that sorts first, so output is deterministic.
std::string NearestName(std::string_view name,
                        const std::vector<std::string>& candidates);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_SUGGEST_H_
