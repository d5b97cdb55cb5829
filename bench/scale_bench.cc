// Decision cost at scale: compile time, resident memory, request decoding
// and evaluation on the generated workloads (bench/workload/) from 10 to
// 100,000 policies.
//
// Benchmarks, per family (zero_trust, gdrive, github) and size:
//   BM_Compile      one compilation; counters compile_s, rss_delta_mb,
//                   rss_bytes_per_policy, dag_nodes
//   BM_DecodeJson   AuthZEN JSON to a frame, entity data joined
//   BM_SetAttributes / BM_SetAndJoin
//                   the same request set attribute by attribute without
//                   JSON, without and with the entity data join
//   BM_Evaluate     one decision on a pre-decoded request, cycling through
//                   256 requests; the read path is ProgramStore::Reader::
//                   Acquire plus Evaluate. Counters decision_ns (thread CPU
//                   time per decision), allocs_per_decision and
//                   locks_per_decision.
//   BM_Latency      p50/p90/p99 of per-decision time; see RunLatency.
//
// Every workload's requests are checked against the generator's
// brute-force decisions before anything is timed; a mismatch aborts.

#include <malloc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/counting_hooks.h"
#include "bench/workload/workload.h"
#include "benchmark/benchmark.h"
#include "compiler/compile.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "engine/snapshot.h"
#include "nlohmann/json.hpp"

namespace verdict::bench {
namespace {

namespace fs = std::filesystem;

enum class Family { kZeroTrust, kGDrive, kGitHub };

const char* Name(Family family) {
  switch (family) {
    case Family::kZeroTrust: return "zero_trust";
    case Family::kGDrive: return "gdrive";
    case Family::kGitHub: return "github";
  }
  return "";
}

constexpr int kRequests = 256;  // a power of two: the loops mask the index

// One attribute of a request, for decoding without JSON.
struct Setter {
  enum Kind { kString, kBool, kStrings } kind;
  std::string path;
  std::string text;
  bool flag = false;
  std::vector<std::string> strings;
};

struct Loaded {
  std::shared_ptr<const Program> program;
  ProgramStore store;
  std::vector<std::string> json;  // AuthZEN requests
  std::vector<bool> expected;
  std::vector<std::vector<Setter>> setters;
  double compile_seconds = 0;
  double rss_delta_bytes = 0;
};

long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double ThreadCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "scale_bench: %s\n", message.c_str());
  std::exit(1);
}

// Flattens an AuthZEN request the way the JSON decoder names attributes:
// entity members and properties become `<group>.<name>`, and members of
// `attributes` become `<group>.<name>`.
void Flatten(const nlohmann::json& value, const std::string& path,
             std::vector<Setter>& out) {
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      Flatten(member, path.empty() ? key : absl::StrCat(path, ".", key), out);
    }
  } else if (value.is_string()) {
    out.push_back({Setter::kString, path, value.get<std::string>()});
  } else if (value.is_boolean()) {
    out.push_back({Setter::kBool, path, "", value.get<bool>()});
  } else if (value.is_array()) {
    out.push_back({Setter::kStrings, path, "", false,
                   value.get<std::vector<std::string>>()});
  }
}

std::vector<Setter> SettersOf(const std::string& json) {
  nlohmann::json request = nlohmann::json::parse(json);
  std::vector<Setter> out;
  for (const auto& [key, member] : request.items()) {
    if (key == "attributes") {
      Flatten(member, "", out);
      continue;
    }
    for (const auto& [name, value] : member.items()) {
      Flatten(value, name == "properties" ? key : absl::StrCat(key, ".", name),
              out);
    }
  }
  return out;
}

