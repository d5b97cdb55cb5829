#include "tokens/x509_chain.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tokens/base64url.h"

namespace verdict::tokens {
namespace {

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct StackDeleter {
  // The stack only borrows certificates owned by X509Ptr values.
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};

struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};

absl::StatusOr<X509Ptr> DecodeCertificate(const nlohmann::json& entry,
                                          size_t index) {
  if (!entry.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("x5c[", index, "] is not a string"));
  }
  std::optional<std::string> der =
      DecodeBase64Standard(entry.get_ref<const std::string&>());
  if (!der.has_value() || der->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("x5c[", index, "] is not padded standard base64"));
  }
  const auto* cursor = reinterpret_cast<const unsigned char*>(der->data());
  X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(der->size())));
  if (cert == nullptr ||
      cursor !=
          reinterpret_cast<const unsigned char*>(der->data()) + der->size()) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("x5c[", index, "] is not one DER certificate"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CertificateRoots>>
CertificateRoots::LoadPemFile(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"),
                                                &BIO_free);
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open the root certificate file"));
  }
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return absl::InternalError("X509_STORE_new failed");
  std::shared_ptr<const CertificateRoots> roots(new CertificateRoots(store));
  int count = 0;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": certificate ", count + 1,
                       " could not be added to the trust store"));
    }
    ++count;
  }
  // Reading stops with a "no start line" error at the end of the file.
  ERR_clear_error();
  if (count == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no PEM certificate (-----BEGIN CERTIFICATE-----) found"));
  }
  return roots;
}

absl::StatusOr<PublicKey> CertificateRoots::VerifyChain(
    const nlohmann::json& x5c, int64_t now, int64_t* leaf_not_after) const {
  if (!x5c.is_array() || x5c.empty() || x5c.size() > kMaxChainLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "x5c must be an array of 1 to ", kMaxChainLength, " certificates"));
  }
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < x5c.size(); ++i) {
    absl::StatusOr<X509Ptr> cert = DecodeCertificate(x5c[i], i);
    if (!cert.ok()) return cert.status();
    certs.push_back(*std::move(cert));
  }
  std::unique_ptr<STACK_OF(X509), StackDeleter> intermediates(
      sk_X509_new_null());
  for (size_t i = 1; i < certs.size(); ++i) {
    sk_X509_push(intermediates.get(), certs[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (ctx == nullptr || intermediates == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store_.get(), certs[0].get(),
                          intermediates.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("X509_STORE_CTX_init failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::PermissionDeniedError(
        absl::StrCat("x5c does not chain to a configured root: ",
                     X509_verify_cert_error_string(error)));
  }
  struct tm not_after = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certs[0].get()), &not_after) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("x5c leaf has an unreadable notAfter");
  }
  *leaf_not_after = static_cast<int64_t>(timegm(&not_after));
  EVP_PKEY* leaf_key = X509_get_pubkey(certs[0].get());
  if (leaf_key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("x5c leaf has no usable public key");
  }
  return PublicKey(leaf_key, EvpPkeyDeleter());
}

}  // namespace verdict::tokens
