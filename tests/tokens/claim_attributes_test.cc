// The attributes verified tokens establish (MapClaims), the vocabulary of
// token attributes, DetectKind, the expected-nonce check and verification at
// a request's time.
#include "tokens/claim_attributes.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "tests/tokens/verifier_fixture.h"
#include "tokens/attribute_vocabulary.h"
#include "tokens/base64url.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;
using Rendered = std::map<std::string, std::string>;
constexpr TokenKind kJag = TokenKind::kIdJag;
constexpr TokenKind kAt = TokenKind::kAccessToken;
constexpr TokenKind kEar = TokenKind::kAttestation;

const std::string kMrtdGood(96, 'a');
const std::string kSnpM = [] {
  std::string hex;
  for (int i = 0; i < 48; ++i) hex += "5e";
  return hex;
}();
const std::string kHostDataGood = [] {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "77";
  return hex;
}();
constexpr char kTdAttrNoDebug[] = "0000001000000000";
constexpr char kTdAttrDebug[] = "0100001000000000";
constexpr char kTrusteeProfile[] =
    "tag:github.com,2024:confidential-containers/Trustee";

// Renders an attribute as "<type>:<value>" so that whole attribute lists
// compare with one EXPECT_EQ and print readably on failure.
std::string Render(const ClaimAttribute& attribute) {
  const std::string type(AttributeKindName(attribute.kind));
  switch (attribute.kind) {
    case AttributeKind::kBool:
      return type + ":" + (attribute.boolean ? "true" : "false");
    case AttributeKind::kInt:
      return type + ":" + std::to_string(attribute.integer);
    case AttributeKind::kString:
      return type + ":" + attribute.text;
    case AttributeKind::kStringSet:
    case AttributeKind::kStringList:
      return type + ":[" + absl::StrJoin(attribute.elements, ", ") + "]";
  }
  return "?";
}

Rendered RenderAll(const std::vector<ClaimAttribute>& attributes) {
  Rendered rendered;
  for (const ClaimAttribute& attribute : attributes) {
    rendered[attribute.path] = Render(attribute);
  }
  return rendered;
}

// Keeps the attributes whose path starts with `prefix`.
Rendered WithPrefix(const Rendered& all, const std::string& prefix) {
  Rendered selected;
  for (const auto& [path, value] : all) {
    if (path.rfind(prefix, 0) == 0) selected[path] = value;
  }
  return selected;
}

std::string Str(const std::string& value) { return "string:" + value; }
std::string Int(int64_t value) { return "int:" + std::to_string(value); }

// EAR_TDX0 of the acceptance scenarios, in full, with the older dotted EAR
// claim names that Trustee sends.
json EarTdx0(const json& tee_pubkey) {
  return TrusteeEarClaims(
      {{"tdx",
        {{"quote",
          {{"header",
            {{"tee_type", "81000000"},
             {"vendor_id", "939a7233f79c4ca9940a0db3957f0607"}}},
           {"body",
            {{"mr_td", kMrtdGood},
             {"td_attributes", kTdAttrNoDebug},
             {"xfam", "e718060000000000"},
             {"tcb_svn", "03000600000000000000000000000000"}}}}},
         {"td_attributes",
          {{"debug", false},
           {"septve_disable", true},
           {"key_locker", false},
           {"perfmon", false},
           {"protection_keys", false}}},
         {"tcb_status", "UpToDate"},
         {"collateral_expiration_status", "0"}}},
       {"report_data", "00"},
       {"init_data", "00"},
       {"runtime_data_claims",
        {{"nonce", "n-123"}, {"tee-pubkey", tee_pubkey}}}});
}

// EAR_SNP0: EAR_TDX0 with the SNP annotated evidence of scenario S2.
json EarSnp0() {
  json claims = EarTdx0(json::object());
  claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"] = {
      {"snp",
       {{"measurement", kSnpM},
        {"policy_debug_allowed", false},
        {"policy_migrate_ma", false},
        {"policy_abi_major", 1},
        {"policy_abi_minor", 55},
        {"policy_smt_allowed", true},
        {"policy_single_socket", false},
        {"reported_tcb_bootloader", 9},
        {"reported_tcb_tee", 0},
        {"reported_tcb_snp", 22},
        {"reported_tcb_microcode", 213},
        {"platform_smt_enabled", true},
        {"platform_tsme_enabled", false},
        {"chip_id", "00"},
        {"report_data", "00"},
        {"init_data", kHostDataGood}}},
      {"report_data", "00"},
      {"init_data", kHostDataGood},
      {"runtime_data_claims",
       {{"nonce", "n-9"}, {"tee-pubkey", json::object()}}}};
  return claims;
}

