// Strict base64url (RFC 4648 §5) decoding and encoding for compact JWS.
#ifndef VERDICT_TOKENS_BASE64URL_H_
#define VERDICT_TOKENS_BASE64URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace verdict::tokens {

// Decodes unpadded base64url as JWS requires (RFC 7515 §2). Returns nullopt
// on padding, on characters outside [A-Za-z0-9_-], on a length that leaves a
// single dangling character, and on non-canonical input whose unused trailing
// bits are not zero, so every byte string has exactly one accepted encoding.
// Cost: linear in the input.
std::optional<std::string> DecodeBase64Url(std::string_view input);

// Encodes bytes as unpadded base64url.
std::string EncodeBase64Url(std::string_view bytes);

// Decodes standard base64 with padding (RFC 4648 §4), the encoding of the
// certificates in an `x5c` header (RFC 7515 §4.1.6). Returns nullopt on any
// character outside the alphabet, wrong padding or non-zero trailing bits.
std::optional<std::string> DecodeBase64Standard(std::string_view input);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_BASE64URL_H_
