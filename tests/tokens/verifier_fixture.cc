#include "tests/tokens/verifier_fixture.h"

#include <utility>

#include "tokens/trust_config.h"

namespace verdict::tokens::testing {

using json = nlohmann::json;

TestKeys* VerifierTest::keys_ = nullptr;

void VerifierTest::SetUpTestSuite() {
  keys_ = new TestKeys;
  keys_->idp = GenerateKey("P-256");
  keys_->idp_p384 = GenerateKey("P-384");
  keys_->idp_ed = GenerateKey("Ed25519");
  keys_->as_rsa = GenerateKey("RSA");
  keys_->as_pss = GenerateKey("RSA");
  keys_->attacker = GenerateKey("P-256");
  keys_->trustee_root_key = GenerateKey("P-256");
  keys_->other_root_key = GenerateKey("P-256");
  keys_->trustee_leaf_key = GenerateKey("P-256");
  const int64_t from = kNow - 86400;
  const int64_t until = kNow + 365 * 86400;
  keys_->trustee_root = IssueCertificate(
      keys_->trustee_root_key.get(), "Trustee root",
      keys_->trustee_root_key.get(), nullptr, true, from, until);
  keys_->other_root =
      IssueCertificate(keys_->other_root_key.get(), "Other root",
                       keys_->other_root_key.get(), nullptr, true, from, until);
  keys_->trustee_leaf =
      IssueCertificate(keys_->trustee_leaf_key.get(), "Trustee token signer",
                       keys_->trustee_root_key.get(), keys_->trustee_root.get(),
                       false, from, until);
  keys_->rogue_leaf = IssueCertificate(
      keys_->trustee_leaf_key.get(), "Trustee token signer",
      keys_->other_root_key.get(), keys_->other_root.get(), false, from, until);
}

json TrusteeEarClaims(const json& evidence) {
  return {
      {"eat_profile", "tag:github.com,2024:confidential-containers/Trustee"},
      {"iss", kTrustee},
      {"iat", kNow - 30},
      {"exp", kNow + 270},
      {"ear.verifier-id",
       {{"developer", "https://confidentialcontainers.org"},
        {"build", "attestation-service 0.1.0"}}},
      {"submods",
       {{"cpu0",
         {{"ear.status", "affirming"},
          {"ear.trustworthiness-vector",
           {{"instance-identity", 0},
            {"configuration", 2},
            {"executables", 3},
            {"file-system", 0},
            {"hardware", 2},
            {"runtime-opaque", 0},
            {"storage-opaque", 0},
            {"sourced-data", 0}}},
          {"ear.appraisal-policy-id", "default"},
          {"ear.veraison.annotated-evidence", evidence}}}}}};
}

json VerifierTest::TrustFile(const std::string& dir,
                             const std::string& idp_replay) {
  WriteFile(dir + "/keys/idp.jwks.json",
            json{{"keys",
                  {PublicJwk(keys_->idp.get(), "idp-1", ""),
                   PublicJwk(keys_->idp_p384.get(), "idp-384", "ES384"),
                   PublicJwk(keys_->idp_ed.get(), "idp-ed", "EdDSA")}}}
                .dump());
  WriteFile(dir + "/keys/as.jwks.json",
            json{{"keys",
                  {PublicJwk(keys_->as_rsa.get(), "as-1", "RS256"),
                   PublicJwk(keys_->as_pss.get(), "as-pss", "PS256")}}}
                .dump());
  WriteFile(dir + "/certs/trustee-root.pem",
            CertificatePem(keys_->trustee_root.get()));
  return json{{"clock_skew_seconds", 60},
              {"issuers",
               {{{"kind", "id-jag"},
                 {"issuer", kIdp},
                 {"jwks", "keys/idp.jwks.json"},
                 {"key_algorithms", {{"idp-1", "ES256"}}},
                 {"audiences", {kRas}},
                 {"max_lifetime_seconds", 3600},
                 {"replay", idp_replay}},
                {{"kind", "access_token"},
                 {"issuer", kAs},
                 {"jwks", "keys/as.jwks.json"},
                 {"audiences", {kRs}},
                 {"max_lifetime_seconds", 7200},
                 {"replay", "none"}},
                {{"kind", "attestation"},
                 {"issuer", kTrustee},
                 {"x5c_root", "certs/trustee-root.pem"},
                 {"x5c_algorithm", "ES256"},
                 {"max_lifetime_seconds", 600}}}}};
}

std::unique_ptr<TokenVerifier> VerifierTest::MakeVerifier(
    const std::string& idp_replay) {
  const std::string dir = MakeTempDir("trust");
  WriteFile(dir + "/trust.json", TrustFile(dir, idp_replay).dump(2));
  absl::StatusOr<TrustConfig> config = LoadTrustConfig(dir + "/trust.json");
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return nullptr;
  return std::make_unique<TokenVerifier>(*std::move(config),
                                         [this] { return now_; });
}

json VerifierTest::Jag0Header() {
  return {{"alg", "ES256"}, {"typ", "oauth-id-jag+jwt"}, {"kid", "idp-1"}};
}

json VerifierTest::Jag0Claims() {
  return {{"iss", kIdp},
          {"sub", "U-1001"},
          {"aud", kRas},
          {"client_id", kAgent},
          {"jti", "jag-0001"},
          {"iat", kNow - 60},
          {"exp", kNow + 240},
          {"scope", "sales.read crm.read"},
          {"resource", kRs},
          {"tenant", "acme"},
          {"email", "alice@acme.example"},
          {"auth_time", kNow - 900},
          {"amr", {"pwd", "mfa"}}};
}

json VerifierTest::At0Header() {
  return {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", "as-1"}};
}

json VerifierTest::At0Claims() {
  return {{"iss", kAs},         {"sub", "U-1001"},
          {"aud", kRs},         {"client_id", kAgent},
          {"iat", 1767225500},  {"exp", 1767229100},
          {"jti", "at-77"},     {"scope", "crm.write"},
          {"roles", {"sales"}}, {"act", {{"sub", kAgent}, {"iss", kIdp}}}};
}

json VerifierTest::EarHeader(X509* leaf) const {
  json jwk = PublicJwk(keys_->trustee_leaf_key.get(), "", "");
  jwk["x5c"] = {CertificateBase64(leaf)};
  return {{"alg", "ES256"}, {"jwk", jwk}, {"x5c", {CertificateBase64(leaf)}}};
}

json VerifierTest::EarTdx0Claims() {
  const std::string mrtd_good(96, 'a');
  return {
      {"eat_profile", "tag:github.com,2024:confidential-containers/Trustee"},
      {"iss", kTrustee},
      {"iat", kNow - 30},
      {"exp", kNow + 270},
      {"ear.verifier-id",
       {{"developer", "https://confidentialcontainers.org"},
        {"build", "attestation-service 0.1.0"}}},
      {"submods",
       {{"cpu0",
         {{"ear.status", "affirming"},
          {"ear.appraisal-policy-id", "default"},
          {"ear.veraison.annotated-evidence",
           {{"tdx",
             {{"quote", {{"body", {{"mr_td", mrtd_good}}}}},
              {"td_attributes", {{"debug", false}}},
              {"tcb_status", "UpToDate"}}},
            {"report_data", "00"},
            {"init_data", "00"}}}}}}}};
}

VerifyResult VerifierTest::VerifyAs(TokenKind kind, const std::string& token) {
  if (verifier_ == nullptr) verifier_ = MakeVerifier();
  return verifier_->Verify(kind, token, context_);
}

void VerifierTest::ExpectRejected(TokenKind kind, const std::string& token,
                                  const std::string& check) {
  VerifyResult result = VerifyAs(kind, token);
  EXPECT_FALSE(result.ok()) << "expected token_invalid:" << check;
  EXPECT_EQ(result.failure.reason(), "token_invalid:" + check)
      << result.failure.detail;
}

}  // namespace verdict::tokens::testing