// Rewrites an EAR from the dotted claim names to the EAR draft -03 names.
json ToUnderscoredEar(json claims) {
  claims["ear_verifier_id"] = claims["ear.verifier-id"];
  claims.erase("ear.verifier-id");
  json& cpu0 = claims["submods"]["cpu0"];
  cpu0["ear_status"] = cpu0["ear.status"];
  cpu0.erase("ear.status");
  json vector = json::object();
  for (const auto& [name, value] : cpu0["ear.trustworthiness-vector"].items()) {
    std::string underscored = name;
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    vector[underscored] = value;
  }
  cpu0["ear_trustworthiness_vector"] = vector;
  cpu0.erase("ear.trustworthiness-vector");
  cpu0["ear_appraisal_policy_ids"] = {cpu0["ear.appraisal-policy-id"]};
  cpu0.erase("ear.appraisal-policy-id");
  cpu0["ear_veraison_annotated_evidence"] =
      cpu0["ear.veraison.annotated-evidence"];
  cpu0.erase("ear.veraison.annotated-evidence");
  return claims;
}

// The RFC 7638 §3.1 example key and its published thumbprint.
const json kRfc7638Key = {
    {"kty", "RSA"},
    {"n",
     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
     "FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93"
     "lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
     "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
     "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"}};
constexpr char kRfc7638Thumbprint[] =
    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

class ClaimAttributesTest : public VerifierTest {
 protected:
  // Verifies `token` as `kind` and returns its attributes rendered; an
  // empty map (and a test failure) when verification fails.
  Rendered Attributes(TokenKind kind, const std::string& token) {
    VerifyResult result = VerifyAs(kind, token);
    EXPECT_TRUE(result.ok())
        << result.failure.reason() << ": " << result.failure.detail;
    if (!result.ok()) return {};
    return RenderAll(result.token->attributes);
  }

  std::string SignAt(const json& claims) const {
    return MakeToken(At0Header(), claims, keys_->as_rsa.get());
  }

  std::string SignEar(const json& claims) const {
    return MakeToken(EarHeader(keys_->trustee_leaf.get()), claims,
                     keys_->trustee_leaf_key.get());
  }

  Rendered EarAttributes(const json& claims) {
    return Attributes(kEar, SignEar(claims));
  }
};

TEST_F(ClaimAttributesTest, Jag0MapsToVocabulary) {
  const Rendered expected = {
      {"actor.present", "bool:false"},
      {"client.id", Str(kAgent)},
      {"subject.amr", "set<string>:[mfa, pwd]"},
      {"subject.auth_time", Int(kNow - 900)},
      {"subject.email", Str("alice@acme.example")},
      {"subject.id", Str("U-1001")},
      {"subject.issuer", Str(kIdp)},
      {"subject.tenant", Str("acme")},
      {"token.alg", Str("ES256")},
      {"token.audience", std::string("set<string>:[") + kRas + "]"},
      {"token.expires_at", Int(kNow + 240)},
      {"token.issued_at", Int(kNow - 60)},
      {"token.issuer", Str(kIdp)},
      {"token.jti", Str("jag-0001")},
      {"token.kid", Str("idp-1")},
      {"token.kind", Str("id-jag")},
      {"token.resource", std::string("set<string>:[") + kRs + "]"},
      {"token.scope", "set<string>:[crm.read, sales.read]"},
      {"token.typ", Str("oauth-id-jag+jwt")},
      {"token.verified", "bool:true"},
  };
  EXPECT_EQ(Attributes(kJag, SignJag(Jag0Header(), Jag0Claims())), expected);
}

TEST_F(ClaimAttributesTest, At0MapsToVocabulary) {
  const Rendered expected = {
      {"actor.chain", std::string("list<string>:[") + kAgent + "]"},
      {"actor.depth", Int(1)},
      {"actor.id", Str(kAgent)},
      {"actor.issuer", Str(kIdp)},
      {"actor.present", "bool:true"},
      {"client.id", Str(kAgent)},
      {"subject.id", Str("U-1001")},
      {"subject.issuer", Str(kAs)},
      {"subject.roles", "set<string>:[sales]"},
      {"token.alg", Str("RS256")},
      {"token.audience", std::string("set<string>:[") + kRs + "]"},
      {"token.expires_at", Int(1767229100)},
      {"token.issued_at", Int(1767225500)},
      {"token.issuer", Str(kAs)},
      {"token.jti", Str("at-77")},
      {"token.kid", Str("as-1")},
      {"token.kind", Str("access_token")},
      {"token.resource", std::string("set<string>:[") + kRs + "]"},
      {"token.scope", "set<string>:[crm.write]"},
      {"token.typ", Str("at+jwt")},
      {"token.verified", "bool:true"},
  };
  EXPECT_EQ(Attributes(kAt, SignAt(At0Claims())), expected);
}

