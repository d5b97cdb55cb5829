// Tests of the decision log: the JSON line of each decision, masking, the
// absence of tokens, rotation, drops and the writer thread.

#include "server/decision_log.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/compile_text.h"

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPolicies[] = R"(
schema subject { id: string  email: string  roles: set<string> }
schema action { name: string }
schema resource { type: string  owner: string }
schema context { ip?: ip  token?: string  tenant?: string  size?: decimal }
schema request {
  headers.authorization?: set<string>
  headers.cookie?: set<string>
  headers.x_tenant?: set<string>
}

permit "read-docs" when { action.name == "read" and resource.type == "doc" }
  obligation "audit" { who: subject.id, mail: subject.email }
  advice "tenant" { header: request.headers.authorization }

forbid "owner-only-edit" when {
  action.name == "edit" and resource.owner != subject.id
}
)";

// A compact JWS as a PEP would present it; it must never reach the file.
constexpr char kToken[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
    "eyJzdWIiOiJhbGljZSIsImF1ZCI6InZlcmRpY3QifQ."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi10aGF0LW11c3Qtbm90LWxlYWs";

// 2026-12-05T06:41:45.040Z, plus 500 microseconds that the line drops.
int64_t StartNanos() {
  return absl::ToUnixNanos(absl::FromCivil(
             absl::CivilSecond(2026, 12, 5, 6, 41, 45), absl::UTCTimeZone())) +
         40'500'000;
}

std::shared_ptr<const Program> SharedProgram() {
  static const std::shared_ptr<const Program> program = [] {
    compiler::Compilation compiled = testing::CompileText(kPolicies);
    if (compiled.program == nullptr) {
      ADD_FAILURE() << compiled.diagnostics;
      std::abort();
    }
    return std::shared_ptr<const Program>(std::move(compiled.program));
  }();
  return program;
}

absl::Status DecodeNothing(const Program&, Frame&) { return absl::OkStatus(); }

// One request decoded and, when valid, decided: the parts a DecisionEvent
// refers to.
struct Decided {
  explicit Decided(const std::string& json,
                   std::vector<std::string> tokens = {})
      : program(SharedProgram()), presented(std::move(tokens)) {
    status = DecodeJsonRequest(*program, json, 1'700'000'000, frame);
    if (!presented.empty()) {
      RequestBuilder builder(*program, frame);
      for (const std::string& token : presented) {
        builder.presentation().tokens.push_back(
            PresentedToken{.kind = "access_token", .jwt = token});
      }
    }
    if (status.ok()) decision = Evaluate(*program, frame);
  }

  DecisionEvent Event() const {
    return DecisionEvent{
        .api = DecisionApi::kDecide,
        .program = *program,
        .frame = frame,
        .decision = status.ok() ? &decision : nullptr,
        .status = status,
        .start_nanos = StartNanos(),
        .duration_nanos = 41'000,
        .decode_again = DecodeNothing,
    };
  }

  std::shared_ptr<const Program> program;
  std::vector<std::string> presented;
  Frame frame;
  absl::Status status;
  Decision decision;
};

constexpr char kReadRequest[] = R"({
  "subject": {"type": "user", "id": "alice",
              "properties": {"email": "alice@example.com",
                             "roles": ["editor", "admin"]}},
  "action": {"name": "read"},
  "resource": {"type": "doc", "id": "d1"},
  "context": {"ip": "10.1.2.3", "tenant": "acme", "size": "12.5"},
  "attributes": {"request": {"headers": {
      "authorization": ["Bearer secret-bearer-value"],
      "cookie": ["session=secret-cookie-value"],
      "x_tenant": ["acme"]}}}
})";

nlohmann::json Line(const Decided& decided, std::vector<std::string> masks = {},
                    const ShadowDecision* shadow = nullptr) {
  absl::StatusOr<AttributeMasks> created = AttributeMasks::Create(masks);
  EXPECT_TRUE(created.ok()) << created.status();
  const std::string text =
      FormatDecisionLine(decided.Event(), shadow, *created);
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
  return nlohmann::json::parse(text);
}

