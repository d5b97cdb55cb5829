#include "tokens/compact_jws.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "tokens/base64url.h"
#include "tokens/strict_json.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

absl::StatusOr<json> DecodeJsonObject(std::string_view segment,
                                      std::string_view part, int max_depth) {
  std::optional<std::string> text = DecodeBase64Url(segment);
  if (!text.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", ToAbsl(part), " is not canonical unpadded base64url"));
  }
  absl::StatusOr<json> parsed = ParseStrictJson(*text, max_depth);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", ToAbsl(part),
                     " is not valid JSON: ", parsed.status().message()));
  }
  if (!parsed->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", ToAbsl(part), " is not a JSON object"));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<CompactJws> ParseCompactJws(std::string_view token,
                                           size_t max_token_bytes,
                                           int max_json_depth) {
  if (token.size() > max_token_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the token has ", token.size(), " bytes; the limit is ",
        max_token_bytes, ", set by max_token_bytes in the trust file"));
  }
  size_t dots[2];
  int dot_count = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') {
      if (dot_count == 2) {
        return absl::InvalidArgumentError(
            "the token has more than three segments; only the compact JWS "
            "form with three is accepted (JWE is not)");
      }
      dots[dot_count++] = i;
    } else if (!IsBase64UrlChar(token[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the token contains byte ",
          static_cast<int>(static_cast<unsigned char>(token[i])), " at offset ",
          i,
          "; a compact JWS holds only base64url characters and dots (the JSON "
          "serialization is not accepted)"));
    }
  }
  if (dot_count != 2) {
    return absl::InvalidArgumentError(
        "the token does not have three dot-separated segments");
  }
  CompactJws jws;
  absl::StatusOr<json> header =
      DecodeJsonObject(token.substr(0, dots[0]), "JOSE header", max_json_depth);
  if (!header.ok()) return header.status();
  absl::StatusOr<json> payload =
      DecodeJsonObject(token.substr(dots[0] + 1, dots[1] - dots[0] - 1),
                       "payload", max_json_depth);
  if (!payload.ok()) return payload.status();
  std::optional<std::string> signature =
      DecodeBase64Url(token.substr(dots[1] + 1));
  if (!signature.has_value()) {
    return absl::InvalidArgumentError(
        "the signature is not canonical unpadded base64url");
  }
  jws.signing_input = token.substr(0, dots[1]);
  jws.header = *std::move(header);
  jws.payload = *std::move(payload);
  jws.signature = *std::move(signature);
  return jws;
}

ClaimState ReadNumericDate(const json& claims, std::string_view name,
                           int64_t* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return ClaimState::kAbsent;
  if (it->is_number_unsigned()) {
    const uint64_t value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(kMaxNumericDate)) {
      return ClaimState::kInvalid;
    }
    *out = static_cast<int64_t>(value);
    return ClaimState::kValid;
  }
  if (it->is_number_integer()) {
    const int64_t value = it->get<int64_t>();
    if (value < 0 || value > kMaxNumericDate) return ClaimState::kInvalid;
    *out = value;
    return ClaimState::kValid;
  }
  return ClaimState::kInvalid;
}

ClaimState ReadAudience(const json& claims, std::vector<std::string>* out) {
  auto it = claims.find("aud");
  if (it == claims.end()) return ClaimState::kAbsent;
  std::vector<std::string> audiences;
  if (it->is_string()) {
    audiences.push_back(it->get<std::string>());
  } else if (it->is_array() && !it->empty()) {
    for (const json& audience : *it) {
      if (!audience.is_string()) return ClaimState::kInvalid;
      audiences.push_back(audience.get<std::string>());
    }
  } else {
    return ClaimState::kInvalid;
  }
  for (const std::string& audience : audiences) {
    if (audience.empty()) return ClaimState::kInvalid;
  }
  *out = std::move(audiences);
  return ClaimState::kValid;
}

ClaimState ReadStringClaim(const json& claims, std::string_view name,
                           std::string* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return ClaimState::kAbsent;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return ClaimState::kInvalid;
  }
  *out = it->get<std::string>();
  return ClaimState::kValid;
}

}  // namespace verdict::tokens
