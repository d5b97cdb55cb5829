#include "compiler/trust_loader.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/types.h"
#include "nlohmann/json.hpp"
#include "tokens/attribute_vocabulary.h"
#include "tokens/token_source.h"
#include "tokens/trust_config.h"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Holds(Type type, tokens::AttributeKind kind) {
  switch (kind) {
    case tokens::AttributeKind::kBool: return type == Type::kBool;
    case tokens::AttributeKind::kInt:
      return type == Type::kInt || type == Type::kTimestamp ||
             type == Type::kDuration;
    case tokens::AttributeKind::kString: return type == Type::kString;
    case tokens::AttributeKind::kStringSet: return type == Type::kStringSet;
    case tokens::AttributeKind::kStringList: return type == Type::kStringList;
  }
  return false;
}

// Hashes the key and certificate files the trust file names, so that a
// rotated key changes the revision and is reloaded. Files that cannot be
// read are reported by LoadTrustConfig.
void HashReferencedFiles(
    const fs::path& trust_path, std::string_view text,
    const std::function<void(std::string_view, std::string_view)>& on_file) {
  const nlohmann::json root =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("issuers") ||
      !root["issuers"].is_array()) {
    return;
  }
  for (const nlohmann::json& issuer : root["issuers"]) {
    if (!issuer.is_object()) continue;
    for (const char* member : {"jwks", "x5c_root"}) {
      auto it = issuer.find(member);
      if (it == issuer.end() || !it->is_string()) continue;
      const std::string name = it->get<std::string>();
      if (std::optional<std::string> bytes =
              ReadBytes(trust_path.parent_path() / name)) {
        on_file(absl::StrCat("trust/", name), *bytes);
      }
    }
  }
}

}  // namespace

absl::Status LoadTrust(
    const std::string& policy_dir, const std::string& trust_file,
    std::shared_ptr<tokens::ReplayCache> replay_cache, Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count) {
  fs::path path = trust_file;
  if (path.empty()) {
    const fs::path beside = fs::path(policy_dir) / "trust.json";
    std::error_code error;
    if (fs::exists(beside, error)) path = beside;
  }
  // Without a trust file, token-derived attributes such as token.verified
  // are plain attributes that the PEP vouches for.
  if (path.empty()) return absl::OkStatus();
  std::optional<std::string> text = ReadBytes(path);
  if (!text) {
    return absl::NotFoundError(absl::StrCat(
        "trust file ", path.string(),
        " not found or not readable; check the path and its permissions"));
  }
  on_file(absl::StrCat("trust/", path.filename().string()), *text);
  HashReferencedFiles(path, *text, on_file);

  absl::StatusOr<tokens::TrustConfig> config =
      tokens::LoadTrustConfig(path.string());
  if (!config.ok()) {
    absl::StrAppend(&errors, path.string(), ": error: ",
                    config.status().message(), "\n");
    ++error_count;
    return absl::OkStatus();
  }
  for (const SlotInfo& slot : program.slots) {
    const std::optional<tokens::AttributeKind> kind =
        tokens::VocabularyKind(slot.path);
    if (!kind || Holds(slot.type, *kind)) continue;
    absl::StrAppend(&errors, policy_dir, ": error: the schema declares ",
                    slot.path, " as ", ToAbsl(TypeName(slot.type)),
                    ", but token verification sets it as ",
                    ToAbsl(tokens::AttributeKindName(*kind)),
                    "; declare it with that type\n");
    ++error_count;
  }
  program.token_source = std::make_shared<tokens::TrustedTokenSource>(
      *std::move(config), std::move(replay_cache));
  return absl::OkStatus();
}

}  // namespace verdict::compiler