// A fresh directory for one test's files, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("verdict-dlog-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, ignored);
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Parses every line of `path`, failing on one that is not a JSON object.
std::vector<nlohmann::json> ReadLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream text(ReadAll(path));
  for (std::string line; std::getline(text, line);) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << line;
    lines.push_back(std::move(parsed));
  }
  return lines;
}

std::unique_ptr<DecisionLog> OpenLog(DecisionLogOptions options) {
  absl::StatusOr<std::unique_ptr<DecisionLog>> log =
      DecisionLog::Open(std::move(options));
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

TEST(DecisionLogLine, PermitFields) {
  Decided decided(kReadRequest);
  ASSERT_TRUE(decided.status.ok()) << decided.status;
  const nlohmann::json line = Line(decided);

  EXPECT_EQ(line["decision_id"], decided.decision.id.ToString());
  EXPECT_EQ(line["time"], "2026-12-05T06:41:45.040Z");
  EXPECT_EQ(line["api"], "decide");
  EXPECT_EQ(line["revision"], decided.program->revision);
  EXPECT_EQ(line["duration_ns"], 41'000);
  EXPECT_FALSE(line.contains("error"));
  EXPECT_FALSE(line.contains("shadow"));

  const nlohmann::json& input = line["input"];
  EXPECT_EQ(input["subject"]["id"], "alice");
  EXPECT_EQ(input["subject"]["email"], "alice@example.com");
  // Sets are in the engine's order, not sorted by text.
  std::vector<std::string> roles = input["subject"]["roles"];
  std::sort(roles.begin(), roles.end());
  EXPECT_EQ(roles, (std::vector<std::string>{"admin", "editor"}));
  EXPECT_EQ(input["action"]["name"], "read");
  EXPECT_EQ(input["context"]["ip"], "10.1.2.3");
  EXPECT_EQ(input["context"]["size"], "12.5");
  EXPECT_EQ(input["request"]["headers"]["x_tenant"],
            nlohmann::json({"acme"}));
  EXPECT_FALSE(input["resource"].contains("owner"));

  const nlohmann::json& result = line["result"];
  EXPECT_EQ(result["decision"], true);
  EXPECT_EQ(result["reasons"], nlohmann::json({"permit:read-docs"}));
  EXPECT_EQ(result["policies"], nlohmann::json({"read-docs"}));
  EXPECT_EQ(result["errors"], nlohmann::json::array());
  ASSERT_EQ(result["obligations"].size(), 1u);
  EXPECT_EQ(result["obligations"][0]["name"], "audit");
  EXPECT_EQ(result["obligations"][0]["fields"]["who"], "alice");
  EXPECT_FALSE(result.contains("decision_id"));
  EXPECT_FALSE(result.contains("revision"));
}

TEST(DecisionLogLine, PolicyErrorWithMessage) {
  // resource.owner is absent, so the forbid errors and denies.
  Decided decided(R"({"subject": {"type": "user", "id": "alice",
                                  "properties": {"roles": []}},
                      "action": {"name": "edit"},
                      "resource": {"type": "doc", "id": "d1"}})");
  ASSERT_TRUE(decided.status.ok()) << decided.status;
  const nlohmann::json result = Line(decided)["result"];

  EXPECT_EQ(result["decision"], false);
  EXPECT_EQ(result["reasons"], nlohmann::json({"forbid_error:owner-only-edit"}));
  ASSERT_EQ(result["errors"].size(), 1u);
  EXPECT_EQ(result["errors"][0]["policy"], "owner-only-edit");
  EXPECT_THAT(result["errors"][0]["message"].get<std::string>(),
              HasSubstr("resource.owner"));
}

TEST(DecisionLogLine, MasksExactPathAndPrefix) {
  Decided decided(kReadRequest);
  const nlohmann::json line = Line(decided, {"subject.email", "context."});

  EXPECT_EQ(line["input"]["subject"]["email"], kMaskedValue);
  EXPECT_EQ(line["input"]["subject"]["id"], "alice");
  EXPECT_EQ(line["input"]["context"]["ip"], kMaskedValue);
  EXPECT_EQ(line["input"]["context"]["tenant"], kMaskedValue);
  EXPECT_EQ(line["input"]["context"]["size"], kMaskedValue);
  // The obligation reads subject.email, so its field is masked too.
  EXPECT_EQ(line["result"]["obligations"][0]["fields"]["mail"], kMaskedValue);
  EXPECT_EQ(line["result"]["obligations"][0]["fields"]["who"], "alice");
  EXPECT_THAT(line.dump(), Not(HasSubstr("alice@example.com")));
}

