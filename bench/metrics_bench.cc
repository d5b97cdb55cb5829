// The cost ServerMetrics::RecordDecision adds to each decision, on one and
// two threads, next to the same three counter adds made on one shared
// cache line, which is what sharding avoids.
//
//   build/bench/metrics_bench --benchmark_repetitions=5
//
// Counters: allocs_per_call and locks_per_call (from counting_hooks), which
// must stay 0.

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "bench/counting_hooks.h"
#include "benchmark/benchmark.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "server/decision_event.h"
#include "server/metrics.h"

namespace verdict {
namespace {

using server::DecisionApi;
using server::DecisionEvent;
using server::ServerMetrics;

absl::Status DecodeNothing(const Program&, Frame&) { return absl::OkStatus(); }

// One instance for every thread of a benchmark, as in the server.
ServerMetrics& SharedMetrics() {
  static ServerMetrics* const metrics = new ServerMetrics();
  return *metrics;
}

void BM_RecordDecision(benchmark::State& state) {
  Program program;
  Frame frame;
  frame.Reset(program);
  Decision decision;
  decision.permit = true;
  const absl::Status ok = absl::OkStatus();
  ServerMetrics& metrics = SharedMetrics();
  // Durations that walk the first buckets, as real decisions do.
  constexpr std::array<int64_t, 4> kDurations = {180, 420, 900, 3'000};
  size_t i = 0;

  const uint64_t allocations_begin = bench::ThreadAllocations();
  const uint64_t locks_begin = bench::ThreadLocks();
  for (auto _ : state) {
    const DecisionEvent event{DecisionApi::kDecide, program, frame, &decision,
                              ok, 0, kDurations[i++ & 3], DecodeNothing};
    metrics.RecordDecision(event);
  }
  const double calls = static_cast<double>(state.iterations());
  state.counters["allocs_per_call"] =
      static_cast<double>(bench::ThreadAllocations() - allocations_begin) /
      calls;
  state.counters["locks_per_call"] =
      static_cast<double>(bench::ThreadLocks() - locks_begin) / calls;
}
BENCHMARK(BM_RecordDecision)->ThreadRange(1, 2)->UseRealTime();

// The baseline: the decision, bucket and sum adds of RecordDecision made on
// counters every thread shares.
struct alignas(64) SharedCounters {
  std::atomic<int64_t> decisions{0};
  std::atomic<int64_t> bucket{0};
  std::atomic<int64_t> sum_nanos{0};
};
SharedCounters shared_counters;

void BM_SharedCacheLineAdds(benchmark::State& state) {
  for (auto _ : state) {
    shared_counters.decisions.fetch_add(1, std::memory_order_relaxed);
    shared_counters.bucket.fetch_add(1, std::memory_order_relaxed);
    shared_counters.sum_nanos.fetch_add(420, std::memory_order_relaxed);
  }
}
BENCHMARK(BM_SharedCacheLineAdds)->ThreadRange(1, 2)->UseRealTime();

void BM_Render(benchmark::State& state) {
  ServerMetrics metrics;
  for (auto _ : state) {
    benchmark::DoNotOptimize(metrics.Render());
  }
}
BENCHMARK(BM_Render);

}  // namespace
}  // namespace verdict

BENCHMARK_MAIN();
