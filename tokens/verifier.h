// Verification of the compact JWS tokens a PEP hands to the PDP: ID-JAGs,
// RFC 9068 JWT access tokens and EAR attestation results.
#ifndef VERDICT_TOKENS_VERIFIER_H_
#define VERDICT_TOKENS_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "tokens/claim_attributes.h"
#include "tokens/jose_keys.h"
#include "tokens/token_cache.h"
#include "tokens/trust_config.h"

namespace verdict::tokens {

// A token whose signature, header and claims passed every check for its
// kind. Immutable; shared between the cache and callers.
struct VerifiedToken {
  TokenKind kind;
  const IssuerTrust* trust;  // Owned by the TokenVerifier's TrustConfig.
  JwsAlgorithm algorithm;
  std::string typ;  // As sent; empty when absent.
  std::string kid;  // Empty when absent.
  std::string issuer;
  std::string subject;    // Empty when absent (attestation results).
  std::string client_id;  // Empty when absent (attestation results).
  std::string jti;        // Empty when absent (attestation results).
  std::vector<std::string> audiences;  // `aud` as a list; may be empty.
  int64_t issued_at = 0;
  std::optional<int64_t> expires_at;
  std::optional<int64_t> not_before;
  // The first second at which this token is no longer accepted: exp plus
  // the clock skew, or for an attestation result without exp, iat plus the
  // maximum lifetime plus the skew, and never after the x5c leaf expires.
  int64_t accept_until = 0;
  nlohmann::json header;
  nlohmann::json claims;
  // MapClaims(*this), computed once when the token is first verified.
  std::vector<ClaimAttribute> attributes;
};

// The reason a token was rejected. `check` names the failed check and is
// stable: format, alg, typ, crit, iss, kid, untrusted_key, signature, aud, exp,
// nbf, iat, lifetime, cnf, client_binding, nonce, replay,
// missing_claim:<claim> and invalid_claim:<claim>.
struct TokenFailure {
  std::string check;
  std::string detail;  // For people; wording may change.

  // Returns the decision reason, "token_invalid:<check>".
  std::string reason() const { return "token_invalid:" + check; }
};

// Facts about the presentation that the token is bound to, supplied by the
// PEP.
struct PresentationContext {
  // The client id the PEP authenticated at this hop. An ID-JAG's client_id
  // must equal it.
  std::optional<std::string> client_authenticated_id;
  // The RFC 7638 thumbprint of the DPoP proof key, when a proof was checked.
  // A token with cnf.jkt must match it exactly.
  std::optional<std::string> dpop_jkt;
  // The nonce the PEP issued for this attestation. An attestation result
  // must then carry it in tee.nonce (the runtime_data_claims.nonce of the
  // annotated evidence of submod cpu0). Ignored for other kinds.
  std::optional<std::string> expected_nonce;
};

// The outcome of Verify: a token, or a failure.
struct VerifyResult {
  std::shared_ptr<const VerifiedToken> token;  // Null on failure.
  TokenFailure failure;                        // Set when token is null.

  bool ok() const { return token != nullptr; }
};

// Returns the kind a token declares in its protected header `typ`, compared
// case-insensitively and with an optional "application/" prefix:
// oauth-id-jag+jwt is an ID-JAG, at+jwt an access token, and no typ, JWT or
// eat+jwt an attestation result. Returns nullopt for any other typ, a typ
// that is not a string, or a header that does not decode to a JSON object.
// The signature and claims are not looked at, so the result only selects
// which rules Verify applies. Cost: linear in the header size.
std::optional<TokenKind> DetectKind(std::string_view compact);

// Returns the current time in Unix seconds.
using Clock = std::function<int64_t()>;
int64_t SystemClockSeconds();

// Verifies tokens against one trust configuration.
//
// Per kind (mutually exclusive rules):
//   id-jag:       typ oauth-id-jag+jwt; iss sub aud client_id jti exp iat.
//                 aud is one string or a one-element array, equal to a
//                 configured audience. client_id equals the authenticated
//                 client.
//   access_token: typ at+jwt; iss exp aud sub client_id iat jti; aud
//                 contains a configured audience.
//   attestation:  typ absent, JWT or eat+jwt; iss iat eat_profile submods and
//                 the verifier id (ear.verifier-id or ear_verifier_id); aud,
//                 when the issuer lists audiences, contains one of them.
// typ compares case-insensitively with an optional "application/" prefix
// (RFC 7515 §4.1.9). Keys come only from the issuer's JWK Set, selected by
// kid, or from an x5c chain that verifies to the issuer's configured roots;
// jku and x5u are never fetched and a header jwk alone is never trusted.
// Any crit header is rejected because no JWS extension is supported.
//
// Thread-safe: the configuration is immutable and the caches lock.
class TokenVerifier {
 public:
  // `replay_cache` lets a verifier built from a reloaded trust file keep
  // the jtis seen by the one it replaces. Null makes a cache of the
  // configured capacity.
  explicit TokenVerifier(TrustConfig config, Clock clock = SystemClockSeconds,
                         std::shared_ptr<ReplayCache> replay_cache = nullptr);
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // Verifies `compact` as a token of `kind` presented with `context`. A token
  // already verified is taken from the cache, and then only the time,
  // binding and replay checks run again. Cost without a cache hit: one
  // signature verification plus parsing linear in the token size.
  VerifyResult Verify(TokenKind kind, std::string_view compact,
                      const PresentationContext& context) const;
  // As above, at time `now` (Unix seconds) instead of the clock's time, so
  // that a request can fix the time it is decided at.
  VerifyResult Verify(TokenKind kind, std::string_view compact,
                      const PresentationContext& context, int64_t now) const;

  const TrustConfig& config() const { return config_; }
  size_t cached_tokens() const { return verified_cache_.size(); }

 private:
  VerifyResult VerifyUncached(TokenKind kind, std::string_view compact,
                              int64_t now) const;
  std::optional<TokenFailure> CheckTimes(const VerifiedToken& token,
                                         int64_t now) const;
  std::optional<TokenFailure> CheckPresentation(
      const VerifiedToken& token, const PresentationContext& context,
      int64_t now) const;

  const TrustConfig config_;
  const Clock clock_;
  mutable VerifiedTokenCache verified_cache_;
  const std::shared_ptr<ReplayCache> replay_cache_;
};

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_VERIFIER_H_
