// Hot reload under load: clients keep many Decide and BatchDecide calls in
// flight over loopback while the policy set is reloaded hundreds of times.
// The reloads cycle through a valid set A, a set with a syntax error, a
// valid set B whose decisions differ from A's, and a set with a type error.
// Every response must come from A or B, and its decision and determining
// policies must be those of the revision it names.
//
// The server runs in-process with the parts `verdict serve` uses:
// PolicyLoader, ProgramStore, VerdictService and StartGrpcServer. A reload
// rewrites the policy file and calls PolicyLoader::Load(), as the server's
// event loop does on SIGHUP or a file change. A second test runs the same
// reloads against threads that decide through ProgramStore::Reader without
// gRPC, for ThreadSanitizer.
//
// VERDICT_RELOAD_CYCLES sets the number of reloads (default 200); each
// reload waits until clients complete a few calls, so that every published
// revision serves traffic.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "engine/snapshot.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/policy_loader.h"
#include "server/proto_request.h"
#include "server/server.h"
#include "server/verdict_service.h"
#include "verdict/v1/verdict.grpc.pb.h"

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kSchema[] = "schema action {\n  name: string\n}\n";

// Set A permits reads; set B permits writes and deletes and forbids reads.
constexpr char kPoliciesA[] =
    "permit \"read\" when {\n  action.name == \"read\"\n}\n";
constexpr char kPoliciesB[] =
    "permit \"write\" when {\n  action.name in [\"write\", \"delete\"]\n}\n"
    "forbid \"no-read\" when {\n  action.name == \"read\"\n}\n";
// Rejected by the parser: the comparison has no right-hand side.
constexpr char kSyntaxError[] =
    "permit \"read\" when {\n  action.name ==\n}\n";
// Rejected by the checker: a string attribute compared with an int.
constexpr char kTypeError[] =
    "permit \"read\" when {\n  action.name == 3\n}\n";

constexpr const char* kActions[] = {"read", "write", "delete", "list"};
constexpr int kRequestCount = 4;

constexpr int kDefaultReloadCycles = 200;
// Calls each channel keeps in flight, and channels (each its own
// connection).
constexpr int kCallsPerChannel = 32;
constexpr int kChannels = 2;
// Every kBatchEvery-th call is a BatchDecide of all kRequestCount requests.
constexpr int kBatchEvery = 8;
// Calls that must complete after a reload before the next one starts, and
// how long to wait for them at most.
constexpr int64_t kCallsPerReload = 16;
constexpr auto kMaxWaitPerReload = std::chrono::seconds(5);

int ReloadCycles() {
  const char* text = std::getenv("VERDICT_RELOAD_CYCLES");
  int cycles = kDefaultReloadCycles;
  if (text != nullptr && (!absl::SimpleAtoi(text, &cycles) || cycles < 4)) {
    ADD_FAILURE() << "invalid VERDICT_RELOAD_CYCLES '" << text
                  << "'; expected an integer of at least 4";
    return kDefaultReloadCycles;
  }
  return cycles;
}

v1::DecideRequest MakeRequest(int index) {
  v1::DecideRequest request;
  request.mutable_action()->set_name(kActions[index]);
  return request;
}

// Writes `text` to `path` through a rename, so that a compile never reads a
// partial file. The temporary name does not end in .verdict, so the
// compiler never reads it.
void ReplaceFile(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << "failed to write " << temporary;
  }
  fs::rename(temporary, path);
}

// The decision one revision gives one request.
struct Expected {
  bool permit = false;
  std::string policies;  // determining policy ids, joined with ","
};

// Compiles the policy directory as it is now and evaluates every request
// against it in-process.
struct ExpectedSet {
  std::string revision;
  std::vector<Expected> decisions;
};

ExpectedSet ComputeExpected(const std::string& policy_dir) {
  ExpectedSet set;
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(policy_dir, "", {});
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok() || compiled->program == nullptr) {
    ADD_FAILURE() << "policy set does not compile: "
                  << (compiled.ok() ? compiled->diagnostics : "");
    return set;
  }
  const Program& program = *compiled->program;
  set.revision = program.revision;
  Frame frame;
  for (int i = 0; i < kRequestCount; ++i) {
    const absl::Status decoded =
        DecodeDecideRequest(program, MakeRequest(i), 0, frame);
    EXPECT_TRUE(decoded.ok()) << decoded;
    const Decision decision = Evaluate(program, frame);
    std::vector<std::string> ids;
    for (uint32_t policy : decision.determining) {
      ids.push_back(program.policies[policy].id);
    }
    set.decisions.push_back({decision.permit, absl::StrJoin(ids, ",")});
  }
  return set;
}

