// A hostile client against the gRPC server over loopback. For a bounded
// time it sends random and mutated protobuf bytes through a generic stub,
// truncated messages, strings and sets at and over the request limits, a
// message over the size limit, deep nesting and invalid UTF-8. It also calls
// unknown methods, cancels calls, sends calls past their deadline and opens
// many concurrent streams. Every call must end with a status its attack
// allows, and afterwards the server must still decide a normal request
// correctly.
//
// The server runs in-process with the parts `verdict serve` uses, so that
// ASan and TSan builds of the tests check it too. VERDICT_HOSTILE_SECONDS
// sets the run time (default 20).

#include <unistd.h>

#include <array>
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
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/snapshot.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/policy_loader.h"
#include "server/server.h"
#include "server/verdict_service.h"
#include "verdict/v1/verdict.grpc.pb.h"

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kPolicies[] =
    "schema subject {\n  id: string\n  roles: set<string>\n}\n"
    "schema action {\n  name: string\n}\n"
    "permit \"admin-read\" when {\n"
    "  action.name == \"read\" and \"admin\" in subject.roles\n}\n";

constexpr char kDecide[] = "/verdict.v1.Verdict/Decide";
constexpr char kBatchDecide[] = "/verdict.v1.Verdict/BatchDecide";
constexpr char kDecideStream[] = "/verdict.v1.Verdict/DecideStream";

constexpr int kDefaultSeconds = 20;
constexpr int kChannels = 4;
constexpr int kCallsInFlight = 64;
// Streams opened at once, all on one channel, before the random calls.
constexpr int kConcurrentStreams = 500;
// One call in kOversizedEvery sends a message over the server's limit.
constexpr uint64_t kOversizedEvery = 2000;
// Request limits of the decoder (docs/reliability.md lists them).
constexpr size_t kStringLimit = 64 << 10;
constexpr int kSetLimit = 10'000;

enum class Attack {
  kRandomBytes,
  kMutated,
  kTruncated,
  kStringAtLimit,
  kStringOverLimit,
  kSetAtLimit,
  kSetOverLimit,
  kDeepNesting,
  kInvalidUtf8,
  kUnknownMethod,
  kCancelled,
  kPastDeadline,
  kStream,
  kOversized,
};
constexpr int kRandomAttacks = 13;  // every Attack before kOversized

const char* AttackName(Attack attack) {
  switch (attack) {
    case Attack::kRandomBytes:
      return "random bytes";
    case Attack::kMutated:
      return "mutated request";
    case Attack::kTruncated:
      return "truncated request";
    case Attack::kStringAtLimit:
      return "string at limit";
    case Attack::kStringOverLimit:
      return "string over limit";
    case Attack::kSetAtLimit:
      return "set at limit";
    case Attack::kSetOverLimit:
      return "set over limit";
    case Attack::kDeepNesting:
      return "deep nesting";
    case Attack::kInvalidUtf8:
      return "invalid UTF-8";
    case Attack::kUnknownMethod:
      return "unknown method";
    case Attack::kCancelled:
      return "cancelled call";
    case Attack::kPastDeadline:
      return "past deadline";
    case Attack::kStream:
      return "stream";
    case Attack::kOversized:
      return "oversized message";
  }
  return "?";
}

using CodeSet = uint32_t;  // bit N set: grpc::StatusCode N is allowed

constexpr CodeSet Codes(std::initializer_list<grpc::StatusCode> codes) {
  CodeSet set = 0;
  for (grpc::StatusCode code : codes) set |= CodeSet{1} << code;
  return set;
}

// gRPC 1.51's callback API fails a call whose request message does not
// parse with UNIMPLEMENTED and an empty message, before the handler runs
// (grpcpp/impl/codegen/server_callback_handlers.h). A request that parses
// but breaks a decoder rule fails with INVALID_ARGUMENT.
constexpr CodeSet kMalformed =
    Codes({grpc::StatusCode::OK, grpc::StatusCode::INVALID_ARGUMENT,
           grpc::StatusCode::UNIMPLEMENTED});

