// The acceptance scenarios S1-S4, decided end to end. Tokens signed at test
// time go into a JSON request. The engine verifies them against the trust
// file of the policy directory at the pinned clock kNow, and policies P1, P2
// and P4 (tests/tokens/scenarios/) decide. Each case checks the decision and
// the exact list of reasons. A rejected token must contribute no attribute,
// so those cases also check that its claims are absent from the request.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "compiler/compile.h"
#include "tests/tokens/scenario_fixture.h"
#include "tokens/base64url.h"
#include "tokens/claim_attributes.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;

// Attributes set from the claims of a verified ID-JAG that P1's schema
// declares. token.verified is not among them, because Verdict sets it to
// false when no identity token verifies.
const std::vector<std::string> kJagAttributes = {
    "token.kind",     "token.issued_at", "token.scope", "subject.id",
    "subject.tenant", "subject.email",   "client.id",   "client.binding_ok"};

// Attributes set from the claims of a verified attestation result, in P1
// and P2. Verdict sets tee.verified to false when no attestation verifies.
const std::vector<std::string> kTeeAttributes = {"tee.type", "tee.debug",
                                                 "tee.measurement"};

// Attributes set from the claims of a verified access token that P4's
// schema declares.
const std::vector<std::string> kAccessTokenAttributes = {
    "token.kind", "token.scope", "subject.id", "subject.roles",
    "actor.present"};

// S1 and S3 run against policy P1 with the IdP in replay mode same-client.
class AgentSalesTest : public ScenarioTest {
 protected:
  void SetUp() override {
    program_ = CompileScenario("p1");
    ASSERT_NE(program_, nullptr);
  }

  // The request of S1: an agent reads sales report q3 with `tokens`.
  static json Request(const std::vector<json>& tokens,
                      const std::string& authenticated_client = kAgent) {
    return {{"tokens", json(tokens)},
            {"context", {{"client_authenticated_id", authenticated_client}}},
            {"action", {{"name", "read"}}},
            {"resource", {{"type", "sales_report"}, {"id", "q3"}}}};
  }

  // Decides `jag` presented by the agent together with EAR_TDX0.
  Outcome DecideJag(const std::string& jag) {
    return Decide(*program_, Request({TokenEntry("id-jag", jag), Ear0()}));
  }

  // Decides JAG0 presented by the agent together with `ear_claims`.
  Outcome DecideEar(const json& ear_claims) {
    return Decide(*program_,
                  Request({TokenEntry("id-jag", Jag0()),
                           TokenEntry("attestation", SignEar(ear_claims))}));
  }

  json Ear0() const {
    return TokenEntry("attestation", SignEar(EarClaims(TdxEvidence())));
  }

  std::string JagWithClaims(const json& claims) const {
    return SignJag(Jag0Header(), claims);
  }

  std::string JagWithHeader(const json& header) const {
    return SignJag(header, Jag0Claims());
  }

  std::shared_ptr<const Program> program_;
};

using S1AgentReadsSales = AgentSalesTest;
using S3TokenValidation = AgentSalesTest;

constexpr char kP1Permit[] = "PERMIT permit:agent-reads-sales";

// ---------------------------------------------------------------------------
// S1: an AI agent reads sales data for a user (ID-JAG and TDX attestation).

TEST_F(S1AgentReadsSales, S1_a_BaselinePermits) {
  EXPECT_EQ(Describe(DecideJag(Jag0())), kP1Permit);
  ExpectPresent(*program_, kJagAttributes);
  ExpectPresent(*program_, kTeeAttributes);
  ExpectVerified(*program_, "token.verified");
  ExpectVerified(*program_, "tee.verified");
}

TEST_F(S1AgentReadsSales, S1_a_KindDetectedFromTypHeader) {
  // Without kind members, the ID-JAG is recognised by its typ and the
  // attestation result by its absent typ.
  const std::vector<json> tokens = {
      {{"jwt", Jag0()}}, {{"jwt", SignEar(EarClaims(TdxEvidence()))}}};
  EXPECT_EQ(Describe(Decide(*program_, Request(tokens))), kP1Permit);
}

