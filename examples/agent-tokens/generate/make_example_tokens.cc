// Writes the key material and the case files of examples/agent-tokens from
// keys generated afresh on every run:
//
//   policies/keys/idp.jwks.json      public JWK Set of the IdP (ID-JAGs)
//   policies/keys/as.jwks.json       public JWK Set of the AS (access tokens)
//   policies/certs/trustee-root.pem  the Trustee root certificate
//   cases/*.json                     requests carrying tokens signed on this
//   run
//
// policies/trust.json names these files and is not written here. The
// private keys exist only in memory while the program runs, so the tokens
// of the case files cannot be extended or re-signed later: regenerating
// replaces every key, token and case together.
//
// Usage: make_example_tokens EXAMPLE_DIR
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/tokens/token_test_util.h"
#include "tests/tokens/verifier_fixture.h"

namespace verdict::tokens::example {
namespace {

using ::verdict::tokens::testing::Certificate;
using ::verdict::tokens::testing::CertificateBase64;
using ::verdict::tokens::testing::CertificatePem;
using ::verdict::tokens::testing::GenerateKey;
using ::verdict::tokens::testing::IssueCertificate;
using ::verdict::tokens::testing::MakeToken;
using ::verdict::tokens::testing::PublicJwk;
using ::verdict::tokens::testing::SigningInput;
using ::verdict::tokens::testing::WriteFile;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// The clock of every case: 2026-01-01T00:00:00Z. Tokens are issued around
// it, so a case decides as expected only at this time (`verdict eval --now`).
constexpr int64_t kNow = ::verdict::tokens::testing::kNow;

// Issuers and audiences, as policies/trust.json configures them.
constexpr char kIdp[] = "https://idp.acme.example";
constexpr char kSalesAs[] = "https://as.sales.example/";
constexpr char kSalesApi[] = "https://api.sales.example/";

// The approved agent (APPROVED_AGENTS and CRM_WRITE_AGENTS in the policies)
// and an agent that no policy approves.
constexpr char kAgent[] = "https://agent.example.com/app";
constexpr char kRogue[] = "https://rogue.example/app";

// Returns the hex text `pair` repeated `count` times.
std::string RepeatHex(const std::string& pair, int count) {
  std::string hex;
  for (int i = 0; i < count; ++i) hex += pair;
  return hex;
}

// The TDX launch measurement that agent-reads-sales.verdict lists, and the
// SEV-SNP measurement that key-release.verdict expects.
std::string AgentMrtd() { return RepeatHex("ab", 48); }
std::string K1GuestMeasurement() { return RepeatHex("5e", 48); }

// The nonce that the S1 requests expect the TDX guest's attestation to carry.
constexpr char kTdxNonce[] = "n-123";

// Keys and certificates of one run. Each PublicKey (a shared EVP_PKEY) also
// contains the private key. Only public keys and certificates are written.
struct Keys {
  PublicKey idp = GenerateKey("P-256");     // kid idp-1, ES256
  PublicKey sales_as = GenerateKey("RSA");  // kid as-1, RS256
  PublicKey trustee_root_key = GenerateKey("P-256");
  PublicKey trustee_signer_key = GenerateKey("P-256");
  PublicKey other_root_key = GenerateKey("P-256");
  Certificate trustee_root;
  Certificate trustee_signer;  // issued by trustee_root
  Certificate foreign_signer;  // trustee_signer_key, issued by other_root
};

Keys MakeKeys() {
  Keys keys;
  const int64_t not_before = kNow - 86400;
  const int64_t not_after = kNow + 365 * 86400;
  keys.trustee_root = IssueCertificate(
      keys.trustee_root_key.get(), "Trustee root", keys.trustee_root_key.get(),
      nullptr, /*is_ca=*/true, not_before, not_after);
  keys.trustee_signer =
      IssueCertificate(keys.trustee_signer_key.get(), "Trustee token signer",
                       keys.trustee_root_key.get(), keys.trustee_root.get(),
                       /*is_ca=*/false, not_before, not_after);
  Certificate other_root = IssueCertificate(
      keys.other_root_key.get(), "Other root", keys.other_root_key.get(),
      nullptr, /*is_ca=*/true, not_before, not_after);
  keys.foreign_signer =
      IssueCertificate(keys.trustee_signer_key.get(), "Trustee token signer",
                       keys.other_root_key.get(), other_root.get(),
                       /*is_ca=*/false, not_before, not_after);
  return keys;
}

// ---------------------------------------------------------------------------
// Tokens

json JagHeader() {
  return {{"alg", "ES256"}, {"typ", "oauth-id-jag+jwt"}, {"kid", "idp-1"}};
}

// An ID-JAG for user U-1001, issued to the approved agent a minute ago for
// five minutes. Each case uses its own `jti`, because the IdP's replay mode
// lets a `jti` come back only from the client that first presented it.
json JagClaims(const std::string& jti) {
  return {{"iss", kIdp},
          {"sub", "U-1001"},
          {"aud", kSalesAs},
          {"client_id", kAgent},
          {"jti", jti},
          {"iat", kNow - 60},
          {"exp", kNow + 240},
          {"scope", "sales.read crm.read"},
          {"resource", kSalesApi},
          {"tenant", "acme"},
          {"email", "alice@acme.example"},
          {"auth_time", kNow - 900},
          {"amr", {"pwd", "mfa"}}};
}

json AccessTokenHeader() {
  return {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", "as-1"}};
}

// An access token for user U-1001 with the approved agent as current actor.
json AccessTokenClaims(const std::string& jti) {
  return {{"iss", kSalesAs},    {"sub", "U-1001"},
          {"aud", kSalesApi},   {"client_id", kAgent},
          {"iat", kNow - 100},  {"exp", kNow + 3500},
          {"jti", jti},         {"scope", "crm.write"},
          {"roles", {"sales"}}, {"act", {{"sub", kAgent}, {"iss", kIdp}}}};
}

// Annotated evidence of the agent's TDX guest, in the form Trustee's
// attestation service reports it. td_attributes "0000001000000000" has only
// SEPT_VE_DISABLE set, so debugging is off.
json TdxEvidence() {
  return {{"tdx",
           {{"quote",
             {{"header",
               {{"tee_type", "81000000"},
                {"vendor_id", "939a7233f79c4ca9940a0db3957f0607"}}},
              {"body",
               {{"mr_td", AgentMrtd()},
                {"td_attributes", "0000001000000000"},
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
          {"runtime_data_claims", {{"nonce", kTdxNonce}}}};
}

// Annotated evidence of the SEV-SNP guest that may hold key k1.
json SnpEvidence() {
  const std::string host_data = RepeatHex("77", 32);
  return {{"snp",
           {{"measurement", K1GuestMeasurement()},
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
            {"init_data", host_data}}},
          {"report_data", "00"},
          {"init_data", host_data},
          {"runtime_data_claims", {{"nonce", "n-9"}}}};
}

// An EAR attestation result as Trustee issues it: issued 30 s ago for
// 300 s, with `evidence` as the annotated evidence of submodule cpu0.
json EarClaims(const json& evidence) {
  return ::verdict::tokens::testing::TrusteeEarClaims(evidence);
}

// Signs EAR claims as Trustee does: the header carries the signer's public
// JWK and its certificate chain, and Verdict trusts the key only through
// that chain. `signer` is the certificate of the signing key.
std::string SignEar(const Keys& keys, X509* signer, const json& claims) {
  json jwk = PublicJwk(keys.trustee_signer_key.get(), "", "");
  jwk["x5c"] = {CertificateBase64(signer)};
  const json header = {
      {"alg", "ES256"}, {"jwk", jwk}, {"x5c", {CertificateBase64(signer)}}};
  return MakeToken(header, claims, keys.trustee_signer_key.get());
}

// ---------------------------------------------------------------------------
// Requests and case files

ordered_json TokenEntry(const std::string& kind, const std::string& jwt) {
  return {{"kind", kind}, {"jwt", jwt}};
}

// S1: the approved agent, authenticated by the gateway, reads sales report
// q3 with `tokens`, and expects the TDX guest to attest kTdxNonce.
ordered_json SalesReadRequest(const std::vector<ordered_json>& tokens,
                              const std::string& authenticated_client) {
  return {{"tokens", tokens},
          {"context",
           {{"client_authenticated_id", authenticated_client},
            {"expected_nonce", kTdxNonce}}},
          {"action", {{"name", "read"}}},
          {"resource", {{"type", "sales_report"}, {"id", "q3"}}}};
}

// S2: a key broker request for `key` with one attestation result.
ordered_json KeyRequest(const std::string& ear, const std::string& key) {
  return {{"tokens", {TokenEntry("attestation", ear)}},
          {"action", {{"name", "get"}}},
          {"resource",
           {{"type", "kbs_resource"}, {"path", {"default", "keys", key}}}}};
}

// S4: a CRM write with one access token.
ordered_json CrmWriteRequest(const std::string& access_token) {
  return {{"tokens", {TokenEntry("access_token", access_token)}},
          {"action", {{"name", "write"}}},
          {"resource", {{"type", "crm_record"}, {"id", "c1"}}}};
}

struct Case {
  std::string name;  // file name without ".json"
  std::string description;
  ordered_json request;
  bool permit = false;
  std::vector<std::string> reasons;
};

std::vector<Case> MakeCases(const Keys& keys) {
  X509* trusted = keys.trustee_signer.get();
  auto jag = [&](const json& claims) {
    return MakeToken(JagHeader(), claims, keys.idp.get());
  };
  auto ear = [&](const json& claims) { return SignEar(keys, trusted, claims); };
  auto access_token = [&](const json& claims) {
    return MakeToken(AccessTokenHeader(), claims, keys.sales_as.get());
  };
  auto sales_read = [&](const json& jag_claims, const json& ear_claims,
                        const std::string& client = kAgent) {
    return SalesReadRequest({TokenEntry("id-jag", jag(jag_claims)),
                             TokenEntry("attestation", ear(ear_claims))},
                            client);
  };
  const json tdx_ear = EarClaims(TdxEvidence());
  std::vector<Case> cases;

  // S1: an AI agent reads sales data for a user.
  cases.push_back({"s1-a-baseline",
                   "The approved agent in a known TDX guest reads a sales "
                   "report with a fresh grant that carries sales.read.",
                   sales_read(JagClaims("jag-s1-a"), tdx_ear),
                   true,
                   {"permit:agent-reads-sales"}});

  json scope = JagClaims("jag-s1-d");
  scope["scope"] = "sales.write crm.read";
  cases.push_back({"s1-d-scope-without-sales-read",
                   "The grant is valid but carries sales.write and crm.read, "
                   "not sales.read.",
                   sales_read(scope, tdx_ear),
                   false,
                   {"default_deny"}});

  cases.push_back(
      {"s1-g-client-binding",
       "The grant was issued to the approved agent, but the gateway "
       "authenticated another client: the grant is rejected.",
       sales_read(JagClaims("jag-s1-g"), tdx_ear, kRogue),
       false,
       {"token_invalid:client_binding"}});

  json debug = TdxEvidence();
  debug["tdx"]["td_attributes"]["debug"] = true;
  debug["tdx"]["quote"]["body"]["td_attributes"] = "0100001000000000";
  cases.push_back({"s1-h-tee-debug",
                   "The attestation is valid but reports a TDX guest with "
                   "debugging on (TD attribute bit 0).",
                   sales_read(JagClaims("jag-s1-h"), EarClaims(debug)),
                   false,
                   {"default_deny"}});

  json expired = EarClaims(TdxEvidence());
  expired["iat"] = kNow - 361;
  expired["exp"] = kNow - 61;
  cases.push_back({"s1-l-attestation-expired",
                   "The attestation result expired 61 s ago, beyond the "
                   "60 s clock skew: it is rejected.",
                   sales_read(JagClaims("jag-s1-l"), expired),
                   false,
                   {"token_invalid:exp"}});

  ordered_json conflict = sales_read(JagClaims("jag-s1-n"), tdx_ear);
  conflict["attributes"] = {{"tee", {{"debug", true}}}};
  cases.push_back({"s1-n-plain-attribute-conflict",
                   "Valid tokens, plus a plain attribute tee.debug true that "
                   "contradicts the attestation, which says debug false.",
                   conflict,
                   false,
                   {"attribute_conflict:tee.debug"}});

  // S2: key release only to a known SNP guest with a minimum TCB.
  cases.push_back({"s2-a-baseline",
                   "A known SEV-SNP guest on the minimum TCB, with debugging "
                   "and migration off, asks for key k1.",
                   KeyRequest(ear(EarClaims(SnpEvidence())), "k1"),
                   true,
                   {"permit:release-k1-to-snp-guest"}});

  json old_tcb = SnpEvidence();
  old_tcb["snp"]["reported_tcb_snp"] = 21;
  cases.push_back({"s2-b-tcb-snp-21",
                   "The guest reports SNP firmware TCB 21, below the "
                   "minimum 22.",
                   KeyRequest(ear(EarClaims(old_tcb)), "k1"),
                   false,
                   {"default_deny"}});

  const json self_signed_header = {
      {"alg", "ES256"},
      {"jwk", PublicJwk(keys.trustee_signer_key.get(), "", "")}};
  cases.push_back(
      {"s2-h-self-signed-key",
       "The attestation result is signed correctly, but its key comes only "
       "from its own header, with no certificate chain: it is rejected.",
       KeyRequest(MakeToken(self_signed_header, EarClaims(SnpEvidence()),
                            keys.trustee_signer_key.get()),
                  "k1"),
       false,
       {"token_invalid:untrusted_key"}});

  cases.push_back(
      {"s2-i-untrusted-root",
       "The signing certificate chains to a root that trust.json does not "
       "name: the attestation result is rejected.",
       KeyRequest(
           SignEar(keys, keys.foreign_signer.get(), EarClaims(SnpEvidence())),
           "k1"),
       false,
       {"token_invalid:untrusted_key"}});

  // S3: token checks, each against the S1 baseline.
  json alg_none_header = JagHeader();
  alg_none_header["alg"] = "none";
  cases.push_back(
      {"s3-d-alg-none",
       "The grant claims alg none and has an empty signature: it is "
       "rejected.",
       SalesReadRequest(
           {TokenEntry(
                "id-jag",
                SigningInput(alg_none_header, JagClaims("jag-s3-d")) + "."),
            TokenEntry("attestation", ear(tdx_ear))},
           kAgent),
       false,
       {"token_invalid:alg"}});

  json audience = JagClaims("jag-s3-n");
  audience["aud"] = "https://as.sales.example";
  cases.push_back({"s3-n-audience-without-slash",
                   "The grant's audience lacks the trailing slash of the "
                   "configured one; audiences match exactly, so it is "
                   "rejected.",
                   sales_read(audience, tdx_ear),
                   false,
                   {"token_invalid:aud"}});

  // S4: in a delegation chain only the current actor counts.
  cases.push_back({"s4-a-baseline",
                   "The approved agent writes a CRM record for a sales user "
                   "as the current actor of the access token.",
                   CrmWriteRequest(access_token(AccessTokenClaims("at-s4-a"))),
                   true,
                   {"permit:agent-writes-crm"}});

  json rogue_current = AccessTokenClaims("at-s4-b");
  rogue_current["act"] = {{"sub", kRogue}, {"act", {{"sub", kAgent}}}};
  cases.push_back({"s4-b-rogue-current-actor",
                   "The unapproved agent is the current actor; the approved "
                   "agent is only a prior actor.",
                   CrmWriteRequest(access_token(rogue_current)),
                   false,
                   {"default_deny"}});

  json rogue_prior = AccessTokenClaims("at-s4-c");
  rogue_prior["act"] = {{"sub", kAgent}, {"act", {{"sub", kRogue}}}};
  cases.push_back({"s4-c-rogue-prior-actor",
                   "The approved agent is the current actor; the unapproved "
                   "agent acted earlier in the chain.",
                   CrmWriteRequest(access_token(rogue_prior)),
                   true,
                   {"permit:agent-writes-crm"}});

  json direct = AccessTokenClaims("at-s4-d");
  direct.erase("act");
  cases.push_back({"s4-d-direct-user",
                   "A sales user writes directly: the access token has no "
                   "act claim.",
                   CrmWriteRequest(access_token(direct)),
                   true,
                   {"permit:user-writes-crm"}});
  return cases;
}

void WriteCase(const std::filesystem::path& dir, const Case& example_case) {
  const ordered_json file = {
      {"description", example_case.description},
      {"now", kNow},
      {"request", example_case.request},
      {"expected",
       {{"decision", example_case.permit}, {"reasons", example_case.reasons}}}};
  WriteFile((dir / (example_case.name + ".json")).string(),
            file.dump(2) + "\n");
}

int Run(const std::filesystem::path& example_dir) {
  const std::filesystem::path policies = example_dir / "policies";
  if (!std::filesystem::is_regular_file(policies / "trust.json")) {
    std::cerr << "make_example_tokens: " << (policies / "trust.json").string()
              << " not found; pass the examples/agent-tokens directory\n";
    return 2;
  }
  const Keys keys = MakeKeys();

  // The IdP's JWK Set has no "alg": trust.json binds idp-1 to ES256, as it
  // must for IdPs that publish keys without one. The AS key sets "alg".
  WriteFile(
      (policies / "keys" / "idp.jwks.json").string(),
      json{{"keys", {PublicJwk(keys.idp.get(), "idp-1", "")}}}.dump(2) + "\n");
  WriteFile(
      (policies / "keys" / "as.jwks.json").string(),
      json{{"keys", {PublicJwk(keys.sales_as.get(), "as-1", "RS256")}}}.dump(
          2) +
          "\n");
  WriteFile((policies / "certs" / "trustee-root.pem").string(),
            CertificatePem(keys.trustee_root.get()));

  const std::vector<Case> cases = MakeCases(keys);
  for (const Case& example_case : cases) {
    WriteCase(example_dir / "cases", example_case);
  }
  std::cout << "wrote 2 JWK Sets, 1 root certificate and " << cases.size()
            << " cases under " << example_dir.string() << "\n";
  return 0;
}

}  // namespace
}  // namespace verdict::tokens::example

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_example_tokens EXAMPLE_DIR\n"
                 "Writes new keys, trust material and case files into "
                 "EXAMPLE_DIR (examples/agent-tokens).\n";
    return 2;
  }
  try {
    return verdict::tokens::example::Run(argv[1]);
  } catch (const std::exception& error) {
    // token_test_util reports OpenSSL and file errors as exceptions.
    std::cerr << "make_example_tokens: " << error.what() << "\n";
    return 1;
  }
}