TEST_F(ClaimAttributesTest, CurrentActorIsOutermostAct) {
  // S4-b: the approved agent is only a prior actor.
  json claims = At0Claims();
  claims["act"] = {{"sub", kRogue}, {"act", {{"sub", kAgent}}}};
  const Rendered expected = {
      {"actor.chain",
       std::string("list<string>:[") + kRogue + ", " + kAgent + "]"},
      {"actor.depth", Int(2)},
      {"actor.id", Str(kRogue)},
      {"actor.present", "bool:true"},
  };
  EXPECT_EQ(WithPrefix(Attributes(kAt, SignAt(claims)), "actor."), expected);

  // S4-c: the order of the chain follows the nesting, not the names.
  claims["act"] = {{"sub", kAgent}, {"act", {{"sub", kRogue}}}};
  const Rendered reversed =
      WithPrefix(Attributes(kAt, SignAt(claims)), "actor.");
  EXPECT_EQ(reversed.at("actor.id"), Str(kAgent));
  EXPECT_EQ(reversed.at("actor.chain"),
            std::string("list<string>:[") + kAgent + ", " + kRogue + "]");
}

TEST_F(ClaimAttributesTest, NonIdentityActClaimsIgnored) {
  // S4-h: exp inside act is not a claim about this token.
  json claims = At0Claims();
  claims["act"] = {{"sub", kAgent}, {"exp", 1}};
  const Rendered attributes = Attributes(kAt, SignAt(claims));
  const Rendered expected = {
      {"actor.chain", std::string("list<string>:[") + kAgent + "]"},
      {"actor.depth", Int(1)},
      {"actor.id", Str(kAgent)},
      {"actor.present", "bool:true"},
  };
  EXPECT_EQ(WithPrefix(attributes, "actor."), expected);
  EXPECT_EQ(attributes.at("token.expires_at"), Int(1767229100));
}

TEST_F(ClaimAttributesTest, MalformedActKeepsActorPresent) {
  json claims = At0Claims();
  claims["act"] = {{"sub", kAgent}, {"act", "not an object"}};
  Rendered actor = WithPrefix(Attributes(kAt, SignAt(claims)), "actor.");
  EXPECT_EQ(actor.at("actor.id"), Str(kAgent));
  EXPECT_EQ(actor.count("actor.chain"), 0u);
  EXPECT_EQ(actor.count("actor.depth"), 0u);

  claims["act"] = "https://agent.example.com/app";
  actor = WithPrefix(Attributes(kAt, SignAt(claims)), "actor.");
  const Rendered only_present = {{"actor.present", "bool:true"}};
  EXPECT_EQ(actor, only_present);
}

TEST_F(ClaimAttributesTest, MayActProfileAndGroups) {
  json claims = At0Claims();
  claims["act"]["sub_profile"] = "ai_agent";
  claims["may_act"] = {{"sub", kAgent}, {"iss", kIdp}};
  claims["groups"] = {"sales", "emea", "sales"};
  claims["entitlements"] = json::array();
  claims["acr"] = "phr";
  const Rendered attributes = Attributes(kAt, SignAt(claims));
  EXPECT_EQ(attributes.at("actor.profile"), Str("ai_agent"));
  EXPECT_EQ(attributes.at("subject.may_act.id"), Str(kAgent));
  EXPECT_EQ(attributes.at("subject.may_act.issuer"), Str(kIdp));
  EXPECT_EQ(attributes.at("subject.groups"), "set<string>:[emea, sales]");
  EXPECT_EQ(attributes.at("subject.entitlements"), "set<string>:[]");
  EXPECT_EQ(attributes.at("subject.acr"), Str("phr"));
}

TEST_F(ClaimAttributesTest, ScopeAndTenantForms) {
  json claims = At0Claims();
  claims.erase("scope");
  claims["scp"] = {"crm.write", "crm.read"};
  claims["tid"] = "tenant-7";
  Rendered attributes = Attributes(kAt, SignAt(claims));
  EXPECT_EQ(attributes.at("token.scope"), "set<string>:[crm.read, crm.write]");
  EXPECT_EQ(attributes.at("subject.tenant"), Str("tenant-7"));

  // A malformed scope is not replaced by scp, and tenant wins over tid.
  claims["scope"] = {"crm.admin"};
  claims["tenant"] = "acme";
  attributes = Attributes(kAt, SignAt(claims));
  EXPECT_EQ(attributes.count("token.scope"), 0u);
  EXPECT_EQ(attributes.at("subject.tenant"), Str("acme"));

  claims["scope"] = " crm.write  crm.write crm.read ";
  attributes = Attributes(kAt, SignAt(claims));
  EXPECT_EQ(attributes.at("token.scope"), "set<string>:[crm.read, crm.write]");

  // tid is an access-token claim only.
  json jag = Jag0Claims();
  jag.erase("tenant");
  jag["tid"] = "tenant-7";
  EXPECT_EQ(
      Attributes(kJag, SignJag(Jag0Header(), jag)).count("subject.tenant"), 0u);
}

