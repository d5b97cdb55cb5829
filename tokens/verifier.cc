#include "tokens/verifier.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "tokens/base64url.h"
#include "tokens/compact_jws.h"
#include "tokens/strict_json.h"
#include "tokens/x509_chain.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;

TokenFailure Fail(std::string check, std::string detail) {
  return TokenFailure{std::move(check), std::move(detail)};
}

VerifyResult Rejected(TokenFailure failure) {
  return VerifyResult{nullptr, std::move(failure)};
}

// Lower-cases a media type and drops an "application/" prefix, which
// RFC 7515 §4.1.9 allows senders to omit.
std::string NormalizeMediaType(std::string_view typ) {
  std::string lower = absl::AsciiStrToLower(ToAbsl(typ));
  constexpr std::string_view kPrefix = "application/";
  if (absl::StartsWith(lower, ToAbsl(kPrefix))) lower.erase(0, kPrefix.size());
  return lower;
}

std::optional<TokenFailure> CheckTyp(TokenKind kind, const json& header,
                                     std::string* typ) {
  auto it = header.find("typ");
  if (it != header.end() && !it->is_string()) {
    return Fail("typ", "the typ header is not a string");
  }
  if (it != header.end()) *typ = it->get<std::string>();
  const std::string normalized = NormalizeMediaType(*typ);
  switch (kind) {
    case TokenKind::kIdJag:
      if (normalized == "oauth-id-jag+jwt") return std::nullopt;
      return Fail("typ", absl::StrCat("an ID-JAG needs typ oauth-id-jag+jwt, "
                                      "got \"",
                                      *typ, "\""));
    case TokenKind::kAccessToken:
      if (normalized == "at+jwt") return std::nullopt;
      return Fail("typ", absl::StrCat("an access token needs typ at+jwt "
                                      "(RFC 9068 §4), got \"",
                                      *typ, "\""));
    case TokenKind::kAttestation:
      // Trustee sends no typ; others send JWT or the EAT media type. The
      // ID-JAG and access-token types are excluded by this allow-list.
      if (it == header.end() || normalized == "jwt" ||
          normalized == "eat+jwt") {
        return std::nullopt;
      }
      return Fail("typ",
                  absl::StrCat("an attestation result needs typ absent, JWT "
                               "or eat+jwt, got \"",
                               *typ, "\""));
  }
  return Fail("typ", "unknown token kind");
}

// The key that a token names, and how it was found.
struct SelectedKeys {
  std::vector<const VerificationKey*> candidates;  // From the JWK Set.
  PublicKey chained_key;                           // From x5c, or null.
  int64_t chain_not_after = kMaxNumericDate;
};

