#include "tests/tokens/scenario_fixture.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/evaluator.h"

namespace verdict::tokens::testing {

using json = nlohmann::json;

std::string RepeatHex(const std::string& pair, int count) {
  std::string hex;
  for (int i = 0; i < count; ++i) hex += pair;
  return hex;
}

absl::StatusOr<compiler::Compilation> ScenarioTest::CompileScenarioDirectory(
    const std::string& policies, const std::string& idp_replay,
    const std::vector<ExtraFile>& extra_files,
    const compiler::CompileOptions& options) {
  const std::string dir = MakeTempDir("scenario_" + policies);
  const std::filesystem::path source =
      std::filesystem::path(VERDICT_SCENARIO_POLICY_DIR) / policies;
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    if (entry.path().extension() != ".verdict") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    WriteFile(dir + "/" + entry.path().filename().string(), text.str());
  }
  WriteFile(dir + "/trust.json", TrustFile(dir, idp_replay).dump(2));
  for (const auto& [path, text] : extra_files)
    WriteFile(dir + "/" + path, text);
  return compiler::CompileDirectory(dir, /*data_dir=*/"", options);
}

std::shared_ptr<const Program> ScenarioTest::CompileScenario(
    const std::string& policies, const std::string& idp_replay,
    const std::vector<ExtraFile>& extra_files) {
  absl::StatusOr<compiler::Compilation> compilation =
      CompileScenarioDirectory(policies, idp_replay, extra_files);
  if (!compilation.ok()) {
    ADD_FAILURE() << "compiling " << policies << ": " << compilation.status();
    return nullptr;
  }
  if (compilation->program == nullptr) {
    ADD_FAILURE() << "policies " << policies << " do not compile:\n"
                  << compilation->diagnostics;
  }
  return compilation->program;
}

Outcome ScenarioTest::Decide(const Program& program, const json& request,
                             int64_t now) {
  Outcome outcome;
  outcome.decoded = DecodeJsonRequest(program, request.dump(), now, frame_);
  if (!outcome.decoded.ok()) return outcome;
  const Decision decision = Evaluate(program, frame_);
  outcome.permit = decision.permit;
  outcome.reasons = DecisionReasons(program, frame_, decision);
  return outcome;
}

std::string Describe(const Outcome& outcome) {
  if (!outcome.decoded.ok()) {
    return "request rejected: " + outcome.decoded.ToString();
  }
  std::string text = outcome.permit ? "PERMIT" : "DENY";
  for (const std::string& reason : outcome.reasons) text += " " + reason;
  return text;
}

void ScenarioTest::ExpectAbsent(const Program& program,
                                const std::vector<std::string>& paths) const {
  for (const std::string& path : paths) {
    const uint32_t slot = program.FindSlot(path);
    if (slot == kNoSlot) {
      ADD_FAILURE() << "the scenario schema does not declare " << path;
      continue;
    }
    EXPECT_FALSE(frame_.slot(slot).present) << path << " is present";
  }
}

void ScenarioTest::ExpectPresent(const Program& program,
                                 const std::vector<std::string>& paths) const {
  for (const std::string& path : paths) {
    const uint32_t slot = program.FindSlot(path);
    if (slot == kNoSlot) {
      ADD_FAILURE() << "the scenario schema does not declare " << path;
      continue;
    }
    EXPECT_TRUE(frame_.slot(slot).present) << path << " is absent";
  }
}

void ScenarioTest::ExpectVerified(const Program& program,
                                  const std::string& path) const {
  const uint32_t slot = program.FindSlot(path);
  ASSERT_NE(slot, kNoSlot) << "the scenario schema does not declare " << path;
  const SlotValue& value = frame_.slot(slot);
  ASSERT_TRUE(value.present) << path << " is absent";
  EXPECT_EQ(value.integer, 1) << path << " is false";
  EXPECT_NE(value.source, AttributeSource::kVerdict)
      << path << " was set by Verdict, not by a token";
}

void ScenarioTest::ExpectUnverified(const Program& program,
                                    const std::string& path) const {
  const uint32_t slot = program.FindSlot(path);
  ASSERT_NE(slot, kNoSlot) << "the scenario schema does not declare " << path;
  const SlotValue& value = frame_.slot(slot);
  ASSERT_TRUE(value.present) << path << " is absent";
  EXPECT_EQ(value.integer, 0) << path << " is true";
  EXPECT_EQ(value.source, AttributeSource::kVerdict)
      << path << " was not set by Verdict";
}

std::string ScenarioTest::SignAccessToken(const json& header,
                                          const json& claims) const {
  return MakeToken(header, claims, keys_->as_rsa.get());
}

json ScenarioTest::TdxEvidence() {
  // The TEE's own key, bound to the attestation as runtime data.
  static const PublicKey* tee_key = new PublicKey(GenerateKey("P-256"));
  return {{"tdx",
           {{"quote",
             {{"header",
               {{"tee_type", "81000000"},
                {"vendor_id", "939a7233f79c4ca9940a0db3957f0607"}}},
              {"body",
               {{"mr_td", RepeatHex("ab", 48)},
                {"td_attributes", "0000001000000000"},
                {"xfam", "e718060000000000"},
                {"tcb_svn", "03000600000000000000000000000000"}}}}},
            {"td_attributes",
             {{"debug", false},
              {"septve_disable", true},
              {"key_locker", false},
              {"perfmon", false},
              {"protection_keys", false}}},
            {"tcb_status", "UpToDate"},
            {"collateral_expiration_status", "0"}}},
          {"report_data", "00"},
          {"init_data", "00"},
          {"runtime_data_claims",
           {{"nonce", "n-123"},
            {"tee-pubkey", PublicJwk(tee_key->get(), "", "")}}}};
}

json ScenarioTest::SnpEvidence() {
  const std::string host_data = RepeatHex("77", 32);
  return {{"snp",
           {{"measurement", RepeatHex("5e", 48)},
            {"policy_debug_allowed", false},
            {"policy_migrate_ma", false},
            {"policy_abi_major", 1},
            {"policy_abi_minor", 55},
            {"policy_smt_allowed", true},
            {"policy_single_socket", false},
            {"reported_tcb_bootloader", 9},
            {"reported_tcb_tee", 0},
            {"reported_tcb_snp", 22},
            {"reported_tcb_microcode", 213},
            {"platform_smt_enabled", true},
            {"platform_tsme_enabled", false},
            {"chip_id", "00"},
            {"report_data", "00"},
            {"init_data", host_data}}},
          {"report_data", "00"},
          {"init_data", host_data},
          {"runtime_data_claims",
           {{"nonce", "n-9"}, {"tee-pubkey", json::object()}}}};
}

json ScenarioTest::EarClaims(const json& evidence) {
  return TrusteeEarClaims(evidence);
}

std::string ScenarioTest::SignEar(const json& claims) const {
  return MakeToken(EarHeader(keys_->trustee_leaf.get()), claims,
                   keys_->trustee_leaf_key.get());
}

json ScenarioTest::TokenEntry(const std::string& kind,
                              const std::string& token) {
  return {{"kind", kind}, {"jwt", token}};
}

}  // namespace verdict::tokens::testing