TEST_F(ClaimAttributesTest, WrongTypedClaimsLeftOut) {
  json claims = Jag0Claims();
  claims["email"] = 5;
  claims["amr"] = "pwd";
  claims["auth_time"] = 1767224700.5;
  claims["tenant"] = {"acme"};
  claims["groups"] = {"admins", 1};
  claims["resource"] = 7;
  claims["may_act"] = {{"sub", 1}, {"iss", kIdp}};
  const Rendered attributes = Attributes(kJag, SignJag(Jag0Header(), claims));
  for (const char* path :
       {"subject.email", "subject.amr", "subject.auth_time", "subject.tenant",
        "subject.groups", "token.resource", "subject.may_act.id"}) {
    EXPECT_EQ(attributes.count(path), 0u) << path;
  }
  EXPECT_EQ(attributes.at("subject.id"), Str("U-1001"));
  EXPECT_EQ(attributes.at("subject.may_act.issuer"), Str(kIdp));
}

TEST_F(ClaimAttributesTest, ResourceArrayAndConfirmationKey) {
  json claims = Jag0Claims();
  claims["resource"] = {kRs, "https://api.crm.example/"};
  claims["cnf"] = {{"jkt", "abc"}};
  context_.dpop_jkt = "abc";
  const Rendered attributes = Attributes(kJag, SignJag(Jag0Header(), claims));
  EXPECT_EQ(attributes.at("token.resource"),
            std::string("set<string>:[https://api.crm.example/, ") + kRs + "]");
  EXPECT_EQ(attributes.at("token.cnf_jkt"), Str("abc"));
}

TEST_F(ClaimAttributesTest, EarTdx0MapsToVocabulary) {
  const Rendered expected = {
      {"tee.debug", "bool:false"},
      {"tee.expires_at", Int(kNow + 270)},
      {"tee.init_data", Str("00")},
      {"tee.issued_at", Int(kNow - 30)},
      {"tee.issuer", Str(kTrustee)},
      {"tee.measurement", Str(kMrtdGood)},
      {"tee.nonce", "set<string>:[n-123]"},
      {"tee.overall_status", Str("affirming")},
      {"tee.profile", Str(kTrusteeProfile)},
      {"tee.pubkey_jkt", Str(kRfc7638Thumbprint)},
      {"tee.report_data", Str("00")},
      {"tee.status", Str("affirming")},
      {"tee.submods.cpu0.status", Str("affirming")},
      {"tee.tcb_status", Str("UpToDate")},
      {"tee.tcb_svn", Str("03000600000000000000000000000000")},
      {"tee.trust_vector.configuration", Int(2)},
      {"tee.trust_vector.executables", Int(3)},
      {"tee.trust_vector.file_system", Int(0)},
      {"tee.trust_vector.hardware", Int(2)},
      {"tee.trust_vector.instance_identity", Int(0)},
      {"tee.trust_vector.runtime_opaque", Int(0)},
      {"tee.trust_vector.sourced_data", Int(0)},
      {"tee.trust_vector.storage_opaque", Int(0)},
      {"tee.type", Str("tdx")},
      {"tee.verified", "bool:true"},
      {"tee.xfam", Str("e718060000000000")},
  };
  EXPECT_EQ(EarAttributes(EarTdx0(kRfc7638Key)), expected);
}

TEST_F(ClaimAttributesTest, EarSnp0MapsToVocabulary) {
  const Rendered expected = {
      {"tee.debug", "bool:false"},
      {"tee.expires_at", Int(kNow + 270)},
      {"tee.init_data", Str(kHostDataGood)},
      {"tee.issued_at", Int(kNow - 30)},
      {"tee.issuer", Str(kTrustee)},
      {"tee.measurement", Str(kSnpM)},
      {"tee.migration_allowed", "bool:false"},
      {"tee.nonce", "set<string>:[n-9]"},
      {"tee.overall_status", Str("affirming")},
      {"tee.profile", Str(kTrusteeProfile)},
      {"tee.report_data", Str("00")},
      {"tee.status", Str("affirming")},
      {"tee.submods.cpu0.status", Str("affirming")},
      {"tee.tcb.bootloader", Int(9)},
      {"tee.tcb.microcode", Int(213)},
      {"tee.tcb.snp", Int(22)},
      {"tee.tcb.tee", Int(0)},
      {"tee.trust_vector.configuration", Int(2)},
      {"tee.trust_vector.executables", Int(3)},
      {"tee.trust_vector.file_system", Int(0)},
      {"tee.trust_vector.hardware", Int(2)},
      {"tee.trust_vector.instance_identity", Int(0)},
      {"tee.trust_vector.runtime_opaque", Int(0)},
      {"tee.trust_vector.sourced_data", Int(0)},
      {"tee.trust_vector.storage_opaque", Int(0)},
      {"tee.type", Str("snp")},
      {"tee.verified", "bool:true"},
  };
  EXPECT_EQ(EarAttributes(EarSnp0()), expected);
}