CodeSet AllowedCodes(Attack attack) {
  switch (attack) {
    case Attack::kRandomBytes:
    case Attack::kMutated:
    case Attack::kTruncated:
    case Attack::kDeepNesting:
    case Attack::kInvalidUtf8:
      return kMalformed;
    case Attack::kStringAtLimit:
    case Attack::kSetAtLimit:
      return Codes({grpc::StatusCode::OK});
    case Attack::kStringOverLimit:
    case Attack::kSetOverLimit:
      return Codes({grpc::StatusCode::INVALID_ARGUMENT});
    case Attack::kUnknownMethod:
      return Codes({grpc::StatusCode::UNIMPLEMENTED});
    case Attack::kCancelled:
      return kMalformed | Codes({grpc::StatusCode::CANCELLED});
    case Attack::kPastDeadline:
      return Codes({grpc::StatusCode::DEADLINE_EXCEEDED});
    case Attack::kStream:
      return kMalformed | Codes({grpc::StatusCode::CANCELLED});
    case Attack::kOversized:
      return Codes({grpc::StatusCode::RESOURCE_EXHAUSTED});
  }
  return 0;
}

int RunSeconds() {
  const char* text = std::getenv("VERDICT_HOSTILE_SECONDS");
  int seconds = kDefaultSeconds;
  if (text != nullptr && (!absl::SimpleAtoi(text, &seconds) || seconds < 1)) {
    ADD_FAILURE() << "invalid VERDICT_HOSTILE_SECONDS '" << text
                  << "'; expected a positive integer";
    return kDefaultSeconds;
  }
  return seconds;
}

// Returns this process's resident set size in KiB, from /proc/self/status.
int64_t ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(
                               absl::string_view(line).substr(6, line.size() -
                                                                     9)),
                           &kib)) {
        return kib;
      }
    }
  }
  return -1;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

v1::DecideRequest NormalRequest(bool admin) {
  v1::DecideRequest request;
  request.mutable_subject()->set_id("alice");
  auto& fields = *request.mutable_subject()->mutable_properties()
                      ->mutable_fields();
  fields["roles"].mutable_string_set()->add_values(admin ? "admin"
                                                         : "viewer");
  request.mutable_action()->set_name("read");
  (*request.mutable_attributes())["env"].mutable_fields()->operator[]("zone")
      .set_string_value("eu");
  return request;
}

// Appends a protobuf length-delimited field.
void AppendField(int number, const std::string& payload, std::string& out) {
  out.push_back(static_cast<char>((number << 3) | 2));
  uint64_t length = payload.size();
  while (length >= 0x80) {
    out.push_back(static_cast<char>((length & 0x7f) | 0x80));
    length >>= 7;
  }
  out.push_back(static_cast<char>(length));
  out += payload;
}

// The payloads that do not depend on the random generator, built once.
struct Payloads {
  std::string normal;
  std::string string_at_limit;
  std::string string_over_limit;
  std::string set_at_limit;
  std::string set_over_limit;
  std::string deep_nesting;
  std::string invalid_utf8;
  std::string oversized;

