// In-process decision benchmarks: request decoding and DAG evaluation,
// measured separately, on the AuthZEN Todo example and on generated policy
// sets of growing size.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;

constexpr char kTodoRequest[] = R"({
  "subject": {"type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
  "action": {"name": "can_update_todo"},
  "resource": {"type": "todo", "id": "7240d0db-8ff0-41ec-98b2-34a096273b91",
               "properties": {"ownerID": "morty@the-citadel.com"}}})";

std::shared_ptr<const Program> CompileTodo() {
  std::string root = VERDICT_SOURCE_DIR "/examples/authzen-todo";
  auto compilation = compiler::CompileDirectory(root + "/policies",
                                                root + "/data", {});
  if (!compilation.ok() || compilation->program == nullptr) std::abort();
  return compilation->program;
}

// Writes `count` policies, each allowing one role one action on one
// resource type of one tenant, and compiles them.
std::shared_ptr<const Program> CompileGenerated(int count) {
  fs::path dir = fs::temp_directory_path() /
                 absl::StrCat("verdict-bench-", ::getpid(), "-", count);
  fs::create_directories(dir);
  std::ofstream out(dir / "policies.verdict");
  out << "schema subject { id: string  roles: set<string>  tenant: string }\n"
         "schema action { name: string }\n"
         "schema resource { type: string  tenant: string }\n";
  for (int i = 0; i < count; ++i) {
    out << "permit \"p" << i << "\" when { action.name == \"action" << i % 50
        << "\" and resource.type == \"type" << i / 50 % 40
        << "\" and resource.tenant == \"tenant" << i / 2000
        << "\" and \"role" << i % 7 << "\" in subject.roles }\n";
  }
  out.close();
  auto compilation = compiler::CompileDirectory(dir.string(), "", {});
  fs::remove_all(dir);
  if (!compilation.ok() || compilation->program == nullptr) std::abort();
  return compilation->program;
}

void BM_DecodeTodo(benchmark::State& state) {
  std::shared_ptr<const Program> program = CompileTodo();
  Frame frame;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeJsonRequest(*program, kTodoRequest, 0, frame));
  }
}
BENCHMARK(BM_DecodeTodo);

void BM_EvaluateTodo(benchmark::State& state) {
  static std::shared_ptr<const Program> program = CompileTodo();
  Frame frame;
  if (!DecodeJsonRequest(*program, kTodoRequest, 0, frame).ok()) std::abort();
  for (auto _ : state) {
    Decision decision = Evaluate(*program, frame);
    benchmark::DoNotOptimize(decision.permit);
  }
}
// Each thread has its own frame and shares the program: the read path takes
// no lock, so throughput per thread should hold as threads are added.
BENCHMARK(BM_EvaluateTodo)->ThreadRange(1, 2);

void BM_EvaluateGenerated(benchmark::State& state) {
  std::shared_ptr<const Program> program = CompileGenerated(state.range(0));
  int n = static_cast<int>(state.range(0)) - 1;
  std::string request = absl::StrCat(
      R"({"subject": {"id": "u", "properties": {"roles": ["role)", n % 7,
      R"(", "x"], "tenant": "t"}}, "action": {"name": "action)", n % 50,
      R"("}, "resource": {"type": "type)", n / 50 % 40,
      R"(", "properties": {"tenant": "tenant)", n / 2000, R"("}}})");
  Frame frame;
  if (!DecodeJsonRequest(*program, request, 0, frame).ok()) std::abort();
  if (!Evaluate(*program, frame).permit) std::abort();
  for (auto _ : state) {
    Decision decision = Evaluate(*program, frame);
    benchmark::DoNotOptimize(decision.permit);
  }
  state.counters["dag_nodes"] = static_cast<double>(program->nodes.size());
}
BENCHMARK(BM_EvaluateGenerated)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace verdict

BENCHMARK_MAIN();
