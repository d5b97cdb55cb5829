// JWS algorithms, public keys parsed from JWK Sets, and signature checks,
// all through OpenSSL 3 EVP.
#ifndef VERDICT_TOKENS_JOSE_KEYS_H_
#define VERDICT_TOKENS_JOSE_KEYS_H_

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace verdict::tokens {

// The signature algorithms Verdict verifies (RFC 7518 §3.1 names, and
// "EdDSA" with Ed25519 from RFC 8037). HMAC algorithms and "none" are absent
// on purpose: a PDP has no shared secrets with issuers, and an HMAC keyed
// with a public key is the classic algorithm-confusion forgery.
enum class JwsAlgorithm { kRs256, kPs256, kEs256, kEs384, kEdDsa };

// Maps a header or JWK "alg" value to an algorithm. The comparison is exact
// and case-sensitive, so "none", "nOnE" and "es256" all return nullopt.
std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name);
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

// Releases an EVP_PKEY. An EVP_PKEY is not modified by verification, so one
// key may be shared by threads that verify concurrently.
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PublicKey = std::shared_ptr<EVP_PKEY>;

// A public key bound to exactly one algorithm (RFC 8725 §3.1).
struct VerificationKey {
  std::string kid;  // Empty when the JWK has no "kid".
  JwsAlgorithm algorithm;
  PublicKey key;
};

// Checks that `key` has the type and curve `algorithm` needs: RSA of at
// least 2048 bits for RS256/PS256, P-256 for ES256, P-384 for ES384 and
// Ed25519 for EdDSA.
absl::Status CheckKeyFitsAlgorithm(EVP_PKEY* key, JwsAlgorithm algorithm);

// Builds the public key of one JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2).
// RSA keys need "n" and "e", EC keys "crv" P-256 or P-384 with "x" and "y" of
// the exact coordinate length and a point on the curve, OKP keys "crv"
// Ed25519 and a 32-byte "x". Rejects symmetric keys, private members, a "use"
// other than "sig" and "key_ops" without "verify". The key's algorithm is the
// JWK "alg", or `configured_algorithm` when the JWK has none; both present
// must agree. Errors name the key by `label`.
absl::StatusOr<VerificationKey> ParseJwk(
    const nlohmann::json& jwk, std::optional<JwsAlgorithm> configured_algorithm,
    std::string_view label);

// Parses a JWK Set ({"keys": [...]}) with ParseJwk. `configured_algorithms`
// maps a kid to the algorithm its key may use; every kid it names must be in
// the set. Rejects duplicate kids and, because keys without a kid are tried
// by algorithm, two keys without a kid for the same algorithm. Errors start
// with `source` (the file name).
absl::StatusOr<std::vector<VerificationKey>> ParseJwks(
    const nlohmann::json& jwks,
    const std::map<std::string, JwsAlgorithm>& configured_algorithms,
    std::string_view source);

// Verifies a JWS signature over `signing_input` (ASCII(BASE64URL(header) ||
// '.' || BASE64URL(payload))). ECDSA signatures are the JOSE fixed-length
// r||s form (RFC 7518 §3.4) and must be exactly 64 bytes for ES256 and 96 for
// ES384. PS256 uses MGF1-SHA-256 and a 32-byte salt. The key is checked
// against the algorithm first. Returns OK only for a valid signature.
// Otherwise the status message names the failed step. Thread-safe.
absl::Status VerifyJwsSignature(EVP_PKEY* key, JwsAlgorithm algorithm,
                                std::string_view signing_input,
                                std::string_view signature);

// Returns the SHA-256 digest of `data` as 32 raw bytes.
std::string Sha256(std::string_view data);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_JOSE_KEYS_H_
