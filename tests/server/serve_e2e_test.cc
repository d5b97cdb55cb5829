// End-to-end tests of `verdict serve` and `verdict decide`: start the real
// binary on a loopback port against a temporary copy of the Todo example,
// then talk to it over gRPC and through the CLI.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/json_convert.h"
#include "tests/server/test_util.h"
#include "verdict/v1/verdict.grpc.pb.h"

extern char** environ;

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using ::verdict::server::testing::ReadFile;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kReloadTimeout = std::chrono::seconds(15);
constexpr auto kExitTimeout = std::chrono::seconds(15);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

// Polls `done` until it returns true or `timeout` passes.
bool WaitFor(std::chrono::milliseconds timeout,
             const std::function<bool()>& done) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return done();
}

// A child process started with posix_spawn, its stdout and stderr sent to
// files. The destructor kills it (only this PID) if it is still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& args, const std::string& out,
               const std::string& err) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }

  ~ChildProcess() {
    if (pid_ > 0 && !exit_status_.has_value()) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  pid_t pid() const { return pid_; }

  bool Running() {
    Poll();
    return pid_ > 0 && !exit_status_.has_value();
  }

  // Waits up to `timeout` for the process to exit. Returns its exit code,
  // or nullopt when it is still running or a signal killed it.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    WaitFor(timeout, [&] { return !Running(); });
    if (!exit_status_.has_value() || !WIFEXITED(*exit_status_)) {
      return std::nullopt;
    }
    return WEXITSTATUS(*exit_status_);
  }

  bool Signal(int signal) { return pid_ > 0 && kill(pid_, signal) == 0; }

 private:
  void Poll() {
    if (pid_ <= 0 || exit_status_.has_value()) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

class ServeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = ::testing::TempDir() + "serve_e2e_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr) << dir;
    root_ = dir;
    fs::copy(VERDICT_TODO_EXAMPLE_DIR, root_, fs::copy_options::recursive);
    ASSERT_TRUE(fs::exists(PolicyDir() + "/todo.verdict"));
  }

  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  std::string PolicyDir() const { return root_ + "/policies"; }
  std::string DataDir() const { return root_ + "/data"; }
  std::string PortFile() const { return root_ + "/port"; }
  std::string LogFile() const { return root_ + "/serve.log"; }
  std::string ServerLog() const { return ReadFile(LogFile()); }

  // Starts `verdict serve` on 127.0.0.1 port 0 with `extra` arguments.
  void StartServer(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        VERDICT_BINARY, "serve",    "--policies",  PolicyDir(),   "--data",
        DataDir(),      "--listen", "127.0.0.1:0", "--port-file", PortFile()};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ =
        std::make_unique<ChildProcess>(args, root_ + "/serve.out", LogFile());
    ASSERT_GT(server_->pid(), 0) << "cannot start " << VERDICT_BINARY;
  }

  // Waits for the port file of a started server and connects to it.
  void Connect() {
    const bool ready = WaitFor(kStartTimeout, [&] {
      return fs::exists(PortFile()) || !server_->Running();
    });
    ASSERT_TRUE(ready) << "no port file within the timeout; log:\n"
                       << ServerLog();
    ASSERT_TRUE(fs::exists(PortFile()))
        << "the server exited without writing its port file; log:\n"
        << ServerLog();
    const std::string text = ReadFile(PortFile());
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port_))
        << "port file holds \"" << text << "\"";
    address_ = absl::StrCat("127.0.0.1:", port_);
    stub_ = v1::Verdict::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  v1::DecideRequest ExampleRequest(const std::string& name) {
    const std::string path =
        absl::StrCat(VERDICT_TODO_EXAMPLE_DIR, "/requests/", name, ".json");
    absl::StatusOr<v1::DecideRequest> request =
        JsonToDecideRequest(nlohmann::json::parse(ReadFile(path)));
    EXPECT_TRUE(request.ok()) << request.status();
    return request.ok() ? *request : v1::DecideRequest();
  }

  grpc::Status Decide(const v1::DecideRequest& request,
                      v1::DecideResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub_->Decide(&context, request, &response);
  }

  // Runs `verdict decide` against the server and returns its exit code.
  // Fills `out` and `err` with its standard output and standard error.
  std::optional<int> RunDecide(const std::vector<std::string>& extra,
                               std::string& out, std::string& err) {
    std::vector<std::string> args = {VERDICT_BINARY, "decide", "--server",
                                     address_};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string out_path = root_ + "/decide.out";
    const std::string err_path = root_ + "/decide.err";
    std::optional<int> code;
    {
      ChildProcess decide(args, out_path, err_path);
      code = decide.WaitForExit(kExitTimeout);
    }
    out = ReadFile(out_path);
    err = ReadFile(err_path);
    return code;
  }

  std::string root_;
  std::unique_ptr<ChildProcess> server_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<v1::Verdict::Stub> stub_;
};

