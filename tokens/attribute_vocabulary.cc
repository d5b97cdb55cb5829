#include "tokens/attribute_vocabulary.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/absl_compat.h"

namespace verdict::tokens {
namespace {

struct VocabularyEntry {
  std::string_view path;
  AttributeKind kind;
};

constexpr AttributeKind kBool = AttributeKind::kBool;
constexpr AttributeKind kInt = AttributeKind::kInt;
constexpr AttributeKind kString = AttributeKind::kString;
constexpr AttributeKind kSet = AttributeKind::kStringSet;
constexpr AttributeKind kList = AttributeKind::kStringList;

// Sorted by path for the binary search; a static_assert below checks it.
constexpr VocabularyEntry kVocabulary[] = {
    {"actor.chain", kList},
    {"actor.depth", kInt},
    {"actor.id", kString},
    {"actor.issuer", kString},
    {"actor.present", kBool},
    {"actor.profile", kString},
    {"client.authenticated_id", kString},
    {"client.binding_ok", kBool},
    {"client.id", kString},
    {"subject.acr", kString},
    {"subject.amr", kSet},
    {"subject.aud_sub", kString},
    {"subject.aud_tenant", kString},
    {"subject.auth_time", kInt},
    {"subject.email", kString},
    {"subject.entitlements", kSet},
    {"subject.groups", kSet},
    {"subject.id", kString},
    {"subject.issuer", kString},
    {"subject.may_act.id", kString},
    {"subject.may_act.issuer", kString},
    {"subject.roles", kSet},
    {"subject.tenant", kString},
    {"tee.age", kInt},
    {"tee.debug", kBool},
    {"tee.expires_at", kInt},
    {"tee.init_data", kString},
    {"tee.issued_at", kInt},
    {"tee.issuer", kString},
    {"tee.measurement", kString},
    {"tee.migration_allowed", kBool},
    {"tee.mr_config_id", kString},
    {"tee.mr_owner", kString},
    {"tee.mr_seam", kString},
    {"tee.nonce", kSet},
    {"tee.overall_status", kString},
    {"tee.profile", kString},
    {"tee.pubkey_jkt", kString},
    {"tee.report_data", kString},
    {"tee.rtmr", kList},
    {"tee.status", kString},
    {"tee.tcb.bootloader", kInt},
    {"tee.tcb.microcode", kInt},
    {"tee.tcb.snp", kInt},
    {"tee.tcb.tee", kInt},
    {"tee.tcb_status", kString},
    {"tee.tcb_svn", kString},
    {"tee.trust_vector.configuration", kInt},
    {"tee.trust_vector.executables", kInt},
    {"tee.trust_vector.file_system", kInt},
    {"tee.trust_vector.hardware", kInt},
    {"tee.trust_vector.instance_identity", kInt},
    {"tee.trust_vector.runtime_opaque", kInt},
    {"tee.trust_vector.sourced_data", kInt},
    {"tee.trust_vector.storage_opaque", kInt},
    {"tee.type", kString},
    {"tee.variant", kString},
    {"tee.verified", kBool},
    {"tee.workload.images", kSet},
    {"tee.xfam", kString},
    {"token.age", kInt},
    {"token.alg", kString},
    {"token.audience", kSet},
    {"token.cnf_jkt", kString},
    {"token.expires_at", kInt},
    {"token.issued_at", kInt},
    {"token.issuer", kString},
    {"token.jti", kString},
    {"token.kid", kString},
    {"token.kind", kString},
    {"token.not_before", kInt},
    {"token.resource", kSet},
    {"token.scope", kSet},
    {"token.typ", kString},
    {"token.verified", kBool},
};

constexpr bool PathLess(const VocabularyEntry& a, const VocabularyEntry& b) {
  return a.path < b.path;
}
static_assert(std::is_sorted(std::begin(kVocabulary), std::end(kVocabulary),
                             PathLess),
              "kVocabulary must be sorted by path");

}  // namespace

bool IsAttributeName(std::string_view name) {
  if (name.empty() ||
      absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::optional<AttributeKind> VocabularyKind(std::string_view path) {
  const VocabularyEntry key{path, kString};
  const VocabularyEntry* entry = std::lower_bound(
      std::begin(kVocabulary), std::end(kVocabulary), key, PathLess);
  if (entry != std::end(kVocabulary) && entry->path == path) {
    return entry->kind;
  }

  // tee.submods.<name>.status, one entry per EAR submod.
  constexpr std::string_view kSubmodPrefix = "tee.submods.";
  constexpr std::string_view kStatusSuffix = ".status";
  if (absl::StartsWith(ToAbsl(path), ToAbsl(kSubmodPrefix)) &&
      absl::EndsWith(ToAbsl(path), ToAbsl(kStatusSuffix)) &&
      path.size() > kSubmodPrefix.size() + kStatusSuffix.size()) {
    const std::string_view name =
        path.substr(kSubmodPrefix.size(),
                    path.size() - kSubmodPrefix.size() - kStatusSuffix.size());
    if (IsAttributeName(name)) return kString;
  }
  return std::nullopt;
}

}  // namespace verdict::tokens
