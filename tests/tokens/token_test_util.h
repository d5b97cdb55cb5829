// Test-time keys, certificates, signed tokens and trust files for the token
// verification tests. Everything is generated with OpenSSL when a test runs.
#ifndef VERDICT_TESTS_TOKENS_TOKEN_TEST_UTIL_H_
#define VERDICT_TESTS_TOKENS_TOKEN_TEST_UTIL_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "tokens/jose_keys.h"

namespace verdict::tokens::testing {

// The fixture clock of the acceptance scenarios: 2026-01-01T00:00:00Z.
inline constexpr int64_t kNow = 1767225600;

// Generates a key: "RSA" (2048 bits), "P-256", "P-384" or "Ed25519".
PublicKey GenerateKey(const std::string& type);

// Returns the public JWK of `key`, with "kid" and "alg" when non-empty.
nlohmann::json PublicJwk(EVP_PKEY* key, const std::string& kid,
                         const std::string& alg);

// Signs `signing_input` the way JWS algorithm `alg` (RS256, PS256, ES256,
// ES384, EdDSA) does; ECDSA signatures are returned in JOSE r||s form.
std::string SignJws(EVP_PKEY* key, const std::string& alg,
                    const std::string& signing_input);

// Returns BASE64URL(header) '.' BASE64URL(claims) with the JSON as dumped.
std::string SigningInput(const nlohmann::json& header,
                         const nlohmann::json& claims);

// Builds a compact JWS signed with `key` under `header["alg"]`.
std::string MakeToken(const nlohmann::json& header,
                      const nlohmann::json& claims, EVP_PKEY* key);

// Builds a compact JWS from already encoded segments and a raw signature.
std::string Assemble(const std::string& signing_input,
                     const std::string& signature);

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Certificate = std::shared_ptr<X509>;

// Issues a certificate for `subject_key` named `common_name`, signed by
// `issuer_key` as `issuer` (self-signed when `issuer` is null), valid from
// `not_before` to `not_after` (Unix seconds). CA certificates get
// basicConstraints CA:TRUE and keyCertSign.
Certificate IssueCertificate(EVP_PKEY* subject_key,
                             const std::string& common_name,
                             EVP_PKEY* issuer_key, X509* issuer, bool is_ca,
                             int64_t not_before, int64_t not_after);

// Returns the certificate as standard base64 DER, the form of an x5c entry.
std::string CertificateBase64(X509* cert);

// Returns the certificate in PEM form.
std::string CertificatePem(X509* cert);

// Creates a fresh directory under the test temporary directory.
std::string MakeTempDir(const std::string& name);

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text);

}  // namespace verdict::tokens::testing

#endif  // VERDICT_TESTS_TOKENS_TOKEN_TEST_UTIL_H_