TEST(DecisionLogLine, MasksCredentialHeadersByDefault) {
  Decided decided(kReadRequest);
  const nlohmann::json line = Line(decided);
  const nlohmann::json& headers = line["input"]["request"]["headers"];

  EXPECT_EQ(headers["authorization"], kMaskedValue);
  EXPECT_EQ(headers["cookie"], kMaskedValue);
  EXPECT_EQ(headers["x_tenant"], nlohmann::json({"acme"}));
  EXPECT_EQ(line["result"]["advice"][0]["fields"]["header"], kMaskedValue);
  EXPECT_THAT(line.dump(), Not(HasSubstr("secret-bearer-value")));
  EXPECT_THAT(line.dump(), Not(HasSubstr("secret-cookie-value")));
}

TEST(DecisionLogLine, InvalidRequestHasError) {
  Decided decided(R"({"subject": {"type": "user", "id": 7}})");
  ASSERT_FALSE(decided.status.ok());
  const nlohmann::json line = Line(decided);

  EXPECT_EQ(line["error"], std::string(decided.status.message()));
  EXPECT_FALSE(line.contains("result"));
  EXPECT_FALSE(line.contains("decision_id"));
  EXPECT_EQ(line["revision"], decided.program->revision);
}

TEST(DecisionLogLine, ErrorNamingMaskedAttributeIsReplaced) {
  Decided decided(
      R"({"subject": {"type": "user", "id": "a",
                      "properties": {"email": ["secret@example.com"]}}})");
  ASSERT_FALSE(decided.status.ok());
  ASSERT_THAT(decided.status.message(), HasSubstr("subject.email"));
  const nlohmann::json line = Line(decided, {"subject.email"});

  EXPECT_THAT(line["error"].get<std::string>(),
              HasSubstr("names the masked attribute subject.email"));
  EXPECT_THAT(line.dump(), Not(HasSubstr("secret@example.com")));
}

TEST(DecisionLogLine, ShadowMember) {
  Decided enforced(kReadRequest);
  Decided shadowed(R"({"subject": {"type": "user", "id": "alice",
                                   "properties": {"roles": []}},
                       "action": {"name": "write"},
                       "resource": {"type": "doc", "id": "d1"}})");
  const ShadowDecision shadow{.program = *shadowed.program,
                              .frame = shadowed.frame,
                              .decision = &shadowed.decision,
                              .status = shadowed.status,
                              .differs = true};
  const nlohmann::json member = Line(enforced, {}, &shadow)["shadow"];

  EXPECT_EQ(member["revision"], shadowed.program->revision);
  EXPECT_EQ(member["decision"], false);
  EXPECT_EQ(member["reasons"], nlohmann::json({"default_deny"}));
  EXPECT_EQ(member["differs"], true);
  EXPECT_FALSE(member.contains("error"));
}

TEST(DecisionLogLine, InvalidShadowHasError) {
  Decided enforced(kReadRequest);
  Decided shadowed(R"({"action": {"name": 5}})");
  ASSERT_FALSE(shadowed.status.ok());
  const ShadowDecision shadow{.program = *shadowed.program,
                              .frame = shadowed.frame,
                              .decision = nullptr,
                              .status = shadowed.status,
                              .differs = true};
  const nlohmann::json member = Line(enforced, {}, &shadow)["shadow"];

  EXPECT_EQ(member["error"], std::string(shadowed.status.message()));
  EXPECT_FALSE(member.contains("decision"));
}

TEST(DecisionLogLine, InputNestsByPath) {
  Decided decided(kReadRequest);
  const nlohmann::json line = Line(decided);
  // Every present attribute of the schema is in the input, nested.
  EXPECT_TRUE(line["input"]["resource"]["type"].is_string());
  EXPECT_TRUE(line["input"]["request"]["headers"].is_object());
}

