// A fixture for the acceptance scenarios S1-S4: policies compiled from
// tests/tokens/scenarios/ together with a trust file, requests carrying
// tokens signed at test time, and decisions taken by the engine at the
// pinned clock kNow.
#ifndef VERDICT_TESTS_TOKENS_SCENARIO_FIXTURE_H_
#define VERDICT_TESTS_TOKENS_SCENARIO_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "compiler/compile.h"
#include "engine/program.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"
#include "tests/tokens/verifier_fixture.h"

namespace verdict::tokens::testing {

// Returns `pair` repeated `count` times, the form of the hex constants of
// the scenarios ("ab" x 48 is the good TDX measurement).
std::string RepeatHex(const std::string& pair, int count);

// The decision on one request, as the tests compare it.
struct Outcome {
  absl::Status decoded;  // The status of DecodeJsonRequest.
  bool permit = false;
  std::vector<std::string> reasons;
};

// Renders an outcome as "PERMIT" or "DENY" followed by its reasons, each
// after a space, or as "request rejected: <status>" when decoding failed.
std::string Describe(const Outcome& outcome);

// A file added to a scenario policy directory: path relative to the
// directory, then contents.
using ExtraFile = std::pair<std::string, std::string>;

class ScenarioTest : public VerifierTest {
 protected:
  // Copies the `*.verdict` files of tests/tokens/scenarios/<policies> into
  // a fresh directory, writes trust.json with the IdP in `idp_replay` mode
  // and the key files beside them, adds `extra_files`, and compiles the
  // directory. Returns null, after a test failure naming the diagnostics,
  // when it does not compile.
  std::shared_ptr<const Program> CompileScenario(
      const std::string& policies,
      const std::string& idp_replay = "same-client",
      const std::vector<ExtraFile>& extra_files = {});

  // Like CompileScenario, but returns the compilation as is, for tests that
  // expect compile errors, and takes the compile options.
  absl::StatusOr<compiler::Compilation> CompileScenarioDirectory(
      const std::string& policies, const std::string& idp_replay,
      const std::vector<ExtraFile>& extra_files,
      const compiler::CompileOptions& options = {});

  // Decodes `request` at `now`, evaluates it and returns the decision and
  // its reasons. The attribute values stay in `frame_` until the next call.
  Outcome Decide(const Program& program, const nlohmann::json& request,
                 int64_t now = kNow);

  // Expects each attribute of `paths` to be declared by `program` and absent
  // from the last request decided.
  void ExpectAbsent(const Program& program,
                    const std::vector<std::string>& paths) const;
  // Expects each attribute of `paths` to be declared and present.
  void ExpectPresent(const Program& program,
                     const std::vector<std::string>& paths) const;
  // Expects the bool attribute `path` (token.verified or tee.verified) to
  // be true, set from a verified token.
  void ExpectVerified(const Program& program, const std::string& path) const;
  // Expects the bool attribute `path` to be false and set by Verdict itself,
  // as it is when no token of that kind verified.
  void ExpectUnverified(const Program& program, const std::string& path) const;

  // The baseline ID-JAG JAG0, signed by the IdP key.
  std::string Jag0() const { return SignJag(Jag0Header(), Jag0Claims()); }
  // Signs an access token with the AS key as_rsa (kid as-1, RS256).
  std::string SignAccessToken(const nlohmann::json& header,
                              const nlohmann::json& claims) const;

  // The annotated evidence of the TDX baseline EAR_TDX0 and of the SNP
  // baseline EAR_SNP0.
  static nlohmann::json TdxEvidence();
  static nlohmann::json SnpEvidence();
  // EAR claims issued by Trustee at kNow - 30 for 300 s, with `evidence` as
  // the annotated evidence of submodule cpu0, in the EAR draft spelling
  // ("ear.status", "ear.veraison.annotated-evidence").
  static nlohmann::json EarClaims(const nlohmann::json& evidence);
  // Signs EAR claims with the Trustee leaf key, whose certificate chains to
  // the configured Trustee root.
  std::string SignEar(const nlohmann::json& claims) const;

  // Returns {"kind": kind, "jwt": token}, one member of a request's tokens.
  static nlohmann::json TokenEntry(const std::string& kind,
                                   const std::string& token);

  Frame frame_;
};

}  // namespace verdict::tokens::testing

#endif  // VERDICT_TESTS_TOKENS_SCENARIO_FIXTURE_H_
