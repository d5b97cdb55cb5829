#include "tokens/token_source.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/request.h"
#include "tokens/claim_attributes.h"

namespace verdict::tokens {
namespace {

AttributeSource SourceOf(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdJag: return AttributeSource::kIdJag;
    case TokenKind::kAccessToken: return AttributeSource::kAccessToken;
    case TokenKind::kAttestation: return AttributeSource::kEar;
  }
  return AttributeSource::kRequest;
}

std::optional<std::string> ToString(std::optional<std::string_view> view) {
  if (!view) return std::nullopt;
  return std::string(*view);
}

void SetAttribute(const ClaimAttribute& attribute, AttributeSource source,
                  RequestBuilder& builder) {
  switch (attribute.kind) {
    case AttributeKind::kBool:
      builder.DeriveBool(attribute.path, attribute.boolean, source);
      return;
    case AttributeKind::kInt:
      builder.DeriveInt(attribute.path, attribute.integer, source);
      return;
    case AttributeKind::kString:
      builder.DeriveString(attribute.path, attribute.text, source);
      return;
    case AttributeKind::kStringSet:
    case AttributeKind::kStringList:
      builder.DeriveStrings(attribute.path, attribute.elements,
                            attribute.kind == AttributeKind::kStringList,
                            source);
      return;
  }
}

}  // namespace

TrustedTokenSource::TrustedTokenSource(
    TrustConfig config, std::shared_ptr<ReplayCache> replay_cache)
    : verifier_(std::move(config), SystemClockSeconds,
                std::move(replay_cache)) {}

void TrustedTokenSource::Apply(const Presentation& presentation, int64_t now,
                               RequestBuilder& builder) const {
  const PresentationContext context{
      ToString(presentation.client_authenticated_id),
      ToString(presentation.dpop_jkt), ToString(presentation.expected_nonce)};
  if (presentation.client_authenticated_id) {
    builder.DeriveString("client.authenticated_id",
                         *presentation.client_authenticated_id,
                         AttributeSource::kRequest);
  }
  bool identity = false;
  bool attestation = false;
  for (size_t i = 0; i < presentation.tokens.size(); ++i) {
    const PresentedToken& presented = presentation.tokens[i];
    if (!presented.compact) {
      builder.Reject("token_invalid:format",
                     absl::StrCat("tokens[", i,
                                  "].jwt is not a string; only the compact "
                                  "serialization is accepted"));
      continue;
    }
    const std::optional<TokenKind> kind =
        presented.kind.empty() ? DetectKind(presented.jwt)
                               : ParseTokenKind(presented.kind);
    if (!kind) {
      builder.Reject("token_invalid:typ",
                     absl::StrCat("tokens[", i,
                                  "] has no kind, and its typ header names "
                                  "none of the token kinds"));
      continue;
    }
    const VerifyResult result =
        verifier_.Verify(*kind, presented.jwt, context, now);
    if (!result.ok()) {
      const std::string kind_name(TokenKindName(*kind));
      builder.Reject(result.failure.reason(),
                     absl::StrCat("tokens[", i, "] (", kind_name,
                                  "): ", result.failure.detail));
      continue;
    }
    const VerifiedToken& token = *result.token;
    const AttributeSource source = SourceOf(*kind);
    for (const ClaimAttribute& attribute : token.attributes) {
      SetAttribute(attribute, source, builder);
    }
    if (*kind == TokenKind::kAttestation) {
      attestation = true;
      builder.DeriveInt("tee.age", now - token.issued_at, source);
    } else {
      identity = true;
      builder.DeriveInt("token.age", now - token.issued_at, source);
      // The verifier rejects an ID-JAG whose client_id is not the
      // authenticated client; an access token has no such binding.
      builder.DeriveBool("client.binding_ok", true, source);
    }
  }
  if (!identity) {
    builder.DeriveBool("token.verified", false, AttributeSource::kVerdict);
  }
  if (!attestation) {
    builder.DeriveBool("tee.verified", false, AttributeSource::kVerdict);
  }
}

}  // namespace verdict::tokens
