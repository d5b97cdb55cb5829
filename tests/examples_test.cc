// The shipped examples, decided end to end: every case file under
// examples/*/cases, every sample request under examples/*/requests, and the
// OpenID AuthZEN interop decision files against examples/authzen-todo.
//
// Case files are found when the test binary starts, so a new case needs no
// change here. A case file reads:
//   {"description": "...", "now": <Unix seconds>, "request": {AuthZEN request},
//    "expected": {"decision": true|false, "reasons": ["permit:<id>", ...]}}
// where every listed reason must appear among the decision's reasons.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace verdict {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using ::testing::Contains;

// The interop files and sample requests carry no times, and the Todo
// policies read no clock, so any fixed time works: 2026-01-01T00:00:00Z.
constexpr int64_t kFixedNow = 1767225600;

fs::path ExamplesDir() { return fs::path(VERDICT_SOURCE_DIR) / "examples"; }

fs::path InteropDir() {
  return fs::path(VERDICT_SHARED_DIR) / "authzen-interop";
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("failed to open ", path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses JSON without exceptions, so that a broken file fails its own test
// instead of aborting test registration.
absl::StatusOr<Json> ReadJson(const fs::path& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Json json = Json::parse(*text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), " is not valid JSON"));
  }
  return json;
}

// Turns `text` into a GoogleTest parameter name: each run of characters
// outside [A-Za-z0-9] becomes one underscore, with none at either end.
std::string SanitizeName(std::string_view text) {
  std::string name;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      name += c;
    } else if (!name.empty() && name.back() != '_') {
      name += '_';
    }
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  return name.empty() ? "unnamed" : name;
}

