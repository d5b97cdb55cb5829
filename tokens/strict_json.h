// JSON parsing for JOSE headers, JWT claims sets and trust files: duplicate
// member names and excessive nesting are errors rather than last-one-wins.
#ifndef VERDICT_TOKENS_STRICT_JSON_H_
#define VERDICT_TOKENS_STRICT_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace verdict::tokens {

// Parses one JSON text. Rejects duplicate member names in any object
// (RFC 7515 §4 and RFC 7519 §4 allow rejecting them, and accepting them lets
// two parsers see different claims), nesting deeper than `max_depth` arrays
// and objects, invalid UTF-8 and trailing content. Returns InvalidArgument
// with the byte offset or the duplicated name. Cost: linear in the input.
absl::StatusOr<nlohmann::json> ParseStrictJson(std::string_view text,
                                               int max_depth);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_STRICT_JSON_H_