// A token the request presents never reaches the file: not when an
// unmasked attribute repeats it, not inside a header, not in an error.
TEST(DecisionLog, TokenNeverReachesFile) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  const std::string bearer = std::string("Bearer ") + kToken;
  {
    std::unique_ptr<DecisionLog> log = OpenLog({.path = path});
    ASSERT_NE(log, nullptr);
    nlohmann::json request = nlohmann::json::parse(kReadRequest);
    request["context"]["token"] = kToken;
    request["attributes"]["request"]["headers"]["authorization"] = {bearer};
    request["attributes"]["request"]["headers"]["x_tenant"] = {kToken};
    Decided valid(request.dump(), {kToken});
    ASSERT_TRUE(valid.status.ok()) << valid.status;
    log->Write(valid.Event(), nullptr);

    // A token given for a decimal makes the decoder quote it.
    nlohmann::json invalid_request = request;
    invalid_request["context"]["size"] = kToken;
    Decided invalid(invalid_request.dump(), {kToken});
    ASSERT_FALSE(invalid.status.ok());
    ASSERT_THAT(invalid.status.message(),
                HasSubstr(std::string(kToken).substr(0, 64)));
    log->Write(invalid.Event(), nullptr);

    const ShadowDecision shadow{.program = *invalid.program,
                                .frame = invalid.frame,
                                .decision = nullptr,
                                .status = invalid.status,
                                .differs = true};
    log->Write(valid.Event(), &shadow);
  }
  const std::string text = ReadAll(path);
  ASSERT_EQ(ReadLines(path).size(), 3u);
  EXPECT_THAT(text, Not(HasSubstr(kToken)));
  // Its header and its signature alone, which an excerpt or a split copy
  // would show.
  EXPECT_THAT(text, Not(HasSubstr(std::string(kToken).substr(0, 40))));
  EXPECT_THAT(text, Not(HasSubstr("c2lnbmF0dXJlLW9mLXRoZS10b2tlbi10aGF0")));
  EXPECT_THAT(text, HasSubstr(kMaskedValue));
}

TEST(DecisionLog, DestructorDrainsQueue) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  constexpr int kLines = 2000;
  std::unique_ptr<DecisionLog> log =
      OpenLog({.path = path, .queue_capacity = kLines});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < kLines; ++i) log->Write(decided.Event(), nullptr);
  EXPECT_EQ(log->dropped(), 0);
  log.reset();
  EXPECT_EQ(ReadLines(path).size(), size_t{kLines});
}

TEST(DecisionLog, AppendsToExistingFile) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  for (int run = 0; run < 2; ++run) {
    std::unique_ptr<DecisionLog> log = OpenLog({.path = path});
    ASSERT_NE(log, nullptr);
    log->Write(decided.Event(), nullptr);
  }
  EXPECT_EQ(ReadLines(path).size(), 2u);
}

TEST(DecisionLog, RotatesBySize) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  absl::StatusOr<AttributeMasks> masks = AttributeMasks::Create({});
  ASSERT_TRUE(masks.ok());
  const size_t line_bytes =
      FormatDecisionLine(decided.Event(), nullptr, *masks).size();
  constexpr int kLines = 200;
  constexpr int kFiles = 3;
  const int64_t max_bytes = static_cast<int64_t>(line_bytes) * 10 + 5;
  {
    std::unique_ptr<DecisionLog> log = OpenLog({.path = path,
                                                .max_file_bytes = max_bytes,
                                                .max_files = kFiles,
                                                .queue_capacity = kLines});
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < kLines; ++i) {
      log->Write(decided.Event(), nullptr);
      // Lets some batches reach the writer alone, so rotation meets both
      // single lines and batches.
      if (i % 37 == 0) absl::SleepFor(absl::Milliseconds(2));
    }
    log.reset();
  }

  size_t total = 0;
  for (int i = 0; i <= kFiles; ++i) {
    const std::string file = i == 0 ? path : path + "." + std::to_string(i);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_LE(static_cast<int64_t>(fs::file_size(file)), max_bytes) << file;
    const std::vector<nlohmann::json> lines = ReadLines(file);
    if (i > 0) {
      EXPECT_EQ(lines.size(), 10u) << file;
    }
    total += lines.size();
  }
  EXPECT_FALSE(fs::exists(path + "." + std::to_string(kFiles + 1)));
  // The current file contains the lines after the last full one.
  EXPECT_EQ(total, size_t{(kLines - 1) % 10 + 1 + kFiles * 10});
}

