// How requests present tokens: the JSON envelope and its errors, provenance
// (meta.source.*), the compile-time checks of a trust file and of the
// attributes it sets, and requests with tokens but no trust file.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/explain.h"
#include "gmock/gmock.h"
#include "tests/tokens/scenario_fixture.h"
#include "tokens/token_cache.h"

namespace verdict::tokens::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Declares the provenance of subject.id and tee.debug, and a policy that
// permits reading a sales report only for a subject named by an ID-JAG.
constexpr char kProvenancePolicy[] = R"(
schema meta {
  source.subject.id?: string
  source.tee.debug?: string
}

permit "subject-from-grant" when {
  action.name == "read" and meta has source.subject.id and
  meta.source.subject.id == "id-jag"
}
)";

class PresentationTest : public ScenarioTest {
 protected:
  void SetUp() override {
    program_ = CompileScenario("p1", "same-client",
                               {{"provenance.verdict", kProvenancePolicy}});
    ASSERT_NE(program_, nullptr);
  }

  json Request(const std::vector<json>& tokens) const {
    return {{"tokens", json(tokens)},
            {"context", {{"client_authenticated_id", kAgent}}},
            {"action", {{"name", "read"}}},
            {"resource", {{"type", "sales_report"}, {"id", "q3"}}}};
  }

  json Ear0() const {
    return TokenEntry("attestation", SignEar(EarClaims(TdxEvidence())));
  }

  std::string Text(const std::string& path) const {
    const uint32_t slot = program_->FindSlot(path);
    EXPECT_NE(slot, kNoSlot) << path;
    if (slot == kNoSlot || !frame_.slot(slot).present) return "(absent)";
    return std::string(frame_.Text(frame_.slot(slot)));
  }

  // Decodes `request` and returns the error message, or "" when it decoded.
  std::string DecodeError(const json& request) {
    const Outcome outcome = Decide(*program_, request);
    return std::string(outcome.decoded.message());
  }

  std::shared_ptr<const Program> program_;
};

TEST_F(PresentationTest, ProvenanceNamesTheTokenThatSetTheAttribute) {
  const Outcome outcome =
      Decide(*program_, Request({TokenEntry("id-jag", Jag0()), Ear0()}));
  ASSERT_TRUE(outcome.decoded.ok()) << outcome.decoded;
  EXPECT_THAT(outcome.reasons, ::testing::Contains("permit:subject-from-grant"));
  EXPECT_EQ(Text("meta.source.subject.id"), "id-jag");
  EXPECT_EQ(Text("meta.source.tee.debug"), "ear");
}

TEST_F(PresentationTest, PlainAttributeHasProvenanceAttribute) {
  json request = Request({});
  request["subject"] = {{"id", "U-1001"}};
  const Outcome outcome = Decide(*program_, request);
  ASSERT_TRUE(outcome.decoded.ok()) << outcome.decoded;
  EXPECT_EQ(Text("meta.source.subject.id"), "attribute");
  EXPECT_EQ(Text("meta.source.tee.debug"), "(absent)");
  EXPECT_EQ(Describe(outcome), "DENY default_deny");
}

TEST_F(PresentationTest, EqualPlainAttributeTakesTheTokenProvenance) {
  json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  request["subject"] = {{"id", "U-1001"}};
  const Outcome outcome = Decide(*program_, request);
  ASSERT_TRUE(outcome.decoded.ok()) << outcome.decoded;
  EXPECT_EQ(Text("meta.source.subject.id"), "id-jag");
  EXPECT_THAT(outcome.reasons, ::testing::Contains("permit:subject-from-grant"));
}

TEST_F(PresentationTest, RequestCannotClaimAProvenance) {
  json request = Request({});
  request["subject"] = {{"id", "U-1001"}};
  request["attributes"] = {{"meta", {{"source.subject.id", "id-jag"}}}};
  EXPECT_EQ(Describe(Decide(*program_, request)),
            "DENY attribute_conflict:meta.source.subject.id");
}

TEST_F(PresentationTest, PlainVerifiedFlagConflictsWithoutAToken) {
  json request = Request({});
  request["attributes"] = {{"tee", {{"verified", true}}}};
  EXPECT_EQ(Describe(Decide(*program_, request)),
            "DENY attribute_conflict:tee.verified");
}

TEST_F(PresentationTest, TokenGivenAsJsonObjectFailsFormat) {
  json request = Request({Ear0()});
  request["tokens"].push_back(
      {{"kind", "id-jag"}, {"jwt", {{"payload", "e30"}, {"signatures", json::array()}}}});
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY token_invalid:format");
}

