// Base64url, strict JSON and JWK parsing.
#include "gtest/gtest.h"
#include "tests/tokens/token_test_util.h"
#include "tokens/base64url.h"
#include "tokens/jose_keys.h"
#include "tokens/strict_json.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;

TEST(Base64Url, RoundTrips) {
  for (const std::string bytes :
       {"", "A", "AB", "ABC", "ABCD", "\xff\xfe\x00"}) {
    std::optional<std::string> decoded =
        DecodeBase64Url(EncodeBase64Url(bytes));
    ASSERT_TRUE(decoded.has_value()) << bytes;
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
}

TEST(Base64Url, RejectsPadding) {
  EXPECT_FALSE(DecodeBase64Url("QQ==").has_value());
  EXPECT_FALSE(DecodeBase64Url("QUI=").has_value());
  EXPECT_TRUE(DecodeBase64Url("QUI").has_value());
}

TEST(Base64Url, RejectsStandardAlphabetAndJunk) {
  EXPECT_FALSE(DecodeBase64Url("+/8").has_value());
  EXPECT_FALSE(DecodeBase64Url("QU I").has_value());
  EXPECT_FALSE(DecodeBase64Url("QUI\n").has_value());
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "QQ" is "A"; "QR" has non-zero unused bits and would also decode to "A".
  EXPECT_EQ(DecodeBase64Url("QQ"), std::optional<std::string>("A"));
  EXPECT_FALSE(DecodeBase64Url("QR").has_value());
  EXPECT_FALSE(DecodeBase64Url("QUJ").has_value());
  EXPECT_FALSE(DecodeBase64Url("Q").has_value());  // A dangling character.
}

TEST(Base64Standard, DecodesPaddedOnly) {
  EXPECT_EQ(DecodeBase64Standard("QQ=="), std::optional<std::string>("A"));
  EXPECT_FALSE(DecodeBase64Standard("QQ").has_value());
  EXPECT_FALSE(DecodeBase64Standard("QR==").has_value());
  EXPECT_FALSE(DecodeBase64Standard("Q===").has_value());
}

TEST(StrictJson, RejectsDuplicateMembers) {
  EXPECT_FALSE(ParseStrictJson(R"({"a":1,"a":2})", 8).ok());
  absl::StatusOr<json> nested =
      ParseStrictJson(R"({"a":{"b":1,"c":[{"d":1,"d":1}]}})", 8);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("\"d\""), absl::string_view::npos);
  EXPECT_TRUE(ParseStrictJson(R"({"a":{"a":{"a":1}}})", 8).ok());
}

TEST(StrictJson, LimitsNesting) {
  EXPECT_TRUE(ParseStrictJson("[[[1]]]", 3).ok());
  EXPECT_FALSE(ParseStrictJson("[[[[1]]]]", 3).ok());
  EXPECT_FALSE(ParseStrictJson(R"({"a":{"b":{"c":{}}}})", 3).ok());
}

TEST(StrictJson, RejectsTrailingContentAndBadUtf8) {
  EXPECT_FALSE(ParseStrictJson(R"({"a":1} x)", 8).ok());
  EXPECT_FALSE(ParseStrictJson("{\"a\":\"\xff\"}", 8).ok());
  absl::StatusOr<json> parsed = ParseStrictJson(R"({"a":[1,2.5,"x",null]})", 8);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)["a"][1], 2.5);
}

class JwkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    p256_ = new PublicKey(GenerateKey("P-256"));
    rsa_ = new PublicKey(GenerateKey("RSA"));
  }
  static void TearDownTestSuite() {
    delete p256_;
    delete rsa_;
  }
  static PublicKey* p256_;
  static PublicKey* rsa_;
};
PublicKey* JwkTest::p256_ = nullptr;
PublicKey* JwkTest::rsa_ = nullptr;