TEST_F(ClaimAttributesTest, BothEarSpellingsMapAlike) {
  for (const json& claims : {EarTdx0(kRfc7638Key), EarSnp0()}) {
    const Rendered dotted = EarAttributes(claims);
    ASSERT_GT(dotted.size(), 20u);
    EXPECT_EQ(EarAttributes(ToUnderscoredEar(claims)), dotted);
  }
}

TEST_F(ClaimAttributesTest, ConflictingEarSpellingsLeftOut) {
  json claims = EarTdx0(kRfc7638Key);
  claims["submods"]["cpu0"]["ear_status"] = "contraindicated";
  claims["submods"]["cpu0"]["ear_trustworthiness_vector"] = {{"hardware", 97}};
  const Rendered attributes = EarAttributes(claims);
  for (const char* path : {"tee.status", "tee.submods.cpu0.status",
                           "tee.overall_status", "tee.trust_vector.hardware"}) {
    EXPECT_EQ(attributes.count(path), 0u) << path;
  }
  EXPECT_EQ(attributes.at("tee.type"), Str("tdx"));

  // The same value under both names is no conflict.
  claims["submods"]["cpu0"]["ear_status"] = "affirming";
  EXPECT_EQ(EarAttributes(claims).at("tee.status"), Str("affirming"));
}

TEST_F(ClaimAttributesTest, TdxDebugFromQuoteBits) {
  json claims = EarTdx0(kRfc7638Key);
  json& tdx =
      claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["tdx"];
  tdx.erase("td_attributes");
  EXPECT_EQ(EarAttributes(claims).at("tee.debug"), "bool:false");

  tdx["quote"]["body"]["td_attributes"] = kTdAttrDebug;
  EXPECT_EQ(EarAttributes(claims).at("tee.debug"), "bool:true");

  tdx["quote"]["body"]["td_attributes"] = "0x0300001000000000";
  EXPECT_EQ(EarAttributes(claims).at("tee.debug"), "bool:true");

  // The parsed flag contradicting the signed quote leaves debug unknown.
  tdx["td_attributes"] = {{"debug", false}};
  tdx["quote"]["body"]["td_attributes"] = kTdAttrDebug;
  EXPECT_EQ(EarAttributes(claims).count("tee.debug"), 0u);

  tdx.erase("td_attributes");
  tdx["quote"]["body"]["td_attributes"] = "01000010";
  EXPECT_EQ(EarAttributes(claims).count("tee.debug"), 0u);
}

TEST_F(ClaimAttributesTest, OverallStatusIsLeastTrustedSubmod) {
  json claims = EarTdx0(kRfc7638Key);
  claims["submods"]["gpu0"] = {{"ear.status", "warning"}};
  claims["submods"]["gpu-1"] = {{"ear_status", "none"}};
  Rendered attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.at("tee.overall_status"), Str("warning"));
  EXPECT_EQ(attributes.at("tee.status"), Str("affirming"));
  EXPECT_EQ(attributes.at("tee.submods.gpu0.status"), Str("warning"));
  // gpu-1 is no identifier, so it has no attribute but still counts.
  EXPECT_EQ(WithPrefix(attributes, "tee.submods.").size(), 2u);

  claims["submods"]["gpu-1"] = {{"ear_status", "contraindicated"}};
  EXPECT_EQ(EarAttributes(claims).at("tee.overall_status"),
            Str("contraindicated"));

  // A top-level status is taken as sent.
  claims["ear_status"] = "contraindicated";
  claims["submods"]["gpu-1"] = {{"ear_status", "affirming"}};
  EXPECT_EQ(EarAttributes(claims).at("tee.overall_status"),
            Str("contraindicated"));

  claims.erase("ear_status");
  claims["submods"]["gpu0"] = {{"ear.status", "great"}};
  attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.count("tee.overall_status"), 0u);
  EXPECT_EQ(attributes.count("tee.submods.gpu0.status"), 0u);
}

