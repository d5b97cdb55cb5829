// Parsing of the JWS compact serialization and of the registered JWT claims
// whose JSON types RFC 7519 fixes.
#ifndef VERDICT_TOKENS_COMPACT_JWS_H_
#define VERDICT_TOKENS_COMPACT_JWS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace verdict::tokens {

// The decoded parts of a compact JWS. `signing_input` views the caller's
// token and is valid as long as it is.
struct CompactJws {
  std::string_view signing_input;  // BASE64URL(header) '.' BASE64URL(payload)
  nlohmann::json header;           // A JSON object.
  nlohmann::json payload;          // A JSON object (the JWT claims set).
  std::string signature;           // Raw bytes; may be empty.
};

// Splits and decodes a compact JWS (RFC 7515 §7.1). Rejects tokens longer
// than `max_token_bytes` and any character other than base64url and the two
// dots, so the JSON serialization and the JWE compact form are rejected as
// the JWT BCP requires. Also rejects segments that are not canonical
// unpadded base64url, a header or payload that is not a JSON object,
// duplicate member names and nesting deeper than `max_json_depth`. The error
// message names the failed part. Cost: linear in the token.
absl::StatusOr<CompactJws> ParseCompactJws(std::string_view token,
                                           size_t max_token_bytes,
                                           int max_json_depth);

// The state of a claim read from a claims set.
enum class ClaimState { kAbsent, kValid, kInvalid };

// The largest NumericDate accepted: 9999-12-31T23:59:59Z.
inline constexpr int64_t kMaxNumericDate = 253402300799;

// Reads `name` as a NumericDate. Only JSON integers from 0 to
// kMaxNumericDate are valid: EAR forbids floating-point dates, and the same
// rule for every kind keeps 1767225840.5 and 1767225840 from being two
// encodings of one instant. Stores the value in `*out` when valid.
ClaimState ReadNumericDate(const nlohmann::json& claims, std::string_view name,
                           int64_t* out);

// Reads `aud`: a non-empty string, or a non-empty array of non-empty
// strings (RFC 7519 §4.1.3). Stores the audiences in `*out` when valid.
ClaimState ReadAudience(const nlohmann::json& claims,
                        std::vector<std::string>* out);

// Reads `name` as a non-empty string into `*out`.
ClaimState ReadStringClaim(const nlohmann::json& claims, std::string_view name,
                           std::string* out);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_COMPACT_JWS_H_
