// ID-JAG verification: header rules (alg, typ, crit, key selection), claim
// rules, time windows, client binding, proof of possession and replay.
#include <openssl/hmac.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/tokens/verifier_fixture.h"
#include "tokens/base64url.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;
constexpr TokenKind kJag = TokenKind::kIdJag;

TEST_F(VerifierTest, Jag0Verifies) {
  VerifyResult result = VerifyAs(kJag, SignJag(Jag0Header(), Jag0Claims()));
  ASSERT_TRUE(result.ok()) << result.failure.detail;
  EXPECT_EQ(result.token->issuer, kIdp);
  EXPECT_EQ(result.token->subject, "U-1001");
  EXPECT_EQ(result.token->client_id, kAgent);
  EXPECT_EQ(result.token->audiences, std::vector<std::string>{kRas});
  EXPECT_EQ(result.token->issued_at, kNow - 60);
  EXPECT_EQ(result.token->expires_at, kNow + 240);
  EXPECT_EQ(result.token->kid, "idp-1");
  EXPECT_EQ(result.token->claims["scope"], "sales.read crm.read");
}

TEST_F(VerifierTest, Es384AndEdDsaKeysVerify) {
  json header = Jag0Header();
  header["alg"] = "ES384";
  header["kid"] = "idp-384";
  VerifyResult es384 =
      VerifyAs(kJag, MakeToken(header, Jag0Claims(), keys_->idp_p384.get()));
  EXPECT_TRUE(es384.ok()) << es384.failure.detail;
  header["alg"] = "EdDSA";
  header["kid"] = "idp-ed";
  VerifyResult eddsa =
      VerifyAs(kJag, MakeToken(header, Jag0Claims(), keys_->idp_ed.get()));
  EXPECT_TRUE(eddsa.ok()) << eddsa.failure.detail;
}

TEST_F(VerifierTest, TamperedPayloadFailsSignature) {
  for (auto [alg, kid, key] :
       {std::tuple{"ES256", "idp-1", keys_->idp.get()},
        std::tuple{"ES384", "idp-384", keys_->idp_p384.get()},
        std::tuple{"EdDSA", "idp-ed", keys_->idp_ed.get()}}) {
    json header = Jag0Header();
    header["alg"] = alg;
    header["kid"] = kid;
    const std::string input = SigningInput(header, Jag0Claims());
    const std::string signature = SignJws(key, alg, input);
    json forged = Jag0Claims();
    forged["scope"] = "sales.read sales.write";
    ExpectRejected(kJag, Assemble(SigningInput(header, forged), signature),
                   "signature");
  }
}

TEST_F(VerifierTest, AlgNoneRejected) {
  json header = Jag0Header();
  for (const char* none : {"none", "nOnE", "NONE"}) {
    header["alg"] = none;
    ExpectRejected(kJag, SigningInput(header, Jag0Claims()) + ".", "alg");
  }
}

TEST_F(VerifierTest, AlgCompareIsCaseSensitive) {
  json header = Jag0Header();
  header["alg"] = "es256";
  ExpectRejected(kJag,
                 SignJag(Jag0Header(), Jag0Claims())
                     .replace(0, EncodeBase64Url(Jag0Header().dump()).size(),
                              EncodeBase64Url(header.dump())),
                 "alg");
}

TEST_F(VerifierTest, HmacWithPublicKeyRejected) {
  // The RS/ES-to-HS confusion: an HMAC keyed with the issuer's public JWK.
  json header = Jag0Header();
  header["alg"] = "HS256";
  const std::string input = SigningInput(header, Jag0Claims());
  const std::string secret = PublicJwk(keys_->idp.get(), "idp-1", "").dump();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &length);
  ExpectRejected(
      kJag, Assemble(input, std::string(reinterpret_cast<char*>(mac), length)),
      "alg");
}

TEST_F(VerifierTest, KeyBoundToOneAlgorithm) {
  // idp-1 is bound to ES256 by the trust file; an ES384 header is refused
  // before any signature check.
  json header = Jag0Header();
  header["alg"] = "ES384";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->idp_p384.get()),
                 "alg");
  // An RSA algorithm naming an EC key is refused too.
  header["alg"] = "RS256";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->as_rsa.get()),
                 "alg");
}