TEST_F(PresentationTest, KindIsDetectedAndHintIsASynonym) {
  json request = Request({{{"jwt", Jag0()}}, {{"hint", "attestation"},
                                              {"jwt", SignEar(EarClaims(TdxEvidence()))}}});
  const Outcome outcome = Decide(*program_, request);
  ASSERT_TRUE(outcome.decoded.ok()) << outcome.decoded;
  EXPECT_TRUE(outcome.permit) << Describe(outcome);
}

TEST_F(PresentationTest, MalformedEnvelopesAreRequestErrors) {
  json request = Request({});
  request["tokens"] = "eyJ...";
  EXPECT_THAT(DecodeError(request),
              HasSubstr("request member \"tokens\" must be an array"));

  request["tokens"] = json::array({"eyJ..."});
  EXPECT_THAT(DecodeError(request), HasSubstr("tokens[0] must be an object"));

  request["tokens"] = {{{"jwt", Jag0()}, {"type", "id-jag"}}};
  EXPECT_THAT(DecodeError(request),
              HasSubstr("tokens[0] has the unknown member \"type\""));

  request["tokens"] = {{{"jwt", Jag0()}, {"kind", "idjag"}}};
  EXPECT_THAT(DecodeError(request),
              HasSubstr("tokens[0].kind \"idjag\" is not a token kind"));

  request["tokens"] = {
      {{"jwt", Jag0()}, {"kind", "id-jag"}, {"hint", "id-jag"}}};
  EXPECT_THAT(DecodeError(request), HasSubstr("gives both \"kind\" and \"hint\""));

  request["tokens"] = {{{"kind", "id-jag"}}};
  EXPECT_THAT(DecodeError(request), HasSubstr("tokens[0] has no \"jwt\""));

  request["tokens"] = json::array();
  for (int i = 0; i < 9; ++i) request["tokens"].push_back({{"jwt", Jag0()}});
  EXPECT_THAT(DecodeError(request), HasSubstr("more than 8 tokens"));

  request = Request({TokenEntry("id-jag", Jag0())});
  request["context"]["dpop_jkt"] = 5;
  EXPECT_THAT(DecodeError(request),
              HasSubstr("context.dpop_jkt: expected a string"));
}

TEST_F(PresentationTest, ExplanationNamesTheFailedToken) {
  json claims = Jag0Claims();
  claims["aud"] = "https://as.sales.example";
  const json request =
      Request({TokenEntry("id-jag", SignJag(Jag0Header(), claims)), Ear0()});
  ASSERT_TRUE(DecodeJsonRequest(*program_, request.dump(), kNow, frame_).ok());
  const Decision decision = Evaluate(*program_, frame_);
  const Explanation explanation = Explain(*program_, frame_, decision, {});

  EXPECT_TRUE(explanation.rejected);
  ASSERT_EQ(explanation.rejections.size(), 1u);
  EXPECT_EQ(explanation.rejections[0].reason, "token_invalid:aud");
  EXPECT_THAT(explanation.rejections[0].detail,
              HasSubstr("tokens[0] (id-jag): aud"));
  EXPECT_THAT(ExplanationToText(explanation),
              HasSubstr("rejected:\n  token_invalid:aud: tokens[0]"));
}

TEST_F(PresentationTest, NullContextFactsAreAbsent) {
  json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  request["context"]["dpop_jkt"] = nullptr;
  request["context"]["expected_nonce"] = nullptr;
  const Outcome outcome = Decide(*program_, request);
  ASSERT_TRUE(outcome.decoded.ok()) << outcome.decoded;
  EXPECT_TRUE(outcome.permit) << Describe(outcome);
}

TEST_F(PresentationTest, ExpectedNonceMustBeInTheAttestation) {
  json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});
  request["context"]["expected_nonce"] = "n-123";
  EXPECT_TRUE(Decide(*program_, request).permit);
  request["context"]["expected_nonce"] = "n-999";
  EXPECT_EQ(Describe(Decide(*program_, request)), "DENY token_invalid:nonce");
}

TEST_F(PresentationTest, TokensWithoutATrustFileAreRejected) {
  const std::string dir = MakeTempDir("no_trust");
  WriteFile(dir + "/policy.verdict",
            "schema action { name: string }\n"
            "permit \"read\" when { action.name == \"read\" }\n");
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory(dir, "", compiler::CompileOptions{});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  ASSERT_NE(compilation->program, nullptr) << compilation->diagnostics;
  const Outcome outcome =
      Decide(*compilation->program, Request({TokenEntry("id-jag", Jag0())}));
  EXPECT_EQ(outcome.decoded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(outcome.decoded.message()),
              HasSubstr("put trust.json beside the policies"));
}