TEST_F(S1AgentReadsSales, S1_b_IdJagAgeAtLimitDenies) {
  json claims = Jag0Claims();
  claims["iat"] = kNow - 300;
  claims["exp"] = kNow + 60;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), "DENY default_deny");
  ExpectPresent(*program_, kJagAttributes);
}

TEST_F(S1AgentReadsSales, S1_c_IdJagAgeBelowLimitPermits) {
  json claims = Jag0Claims();
  claims["iat"] = kNow - 299;
  claims["exp"] = kNow + 60;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), kP1Permit);
}

TEST_F(S1AgentReadsSales, S1_d_ScopeWithoutSalesReadDenies) {
  json claims = Jag0Claims();
  claims["scope"] = "sales.write crm.read";
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), "DENY default_deny");
}

TEST_F(S1AgentReadsSales, S1_e_ScopeSubstringDoesNotMatch) {
  json claims = Jag0Claims();
  claims["scope"] = "sales.reader";
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), "DENY default_deny");
}

TEST_F(S1AgentReadsSales, S1_f_UnapprovedClientDenies) {
  // The grant is valid and bound to the client that presents it, but that
  // client is not an approved agent.
  json claims = Jag0Claims();
  claims["client_id"] = kRogue;
  const json request =
      Request({TokenEntry("id-jag", JagWithClaims(claims)), Ear0()}, kRogue);
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY default_deny");
  ExpectPresent(*program_, kJagAttributes);
}

TEST_F(S1AgentReadsSales, S1_g_ClientBindingMismatchIsTokenInvalid) {
  const json request = Request({TokenEntry("id-jag", Jag0()), Ear0()}, kRogue);
  EXPECT_EQ(Describe(Decide(*program_, request)),
            "DENY token_invalid:client_binding");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S1AgentReadsSales, S1_h_DebugTdDenies) {
  json evidence = TdxEvidence();
  evidence["tdx"]["td_attributes"]["debug"] = true;
  evidence["tdx"]["quote"]["body"]["td_attributes"] = "0100001000000000";
  EXPECT_EQ(Describe(DecideEar(EarClaims(evidence))), "DENY default_deny");
  ExpectPresent(*program_, kTeeAttributes);
}

TEST_F(S1AgentReadsSales, S1_i_WrongMeasurementDenies) {
  json evidence = TdxEvidence();
  evidence["tdx"]["quote"]["body"]["mr_td"] = RepeatHex("cd", 48);
  EXPECT_EQ(Describe(DecideEar(EarClaims(evidence))), "DENY default_deny");
  ExpectPresent(*program_, kTeeAttributes);
}

TEST_F(S1AgentReadsSales, S1_j_MissingAttestationDenies) {
  const json request = Request({TokenEntry("id-jag", Jag0())});
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY default_deny");
  ExpectAbsent(*program_, kTeeAttributes);
  ExpectUnverified(*program_, "tee.verified");
}

TEST_F(S1AgentReadsSales, S1_k_SnpEvidenceDenies) {
  EXPECT_EQ(Describe(DecideEar(EarClaims(SnpEvidence()))), "DENY default_deny");
  ExpectPresent(*program_, {"tee.verified", "tee.type", "tee.debug"});
}

// The scenario moves only exp to NOW-61. With iat left at NOW-30, exp would
// come before iat and the verifier would reject the lifetime first, so iat
// moves back with exp and the token keeps its 300 s lifetime.
TEST_F(S1AgentReadsSales, S1_l_ExpiredAttestationIsTokenInvalid) {
  json claims = EarClaims(TdxEvidence());
  claims["iat"] = kNow - 361;
  claims["exp"] = kNow - 61;
  EXPECT_EQ(Describe(DecideEar(claims)), "DENY token_invalid:exp");
  ExpectAbsent(*program_, kTeeAttributes);
  ExpectUnverified(*program_, "tee.verified");
}

