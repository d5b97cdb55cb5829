#include "server/metrics.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "engine/absl_compat.h"
#include "server/log.h"
#include "server/server.h"

namespace verdict::server {

inline constexpr size_t kBucketCount = kLatencyBuckets.size() + 1;  // +Inf
inline constexpr size_t kReasonCount = kRejectionReasons.size();
inline constexpr size_t kMaxShards = 64;

// The counters of the threads that map to one shard. Every counter is
// added to with relaxed fetch_add and read with relaxed loads: none orders
// other memory. alignas keeps two shards off one cache line.
struct alignas(64) ServerMetrics::Shard {
  std::atomic<int64_t> decisions[kDecisionApiCount][kDecisionOutcomeCount];
  // Non-cumulative: latency_buckets[api][i] counts durations in
  // (kLatencyBuckets[i - 1], kLatencyBuckets[i]]; the last one is +Inf.
  std::atomic<int64_t> latency_buckets[kDecisionApiCount][kBucketCount];
  std::atomic<int64_t> latency_sum_nanos[kDecisionApiCount];
  std::atomic<int64_t> rejections[kReasonCount];
  std::atomic<int64_t> shadow_decisions[kDecisionApiCount];
  std::atomic<int64_t> shadow_differences[kDecisionApiCount];
  std::atomic<int64_t> shadow_outcomes[kDecisionOutcomeCount]
                                      [kDecisionOutcomeCount];
};

namespace {

void Add(std::atomic<int64_t>& counter, int64_t value = 1) {
  counter.fetch_add(value, std::memory_order_relaxed);
}

int64_t Read(const std::atomic<int64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

// The histogram bucket of a duration. Most decisions fall in the first few
// buckets, so a scan from the bottom ends early.
size_t BucketIndex(int64_t nanos) {
  size_t i = 0;
  while (i < kLatencyBuckets.size() && nanos > kLatencyBuckets[i].upper_nanos) {
    ++i;
  }
  return i;
}

// One shard index per thread, given out in the order threads first record,
// so that up to the shard count threads never share a shard.
uint32_t ThreadSlot() {
  static std::atomic<uint32_t> next_slot{0};
  thread_local const uint32_t slot =
      next_slot.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

size_t ShardCount() {
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  return std::bit_ceil(std::min(threads, kMaxShards));
}

// Escapes a label value: backslash, double quote and line feed.
std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Formats a count of nanoseconds as seconds, exactly: 1500 -> "0.0000015".
std::string NanosAsSeconds(int64_t nanos) {
  const int64_t seconds = nanos / 1'000'000'000;
  int64_t fraction = nanos % 1'000'000'000;
  if (fraction == 0) return absl::StrCat(seconds);
  std::string digits = absl::StrFormat("%09d", fraction);
  digits.erase(digits.find_last_not_of('0') + 1);
  return absl::StrCat(seconds, ".", digits);
}

// Appends the HELP and TYPE lines of a metric family.
void AppendHeader(std::string& out, absl::string_view name,
                  absl::string_view type, absl::string_view help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

// Appends a metric family with one sample and no labels.
void AppendSingle(std::string& out, absl::string_view name,
                  absl::string_view type, absl::string_view help,
                  absl::string_view value) {
  AppendHeader(out, name, type, help);
  absl::StrAppend(&out, name, " ", value, "\n");
}

void AppendRevision(std::string& out, absl::string_view name,
                    absl::string_view help, const ProgramStore& store) {
  const std::shared_ptr<const Program> program = store.Current();
  if (program == nullptr) return;
  AppendHeader(out, name, "gauge", help);
  absl::StrAppend(&out, name, "{revision=\"", EscapeLabel(program->revision),
                  "\"} 1\n");
}

// Returns the index of `label` in kRejectionReasons, by binary search.
std::optional<size_t> ExactReasonIndex(std::string_view label) {
  const auto it = std::lower_bound(kRejectionReasons.begin(),
                                   kRejectionReasons.end(), label);
  if (it == kRejectionReasons.end() || *it != label) return std::nullopt;
  return static_cast<size_t>(it - kRejectionReasons.begin());
}

}  // namespace

size_t RejectionReasonIndex(std::string_view reason) {
  if (std::optional<size_t> index = ExactReasonIndex(reason)) return *index;
  constexpr std::string_view kToken = "token_invalid:";
  std::string_view fallback = "other";
  if (reason.starts_with("attribute_type:")) {
    fallback = "attribute_type";
  } else if (reason.starts_with("token_invalid:invalid_claim:")) {
    fallback = "token_invalid:invalid_claim";
  } else if (reason.starts_with("token_invalid:missing_claim:")) {
    fallback = "token_invalid:missing_claim";
  } else if (reason.starts_with(kToken)) {
    fallback = "token_invalid:other";
  }
  return *ExactReasonIndex(fallback);
}

ServerMetrics::ServerMetrics(const ProgramStore* store)
    : store_(store),
      shard_count_(ShardCount()),
      shards_(std::make_unique<Shard[]>(shard_count_)) {
  static_assert(sizeof(Shard) <= kMaxShardBytes);
}

ServerMetrics::~ServerMetrics() = default;

ServerMetrics::Shard& ServerMetrics::ThreadShard() {
  // shard_count_ is a power of two.
  return shards_[ThreadSlot() & (shard_count_ - 1)];
}

void ServerMetrics::RecordDecision(const DecisionEvent& event) {
  Shard& shard = ThreadShard();
  const size_t api = static_cast<size_t>(event.api);
  Add(shard.decisions[api][static_cast<size_t>(event.outcome())]);
  const int64_t nanos = std::max<int64_t>(event.duration_nanos, 0);
  Add(shard.latency_buckets[api][BucketIndex(nanos)]);
  Add(shard.latency_sum_nanos[api], nanos);
  for (const std::string& reason : event.frame.rejections()) {
    Add(shard.rejections[RejectionReasonIndex(reason)]);
  }
}

void ServerMetrics::RecordRejectedRequest(DecisionApi api) {
  Add(ThreadShard().decisions[static_cast<size_t>(api)]
                             [static_cast<size_t>(DecisionOutcome::kInvalid)]);
}

void ServerMetrics::RecordShadow(const DecisionEvent& event,
                                 const ShadowDecision& shadow) {
  Shard& shard = ThreadShard();
  const size_t api = static_cast<size_t>(event.api);
  Add(shard.shadow_decisions[api]);
  if (shadow.differs) Add(shard.shadow_differences[api]);
  Add(shard.shadow_outcomes[static_cast<size_t>(event.outcome())]
                           [static_cast<size_t>(shadow.outcome())]);
}

void ServerMetrics::RecordReload(bool ok, bool shadow_set) {
  if (shadow_set) {
    Add(ok ? shadow_reloads_ok_ : shadow_reloads_rejected_);
    return;
  }
  if (!ok) {
    Add(reloads_rejected_);
    return;
  }
  Add(reloads_ok_);
  last_reload_ok_unix_nanos_.store(absl::GetCurrentTimeNanos(),
                                   std::memory_order_relaxed);
}

void ServerMetrics::SetShadowStore(const ProgramStore* shadow_store) {
  shadow_store_ = shadow_store;
}

void ServerMetrics::SetDecisionLogCounts(std::function<int64_t()> written,
                                         std::function<int64_t()> dropped) {
  log_written_ = std::move(written);
  log_dropped_ = std::move(dropped);
}

void ServerMetrics::SetVerdictServiceStats(
    std::function<ServiceStats()> stats) {
  verdict_stats_ = std::move(stats);
}

void ServerMetrics::SetExtAuthzStats(std::function<ExtAuthzStats()> stats) {
  ext_authz_stats_ = std::move(stats);
}

std::string ServerMetrics::Render() const {
  // Sum the shards into plain arrays of the same shape.
  int64_t decisions[kDecisionApiCount][kDecisionOutcomeCount] = {};
  int64_t buckets[kDecisionApiCount][kBucketCount] = {};
  int64_t sum_nanos[kDecisionApiCount] = {};
  int64_t rejections[kReasonCount] = {};
  int64_t shadow_decisions[kDecisionApiCount] = {};
  int64_t shadow_differences[kDecisionApiCount] = {};
  int64_t shadow_outcomes[kDecisionOutcomeCount][kDecisionOutcomeCount] = {};
  for (size_t s = 0; s < shard_count_; ++s) {
    const Shard& shard = shards_[s];
    for (size_t api = 0; api < kDecisionApiCount; ++api) {
      for (size_t o = 0; o < kDecisionOutcomeCount; ++o) {
        decisions[api][o] += Read(shard.decisions[api][o]);
      }
      for (size_t b = 0; b < kBucketCount; ++b) {
        buckets[api][b] += Read(shard.latency_buckets[api][b]);
      }
      sum_nanos[api] += Read(shard.latency_sum_nanos[api]);
      shadow_decisions[api] += Read(shard.shadow_decisions[api]);
      shadow_differences[api] += Read(shard.shadow_differences[api]);
    }
    for (size_t r = 0; r < kReasonCount; ++r) {
      rejections[r] += Read(shard.rejections[r]);
    }
    for (size_t e = 0; e < kDecisionOutcomeCount; ++e) {
      for (size_t o = 0; o < kDecisionOutcomeCount; ++o) {
        shadow_outcomes[e][o] += Read(shard.shadow_outcomes[e][o]);
      }
    }
  }

  auto api_label = [](size_t api) {
    return EscapeLabel(DecisionApiName(static_cast<DecisionApi>(api)));
  };
  auto outcome_label = [](size_t outcome) {
    return ToAbsl(DecisionOutcomeName(static_cast<DecisionOutcome>(outcome)));
  };

  std::string out;
  AppendHeader(out, "verdict_decisions_total", "counter",
               "Requests by API and outcome: permit, deny, or invalid for a "
               "request that could not be decoded or was rejected before "
               "decoding.");
  for (size_t api = 0; api < kDecisionApiCount; ++api) {
    for (size_t o = 0; o < kDecisionOutcomeCount; ++o) {
      absl::StrAppend(&out, "verdict_decisions_total{api=\"", api_label(api),
                      "\",outcome=\"", outcome_label(o), "\"} ",
                      decisions[api][o], "\n");
    }
  }

  AppendHeader(out, "verdict_decision_duration_seconds", "histogram",
               "Time to decode and evaluate a request, by API; excludes "
               "building and sending the response.");
  for (size_t api = 0; api < kDecisionApiCount; ++api) {
    const std::string api_name = api_label(api);
    int64_t cumulative = 0;
    for (size_t b = 0; b < kBucketCount; ++b) {
      cumulative += buckets[api][b];
      const absl::string_view le =
          b < kLatencyBuckets.size() ? ToAbsl(kLatencyBuckets[b].le) : "+Inf";
      absl::StrAppend(&out, "verdict_decision_duration_seconds_bucket{api=\"",
                      api_name, "\",le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "verdict_decision_duration_seconds_sum{api=\"",
                    api_name, "\"} ", NanosAsSeconds(sum_nanos[api]), "\n",
                    "verdict_decision_duration_seconds_count{api=\"", api_name,
                    "\"} ", cumulative, "\n");
  }

  AppendHeader(out, "verdict_request_rejections_total", "counter",
               "Reasons requests were denied before evaluation, such as a "
               "failed token check token_invalid:<check>; unknown reasons "
               "count under other.");
  for (size_t r = 0; r < kReasonCount; ++r) {
    absl::StrAppend(&out, "verdict_request_rejections_total{reason=\"",
                    EscapeLabel(kRejectionReasons[r]), "\"} ", rejections[r],
                    "\n");
  }

  AppendHeader(out, "verdict_shadow_decisions_total", "counter",
               "Requests also decided by the shadow policy set, by API.");
  for (size_t api = 0; api < kDecisionApiCount; ++api) {
    absl::StrAppend(&out, "verdict_shadow_decisions_total{api=\"",
                    api_label(api), "\"} ", shadow_decisions[api], "\n");
  }
  AppendHeader(out, "verdict_shadow_differences_total", "counter",
               "Shadow decisions whose outcome differs from the enforced "
               "one, by API.");
  for (size_t api = 0; api < kDecisionApiCount; ++api) {
    absl::StrAppend(&out, "verdict_shadow_differences_total{api=\"",
                    api_label(api), "\"} ", shadow_differences[api], "\n");
  }
  AppendHeader(out, "verdict_shadow_outcomes_total", "counter",
               "Shadow decisions by enforced outcome and shadow outcome.");
  for (size_t e = 0; e < kDecisionOutcomeCount; ++e) {
    for (size_t o = 0; o < kDecisionOutcomeCount; ++o) {
      absl::StrAppend(&out, "verdict_shadow_outcomes_total{enforced=\"",
                      outcome_label(e), "\",shadow=\"", outcome_label(o),
                      "\"} ", shadow_outcomes[e][o], "\n");
    }
  }

  AppendHeader(out, "verdict_policy_reloads_total", "counter",
               "Policy set loads, the initial one included, by result: ok "
               "(published, or unchanged) or rejected (the previous set "
               "keeps serving).");
  absl::StrAppend(&out, "verdict_policy_reloads_total{result=\"ok\"} ",
                  Read(reloads_ok_), "\n",
                  "verdict_policy_reloads_total{result=\"rejected\"} ",
                  Read(reloads_rejected_), "\n");
  AppendSingle(out, "verdict_policy_last_reload_success_timestamp_seconds",
               "gauge",
               "Unix time of the last policy set load that succeeded; 0 "
               "before the first.",
               NanosAsSeconds(Read(last_reload_ok_unix_nanos_)));
  if (store_ != nullptr) {
    AppendRevision(out, "verdict_policy_revision_info",
                   "The revision of the policy set being served.", *store_);
  }
  if (shadow_store_ != nullptr) {
    AppendRevision(out, "verdict_shadow_policy_revision_info",
                   "The revision of the shadow policy set.", *shadow_store_);
    AppendHeader(out, "verdict_shadow_policy_reloads_total", "counter",
                 "Shadow policy set loads, the initial one included, by "
                 "result: ok or rejected (its previous revision stays).");
    absl::StrAppend(&out, "verdict_shadow_policy_reloads_total{result=\"ok\"} ",
                    Read(shadow_reloads_ok_), "\n",
                    "verdict_shadow_policy_reloads_total{result=\"rejected\"} ",
                    Read(shadow_reloads_rejected_), "\n");
  }

  if (log_written_ && log_dropped_) {
    AppendSingle(out, "verdict_decision_log_written_total", "counter",
                 "Lines written to the decision log.",
                 absl::StrCat(log_written_()));
    AppendSingle(out, "verdict_decision_log_dropped_total", "counter",
                 "Decision log lines dropped because the log's queue was "
                 "full.",
                 absl::StrCat(log_dropped_()));
  }
  AppendServiceStats(out);
  return out;
}

void ServerMetrics::AppendServiceStats(std::string& out) const {
  if (!verdict_stats_ && !ext_authz_stats_) return;
  ServiceStats verdict;
  if (verdict_stats_) verdict = verdict_stats_();
  ExtAuthzStats ext_authz;
  if (ext_authz_stats_) ext_authz = ext_authz_stats_();

  AppendHeader(out, "verdict_grpc_rejected_in_flight_total", "counter",
               "gRPC calls or stream messages rejected with "
               "RESOURCE_EXHAUSTED by --max-in-flight, by service.");
  if (verdict_stats_) {
    absl::StrAppend(
        &out, "verdict_grpc_rejected_in_flight_total{service=\"verdict\"} ",
        verdict.rejected_in_flight, "\n");
  }
  if (ext_authz_stats_) {
    absl::StrAppend(
        &out, "verdict_grpc_rejected_in_flight_total{service=\"ext_authz\"} ",
        ext_authz.rejected_in_flight, "\n");
  }
  if (!verdict_stats_) return;
  AppendSingle(out, "verdict_grpc_deadline_exceeded_total", "counter",
               "Calls of Verdict's API that stopped with DEADLINE_EXCEEDED.",
               absl::StrCat(verdict.deadline_exceeded));
  AppendSingle(out, "verdict_grpc_cancelled_total", "counter",
               "Calls of Verdict's API that the client cancelled.",
               absl::StrCat(verdict.cancelled));
  AppendSingle(out, "verdict_grpc_in_flight", "gauge",
               "Decisions of Verdict's API admitted and not yet answered.",
               absl::StrCat(verdict.in_flight));
}

void RegisterMetricsRoute(HttpServer& http, const ServerMetrics& metrics) {
  http.RouteRaw("GET", "/metrics",
                [&metrics](const httplib::Request&, httplib::Response& out) {
                  out.set_content(metrics.Render(), kMetricsContentType);
                });
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(
    const MetricsOptions& options, const ServerMetrics& metrics) {
  HttpOptions http_options;
  http_options.listen_address = options.listen_address;
  // A scraper keeps one connection; a second thread serves a person or a
  // probe at the same time.
  http_options.threads = 2;
  // GET /metrics has no body.
  http_options.max_body_bytes = 4096;
  auto http = std::make_unique<HttpServer>(http_options);
  RegisterMetricsRoute(*http, metrics);
  if (absl::Status s = http->Start(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("failed to start the metrics "
                                               "listener (--metrics-listen): ",
                                               s.message()));
  }
  LogInfo(absl::StrCat("serving metrics on http://",
                       BoundAddress(options.listen_address, http->port()),
                       "/metrics"));
  if (!options.port_file.empty()) {
    if (absl::Status s = WritePortFile(options.port_file, http->port());
        !s.ok()) {
      return s;
    }
  }
  return http;
}

}  // namespace verdict::server