TEST_F(ServeE2eTest, DecidesTodoRequests) {
  StartServer();
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_NE(ServerLog().find(absl::StrCat("INFO listening on ", address_)),
            std::string::npos)
      << ServerLog();

  v1::DecideResponse response;
  ASSERT_TRUE(Decide(ExampleRequest("rick-deletes-morty-todo"), response).ok());
  EXPECT_TRUE(response.decision());
  EXPECT_FALSE(response.revision().empty());

  v1::BatchDecideRequest batch;
  *batch.add_requests() = ExampleRequest("beth-creates-todo");
  *batch.add_requests() = ExampleRequest("morty-updates-rick-todo");
  *batch.add_requests() = ExampleRequest("rick-deletes-morty-todo");
  v1::BatchDecideResponse batch_response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  ASSERT_TRUE(stub_->BatchDecide(&context, batch, &batch_response).ok());
  ASSERT_EQ(batch_response.results_size(), 3);
  EXPECT_FALSE(batch_response.results(0).response().decision());
  EXPECT_FALSE(batch_response.results(1).response().decision());
  EXPECT_TRUE(batch_response.results(2).response().decision());
  EXPECT_EQ(batch_response.results(2).response().revision(),
            response.revision());

  ASSERT_TRUE(server_->Signal(SIGINT));
  EXPECT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
  EXPECT_NE(ServerLog().find("INFO stopped"), std::string::npos) << ServerLog();
}

TEST_F(ServeE2eTest, DecideCommandPrintsDecisions) {
  StartServer();
  ASSERT_NO_FATAL_FAILURE(Connect());
  const std::string requests =
      std::string(VERDICT_TODO_EXAMPLE_DIR) + "/requests/";
  std::string out;
  std::string err;
  ASSERT_EQ(RunDecide({"--request", requests + "rick-deletes-morty-todo.json"},
                      out, err),
            0)
      << err;
  const nlohmann::json decision = nlohmann::json::parse(out);
  EXPECT_EQ(decision.at("decision"), true) << out;
  EXPECT_EQ(decision.at("context").at("policies"),
            nlohmann::json::array({"delete-any-todo"}))
      << out;

  // One compact request per line, as --batch reads them.
  const std::string batch_file = root_ + "/batch.jsonl";
  {
    std::ofstream batch(batch_file);
    for (const char* name : {"beth-creates-todo", "rick-deletes-morty-todo"}) {
      batch << nlohmann::json::parse(ReadFile(requests + name + ".json")).dump()
            << "\n";
    }
  }
  ASSERT_EQ(RunDecide({"--batch", "--request", batch_file}, out, err), 0)
      << err;
  const std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(nlohmann::json::parse(lines[0]).at("decision"), false);
  EXPECT_EQ(nlohmann::json::parse(lines[1]).at("decision"), true);

  ASSERT_TRUE(server_->Signal(SIGTERM));
  ASSERT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
  EXPECT_EQ(RunDecide({"--request", requests + "beth-creates-todo.json",
                       "--timeout-ms", "2000"},
                      out, err),
            1);
  EXPECT_NE(err.find("UNAVAILABLE"), std::string::npos) << err;
}

TEST_F(ServeE2eTest, ReloadsOnChangeKeepsLastGood) {
  StartServer();
  ASSERT_NO_FATAL_FAILURE(Connect());
  const v1::DecideRequest request = ExampleRequest("rick-deletes-morty-todo");
  v1::DecideResponse first;
  ASSERT_TRUE(Decide(request, first).ok());
  ASSERT_TRUE(first.decision());

  // Remove the permit that lets admins delete any todo, in place.
  const std::string todo = PolicyDir() + "/todo.verdict";
  std::string text = ReadFile(todo);
  const size_t begin = text.find("permit \"delete-any-todo\"");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = text.find('}', begin);
  ASSERT_NE(end, std::string::npos);
  text.erase(begin, end + 1 - begin);
  std::ofstream(todo, std::ios::trunc) << text;

  v1::DecideResponse changed;
  const bool flipped = WaitFor(kReloadTimeout, [&] {
    changed.Clear();
    return Decide(request, changed).ok() && !changed.decision() &&
           changed.revision() != first.revision();
  });
  ASSERT_TRUE(flipped) << "decision " << changed.decision() << " revision "
                       << changed.revision() << "; log:\n"
                       << ServerLog();

  // A broken file is rejected and the last good revision keeps serving.
  const std::string rejected = "ERROR policy set rejected";
  std::ofstream(PolicyDir() + "/broken.verdict")
      << "permit \"broken\" when { action.name == }\n";
  ASSERT_TRUE(WaitFor(kReloadTimeout, [&] {
    return CountOccurrences(ServerLog(), rejected) >= 1;
  })) << ServerLog();
  v1::DecideResponse after_broken;
  ASSERT_TRUE(Decide(request, after_broken).ok());
  EXPECT_FALSE(after_broken.decision());
  EXPECT_EQ(after_broken.revision(), changed.revision());

  // SIGHUP reloads the same broken set, with the same outcome.
  ASSERT_TRUE(server_->Signal(SIGHUP));
  ASSERT_TRUE(WaitFor(kReloadTimeout, [&] {
    const std::string log = ServerLog();
    const size_t hup = log.find("INFO received SIGHUP");
    return hup != std::string::npos &&
           log.find(rejected, hup) != std::string::npos;
  })) << ServerLog();
  v1::DecideResponse after_hup;
  ASSERT_TRUE(Decide(request, after_hup).ok());
  EXPECT_FALSE(after_hup.decision());
  EXPECT_EQ(after_hup.revision(), changed.revision());

  ASSERT_TRUE(server_->Signal(SIGTERM));
  EXPECT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
}