std::optional<TokenFailure> SelectKeys(const json& header,
                                       JwsAlgorithm algorithm,
                                       const IssuerTrust& trust, int64_t now,
                                       SelectedKeys* selected) {
  const bool has_jwk = header.contains("jwk");
  // The chain is the x5c header, or the x5c member of the header jwk
  // (RFC 7517 §4.7), where Trustee puts it. Given twice, both must agree.
  const json* x5c = nullptr;
  if (auto outer = header.find("x5c"); outer != header.end()) x5c = &*outer;
  if (has_jwk && header["jwk"].is_object()) {
    const json& jwk = header["jwk"];
    if (auto inner = jwk.find("x5c"); inner != jwk.end()) {
      if (x5c != nullptr && *x5c != *inner) {
        return Fail("untrusted_key",
                    "the x5c header and the x5c of the header jwk differ");
      }
      x5c = &*inner;
    }
  }
  if (x5c != nullptr) {
    if (trust.x5c_roots == nullptr) {
      return Fail("untrusted_key",
                  absl::StrCat("the token carries x5c but no x5c_root is "
                               "configured for issuer ",
                               trust.issuer));
    }
    absl::StatusOr<PublicKey> leaf =
        trust.x5c_roots->VerifyChain(*x5c, now, &selected->chain_not_after);
    if (!leaf.ok())
      return Fail("untrusted_key", std::string(leaf.status().message()));
    if (algorithm != trust.x5c_algorithm) {
      return Fail(
          "alg",
          absl::StrCat("x5c keys of issuer ", trust.issuer, " are bound to ",
                       ToAbsl(JwsAlgorithmName(trust.x5c_algorithm)), ", not ",
                       ToAbsl(JwsAlgorithmName(algorithm))));
    }
    if (absl::Status fits = CheckKeyFitsAlgorithm(leaf->get(), algorithm);
        !fits.ok()) {
      return Fail("untrusted_key", absl::StrCat("x5c leaf: ", fits.message()));
    }
    if (has_jwk) {
      // Trustee sends the leaf key as jwk too. A different jwk comes from a
      // forgery attempt or a broken signer, so the token is rejected.
      absl::StatusOr<VerificationKey> jwk =
          ParseJwk(header["jwk"], algorithm, "header jwk");
      if (!jwk.ok() || EVP_PKEY_eq(jwk->key.get(), leaf->get()) != 1) {
        return Fail("untrusted_key",
                    "the header jwk is not the key of the x5c leaf");
      }
    }
    selected->chained_key = *std::move(leaf);
    return std::nullopt;
  }
  if (has_jwk) {
    return Fail("untrusted_key",
                "a key embedded in the header (jwk) without an x5c chain to a "
                "configured root is never trusted");
  }
  auto kid = header.find("kid");
  if (kid != header.end()) {
    if (!kid->is_string()) return Fail("kid", "the kid header is not a string");
    const std::string& name = kid->get_ref<const std::string&>();
    for (const VerificationKey& key : trust.keys) {
      if (key.kid != name) continue;
      if (key.algorithm != algorithm) {
        return Fail(
            "alg", absl::StrCat("kid \"", ToAbsl(name), "\" of issuer ",
                                trust.issuer, " is bound to ",
                                ToAbsl(JwsAlgorithmName(key.algorithm)),
                                ", not ", ToAbsl(JwsAlgorithmName(algorithm))));
      }
      selected->candidates.push_back(&key);
      return std::nullopt;
    }
    return Fail("kid",
                absl::StrCat("kid \"", ToAbsl(name),
                             "\" is not a key of issuer ", trust.issuer));
  }
  for (const VerificationKey& key : trust.keys) {
    if (key.algorithm == algorithm) selected->candidates.push_back(&key);
  }
  if (selected->candidates.empty()) {
    return Fail("alg", absl::StrCat("issuer ", trust.issuer,
                                    " has no key bound "
                                    "to ",
                                    ToAbsl(JwsAlgorithmName(algorithm))));
  }
  return std::nullopt;
}

std::optional<TokenFailure> CheckSignature(const CompactJws& jws,
                                           JwsAlgorithm algorithm,
                                           const SelectedKeys& selected) {
  if (selected.chained_key != nullptr) {
    absl::Status verified =
        VerifyJwsSignature(selected.chained_key.get(), algorithm,
                           jws.signing_input, jws.signature);
    if (verified.ok()) return std::nullopt;
    return Fail("signature", std::string(verified.message()));
  }
  std::string last_error;
  for (const VerificationKey* key : selected.candidates) {
    absl::Status verified = VerifyJwsSignature(
        key->key.get(), algorithm, jws.signing_input, jws.signature);
    if (verified.ok()) return std::nullopt;
    last_error = std::string(verified.message());
  }
  return Fail("signature", last_error);
}

std::optional<TokenFailure> ReadRequiredString(const json& claims,
                                               std::string_view name,
                                               std::string* out) {
  switch (ReadStringClaim(claims, name, out)) {
    case ClaimState::kValid:
      return std::nullopt;
    case ClaimState::kAbsent:
      return Fail(absl::StrCat("missing_claim:", ToAbsl(name)),
                  absl::StrCat("the ", ToAbsl(name), " claim is required"));
    case ClaimState::kInvalid:
      break;
  }
  return Fail(
      absl::StrCat("invalid_claim:", ToAbsl(name)),
      absl::StrCat("the ", ToAbsl(name), " claim must be a non-empty string"));
}

