// Loading and validating the trust file.
#include "tokens/trust_config.h"

#include "gmock/gmock.h"
#include "tests/tokens/verifier_fixture.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

class TrustConfigTest : public VerifierTest {
 protected:
  // Writes `trust` next to the baseline key files and loads it.
  absl::StatusOr<TrustConfig> Load(const json& trust) {
    WriteFile(path_, trust.dump());
    return LoadTrustConfig(path_);
  }
  json Baseline() { return TrustFile(dir_, "same-client"); }

  std::string dir_ = MakeTempDir("config");
  std::string path_ = dir_ + "/trust.json";
};

// Expects a load error that names the trust file and contains `fragment`.
void ExpectError(const absl::StatusOr<TrustConfig>& config,
                 const std::string& fragment) {
  ASSERT_FALSE(config.ok()) << "expected an error containing " << fragment;
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("trust.json"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(fragment));
}

TEST_F(TrustConfigTest, BaselineLoads) {
  absl::StatusOr<TrustConfig> config = Load(Baseline());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->clock_skew_seconds, 60);
  ASSERT_EQ(config->issuers.size(), 3u);
  const IssuerTrust* idp = config->Find(TokenKind::kIdJag, kIdp);
  ASSERT_NE(idp, nullptr);
  EXPECT_EQ(idp->keys.size(), 3u);
  EXPECT_EQ(idp->replay, ReplayMode::kSameClient);
  EXPECT_EQ(config->Find(TokenKind::kAccessToken, kIdp), nullptr);
  const IssuerTrust* trustee = config->Find(TokenKind::kAttestation, kTrustee);
  ASSERT_NE(trustee, nullptr);
  EXPECT_NE(trustee->x5c_roots, nullptr);
  EXPECT_EQ(trustee->replay, ReplayMode::kNone);
}

TEST_F(TrustConfigTest, ReplayDefaultsPerKind) {
  json trust = Baseline();
  trust["issuers"][0].erase("replay");
  absl::StatusOr<TrustConfig> config = Load(trust);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->issuers[0].replay, ReplayMode::kSameClient);
  EXPECT_EQ(config->issuers[1].replay, ReplayMode::kNone);
}

TEST_F(TrustConfigTest, RejectsUnknownMembers) {
  json trust = Baseline();
  trust["clock_skew"] = 60;
  ExpectError(Load(trust), "clock_skew: unknown member");
  trust = Baseline();
  trust["issuers"][1]["audience"] = kRs;
  ExpectError(Load(trust), "issuers[1].audience: unknown member");
}

TEST_F(TrustConfigTest, RejectsBadValues) {
  const std::pair<json::json_pointer, json> cases[] = {
      {json::json_pointer("/clock_skew_seconds"), 3600},
      {json::json_pointer("/clock_skew_seconds"), 1.5},
      {json::json_pointer("/issuers/0/kind"), "id_jag"},
      {json::json_pointer("/issuers/0/replay"), "once"},
      {json::json_pointer("/issuers/0/key_algorithms/idp-1"), "es256"},
      {json::json_pointer("/issuers/0/max_lifetime_seconds"), 0},
      {json::json_pointer("/issuers/2/x5c_algorithm"), "HS256"},
      {json::json_pointer("/issuers/0/issuer"), ""},
  };
  for (const auto& [pointer, value] : cases) {
    SCOPED_TRACE(pointer.to_string());
    json trust = Baseline();
    trust[pointer] = value;
    std::string member = pointer.back();
    ExpectError(Load(trust), member);
  }
}

TEST_F(TrustConfigTest, OAuthIssuersNeedAudiences) {
  json trust = Baseline();
  trust["issuers"][0].erase("audiences");
  ExpectError(Load(trust), "issuers[0].audiences: required for id-jag");
}

TEST_F(TrustConfigTest, KeysMustHaveOneAlgorithm) {
  json trust = Baseline();
  trust["issuers"][0].erase("key_algorithms");
  ExpectError(Load(trust), "no algorithm is bound to this key");
  trust = Baseline();
  trust["issuers"][0]["key_algorithms"]["idp-384"] = "ES256";
  ExpectError(Load(trust), "make them agree");
  trust = Baseline();
  trust["issuers"][0]["key_algorithms"]["idp-9"] = "ES256";
  ExpectError(Load(trust), "kid \"idp-9\", which is not in this JWK Set");
}

TEST_F(TrustConfigTest, MissingFilesNamed) {
  json trust = Baseline();
  trust["issuers"][0]["jwks"] = "keys/missing.jwks.json";
  ExpectError(Load(trust), "keys/missing.jwks.json");
  trust = Baseline();
  trust["issuers"][2]["x5c_root"] = "certs/missing.pem";
  ExpectError(Load(trust), "certs/missing.pem");
  trust = Baseline();
  WriteFile(dir_ + "/certs/empty.pem", "not a certificate\n");
  trust["issuers"][2]["x5c_root"] = "certs/empty.pem";
  ExpectError(Load(trust), "no PEM certificate");
  EXPECT_THAT(
      std::string(LoadTrustConfig(dir_ + "/none.json").status().message()),
      HasSubstr("none.json"));
}

TEST_F(TrustConfigTest, RejectsDuplicateIssuerAndNoKeys) {
  json trust = Baseline();
  trust["issuers"].push_back(trust["issuers"][0]);
  ExpectError(Load(trust), "listed twice for kind id-jag");
  trust = Baseline();
  trust["issuers"][2].erase("x5c_root");
  trust["issuers"][2].erase("x5c_algorithm");
  ExpectError(Load(trust), "set \"jwks\" or \"x5c_root\"");
  trust = Baseline();
  trust["issuers"] = json::array();
  ExpectError(Load(trust), "issuers: required");
}

TEST_F(TrustConfigTest, RejectsDuplicateMembersInTheFile) {
  WriteFile(path_, R"({"issuers":[],"issuers":[]})");
  ExpectError(LoadTrustConfig(path_), "duplicate member name \"issuers\"");
}

}  // namespace
}  // namespace verdict::tokens::testing
