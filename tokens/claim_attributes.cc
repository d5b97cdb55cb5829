#include "tokens/claim_attributes.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "nlohmann/json.hpp"
#include "tokens/attribute_vocabulary.h"
#include "tokens/base64url.h"
#include "tokens/compact_jws.h"
#include "tokens/jose_keys.h"
#include "tokens/verifier.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;
using Strings = std::vector<std::string>;

// Collects the attributes of one token. Each Add* skips a missing value, so
// a claim that is absent or malformed leaves its attribute out.
class AttributeList {
 public:
  void AddBool(std::string path, std::optional<bool> value) {
    if (!value.has_value()) return;
    ClaimAttribute& attribute = Add(std::move(path), AttributeKind::kBool);
    attribute.boolean = *value;
  }

  void AddInt(std::string path, std::optional<int64_t> value) {
    if (!value.has_value()) return;
    ClaimAttribute& attribute = Add(std::move(path), AttributeKind::kInt);
    attribute.integer = *value;
  }

  void AddString(std::string path, std::optional<std::string> value) {
    if (!value.has_value()) return;
    ClaimAttribute& attribute = Add(std::move(path), AttributeKind::kString);
    attribute.text = *std::move(value);
  }

  // Sorts the elements and drops duplicates.
  void AddSet(std::string path, std::optional<Strings> elements) {
    if (!elements.has_value()) return;
    std::sort(elements->begin(), elements->end());
    elements->erase(std::unique(elements->begin(), elements->end()),
                    elements->end());
    ClaimAttribute& attribute = Add(std::move(path), AttributeKind::kStringSet);
    attribute.elements = *std::move(elements);
  }

  void AddList(std::string path, std::optional<Strings> elements) {
    if (!elements.has_value()) return;
    ClaimAttribute& attribute =
        Add(std::move(path), AttributeKind::kStringList);
    attribute.elements = *std::move(elements);
  }

  // Returns the attributes sorted by path.
  std::vector<ClaimAttribute> Take() && {
    std::sort(attributes_.begin(), attributes_.end(),
              [](const ClaimAttribute& a, const ClaimAttribute& b) {
                return a.path < b.path;
              });
    return std::move(attributes_);
  }

 private:
  ClaimAttribute& Add(std::string path, AttributeKind kind) {
    ClaimAttribute& attribute = attributes_.emplace_back();
    attribute.path = std::move(path);
    attribute.kind = kind;
    return attribute;
  }

  std::vector<ClaimAttribute> attributes_;
};

// Returns member `name` of `object`, or null when `object` is null, is not
// a JSON object or has no such member.
const json* Member(const json* object, std::string_view name) {
  if (object == nullptr || !object->is_object()) return nullptr;
  auto it = object->find(name);
  return it == object->end() ? nullptr : &*it;
}

// Returns the member spelt `dotted` (EAR before draft -03, and Trustee) or
// `underscored` (EAR draft -03). When both are present with different
// values the claim is ambiguous and null is returned.
const json* EarMember(const json* object, std::string_view dotted,
                      std::string_view underscored) {
  const json* old_name = Member(object, dotted);
  const json* new_name = Member(object, underscored);
  if (old_name == nullptr) return new_name;
  if (new_name == nullptr || *old_name == *new_name) return old_name;
  return nullptr;
}