TEST_F(ServeE2eTest, WriteBurstReloadsOnce) {
  StartServer();
  ASSERT_NO_FATAL_FAILURE(Connect());

  // Five saves in quick succession, as an editor or a deploy script makes,
  // fall within one debounce interval.
  const std::string gateway = PolicyDir() + "/gateway.verdict";
  for (int i = 0; i < 5; ++i) {
    std::ofstream(gateway, std::ios::app) << "// save " << i << "\n";
  }
  const std::string reloading = "INFO policy or data files changed";
  ASSERT_TRUE(WaitFor(kReloadTimeout, [&] {
    return CountOccurrences(ServerLog(), "INFO serving revision") == 2;
  })) << ServerLog();
  // Long enough for a second, undebounced reload to show up.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(CountOccurrences(ServerLog(), reloading), 1u) << ServerLog();

  ASSERT_TRUE(server_->Signal(SIGTERM));
  EXPECT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
}

TEST_F(ServeE2eTest, BrokenInitialPoliciesExitOne) {
  std::ofstream(PolicyDir() + "/broken.verdict") << "permit \"x\" when {\n";
  StartServer();
  EXPECT_EQ(server_->WaitForExit(kStartTimeout), 1) << ServerLog();
  EXPECT_FALSE(fs::exists(PortFile()));
  EXPECT_NE(ServerLog().find("broken.verdict"), std::string::npos)
      << ServerLog();
  EXPECT_NE(ServerLog().find("fix the files and start the server again"),
            std::string::npos)
      << ServerLog();
}

TEST_F(ServeE2eTest, InvalidMaxInFlightExitsTwo) {
  StartServer({"--max-in-flight", "0"});
  EXPECT_EQ(server_->WaitForExit(kStartTimeout), 2) << ServerLog();
  EXPECT_FALSE(fs::exists(PortFile()));
  EXPECT_NE(ServerLog().find("invalid --max-in-flight '0'"), std::string::npos)
      << ServerLog();
}

TEST_F(ServeE2eTest, MalformedListenAddressExitsTwo) {
  for (const char* address : {"127.0.0.1", "127.0.0.1:65536", ":8181",
                              "::1:8181", "127.0.0.1:http"}) {
    SCOPED_TRACE(address);
    StartServer({"--metrics-listen", address});
    EXPECT_EQ(server_->WaitForExit(kStartTimeout), 2) << ServerLog();
    EXPECT_NE(ServerLog().find(
                  absl::StrCat("invalid --metrics-listen '", address, "'")),
              std::string::npos)
        << ServerLog();
  }
}

TEST_F(ServeE2eTest, LimitFlagsApply) {
  StartServer({"--max-in-flight", "500", "--max-message-mib", "1"});
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_NE(ServerLog().find("max in flight 500 decisions, max message "
                             "1048576 bytes"),
            std::string::npos)
      << ServerLog();

  // 10,000 Todo requests encode to more than 1 MiB.
  const v1::DecideRequest request = ExampleRequest("rick-deletes-morty-todo");
  v1::BatchDecideRequest batch;
  for (int i = 0; i < 10'000; ++i) *batch.add_requests() = request;
  ASSERT_GT(batch.ByteSizeLong(), size_t{1} << 20);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::BatchDecideResponse response;
  grpc::Status status = stub_->BatchDecide(&context, batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();

  // 1,000 items fit in 1 MiB. They exceed --max-in-flight 500, so the
  // batch is admitted only when no other call is in flight, as here.
  batch.mutable_requests()->DeleteSubrange(1'000, 9'000);
  grpc::ClientContext small_context;
  small_context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(10));
  status = stub_->BatchDecide(&small_context, batch, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 1'000);
  EXPECT_TRUE(response.results(999).response().decision());

  ASSERT_TRUE(server_->Signal(SIGTERM));
  EXPECT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
}

TEST_F(ServeE2eTest, PortInUseExitsOne) {
  StartServer();
  ASSERT_NO_FATAL_FAILURE(Connect());
  const std::string second_log = root_ + "/second.log";
  ChildProcess second({VERDICT_BINARY, "serve", "--policies", PolicyDir(),
                       "--data", DataDir(), "--listen", address_},
                      root_ + "/second.out", second_log);
  EXPECT_EQ(second.WaitForExit(kStartTimeout), 1) << ReadFile(second_log);
  EXPECT_NE(ReadFile(second_log).find(address_), std::string::npos)
      << ReadFile(second_log);

  ASSERT_TRUE(server_->Signal(SIGTERM));
  EXPECT_EQ(server_->WaitForExit(kExitTimeout), 0) << ServerLog();
}

}  // namespace
}  // namespace verdict::server