// Writes the workload of `family` and `size` to a temporary directory and
// fills `loaded` with its requests. Returns the directory.
fs::path WriteWorkload(Family family, int size, Loaded& loaded) {
  fs::path dir = fs::temp_directory_path() /
                 absl::StrCat("verdict-scale-", ::getpid(), "-", Name(family),
                              "-", size);
  fs::remove_all(dir);
  absl::Status status;
  if (family == Family::kZeroTrust) {
    workload::ZeroTrustWorkload generated =
        workload::GenerateZeroTrust(size, workload::kDefaultSeed, kRequests);
    for (const auto& request : generated.requests) {
      loaded.json.push_back(workload::ZeroTrustRequestJson(request));
      loaded.expected.push_back(request.expected);
    }
    status = workload::WriteZeroTrust(generated, dir.string());
  } else {
    workload::HierarchyWorkload generated = workload::GenerateHierarchy(
        family == Family::kGDrive ? workload::HierarchyFamily::kGDrive
                                  : workload::HierarchyFamily::kGitHub,
        size, workload::kDefaultSeed, kRequests);
    for (const auto& request : generated.requests) {
      loaded.json.push_back(workload::HierarchyRequestJson(request));
      loaded.expected.push_back(request.expected);
    }
    status = workload::WriteHierarchy(generated, dir.string());
  }
  if (!status.ok()) Die(std::string(status.message()));
  for (const std::string& json : loaded.json) {
    loaded.setters.push_back(SettersOf(json));
  }
  return dir;
}

// Compiles the workload, measuring wall time and the growth of resident
// memory while the program is alive, then checks every request.
std::unique_ptr<Loaded> Load(Family family, int size) {
  auto loaded = std::make_unique<Loaded>();
  fs::path dir = WriteWorkload(family, size, *loaded);
  malloc_trim(0);
  long rss_before = ResidentBytes();
  auto start = std::chrono::steady_clock::now();
  auto compilation = compiler::CompileDirectory(
      (dir / "verdict" / "policies").string(),
      (dir / "verdict" / "data").string(), {});
  loaded->compile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  fs::remove_all(dir);
  if (!compilation.ok()) Die(std::string(compilation.status().message()));
  if (compilation->program == nullptr) Die(compilation->diagnostics);
  loaded->program = compilation->program;
  compilation->program.reset();
  malloc_trim(0);
  loaded->rss_delta_bytes = static_cast<double>(ResidentBytes() - rss_before);
  loaded->store.Publish(loaded->program);

  Frame frame;
  for (int i = 0; i < kRequests; ++i) {
    absl::Status status =
        DecodeJsonRequest(*loaded->program, loaded->json[i], 0, frame);
    if (!status.ok()) Die(absl::StrCat(status.message(), ": ", loaded->json[i]));
    if (Evaluate(*loaded->program, frame).permit != loaded->expected[i]) {
      Die(absl::StrCat(Name(family), "/", size, ": the decision on ",
                       loaded->json[i], " differs from the brute-force one, ",
                       loaded->expected[i] ? "PERMIT" : "DENY"));
    }
  }
  return loaded;
}

// Holds one workload at a time: sizes run one after another, and keeping
// every 100,000-policy program alive would distort the memory figures.
std::mutex cache_mutex;
std::unique_ptr<Loaded> cached;
Family cached_family;
int cached_size = 0;

Loaded& Get(Family family, int size, bool fresh = false) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (fresh || cached == nullptr || cached_family != family ||
      cached_size != size) {
    cached.reset();
    cached = Load(family, size);
    cached_family = family;
    cached_size = size;
  }
  return *cached;
}

#ifdef VERDICT_BENCH_INJECT_REGRESSIONS
// Only the gate's self-test build (scale_bench_regressed) defines this: every
// decision also takes a process-wide mutex, allocates, and evaluates every
// policy's condition one by one, the three regressions the gate must catch.
std::mutex regression_mutex;

void InjectRegressions(const Program& program, const Frame& frame) {
  std::lock_guard<std::mutex> lock(regression_mutex);
  std::vector<uint32_t> applicable(1, 0);
  for (uint32_t formula : program.policy_formulas) {
    applicable[0] += EvaluateFormula(program, frame, formula) == Truth::kTrue;
  }
  benchmark::DoNotOptimize(applicable.data());
}
#else
void InjectRegressions(const Program&, const Frame&) {}
#endif

size_t ResidualLeaves(const Program& program) {
  return std::count_if(program.leaves.begin(), program.leaves.end(),
                       [](const Leaf& leaf) { return leaf.residual_count > 0; });
}

