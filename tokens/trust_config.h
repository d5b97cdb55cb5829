// The trust file: which issuers the PDP accepts tokens from, for which token
// kind, with which keys, audiences, lifetimes and replay handling.
//
// Format (JSON; paths are relative to the trust file's directory):
//
//   {
//     "clock_skew_seconds": 60,            // optional, 0..600, default 60
//     "max_token_bytes": 65536,            // optional, default 65536
//     "max_json_depth": 32,                // optional, 2..256, default 32
//     "verified_cache_capacity": 10000,    // optional, 0 disables the cache
//     "replay_cache_capacity": 100000,     // optional, at least 1
//     "issuers": [
//       {"kind": "id-jag",                 // id-jag | access_token |
//       attestation
//        "issuer": "https://idp.acme.example",
//        "jwks": "keys/idp.jwks.json",     // a JWK Set file
//        "key_algorithms": {"idp-1": "ES256"},  // kid -> the one algorithm
//        "audiences": ["https://as.sales.example/"],
//        "max_lifetime_seconds": 3600,     // optional, default 3600
//        "replay": "same-client"},         // none | same-client | one-time
//       {"kind": "attestation",
//        "issuer": "https://trustee.acme.example",
//        "x5c_root": "certs/trustee-root.pem",  // roots for x5c chains
//        "x5c_algorithm": "ES256"}         // the algorithm of chained leaves
//     ]
//   }
//
// Unknown members are errors, so a misspelt limit is never silently ignored.
#ifndef VERDICT_TOKENS_TRUST_CONFIG_H_
#define VERDICT_TOKENS_TRUST_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tokens/jose_keys.h"
#include "tokens/x509_chain.h"

namespace verdict::tokens {

// The kinds of token the PDP verifies, each under its own mutually exclusive
// rules: an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant), an
// RFC 9068 JWT access token, or an EAR attestation result.
enum class TokenKind { kIdJag, kAccessToken, kAttestation };

// Maps "id-jag", "access_token" or "attestation" to a kind.
std::optional<TokenKind> ParseTokenKind(std::string_view name);
std::string_view TokenKindName(TokenKind kind);

// The handling of a repeated `jti` from one issuer.
enum class ReplayMode {
  kNone,        // No replay cache.
  kSameClient,  // The same jti may return, but only from the same client.
  kOneTime,     // A jti is accepted once until it expires.
};

std::optional<ReplayMode> ParseReplayMode(std::string_view name);
std::string_view ReplayModeName(ReplayMode mode);

// The trust placed in one issuer for one token kind.
struct IssuerTrust {
  TokenKind kind;
  std::string issuer;                 // Compared exactly with `iss`.
  std::vector<VerificationKey> keys;  // From the "jwks" file; may be empty
                                      // when `x5c_roots` is set.
  std::shared_ptr<const CertificateRoots> x5c_roots;  // Null: x5c is ignored.
  JwsAlgorithm x5c_algorithm = JwsAlgorithm::kEs256;
  std::vector<std::string> audiences;
  int64_t max_lifetime_seconds = 3600;
  ReplayMode replay = ReplayMode::kNone;
};

// A loaded trust file. Immutable once loaded; thread-compatible.
struct TrustConfig {
  int64_t clock_skew_seconds = 60;
  size_t max_token_bytes = 65536;
  int max_json_depth = 32;
  size_t verified_cache_capacity = 10000;
  size_t replay_cache_capacity = 100000;
  std::vector<IssuerTrust> issuers;

  // Returns the entry for `issuer` and `kind`, or null.
  const IssuerTrust* Find(TokenKind kind, std::string_view issuer) const;
};

// Reads and validates a trust file. Every error names the file, the member
// (for example "issuers[1].audiences") and what to change.
absl::StatusOr<TrustConfig> LoadTrustConfig(const std::string& path);

// Validates an already parsed trust file; `path` names it in errors and its
// directory anchors relative paths.
absl::StatusOr<TrustConfig> ParseTrustConfig(const nlohmann::json& root,
                                             const std::string& path);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_TRUST_CONFIG_H_
