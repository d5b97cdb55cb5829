// The engine's TokenSource backed by a trust file: verifies the tokens a
// request presents and sets the attributes they establish.
#ifndef VERDICT_TOKENS_TOKEN_SOURCE_H_
#define VERDICT_TOKENS_TOKEN_SOURCE_H_

#include <cstdint>
#include <memory>

#include "engine/presentation.h"
#include "tokens/token_cache.h"
#include "tokens/trust_config.h"
#include "tokens/verifier.h"

namespace verdict::tokens {

// For each presented token: detects its kind from `typ` when the request
// names none, verifies it at the request's time, and sets the attributes of
// MapClaims plus the per-request ones (token.age, tee.age,
// client.authenticated_id, client.binding_ok). A token that fails rejects
// the request with token_invalid:<check> and sets nothing. token.verified
// and tee.verified are false when no token of that family verified.
//
// Thread-safe; the caches of the verifier are shared by all requests
// decided against the program that owns this source.
class TrustedTokenSource final : public TokenSource {
 public:
  // `replay_cache` carries the jtis seen across reloads; null makes a new
  // cache.
  explicit TrustedTokenSource(TrustConfig config,
                              std::shared_ptr<ReplayCache> replay_cache);

  void Apply(const Presentation& presentation, int64_t now,
             RequestBuilder& builder) const override;

  const TokenVerifier& verifier() const { return verifier_; }

 private:
  TokenVerifier verifier_;
};

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_TOKEN_SOURCE_H_