void BM_Compile(benchmark::State& state, Family family, int size) {
  for (auto _ : state) {
    Loaded& loaded = Get(family, size, /*fresh=*/true);
    state.SetIterationTime(loaded.compile_seconds);
    state.counters["compile_s"] = loaded.compile_seconds;
    state.counters["rss_delta_mb"] = loaded.rss_delta_bytes / (1 << 20);
    state.counters["rss_bytes_per_policy"] = loaded.rss_delta_bytes / size;
    state.counters["dag_nodes"] = loaded.program->nodes.size();
    state.counters["residual_leaves"] = ResidualLeaves(*loaded.program);
  }
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_mb"] = usage.ru_maxrss / 1024.0;  // process-wide
}

void BM_DecodeJson(benchmark::State& state, Family family, int size) {
  Loaded& loaded = Get(family, size);
  Frame frame;
  int i = 0;
  for (auto _ : state) {
    absl::Status status =
        DecodeJsonRequest(*loaded.program, loaded.json[i], 0, frame);
    benchmark::DoNotOptimize(status);
    i = (i + 1) & (kRequests - 1);
  }
}

void SetAll(RequestBuilder& builder, const std::vector<Setter>& setters) {
  std::string_view views[16];
  for (const Setter& setter : setters) {
    switch (setter.kind) {
      case Setter::kString:
        (void)builder.SetString(setter.path, setter.text);
        break;
      case Setter::kBool:
        (void)builder.SetBool(setter.path, setter.flag);
        break;
      case Setter::kStrings: {
        size_t count = setter.strings.size();
        if (count > std::size(views)) {
          Die(absl::StrCat(setter.path, " has ", count,
                           " elements; BM_SetAttributes handles at most ",
                           std::size(views)));
        }
        for (size_t k = 0; k < count; ++k) views[k] = setter.strings[k];
        (void)builder.SetStrings(setter.path,
                                 std::span<const std::string_view>(views, count));
        break;
      }
    }
  }
}

void BM_SetAttributes(benchmark::State& state, Family family, int size,
                      bool join) {
  Loaded& loaded = Get(family, size);
  const Program& program = *loaded.program;
  Frame frame;
  int i = 0;
  for (auto _ : state) {
    frame.Reset(program);
    RequestBuilder builder(program, frame);
    SetAll(builder, loaded.setters[i]);
    if (join) builder.Finish(0);
    benchmark::DoNotOptimize(frame.slot(0));
    i = (i + 1) & (kRequests - 1);
  }
}

// Decodes the workload's requests into frames owned by the calling thread
// and warms them (and the thread's decision-id generator) up.
std::vector<std::unique_ptr<Frame>> DecodedFrames(const Loaded& loaded) {
  std::vector<std::unique_ptr<Frame>> frames;
  for (int i = 0; i < kRequests; ++i) {
    frames.push_back(std::make_unique<Frame>());
    if (!DecodeJsonRequest(*loaded.program, loaded.json[i], 0, *frames[i]).ok()) {
      Die("cannot decode a checked request");
    }
    Evaluate(*loaded.program, *frames[i]);
  }
  return frames;
}

void BM_Evaluate(benchmark::State& state, Family family, int size) {
  Loaded& loaded = Get(family, size);
  std::vector<std::unique_ptr<Frame>> frames = DecodedFrames(loaded);
  ProgramStore::Reader reader(loaded.store);
  // A reader's first Acquire takes the store's mutex to copy the program
  // pointer, as it does after every Publish; later ones are one atomic
  // load. Warming it up keeps that one-time refresh out of the counters.
  reader.Acquire();

  int i = 0;
  uint64_t permits = 0;
  // The counters are read inside the loop, so the benchmark library's own
  // start and stop synchronisation between threads is not counted.
  bool first = true;
  uint64_t allocations_begin = 0, allocations_end = 0;
  uint64_t locks_begin = 0, locks_end = 0;
  double cpu_begin = 0, cpu_end = 0;
  for (auto _ : state) {
    if (first) {
      first = false;
      allocations_begin = ThreadAllocations();
      locks_begin = ThreadLocks();
      cpu_begin = ThreadCpuSeconds();
    }
    const Program* program = reader.Acquire();
    Decision decision = Evaluate(*program, *frames[i]);
    InjectRegressions(*program, *frames[i]);
    permits += decision.permit;
    i = (i + 1) & (kRequests - 1);
    allocations_end = ThreadAllocations();
    locks_end = ThreadLocks();
  }
  cpu_end = ThreadCpuSeconds();
  benchmark::DoNotOptimize(permits);

  double n = static_cast<double>(state.iterations());
  auto average = benchmark::Counter::kAvgThreads;
  state.counters["decision_ns"] =
      benchmark::Counter((cpu_end - cpu_begin) * 1e9 / n, average);
  state.counters["allocs_per_decision"] =
      benchmark::Counter((allocations_end - allocations_begin) / n, average);
  state.counters["locks_per_decision"] =
      benchmark::Counter((locks_end - locks_begin) / n, average);
  if (state.thread_index() == 0) {
    state.counters["dag_nodes"] = loaded.program->nodes.size();
  }
}

