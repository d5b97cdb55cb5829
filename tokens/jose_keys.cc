#include "tokens/jose_keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "tokens/base64url.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const { Free(pointer); }
};
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuildPtr =
    std::unique_ptr<OSSL_PARAM_BLD,
                    Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr =
    std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr =
    std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSigPtr =
    std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

constexpr int kMinRsaBits = 2048;

// Returns the text of OpenSSL's oldest queued error and clears the queue.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error queued";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

// Returns the decoded value of a required base64url string member.
absl::StatusOr<std::string> RequiredBytes(const json& jwk,
                                          std::string_view member,
                                          std::string_view label) {
  auto it = jwk.find(member);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": member \"", ToAbsl(member),
                     "\" is missing or not a string"));
  }
  std::optional<std::string> bytes =
      DecodeBase64Url(it->get_ref<const std::string&>());
  if (!bytes.has_value() || bytes->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": member \"", ToAbsl(member),
                     "\" is not canonical unpadded base64url"));
  }
  return *std::move(bytes);
}

// Builds a public EVP_PKEY of `type` from OSSL parameters.
absl::StatusOr<PublicKey> KeyFromParams(const char* type, OSSL_PARAM* params,
                                        std::string_view label) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": OpenSSL rejected the ", type,
                     " key: ", TakeOpenSslError()));
  }
  PublicKey owned(key, EvpPkeyDeleter());
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": the ", type,
                     " public key is invalid (for EC keys, the "
                     "point is not on the curve): ",
                     TakeOpenSslError()));
  }
  return owned;
}

absl::StatusOr<PublicKey> ParseRsaJwk(const json& jwk, std::string_view label) {
  absl::StatusOr<std::string> n = RequiredBytes(jwk, "n", label);
  if (!n.ok()) return n.status();
  absl::StatusOr<std::string> e = RequiredBytes(jwk, "e", label);
  if (!e.ok()) return e.status();
  BignumPtr modulus(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                              static_cast<int>(n->size()), nullptr));
  BignumPtr exponent(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                static_cast<int>(e->size()), nullptr));
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (modulus == nullptr || exponent == nullptr || build == nullptr ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N,
                             modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E,
                             exponent.get()) != 1) {
    return absl::InternalError(
        absl::StrCat(ToAbsl(label), ": out of memory building an RSA key"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  return KeyFromParams("RSA", params.get(), label);
}

absl::StatusOr<PublicKey> ParseEcJwk(const json& jwk, const char* group,
                                     size_t coordinate_bytes,
                                     std::string_view label) {
  absl::StatusOr<std::string> x = RequiredBytes(jwk, "x", label);
  if (!x.ok()) return x.status();
  absl::StatusOr<std::string> y = RequiredBytes(jwk, "y", label);
  if (!y.ok()) return y.status();
  // RFC 7518 §6.2.1.2: each coordinate is the full-length big-endian octet
  // string, so a shorter or longer value is malformed rather than padded.
  if (x->size() != coordinate_bytes || y->size() != coordinate_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": EC coordinates must be ", coordinate_bytes,
        " bytes each, got x=", x->size(), " y=", y->size()));
  }
  const std::string point = absl::StrCat("\x04", *x, *y);
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (build == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) != 1) {
    return absl::InternalError(
        absl::StrCat(ToAbsl(label), ": out of memory building an EC key"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  return KeyFromParams("EC", params.get(), label);
}

absl::StatusOr<PublicKey> ParseOkpJwk(const json& jwk, std::string_view label) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "Ed25519") {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": OKP keys must have \"crv\":\"Ed25519\""));
  }
  absl::StatusOr<std::string> x = RequiredBytes(jwk, "x", label);
  if (!x.ok()) return x.status();
  if (x->size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": an Ed25519 \"x\" must be 32 bytes, got ", x->size()));
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label),
        ": OpenSSL rejected the Ed25519 key: ", TakeOpenSslError()));
  }
  return PublicKey(key, EvpPkeyDeleter());
}

// Returns the OpenSSL group name of an EC key, or "" for other keys.
std::string EcGroupName(EVP_PKEY* key) {
  char name[64] = {0};
  size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name,
                                     sizeof(name), &length) != 1) {
    return "";
  }
  return std::string(name, length);
}