TEST_F(S1AgentReadsSales, S1_l_ExpBeforeIatIsTokenInvalid) {
  json claims = EarClaims(TdxEvidence());
  claims["exp"] = kNow - 61;
  EXPECT_EQ(Describe(DecideEar(claims)), "DENY token_invalid:lifetime");
  ExpectAbsent(*program_, kTeeAttributes);
  ExpectUnverified(*program_, "tee.verified");
}

TEST_F(S1AgentReadsSales, S1_m_AttestationWithinSkewPermits) {
  json claims = EarClaims(TdxEvidence());
  claims["iat"] = kNow - 330;
  claims["exp"] = kNow - 30;
  EXPECT_EQ(Describe(DecideEar(claims)), kP1Permit);
}

TEST_F(S1AgentReadsSales, S1_n_PlainAttributeConflictDenies) {
  json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  request["attributes"] = {{"tee", {{"debug", true}}}};
  EXPECT_EQ(Describe(Decide(*program_, request)),
            "DENY attribute_conflict:tee.debug");
}

// ---------------------------------------------------------------------------
// S2: key release only to a known SNP guest with a minimum TCB.

class S2KeyRelease : public ScenarioTest {
 protected:
  void SetUp() override {
    program_ = CompileScenario("p2");
    ASSERT_NE(program_, nullptr);
  }

  static json Request(const std::string& ear, const std::string& key = "k1") {
    return {{"tokens", {TokenEntry("attestation", ear)}},
            {"action", {{"name", "get"}}},
            {"resource",
             {{"type", "kbs_resource"}, {"path", {"default", "keys", key}}}}};
  }

  // Decides a key request with EAR_SNP0 whose SNP evidence has `member`
  // set to `value`.
  Outcome DecideWithSnp(const std::string& member, const json& value) {
    json evidence = SnpEvidence();
    evidence["snp"][member] = value;
    return Decide(*program_, Request(SignEar(EarClaims(evidence))));
  }

  std::shared_ptr<const Program> program_;
};

constexpr char kP2Permit[] = "PERMIT permit:release-k1-to-snp-guest";

TEST_F(S2KeyRelease, S2_a_BaselinePermits) {
  const json request = Request(SignEar(EarClaims(SnpEvidence())));
  EXPECT_EQ(Describe(Decide(*program_, request)), kP2Permit);
  ExpectPresent(*program_,
                {"tee.verified", "tee.type", "tee.debug", "tee.measurement",
                 "tee.tcb.snp", "tee.tcb.microcode", "tee.migration_allowed"});
}

