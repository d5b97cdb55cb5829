// Differential test: the compiled DAG evaluator must agree with the
// tree-walking reference interpreter on generated policy sets and requests.
//
// Each round generates a policy set (tests/differential_generator.cc lists
// what it covers) and compiles it twice: with the automatic DAG budget, and
// with a budget of 1, 4 or 16 nodes so that residual leaves decide most of
// it. Both programs and the reference then decide random requests. The permit bit, the determining and errored policies and the
// obligations and advice with their fields must all agree.
//
// VERDICT_DIFFERENTIAL_CASES sets the number of requests (default 50,000)
// and VERDICT_DIFFERENTIAL_SEED the seed. A disagreement is minimised, printed, and saved as a regression
// case under tests/differential/regressions/ (or under
// VERDICT_DIFFERENTIAL_REGRESSIONS), which RegressionsStillAgree replays.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/differential_case.h"

namespace verdict::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Also under ASan and UBSan, where 50,000 cases take about 50 s.
constexpr int64_t kDefaultCases = 50'000;
constexpr uint64_t kDefaultSeed = 20261204;
constexpr int kRequestsPerRound = 40;
constexpr size_t kSmallBudgets[] = {1, 4, 16};

int64_t EnvironmentNumber(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value <= 0) {
    ADD_FAILURE() << name << "=" << text
                  << " is not a positive integer; unset it or give one";
    return fallback;
  }
  return value;
}

fs::path ScratchDirectory(const std::string& name) {
  return fs::temp_directory_path() /
         ("verdict-" + name + "-" + std::to_string(::getpid()));
}

fs::path RegressionDirectory() {
  const char* dir = std::getenv("VERDICT_DIFFERENTIAL_REGRESSIONS");
  if (dir != nullptr && *dir != '\0') return dir;
  return fs::path(VERDICT_SOURCE_DIR) / "tests" / "differential" / "regressions";
}

// Minimises a disagreeing case, prints it and saves it as a regression.
void ReportDisagreement(DifferentialCase c, const fs::path& scratch) {
  const std::optional<std::string> first = Disagreement(c, scratch);
  ADD_FAILURE() << "the engine disagrees with the reference interpreter\n"
                << c.PolicyFile() << "\nrequest: " << c.request.dump() << "\n"
                << "max_dag_nodes: " << c.max_dag_nodes << "\n"
                << first.value_or("(no longer disagrees on its own)");
  if (!first) return;
  DifferentialCase minimal = Minimise(std::move(c), [&](const DifferentialCase& d) {
    return Disagreement(d, scratch).has_value();
  });
  std::string error;
  std::unique_ptr<PreparedCase> prepared =
      PreparedCase::Prepare(minimal, scratch, &error);
  ASSERT_NE(prepared, nullptr) << error;
  std::optional<Outcome> expected = prepared->Reference(minimal.request, &error);
  ASSERT_TRUE(expected.has_value()) << error;
  const fs::path saved = SaveRegression(minimal, *expected, RegressionDirectory());
  ADD_FAILURE() << "minimised to " << minimal.PolicyCount() << " policies, saved in "
                << saved.string() << "\n"
                << minimal.PolicyFile() << "\nrequest: " << minimal.request.dump()
                << "\ndata: " << minimal.data.dump() << "\nmax_dag_nodes: "
                << minimal.max_dag_nodes << "\n"
                << Disagreement(minimal, scratch).value_or("");
}

TEST(Differential, DagAgreesWithReferenceInterpreter) {
  const int64_t cases = EnvironmentNumber("VERDICT_DIFFERENTIAL_CASES", kDefaultCases);
  const uint64_t seed = EnvironmentNumber("VERDICT_DIFFERENTIAL_SEED", kDefaultSeed);
  const auto start = std::chrono::steady_clock::now();
  const fs::path scratch = ScratchDirectory("differential");
  CaseGenerator generator(seed);
  const Json data = CaseGenerator::Data();
  int64_t decided = 0;
  int64_t permits = 0;
  int64_t with_duties = 0;
  int disagreements = 0;
  for (int64_t round = 0; decided < cases && disagreements < 3; ++round) {
    DifferentialCase c;
    c.in_module = generator.Uniform(4) == 0;
    c.members = generator.Members(1 + generator.Uniform(8));
    c.data = data;
    std::string error;
    std::unique_ptr<PreparedCase> full =
        PreparedCase::Prepare(c, scratch / "full", &error);
    ASSERT_NE(full, nullptr) << error << "\n" << c.PolicyFile();
    DifferentialCase small_case = c;
    small_case.max_dag_nodes = kSmallBudgets[round % 3];
    std::unique_ptr<PreparedCase> small =
        PreparedCase::Prepare(small_case, scratch / "small", &error);
    ASSERT_NE(small, nullptr) << error << "\n" << c.PolicyFile();
    for (int i = 0; i < kRequestsPerRound && decided < cases; ++i) {
      c.request = generator.Request();
      std::optional<Outcome> reference = full->Reference(c.request, &error);
      ASSERT_TRUE(reference.has_value()) << error << "\n" << c.request.dump();
      std::optional<Outcome> engine = full->Engine(c.request, &error);
      std::optional<Outcome> engine_small = small->Engine(c.request, &error);
      ASSERT_TRUE(engine.has_value()) << error;
      ASSERT_TRUE(engine_small.has_value()) << error;
      ++decided;
      permits += reference->permit;
      with_duties += !reference->duties.empty();
      if (*engine != *reference) {
        ++disagreements;
        ReportDisagreement(c, scratch / "minimise");
      } else if (*engine_small != *reference) {
        ++disagreements;
        small_case.request = c.request;
        ReportDisagreement(small_case, scratch / "minimise");
      }
    }
  }
  fs::remove_all(scratch);
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start).count();
  std::printf("differential: %lld cases, seed %llu, %lld permits, %lld with "
              "duties, %.1f s\n",
              static_cast<long long>(decided), static_cast<unsigned long long>(seed),
              static_cast<long long>(permits), static_cast<long long>(with_duties),
              seconds);
  EXPECT_EQ(disagreements, 0);
  // The generator must produce both outcomes and duties often enough to
  // mean something.
  EXPECT_GT(permits, decided / 20);
  EXPECT_LT(permits, decided - decided / 20);
  EXPECT_GT(with_duties, decided / 100);
}