// Checks responses against the expected decisions of their revision.
// Thread-safe.
class ResponseChecker {
 public:
  explicit ResponseChecker(std::vector<ExpectedSet> sets)
      : sets_(std::move(sets)) {}

  void Check(int request, const v1::DecideResponse& response) {
    const ExpectedSet* set = Find(response.revision());
    if (set == nullptr) {
      Fail(absl::StrCat("response names revision '", response.revision(),
                        "', which is neither A nor B"));
      return;
    }
    const Expected& expected = set->decisions[request];
    const std::string policies = absl::StrJoin(response.policies(), ",");
    if (response.decision() != expected.permit ||
        policies != expected.policies) {
      Fail(absl::StrCat("action '", kActions[request], "' at revision ",
                        response.revision(), " got decision ",
                        response.decision(), " by [", policies,
                        "] but that revision gives ", expected.permit,
                        " by [", expected.policies, "]"));
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++served_[response.revision()];
  }

  void Fail(std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++failures_;
    if (messages_.size() < 5) messages_.push_back(std::move(message));
  }

  int64_t failures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failures_;
  }
  std::string messages() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return absl::StrJoin(messages_, "\n");
  }
  int64_t served(const std::string& revision) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = served_.find(revision);
    return it == served_.end() ? 0 : it->second;
  }

 private:
  const ExpectedSet* Find(const std::string& revision) const {
    for (const ExpectedSet& set : sets_) {
      if (set.revision == revision) return &set;
    }
    return nullptr;
  }

  const std::vector<ExpectedSet> sets_;
  mutable std::mutex mutex_;
  int64_t failures_ = 0;                  // guarded by mutex_
  std::vector<std::string> messages_;     // guarded by mutex_
  std::map<std::string, int64_t> served_;  // guarded by mutex_
};

// Keeps kCallsPerChannel calls in flight on each of kChannels connections
// until Stop(), starting a new call as each one completes.
class LoadDriver {
 public:
  LoadDriver(const std::string& address, ResponseChecker& checker)
      : checker_(checker) {
    for (int i = 0; i < kChannels; ++i) {
      grpc::ChannelArguments args;
      // A channel of its own subchannel pool opens its own connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      stubs_.push_back(v1::Verdict::NewStub(grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args)));
    }
    for (int i = 0; i < kRequestCount; ++i) {
      requests_.push_back(MakeRequest(i));
      *batch_.add_requests() = requests_.back();
    }
  }

  void Start() {
    for (int channel = 0; channel < kChannels; ++channel) {
      for (int i = 0; i < kCallsPerChannel; ++i) StartCall(channel);
    }
  }

  // Stops starting calls and waits for those in flight to complete.
  void Stop() {
    stopping_.store(true, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(mutex_);
    drained_.wait(lock, [this] { return in_flight_ == 0; });
  }

  int64_t completed() const {
    return completed_.load(std::memory_order_relaxed);
  }

 private:
  struct Call {
    grpc::ClientContext context;
    int request = 0;
    bool batch = false;
    v1::DecideResponse response;
    v1::BatchDecideResponse batch_response;
  };

  void StartCall(int channel) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++in_flight_;
    }
    const uint64_t number = started_.fetch_add(1, std::memory_order_relaxed);
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
    call->request = static_cast<int>(number % kRequestCount);
    call->batch = number % kBatchEvery == 0;
    auto done = [this, call, channel](grpc::Status status) {
      Finish(*call, status);
      delete call;
      if (!stopping_.load(std::memory_order_relaxed)) StartCall(channel);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--in_flight_ == 0) drained_.notify_all();
    };
    if (call->batch) {
      stubs_[channel]->async()->BatchDecide(&call->context, &batch_,
                                            &call->batch_response, done);
    } else {
      stubs_[channel]->async()->Decide(
          &call->context, &requests_[call->request], &call->response, done);
    }
  }

  void Finish(const Call& call, const grpc::Status& status) {
    completed_.fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) {
      checker_.Fail(absl::StrCat(call.batch ? "BatchDecide" : "Decide",
                                 " failed with status ", status.error_code(),
                                 ": ", status.error_message()));
      return;
    }
    if (!call.batch) {
      checker_.Check(call.request, call.response);
      return;
    }
    const auto& results = call.batch_response.results();
    if (results.size() != kRequestCount) {
      checker_.Fail(absl::StrCat("batch returned ", results.size(),
                                 " results for ", kRequestCount, " requests"));
      return;
    }
    for (int i = 0; i < kRequestCount; ++i) {
      if (!results[i].has_response()) {
        checker_.Fail(absl::StrCat("batch item ", i, " failed: ",
                                   results[i].error().message()));
        continue;
      }
      // A batch is decided against one program.
      if (results[i].response().revision() !=
          results[0].response().revision()) {
        checker_.Fail(absl::StrCat(
            "batch item ", i, " has revision ",
            results[i].response().revision(), " but item 0 has ",
            results[0].response().revision()));
      }
      checker_.Check(i, results[i].response());
    }
  }

  ResponseChecker& checker_;
  std::vector<std::unique_ptr<v1::Verdict::Stub>> stubs_;
  std::vector<v1::DecideRequest> requests_;
  v1::BatchDecideRequest batch_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> started_{0};
  std::atomic<int64_t> completed_{0};
  std::mutex mutex_;
  std::condition_variable drained_;
  int in_flight_ = 0;  // guarded by mutex_
};

