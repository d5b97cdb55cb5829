// RFC 9068 access tokens (RS256, PS256) and Trustee EAR attestation results
// (ES256 with an x5c chain to the configured root).
#include "tests/tokens/verifier_fixture.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;
constexpr TokenKind kAt = TokenKind::kAccessToken;
constexpr TokenKind kEar = TokenKind::kAttestation;

TEST_F(VerifierTest, At0Verifies) {
  VerifyResult result =
      VerifyAs(kAt, MakeToken(At0Header(), At0Claims(), keys_->as_rsa.get()));
  ASSERT_TRUE(result.ok()) << result.failure.detail;
  EXPECT_EQ(result.token->claims["act"]["sub"], kAgent);
  EXPECT_EQ(result.token->algorithm, JwsAlgorithm::kRs256);
}

TEST_F(VerifierTest, Ps256Verifies) {
  json header = At0Header();
  header["alg"] = "PS256";
  header["kid"] = "as-pss";
  EXPECT_TRUE(
      VerifyAs(kAt, MakeToken(header, At0Claims(), keys_->as_pss.get())).ok());
  // PKCS#1 v1.5 and PSS are different algorithms for the same key type.
  const std::string input = SigningInput(header, At0Claims());
  ExpectRejected(kAt,
                 Assemble(input, SignJws(keys_->as_pss.get(), "RS256", input)),
                 "signature");
}

TEST_F(VerifierTest, RsaSignatureTamperingDetected) {
  const std::string input = SigningInput(At0Header(), At0Claims());
  std::string signature = SignJws(keys_->as_rsa.get(), "RS256", input);
  signature[10] ^= 1;
  ExpectRejected(kAt, Assemble(input, signature), "signature");
}

TEST_F(VerifierTest, AccessTokenTypRules) {
  json header = At0Header();
  header["typ"] = "application/at+JWT";
  EXPECT_TRUE(
      VerifyAs(kAt, MakeToken(header, At0Claims(), keys_->as_rsa.get())).ok());
  for (const char* typ : {"JWT", "oauth-id-jag+jwt", "at+jwt2"}) {
    header["typ"] = typ;
    ExpectRejected(kAt, MakeToken(header, At0Claims(), keys_->as_rsa.get()),
                   "typ");
  }
}

TEST_F(VerifierTest, AccessTokenAudienceContainsResourceServer) {
  json claims = At0Claims();
  claims["aud"] = {"https://other.example/", kRs};
  EXPECT_TRUE(
      VerifyAs(kAt, MakeToken(At0Header(), claims, keys_->as_rsa.get())).ok());
  claims["aud"] = "https://api.other.example/";
  ExpectRejected(kAt, MakeToken(At0Header(), claims, keys_->as_rsa.get()),
                 "aud");
}

TEST_F(VerifierTest, AccessTokenNeedsItsClaims) {
  for (const char* name : {"sub", "client_id", "jti", "exp", "iat", "aud"}) {
    json claims = At0Claims();
    claims.erase(name);
    ExpectRejected(kAt, MakeToken(At0Header(), claims, keys_->as_rsa.get()),
                   std::string("missing_claim:") + name);
  }
}

TEST_F(VerifierTest, Ear0VerifiesThroughX5c) {
  VerifyResult result =
      VerifyAs(kEar, MakeToken(EarHeader(keys_->trustee_leaf.get()),
                               EarTdx0Claims(), keys_->trustee_leaf_key.get()));
  ASSERT_TRUE(result.ok()) << result.failure.detail;
  EXPECT_EQ(result.token->issuer, kTrustee);
  EXPECT_EQ(result.token->claims["submods"]["cpu0"]["ear.status"], "affirming");
}