// Converts a JOSE r||s ECDSA signature to the DER form OpenSSL verifies.
absl::StatusOr<std::string> JoseToDerSignature(std::string_view signature,
                                               size_t expected_size) {
  if (signature.size() != expected_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("ECDSA signature must be ", expected_size,
                     " bytes (r||s), got ", signature.size()));
  }
  const size_t half = expected_size / 2;
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  BignumPtr r(BN_bin2bn(bytes, static_cast<int>(half), nullptr));
  BignumPtr s(BN_bin2bn(bytes + half, static_cast<int>(half), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return absl::InternalError("out of memory converting an ECDSA signature");
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  r.release();
  s.release();
  unsigned char* der = nullptr;
  const int der_length = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_length <= 0) {
    return absl::InternalError("failed to DER-encode an ECDSA signature");
  }
  std::string out(reinterpret_cast<char*>(der), der_length);
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name) {
  if (name == "RS256") return JwsAlgorithm::kRs256;
  if (name == "PS256") return JwsAlgorithm::kPs256;
  if (name == "ES256") return JwsAlgorithm::kEs256;
  if (name == "ES384") return JwsAlgorithm::kEs384;
  if (name == "EdDSA") return JwsAlgorithm::kEdDsa;
  return std::nullopt;
}

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRs256:
      return "RS256";
    case JwsAlgorithm::kPs256:
      return "PS256";
    case JwsAlgorithm::kEs256:
      return "ES256";
    case JwsAlgorithm::kEs384:
      return "ES384";
    case JwsAlgorithm::kEdDsa:
      return "EdDSA";
  }
  return "unknown";
}

absl::Status CheckKeyFitsAlgorithm(EVP_PKEY* key, JwsAlgorithm algorithm) {
  const int type = EVP_PKEY_get_base_id(key);
  switch (algorithm) {
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kPs256:
      if (type != EVP_PKEY_RSA) break;
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA key has ", EVP_PKEY_get_bits(key),
                         " bits; at least ", kMinRsaBits, " are required"));
      }
      return absl::OkStatus();
    case JwsAlgorithm::kEs256:
      if (type == EVP_PKEY_EC && EcGroupName(key) == "prime256v1") {
        return absl::OkStatus();
      }
      break;
    case JwsAlgorithm::kEs384:
      if (type == EVP_PKEY_EC && EcGroupName(key) == "secp384r1") {
        return absl::OkStatus();
      }
      break;
    case JwsAlgorithm::kEdDsa:
      if (type == EVP_PKEY_ED25519) return absl::OkStatus();
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the key type does not fit algorithm ",
                   ToAbsl(JwsAlgorithmName(algorithm))));
}

absl::StatusOr<VerificationKey> ParseJwk(
    const json& jwk, std::optional<JwsAlgorithm> configured_algorithm,
    std::string_view label) {
  if (!jwk.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": a JWK must be a JSON object"));
  }
  // Members that only private or symmetric keys carry (RFC 7518 §6.3.2, §6.2.2
  // and §6.4.1): a trust file holding them leaks a secret.
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(member)) {
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(label), ": contains private or symmetric member \"",
          ToAbsl(member), "\"; publish only public keys"));
    }
  }
  if (auto use = jwk.find("use"); use != jwk.end() && *use != "sig") {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": \"use\" must be \"sig\" for a verification key"));
  }
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array() ||
        std::find(ops->begin(), ops->end(), json("verify")) == ops->end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(label), ": \"key_ops\" does not include \"verify\""));
    }
  }

  VerificationKey result;
  if (auto kid = jwk.find("kid"); kid != jwk.end()) {
    if (!kid->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(label), ": \"kid\" must be a string"));
    }
    result.kid = kid->get<std::string>();
  }

  std::optional<JwsAlgorithm> jwk_algorithm;
  if (auto alg = jwk.find("alg"); alg != jwk.end()) {
    if (alg->is_string())
      jwk_algorithm = ParseJwsAlgorithm(alg->get<std::string>());
    if (!jwk_algorithm.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(label), ": \"alg\" ", alg->dump(),
                       " is not one of RS256, PS256, ES256, ES384, EdDSA"));
    }
  }
  if (jwk_algorithm.has_value() && configured_algorithm.has_value() &&
      *jwk_algorithm != *configured_algorithm) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": the JWK says \"alg\":\"",
        ToAbsl(JwsAlgorithmName(*jwk_algorithm)),
        "\" but the trust file binds it to ",
        ToAbsl(JwsAlgorithmName(*configured_algorithm)), "; make them agree"));
  }
  if (!jwk_algorithm.has_value() && !configured_algorithm.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label),
        ": no algorithm is bound to this key; set \"alg\" in the JWK "
        "or list its kid under \"key_algorithms\" in the trust file"));
  }
  result.algorithm = jwk_algorithm.value_or(*configured_algorithm);

  auto kty = jwk.find("kty");
  absl::StatusOr<PublicKey> key;
  if (kty == jwk.end() || !kty->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": \"kty\" is missing or not a string"));
  } else if (*kty == "RSA") {
    key = ParseRsaJwk(jwk, label);
  } else if (*kty == "EC") {
    auto crv = jwk.find("crv");
    if (crv != jwk.end() && *crv == "P-256") {
      key = ParseEcJwk(jwk, "prime256v1", 32, label);
    } else if (crv != jwk.end() && *crv == "P-384") {
      key = ParseEcJwk(jwk, "secp384r1", 48, label);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(label), ": EC \"crv\" must be \"P-256\" or \"P-384\""));
    }
  } else if (*kty == "OKP") {
    key = ParseOkpJwk(jwk, label);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(label), ": \"kty\" ", kty->dump(), " is not RSA, EC or OKP"));
  }
  if (!key.ok()) return key.status();
  if (absl::Status fits = CheckKeyFitsAlgorithm(key->get(), result.algorithm);
      !fits.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(label), ": ", fits.message()));
  }
  result.key = *std::move(key);
  return result;
}