TEST_F(ClaimAttributesTest, HexNormalisedOrLeftOut) {
  json claims = EarTdx0(kRfc7638Key);
  json& body = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
                     ["tdx"]["quote"]["body"];
  body["mr_td"] = "0xABAB";
  body["mr_seam"] = "zz";
  body["mr_owner"] = "abc";
  body["mr_config_id"] = 12;
  body["xfam"] = "0x";
  const Rendered attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.at("tee.measurement"), Str("abab"));
  for (const char* path :
       {"tee.mr_seam", "tee.mr_owner", "tee.mr_config_id", "tee.xfam"}) {
    EXPECT_EQ(attributes.count(path), 0u) << path;
  }
}

TEST_F(ClaimAttributesTest, RtmrWorkloadImagesAndNonceArray) {
  json claims = EarTdx0(kRfc7638Key);
  json& cpu0 = claims["submods"]["cpu0"];
  json& evidence = cpu0["ear.veraison.annotated-evidence"];
  json& body = evidence["tdx"]["quote"]["body"];
  for (const char* name : {"rtmr_0", "rtmr_1", "rtmr_2"}) body[name] = "11";
  evidence["runtime_data_claims"]["nonce"] = {"n-2", "n-1"};
  cpu0["ear.trustee.identifiers"] = {
      {"validated", {{"container_images", {"sha256:22", "sha256:11"}}}}};
  Rendered attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.count("tee.rtmr"), 0u);
  EXPECT_EQ(attributes.at("tee.nonce"), "set<string>:[n-1, n-2]");
  EXPECT_EQ(attributes.at("tee.workload.images"),
            "set<string>:[sha256:11, sha256:22]");

  body["rtmr_3"] = "0X44";
  attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.at("tee.rtmr"), "list<string>:[11, 11, 11, 44]");
}

TEST_F(ClaimAttributesTest, TwoTeeKeysLeaveTeeFieldsOut) {
  json claims = EarTdx0(kRfc7638Key);
  json& evidence = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"];
  evidence["snp"] =
      EarSnp0()["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["snp"];
  const Rendered attributes = EarAttributes(claims);
  for (const char* path :
       {"tee.type", "tee.debug", "tee.measurement", "tee.tcb_status",
        "tee.tcb.snp", "tee.migration_allowed"}) {
    EXPECT_EQ(attributes.count(path), 0u) << path;
  }
  EXPECT_EQ(attributes.at("tee.report_data"), Str("00"));
  EXPECT_EQ(attributes.at("tee.status"), Str("affirming"));
}

TEST_F(ClaimAttributesTest, AzureVtpmVariants) {
  json claims = EarSnp0();
  json& evidence = claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"];
  evidence["az-snp-vtpm"] = evidence["snp"];
  evidence.erase("snp");
  Rendered attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.at("tee.type"), Str("snp"));
  EXPECT_EQ(attributes.at("tee.variant"), Str("az-snp-vtpm"));
  EXPECT_EQ(attributes.at("tee.measurement"), Str(kSnpM));

  claims = EarTdx0(kRfc7638Key);
  json& tdx_evidence =
      claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"];
  tdx_evidence["az-tdx-vtpm"] = tdx_evidence["tdx"];
  tdx_evidence.erase("tdx");
  attributes = EarAttributes(claims);
  EXPECT_EQ(attributes.at("tee.type"), Str("tdx"));
  EXPECT_EQ(attributes.at("tee.variant"), Str("az-tdx-vtpm"));
  EXPECT_EQ(attributes.at("tee.measurement"), Str(kMrtdGood));
}

TEST_F(ClaimAttributesTest, NoCpu0LeavesShortcutsOut) {
  json claims = EarTdx0(kRfc7638Key);
  claims["submods"] = {{"gpu0", claims["submods"]["cpu0"]}};
  const Rendered expected = {
      {"tee.expires_at", Int(kNow + 270)},
      {"tee.issued_at", Int(kNow - 30)},
      {"tee.issuer", Str(kTrustee)},
      {"tee.overall_status", Str("affirming")},
      {"tee.profile", Str(kTrusteeProfile)},
      {"tee.submods.gpu0.status", Str("affirming")},
      {"tee.verified", "bool:true"},
  };
  EXPECT_EQ(EarAttributes(claims), expected);
}

TEST_F(ClaimAttributesTest, PubkeyThumbprintNeedsCompleteJwk) {
  // An EC key: the thumbprint hashes crv, kty, x and y in that order.
  const json ec = PublicJwk(keys_->attacker.get(), "k", "ES256");
  const std::string members = R"({"crv":"P-256","kty":"EC","x":")" +
                              ec["x"].get<std::string>() + R"(","y":")" +
                              ec["y"].get<std::string>() + R"("})";
  EXPECT_EQ(EarAttributes(EarTdx0(ec)).at("tee.pubkey_jkt"),
            Str(EncodeBase64Url(Sha256(members))));

  json incomplete = ec;
  incomplete.erase("y");
  json not_base64url = ec;
  not_base64url["x"] = "x+y/";
  json symmetric = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  for (const json& jwk :
       {incomplete, not_base64url, symmetric, json(json::object())}) {
    EXPECT_EQ(EarAttributes(EarTdx0(jwk)).count("tee.pubkey_jkt"), 0u)
        << jwk.dump();
  }
}