// Every saved regression case still decides as the reference did.
TEST(Differential, RegressionsStillAgree) {
  const fs::path root =
      fs::path(VERDICT_SOURCE_DIR) / "tests" / "differential" / "regressions";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    SCOPED_TRACE(entry.path().string());
    std::ifstream expected_file(entry.path() / "expected.json");
    std::ifstream request_file(entry.path() / "request.json");
    const Json expected = Json::parse(expected_file);
    const Json request = Json::parse(request_file);
    std::string error;
    std::unique_ptr<PreparedCase> prepared = PreparedCase::Load(
        entry.path(), expected.at("max_dag_nodes").get<size_t>(), &error);
    ASSERT_NE(prepared, nullptr) << error;
    std::optional<Outcome> engine = prepared->Engine(request, &error);
    ASSERT_TRUE(engine.has_value()) << error;
    EXPECT_EQ(engine->ToJson(), Outcome::FromJson(expected).ToJson());
    ++replayed;
  }
  if (replayed == 0) GTEST_SKIP() << "no saved regression cases in " << root;
}

// The minimiser, fed an engine that flips every permit for subject u2,
// must shrink a generated case to one policy and the one attribute that
// triggers the fault.
TEST(Differential, MinimiserShrinksFlippedDecision) {
  const fs::path scratch = ScratchDirectory("minimiser");
  const EngineFault flip_u2 = [](const Json& request, Outcome& engine) {
    const Json& subject = request.value("subject", Json::object());
    if (engine.permit && subject.value("id", "") == "u2") {
      engine.permit = false;
      engine.determining.clear();
      engine.duties.clear();
    }
  };
  CaseGenerator generator(7);
  const Json data = CaseGenerator::Data();
  std::optional<DifferentialCase> failing;
  for (int attempt = 0; attempt < 2000 && !failing; ++attempt) {
    DifferentialCase c;
    c.members = generator.Members(6);
    c.data = data;
    c.request = generator.Request();
    if (c.request["subject"].value("id", "") != "u2") continue;
    if (Disagreement(c, scratch, flip_u2)) failing = std::move(c);
  }
  ASSERT_TRUE(failing.has_value()) << "no generated case triggers the fault";
  ASSERT_GE(failing->PolicyCount(), 3u);
  const DifferentialCase minimal =
      Minimise(*failing, [&](const DifferentialCase& c) {
        return Disagreement(c, scratch, flip_u2).has_value();
      });
  fs::remove_all(scratch);
  EXPECT_TRUE(Disagreement(minimal, ScratchDirectory("minimiser-check"), flip_u2));
  fs::remove_all(ScratchDirectory("minimiser-check"));
  EXPECT_EQ(minimal.PolicyCount(), 1u) << minimal.PolicyFile();
  ASSERT_EQ(minimal.members.size(), 1u);
  EXPECT_FALSE(minimal.members[0].is_set);
  const GeneratedPolicy& policy = minimal.members[0].policy;
  EXPECT_FALSE(policy.forbid);
  EXPECT_TRUE(policy.duties.empty());
  // A template keeps its binding terms, and any other condition goes.
  if (policy.data_set.empty()) {
    EXPECT_FALSE(policy.condition.has_value());
    const Json only_u2 = {{"subject", {{"id", "u2"}}}};
    EXPECT_EQ(minimal.request, only_u2);
  }
  EXPECT_LE(minimal.data.dump().size(), data.dump().size() / 2);
}

}  // namespace
}  // namespace verdict::testing