// Decides every request against what ProgramStore::Reader returns, in
// kReaderThreads threads, and checks each decision against its revision as
// ResponseChecker does. This is the server's read path without gRPC.
// Debian's gRPC is not built with TSan, so only without it does TSan
// instrument every access.
class ReaderThreads {
 public:
  static constexpr int kReaderThreads = 4;

  ReaderThreads(const ProgramStore& store, ResponseChecker& checker) {
    for (int i = 0; i < kReaderThreads; ++i) {
      threads_.emplace_back([this, &store, &checker] { Run(store, checker); });
    }
  }
  ~ReaderThreads() { Stop(); }

  void Stop() {
    stopping_.store(true, std::memory_order_relaxed);
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  int64_t completed() const {
    return completed_.load(std::memory_order_relaxed);
  }

 private:
  void Run(const ProgramStore& store, ResponseChecker& checker) {
    ProgramStore::Reader reader(store);
    Frame frame;
    for (int n = 0; !stopping_.load(std::memory_order_relaxed); ++n) {
      const int request = n % kRequestCount;
      const Program* program = reader.Acquire();
      if (program == nullptr) {
        checker.Fail("the store has no program");
        return;
      }
      const absl::Status decoded =
          DecodeDecideRequest(*program, MakeRequest(request), 0, frame);
      if (!decoded.ok()) {
        checker.Fail(std::string(decoded.message()));
        return;
      }
      const Decision decision = Evaluate(*program, frame);
      v1::DecideResponse response;
      response.set_decision(decision.permit);
      response.set_revision(program->revision);
      for (uint32_t policy : decision.determining) {
        response.add_policies(program->policies[policy].id);
      }
      checker.Check(request, response);
      completed_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> completed_{0};
};

TEST(ReloadUnderLoad, ServesOnlyValidRevisions) {
  const int cycles = ReloadCycles();
  const fs::path dir = fs::temp_directory_path() /
                       absl::StrCat("verdict-reload-", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path rules = dir / "rules.verdict";
  ReplaceFile(dir / "schema.verdict", kSchema);

  ReplaceFile(rules, kPoliciesB);
  const ExpectedSet set_b = ComputeExpected(dir.string());
  ReplaceFile(rules, kPoliciesA);
  const ExpectedSet set_a = ComputeExpected(dir.string());
  ASSERT_FALSE(set_a.revision.empty());
  ASSERT_FALSE(set_b.revision.empty());
  ASSERT_NE(set_a.revision, set_b.revision);
  for (int i = 0; i < kRequestCount; ++i) {
    SCOPED_TRACE(kActions[i]);
    EXPECT_TRUE(set_a.decisions[i].permit != set_b.decisions[i].permit ||
                set_a.decisions[i].policies != set_b.decisions[i].policies ||
                std::string(kActions[i]) == "list")
        << "A and B must decide this request differently";
  }

  ProgramStore store;
  PolicyLoader loader(dir.string(), "", store);
  absl::StatusOr<std::string> initial = loader.Load();
  ASSERT_TRUE(initial.ok()) << initial.status();
  ASSERT_EQ(*initial, set_a.revision);

  VerdictService service(store);
  int port = 0;
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartGrpcServer("127.0.0.1:0", service, GrpcLimits{}, port);
  ASSERT_TRUE(server.ok()) << server.status();

  ResponseChecker checker({set_a, set_b});
  LoadDriver driver(BoundAddress("127.0.0.1:0", port), checker);
  driver.Start();

  // The cycle is B, syntax error, A, type error. A rejected set must leave
  // the revision before it serving.
  const Clock::time_point start = Clock::now();
  std::string serving = set_a.revision;
  int rejected = 0;
  int slow_waits = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const int64_t completed_before = driver.completed();
    switch (cycle % 4) {
      case 0:
        ReplaceFile(rules, kPoliciesB);
        serving = set_b.revision;
        break;
      case 1:
        ReplaceFile(rules, kSyntaxError);
        break;
      case 2:
        ReplaceFile(rules, kPoliciesA);
        serving = set_a.revision;
        break;
      case 3:
        ReplaceFile(rules, kTypeError);
        break;
    }
    absl::StatusOr<std::string> loaded = loader.Load();
    if (cycle % 2 == 0) {
      ASSERT_TRUE(loaded.ok()) << "cycle " << cycle << ": " << loaded.status();
      EXPECT_EQ(*loaded, serving) << "cycle " << cycle;
    } else {
      ASSERT_FALSE(loaded.ok()) << "cycle " << cycle
                                << ": a broken policy set was accepted";
      EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition)
          << loaded.status();
      ++rejected;
    }
    ASSERT_NE(store.Current(), nullptr);
    EXPECT_EQ(store.Current()->revision, serving) << "cycle " << cycle;

    const Clock::time_point give_up = Clock::now() + kMaxWaitPerReload;
    while (driver.completed() < completed_before + kCallsPerReload) {
      if (Clock::now() > give_up) {
        ++slow_waits;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (checker.failures() > 0) break;
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  driver.Stop();
  (*server)->Shutdown();

  std::cout << cycles << " reloads (" << rejected << " rejected) in "
            << seconds << " s; " << driver.completed() << " calls; "
            << checker.served(set_a.revision) << " decisions from A, "
            << checker.served(set_b.revision) << " from B\n";
  EXPECT_EQ(checker.failures(), 0) << checker.messages();
  EXPECT_EQ(slow_waits, 0)
      << "clients completed fewer than " << kCallsPerReload
      << " calls within 5 s of a reload";
  EXPECT_GT(checker.served(set_a.revision), 0);
  EXPECT_GT(checker.served(set_b.revision), 0);
  EXPECT_EQ(service.stats().in_flight, 0);
  fs::remove_all(dir);
}

TEST(ReloadUnderLoad, ReadersSeeOnlyValidRevisions) {
  const int cycles = ReloadCycles();
  const fs::path dir = fs::temp_directory_path() /
                       absl::StrCat("verdict-reload-readers-", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path rules = dir / "rules.verdict";
  ReplaceFile(dir / "schema.verdict", kSchema);
  ReplaceFile(rules, kPoliciesB);
  const ExpectedSet set_b = ComputeExpected(dir.string());
  ReplaceFile(rules, kPoliciesA);
  const ExpectedSet set_a = ComputeExpected(dir.string());
  ASSERT_NE(set_a.revision, set_b.revision);

  ProgramStore store;
  PolicyLoader loader(dir.string(), "", store);
  ASSERT_TRUE(loader.Load().ok());
  ResponseChecker checker({set_a, set_b});
  ReaderThreads readers(store, checker);

  // The same cycle as above: B, syntax error, A, type error.
  const char* const kCycle[] = {kPoliciesB, kSyntaxError, kPoliciesA,
                                kTypeError};
  int rejected = 0;
  for (int cycle = 0; cycle < cycles && checker.failures() == 0; ++cycle) {
    const int64_t completed_before = readers.completed();
    ReplaceFile(rules, kCycle[cycle % 4]);
    absl::StatusOr<std::string> loaded = loader.Load();
    EXPECT_EQ(loaded.ok(), cycle % 2 == 0)
        << "cycle " << cycle << ": " << loaded.status();
    if (!loaded.ok()) ++rejected;
    const Clock::time_point give_up = Clock::now() + kMaxWaitPerReload;
    while (readers.completed() < completed_before + kCallsPerReload &&
           Clock::now() < give_up) {
      std::this_thread::yield();
    }
  }
  readers.Stop();

  std::cout << cycles << " reloads (" << rejected << " rejected); "
            << readers.completed() << " decisions; "
            << checker.served(set_a.revision) << " from A, "
            << checker.served(set_b.revision) << " from B\n";
  EXPECT_EQ(checker.failures(), 0) << checker.messages();
  EXPECT_EQ(rejected, cycles / 2);
  EXPECT_GT(checker.served(set_a.revision), 0);
  EXPECT_GT(checker.served(set_b.revision), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace verdict::server