// Returns the entries of `dir` that satisfy `keep`, sorted by path so that
// test order and names do not depend on the file system.
template <typename Predicate>
std::vector<fs::path> SortedEntries(const fs::path& dir, Predicate keep) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (keep(entry)) entries.push_back(entry.path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<fs::path> ExampleDirs() {
  return SortedEntries(ExamplesDir(), [](const fs::directory_entry& entry) {
    return entry.is_directory();
  });
}

std::vector<fs::path> JsonFiles(const fs::path& dir) {
  return SortedEntries(dir, [](const fs::directory_entry& entry) {
    return entry.is_regular_file() && entry.path().extension() == ".json";
  });
}

// Compiles `<example_dir>/policies`, joining `<example_dir>/data` when it
// exists. Each example compiles once per run. The cache takes no lock,
// because GoogleTest runs the tests on one thread.
absl::StatusOr<std::shared_ptr<const Program>> CompileExample(
    const fs::path& example_dir) {
  static auto* cache =
      new std::map<fs::path, absl::StatusOr<std::shared_ptr<const Program>>>;
  auto it = cache->find(example_dir);
  if (it != cache->end()) return it->second;

  fs::path data_dir = example_dir / "data";
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory(
          (example_dir / "policies").string(),
          fs::is_directory(data_dir) ? data_dir.string() : "", {});
  absl::StatusOr<std::shared_ptr<const Program>> result;
  if (!compilation.ok()) {
    result = compilation.status();
  } else if (compilation->program == nullptr) {
    result = absl::InvalidArgumentError(
        absl::StrCat("policies of ", example_dir.string(), " do not compile:\n",
                     compilation->diagnostics));
  } else {
    result = compilation->program;
  }
  cache->emplace(example_dir, result);
  return result;
}

// The outcome of deciding one request.
struct Outcome {
  bool permit = false;
  std::vector<std::string> reasons;
};

absl::StatusOr<Outcome> Decide(const Program& program, const Json& request,
                               int64_t now) {
  Frame frame;
  absl::Status status = DecodeJsonRequest(program, request.dump(), now, frame);
  if (!status.ok()) return status;
  Decision decision = Evaluate(program, frame);
  return Outcome{decision.permit, DecisionReasons(program, frame, decision)};
}

// ---------------------------------------------------------------------------
// examples/*/cases/*.json

struct ExampleCase {
  std::string name;  // "zero_trust_s1_a_baseline"
  fs::path example_dir;
  fs::path file;
};

std::vector<ExampleCase> FindExampleCases() {
  std::vector<ExampleCase> cases;
  for (const fs::path& example_dir : ExampleDirs()) {
    for (const fs::path& file : JsonFiles(example_dir / "cases")) {
      cases.push_back(
          {SanitizeName(absl::StrCat(example_dir.filename().string(), "_",
                                     file.stem().string())),
           example_dir, file});
    }
  }
  return cases;
}

void PrintTo(const ExampleCase& example_case, std::ostream* out) {
  *out << example_case.file.string();
}

class ExampleCaseTest : public ::testing::TestWithParam<ExampleCase> {};

TEST_P(ExampleCaseTest, DecidesAsExpected) {
  const ExampleCase& param = GetParam();
  SCOPED_TRACE(param.file.string());
  absl::StatusOr<Json> file = ReadJson(param.file);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->is_object()) << "a case file must be one JSON object";
  SCOPED_TRACE(file->value("description", "(no description)"));
  const Json& expected = (*file)["expected"];
  ASSERT_TRUE((*file)["now"].is_number_integer())
      << "\"now\" must be Unix seconds";
  ASSERT_TRUE((*file)["request"].is_object())
      << "\"request\" must be an object";
  ASSERT_TRUE(expected.is_object()) << "\"expected\" must be an object";
  ASSERT_TRUE(expected["decision"].is_boolean())
      << "\"expected.decision\" must be true or false";

  absl::StatusOr<std::shared_ptr<const Program>> program =
      CompileExample(param.example_dir);
  ASSERT_TRUE(program.ok()) << program.status();
  absl::StatusOr<Outcome> outcome =
      Decide(**program, (*file)["request"], (*file)["now"].get<int64_t>());
  ASSERT_TRUE(outcome.ok()) << outcome.status();

  EXPECT_EQ(outcome->permit, expected["decision"].get<bool>())
      << "reasons: " << Json(outcome->reasons).dump();
  if (expected.contains("reasons")) {
    ASSERT_TRUE(expected["reasons"].is_array());
    for (const Json& reason : expected["reasons"]) {
      ASSERT_TRUE(reason.is_string()) << reason.dump();
      EXPECT_THAT(outcome->reasons, Contains(reason.get<std::string>()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleCaseTest,
                         ::testing::ValuesIn(FindExampleCases()),
                         [](const ::testing::TestParamInfo<ExampleCase>& info) {
                           return info.param.name;
                         });

// Guards against a walk that silently finds nothing, such as a wrong
// VERDICT_SOURCE_DIR, which would leave the table above empty.
TEST(ExampleCases, FindsZeroTrustCases) {
  std::vector<ExampleCase> cases = FindExampleCases();
  size_t zero_trust = std::count_if(
      cases.begin(), cases.end(), [](const ExampleCase& example_case) {
        return example_case.example_dir.filename() == "zero-trust";
      });
  EXPECT_GT(zero_trust, 0u)
      << "no case files under " << (ExamplesDir() / "zero-trust" / "cases");
}

// ---------------------------------------------------------------------------
// examples/*/requests/*.json

TEST(ExampleRequests, AllDecode) {
  size_t decoded = 0;
  for (const fs::path& example_dir : ExampleDirs()) {
    std::vector<fs::path> files = JsonFiles(example_dir / "requests");
    if (files.empty()) continue;
    absl::StatusOr<std::shared_ptr<const Program>> program =
        CompileExample(example_dir);
    ASSERT_TRUE(program.ok()) << program.status();
    for (const fs::path& file : files) {
      absl::StatusOr<std::string> text = ReadFile(file);
      ASSERT_TRUE(text.ok()) << text.status();
      Frame frame;
      absl::Status status =
          DecodeJsonRequest(**program, *text, kFixedNow, frame);
      EXPECT_TRUE(status.ok()) << file.string() << ": " << status;
      ++decoded;
    }
  }
  EXPECT_GT(decoded, 0u) << "no request files under "
                         << (ExamplesDir() / "*" / "requests");
}

// ---------------------------------------------------------------------------
// AuthZEN interop decision files against examples/authzen-todo.
//
// A file contains `evaluation`, a list of {"request", "expected": bool}, and
// optionally `evaluations`, a list of batch requests: top-level defaults for
// subject, action, resource and context plus an `evaluations` array whose
// items replace any of them, with "expected": [{"decision": bool}, ...].

struct InteropFile {
  const char* name;  // file name under InteropDir()
  const char* tag;   // prefix of the test names
};

constexpr InteropFile kInteropFiles[] = {
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-01.json",
     "todo_1_0_01"},
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-02.json",
     "todo_1_0_02"},
    {"authzen-api-gateways__test-harness__test__decisions.json", "gateway"},
};

struct InteropCase {
  std::string name;
  std::string file;
  size_t index = 0;  // position in `evaluation` or `evaluations`
  int item = -1;     // position in the batch, or -1 for `evaluation`
};

fs::path TodoExampleDir() { return ExamplesDir() / "authzen-todo"; }

// The interop files name users by opaque ids. The Todo user data gives each
// a name ("Rick Sanchez"), whose first word makes test names readable.
std::string UserName(const Json& subject) {
  static const auto* names = [] {
    auto* names = new std::map<std::string, std::string>;
    absl::StatusOr<Json> users =
        ReadJson(TodoExampleDir() / "data" / "users.json");
    if (!users.ok() || !users->is_object()) return names;
    for (const auto& [id, user] : users->items()) {
      if (!user.contains("name") || !user["name"].is_string()) continue;
      std::string name = user["name"].get<std::string>();
      (*names)[id] = name.substr(0, name.find(' '));
    }
    return names;
  }();
  if (!subject.is_object() || !subject.contains("id")) return "no_subject";
  auto it =
      names->find(subject["id"].is_string() ? subject["id"].get<std::string>()
                                            : subject["id"].dump());
  return it == names->end() ? "unknown_user" : it->second;
}

// Names a request by user, action and resource. A todo is named by the local
// part of its owner's email, which is shorter than its UUID and shows whose
// todo it is.
std::string Describe(const Json& request) {
  auto member = [&](const char* group, const char* key) -> std::string {
    if (!request.contains(group) || !request[group].is_object()) return "";
    const Json& entity = request[group];
    if (!entity.contains(key) || !entity[key].is_string()) return "";
    return entity[key].get<std::string>();
  };
  std::string resource = member("resource", "id");
  if (request.contains("resource") && request["resource"].is_object()) {
    const Json& properties =
        request["resource"].value("properties", Json::object());
    if (properties.is_object() && properties.contains("ownerID") &&
        properties["ownerID"].is_string()) {
      std::string owner = properties["ownerID"].get<std::string>();
      resource = absl::StrCat("of_", owner.substr(0, owner.find('@')));
    }
  }
  return absl::StrCat(UserName(request.value("subject", Json())), "_",
                      member("action", "name"), "_", resource);
}

// Returns the parsed interop file, read once per run.
const absl::StatusOr<Json>& InteropJson(const std::string& file) {
  static auto* cache = new std::map<std::string, absl::StatusOr<Json>>;
  auto it = cache->find(file);
  if (it == cache->end()) {
    it = cache->emplace(file, ReadJson(InteropDir() / file)).first;
  }
  return it->second;
}

// Builds item `item` of a batch request: the batch defaults with the item's
// members put in their place.
Json BatchItem(const Json& batch, size_t item) {
  Json request = Json::object();
  for (const char* member : {"subject", "action", "resource", "context"}) {
    if (batch.contains(member)) request[member] = batch[member];
  }
  const Json& overrides = batch["evaluations"][item];
  if (!overrides.is_object()) return request;
  for (const auto& [member, value] : overrides.items()) {
    request[member] = value;
  }
  return request;
}

std::vector<InteropCase> FindInteropCases() {
  std::vector<InteropCase> cases;
  for (const InteropFile& file : kInteropFiles) {
    const absl::StatusOr<Json>& json = InteropJson(file.name);
    if (!json.ok() || !json->is_object()) {
      // One case that fails with the read error, so a missing file is seen.
      cases.push_back({absl::StrCat(file.tag, "_unreadable"), file.name});
      continue;
    }
    const Json& single = json->value("evaluation", Json::array());
    for (size_t i = 0; i < single.size(); ++i) {
      std::string name =
          absl::StrCat(file.tag, "_", absl::Dec(i, absl::kZeroPad2), "_",
                       Describe(single[i].value("request", Json())));
      cases.push_back({SanitizeName(name), file.name, i});
    }
    const Json& batches = json->value("evaluations", Json::array());
    for (size_t i = 0; i < batches.size(); ++i) {
      const Json& batch = batches[i].value("request", Json());
      size_t items = batch.is_object() && batch.contains("evaluations")
                         ? batch["evaluations"].size()
                         : 0;
      for (size_t item = 0; item < items; ++item) {
        cases.push_back(
            {SanitizeName(absl::StrCat(file.tag, "_batch", i, "_item", item,
                                       "_", Describe(BatchItem(batch, item)))),
             file.name, i, static_cast<int>(item)});
      }
    }
  }
  return cases;
}

void PrintTo(const InteropCase& interop_case, std::ostream* out) {
  *out << interop_case.file << " " << interop_case.name;
}

class InteropTest : public ::testing::TestWithParam<InteropCase> {};

TEST_P(InteropTest, DecidesAsExpected) {
  const InteropCase& param = GetParam();
  const absl::StatusOr<Json>& file = InteropJson(param.file);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->is_object()) << param.file << " is not a JSON object";

  Json request;
  Json expected;
  if (param.item < 0) {
    const Json& entry = (*file)["evaluation"][param.index];
    ASSERT_TRUE(entry.contains("request")) << entry.dump();
    ASSERT_TRUE(entry.contains("expected")) << entry.dump();
    request = entry["request"];
    expected = entry["expected"];
  } else {
    const Json& entry = (*file)["evaluations"][param.index];
    ASSERT_TRUE(entry.contains("expected")) << entry.dump();
    ASSERT_TRUE(entry["expected"].is_array()) << entry.dump();
    ASSERT_LT(static_cast<size_t>(param.item), entry["expected"].size())
        << "fewer expected decisions than evaluations";
    const Json& item_expected = entry["expected"][param.item];
    ASSERT_TRUE(item_expected.contains("decision")) << item_expected.dump();
    request = BatchItem(entry["request"], param.item);
    expected = item_expected["decision"];
  }
  ASSERT_TRUE(expected.is_boolean()) << expected.dump();
  SCOPED_TRACE(request.dump());

  absl::StatusOr<std::shared_ptr<const Program>> program =
      CompileExample(TodoExampleDir());
  ASSERT_TRUE(program.ok()) << program.status();
  absl::StatusOr<Outcome> outcome = Decide(**program, request, kFixedNow);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->permit, expected.get<bool>())
      << "reasons: " << Json(outcome->reasons).dump();
}

INSTANTIATE_TEST_SUITE_P(AuthZen, InteropTest,
                         ::testing::ValuesIn(FindInteropCases()),
                         [](const ::testing::TestParamInfo<InteropCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace verdict
