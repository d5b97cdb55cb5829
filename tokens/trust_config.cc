#include "tokens/trust_config.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "tokens/strict_json.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;

constexpr uintmax_t kMaxFileBytes = 1 << 20;
constexpr int kFileJsonDepth = 16;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the file: ", error.message()));
  }
  if (size > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the file has ", size, " bytes; the limit is ", kMaxFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  }
  return text.str();
}

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<json> parsed = ParseStrictJson(*text, kFileJsonDepth);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid JSON: ", parsed.status().message()));
  }
  return parsed;
}

// Reads the members of one JSON object, reporting errors as
// "<file>: <where>.<member>: <problem>".
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string file, std::string where)
      : object_(object), file_(std::move(file)), where_(std::move(where)) {}

  absl::Status Error(std::string_view member, std::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(file_), ": ", ToAbsl(where_), where_.empty() ? "" : ".",
        ToAbsl(member), ": ", ToAbsl(problem)));
  }

  // Rejects members not in `known`.
  absl::Status CheckMembers(const std::set<std::string>& known) const {
    for (const auto& [name, value] : object_.items()) {
      if (!known.contains(name)) {
        return Error(name, "unknown member; check the spelling");
      }
    }
    return absl::OkStatus();
  }

  const json* Find(std::string_view member) const {
    auto it = object_.find(member);
    return it == object_.end() ? nullptr : &*it;
  }

  absl::StatusOr<std::string> String(std::string_view member) const {
    const json* value = Find(member);
    if (value == nullptr || !value->is_string() ||
        value->get_ref<const std::string&>().empty()) {
      return Error(member, "required; set a non-empty string");
    }
    return value->get<std::string>();
  }

  // Reads an optional integer in [min, max] into `out`.
  absl::Status Integer(std::string_view member, int64_t min, int64_t max,
                       int64_t* out) const {
    const json* value = Find(member);
    if (value == nullptr) return absl::OkStatus();
    if (!value->is_number_integer() ||
        (value->is_number_unsigned() &&
         value->get<uint64_t>() >
             static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) ||
        value->get<int64_t>() < min || value->get<int64_t>() > max) {
      return Error(member, absl::StrCat("must be an integer from ", min, " to ",
                                        max, ", got ", value->dump()));
    }
    *out = value->get<int64_t>();
    return absl::OkStatus();
  }

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }

 private:
  const json& object_;
  const std::string file_;
  const std::string where_;
};

std::string ResolvePath(const std::string& config_path,
                        const std::string& relative) {
  std::filesystem::path path(relative);
  if (path.is_absolute()) return relative;
  return (std::filesystem::path(config_path).parent_path() / path).string();
}