TEST_F(ClaimAttributesTest, ExpectedNonceChecked) {
  const std::string ear = SignEar(EarTdx0(kRfc7638Key));
  context_.expected_nonce = "n-123";
  EXPECT_TRUE(VerifyAs(kEar, ear).ok());
  // The second presentation is a cache hit; the nonce is checked again.
  context_.expected_nonce = "n-999";
  ExpectRejected(kEar, ear, "nonce");

  json claims = EarTdx0(kRfc7638Key);
  claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
        ["runtime_data_claims"]
            .erase("nonce");
  ExpectRejected(kEar, SignEar(claims), "nonce");

  claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
        ["runtime_data_claims"]["nonce"] = {"n-1", "n-999"};
  EXPECT_TRUE(VerifyAs(kEar, SignEar(claims)).ok());

  // Other kinds carry no attestation nonce, so the check does not apply.
  EXPECT_TRUE(VerifyAs(kJag, SignJag(Jag0Header(), Jag0Claims())).ok());
}

TEST_F(ClaimAttributesTest, VerifyAtRequestTime) {
  verifier_ = MakeVerifier();
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  // The clock reads far past exp, but the request's time is NOW.
  now_ = kNow + 86400;
  VerifyResult result = verifier_->Verify(kJag, jag, context_, kNow);
  EXPECT_TRUE(result.ok()) << result.failure.detail;
  // The overload without a time uses the clock.
  EXPECT_EQ(verifier_->Verify(kJag, jag, context_).failure.reason(),
            "token_invalid:exp");
  EXPECT_EQ(verifier_->Verify(kJag, jag, context_, kNow + 301).failure.reason(),
            "token_invalid:exp");
}

TEST_F(ClaimAttributesTest, CacheHitReusesAttributes) {
  verifier_ = MakeVerifier();
  const std::string jag = SignJag(Jag0Header(), Jag0Claims());
  VerifyResult first = verifier_->Verify(kJag, jag, context_, kNow);
  VerifyResult second = verifier_->Verify(kJag, jag, context_, kNow + 1);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.token.get(), second.token.get());
  EXPECT_FALSE(second.token->attributes.empty());
}

TEST_F(ClaimAttributesTest, EveryAttributeIsInVocabulary) {
  json at = At0Claims();
  at["act"]["sub_profile"] = "ai_agent";
  at["act"]["act"] = {{"sub", kRogue}};
  at["may_act"] = {{"sub", kAgent}, {"iss", kIdp}};
  at["groups"] = {"g"};
  at["entitlements"] = {"e"};
  at["tid"] = "t";
  at["nbf"] = kNow - 100;
  at["acr"] = "phr";
  at["aud_sub"] = "s";
  at["aud_tenant"] = "t";
  at["email"] = "e@example.com";
  at["auth_time"] = kNow - 100;
  at["amr"] = {"pwd"};
  at["cnf"] = {{"jkt", "thumbprint"}};
  context_.dpop_jkt = "thumbprint";
  json tdx = EarTdx0(kRfc7638Key);
  json& cpu0 = tdx["submods"]["cpu0"];
  cpu0["ear.trustee.identifiers"] = {
      {"validated", {{"container_images", {"sha256:11"}}}}};
  json& body = cpu0["ear.veraison.annotated-evidence"]["tdx"]["quote"]["body"];
  for (const char* name : {"rtmr_0", "rtmr_1", "rtmr_2", "rtmr_3", "mr_seam",
                           "mr_owner", "mr_config_id"}) {
    body[name] = "00";
  }
  tdx["submods"]["gpu0"] = {{"ear.status", "none"}};
  json az = EarSnp0();
  json& evidence = az["submods"]["cpu0"]["ear.veraison.annotated-evidence"];
  evidence["az-snp-vtpm"] = evidence["snp"];
  evidence.erase("snp");

  std::vector<std::vector<ClaimAttribute>> lists;
  for (auto [kind, token] :
       {std::pair{kJag, SignJag(Jag0Header(), Jag0Claims())},
        std::pair{kAt, SignAt(at)}, std::pair{kEar, SignEar(tdx)},
        std::pair{kEar, SignEar(EarSnp0())}, std::pair{kEar, SignEar(az)}}) {
    VerifyResult result = VerifyAs(kind, token);
    ASSERT_TRUE(result.ok()) << result.failure.detail;
    lists.push_back(result.token->attributes);
  }
  std::set<std::string> fixed_paths;
  for (const std::vector<ClaimAttribute>& attributes : lists) {
    for (size_t i = 0; i < attributes.size(); ++i) {
      const ClaimAttribute& attribute = attributes[i];
      if (i > 0) {
        EXPECT_LT(attributes[i - 1].path, attribute.path);
      }
      std::optional<AttributeKind> kind = VocabularyKind(attribute.path);
      ASSERT_TRUE(kind.has_value()) << attribute.path;
      EXPECT_EQ(*kind, attribute.kind) << attribute.path;
      if (attribute.path.rfind("tee.submods.", 0) != 0) {
        fixed_paths.insert(attribute.path);
      }
    }
  }
  // The tokens above set every fixed path of the vocabulary (75) except
  // the four computed per request.
  EXPECT_EQ(fixed_paths.size(), 71u) << absl::StrJoin(fixed_paths, " ");
}