TEST_F(VerifierTest, EarVerifiesWithX5cOnlyInsideHeaderJwk) {
  json header = EarHeader(keys_->trustee_leaf.get());
  header.erase("x5c");
  ASSERT_TRUE(header["jwk"].contains("x5c"));
  VerifyResult result = VerifyAs(
      kEar, MakeToken(header, EarTdx0Claims(), keys_->trustee_leaf_key.get()));
  ASSERT_TRUE(result.ok()) << result.failure.detail;
  EXPECT_EQ(result.token->issuer, kTrustee);
}

TEST_F(VerifierTest, EarJwkX5cNeedsConfiguredRoot) {
  json header = EarHeader(keys_->rogue_leaf.get());
  header.erase("x5c");
  ExpectRejected(kEar,
                 MakeToken(header, EarTdx0Claims(),
                           keys_->trustee_leaf_key.get()),
                 "untrusted_key");
}

TEST_F(VerifierTest, EarX5cHeaderAndJwkX5cMustAgree) {
  json header = EarHeader(keys_->trustee_leaf.get());
  header["jwk"]["x5c"] = {CertificateBase64(keys_->rogue_leaf.get())};
  ExpectRejected(kEar,
                 MakeToken(header, EarTdx0Claims(),
                           keys_->trustee_leaf_key.get()),
                 "untrusted_key");
}

TEST_F(VerifierTest, EarX5cMustChainToConfiguredRoot) {
  ExpectRejected(kEar,
                 MakeToken(EarHeader(keys_->rogue_leaf.get()), EarTdx0Claims(),
                           keys_->trustee_leaf_key.get()),
                 "untrusted_key");
  // The root itself is not a leaf the verifier accepts keys from unless the
  // chain verifies; a self-signed attacker certificate does not.
  Certificate self_signed =
      IssueCertificate(keys_->attacker.get(), "Attacker", keys_->attacker.get(),
                       nullptr, false, kNow - 86400, kNow + 86400);
  ExpectRejected(kEar,
                 MakeToken(EarHeader(self_signed.get()), EarTdx0Claims(),
                           keys_->attacker.get()),
                 "untrusted_key");
}

TEST_F(VerifierTest, EarX5cLeafOutsideValidityRejected) {
  Certificate expired =
      IssueCertificate(keys_->trustee_leaf_key.get(), "Expired signer",
                       keys_->trustee_root_key.get(), keys_->trustee_root.get(),
                       false, kNow - 2 * 86400, kNow - 86400);
  ExpectRejected(kEar,
                 MakeToken(EarHeader(expired.get()), EarTdx0Claims(),
                           keys_->trustee_leaf_key.get()),
                 "untrusted_key");
}

TEST_F(VerifierTest, CachedEarEndsWithLeafCertificate) {
  // The leaf expires 100 s after NOW, before the token's exp + skew, so the
  // cached token must not outlive the certificate that vouched for its key.
  Certificate short_lived =
      IssueCertificate(keys_->trustee_leaf_key.get(), "Short-lived signer",
                       keys_->trustee_root_key.get(), keys_->trustee_root.get(),
                       false, kNow - 86400, kNow + 100);
  const std::string ear =
      MakeToken(EarHeader(short_lived.get()), EarTdx0Claims(),
                keys_->trustee_leaf_key.get());
  ASSERT_TRUE(VerifyAs(kEar, ear).ok());
  now_ = kNow + 100;
  EXPECT_TRUE(VerifyAs(kEar, ear).ok());
  now_ = kNow + 101;
  ExpectRejected(kEar, ear, "untrusted_key");
}

TEST_F(VerifierTest, EarSignedByOtherKeyThanLeafRejected) {
  json header = EarHeader(keys_->trustee_leaf.get());
  header.erase("jwk");
  ExpectRejected(kEar,
                 MakeToken(header, EarTdx0Claims(), keys_->attacker.get()),
                 "signature");
}

