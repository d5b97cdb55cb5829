// End to end: `verdict serve --metrics-listen` on loopback, scraped over
// HTTP after decisions and reloads, with every page checked against the
// text exposition format.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/server/prometheus_text.h"

extern char** environ;

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::verdict::server::testing::ParsePrometheusText;
using ::verdict::server::testing::PromPage;

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kReloadTimeout = std::chrono::seconds(15);
constexpr auto kExitTimeout = std::chrono::seconds(15);

std::string ReadText(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Returns the port in a port file once it is complete, else 0.
int ReadPort(const fs::path& path) {
  std::string text = ReadText(path);
  if (text.empty() || text.back() != '\n') return 0;
  text.pop_back();
  int port = 0;
  return absl::SimpleAtoi(text, &port) ? port : 0;
}

bool WaitFor(std::chrono::milliseconds timeout,
             const std::function<bool()>& done) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// `verdict serve` on a copy of the Todo example, with its metrics listener
// and AuthZEN listener on ports the OS chose. The destructor stops it with
// SIGTERM (only this PID), then SIGKILL after kExitTimeout.
class ServeProcess {
 public:
  // `extra_args` are appended to the command line.
  explicit ServeProcess(const fs::path& dir,
                        const std::vector<std::string>& extra_args = {})
      : dir_(dir) {
    std::vector<std::string> args = {
        VERDICT_BINARY,
        "serve",
        "--policies",
        (dir_ / "policies").string(),
        "--data",
        (dir_ / "data").string(),
        "--listen",
        "127.0.0.1:0",
        "--port-file",
        (dir_ / "grpc-port").string(),
        "--http-listen",
        "127.0.0.1:0",
        "--http-port-file",
        (dir_ / "http-port").string(),
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-port-file",
        (dir_ / "metrics-port").string(),
    };
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string log = (dir_ / "serve.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);

    // The metrics port file is written last.
    WaitFor(
        std::chrono::duration_cast<std::chrono::milliseconds>(kStartTimeout),
        [&] {
          int status = 0;
          if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return true;
          }
          return ReadPort(dir_ / "metrics-port") != 0;
        });
    metrics_port_ = ReadPort(dir_ / "metrics-port");
    http_port_ = ReadPort(dir_ / "http-port");
  }

  ~ServeProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = WaitFor(
        std::chrono::duration_cast<std::chrono::milliseconds>(kExitTimeout),
        [&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }

  bool Reload() { return pid_ > 0 && kill(pid_, SIGHUP) == 0; }
  int metrics_port() const { return metrics_port_; }
  int http_port() const { return http_port_; }
  std::string Log() const { return ReadText(dir_ / "serve.log"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  int http_port_ = 0;
};

class MetricsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = ::testing::TempDir() + "metrics_e2e_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
    root_ = dir;
    fs::copy(VERDICT_TODO_EXAMPLE_DIR, root_, fs::copy_options::recursive);
  }

  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  // GETs /metrics on `port` and parses it; fails the test on any error.
  PromPage Scrape(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    httplib::Result result = client.Get("/metrics");
    EXPECT_TRUE(result) << "GET /metrics on port " << port << " failed";
    if (!result) return {};
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    absl::StatusOr<PromPage> page = ParsePrometheusText(result->body);
    EXPECT_TRUE(page.ok()) << page.status() << "\n" << result->body;
    return page.ok() ? *page : PromPage{};
  }

  // POSTs `body` to /access/v1/evaluation and returns the response.
  httplib::Result Evaluate(int port, const std::string& body) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    return client.Post("/access/v1/evaluation", body, "application/json");
  }

  double Reloads(const PromPage& page, const std::string& result) {
    return page.Value("verdict_policy_reloads_total", {{"result", result}});
  }

  fs::path root_;
};

TEST_F(MetricsE2eTest, ServesRevisionReloadsAndServiceCounters) {
  ServeProcess serve(root_);
  ASSERT_NE(serve.metrics_port(), 0) << serve.Log();

  const PromPage page = Scrape(serve.metrics_port());
  EXPECT_EQ(Reloads(page, "ok"), 1) << "the initial load counts";
  EXPECT_EQ(Reloads(page, "rejected"), 0);
  EXPECT_GT(page.Value("verdict_policy_last_reload_success_timestamp_seconds"),
            1.7e9);
  EXPECT_EQ(page.Value("verdict_grpc_in_flight"), 0);
  EXPECT_EQ(page.Value("verdict_grpc_rejected_in_flight_total",
                       {{"service", "ext_authz"}}),
            0);

  // The revision label is the one decisions carry.
  const httplib::Result decided =
      Evaluate(serve.http_port(),
               ReadText(root_ / "requests" / "beth-creates-todo.json"));
  ASSERT_TRUE(decided);
  ASSERT_EQ(decided->status, 200) << decided->body;
  const std::string revision =
      nlohmann::json::parse(decided->body)["context"]["revision"];
  EXPECT_EQ(
      Scrape(serve.metrics_port())
          .Value("verdict_policy_revision_info", {{"revision", revision}}),
      1);
}

TEST_F(MetricsE2eTest, CountsReloadsPublishedAndRejected) {
  ServeProcess serve(root_);
  ASSERT_NE(serve.metrics_port(), 0) << serve.Log();

  ASSERT_TRUE(serve.Reload());
  EXPECT_TRUE(WaitFor(kReloadTimeout, [&] {
    return Reloads(Scrape(serve.metrics_port()), "ok") == 2;
  })) << serve.Log();

  // A policy that does not compile is rejected; the file watcher or the
  // SIGHUP may each trigger a reload, so count at least one.
  std::ofstream(root_ / "policies" / "broken.verdict") << "permit \"x\" when {";
  ASSERT_TRUE(serve.Reload());
  EXPECT_TRUE(WaitFor(kReloadTimeout, [&] {
    return Reloads(Scrape(serve.metrics_port()), "rejected") >= 1;
  })) << serve.Log();
  EXPECT_EQ(Reloads(Scrape(serve.metrics_port()), "ok"), 2);
}

TEST_F(MetricsE2eTest, CountsAuthzenDecisions) {
  ServeProcess serve(root_);
  ASSERT_NE(serve.metrics_port(), 0) << serve.Log();

  int permits = 0;
  int denies = 0;
  for (const char* name :
       {"beth-creates-todo.json", "morty-updates-rick-todo.json",
        "rick-deletes-morty-todo.json", "beth-creates-todo.json"}) {
    const httplib::Result reply =
        Evaluate(serve.http_port(), ReadText(root_ / "requests" / name));
    ASSERT_TRUE(reply) << name;
    ASSERT_EQ(reply->status, 200) << reply->body;
    if (nlohmann::json::parse(reply->body)["decision"] == true) {
      ++permits;
    } else {
      ++denies;
    }
  }
  // Not JSON: rejected before decoding.
  const httplib::Result malformed = Evaluate(serve.http_port(), "{");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);

  // The AuthZEN listener serves the same page as the metrics listener.
  const PromPage page = Scrape(serve.http_port());
  auto decisions = [&](const std::string& outcome) {
    return page.Value("verdict_decisions_total",
                      {{"api", "authzen_evaluation"}, {"outcome", outcome}});
  };
  EXPECT_EQ(decisions("permit"), permits);
  EXPECT_EQ(decisions("deny"), denies);
  EXPECT_EQ(decisions("invalid"), 1);
  EXPECT_EQ(page.Value("verdict_decision_duration_seconds_count",
                       {{"api", "authzen_evaluation"}}),
            permits + denies);
  EXPECT_GT(page.Value("verdict_decision_duration_seconds_sum",
                       {{"api", "authzen_evaluation"}}),
            0);
}