  Payloads() {
    normal = NormalRequest(true).SerializeAsString();

    v1::DecideRequest request = NormalRequest(true);
    request.mutable_subject()->set_id(std::string(kStringLimit, 's'));
    string_at_limit = request.SerializeAsString();
    request.mutable_subject()->set_id(std::string(kStringLimit + 1, 's'));
    string_over_limit = request.SerializeAsString();

    request = NormalRequest(true);
    auto& roles = *(*request.mutable_subject()->mutable_properties()
                         ->mutable_fields())["roles"]
                       .mutable_string_set();
    roles.clear_values();
    for (int i = 0; i < kSetLimit; ++i) roles.add_values(absl::StrCat(i));
    set_at_limit = request.SerializeAsString();
    roles.add_values("one-more");
    set_over_limit = request.SerializeAsString();

    // 200 nested objects under context.properties: protobuf's default
    // recursion limit is 100.
    v1::DecideRequest nested;
    v1::Properties* level = nested.mutable_context()->mutable_properties();
    for (int i = 0; i < 200; ++i) {
      level = (*level->mutable_fields())["n"].mutable_object();
    }
    deep_nesting = nested.SerializeAsString();

    // subject { id: "\xff\xfe" }, written by hand because protobuf would
    // not serialize invalid UTF-8 in a string field.
    std::string subject;
    AppendField(2, "\xff\xfe", subject);
    AppendField(1, subject, invalid_utf8);

    // A few bytes over the default 16 MiB receive limit.
    v1::DecideRequest big;
    big.mutable_subject()->set_id(std::string(kMaxReceiveMessageBytes, 'b'));
    oversized = big.SerializeAsString();
  }
};

std::string RandomBytes(std::mt19937_64& rng, size_t max_length) {
  std::string bytes(rng() % (max_length + 1), '\0');
  for (char& byte : bytes) byte = static_cast<char>(rng());
  return bytes;
}

// Flips, inserts, deletes or duplicates bytes of `bytes` 1 to 8 times.
std::string Mutate(std::string bytes, std::mt19937_64& rng) {
  const int mutations = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < mutations; ++i) {
    const size_t at = bytes.empty() ? 0 : rng() % bytes.size();
    switch (rng() % 4) {
      case 0:
        if (!bytes.empty()) bytes[at] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:
        bytes.insert(at, 1, static_cast<char>(rng()));
        break;
      case 2:
        bytes.erase(at, 1 + rng() % 4);
        break;
      case 3:
        bytes.insert(at, bytes.substr(at, 1 + rng() % 16));
        break;
    }
  }
  return bytes;
}

// Status codes seen per attack, and calls that ended with a code their
// attack does not allow. Thread-safe.
class Tally {
 public:
  void Record(Attack attack, const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++codes_[AttackName(attack)][status.error_code()];
    if ((AllowedCodes(attack) & (CodeSet{1} << status.error_code())) == 0) {
      ++unexpected_;
      if (examples_.size() < 5) {
        examples_.push_back(absl::StrCat(AttackName(attack), ": status ",
                                         status.error_code(), " ",
                                         status.error_message()));
      }
    }
  }

  int64_t unexpected() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unexpected_;
  }
  std::string examples() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return absl::StrJoin(examples_, "\n");
  }
  int64_t calls(Attack attack) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = codes_.find(AttackName(attack));
    int64_t total = 0;
    if (it != codes_.end()) {
      for (const auto& [code, count] : it->second) total += count;
    }
    return total;
  }
  std::string Summary() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto& [attack, codes] : codes_) {
      absl::StrAppend(&out, "  ", attack, ":");
      for (const auto& [code, count] : codes) {
        absl::StrAppend(&out, " code ", code, " x", count);
      }
      out += "\n";
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<int, int64_t>> codes_;  // guarded by mutex_
  int64_t unexpected_ = 0;                               // guarded by mutex_
  std::vector<std::string> examples_;                    // guarded by mutex_
};

// Counts calls in flight and lets a thread wait for fewer than a bound.
class CallCounter {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++count_;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mutex_);
    --count_;
    changed_.notify_all();
  }
  // Waits until fewer than `bound` calls are in flight.
  void WaitBelow(int bound) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return count_ < bound; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;  // guarded by mutex_
};