std::optional<TokenFailure> ReadDate(const json& claims, std::string_view name,
                                     bool required,
                                     std::optional<int64_t>* out) {
  int64_t value = 0;
  switch (ReadNumericDate(claims, name, &value)) {
    case ClaimState::kValid:
      *out = value;
      return std::nullopt;
    case ClaimState::kAbsent:
      if (!required) return std::nullopt;
      return Fail(absl::StrCat("missing_claim:", ToAbsl(name)),
                  absl::StrCat("the ", ToAbsl(name), " claim is required"));
    case ClaimState::kInvalid:
      break;
  }
  return Fail(std::string(name),
              absl::StrCat("the ", ToAbsl(name),
                           " claim must be an integer "
                           "NumericDate from 0 to ",
                           kMaxNumericDate, ", got ",
                           claims[std::string(ToAbsl(name))].dump()));
}

// Checks the claims a kind requires and fills the token's typed fields.
std::optional<TokenFailure> ReadClaims(TokenKind kind, VerifiedToken& token) {
  const json& claims = token.claims;
  const bool oauth = kind != TokenKind::kAttestation;
  if (oauth) {
    for (auto [name, out] :
         {std::pair<std::string_view, std::string*>{"sub", &token.subject},
          {"client_id", &token.client_id},
          {"jti", &token.jti}}) {
      if (auto failure = ReadRequiredString(claims, name, out)) return failure;
    }
  } else {
    for (std::string_view name : {"eat_profile", "submods"}) {
      if (!claims.contains(name)) {
        return Fail(absl::StrCat("missing_claim:", ToAbsl(name)),
                    absl::StrCat("an attestation result needs ", ToAbsl(name)));
      }
    }
    if (!claims["submods"].is_object() || claims["submods"].empty()) {
      return Fail("invalid_claim:submods",
                  "submods must be a non-empty object");
    }
    // EAR renamed the claim in draft -03; Trustee still sends the old name.
    if (!claims.contains("ear.verifier-id") &&
        !claims.contains("ear_verifier_id")) {
      return Fail("missing_claim:ear_verifier_id",
                  "an EAR needs ear_verifier_id (or ear.verifier-id)");
    }
    if (claims.contains("jti")) {
      if (auto failure = ReadRequiredString(claims, "jti", &token.jti)) {
        return failure;
      }
    }
  }
  std::optional<int64_t> issued_at;
  if (auto failure = ReadDate(claims, "exp", oauth, &token.expires_at)) {
    return failure;
  }
  if (auto failure = ReadDate(claims, "iat", true, &issued_at)) return failure;
  token.issued_at = *issued_at;
  if (auto failure = ReadDate(claims, "nbf", false, &token.not_before)) {
    return failure;
  }
  switch (ReadAudience(claims, &token.audiences)) {
    case ClaimState::kValid:
      break;
    case ClaimState::kAbsent:
      if (oauth) return Fail("missing_claim:aud", "the aud claim is required");
      break;
    case ClaimState::kInvalid:
      return Fail("aud",
                  "aud must be a non-empty string or a non-empty array of "
                  "non-empty strings");
  }
  return std::nullopt;
}

std::optional<TokenFailure> CheckAudience(const VerifiedToken& token) {
  const std::vector<std::string>& expected = token.trust->audiences;
  auto is_expected = [&](const std::string& audience) {
    return std::find(expected.begin(), expected.end(), audience) !=
           expected.end();
  };
  if (token.kind == TokenKind::kAttestation && expected.empty()) {
    if (token.audiences.empty()) return std::nullopt;
    return Fail("aud", "the attestation result has aud but issuer " +
                           token.issuer + " lists no audiences");
  }
  if (token.kind == TokenKind::kIdJag && token.audiences.size() != 1) {
    // The ID-JAG processing rules require exactly one audience, which stops
    // a grant minted for several authorization servers from being used here.
    return Fail("aud", absl::StrCat("an ID-JAG must have exactly one aud, got ",
                                    token.audiences.size()));
  }
  if (std::any_of(token.audiences.begin(), token.audiences.end(),
                  is_expected)) {
    return std::nullopt;
  }
  return Fail("aud", absl::StrCat("aud [", absl::StrJoin(token.audiences, ", "),
                                  "] names none of the configured audiences [",
                                  absl::StrJoin(expected, ", "), "]"));
}

