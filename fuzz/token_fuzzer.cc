// Verifies the input as a token of every kind, two ways:
//
//  - Input starting with 'R': the rest is taken as a compact JWS as it is,
//    which exercises the JWS parser, base64url and JSON decoding, and every
//    check before the signature.
//  - Any other input: the part before the first newline is the protected
//    header and the rest the claims, both JSON. The fuzzer signs them with
//    the issuers' ES256 key, so tokens pass the signature check and reach
//    the claim rules and MapClaims.
//
// The trust file, written at start-up, trusts that key (kid "k1") for an
// ID-JAG issuer, an access token issuer and an attestation issuer, with a
// small one-time replay cache for the access tokens. The clock is fixed.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "tokens/base64url.h"
#include "tokens/claim_attributes.h"
#include "tokens/trust_config.h"
#include "tokens/verifier.h"

namespace {

namespace fs = std::filesystem;
using verdict::tokens::EncodeBase64Url;
using verdict::tokens::PresentationContext;
using verdict::tokens::TokenKind;
using verdict::tokens::TokenVerifier;

constexpr int64_t kNow = 1767225600;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "token_fuzzer: %s failed\n", what);
  std::abort();
}

std::string Coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &number) != 1) Die(name);
  std::string bytes(32, '\0');
  const int written = BN_bn2binpad(
      number, reinterpret_cast<unsigned char*>(bytes.data()), 32);
  BN_free(number);
  if (written != 32) Die("BN_bn2binpad");
  return EncodeBase64Url(bytes);
}

// Returns the ES256 signature of `input` in JOSE form (r||s).
std::string Sign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t length = 0;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx, nullptr, &length,
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  std::string der(length, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_DigestSign(ctx, out, &length,
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  EVP_MD_CTX_free(ctx);
  const unsigned char* cursor = out;
  ECDSA_SIG* signature =
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(length));
  if (signature == nullptr) Die("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(signature), bytes, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(signature), bytes + 32, 32) != 32) {
    Die("BN_bn2binpad");
  }
  ECDSA_SIG_free(signature);
  return raw;
}

struct State {
  EVP_PKEY* key = nullptr;
  std::unique_ptr<TokenVerifier> verifier;
};

State& Setup() {
  static State* state = [] {
    auto* out = new State;
    out->key = EVP_EC_gen("P-256");
    if (out->key == nullptr) Die("EVP_EC_gen");
    const fs::path dir = fs::temp_directory_path() /
                         ("verdict_token_fuzzer_" + std::to_string(getpid()));
    fs::create_directories(dir);
    const nlohmann::json jwk = {
        {"kty", "EC"},
        {"crv", "P-256"},
        {"kid", "k1"},
        {"alg", "ES256"},
        {"x", Coordinate(out->key, OSSL_PKEY_PARAM_EC_PUB_X)},
        {"y", Coordinate(out->key, OSSL_PKEY_PARAM_EC_PUB_Y)}};
    std::ofstream(dir / "keys.json") << nlohmann::json{{"keys", {jwk}}}.dump();
    const nlohmann::json trust = {
        {"verified_cache_capacity", 0},
        {"replay_cache_capacity", 64},
        {"issuers",
         {{{"kind", "id-jag"},
           {"issuer", "https://idp.example"},
           {"jwks", "keys.json"},
           {"audiences", {"https://as.example/"}},
           {"replay", "same-client"}},
          {{"kind", "access_token"},
           {"issuer", "https://as.example/"},
           {"jwks", "keys.json"},
           {"audiences", {"https://api.example/"}},
           {"replay", "one-time"}},
          {{"kind", "attestation"},
           {"issuer", "https://trustee.example"},
           {"jwks", "keys.json"}}}}};
    std::ofstream(dir / "trust.json") << trust.dump();
    absl::StatusOr<verdict::tokens::TrustConfig> config =
        verdict::tokens::LoadTrustConfig((dir / "trust.json").string());
    if (!config.ok()) Die("LoadTrustConfig");
    out->verifier = std::make_unique<TokenVerifier>(
        *std::move(config), [] { return kNow; });
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return out;
  }();
  return *state;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  State& state = Setup();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string token;
  if (!input.empty() && input.front() == 'R') {
    token.assign(input.substr(1));
  } else {
    const size_t newline = input.find('\n');
    const std::string_view header = input.substr(0, newline);
    const std::string_view claims =
        newline == std::string_view::npos ? std::string_view()
                                          : input.substr(newline + 1);
    token = EncodeBase64Url(header) + "." + EncodeBase64Url(claims);
    token += "." + EncodeBase64Url(Sign(state.key, token));
  }
  (void)verdict::tokens::DetectKind(token);
  const PresentationContext context{"https://agent.example/app", "jkt-1",
                                    "n-1"};
  for (TokenKind kind : {TokenKind::kIdJag, TokenKind::kAccessToken,
                         TokenKind::kAttestation}) {
    verdict::tokens::VerifyResult result =
        state.verifier->Verify(kind, token, context, kNow);
    if (result.ok() && result.token->kind != kind) std::abort();
  }
  return 0;
}