std::optional<std::string> StringValue(const json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::optional<bool> BoolValue(const json* value) {
  if (value == nullptr || !value->is_boolean()) return std::nullopt;
  return value->get<bool>();
}

// Accepts JSON integers that fit in int64_t, and no floats.
std::optional<int64_t> IntValue(const json* value) {
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  if (value->is_number_unsigned() &&
      value->get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return value->get<int64_t>();
}

std::optional<int64_t> DateValue(const json& claims, std::string_view name) {
  int64_t seconds = 0;
  if (ReadNumericDate(claims, name, &seconds) != ClaimState::kValid) {
    return std::nullopt;
  }
  return seconds;
}

// Accepts an array whose elements are all strings.
std::optional<Strings> StringArray(const json* value) {
  if (value == nullptr || !value->is_array()) return std::nullopt;
  Strings elements;
  for (const json& element : *value) {
    if (!element.is_string()) return std::nullopt;
    elements.push_back(element.get<std::string>());
  }
  return elements;
}

// Accepts one string or an array of strings.
std::optional<Strings> StringOrArray(const json* value) {
  if (value != nullptr && value->is_string()) {
    return Strings{value->get<std::string>()};
  }
  return StringArray(value);
}

// Normalises hex text: drops a 0x prefix and lower-cases. Returns nullopt
// for anything but a non-empty, even number of hex digits.
std::optional<std::string> HexValue(const json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  std::string_view text = value->get_ref<const std::string&>();
  if (text.size() >= 2 && text[0] == '0' &&
      (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  std::string hex;
  hex.reserve(text.size());
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    hex.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return hex;
}

// Splits a space-delimited scope string (RFC 6749 §3.3).
Strings SplitScope(const std::string& scope) {
  return absl::StrSplit(ToAbsl(scope), ' ', absl::SkipEmpty());
}

// Reads `scope` (a space-delimited string), or `scp` when `scope` is absent
// (an array of strings, or a space-delimited string).
std::optional<Strings> Scopes(const json& claims) {
  if (const json* scope = Member(&claims, "scope")) {
    if (!scope->is_string()) return std::nullopt;
    return SplitScope(scope->get_ref<const std::string&>());
  }
  const json* scp = Member(&claims, "scp");
  if (scp != nullptr && scp->is_string()) {
    return SplitScope(scp->get_ref<const std::string&>());
  }
  return StringArray(scp);
}

// Maps the JOSE header: token.alg, and token.typ and token.kid when sent.
void MapHeader(const VerifiedToken& token, AttributeList& out) {
  out.AddString("token.alg", std::string(JwsAlgorithmName(token.algorithm)));
  if (!token.typ.empty()) out.AddString("token.typ", token.typ);
  if (!token.kid.empty()) out.AddString("token.kid", token.kid);
}

// Maps `act` (RFC 8693 §4.1). Only the outermost actor is the current one.
// A malformed nested level leaves the chain and depth out instead of
// shortening them.
void MapActor(const json& claims, AttributeList& out) {
  const json* act = Member(&claims, "act");
  // An `act` of the wrong type still counts as present, so a rule for
  // tokens without an actor never matches a token with a malformed one.
  out.AddBool("actor.present", act != nullptr);
  if (act == nullptr) return;
  out.AddString("actor.id", StringValue(Member(act, "sub")));
  out.AddString("actor.issuer", StringValue(Member(act, "iss")));
  out.AddString("actor.profile", StringValue(Member(act, "sub_profile")));

  Strings chain;
  for (const json* level = act; level != nullptr;
       level = Member(level, "act")) {
    std::optional<std::string> id = StringValue(Member(level, "sub"));
    if (!id.has_value()) return;
    chain.push_back(*std::move(id));
  }
  out.AddInt("actor.depth", static_cast<int64_t>(chain.size()));
  out.AddList("actor.chain", std::move(chain));
}

void MapSubject(const VerifiedToken& token, AttributeList& out) {
  const json& claims = token.claims;
  out.AddString("subject.id", token.subject);
  out.AddString("subject.issuer", token.issuer);
  const json* tenant = Member(&claims, "tenant");
  if (tenant == nullptr && token.kind == TokenKind::kAccessToken) {
    tenant = Member(&claims, "tid");
  }
  out.AddString("subject.tenant", StringValue(tenant));
  for (std::string_view name : {"aud_sub", "aud_tenant", "email", "acr"}) {
    out.AddString(absl::StrCat("subject.", ToAbsl(name)),
                  StringValue(Member(&claims, name)));
  }
  out.AddInt("subject.auth_time", DateValue(claims, "auth_time"));
  for (std::string_view name : {"amr", "groups", "roles", "entitlements"}) {
    out.AddSet(absl::StrCat("subject.", ToAbsl(name)),
               StringArray(Member(&claims, name)));
  }
  const json* may_act = Member(&claims, "may_act");
  out.AddString("subject.may_act.id", StringValue(Member(may_act, "sub")));
  out.AddString("subject.may_act.issuer", StringValue(Member(may_act, "iss")));
}

// ID-JAGs and RFC 9068 access tokens.
void MapOAuthToken(const VerifiedToken& token, AttributeList& out) {
  const json& claims = token.claims;
  out.AddString("token.kind", std::string(SourceName(token.kind)));
  out.AddBool("token.verified", true);
  out.AddString("token.issuer", token.issuer);
  out.AddSet("token.audience", token.audiences);
  out.AddInt("token.issued_at", token.issued_at);
  out.AddInt("token.expires_at", token.expires_at);
  out.AddInt("token.not_before", token.not_before);
  out.AddString("token.jti", token.jti);
  out.AddSet("token.scope", Scopes(claims));
  // RFC 9068 §3: the resource of an access token is its audience.
  out.AddSet("token.resource", token.kind == TokenKind::kIdJag
                                   ? StringOrArray(Member(&claims, "resource"))
                                   : std::optional<Strings>(token.audiences));
  out.AddString("token.cnf_jkt",
                StringValue(Member(Member(&claims, "cnf"), "jkt")));
  MapHeader(token, out);
  MapSubject(token, out);
  out.AddString("client.id", token.client_id);
  MapActor(claims, out);
}

// An EAR status and its AR4SI tier value; a higher tier is less trusted.
struct EarStatus {
  std::string_view name;
  int tier;
};
constexpr EarStatus kEarStatuses[] = {
    {"none", 0}, {"affirming", 2}, {"warning", 32}, {"contraindicated", 96}};

const EarStatus* FindStatus(const json* value) {
  if (value == nullptr || !value->is_string()) return nullptr;
  for (const EarStatus& status : kEarStatuses) {
    if (value->get_ref<const std::string&>() == status.name) return &status;
  }
  return nullptr;
}

const EarStatus* SubmodStatus(const json& submod) {
  return FindStatus(EarMember(&submod, "ear.status", "ear_status"));
}

std::optional<std::string> StatusName(const EarStatus* status) {
  if (status == nullptr) return std::nullopt;
  return std::string(status->name);
}

// The top-level EAR status when present, else the least trusted status of
// all submods. A submod without a valid status makes the result unknown.
std::optional<std::string> OverallStatus(const json& claims,
                                         const json& submods) {
  if (claims.contains("ear.status") || claims.contains("ear_status")) {
    return StatusName(
        FindStatus(EarMember(&claims, "ear.status", "ear_status")));
  }
  const EarStatus* worst = nullptr;
  for (const json& submod : submods) {
    const EarStatus* status = SubmodStatus(submod);
    if (status == nullptr) return std::nullopt;
    if (worst == nullptr || status->tier > worst->tier) worst = status;
  }
  return StatusName(worst);
}

// The AR4SI trustworthiness claims, with '-' in the EAR names replaced by
// '_' so that each is one path segment.
constexpr std::string_view kTrustClaims[] = {
    "instance_identity", "configuration",  "executables",    "file_system",
    "hardware",          "runtime_opaque", "storage_opaque", "sourced_data"};

void MapTrustVector(const json* vector, AttributeList& out) {
  for (std::string_view claim : kTrustClaims) {
    std::string dashed(claim);
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    out.AddInt(absl::StrCat("tee.trust_vector.", ToAbsl(claim)),
               IntValue(EarMember(vector, dashed, claim)));
  }
}

// Returns the RFC 7638 thumbprint (SHA-256, base64url) of a complete EC,
// RSA or OKP public JWK, or nullopt for anything else.
std::optional<std::string> JwkThumbprint(const json* jwk) {
  std::optional<std::string> kty = StringValue(Member(jwk, "kty"));
  if (!kty.has_value()) return std::nullopt;
  std::vector<std::string_view> encoded;  // base64url members
  std::vector<std::string_view> plain;    // other required members
  if (*kty == "EC") {
    encoded = {"x", "y"};
    plain = {"crv"};
  } else if (*kty == "OKP") {
    encoded = {"x"};
    plain = {"crv"};
  } else if (*kty == "RSA") {
    encoded = {"e", "n"};
  } else {
    return std::nullopt;
  }
  // nlohmann::json keeps object members sorted by name, and dump() without
  // an indent writes no whitespace: the form RFC 7638 §3.3 hashes.
  json required = {{"kty", *kty}};
  for (std::string_view name : encoded) {
    std::optional<std::string> value = StringValue(Member(jwk, name));
    if (!value.has_value() || value->empty() ||
        !DecodeBase64Url(*value).has_value()) {
      return std::nullopt;
    }
    required[std::string(name)] = *value;
  }
  for (std::string_view name : plain) {
    std::optional<std::string> value = StringValue(Member(jwk, name));
    if (!value.has_value() || value->empty()) return std::nullopt;
    required[std::string(name)] = *value;
  }
  return EncodeBase64Url(Sha256(required.dump()));
}

// The debug bit of a TD: the parsed td_attributes.debug flag and bit 0 of
// the little-endian quote.body.td_attributes. Either may be missing, but a
// malformed one, or the two disagreeing, leaves tee.debug out.
std::optional<bool> TdxDebug(const json& tdx, const json* body) {
  const json* flag = Member(Member(&tdx, "td_attributes"), "debug");
  const json* bits = Member(body, "td_attributes");
  std::optional<bool> from_flag = BoolValue(flag);
  std::optional<bool> from_bits;
  if (std::optional<std::string> hex = HexValue(bits);
      hex.has_value() && hex->size() == 16) {
    // Bit 0 is the low bit of the first byte, whose low nibble is hex[1].
    const char low = (*hex)[1];
    const int nibble = absl::ascii_isdigit(low) ? low - '0' : low - 'a' + 10;
    from_bits = (nibble & 1) != 0;
  }
  if (flag != nullptr && !from_flag.has_value()) return std::nullopt;
  if (bits != nullptr && !from_bits.has_value()) return std::nullopt;
  if (from_flag.has_value() && from_bits.has_value() &&
      *from_flag != *from_bits) {
    return std::nullopt;
  }
  return from_flag.has_value() ? from_flag : from_bits;
}

void MapTdx(const json& tdx, AttributeList& out) {
  const json* body = Member(Member(&tdx, "quote"), "body");
  out.AddBool("tee.debug", TdxDebug(tdx, body));
  out.AddString("tee.measurement", HexValue(Member(body, "mr_td")));
  for (std::string_view name :
       {"mr_seam", "mr_owner", "mr_config_id", "xfam", "tcb_svn"}) {
    out.AddString(absl::StrCat("tee.", ToAbsl(name)),
                  HexValue(Member(body, name)));
  }
  Strings rtmr;
  for (std::string_view name : {"rtmr_0", "rtmr_1", "rtmr_2", "rtmr_3"}) {
    std::optional<std::string> value = HexValue(Member(body, name));
    if (!value.has_value()) break;
    rtmr.push_back(*std::move(value));
  }
  if (rtmr.size() == 4) out.AddList("tee.rtmr", std::move(rtmr));
  out.AddString("tee.tcb_status", StringValue(Member(&tdx, "tcb_status")));
}

void MapSnp(const json& snp, AttributeList& out) {
  out.AddBool("tee.debug", BoolValue(Member(&snp, "policy_debug_allowed")));
  out.AddBool("tee.migration_allowed",
              BoolValue(Member(&snp, "policy_migrate_ma")));
  out.AddString("tee.measurement", HexValue(Member(&snp, "measurement")));
  for (std::string_view part : {"bootloader", "tee", "snp", "microcode"}) {
    out.AddInt(
        absl::StrCat("tee.tcb.", ToAbsl(part)),
        IntValue(Member(&snp, absl::StrCat("reported_tcb_", ToAbsl(part)))));
  }
}

// The keys of the annotated evidence that name a TEE (the kbs-types Tee
// names), the tee.type each stands for, and the tee.variant, if any.
struct TeeKey {
  std::string_view key;
  std::string_view type;
  std::string_view variant;
};
constexpr TeeKey kTeeKeys[] = {
    {"tdx", "tdx", ""},
    {"snp", "snp", ""},
    {"sgx", "sgx", ""},
    {"cca", "cca", ""},
    {"se", "se", ""},
    {"tpm", "tpm", ""},
    {"csv", "csv", ""},
    {"sample", "sample", ""},
    {"az-snp-vtpm", "snp", "az-snp-vtpm"},
    {"az-tdx-vtpm", "tdx", "az-tdx-vtpm"},
};

// Maps the TEE-specific claims when exactly one TEE key is present. With two
// the evidence does not say which TEE the workload runs in, so none is
// mapped.
void MapTee(const json& evidence, AttributeList& out) {
  const TeeKey* found = nullptr;
  for (const TeeKey& tee : kTeeKeys) {
    if (Member(&evidence, tee.key) == nullptr) continue;
    if (found != nullptr) return;
    found = &tee;
  }
  if (found == nullptr) return;
  const json& claims = *Member(&evidence, found->key);
  if (!claims.is_object()) return;
  out.AddString("tee.type", std::string(found->type));
  if (!found->variant.empty()) {
    out.AddString("tee.variant", std::string(found->variant));
  }
  if (found->type == "tdx") {
    MapTdx(claims, out);
  } else if (found->type == "snp") {
    MapSnp(claims, out);
  } else if (found->type == "sample") {
    out.AddBool("tee.debug", BoolValue(Member(&claims, "debug")));
  }
}

// Maps the Veraison annotated evidence of the primary submod (the TCB
// claims Trustee's verifiers produce).
void MapEvidence(const json& evidence, AttributeList& out) {
  out.AddString("tee.init_data", HexValue(Member(&evidence, "init_data")));
  out.AddString("tee.report_data", HexValue(Member(&evidence, "report_data")));
  const json* runtime = Member(&evidence, "runtime_data_claims");
  out.AddSet("tee.nonce", StringOrArray(Member(runtime, "nonce")));
  out.AddString("tee.pubkey_jkt", JwkThumbprint(Member(runtime, "tee-pubkey")));
  MapTee(evidence, out);
}

// The tee.* shortcuts, which describe the primary submod cpu0.
void MapPrimarySubmod(const json& submod, AttributeList& out) {
  out.AddString("tee.status", StatusName(SubmodStatus(submod)));
  MapTrustVector(EarMember(&submod, "ear.trustworthiness-vector",
                           "ear_trustworthiness_vector"),
                 out);
  const json* identifiers =
      EarMember(&submod, "ear.trustee.identifiers", "ear_trustee_identifiers");
  out.AddSet("tee.workload.images",
             StringArray(
                 Member(Member(identifiers, "validated"), "container_images")));
  const json* evidence = EarMember(&submod, "ear.veraison.annotated-evidence",
                                   "ear_veraison_annotated_evidence");
  if (evidence != nullptr && evidence->is_object()) {
    MapEvidence(*evidence, out);
  }
}

// EAR attestation results.
void MapAttestation(const VerifiedToken& token, AttributeList& out) {
  const json& claims = token.claims;
  out.AddBool("tee.verified", true);
  out.AddString("tee.issuer", token.issuer);
  out.AddString("tee.profile", StringValue(Member(&claims, "eat_profile")));
  out.AddInt("tee.issued_at", token.issued_at);
  out.AddInt("tee.expires_at", token.expires_at);

  // The verifier has checked that submods is a non-empty object.
  const json* submods = Member(&claims, "submods");
  if (submods == nullptr || !submods->is_object()) return;
  out.AddString("tee.overall_status", OverallStatus(claims, *submods));
  for (const auto& [name, submod] : submods->items()) {
    if (!IsAttributeName(name)) continue;
    out.AddString(absl::StrCat("tee.submods.", name, ".status"),
                  StatusName(SubmodStatus(submod)));
  }
  const json* primary = Member(submods, "cpu0");
  if (primary != nullptr && primary->is_object()) {
    MapPrimarySubmod(*primary, out);
  }
}

}  // namespace

std::string_view AttributeKindName(AttributeKind kind) {
  switch (kind) {
    case AttributeKind::kBool:
      return "bool";
    case AttributeKind::kInt:
      return "int";
    case AttributeKind::kString:
      return "string";
    case AttributeKind::kStringSet:
      return "set<string>";
    case AttributeKind::kStringList:
      return "list<string>";
  }
  return "unknown";
}

std::string_view SourceName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdJag:
      return "id-jag";
    case TokenKind::kAccessToken:
      return "access_token";
    case TokenKind::kAttestation:
      return "ear";
  }
  return "unknown";
}

std::vector<ClaimAttribute> MapClaims(const VerifiedToken& token) {
  AttributeList out;
  if (token.kind == TokenKind::kAttestation) {
    MapAttestation(token, out);
  } else {
    MapOAuthToken(token, out);
  }
  return std::move(out).Take();
}

}  // namespace verdict::tokens