TEST_F(VerifierTest, UnknownKidRejected) {
  json header = Jag0Header();
  header["kid"] = "unknown-9";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "kid");
}

TEST_F(VerifierTest, MissingKidTriesKeysOfTheAlgorithm) {
  json header = Jag0Header();
  header.erase("kid");
  EXPECT_TRUE(VerifyAs(kJag, SignJag(header, Jag0Claims())).ok());
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "signature");
}

TEST_F(VerifierTest, CritRejected) {
  json header = Jag0Header();
  header["crit"] = {"exp-ext"};
  header["exp-ext"] = 1;
  ExpectRejected(kJag, SignJag(header, Jag0Claims()), "crit");
}

TEST_F(VerifierTest, JkuNeverFollowed) {
  json header = Jag0Header();
  header["jku"] = "https://attacker.example/jwks";
  header["kid"] = "attacker-1";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "kid");
  header["kid"] = "idp-1";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "signature");
  header["x5u"] = "https://attacker.example/cert.pem";
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "signature");
}

TEST_F(VerifierTest, EmbeddedJwkNeverTrusted) {
  json header = Jag0Header();
  header.erase("kid");
  header["jwk"] = PublicJwk(keys_->attacker.get(), "", "ES256");
  ExpectRejected(kJag, MakeToken(header, Jag0Claims(), keys_->attacker.get()),
                 "untrusted_key");
  // Even the issuer's own key is not taken from the header.
  header["jwk"] = PublicJwk(keys_->idp.get(), "", "ES256");
  ExpectRejected(kJag, SignJag(header, Jag0Claims()), "untrusted_key");
}

TEST_F(VerifierTest, X5cWithoutConfiguredRootRejected) {
  json header = EarHeader(keys_->trustee_leaf.get());
  header["typ"] = "oauth-id-jag+jwt";
  json claims = Jag0Claims();
  ExpectRejected(kJag, MakeToken(header, claims, keys_->trustee_leaf_key.get()),
                 "untrusted_key");
}

struct TypCase {
  const char* name;
  json typ;           // null: no typ member.
  const char* check;  // "" when accepted.
};

TEST_F(VerifierTest, IdJagTypRules) {
  const TypCase cases[] = {
      {"exact", "oauth-id-jag+jwt", ""},
      {"prefixed and upper case", "application/OAUTH-ID-JAG+JWT", ""},
      {"generic JWT", "JWT", "typ"},
      {"access token type", "at+jwt", "typ"},
      {"other media type prefix", "text/oauth-id-jag+jwt", "typ"},
      {"absent", nullptr, "typ"},
      {"not a string", 7, "typ"},
  };
  for (const TypCase& c : cases) {
    SCOPED_TRACE(c.name);
    json header = Jag0Header();
    if (c.typ.is_null()) {
      header.erase("typ");
    } else {
      header["typ"] = c.typ;
    }
    json claims = Jag0Claims();
    claims["jti"] = std::string("typ-") + c.name;  // Fresh for replay.
    VerifyResult result = VerifyAs(kJag, SignJag(header, claims));
    if (std::string(c.check).empty()) {
      EXPECT_TRUE(result.ok()) << result.failure.detail;
    } else {
      EXPECT_EQ(result.failure.reason(),
                std::string("token_invalid:") + c.check);
    }
  }
}

TEST_F(VerifierTest, IssuerAllowList) {
  json claims = Jag0Claims();
  claims["iss"] = "https://evil.example";
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "iss");
  // The AS is trusted for access tokens only, so its key set is not
  // consulted for an ID-JAG even when the signature is its own.
  claims["iss"] = kAs;
  json header = Jag0Header();
  header["alg"] = "RS256";
  header["kid"] = "as-1";
  ExpectRejected(kJag, MakeToken(header, claims, keys_->as_rsa.get()), "iss");
}

TEST_F(VerifierTest, AudienceRules) {
  json claims = Jag0Claims();
  claims["aud"] = {kRas};
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
  claims["aud"] = {kRas, "https://other.example/"};
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "aud");
  claims["aud"] = "https://as.sales.example";
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "aud");
  claims["aud"] = json::array();
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "aud");
  claims["aud"] = {kRas, 5};
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "aud");
  claims.erase("aud");
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "missing_claim:aud");
}