TEST_F(S2KeyRelease, S2_b_SnpTcbBelowMinimumDenies) {
  EXPECT_EQ(Describe(DecideWithSnp("reported_tcb_snp", 21)),
            "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_c_MicrocodeTcbBelowMinimumDenies) {
  json evidence = SnpEvidence();
  evidence["snp"]["reported_tcb_snp"] = 23;
  evidence["snp"]["reported_tcb_microcode"] = 212;
  const json request = Request(SignEar(EarClaims(evidence)));
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_d_WrongMeasurementDenies) {
  EXPECT_EQ(Describe(DecideWithSnp("measurement", RepeatHex("6f", 48))),
            "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_e_DebugAllowedDenies) {
  EXPECT_EQ(Describe(DecideWithSnp("policy_debug_allowed", true)),
            "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_f_MigrationAllowedDenies) {
  EXPECT_EQ(Describe(DecideWithSnp("policy_migrate_ma", true)),
            "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_g_OtherKeyPathDenies) {
  const json request = Request(SignEar(EarClaims(SnpEvidence())), "k2");
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY default_deny");
}

TEST_F(S2KeyRelease, S2_h_SelfAssertedJwkIsUntrustedKey) {
  // A valid signature by a key that only the token itself vouches for.
  const json header = {
      {"alg", "ES256"},
      {"jwk", PublicJwk(keys_->trustee_leaf_key.get(), "", "")}};
  const std::string ear = MakeToken(header, EarClaims(SnpEvidence()),
                                    keys_->trustee_leaf_key.get());
  EXPECT_EQ(Describe(Decide(*program_, Request(ear))),
            "DENY token_invalid:untrusted_key");
  ExpectAbsent(*program_, {"tee.type", "tee.measurement"});
  ExpectUnverified(*program_, "tee.verified");
}

TEST_F(S2KeyRelease, S2_i_ForeignRootIsUntrustedKey) {
  // The same leaf key, certified by a root the trust file does not name.
  const std::string ear =
      MakeToken(EarHeader(keys_->rogue_leaf.get()), EarClaims(SnpEvidence()),
                keys_->trustee_leaf_key.get());
  EXPECT_EQ(Describe(Decide(*program_, Request(ear))),
            "DENY token_invalid:untrusted_key");
  ExpectAbsent(*program_, {"tee.type", "tee.measurement"});
  ExpectUnverified(*program_, "tee.verified");
}

TEST_F(S2KeyRelease, S2_j_Ear03SpellingsPermit) {
  json claims = EarClaims(SnpEvidence());
  json& cpu0 = claims["submods"]["cpu0"];
  cpu0["ear_status"] = cpu0["ear.status"];
  cpu0.erase("ear.status");
  cpu0["ear_veraison_annotated_evidence"] =
      cpu0["ear.veraison.annotated-evidence"];
  cpu0.erase("ear.veraison.annotated-evidence");
  EXPECT_EQ(Describe(Decide(*program_, Request(SignEar(claims)))), kP2Permit);
}

// ---------------------------------------------------------------------------
// S3: token validation negatives against P1's baseline. A rejected ID-JAG
// must deny with only its token_invalid reason and leave every attribute it
// would have set absent.

TEST_F(S3TokenValidation, S3_a_TypJwtRejected) {
  json header = Jag0Header();
  header["typ"] = "JWT";
  EXPECT_EQ(Describe(DecideJag(JagWithHeader(header))),
            "DENY token_invalid:typ");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_b_TypMediaTypeFormPermits) {
  json header = Jag0Header();
  header["typ"] = "application/OAUTH-ID-JAG+JWT";
  EXPECT_EQ(Describe(DecideJag(JagWithHeader(header))), kP1Permit);
}

TEST_F(S3TokenValidation, S3_c_AccessTokenTypRejected) {
  // The request names the token an ID-JAG, but its typ is the access token
  // type.
  json header = Jag0Header();
  header["typ"] = "at+jwt";
  EXPECT_EQ(Describe(DecideJag(JagWithHeader(header))),
            "DENY token_invalid:typ");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_d_AlgNoneRejected) {
  json header = Jag0Header();
  header["alg"] = "none";
  EXPECT_EQ(Describe(DecideJag(SigningInput(header, Jag0Claims()) + ".")),
            "DENY token_invalid:alg");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_e_AlgNoneMixedCaseRejected) {
  json header = Jag0Header();
  header["alg"] = "nOnE";
  EXPECT_EQ(Describe(DecideJag(SigningInput(header, Jag0Claims()) + ".")),
            "DENY token_invalid:alg");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_f_HmacWithPublicKeyRejected) {
  // The ES-to-HS confusion: an HMAC keyed with the IdP's public JWK.
  json header = Jag0Header();
  header["alg"] = "HS256";
  const std::string input = SigningInput(header, Jag0Claims());
  const std::string secret = PublicJwk(keys_->idp.get(), "idp-1", "").dump();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &length);
  const std::string jag =
      Assemble(input, std::string(reinterpret_cast<char*>(mac), length));
  EXPECT_EQ(Describe(DecideJag(jag)), "DENY token_invalid:alg");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_g_AlgNotBoundToKidRejected) {
  // idp-1 is bound to ES256 in the trust file.
  json header = Jag0Header();
  header["alg"] = "ES384";
  const std::string jag =
      MakeToken(header, Jag0Claims(), keys_->idp_p384.get());
  EXPECT_EQ(Describe(DecideJag(jag)), "DENY token_invalid:alg");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_h_UnknownKidRejected) {
  json header = Jag0Header();
  header["kid"] = "unknown-9";
  const std::string jag =
      MakeToken(header, Jag0Claims(), keys_->attacker.get());
  EXPECT_EQ(Describe(DecideJag(jag)), "DENY token_invalid:kid");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_i_UnknownCritRejected) {
  json header = Jag0Header();
  header["crit"] = {"exp-ext"};
  header["exp-ext"] = 1;
  EXPECT_EQ(Describe(DecideJag(JagWithHeader(header))),
            "DENY token_invalid:crit");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_j_JkuNotFollowed) {
  // kid idp-1 selects the IdP's trusted key, and the attacker's signature
  // does not verify with it. The jku is never fetched.
  json header = Jag0Header();
  header["jku"] = "https://attacker.example/jwks";
  const std::string jag =
      MakeToken(header, Jag0Claims(), keys_->attacker.get());
  EXPECT_EQ(Describe(DecideJag(jag)), "DENY token_invalid:signature");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_k_UntrustedIssuerRejected) {
  json claims = Jag0Claims();
  claims["iss"] = "https://evil.example";
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:iss");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_l_TwoAudiencesRejected) {
  json claims = Jag0Claims();
  claims["aud"] = {kRas, "https://other.example/"};
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:aud");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_m_SingleElementAudienceArrayPermits) {
  json claims = Jag0Claims();
  claims["aud"] = {kRas};
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), kP1Permit);
}

TEST_F(S3TokenValidation, S3_n_AudienceWithoutSlashRejected) {
  json claims = Jag0Claims();
  claims["aud"] = "https://as.sales.example";
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:aud");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

// The scenario moves only exp to NOW-61, before JAG0's iat of NOW-60, which
// the verifier rejects as a lifetime error first. iat moves to NOW-200, as
// in S3-p, so that only the expiry fails.
TEST_F(S3TokenValidation, S3_o_ExpiredBeyondSkewRejected) {
  json claims = Jag0Claims();
  claims["iat"] = kNow - 200;
  claims["exp"] = kNow - 61;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:exp");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_o_ExpBeforeIatIsTokenInvalid) {
  json claims = Jag0Claims();
  claims["exp"] = kNow - 61;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:lifetime");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_p_ExpiredWithinSkewPermits) {
  json claims = Jag0Claims();
  claims["iat"] = kNow - 200;
  claims["exp"] = kNow - 59;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))), kP1Permit);
}

