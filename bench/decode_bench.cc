// JSON request decoding: DecodeJsonRequest against the DOM-based reference
// decoder it replaced (tests/reference_json_decoder.h), on the same requests
// in one run, so that the two can be compared on a noisy machine.
//
// Benchmarks, each as /fast (DecodeJsonRequest) and /reference:
//   BM_DecodeZeroTrust  the 256 requests of the generated zero-trust
//                       workload with 100 rules (bench/workload/), cycled.
//                       They average 287 bytes (counter bytes_per_request).
//   BM_DecideZeroTrust  the same requests decoded and evaluated: the cost of
//                       one in-process decision from JSON text
//   BM_DecodeTodo       the AuthZEN Todo example request
//   BM_DecodeEscaped    a request whose strings use \u escapes, including a
//                       surrogate pair, and non-ASCII UTF-8

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/workload/workload.h"
#include "benchmark/benchmark.h"
#include "compiler/compile.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "tests/reference_json_decoder.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;

using Decoder = absl::Status (*)(const Program&, std::string_view, int64_t,
                                 Frame&);

constexpr int kZeroTrustRules = 100;
constexpr int kZeroTrustRequests = 256;

constexpr char kTodoRequest[] = R"({
  "subject": {"type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
  "action": {"name": "can_update_todo"},
  "resource": {"type": "todo", "id": "7240d0db-8ff0-41ec-98b2-34a096273b91",
               "properties": {"ownerID": "morty@the-citadel.com"}}})";

constexpr char kEscapedRequest[] = R"({
  "subject": {"type": "user", "id": "J\u00fcrgen \ud83d\ude00 \"quoted\"\n",
              "properties": {"role": "r\u00e9viseur", "tenant": "Zürich"}},
  "action": {"name": "read\tfile"},
  "resource": {"type": "doc", "id": "\/docs\/\u4e2d\u6587",
               "properties": {"tenant": "Zürich"}}})";

[[noreturn]] void Die(std::string_view message) {
  std::fprintf(stderr, "decode_bench: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::abort();
}

std::shared_ptr<const Program> CompileSource(const std::string& source,
                                             const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 absl::StrCat("verdict-decode-bench-", ::getpid(), "-", name);
  fs::create_directories(dir);
  std::ofstream(dir / "policy.verdict") << source;
  auto compilation = compiler::CompileDirectory(dir.string(), "", {});
  fs::remove_all(dir);
  if (!compilation.ok()) Die(ToStd(compilation.status().message()));
  if (compilation->program == nullptr) Die(compilation->diagnostics);
  return compilation->program;
}

struct ZeroTrust {
  std::shared_ptr<const Program> program;
  std::vector<std::string> requests;
};

const ZeroTrust& LoadZeroTrust() {
  static const ZeroTrust* loaded = [] {
    auto* out = new ZeroTrust;
    workload::ZeroTrustWorkload generated = workload::GenerateZeroTrust(
        kZeroTrustRules, workload::kDefaultSeed, kZeroTrustRequests);
    out->program = CompileSource(
        workload::ZeroTrustPolicyText(generated, 0, kZeroTrustRules, true),
        "zero-trust");
    for (const workload::ZeroTrustRequest& request : generated.requests) {
      out->requests.push_back(workload::ZeroTrustRequestJson(request));
    }
    return out;
  }();
  return *loaded;
}

std::shared_ptr<const Program> CompileTodo() {
  std::string root = VERDICT_SOURCE_DIR "/examples/authzen-todo";
  auto compilation = compiler::CompileDirectory(root + "/policies",
                                                root + "/data", {});
  if (!compilation.ok()) Die(ToStd(compilation.status().message()));
  if (compilation->program == nullptr) Die(compilation->diagnostics);
  return compilation->program;
}

void BM_DecodeZeroTrust(benchmark::State& state, Decoder decode) {
  const ZeroTrust& loaded = LoadZeroTrust();
  Frame frame;
  size_t bytes = 0;
  for (const std::string& request : loaded.requests) {
    absl::Status status = decode(*loaded.program, request, 0, frame);
    if (!status.ok()) Die(absl::StrCat(status.message(), ": ", ToAbsl(request)));
    bytes += request.size();
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        decode(*loaded.program, loaded.requests[i], 0, frame));
    i = (i + 1) % loaded.requests.size();
  }
  state.counters["bytes_per_request"] =
      static_cast<double>(bytes) / static_cast<double>(loaded.requests.size());
}

void BM_DecideZeroTrust(benchmark::State& state, Decoder decode) {
  const ZeroTrust& loaded = LoadZeroTrust();
  Frame frame;
  size_t i = 0;
  for (auto _ : state) {
    absl::Status status = decode(*loaded.program, loaded.requests[i], 0, frame);
    if (!status.ok()) Die(ToStd(status.message()));
    Decision decision = Evaluate(*loaded.program, frame);
    benchmark::DoNotOptimize(decision.permit);
    i = (i + 1) % loaded.requests.size();
  }
}

void BM_DecodeOne(benchmark::State& state, Decoder decode,
                  const Program& program, std::string_view request) {
  Frame frame;
  absl::Status status = decode(program, request, 0, frame);
  if (!status.ok()) Die(absl::StrCat(status.message(), ": ", ToAbsl(request)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(decode(program, request, 0, frame));
  }
}

void BM_DecodeTodo(benchmark::State& state, Decoder decode) {
  static const std::shared_ptr<const Program> program = CompileTodo();
  BM_DecodeOne(state, decode, *program, kTodoRequest);
}

void BM_DecodeEscaped(benchmark::State& state, Decoder decode) {
  static const std::shared_ptr<const Program> program = CompileSource(
      "schema subject { id: string  role: string  tenant: string }\n"
      "schema action { name: string }\n"
      "schema resource { type: string  id: string  tenant: string }\n"
      "permit \"p\" when { subject.role == \"r\\u00e9viseur\" }\n",
      "escaped");
  BM_DecodeOne(state, decode, *program, kEscapedRequest);
}

BENCHMARK_CAPTURE(BM_DecodeZeroTrust, fast, &DecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecodeZeroTrust, reference,
                  &testing::ReferenceDecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecideZeroTrust, fast, &DecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecideZeroTrust, reference,
                  &testing::ReferenceDecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecodeTodo, fast, &DecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecodeTodo, reference,
                  &testing::ReferenceDecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecodeEscaped, fast, &DecodeJsonRequest);
BENCHMARK_CAPTURE(BM_DecodeEscaped, reference,
                  &testing::ReferenceDecodeJsonRequest);

}  // namespace
}  // namespace verdict

BENCHMARK_MAIN();