TEST_F(VerifierTest, RequiredClaims) {
  for (const char* name : {"sub", "client_id", "jti", "exp", "iat"}) {
    json claims = Jag0Claims();
    claims.erase(name);
    ExpectRejected(kJag, SignJag(Jag0Header(), claims),
                   std::string("missing_claim:") + name);
  }
  json claims = Jag0Claims();
  claims["client_id"] = 42;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims),
                 "invalid_claim:client_id");
  claims = Jag0Claims();
  claims.erase("iss");
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "missing_claim:iss");
}

TEST_F(VerifierTest, NumericDatesMustBeIntegers) {
  const std::pair<const char*, json> cases[] = {
      {"exp", 1767225840.5}, {"exp", 1767225840.0}, {"exp", "1767225840"},
      {"exp", -1},           {"exp", 253402300800}, {"iat", 1767225540.25},
      {"nbf", true},
  };
  for (const auto& [name, value] : cases) {
    SCOPED_TRACE(value.dump());
    json claims = Jag0Claims();
    claims[name] = value;
    ExpectRejected(kJag, SignJag(Jag0Header(), claims), name);
  }
}

TEST_F(VerifierTest, ExpiryHonoursSkew) {
  json claims = Jag0Claims();
  claims["exp"] = kNow - 61;
  claims["iat"] = kNow - 200;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "exp");
  claims["exp"] = kNow - 60;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "exp");
  claims["exp"] = kNow - 59;
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
}

TEST_F(VerifierTest, NotBeforeAndIssuedAtHonourSkew) {
  json claims = Jag0Claims();
  claims["nbf"] = kNow + 120;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "nbf");
  claims["nbf"] = kNow + 60;
  claims["jti"] = "nbf-ok";
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
  claims = Jag0Claims();
  claims["iat"] = kNow + 120;
  claims["exp"] = kNow + 400;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "iat");
  claims["iat"] = kNow + 60;
  claims["jti"] = "iat-ok";
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
}

TEST_F(VerifierTest, LifetimeLimited) {
  json claims = Jag0Claims();
  claims["exp"] = claims["iat"].get<int64_t>() + 3601;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "lifetime");
  claims["exp"] = claims["iat"].get<int64_t>() + 3600;
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
  claims["exp"] = claims["iat"].get<int64_t>() - 1;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "lifetime");
}

TEST_F(VerifierTest, ClientBinding) {
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  context_.client_authenticated_id = kRogue;
  ExpectRejected(kJag, jag, "client_binding");
  context_.client_authenticated_id.reset();
  ExpectRejected(kJag, jag, "client_binding");
  context_.client_authenticated_id = kAgent;
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
}

TEST_F(VerifierTest, ConfirmationKeyMustMatchDpop) {
  json claims = Jag0Claims();
  claims["cnf"] = {{"jkt", "abc"}};
  const std::string jag = SignJag(Jag0Header(), claims);
  ExpectRejected(kJag, jag, "cnf");
  context_.dpop_jkt = "abd";
  ExpectRejected(kJag, jag, "cnf");
  context_.dpop_jkt = "abc";
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  claims["cnf"] = {{"x5t#S256", "abc"}};
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "cnf");
}

TEST_F(VerifierTest, FormatRules) {
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  const size_t first_dot = jag.find('.');
  // Padding, a JSON serialization, an extra segment, a stray character.
  ExpectRejected(kJag, jag.substr(0, first_dot) + "=" + jag.substr(first_dot),
                 "format");
  ExpectRejected(kJag,
                 json{{"payload", "x"}, {"signatures", json::array()}}.dump(),
                 "format");
  ExpectRejected(kJag, jag + ".AAAA", "format");
  ExpectRejected(kJag, jag.substr(0, first_dot) + "+" + jag.substr(first_dot),
                 "format");
  ExpectRejected(kJag, jag.substr(0, first_dot), "format");
  // A token past max_token_bytes (65536 by default).
  ExpectRejected(kJag, jag + std::string(70000, 'A'), "format");
}