// One DecideStream call through the generic stub: writes `messages`, then
// closes its side, reading every response. With `cancel_after` >= 0 it
// cancels the call after that many writes. Deletes itself when done.
class HostileStream final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  HostileStream(grpc::GenericStub& stub, std::vector<grpc::ByteBuffer> messages,
                int cancel_after, Attack attack, Tally& tally,
                CallCounter& counter)
      : messages_(std::move(messages)),
        cancel_after_(cancel_after),
        attack_(attack),
        tally_(tally),
        counter_(counter) {
    counter_.Add();
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    stub.PrepareBidiStreamingCall(&context_, kDecideStream, {}, this);
    StartRead(&response_);
    WriteNext();
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (ok) WriteNext();
  }

  void OnReadDone(bool ok) override {
    if (ok) StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    tally_.Record(attack_, status);
    CallCounter& counter = counter_;
    delete this;
    counter.Done();
  }

 private:
  void WriteNext() {
    if (static_cast<int>(written_) == cancel_after_) {
      context_.TryCancel();
      return;
    }
    if (written_ == messages_.size()) {
      StartWritesDone();
      return;
    }
    StartWrite(&messages_[written_++]);
  }

  grpc::ClientContext context_;
  std::vector<grpc::ByteBuffer> messages_;
  size_t written_ = 0;
  const int cancel_after_;
  const Attack attack_;
  grpc::ByteBuffer response_;
  Tally& tally_;
  CallCounter& counter_;
};

// A unary call through the generic stub.
struct UnaryCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

class HostileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("verdict-hostile-", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "policies.verdict") << kPolicies;
    loader_ = std::make_unique<PolicyLoader>(dir_.string(), "", store_);
    absl::StatusOr<std::string> loaded = loader_->Load();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    service_ = std::make_unique<VerdictService>(store_);
    absl::StatusOr<std::unique_ptr<grpc::Server>> server =
        StartGrpcServer("127.0.0.1:0", *service_, GrpcLimits{}, port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    for (int i = 0; i < kChannels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      stubs_.push_back(std::make_unique<grpc::GenericStub>(
          grpc::CreateCustomChannel(Address(),
                                    grpc::InsecureChannelCredentials(),
                                    args)));
    }
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    fs::remove_all(dir_);
  }

  std::string Address() const { return BoundAddress("127.0.0.1:0", port_); }

  // Starts one random attack on channel `channel`.
  void StartAttack(uint64_t number, std::mt19937_64& rng) {
    grpc::GenericStub& stub = *stubs_[number % kChannels];
    const Attack attack =
        number % kOversizedEvery == kOversizedEvery - 1
            ? Attack::kOversized
            : static_cast<Attack>(rng() % kRandomAttacks);
    if (attack == Attack::kStream) {
      StartStream(stub, rng);
      return;
    }
    // Shared with the completion callback, so that TryCancel below never
    // touches a call that has already completed and been freed.
    auto call = std::make_shared<UnaryCall>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(60));
    const char* method = rng() % 2 == 0 ? kDecide : kBatchDecide;
    // Every payload below is a DecideRequest. Sent to BatchDecide, its
    // fields parse as batch fields or fail to parse.
    std::string payload;
    switch (attack) {
      case Attack::kRandomBytes:
        payload = RandomBytes(rng, 512);
        break;
      case Attack::kMutated:
        payload = Mutate(payloads_.normal, rng);
        break;
      case Attack::kTruncated:
        payload = payloads_.normal.substr(
            0, rng() % std::max<size_t>(payloads_.normal.size(), 1));
        break;
      case Attack::kStringAtLimit:
        payload = payloads_.string_at_limit;
        method = kDecide;
        break;
      case Attack::kStringOverLimit:
        payload = payloads_.string_over_limit;
        method = kDecide;
        break;
      case Attack::kSetAtLimit:
        payload = payloads_.set_at_limit;
        method = kDecide;
        break;
      case Attack::kSetOverLimit:
        payload = payloads_.set_over_limit;
        method = kDecide;
        break;
      case Attack::kDeepNesting:
        payload = payloads_.deep_nesting;
        break;
      case Attack::kInvalidUtf8:
        payload = payloads_.invalid_utf8;
        method = kDecide;
        break;
      case Attack::kUnknownMethod:
        payload = payloads_.normal;
        method = rng() % 2 == 0 ? "/verdict.v1.Verdict/Nope"
                                : "/no.such.Service/Decide";
        break;
      case Attack::kCancelled:
        payload = payloads_.normal;
        break;
      case Attack::kPastDeadline:
        payload = payloads_.normal;
        call->context.set_deadline(std::chrono::system_clock::now() -
                                   std::chrono::seconds(1));
        break;
      case Attack::kOversized:
        payload = payloads_.oversized;
        method = kDecide;
        break;
      case Attack::kStream:
        break;
    }
    call->request = ToBuffer(payload);
    counter_.Add();
    stub.UnaryCall(&call->context, method, {}, &call->request, &call->response,
                   [this, call, attack](grpc::Status status) {
                     tally_.Record(attack, status);
                     counter_.Done();
                   });
    if (attack == Attack::kCancelled) call->context.TryCancel();
  }

  // Starts a stream of 1 to 20 messages, each a normal request, a mutated
  // one or random bytes. One stream in four is cancelled part way.
  void StartStream(grpc::GenericStub& stub, std::mt19937_64& rng) {
    std::vector<grpc::ByteBuffer> messages;
    const int count = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < count; ++i) {
      switch (rng() % 3) {
        case 0:
          messages.push_back(ToBuffer(payloads_.normal));
          break;
        case 1:
          messages.push_back(ToBuffer(Mutate(payloads_.normal, rng)));
          break;
        default:
          messages.push_back(ToBuffer(RandomBytes(rng, 128)));
          break;
      }
    }
    const int cancel_after =
        rng() % 4 == 0 ? 1 + static_cast<int>(rng() % count) : -1;
    new HostileStream(stub, std::move(messages), cancel_after, Attack::kStream,
                      tally_, counter_);
  }

  // Decides the normal request for an admin and a viewer with the typed
  // stub on a new connection.
  void ExpectNormalDecisions() {
    auto stub = v1::Verdict::NewStub(
        grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials()));
    for (bool admin : {true, false}) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      v1::DecideResponse response;
      grpc::Status status =
          stub->Decide(&context, NormalRequest(admin), &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.decision(), admin);
      EXPECT_EQ(response.revision(), store_.Current()->revision);
    }
  }

  fs::path dir_;
  ProgramStore store_;
  std::unique_ptr<PolicyLoader> loader_;
  std::unique_ptr<VerdictService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  const Payloads payloads_;
  Tally tally_;
  CallCounter counter_;
};