std::optional<TokenFailure> CheckLifetime(const VerifiedToken& token) {
  if (!token.expires_at.has_value()) return std::nullopt;
  const int64_t lifetime = *token.expires_at - token.issued_at;
  if (lifetime < 0 || lifetime > token.trust->max_lifetime_seconds) {
    return Fail(
        "lifetime",
        absl::StrCat("exp - iat is ", lifetime, " s; issuer ", token.issuer,
                     " allows 0 to ", token.trust->max_lifetime_seconds, " s"));
  }
  return std::nullopt;
}

// Checks that an attestation result carries the nonce the PEP expects, in
// the tee.nonce attribute MapClaims derived from it.
std::optional<TokenFailure> CheckNonce(const VerifiedToken& token,
                                       const PresentationContext& context) {
  if (token.kind != TokenKind::kAttestation ||
      !context.expected_nonce.has_value()) {
    return std::nullopt;
  }
  auto nonces = std::find_if(
      token.attributes.begin(), token.attributes.end(),
      [](const ClaimAttribute& attribute) {
        return attribute.path == "tee.nonce";
      });
  if (nonces == token.attributes.end()) {
    return Fail("nonce",
                absl::StrCat("the expected nonce \"", *context.expected_nonce,
                             "\" was set but the attestation result has no "
                             "runtime_data_claims.nonce string or array of "
                             "strings in submod cpu0"));
  }
  if (!std::binary_search(nonces->elements.begin(), nonces->elements.end(),
                          *context.expected_nonce)) {
    return Fail("nonce",
                absl::StrCat("the attestation result's nonces [",
                             absl::StrJoin(nonces->elements, ", "),
                             "] do not include the expected nonce \"",
                             *context.expected_nonce, "\""));
  }
  return std::nullopt;
}

}  // namespace

int64_t SystemClockSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TokenVerifier::TokenVerifier(TrustConfig config, Clock clock,
                             std::shared_ptr<ReplayCache> replay_cache)
    : config_(std::move(config)),
      clock_(std::move(clock)),
      verified_cache_(config_.verified_cache_capacity),
      replay_cache_(replay_cache != nullptr
                        ? std::move(replay_cache)
                        : std::make_shared<ReplayCache>(
                              config_.replay_cache_capacity)) {
  replay_cache_->set_capacity(config_.replay_cache_capacity);
}

std::optional<TokenKind> DetectKind(std::string_view compact) {
  // The same limits as a trust file that sets none.
  const TrustConfig defaults;
  if (compact.size() > defaults.max_token_bytes) return std::nullopt;
  const size_t dot = compact.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<std::string> text = DecodeBase64Url(compact.substr(0, dot));
  if (!text.has_value()) return std::nullopt;
  absl::StatusOr<json> header =
      ParseStrictJson(*text, defaults.max_json_depth);
  if (!header.ok() || !header->is_object()) return std::nullopt;

  auto typ = header->find("typ");
  if (typ == header->end()) return TokenKind::kAttestation;
  if (!typ->is_string()) return std::nullopt;
  const std::string normalized =
      NormalizeMediaType(typ->get_ref<const std::string&>());
  if (normalized == "oauth-id-jag+jwt") return TokenKind::kIdJag;
  if (normalized == "at+jwt") return TokenKind::kAccessToken;
  if (normalized == "jwt" || normalized == "eat+jwt") {
    return TokenKind::kAttestation;
  }
  return std::nullopt;
}

