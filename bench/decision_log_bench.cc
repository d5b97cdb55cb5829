// The decision log's cost on the request thread: formatting one decision's
// JSON line, and DecisionLog::Write, which formats and queues it, on the
// AuthZEN Todo example.

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "server/decision_log.h"

namespace verdict::server {
namespace {

namespace fs = std::filesystem;

// A request of the Todo example; joining the user's record adds its
// properties, so the line carries about ten attributes.
constexpr char kTodoRequest[] = R"({
  "subject": {"type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
  "action": {"name": "can_update_todo"},
  "resource": {"type": "todo", "id": "7240d0db-8ff0-41ec-98b2-34a096273b91",
               "properties": {"ownerID": "morty@the-citadel.com"}}})";

std::shared_ptr<const Program> CompileTodo() {
  const std::string root = VERDICT_SOURCE_DIR "/examples/authzen-todo";
  auto compilation = compiler::CompileDirectory(root + "/policies",
                                                root + "/data", {});
  if (!compilation.ok() || compilation->program == nullptr) std::abort();
  return compilation->program;
}

absl::Status DecodeNothing(const Program&, Frame&) { return absl::OkStatus(); }

// One decided request of the Todo example, kept for the whole benchmark.
struct TodoDecision {
  TodoDecision() : program(CompileTodo()) {
    status = DecodeJsonRequest(*program, kTodoRequest, 1'700'000'000, frame);
    if (!status.ok()) std::abort();
    decision = Evaluate(*program, frame);
  }
  DecisionEvent Event() const {
    return DecisionEvent{.api = DecisionApi::kDecide,
                         .program = *program,
                         .frame = frame,
                         .decision = &decision,
                         .status = status,
                         .start_nanos = absl::GetCurrentTimeNanos(),
                         .duration_nanos = 2'000,
                         .decode_again = DecodeNothing};
  }

  std::shared_ptr<const Program> program;
  Frame frame;
  absl::Status status;
  Decision decision;
};

void BM_FormatDecisionLine(benchmark::State& state) {
  TodoDecision decided;
  absl::StatusOr<AttributeMasks> masks = AttributeMasks::Create({});
  size_t bytes = 0;
  for (auto _ : state) {
    std::string line = FormatDecisionLine(decided.Event(), nullptr, *masks);
    bytes = line.size();
    benchmark::DoNotOptimize(line);
  }
  state.counters["line_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FormatDecisionLine);

// Write() from 1 and 2 threads into one log whose queue is large enough
// that nothing is dropped while the writer thread keeps up.
void BM_DecisionLogWrite(benchmark::State& state) {
  static std::unique_ptr<DecisionLog> log;
  static std::string path;
  if (state.thread_index() == 0) {
    path = (fs::temp_directory_path() /
            absl::StrCat("verdict-dlog-bench-", ::getpid(), ".log"))
               .string();
    auto opened = DecisionLog::Open({.path = path});
    if (!opened.ok()) std::abort();
    log = *std::move(opened);
  }
  TodoDecision decided;
  for (auto _ : state) log->Write(decided.Event(), nullptr);
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(log->dropped());
    log.reset();
    fs::remove(path);
    for (int i = 1; i <= kDefaultDecisionLogFiles; ++i) {
      fs::remove(absl::StrCat(path, ".", i));
    }
  }
}
BENCHMARK(BM_DecisionLogWrite)->ThreadRange(1, 2)->UseRealTime();

}  // namespace
}  // namespace verdict::server

BENCHMARK_MAIN();