// Percentiles of per-decision time. Each sample times a batch of
// kLatencyBatch consecutive decisions (different requests) with
// std::chrono::steady_clock and divides by the batch size, because one
// clock read costs about as much as a decision. p50/p90/p99 are taken over
// the batches of the whole run, so they show how batch time varies
// (cache misses, interrupts, preemption), not the spread inside a batch.
constexpr int kLatencyBatch = 16;

void BM_Latency(benchmark::State& state, Family family, int size) {
  Loaded& loaded = Get(family, size);
  std::vector<std::unique_ptr<Frame>> frames = DecodedFrames(loaded);
  ProgramStore::Reader reader(loaded.store);
  reader.Acquire();  // the one-time refresh, as in BM_Evaluate

  std::vector<double> samples;
  samples.reserve(1 << 20);
  int i = 0;
  uint64_t permits = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < kLatencyBatch; ++k) {
      const Program* program = reader.Acquire();
      Decision decision = Evaluate(*program, *frames[i]);
      InjectRegressions(*program, *frames[i]);
      permits += decision.permit;
      i = (i + 1) & (kRequests - 1);
    }
    auto stop = std::chrono::steady_clock::now();
    if (samples.size() < samples.capacity()) {
      samples.push_back(
          std::chrono::duration<double, std::nano>(stop - start).count() /
          kLatencyBatch);
    }
  }
  benchmark::DoNotOptimize(permits);

  auto percentile = [&](double q) {
    size_t k = std::min(samples.size() - 1,
                        static_cast<size_t>(q * samples.size()));
    std::nth_element(samples.begin(), samples.begin() + k, samples.end());
    return samples[k];
  };
  state.counters["p50_ns"] = percentile(0.50);
  state.counters["p90_ns"] = percentile(0.90);
  state.counters["p99_ns"] = percentile(0.99);
  state.SetItemsProcessed(state.iterations() * kLatencyBatch);
}

void RegisterFamily(Family family, const std::vector<int>& sizes) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int size : sizes) {
    std::string suffix = absl::StrCat(Name(family), "/", size);
    benchmark::RegisterBenchmark(absl::StrCat("BM_Compile/", suffix).c_str(),
                                 BM_Compile, family, size)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(absl::StrCat("BM_DecodeJson/", suffix).c_str(),
                                 BM_DecodeJson, family, size);
    benchmark::RegisterBenchmark(
        absl::StrCat("BM_SetAttributes/", suffix).c_str(), BM_SetAttributes,
        family, size, false);
    benchmark::RegisterBenchmark(absl::StrCat("BM_SetAndJoin/", suffix).c_str(),
                                 BM_SetAttributes, family, size, true);
    benchmark::RegisterBenchmark(absl::StrCat("BM_Evaluate/", suffix).c_str(),
                                 BM_Evaluate, family, size)
        ->ThreadRange(1, threads);
    benchmark::RegisterBenchmark(absl::StrCat("BM_Latency/", suffix).c_str(),
                                 BM_Latency, family, size);
  }
}

}  // namespace
}  // namespace verdict::bench

int main(int argc, char** argv) {
  using verdict::bench::Family;
  const std::vector<int> sizes = {10, 100, 1'000, 10'000, 100'000};
  verdict::bench::RegisterFamily(Family::kZeroTrust, sizes);
  verdict::bench::RegisterFamily(Family::kGDrive, sizes);
  verdict::bench::RegisterFamily(Family::kGitHub, sizes);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