VerifyResult TokenVerifier::Verify(TokenKind kind, std::string_view compact,
                                   const PresentationContext& context) const {
  return Verify(kind, compact, context, clock_());
}

VerifyResult TokenVerifier::Verify(TokenKind kind, std::string_view compact,
                                   const PresentationContext& context,
                                   int64_t now) const {
  if (compact.size() > config_.max_token_bytes) {
    return Rejected(Fail(
        "format", absl::StrCat("the token has ", compact.size(),
                               " bytes; the limit is ", config_.max_token_bytes,
                               ", set by max_token_bytes in the trust file")));
  }
  std::shared_ptr<const VerifiedToken> token =
      verified_cache_.Lookup(compact, now);
  if (token == nullptr || token->kind != kind) {
    VerifyResult fresh = VerifyUncached(kind, compact, now);
    if (!fresh.ok()) return fresh;
    token = std::move(fresh.token);
    if (!CheckTimes(*token, now).has_value()) {
      verified_cache_.Insert(compact, token, token->accept_until);
    }
  }
  if (auto failure = CheckTimes(*token, now)) return Rejected(*failure);
  if (auto failure = CheckPresentation(*token, context, now)) {
    return Rejected(*failure);
  }
  return VerifyResult{std::move(token), {}};
}

VerifyResult TokenVerifier::VerifyUncached(TokenKind kind,
                                           std::string_view compact,
                                           int64_t now) const {
  absl::StatusOr<CompactJws> jws =
      ParseCompactJws(compact, config_.max_token_bytes, config_.max_json_depth);
  if (!jws.ok())
    return Rejected(Fail("format", std::string(jws.status().message())));
  const json& header = jws->header;

  auto alg = header.find("alg");
  std::optional<JwsAlgorithm> algorithm;
  if (alg != header.end() && alg->is_string()) {
    algorithm = ParseJwsAlgorithm(alg->get_ref<const std::string&>());
  }
  if (!algorithm.has_value()) {
    return Rejected(Fail(
        "alg",
        absl::StrCat("alg ", alg == header.end() ? "(absent)" : alg->dump(),
                     " is not one of RS256, PS256, ES256, ES384, EdDSA "
                     "(compared case-sensitively)")));
  }
  auto token = std::make_shared<VerifiedToken>();
  token->kind = kind;
  token->algorithm = *algorithm;
  if (auto failure = CheckTyp(kind, header, &token->typ))
    return Rejected(*failure);
  if (header.contains("crit")) {
    return Rejected(Fail("crit", absl::StrCat("crit ", header["crit"].dump(),
                                              " lists extensions this verifier "
                                              "does not support")));
  }

  token->claims = std::move(jws->payload);
  if (auto failure = ReadRequiredString(token->claims, "iss", &token->issuer)) {
    return Rejected(*failure);
  }
  token->trust = config_.Find(kind, token->issuer);
  if (token->trust == nullptr) {
    return Rejected(
        Fail("iss",
             absl::StrCat("issuer \"", token->issuer, "\" is not trusted for ",
                          ToAbsl(TokenKindName(kind)), " tokens")));
  }

  SelectedKeys keys;
  if (auto failure =
          SelectKeys(header, *algorithm, *token->trust, now, &keys)) {
    return Rejected(*failure);
  }
  if (auto failure = CheckSignature(*jws, *algorithm, keys)) {
    return Rejected(*failure);
  }
  if (auto kid = header.find("kid"); kid != header.end() && kid->is_string()) {
    token->kid = kid->get<std::string>();
  }

  if (auto failure = ReadClaims(kind, *token)) return Rejected(*failure);
  if (auto failure = CheckAudience(*token)) return Rejected(*failure);
  if (auto failure = CheckLifetime(*token)) return Rejected(*failure);

  const int64_t skew = config_.clock_skew_seconds;
  token->accept_until =
      token->expires_at.has_value()
          ? *token->expires_at + skew
          : token->issued_at + token->trust->max_lifetime_seconds + skew;
  token->accept_until = std::min(token->accept_until, keys.chain_not_after + 1);
  token->header = header;
  token->attributes = MapClaims(*token);
  return VerifyResult{std::move(token), {}};
}

