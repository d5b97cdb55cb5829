#include "tests/tokens/token_test_util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"
#include "tokens/base64url.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;

void Require(bool condition, const char* what) {
  if (!condition) throw std::runtime_error(what);
}

std::string BignumBytes(const BIGNUM* number, int width) {
  std::vector<unsigned char> bytes(width > 0 ? width : BN_num_bytes(number));
  if (width > 0) {
    Require(BN_bn2binpad(number, bytes.data(), width) == width, "BN_bn2binpad");
  } else {
    BN_bn2bin(number, bytes.data());
  }
  return std::string(bytes.begin(), bytes.end());
}

std::string GetBignumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* number = nullptr;
  Require(EVP_PKEY_get_bn_param(key, name, &number) == 1, name);
  std::string bytes = BignumBytes(number, 0);
  BN_free(number);
  return bytes;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr,
                 nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Require(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

}  // namespace

PublicKey GenerateKey(const std::string& type) {
  EVP_PKEY* key = nullptr;
  if (type == "RSA") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  } else if (type == "P-256") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else if (type == "P-384") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  } else if (type == "Ed25519") {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  Require(key != nullptr, "key generation failed");
  return PublicKey(key, EvpPkeyDeleter());
}

json PublicJwk(EVP_PKEY* key, const std::string& kid, const std::string& alg) {
  json jwk;
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    jwk["kty"] = "RSA";
    jwk["n"] = EncodeBase64Url(GetBignumParam(key, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = EncodeBase64Url(GetBignumParam(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (type == EVP_PKEY_EC) {
    const bool p256 = EVP_PKEY_get_bits(key) == 256;
    const int width = p256 ? 32 : 48;
    jwk["kty"] = "EC";
    jwk["crv"] = p256 ? "P-256" : "P-384";
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    Require(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
                EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1,
            "EC coordinates");
    jwk["x"] = EncodeBase64Url(BignumBytes(x, width));
    jwk["y"] = EncodeBase64Url(BignumBytes(y, width));
    BN_free(x);
    BN_free(y);
  } else {
    unsigned char raw[32];
    size_t length = sizeof(raw);
    Require(EVP_PKEY_get_raw_public_key(key, raw, &length) == 1, "Ed25519");
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] =
        EncodeBase64Url(std::string(reinterpret_cast<char*>(raw), length));
  }
  if (!kid.empty()) jwk["kid"] = kid;
  if (!alg.empty()) jwk["alg"] = alg;
  return jwk;
}

std::string SignJws(EVP_PKEY* key, const std::string& alg,
                    const std::string& signing_input) {
  const EVP_MD* digest = nullptr;
  if (alg == "RS256" || alg == "PS256" || alg == "ES256") digest = EVP_sha256();
  if (alg == "ES384") digest = EVP_sha384();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  Require(EVP_DigestSignInit(ctx, &pkey_ctx, digest, nullptr, key) == 1,
          "EVP_DigestSignInit");
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t length = 0;
  const auto* input =
      reinterpret_cast<const unsigned char*>(signing_input.data());
  Require(
      EVP_DigestSign(ctx, nullptr, &length, input, signing_input.size()) == 1,
      "EVP_DigestSign size");
  std::vector<unsigned char> signature(length);
  Require(EVP_DigestSign(ctx, signature.data(), &length, input,
                         signing_input.size()) == 1,
          "EVP_DigestSign");
  EVP_MD_CTX_free(ctx);
  std::string out(signature.begin(), signature.begin() + length);
  if (alg != "ES256" && alg != "ES384") return out;

  // OpenSSL produces DER; JWS wants r||s, each left-padded to the curve size.
  const int width = alg == "ES256" ? 32 : 48;
  const auto* der = reinterpret_cast<const unsigned char*>(out.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(out.size()));
  Require(sig != nullptr, "d2i_ECDSA_SIG");
  std::string raw = BignumBytes(ECDSA_SIG_get0_r(sig), width) +
                    BignumBytes(ECDSA_SIG_get0_s(sig), width);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string SigningInput(const json& header, const json& claims) {
  return EncodeBase64Url(header.dump()) + "." + EncodeBase64Url(claims.dump());
}

std::string MakeToken(const json& header, const json& claims, EVP_PKEY* key) {
  const std::string input = SigningInput(header, claims);
  return Assemble(input, SignJws(key, header["alg"].get<std::string>(), input));
}

std::string Assemble(const std::string& signing_input,
                     const std::string& signature) {
  return signing_input + "." + EncodeBase64Url(signature);
}

Certificate IssueCertificate(EVP_PKEY* subject_key,
                             const std::string& common_name,
                             EVP_PKEY* issuer_key, X509* issuer, bool is_ca,
                             int64_t not_before, int64_t not_after) {
  static std::atomic<long> serial{1};
  Certificate cert(X509_new(), X509Deleter());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(not_after));
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(
      cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    AddExtension(cert.get(), issuer, NID_authority_key_identifier,
                 "keyid:always");
  }
  AddExtension(cert.get(), issuer, NID_basic_constraints,
               is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExtension(
      cert.get(), issuer, NID_key_usage,
      is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  const bool eddsa = EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_ED25519;
  Require(X509_sign(cert.get(), issuer_key, eddsa ? nullptr : EVP_sha256()) > 0,
          "X509_sign");
  return cert;
}

std::string CertificateBase64(X509* cert) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  Require(length > 0, "i2d_X509");
  std::string bytes(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  EVP_EncodeBlock(out.data(),
                  reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<char*>(out.data()));
}

std::string CertificatePem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, length);
  BIO_free(bio);
  return pem;
}

std::string MakeTempDir(const std::string& name) {
  // mkdtemp picks a name no other directory has. A name built from the
  // process id alone could be reused, with its files, by a later test
  // process that gets the same id.
  std::string dir = (std::filesystem::path(::testing::TempDir()) /
                     ("verdict_tokens_" + name + "_XXXXXX"))
                        .string();
  Require(mkdtemp(dir.data()) != nullptr, "mkdtemp");
  return dir;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  Require(static_cast<bool>(out), "write failed");
}

}  // namespace verdict::tokens::testing