TEST_F(HostileClientTest, ServerSurvivesAndStillDecides) {
  const int seconds = RunSeconds();
  // Protobuf logs an error for every string with invalid UTF-8 that it
  // parses, which would be thousands of lines here.
  google::protobuf::SetLogHandler(nullptr);
  ExpectNormalDecisions();
  const int64_t rss_before = ResidentKib();

  // Many streams at once on one connection, each deciding normal requests.
  std::vector<grpc::ByteBuffer> normal(3, ToBuffer(payloads_.normal));
  for (int i = 0; i < kConcurrentStreams; ++i) {
    new HostileStream(*stubs_[0], normal, -1, Attack::kStream, tally_,
                      counter_);
  }
  counter_.WaitBelow(1);
  EXPECT_EQ(tally_.calls(Attack::kStream), kConcurrentStreams);

  std::mt19937_64 rng(20261205);
  const Clock::time_point end = Clock::now() + std::chrono::seconds(seconds);
  uint64_t number = 0;
  while (Clock::now() < end) {
    counter_.WaitBelow(kCallsInFlight);
    StartAttack(number++, rng);
  }
  counter_.WaitBelow(1);
  const int64_t rss_after = ResidentKib();

  std::cout << number << " calls in " << seconds << " s; process RSS "
            << rss_before << " KiB before, " << rss_after << " KiB after\n"
            << tally_.Summary();
  EXPECT_EQ(tally_.unexpected(), 0) << tally_.examples();
  EXPECT_GT(tally_.calls(Attack::kOversized), 0);
  EXPECT_EQ(service_->stats().in_flight, 0);
  ExpectNormalDecisions();
}

}  // namespace
}  // namespace verdict::server