std::optional<TokenFailure> TokenVerifier::CheckTimes(
    const VerifiedToken& token, int64_t now) const {
  const int64_t skew = config_.clock_skew_seconds;
  if (token.expires_at.has_value() && now >= *token.expires_at + skew) {
    return Fail("exp", absl::StrCat("the token expired at ", *token.expires_at,
                                    "; now is ", now, " and the clock skew is ",
                                    skew, " s"));
  }
  if (token.not_before.has_value() && *token.not_before > now + skew) {
    return Fail("nbf", absl::StrCat("the token is not valid before ",
                                    *token.not_before, "; now is ", now,
                                    " and the clock skew is ", skew, " s"));
  }
  if (token.issued_at > now + skew) {
    return Fail("iat", absl::StrCat("the token is issued in the future at ",
                                    token.issued_at, "; now is ", now,
                                    " and the clock skew is ", skew, " s"));
  }
  if (now >= token.accept_until) {
    return Fail("lifetime",
                absl::StrCat("the token is no longer accepted since ",
                             token.accept_until,
                             " (no exp, or the x5c leaf "
                             "certificate expired); now is ",
                             now));
  }
  return std::nullopt;
}

std::optional<TokenFailure> TokenVerifier::CheckPresentation(
    const VerifiedToken& token, const PresentationContext& context,
    int64_t now) const {
  if (token.kind == TokenKind::kIdJag) {
    if (!context.client_authenticated_id.has_value()) {
      return Fail("client_binding",
                  "an ID-JAG needs the authenticated client id to compare with "
                  "its client_id; the PEP supplied none");
    }
    if (*context.client_authenticated_id != token.client_id) {
      return Fail("client_binding",
                  absl::StrCat("client_id \"", token.client_id,
                               "\" is not the authenticated client \"",
                               *context.client_authenticated_id, "\""));
    }
  }
  if (auto cnf = token.claims.find("cnf"); cnf != token.claims.end()) {
    auto jkt = cnf->is_object() ? cnf->find("jkt") : cnf->end();
    if (jkt == cnf->end() || !jkt->is_string()) {
      return Fail("cnf",
                  "cnf has no jkt string; other proof-of-possession "
                  "methods are not supported");
    }
    if (!context.dpop_jkt.has_value() || *context.dpop_jkt != *jkt) {
      return Fail("cnf",
                  absl::StrCat("cnf.jkt ", jkt->dump(),
                               " does not match the DPoP key thumbprint ",
                               context.dpop_jkt.value_or("(none)")));
    }
  }
  if (auto failure = CheckNonce(token, context)) return failure;
  const ReplayMode mode = token.trust->replay;
  if (mode == ReplayMode::kNone) return std::nullopt;
  if (token.jti.empty()) {
    return Fail("missing_claim:jti",
                absl::StrCat("replay mode ", ToAbsl(ReplayModeName(mode)),
                             " of issuer ", token.issuer, " needs a jti"));
  }
  const std::string& client =
      context.client_authenticated_id.value_or(token.client_id);
  switch (replay_cache_->Check(mode, token.issuer, token.jti, client,
                              token.accept_until, now)) {
    case ReplayCheck::kAccepted:
      return std::nullopt;
    case ReplayCheck::kReplayed:
      return Fail(
          "replay",
          absl::StrCat("jti \"", token.jti, "\" of issuer ", token.issuer,
                       mode == ReplayMode::kOneTime
                           ? " was already used"
                           : " was already used by another client"));
    case ReplayCheck::kFull:
      break;
  }
  return Fail("replay", absl::StrCat("the replay cache holds ",
                                     config_.replay_cache_capacity,
                                     " unexpired jtis, so this one cannot be "
                                     "tracked; raise replay_cache_capacity"));
}

}  // namespace verdict::tokens