absl::StatusOr<std::vector<VerificationKey>> ParseJwks(
    const json& jwks,
    const std::map<std::string, JwsAlgorithm>& configured_algorithms,
    std::string_view source) {
  auto keys = jwks.is_object() ? jwks.find("keys") : jwks.end();
  if (keys == jwks.end() || !keys->is_array() || keys->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(source), ": a JWK Set needs a non-empty \"keys\" array"));
  }
  std::vector<VerificationKey> result;
  std::set<std::string> kids;
  std::set<JwsAlgorithm> algorithms_without_kid;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& jwk = (*keys)[i];
    std::optional<JwsAlgorithm> configured;
    if (jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string()) {
      auto it = configured_algorithms.find(jwk["kid"].get<std::string>());
      if (it != configured_algorithms.end()) configured = it->second;
    }
    absl::StatusOr<VerificationKey> key = ParseJwk(
        jwk, configured, absl::StrCat(ToAbsl(source), ": keys[", i, "]"));
    if (!key.ok()) return key.status();
    if (key->kid.empty()) {
      if (!algorithms_without_kid.insert(key->algorithm).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            ToAbsl(source), ": keys[", i,
            "] is a second key without \"kid\" for ",
            ToAbsl(JwsAlgorithmName(key->algorithm)), "; give the keys kids"));
      }
    } else if (!kids.insert(key->kid).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          ToAbsl(source), ": kid \"", key->kid, "\" appears twice"));
    }
    result.push_back(*std::move(key));
  }
  for (const auto& [kid, algorithm] : configured_algorithms) {
    if (!kids.contains(kid)) {
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(source), ": \"key_algorithms\" names kid \"", kid,
                       "\", which is not in this JWK Set"));
    }
  }
  return result;
}

absl::Status VerifyJwsSignature(EVP_PKEY* key, JwsAlgorithm algorithm,
                                std::string_view signing_input,
                                std::string_view signature) {
  if (absl::Status fits = CheckKeyFitsAlgorithm(key, algorithm); !fits.ok()) {
    return fits;
  }
  std::string der;
  std::string_view to_verify = signature;
  const EVP_MD* digest = nullptr;
  switch (algorithm) {
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kPs256:
      digest = EVP_sha256();
      break;
    case JwsAlgorithm::kEs256:
    case JwsAlgorithm::kEs384: {
      const bool p256 = algorithm == JwsAlgorithm::kEs256;
      digest = p256 ? EVP_sha256() : EVP_sha384();
      absl::StatusOr<std::string> converted =
          JoseToDerSignature(signature, p256 ? 64 : 96);
      if (!converted.ok()) return converted.status();
      der = *std::move(converted);
      to_verify = der;
      break;
    }
    case JwsAlgorithm::kEdDsa:
      // Ed25519 signs the message itself, so no digest is configured.
      break;
  }

  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, digest, nullptr, key) != 1) {
    return absl::InternalError(
        absl::StrCat("EVP_DigestVerifyInit failed: ", TakeOpenSslError()));
  }
  if (algorithm == JwsAlgorithm::kPs256 &&
      (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, EVP_sha256()) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) !=
           1)) {
    return absl::InternalError(
        absl::StrCat("configuring RSA-PSS failed: ", TakeOpenSslError()));
  }
  const int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(to_verify.data()),
      to_verify.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()),
      signing_input.size());
  ERR_clear_error();
  if (verified != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", ToAbsl(JwsAlgorithmName(algorithm)),
                     " signature does not verify"));
  }
  return absl::OkStatus();
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

}  // namespace verdict::tokens
