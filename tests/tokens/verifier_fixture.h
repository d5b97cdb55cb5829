// A test fixture holding the acceptance-scenario issuers (IdP, AS, Trustee)
// with keys generated once per test program, a trust file written to a
// temporary directory, and baseline tokens JAG0, AT0 and EAR_TDX0.
#ifndef VERDICT_TESTS_TOKENS_VERIFIER_FIXTURE_H_
#define VERDICT_TESTS_TOKENS_VERIFIER_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tokens/token_test_util.h"
#include "tokens/verifier.h"

namespace verdict::tokens::testing {

inline constexpr char kIdp[] = "https://idp.acme.example";
inline constexpr char kRas[] = "https://as.sales.example/";
inline constexpr char kAs[] = "https://as.sales.example/";
inline constexpr char kRs[] = "https://api.sales.example/";
inline constexpr char kAgent[] = "https://agent.example.com/app";
inline constexpr char kRogue[] = "https://rogue.example/app";
inline constexpr char kTrustee[] = "https://trustee.acme.example";

// EAR claims as Trustee issues them for the acceptance scenarios: issued by
// kTrustee at kNow - 30 for 300 s, affirming, with `evidence` as the
// annotated evidence of submodule cpu0 (EAR draft spelling).
nlohmann::json TrusteeEarClaims(const nlohmann::json& evidence);

// Keys and certificates shared by every test of a program.
struct TestKeys {
  PublicKey idp;       // P-256, kid idp-1, ES256 (bound in the trust file).
  PublicKey idp_p384;  // P-384, kid idp-384, ES384 (bound in the JWK).
  PublicKey idp_ed;    // Ed25519, kid idp-ed, EdDSA.
  PublicKey as_rsa;    // RSA 2048, kid as-1, RS256.
  PublicKey as_pss;    // RSA 2048, kid as-pss, PS256.
  PublicKey attacker;  // P-256, in no trust file.
  PublicKey trustee_root_key;
  PublicKey other_root_key;
  PublicKey trustee_leaf_key;
  Certificate trustee_root;
  Certificate other_root;
  Certificate trustee_leaf;  // Issued by trustee_root.
  Certificate rogue_leaf;    // Same key as trustee_leaf, issued by other_root.
};

class VerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite() { delete keys_; }

  // Writes the trust file with the given replay mode for the IdP and
  // returns a verifier whose clock reads `now_`.
  std::unique_ptr<TokenVerifier> MakeVerifier(
      const std::string& idp_replay = "same-client");

  // Returns the trust file as JSON. `dir` receives the files it names.
  nlohmann::json TrustFile(const std::string& dir,
                           const std::string& idp_replay);

  static nlohmann::json Jag0Header();
  static nlohmann::json Jag0Claims();
  static nlohmann::json At0Header();
  static nlohmann::json At0Claims();
  nlohmann::json EarHeader(X509* leaf) const;
  static nlohmann::json EarTdx0Claims();

  std::string SignJag(const nlohmann::json& header,
                      const nlohmann::json& claims) const {
    return MakeToken(header, claims, keys_->idp.get());
  }

  // Verifies with the baseline context (the agent is authenticated).
  VerifyResult VerifyAs(TokenKind kind, const std::string& token);
  // Expects rejection with `check` and returns the detail.
  void ExpectRejected(TokenKind kind, const std::string& token,
                      const std::string& check);

  static TestKeys* keys_;
  int64_t now_ = kNow;
  PresentationContext context_{kAgent, std::nullopt, std::nullopt};
  std::unique_ptr<TokenVerifier> verifier_;
};

}  // namespace verdict::tokens::testing

#endif  // VERDICT_TESTS_TOKENS_VERIFIER_FIXTURE_H_