TEST_F(S3TokenValidation, S3_q_FutureIatRejected) {
  json claims = Jag0Claims();
  claims["iat"] = kNow + 120;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:iat");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_r_NotYetValidRejected) {
  json claims = Jag0Claims();
  claims["nbf"] = kNow + 120;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:nbf");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_s_MissingClientIdRejected) {
  json claims = Jag0Claims();
  claims.erase("client_id");
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:missing_claim:client_id");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_t_MissingJtiRejected) {
  json claims = Jag0Claims();
  claims.erase("jti");
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:missing_claim:jti");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_u_FractionalExpRejected) {
  json claims = Jag0Claims();
  claims["exp"] = 1767225840.5;
  EXPECT_EQ(Describe(DecideJag(JagWithClaims(claims))),
            "DENY token_invalid:exp");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_v_JsonSerializationRejected) {
  // JAG0 with a valid signature, in the flattened JWS JSON serialization.
  const std::string input = SigningInput(Jag0Header(), Jag0Claims());
  const size_t dot = input.find('.');
  const json serialized = {
      {"payload", input.substr(dot + 1)},
      {"signatures",
       {{{"protected", input.substr(0, dot)},
         {"signature",
          EncodeBase64Url(SignJws(keys_->idp.get(), "ES256", input))}}}}};
  EXPECT_EQ(Describe(DecideJag(serialized.dump())),
            "DENY token_invalid:format");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_w_CnfWithoutDpopRejected) {
  json claims = Jag0Claims();
  claims["cnf"] = {{"jkt", "abc"}};
  json request = Request({TokenEntry("id-jag", JagWithClaims(claims)), Ear0()});
  request["context"]["dpop_jkt"] = nullptr;
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY token_invalid:cnf");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_x_CnfMatchingDpopPermits) {
  json claims = Jag0Claims();
  claims["cnf"] = {{"jkt", "abc"}};
  json request = Request({TokenEntry("id-jag", JagWithClaims(claims)), Ear0()});
  request["context"]["dpop_jkt"] = "abc";
  EXPECT_EQ(Describe(Decide(*program_, request)), kP1Permit);
}