TEST(VocabularyKindTest, PathsAndPatterns) {
  const std::vector<std::pair<std::string, std::optional<AttributeKind>>>
      cases = {
          {"token.age", AttributeKind::kInt},
          {"tee.age", AttributeKind::kInt},
          {"client.authenticated_id", AttributeKind::kString},
          {"client.binding_ok", AttributeKind::kBool},
          {"token.verified", AttributeKind::kBool},
          {"tee.rtmr", AttributeKind::kStringList},
          {"token.scope", AttributeKind::kStringSet},
          {"tee.trust_vector.file_system", AttributeKind::kInt},
          {"tee.submods.gpu0.status", AttributeKind::kString},
          {"tee.submods._x1.status", AttributeKind::kString},
          {"tee.trust_vector.file-system", std::nullopt},
          {"tee.trust_vector.made_up", std::nullopt},
          {"tee.submods..status", std::nullopt},
          {"tee.submods.a.b.status", std::nullopt},
          {"tee.submods.0gpu.status", std::nullopt},
          {"tee.submods.gpu0", std::nullopt},
          {"tee.raw", std::nullopt},
          {"token.authorization_details", std::nullopt},
          {"subject", std::nullopt},
          {"", std::nullopt},
      };
  for (const auto& [path, kind] : cases) {
    EXPECT_EQ(VocabularyKind(path), kind) << path;
  }
}

TEST(SourceNameTest, NamesProvenance) {
  EXPECT_EQ(SourceName(TokenKind::kIdJag), "id-jag");
  EXPECT_EQ(SourceName(TokenKind::kAccessToken), "access_token");
  EXPECT_EQ(SourceName(TokenKind::kAttestation), "ear");
}

TEST(DetectKindTest, ReadsTypOfProtectedHeader) {
  const std::vector<std::pair<json, std::optional<TokenKind>>> cases = {
      {{{"alg", "ES256"}, {"typ", "oauth-id-jag+jwt"}}, TokenKind::kIdJag},
      {{{"alg", "ES256"}, {"typ", "application/OAUTH-ID-JAG+JWT"}},
       TokenKind::kIdJag},
      {{{"alg", "RS256"}, {"typ", "at+jwt"}}, TokenKind::kAccessToken},
      {{{"alg", "RS256"}, {"typ", "application/At+JWT"}},
       TokenKind::kAccessToken},
      {{{"alg", "ES256"}}, TokenKind::kAttestation},
      {{{"alg", "ES256"}, {"typ", "JWT"}}, TokenKind::kAttestation},
      {{{"alg", "ES256"}, {"typ", "application/eat+jwt"}},
       TokenKind::kAttestation},
      {{{"alg", "ES256"}, {"typ", "secevent+jwt"}}, std::nullopt},
      {{{"alg", "ES256"}, {"typ", 5}}, std::nullopt},
  };
  for (const auto& [header, kind] : cases) {
    const std::string token =
        EncodeBase64Url(header.dump()) + "." + EncodeBase64Url("{}") + ".c2ln";
    EXPECT_EQ(DetectKind(token), kind) << header.dump();
  }
  EXPECT_EQ(DetectKind(""), std::nullopt);
  EXPECT_EQ(DetectKind("no-dots-here"), std::nullopt);
  EXPECT_EQ(DetectKind(EncodeBase64Url("[1]") + ".e30.c2ln"), std::nullopt);
  EXPECT_EQ(DetectKind(EncodeBase64Url(R"({"typ":"at+jwt","typ":"JWT"})") +
                       ".e30.c2ln"),
            std::nullopt);
}

}  // namespace
}  // namespace verdict::tokens::testing