TEST(DecisionLog, RotationLosesNoLines) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  constexpr int kLines = 500;
  std::unique_ptr<DecisionLog> log = OpenLog({.path = path,
                                              .max_file_bytes = 4096,
                                              .max_files = 1000,
                                              .queue_capacity = kLines});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < kLines; ++i) log->Write(decided.Event(), nullptr);
  log.reset();

  size_t total = ReadLines(path).size();
  for (int i = 1; fs::exists(path + "." + std::to_string(i)); ++i) {
    total += ReadLines(path + "." + std::to_string(i)).size();
  }
  EXPECT_EQ(total, size_t{kLines});
}

TEST(DecisionLog, NoRotatedFilesKept) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  std::unique_ptr<DecisionLog> log = OpenLog(
      {.path = path, .max_file_bytes = 4096, .max_files = 0});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 100; ++i) log->Write(decided.Event(), nullptr);
  log.reset();
  EXPECT_FALSE(fs::exists(path + ".1"));
  EXPECT_LE(fs::file_size(path), 4096u);
  EXPECT_GE(ReadLines(path).size(), 1u);
}

TEST(DecisionLog, CountsDropsWhenQueueIsFull) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  Decided decided(kReadRequest);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::unique_ptr<DecisionLog> log =
      OpenLog({.path = path, .queue_capacity = 4});
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) log->Write(decided.Event(), nullptr);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const int64_t dropped = log->dropped();
  log.reset();

  EXPECT_GT(dropped, 0);
  const int64_t lines = static_cast<int64_t>(ReadLines(path).size());
  EXPECT_EQ(lines + dropped, int64_t{kThreads * kPerThread});
}

TEST(DecisionLog, ConcurrentWritersKeepLinesWhole) {
  TempDir dir;
  const std::string path = dir.File("decisions.log");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::unique_ptr<DecisionLog> log =
      OpenLog({.path = path,
               .max_file_bytes = 64 << 10,
               .max_files = 100,
               .queue_capacity = kThreads * kPerThread});
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      // Each thread writes its own subject, so lines of different threads
      // differ in length and content.
      Decided decided(absl::StrCat(
          R"({"subject": {"type": "user", "id": ")", std::string(t * 50, 'u'),
          R"(", "properties": {"roles": []}},
              "action": {"name": "read"},
              "resource": {"type": "doc", "id": "d1"}})"));
      for (int i = 0; i < kPerThread; ++i) log->Write(decided.Event(), nullptr);
    });
  }
  for (std::thread& thread : threads) thread.join();
  log.reset();

  std::vector<int> per_thread(kThreads, 0);
  int total = 0;
  for (int i = 0; i <= 100; ++i) {
    const std::string file = i == 0 ? path : path + "." + std::to_string(i);
    if (!fs::exists(file)) continue;
    for (const nlohmann::json& line : ReadLines(file)) {
      const size_t id_size =
          line["input"]["subject"]["id"].get<std::string>().size();
      ASSERT_EQ(id_size % 50, 0u);
      ++per_thread[id_size / 50];
      ++total;
    }
  }
  EXPECT_EQ(total, kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kPerThread);
}

TEST(DecisionLog, CountsWritten) {
  TempDir dir;
  Decided decided(kReadRequest);
  std::unique_ptr<DecisionLog> log = OpenLog({.path = dir.File("d.log")});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 10; ++i) log->Write(decided.Event(), nullptr);
  for (int wait = 0; wait < 200 && log->written() < 10; ++wait) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(log->written(), 10);
  EXPECT_EQ(log->dropped(), 0);
  EXPECT_EQ(log->lost(), 0);
}