TEST_F(S3TokenValidation, S3_y_NoAuthenticatedClientRejected) {
  json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  request["context"] = json::object();
  EXPECT_EQ(Describe(Decide(*program_, request)),
            "DENY token_invalid:client_binding");
  ExpectAbsent(*program_, kJagAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S3TokenValidation, S3_z_SameClientResubmissionPermits) {
  // The same grant from the same client, ten seconds apart, against one
  // compiled program and so one replay cache.
  const json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  EXPECT_EQ(Describe(Decide(*program_, request, kNow)), kP1Permit);
  EXPECT_EQ(Describe(Decide(*program_, request, kNow + 10)), kP1Permit);
}

TEST_F(S3TokenValidation, S3_z_OneTimeReplayDeniesSecond) {
  std::shared_ptr<const Program> one_time = CompileScenario("p1", "one-time");
  ASSERT_NE(one_time, nullptr);
  const json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  EXPECT_EQ(Describe(Decide(*one_time, request, kNow)), kP1Permit);
  EXPECT_EQ(Describe(Decide(*one_time, request, kNow + 10)),
            "DENY token_invalid:replay");
  ExpectAbsent(*one_time, kJagAttributes);
  ExpectUnverified(*one_time, "token.verified");
}

// ---------------------------------------------------------------------------
// S4: in a delegation chain only the current actor counts (RFC 9068 access
// token with `act`).

class S4Delegation : public ScenarioTest {
 protected:
  void SetUp() override {
    program_ = CompileScenario("p4");
    ASSERT_NE(program_, nullptr);
  }

  static json Request(const std::string& access_token) {
    return {{"tokens", {TokenEntry("access_token", access_token)}},
            {"action", {{"name", "write"}}},
            {"resource", {{"type", "crm_record"}, {"id", "c1"}}}};
  }

  Outcome DecideClaims(const json& claims) {
    return Decide(*program_, Request(SignAccessToken(At0Header(), claims)));
  }

  std::shared_ptr<const Program> program_;
};

// Returns the attribute of `attributes` at `path`, or null.
const ClaimAttribute* FindAttribute(
    const std::vector<ClaimAttribute>& attributes, const std::string& path) {
  for (const ClaimAttribute& attribute : attributes) {
    if (attribute.path == path) return &attribute;
  }
  return nullptr;
}

constexpr char kAgentWritesPermit[] = "PERMIT permit:agent-writes-crm";
constexpr char kUserWritesPermit[] = "PERMIT permit:user-writes-crm";

TEST_F(S4Delegation, S4_a_ApprovedActorPermits) {
  EXPECT_EQ(Describe(DecideClaims(At0Claims())), kAgentWritesPermit);
  ExpectPresent(*program_, kAccessTokenAttributes);
  ExpectVerified(*program_, "token.verified");
  ExpectPresent(*program_, {"actor.id"});
}

TEST_F(S4Delegation, S4_b_PriorApprovedActorDoesNotCount) {
  json claims = At0Claims();
  claims["act"] = {{"sub", kRogue}, {"act", {{"sub", kAgent}}}};
  EXPECT_EQ(Describe(DecideClaims(claims)), "DENY default_deny");
  ExpectPresent(*program_, {"actor.present", "actor.id"});
}

TEST_F(S4Delegation, S4_c_PriorRogueActorIgnored) {
  json claims = At0Claims();
  claims["act"] = {{"sub", kAgent}, {"act", {{"sub", kRogue}}}};
  EXPECT_EQ(Describe(DecideClaims(claims)), kAgentWritesPermit);

  // A probe policy that reads actor.depth applies to this two-actor chain
  // but not to AT0, whose chain contains the agent alone.
  const ExtraFile depth_probe = {"depth_probe.verdict", R"(
schema actor {
  depth?: int
}

permit "two-actor-chain" when {
  actor has depth
  and actor.depth == 2
}
)"};
  std::shared_ptr<const Program> probed =
      CompileScenario("p4", "same-client", {depth_probe});
  ASSERT_NE(probed, nullptr);
  EXPECT_EQ(
      Describe(Decide(*probed, Request(SignAccessToken(At0Header(), claims)))),
      "PERMIT permit:agent-writes-crm permit:two-actor-chain");
  EXPECT_EQ(Describe(Decide(
                *probed, Request(SignAccessToken(At0Header(), At0Claims())))),
            kAgentWritesPermit);

  // No policy can read actor.chain, so the claim mapping is checked itself.
  VerifyResult verified =
      VerifyAs(TokenKind::kAccessToken, SignAccessToken(At0Header(), claims));
  ASSERT_TRUE(verified.ok()) << verified.failure.detail;
  const std::vector<ClaimAttribute> attributes = MapClaims(*verified.token);
  const ClaimAttribute* chain = FindAttribute(attributes, "actor.chain");
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(chain->kind, AttributeKind::kStringList);
  EXPECT_EQ(chain->elements, (std::vector<std::string>{kAgent, kRogue}));
  const ClaimAttribute* depth = FindAttribute(attributes, "actor.depth");
  ASSERT_NE(depth, nullptr);
  EXPECT_EQ(depth->kind, AttributeKind::kInt);
  EXPECT_EQ(depth->integer, 2);
}

TEST_F(S4Delegation, S4_d_DirectUserPermits) {
  json claims = At0Claims();
  claims.erase("act");
  EXPECT_EQ(Describe(DecideClaims(claims)), kUserWritesPermit);
  ExpectPresent(*program_, kAccessTokenAttributes);
  ExpectAbsent(*program_, {"actor.id"});
}

TEST_F(S4Delegation, S4_e_DirectUserWithoutRoleDenies) {
  json claims = At0Claims();
  claims.erase("act");
  claims["roles"] = {"support"};
  EXPECT_EQ(Describe(DecideClaims(claims)), "DENY default_deny");
  ExpectPresent(*program_, kAccessTokenAttributes);
}

TEST_F(S4Delegation, S4_f_TypJwtRejected) {
  json header = At0Header();
  header["typ"] = "JWT";
  const json request = Request(SignAccessToken(header, At0Claims()));
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY token_invalid:typ");
  ExpectAbsent(*program_, kAccessTokenAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S4Delegation, S4_g_OtherAudienceRejected) {
  json claims = At0Claims();
  claims["aud"] = "https://api.other.example/";
  EXPECT_EQ(Describe(DecideClaims(claims)), "DENY token_invalid:aud");
  ExpectAbsent(*program_, kAccessTokenAttributes);
  ExpectUnverified(*program_, "token.verified");
}

TEST_F(S4Delegation, S4_h_NonIdentityActClaimsIgnored) {
  // An expired "exp" inside act is not a claim of the token (RFC 8693 §4.1).
  json claims = At0Claims();
  claims["act"] = {{"sub", kAgent}, {"exp", 1}};
  EXPECT_EQ(Describe(DecideClaims(claims)), kAgentWritesPermit);
}

TEST_F(S4Delegation, S4_ActorChainInPolicyFailsToCompile) {
  // Earlier actors are for audit only, so a rule that reads them is
  // rejected when the policies load.
  const ExtraFile chain_rule = {"prior_actor.verdict", R"(
schema actor {
  chain?: list<string>
}

forbid "rogue-before-agent" when {
  actor has chain
  and actor.chain == ["https://agent.example.com/app", "https://rogue.example/app"]
}
)"};
  absl::StatusOr<compiler::Compilation> compilation =
      CompileScenarioDirectory("p4", "same-client", {chain_rule});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  EXPECT_EQ(compilation->program, nullptr);
  EXPECT_GT(compilation->error_count, 0u);
  EXPECT_NE(compilation->diagnostics.find("actor.chain"), std::string::npos)
      << compilation->diagnostics;
}

}  // namespace
}  // namespace verdict::tokens::testing