TEST_F(JwkTest, ParsesEachKeyType) {
  for (auto [type, alg] :
       {std::pair{"RSA", "RS256"}, std::pair{"RSA", "PS256"},
        std::pair{"P-256", "ES256"}, std::pair{"P-384", "ES384"},
        std::pair{"Ed25519", "EdDSA"}}) {
    PublicKey key = std::string(type) == "RSA" ? *rsa_ : GenerateKey(type);
    absl::StatusOr<VerificationKey> parsed =
        ParseJwk(PublicJwk(key.get(), "k", alg), std::nullopt, "test");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(JwsAlgorithmName(parsed->algorithm), alg);
    EXPECT_EQ(EVP_PKEY_eq(parsed->key.get(), key.get()), 1);
  }
}

TEST_F(JwkTest, RejectsPointOffTheCurve) {
  json jwk = PublicJwk(p256_->get(), "k", "ES256");
  std::string y = *DecodeBase64Url(jwk["y"].get<std::string>());
  y.back() ^= 1;
  jwk["y"] = EncodeBase64Url(y);
  absl::StatusOr<VerificationKey> parsed = ParseJwk(jwk, std::nullopt, "test");
  EXPECT_FALSE(parsed.ok());
}

TEST_F(JwkTest, RejectsShortCoordinate) {
  json jwk = PublicJwk(p256_->get(), "k", "ES256");
  jwk["x"] =
      EncodeBase64Url(DecodeBase64Url(jwk["x"].get<std::string>())->substr(1));
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
}

TEST_F(JwkTest, AlgorithmBindingRules) {
  json jwk = PublicJwk(p256_->get(), "k", "");
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
  EXPECT_TRUE(ParseJwk(jwk, JwsAlgorithm::kEs256, "test").ok());
  // The configured algorithm must fit the key.
  EXPECT_FALSE(ParseJwk(jwk, JwsAlgorithm::kRs256, "test").ok());
  jwk["alg"] = "ES256";
  EXPECT_FALSE(ParseJwk(jwk, JwsAlgorithm::kEs384, "test").ok());
  jwk["alg"] = "HS256";
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
  jwk["alg"] = "none";
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
}

TEST_F(JwkTest, RejectsPrivateAndSymmetricKeys) {
  json jwk = PublicJwk(p256_->get(), "k", "ES256");
  jwk["d"] = "AAAA";
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "oct"}, {"k", "AAAA"}, {"alg", "ES256"}},
                        std::nullopt, "test")
                   .ok());
}

TEST_F(JwkTest, RejectsSmallRsaAndWrongUse) {
  PublicKey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}),
                  EvpPkeyDeleter());
  absl::StatusOr<VerificationKey> parsed =
      ParseJwk(PublicJwk(small.get(), "k", "RS256"), std::nullopt, "test");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("2048"), absl::string_view::npos);
  json jwk = PublicJwk(rsa_->get(), "k", "RS256");
  jwk["use"] = "enc";
  EXPECT_FALSE(ParseJwk(jwk, std::nullopt, "test").ok());
}

TEST_F(JwkTest, JwksRejectsDuplicateKidsAndUnknownBindings) {
  json jwk = PublicJwk(p256_->get(), "k", "ES256");
  EXPECT_FALSE(ParseJwks(json{{"keys", {jwk, jwk}}}, {}, "set").ok());
  EXPECT_FALSE(
      ParseJwks(json{{"keys", {jwk}}}, {{"other", JwsAlgorithm::kEs256}}, "set")
          .ok());
  EXPECT_FALSE(ParseJwks(json{{"keys", json::array()}}, {}, "set").ok());
  EXPECT_TRUE(ParseJwks(json{{"keys", {jwk}}}, {}, "set").ok());
}

TEST_F(JwkTest, SignatureNeedsMatchingKeyType) {
  const std::string input = "e30.e30";
  const std::string signature = SignJws(p256_->get(), "ES256", input);
  EXPECT_TRUE(
      VerifyJwsSignature(p256_->get(), JwsAlgorithm::kEs256, input, signature)
          .ok());
  EXPECT_FALSE(
      VerifyJwsSignature(rsa_->get(), JwsAlgorithm::kEs256, input, signature)
          .ok());
  EXPECT_FALSE(
      VerifyJwsSignature(p256_->get(), JwsAlgorithm::kEs384, input, signature)
          .ok());
}

}  // namespace
}  // namespace verdict::tokens::testing