TEST(DecisionLogOpen, MissingDirectory) {
  TempDir dir;
  const std::string path = dir.File("missing/decisions.log");
  absl::StatusOr<std::unique_ptr<DecisionLog>> log =
      DecisionLog::Open({.path = path});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(log.status().message(), HasSubstr(path));
  EXPECT_THAT(log.status().message(), HasSubstr("create its directory"));
}

// Opens a log in a directory its user may not write to. Root may write to
// any directory, so as root the open runs in a child process that has
// switched to the user nobody (65534).
TEST(DecisionLogOpen, DirectoryNotWritable) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  const std::string path = dir.File("decisions.log");
  const auto open_fails = [&path] {
    absl::StatusOr<std::unique_ptr<DecisionLog>> log =
        DecisionLog::Open({.path = path});
    return !log.ok() &&
           log.status().code() == absl::StatusCode::kPermissionDenied &&
           log.status().message().find(path) != absl::string_view::npos &&
           log.status().message().find("writable") != absl::string_view::npos;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(open_fails());
    return;
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const bool switched = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    ::_exit(!switched ? 2 : open_fails() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: Open did not fail with PERMISSION_DENIED naming " << path
      << "; 2: could not switch to the user nobody";
}

TEST(DecisionLogOpen, PathIsDirectory) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<DecisionLog>> log =
      DecisionLog::Open({.path = dir.path().string()});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr(dir.path().string()));
}

TEST(DecisionLogOpen, InvalidOptions) {
  TempDir dir;
  const std::string path = dir.File("d.log");
  struct Case {
    const char* name;
    DecisionLogOptions options;
    const char* message;
  };
  const Case cases[] = {
      {"empty path", {.path = ""}, "path is empty"},
      {"zero size", {.path = path, .max_file_bytes = 0}, "file size 0"},
      {"negative files", {.path = path, .max_files = -1}, "files -1"},
      {"too many files", {.path = path, .max_files = 1001}, "files 1001"},
      {"empty queue", {.path = path, .queue_capacity = 0}, "queue of 0"},
      {"bad mask",
       {.path = path, .masked_attributes = {"subject..id"}},
       "'subject..id'"},
  };
  for (const Case& test : cases) {
    absl::StatusOr<std::unique_ptr<DecisionLog>> log =
        DecisionLog::Open(test.options);
    ASSERT_FALSE(log.ok()) << test.name;
    EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument)
        << test.name;
    EXPECT_THAT(log.status().message(), HasSubstr(test.message)) << test.name;
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(AttributeMasks, Covers) {
  absl::StatusOr<AttributeMasks> masks =
      AttributeMasks::Create({"subject.email", "context.", "resource"});
  ASSERT_TRUE(masks.ok()) << masks.status();
  struct Case {
    const char* path;
    bool covered;
  };
  const Case cases[] = {
      {"subject.email", true},
      {"subject.email.domain", true},
      {"subject.emails", false},
      {"subject.id", false},
      {"context.ip", true},
      {"context", true},
      {"contexts.ip", false},
      {"resource.owner", true},
      {"request.headers.authorization", true},
      {"request.headers.proxy_authorization", true},
      {"request.headers.cookie", true},
      {"request.query.access_token", true},
      {"request.headers.x_tenant", false},
  };
  for (const Case& test : cases) {
    EXPECT_EQ(masks->Covers(test.path), test.covered) << test.path;
  }
}

TEST(AttributeMasks, ValidatesPaths) {
  for (const char* valid :
       {"subject.email", "context.", "a", "request.headers.x-api-key",
        "subject.$ancestors"}) {
    EXPECT_TRUE(ValidateMaskPath(valid).ok()) << valid;
  }
  for (const char* invalid : {"", ".", "a..b", ".a", "a b", "a.*", "a.."}) {
    absl::Status status = ValidateMaskPath(invalid);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << invalid;
    EXPECT_THAT(status.message(), HasSubstr(std::string("'") + invalid + "'"));
  }
}

}  // namespace
}  // namespace verdict::server