TEST_F(MetricsE2eTest, OtherPathsAreNotFound) {
  ServeProcess serve(root_);
  ASSERT_NE(serve.metrics_port(), 0) << serve.Log();
  httplib::Client client("127.0.0.1", serve.metrics_port());
  client.set_read_timeout(5, 0);
  const httplib::Result evaluation =
      client.Post("/access/v1/evaluation", "{}", "application/json");
  ASSERT_TRUE(evaluation);
  EXPECT_EQ(evaluation->status, 404) << "the metrics listener serves no API";
  const httplib::Result post = client.Post("/metrics", "", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

// The shadow policy set lets only admins create todos, and the enforced
// one lets editors too. Morty, an editor, is permitted to create a todo.
// The shadow set's deny is counted, logged and written to the decision
// log without changing the response.
TEST_F(MetricsE2eTest, ShadowDifferencesAreCountedAndLogged) {
  fs::copy(root_ / "policies", root_ / "shadow", fs::copy_options::recursive);
  const fs::path todo = root_ / "shadow" / "todo.verdict";
  std::string text = ReadText(todo);
  const std::string editors =
      R"(("admin" in subject.roles or "editor" in subject.roles))";
  const size_t at = text.find(editors);
  ASSERT_NE(at, std::string::npos) << "the Todo example's create-todo rule "
                                      "changed; update this test";
  text.replace(at, editors.size(), R"("admin" in subject.roles)");
  std::ofstream(todo, std::ios::trunc) << text;

  const fs::path log = root_ / "decisions.log";
  ServeProcess serve(root_, {"--shadow-policies", (root_ / "shadow").string(),
                             "--decision-log", log.string()});
  ASSERT_NE(serve.metrics_port(), 0) << serve.Log();

  const std::string morty_creates = R"({
    "subject": {"type": "user",
                "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
    "action": {"name": "can_create_todo"},
    "resource": {"type": "todo", "id": "todo-9"}})";
  const httplib::Result differs = Evaluate(serve.http_port(), morty_creates);
  ASSERT_TRUE(differs);
  ASSERT_EQ(differs->status, 200) << differs->body;
  const nlohmann::json enforced = nlohmann::json::parse(differs->body);
  EXPECT_EQ(enforced["decision"], true) << "the shadow set must not enforce";
  const httplib::Result same =
      Evaluate(serve.http_port(),
               ReadText(root_ / "requests" / "beth-creates-todo.json"));
  ASSERT_TRUE(same);
  ASSERT_EQ(same->status, 200) << same->body;

  const std::map<std::string, std::string> api = {
      {"api", "authzen_evaluation"}};
  ASSERT_TRUE(WaitFor(kReloadTimeout, [&] {
    return Scrape(serve.metrics_port())
               .Value("verdict_decision_log_written_total") == 2;
  })) << serve.Log();
  const PromPage page = Scrape(serve.metrics_port());
  EXPECT_EQ(
      page.Value("verdict_shadow_policy_reloads_total", {{"result", "ok"}}), 1);
  EXPECT_EQ(page.Value("verdict_shadow_decisions_total", api), 2);
  EXPECT_EQ(page.Value("verdict_shadow_differences_total", api), 1);
  EXPECT_EQ(page.Value("verdict_shadow_outcomes_total",
                       {{"enforced", "permit"}, {"shadow", "deny"}}),
            1);
  EXPECT_EQ(page.Value("verdict_shadow_outcomes_total",
                       {{"enforced", "deny"}, {"shadow", "deny"}}),
            1);
  EXPECT_NE(serve.Log().find("shadow policy set differs"), std::string::npos)
      << serve.Log();

  std::istringstream lines(ReadText(log));
  std::string line;
  int differing = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    ASSERT_TRUE(entry.contains("shadow")) << line;
    if (entry["decision_id"] != enforced["context"]["decision_id"]) continue;
    ++differing;
    EXPECT_EQ(entry["result"]["decision"], true) << line;
    EXPECT_EQ(entry["shadow"]["decision"], false) << line;
    EXPECT_EQ(entry["shadow"]["differs"], true) << line;
    EXPECT_NE(entry["shadow"]["revision"], entry["revision"]) << line;
  }
  EXPECT_EQ(differing, 1) << ReadText(log);
}

}  // namespace
}  // namespace verdict::server