TEST_F(VerifierTest, DuplicateClaimRejected) {
  // Two "aud" members: a parser keeping the last one would see the trusted
  // audience, another keeping the first would see the attacker's.
  const std::string payload =
      Jag0Claims().dump().insert(1, "\"aud\":\"https://other.example/\",");
  const std::string input =
      EncodeBase64Url(Jag0Header().dump()) + "." + EncodeBase64Url(payload);
  ExpectRejected(kJag,
                 Assemble(input, SignJws(keys_->idp.get(), "ES256", input)),
                 "format");
}

TEST_F(VerifierTest, Es256SignatureLengthExact) {
  const std::string input = SigningInput(Jag0Header(), Jag0Claims());
  const std::string raw = SignJws(keys_->idp.get(), "ES256", input);
  ASSERT_EQ(raw.size(), 64u);
  ExpectRejected(kJag, Assemble(input, std::string(1, '\0') + raw),
                 "signature");
  ExpectRejected(kJag, Assemble(input, raw.substr(1)), "signature");
  ExpectRejected(kJag, Assemble(input, raw + raw), "signature");
  // r and s each left-padded by a zero byte still name the same numbers, so
  // only the length check rejects this second encoding of the signature.
  const std::string padded = std::string(1, '\0') + raw.substr(0, 32) +
                             std::string(1, '\0') + raw.substr(32);
  ExpectRejected(kJag, Assemble(input, padded), "signature");
  EXPECT_TRUE(VerifyAs(kJag, Assemble(input, raw)).ok());
}

TEST_F(VerifierTest, SameClientReplayMode) {
  verifier_ = MakeVerifier("same-client");
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  now_ += 10;
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  // Another grant with the same jti for a different client.
  json claims = Jag0Claims();
  claims["client_id"] = kRogue;
  context_.client_authenticated_id = kRogue;
  ExpectRejected(kJag, SignJag(Jag0Header(), claims), "replay");
}

TEST_F(VerifierTest, OneTimeReplayMode) {
  verifier_ = MakeVerifier("one-time");
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  now_ += 10;
  ExpectRejected(kJag, jag, "replay");
  // After exp + skew the jti is forgotten, but the token is expired too.
  now_ = kNow + 240 + 60;
  ExpectRejected(kJag, jag, "exp");
}

TEST_F(VerifierTest, NoReplayMode) {
  verifier_ = MakeVerifier("none");
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  json claims = Jag0Claims();
  claims["client_id"] = kRogue;
  context_.client_authenticated_id = kRogue;
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), claims)).ok());
}

TEST_F(VerifierTest, CachedTokenExpires) {
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  ASSERT_TRUE(VerifyAs(kJag, jag).ok());
  EXPECT_EQ(verifier_->cached_tokens(), 1u);
  now_ = kNow + 240 + 59;
  EXPECT_TRUE(VerifyAs(kJag, jag).ok());
  now_ = kNow + 240 + 60;
  ExpectRejected(kJag, jag, "exp");
  EXPECT_EQ(verifier_->cached_tokens(), 0u);
}

TEST_F(VerifierTest, CachedTokenRecheckedForKindAndContext) {
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  ASSERT_TRUE(VerifyAs(kJag, jag).ok());
  ExpectRejected(TokenKind::kAccessToken, jag, "typ");
  context_.client_authenticated_id = kRogue;
  ExpectRejected(kJag, jag, "client_binding");
}

TEST_F(VerifierTest, ConcurrentVerificationAgrees) {
  verifier_ = MakeVerifier("none");
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    json claims = Jag0Claims();
    claims["jti"] = "concurrent-" + std::to_string(i);
    tokens.push_back(SignJag(Jag0Header(), claims));
  }
  tokens.push_back(
      MakeToken(Jag0Header(), Jag0Claims(), keys_->attacker.get()));
  std::atomic<int> accepted{0};
  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 25; ++round) {
        for (const std::string& token : tokens) {
          VerifyResult result = verifier_->Verify(kJag, token, context_);
          (result.ok() ? accepted : rejected)++;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 4 * 25 * 8);
  EXPECT_EQ(rejected.load(), 4 * 25);
  EXPECT_EQ(verifier_->cached_tokens(), 8u);
}

}  // namespace
}  // namespace verdict::tokens::testing