TEST_F(VerifierTest, EarHeaderJwkMustBeTheLeafKey) {
  json header = EarHeader(keys_->trustee_leaf.get());
  header["jwk"] = PublicJwk(keys_->attacker.get(), "", "");
  ExpectRejected(
      kEar, MakeToken(header, EarTdx0Claims(), keys_->trustee_leaf_key.get()),
      "untrusted_key");
  // A self-asserted jwk without x5c, validly signed, is never trusted.
  header.erase("x5c");
  ExpectRejected(kEar,
                 MakeToken(header, EarTdx0Claims(), keys_->attacker.get()),
                 "untrusted_key");
}

TEST_F(VerifierTest, EarTypRules) {
  json header = EarHeader(keys_->trustee_leaf.get());
  for (const char* typ : {"JWT", "application/eat+jwt"}) {
    header["typ"] = typ;
    EXPECT_TRUE(VerifyAs(kEar, MakeToken(header, EarTdx0Claims(),
                                         keys_->trustee_leaf_key.get()))
                    .ok())
        << typ;
  }
  for (const char* typ : {"at+jwt", "oauth-id-jag+jwt"}) {
    header["typ"] = typ;
    ExpectRejected(
        kEar, MakeToken(header, EarTdx0Claims(), keys_->trustee_leaf_key.get()),
        "typ");
  }
}

TEST_F(VerifierTest, EarClaimRules) {
  const json header = EarHeader(keys_->trustee_leaf.get());
  EVP_PKEY* key = keys_->trustee_leaf_key.get();
  for (const char* name : {"eat_profile", "submods", "iat"}) {
    json claims = EarTdx0Claims();
    claims.erase(name);
    ExpectRejected(kEar, MakeToken(header, claims, key),
                   std::string("missing_claim:") + name);
  }
  json claims = EarTdx0Claims();
  claims.erase("ear.verifier-id");
  ExpectRejected(kEar, MakeToken(header, claims, key),
                 "missing_claim:ear_verifier_id");
  claims["ear_verifier_id"] = {{"developer", "x"}, {"build", "y"}};
  EXPECT_TRUE(VerifyAs(kEar, MakeToken(header, claims, key)).ok());
  claims = EarTdx0Claims();
  claims["submods"] = json::object();
  ExpectRejected(kEar, MakeToken(header, claims, key), "invalid_claim:submods");
  claims = EarTdx0Claims();
  claims["aud"] = "https://somewhere.example/";
  ExpectRejected(kEar, MakeToken(header, claims, key), "aud");
}

TEST_F(VerifierTest, EarTimeRules) {
  const json header = EarHeader(keys_->trustee_leaf.get());
  EVP_PKEY* key = keys_->trustee_leaf_key.get();
  json claims = EarTdx0Claims();
  claims["iat"] = kNow - 200;
  claims["exp"] = kNow - 61;
  ExpectRejected(kEar, MakeToken(header, claims, key), "exp");
  claims["exp"] = kNow - 30;
  EXPECT_TRUE(VerifyAs(kEar, MakeToken(header, claims, key)).ok());
  claims["exp"] = 1767225870.0;
  ExpectRejected(kEar, MakeToken(header, claims, key), "exp");
  claims["exp"] = kNow + 401;  // exp - iat = 601 > 600.
  ExpectRejected(kEar, MakeToken(header, claims, key), "lifetime");
  // Without exp, the maximum lifetime after iat bounds acceptance.
  claims.erase("exp");
  claims["iat"] = kNow - 600;
  EXPECT_TRUE(VerifyAs(kEar, MakeToken(header, claims, key)).ok());
  claims["iat"] = kNow - 661;
  ExpectRejected(kEar, MakeToken(header, claims, key), "lifetime");
}

TEST_F(VerifierTest, EarUntrustedIssuerRejected) {
  json claims = EarTdx0Claims();
  claims["iss"] = kIdp;
  ExpectRejected(kEar,
                 MakeToken(EarHeader(keys_->trustee_leaf.get()), claims,
                           keys_->trustee_leaf_key.get()),
                 "iss");
}

}  // namespace
}  // namespace verdict::tokens::testing