absl::Status ReadKeys(const ObjectReader& reader, const std::string& path,
                      IssuerTrust& trust) {
  std::map<std::string, JwsAlgorithm> configured;
  if (const json* algorithms = reader.Find("key_algorithms")) {
    if (!algorithms->is_object()) {
      return reader.Error("key_algorithms",
                          "must be an object mapping kid to algorithm");
    }
    for (const auto& [kid, name] : algorithms->items()) {
      std::optional<JwsAlgorithm> algorithm;
      if (name.is_string())
        algorithm = ParseJwsAlgorithm(name.get<std::string>());
      if (!algorithm.has_value()) {
        return reader.Error(
            absl::StrCat("key_algorithms.", kid),
            absl::StrCat(name.dump(),
                         " is not one of RS256, PS256, ES256, ES384, EdDSA"));
      }
      configured.emplace(kid, *algorithm);
    }
  }
  if (reader.Find("jwks") == nullptr) {
    if (!configured.empty()) {
      return reader.Error("key_algorithms", "set \"jwks\" to use it");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> jwks_name = reader.String("jwks");
  if (!jwks_name.ok()) return jwks_name.status();
  const std::string jwks_path = ResolvePath(path, *jwks_name);
  absl::StatusOr<json> jwks = ReadJsonFile(jwks_path);
  if (!jwks.ok()) {
    return reader.Error("jwks", ToStd(jwks.status().message()));
  }
  absl::StatusOr<std::vector<VerificationKey>> keys =
      ParseJwks(*jwks, configured, jwks_path);
  if (!keys.ok()) return reader.Error("jwks", ToStd(keys.status().message()));
  trust.keys = *std::move(keys);
  return absl::OkStatus();
}

absl::Status ReadX5c(const ObjectReader& reader, const std::string& path,
                     IssuerTrust& trust) {
  if (reader.Find("x5c_root") == nullptr) {
    if (reader.Find("x5c_algorithm") != nullptr) {
      return reader.Error("x5c_algorithm", "set \"x5c_root\" to use it");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> root = reader.String("x5c_root");
  if (!root.ok()) return root.status();
  absl::StatusOr<std::shared_ptr<const CertificateRoots>> roots =
      CertificateRoots::LoadPemFile(ResolvePath(path, *root));
  if (!roots.ok())
    return reader.Error("x5c_root", ToStd(roots.status().message()));
  trust.x5c_roots = *std::move(roots);
  absl::StatusOr<std::string> algorithm_name = reader.String("x5c_algorithm");
  if (!algorithm_name.ok()) return algorithm_name.status();
  std::optional<JwsAlgorithm> algorithm = ParseJwsAlgorithm(*algorithm_name);
  if (!algorithm.has_value()) {
    return reader.Error("x5c_algorithm",
                        absl::StrCat("\"", *algorithm_name,
                                     "\" is not one of RS256, PS256, ES256, "
                                     "ES384, EdDSA"));
  }
  trust.x5c_algorithm = *algorithm;
  return absl::OkStatus();
}

absl::Status ReadAudiences(const ObjectReader& reader, IssuerTrust& trust) {
  const json* audiences = reader.Find("audiences");
  if (audiences != nullptr) {
    if (!audiences->is_array()) {
      return reader.Error("audiences", "must be an array of strings");
    }
    for (const json& audience : *audiences) {
      if (!audience.is_string() ||
          audience.get_ref<const std::string&>().empty()) {
        return reader.Error("audiences", "must contain only non-empty strings");
      }
      trust.audiences.push_back(audience.get<std::string>());
    }
  }
  // ID-JAGs and access tokens are audience-restricted (RFC 9068 §4 and the
  // ID-JAG processing rules); EAR results from Trustee carry no audience.
  if (trust.kind != TokenKind::kAttestation && trust.audiences.empty()) {
    return reader.Error(
        "audiences",
        absl::StrCat("required for ", ToAbsl(TokenKindName(trust.kind)),
                     " issuers; list the identifiers this PDP accepts in "
                     "\"aud\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<IssuerTrust> ReadIssuer(const json& entry,
                                       const std::string& path, size_t index) {
  const std::string where = absl::StrCat("issuers[", index, "]");
  if (!entry.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", where, ": must be an object"));
  }
  ObjectReader reader(entry, path, where);
  if (absl::Status members = reader.CheckMembers(
          {"kind", "issuer", "jwks", "key_algorithms", "x5c_root",
           "x5c_algorithm", "audiences", "max_lifetime_seconds", "replay"});
      !members.ok()) {
    return members;
  }
  IssuerTrust trust;
  absl::StatusOr<std::string> kind_name = reader.String("kind");
  if (!kind_name.ok()) return kind_name.status();
  std::optional<TokenKind> kind = ParseTokenKind(*kind_name);
  if (!kind.has_value()) {
    return reader.Error("kind", absl::StrCat("\"", *kind_name,
                                             "\" is not id-jag, access_token "
                                             "or attestation"));
  }
  trust.kind = *kind;
  absl::StatusOr<std::string> issuer = reader.String("issuer");
  if (!issuer.ok()) return issuer.status();
  trust.issuer = *issuer;

  if (absl::Status s = ReadKeys(reader, path, trust); !s.ok()) return s;
  if (absl::Status s = ReadX5c(reader, path, trust); !s.ok()) return s;
  if (trust.keys.empty() && trust.x5c_roots == nullptr) {
    return reader.Error("jwks", "no keys; set \"jwks\" or \"x5c_root\"");
  }
  if (absl::Status s = ReadAudiences(reader, trust); !s.ok()) return s;
  if (absl::Status s = reader.Integer("max_lifetime_seconds", 1, 31 * 86400,
                                      &trust.max_lifetime_seconds);
      !s.ok()) {
    return s;
  }
  // ID-JAG clients may re-submit a grant until it expires, so the default
  // only rejects a jti that comes back from a different client.
  trust.replay = trust.kind == TokenKind::kIdJag ? ReplayMode::kSameClient
                                                 : ReplayMode::kNone;
  if (reader.Find("replay") != nullptr) {
    absl::StatusOr<std::string> replay = reader.String("replay");
    if (!replay.ok()) return replay.status();
    std::optional<ReplayMode> mode = ParseReplayMode(*replay);
    if (!mode.has_value()) {
      return reader.Error("replay", absl::StrCat("\"", *replay,
                                                 "\" is not none, same-client "
                                                 "or one-time"));
    }
    trust.replay = *mode;
  }
  return trust;
}

}  // namespace

std::optional<TokenKind> ParseTokenKind(std::string_view name) {
  if (name == "id-jag") return TokenKind::kIdJag;
  if (name == "access_token") return TokenKind::kAccessToken;
  if (name == "attestation") return TokenKind::kAttestation;
  return std::nullopt;
}

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdJag:
      return "id-jag";
    case TokenKind::kAccessToken:
      return "access_token";
    case TokenKind::kAttestation:
      return "attestation";
  }
  return "unknown";
}

std::optional<ReplayMode> ParseReplayMode(std::string_view name) {
  if (name == "none") return ReplayMode::kNone;
  if (name == "same-client") return ReplayMode::kSameClient;
  if (name == "one-time") return ReplayMode::kOneTime;
  return std::nullopt;
}

std::string_view ReplayModeName(ReplayMode mode) {
  switch (mode) {
    case ReplayMode::kNone:
      return "none";
    case ReplayMode::kSameClient:
      return "same-client";
    case ReplayMode::kOneTime:
      return "one-time";
  }
  return "unknown";
}

const IssuerTrust* TrustConfig::Find(TokenKind kind,
                                     std::string_view issuer) const {
  for (const IssuerTrust& trust : issuers) {
    if (trust.kind == kind && trust.issuer == issuer) return &trust;
  }
  return nullptr;
}

absl::StatusOr<TrustConfig> LoadTrustConfig(const std::string& path) {
  absl::StatusOr<json> root = ReadJsonFile(path);
  if (!root.ok()) return root.status();
  return ParseTrustConfig(*root, path);
}

absl::StatusOr<TrustConfig> ParseTrustConfig(const json& root,
                                             const std::string& path) {
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the trust file must be a JSON object"));
  }
  ObjectReader reader(root, path, "");
  if (absl::Status members = reader.CheckMembers(
          {"clock_skew_seconds", "max_token_bytes", "max_json_depth",
           "verified_cache_capacity", "replay_cache_capacity", "issuers"});
      !members.ok()) {
    return members;
  }
  TrustConfig config;
  int64_t max_token_bytes = static_cast<int64_t>(config.max_token_bytes);
  int64_t max_json_depth = config.max_json_depth;
  int64_t verified_capacity =
      static_cast<int64_t>(config.verified_cache_capacity);
  int64_t replay_capacity = static_cast<int64_t>(config.replay_cache_capacity);
  for (absl::Status s : {
           reader.Integer("clock_skew_seconds", 0, 600,
                          &config.clock_skew_seconds),
           reader.Integer("max_token_bytes", 256, 1 << 20, &max_token_bytes),
           reader.Integer("max_json_depth", 2, 256, &max_json_depth),
           reader.Integer("verified_cache_capacity", 0, 10'000'000,
                          &verified_capacity),
           reader.Integer("replay_cache_capacity", 1, 100'000'000,
                          &replay_capacity),
       }) {
    if (!s.ok()) return s;
  }
  config.max_token_bytes = static_cast<size_t>(max_token_bytes);
  config.max_json_depth = static_cast<int>(max_json_depth);
  config.verified_cache_capacity = static_cast<size_t>(verified_capacity);
  config.replay_cache_capacity = static_cast<size_t>(replay_capacity);

  const json* issuers = reader.Find("issuers");
  if (issuers == nullptr || !issuers->is_array() || issuers->empty()) {
    return reader.Error("issuers", "required; list at least one issuer");
  }
  for (size_t i = 0; i < issuers->size(); ++i) {
    absl::StatusOr<IssuerTrust> trust = ReadIssuer((*issuers)[i], path, i);
    if (!trust.ok()) return trust.status();
    if (config.Find(trust->kind, trust->issuer) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": issuers[", i, "]: issuer \"", trust->issuer,
          "\" is listed twice for kind ", ToAbsl(TokenKindName(trust->kind)),
          "; merge the entries"));
    }
    config.issuers.push_back(*std::move(trust));
  }
  return config;
}

}  // namespace verdict::tokens
