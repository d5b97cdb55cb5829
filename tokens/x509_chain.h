// Validation of JWS `x5c` certificate chains against configured roots.
#ifndef VERDICT_TOKENS_X509_CHAIN_H_
#define VERDICT_TOKENS_X509_CHAIN_H_

#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tokens/jose_keys.h"

namespace verdict::tokens {

// Trusted root certificates, such as the certificate that signs a Trustee
// attestation service's token signing certificate. Immutable after loading;
// thread-safe (OpenSSL locks the X509_STORE internally).
class CertificateRoots {
 public:
  // Loads every certificate of a PEM file. Fails when the file cannot be
  // read or contains no certificate. The error names `path`.
  static absl::StatusOr<std::shared_ptr<const CertificateRoots>> LoadPemFile(
      const std::string& path);

  // Verifies an `x5c` header value (RFC 7515 §4.1.6: an array of standard
  // base64 DER certificates, leaf first, at most kMaxChainLength) with
  // OpenSSL's X509 verification, at time `now` (Unix seconds), to one of
  // these roots. Returns the leaf's public key, the only key a chain
  // vouches for, and stores the leaf's notAfter (Unix seconds) in
  // `*leaf_not_after`.
  absl::StatusOr<PublicKey> VerifyChain(const nlohmann::json& x5c, int64_t now,
                                        int64_t* leaf_not_after) const;

  static constexpr size_t kMaxChainLength = 8;

 private:
  struct StoreDeleter {
    void operator()(X509_STORE* store) const { X509_STORE_free(store); }
  };
  explicit CertificateRoots(X509_STORE* store) : store_(store) {}

  std::unique_ptr<X509_STORE, StoreDeleter> store_;
};

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_X509_CHAIN_H_