TEST_F(PresentationTest, SchemaTypeMustMatchTheTokenAttribute) {
  absl::StatusOr<compiler::Compilation> compilation = CompileScenarioDirectory(
      "p1", "same-client",
      {{"extra.verdict", "schema token { jti: int }\n"}});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  EXPECT_EQ(compilation->program, nullptr);
  EXPECT_THAT(compilation->diagnostics,
              HasSubstr("the schema declares token.jti as int, but token "
                        "verification sets it as string"));
}

TEST_F(PresentationTest, ProvenanceOfAnUndeclaredAttributeIsAnError) {
  absl::StatusOr<compiler::Compilation> compilation = CompileScenarioDirectory(
      "p1", "same-client",
      {{"extra.verdict",
        "schema meta { source.subject.groups: string\n source.tee.type: int }\n"}});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  EXPECT_EQ(compilation->program, nullptr);
  EXPECT_THAT(compilation->diagnostics,
              HasSubstr("provenance attribute 'meta.source.subject.groups' "
                        "names no declared attribute"));
  EXPECT_THAT(compilation->diagnostics,
              HasSubstr("provenance attribute 'meta.source.tee.type' must be "
                        "declared as string"));
}

TEST_F(PresentationTest, ObligationsMayReportThePriorActors) {
  absl::StatusOr<compiler::Compilation> compilation = CompileScenarioDirectory(
      "p1", "same-client",
      {{"extra.verdict",
        "schema actor { chain?: list<string> }\n"
        "permit \"audit\" when { action.name == \"audit\" }\n"
        "  obligation \"log\" { actors: actor.chain }\n"}});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  EXPECT_NE(compilation->program, nullptr) << compilation->diagnostics;
}

TEST_F(PresentationTest, ConditionsMayNotReadThePriorActors) {
  absl::StatusOr<compiler::Compilation> compilation = CompileScenarioDirectory(
      "p1", "same-client",
      {{"extra.verdict",
        "schema actor { chain?: list<string> }\n"
        "permit \"chain\" when { actor has chain and actor.chain == [\"a\"] }\n"}});
  ASSERT_TRUE(compilation.ok()) << compilation.status();
  EXPECT_EQ(compilation->program, nullptr);
  EXPECT_THAT(compilation->diagnostics,
              HasSubstr("actor.chain lists prior actors"));
}

TEST_F(PresentationTest, SharedReplayCacheOutlivesARecompile) {
  compiler::CompileOptions options;
  options.replay_cache = std::make_shared<ReplayCache>(16);
  absl::StatusOr<compiler::Compilation> before =
      CompileScenarioDirectory("p1", "one-time", {}, options);
  absl::StatusOr<compiler::Compilation> after =
      CompileScenarioDirectory("p1", "one-time", {}, options);
  for (const auto* compilation : {&before, &after}) {
    ASSERT_TRUE(compilation->ok()) << compilation->status();
    ASSERT_NE((*compilation)->program, nullptr) << (*compilation)->diagnostics;
  }
  const json request = Request({TokenEntry("id-jag", Jag0()), Ear0()});

  EXPECT_TRUE(Decide(*before->program, request).permit);
  EXPECT_EQ(Describe(Decide(*after->program, request, kNow + 10)),
            "DENY token_invalid:replay");
}

TEST_F(PresentationTest, RevisionFollowsTheTrustFileAndItsKeys) {
  // The IdP key set without the Ed25519 key: a rotated key set.
  const std::string rotated =
      json{{"keys",
            {PublicJwk(keys_->idp.get(), "idp-1", ""),
             PublicJwk(keys_->idp_p384.get(), "idp-384", "ES384")}}}
          .dump();
  absl::StatusOr<compiler::Compilation> first =
      CompileScenarioDirectory("p1", "same-client", {});
  absl::StatusOr<compiler::Compilation> same =
      CompileScenarioDirectory("p1", "same-client", {});
  absl::StatusOr<compiler::Compilation> other_replay =
      CompileScenarioDirectory("p1", "one-time", {});
  absl::StatusOr<compiler::Compilation> other_keys = CompileScenarioDirectory(
      "p1", "same-client", {{"keys/idp.jwks.json", rotated}});
  for (const auto* compilation : {&first, &same, &other_replay, &other_keys}) {
    ASSERT_TRUE(compilation->ok()) << compilation->status();
    ASSERT_NE((*compilation)->program, nullptr) << (*compilation)->diagnostics;
  }
  EXPECT_EQ(first->program->revision, same->program->revision);
  EXPECT_NE(first->program->revision, other_replay->program->revision);
  EXPECT_NE(first->program->revision, other_keys->program->revision);
}

}  // namespace
}  // namespace verdict::tokens::testing
