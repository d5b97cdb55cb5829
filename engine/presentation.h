// Tokens a request presents for verification, and the interface through
// which the engine hands them to a verifier.
//
// The engine decodes a request's `tokens` and the facts that bind them (the
// client the PEP authenticated, its DPoP key, a nonce) into a Presentation.
// A TokenSource, built from the trust file the policies were compiled with,
// verifies the tokens and sets the attributes they establish. The engine
// itself has no JOSE code.

#ifndef VERDICT_ENGINE_PRESENTATION_H_
#define VERDICT_ENGINE_PRESENTATION_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace verdict {

class RequestBuilder;

// A request carries at most this many tokens.
inline constexpr size_t kMaxPresentedTokens = 8;

// One token of a request. The views point into the request and are valid
// until the frame that contains them decodes the next request.
struct PresentedToken {
  // "id-jag", "access_token" or "attestation"; empty to detect the kind from
  // the `typ` header.
  std::string_view kind;
  // The compact JWS. Empty when `compact` is false.
  std::string_view jwt;
  // False when the request gave something other than a string, such as a
  // JWS in JSON serialization; the token then fails with format.
  bool compact = true;
};

// The tokens of one request and the facts of the presentation they are
// bound to, all taken from the request.
struct Presentation {
  std::vector<PresentedToken> tokens;
  // context.client_authenticated_id: the client the PEP authenticated.
  std::optional<std::string_view> client_authenticated_id;
  // context.dpop_jkt: the RFC 7638 thumbprint of the DPoP proof key.
  std::optional<std::string_view> dpop_jkt;
  // context.expected_nonce: a nonce an attestation result must carry.
  std::optional<std::string_view> expected_nonce;

  void Clear() {
    tokens.clear();
    client_authenticated_id.reset();
    dpop_jkt.reset();
    expected_nonce.reset();
  }
};

// Verifies presented tokens and sets the attributes they establish.
// Implementations are immutable and thread-safe: one is shared by every
// request decided against the program that owns it.
class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // Verifies the tokens of `presentation` at time `now` (Unix seconds) and
  // sets, through `builder`, the attributes of those that pass. A token that
  // fails makes the builder reject the request with "token_invalid:<check>".
  // Runs after the request's own attributes are set and before entity data
  // is joined, so a verified `subject.id` joins its record.
  virtual void Apply(const Presentation& presentation, int64_t now,
                     RequestBuilder& builder) const = 0;
};

}  // namespace verdict

#endif  // VERDICT_ENGINE_PRESENTATION_H_
