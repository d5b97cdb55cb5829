// Prometheus metrics of `verdict serve`: decision counts and latencies per
// API, token rejections, shadow mode, reloads, the decision log and the
// gRPC services, rendered in the text exposition format 0.0.4.

#ifndef VERDICT_SERVER_METRICS_H_
#define VERDICT_SERVER_METRICS_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/snapshot.h"
#include "server/decision_event.h"
#include "server/ext_authz_service.h"
#include "server/http_server.h"
#include "server/verdict_service.h"

namespace verdict::server {

// The content type of a page in the text exposition format 0.0.4.
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Upper bounds of the decision latency histogram, in nanoseconds, and
// their `le` labels in seconds. An evaluation takes about 80 ns, and
// decoding its request 0.4 to 5 µs, or about 350 µs with tokens that are
// not cached yet (docs/benchmarks.md). So the buckets are dense from 250 ns
// to 1 ms and sparse up to 1 s, where stalled threads land. The +Inf
// bucket follows the last.
struct LatencyBucket {
  int64_t upper_nanos;
  std::string_view le;
};
inline constexpr std::array<LatencyBucket, 20> kLatencyBuckets = {{
    {250, "2.5e-07"},       {500, "5e-07"},         {1'000, "1e-06"},
    {2'500, "2.5e-06"},     {5'000, "5e-06"},       {10'000, "1e-05"},
    {25'000, "2.5e-05"},    {50'000, "5e-05"},      {100'000, "0.0001"},
    {250'000, "0.00025"},   {500'000, "0.0005"},    {1'000'000, "0.001"},
    {2'500'000, "0.0025"},  {5'000'000, "0.005"},   {10'000'000, "0.01"},
    {25'000'000, "0.025"},  {50'000'000, "0.05"},   {100'000'000, "0.1"},
    {250'000'000, "0.25"},  {1'000'000'000, "1"},
}};

// The `reason` labels of verdict_request_rejections_total, sorted. A
// rejection reason of a request (Frame::rejections()) counts under its own
// label when it is one of these. Otherwise it counts under
// "token_invalid:missing_claim" or "token_invalid:invalid_claim" for a claim
// not listed, "token_invalid:other" for another token check,
// "attribute_type" for any "attribute_type:<path>", and "other" for the
// rest. So the label set stays bounded whatever the requests contain. The
// token checks are those of tokens::TokenFailure.
inline constexpr std::array<std::string_view, 35> kRejectionReasons = {{
    "attribute_type",
    "other",
    "token_invalid:alg",
    "token_invalid:aud",
    "token_invalid:client_binding",
    "token_invalid:cnf",
    "token_invalid:crit",
    "token_invalid:exp",
    "token_invalid:format",
    "token_invalid:iat",
    "token_invalid:invalid_claim",
    "token_invalid:invalid_claim:client_id",
    "token_invalid:invalid_claim:jti",
    "token_invalid:invalid_claim:sub",
    "token_invalid:invalid_claim:submods",
    "token_invalid:iss",
    "token_invalid:kid",
    "token_invalid:lifetime",
    "token_invalid:missing_claim",
    "token_invalid:missing_claim:aud",
    "token_invalid:missing_claim:client_id",
    "token_invalid:missing_claim:ear_verifier_id",
    "token_invalid:missing_claim:eat_profile",
    "token_invalid:missing_claim:exp",
    "token_invalid:missing_claim:iat",
    "token_invalid:missing_claim:jti",
    "token_invalid:missing_claim:sub",
    "token_invalid:missing_claim:submods",
    "token_invalid:nbf",
    "token_invalid:nonce",
    "token_invalid:other",
    "token_invalid:replay",
    "token_invalid:signature",
    "token_invalid:typ",
    "token_invalid:untrusted_key",
}};
static_assert(std::is_sorted(kRejectionReasons.begin(), kRejectionReasons.end()));

// Returns the index in kRejectionReasons under which `reason` is counted.
// Allocates nothing.
size_t RejectionReasonIndex(std::string_view reason);

// Address and port file of the metrics listener of `verdict serve`.
struct MetricsOptions {
  // host:port of a listener that serves only GET /metrics; empty leaves it
  // off. Port 0 lets the OS choose. With an AuthZEN HTTP listener, that
  // listener serves GET /metrics as well.
  std::string listen_address;
  std::string port_file;  // receives the bound port when ready; may be empty
};

// Counts what the server decides and renders the counts, with the state
// read from the stores and hooks at render time, as a Prometheus page.
//
// The Record* methods run on request threads. Each adds to relaxed atomic
// counters in a shard picked by the calling thread, so threads rarely share
// a cache line. They take no lock and allocate nothing. Render() sums the
// shards. A scrape that runs during a decision may see its count but not
// yet its duration, because the sums are consistent only between requests.
//
// Thread-safe, except the Set* methods: call them before the server starts
// calling Render(). Does not own the stores or what the hooks refer to,
// which must outlive the last Render(). Holds one shard per hardware thread,
// up to 64, of under 2 KiB each.
class ServerMetrics {
 public:
  // `store` is the policy set being served; null renders no revision.
  explicit ServerMetrics(const ProgramStore* store = nullptr);
  ServerMetrics(const ServerMetrics&) = delete;  // request threads point in
  ServerMetrics& operator=(const ServerMetrics&) = delete;
  ~ServerMetrics();

  // Counts one decoded request: by API and outcome (permit/deny/invalid),
  // its duration in a latency histogram per API, and each of
  // frame.rejections() (token failures such as "token_invalid:aud") by
  // reason. Called on request threads: no lock, no allocation, a few relaxed
  // atomic adds.
  void RecordDecision(const DecisionEvent& event);
  // Counts a request the API rejected before decoding (outcome invalid, no
  // duration).
  void RecordRejectedRequest(DecisionApi api);
  // Counts a shadow evaluation by API and by (enforced outcome, shadow
  // outcome) pair, and differences.
  void RecordShadow(const DecisionEvent& event, const ShadowDecision& shadow);
  // Counts a policy reload attempt, the initial load included, and whether
  // it was published or rejected. A reload that finds the revision already
  // served counts as published. `shadow_set` counts a load of the shadow
  // policy set instead, under verdict_shadow_policy_reloads_total.
  void RecordReload(bool ok, bool shadow_set = false);

  // Renders every metric in the Prometheus text exposition format 0.0.4.
  // Costs a pass over every shard and a call of each hook.
  std::string Render() const;

  // Sets the shadow policy set whose revision the page shows. Null, the
  // default, shows none.
  void SetShadowStore(const ProgramStore* shadow_store);
  // Sets the hooks that return the decision log's lines written and lines
  // dropped at render time. Without them the page has no decision log
  // metrics.
  void SetDecisionLogCounts(std::function<int64_t()> written,
                            std::function<int64_t()> dropped);
  // Sets the hook read at render time for the gRPC counters of Verdict's
  // API. Without it the page has none of them.
  void SetVerdictServiceStats(std::function<ServiceStats()> stats);
  // Sets the hook read at render time for the gRPC counters of Envoy's
  // Check.
  void SetExtAuthzStats(std::function<ExtAuthzStats()> stats);

 private:
  struct Shard;
  // The class comment states the size; checked in metrics.cc.
  static constexpr size_t kMaxShardBytes = 2048;

  Shard& ThreadShard();
  void AppendServiceStats(std::string& out) const;

  const ProgramStore* const store_;
  const ProgramStore* shadow_store_ = nullptr;
  std::function<int64_t()> log_written_;
  std::function<int64_t()> log_dropped_;
  std::function<ServiceStats()> verdict_stats_;
  std::function<ExtAuthzStats()> ext_authz_stats_;

  const size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;

  // Reloads are rare and counted on the event loop thread. Relaxed: the
  // counters order nothing.
  std::atomic<int64_t> reloads_ok_{0};
  std::atomic<int64_t> reloads_rejected_{0};
  // Unix time of the last reload that succeeded, in nanoseconds; 0 before.
  std::atomic<int64_t> last_reload_ok_unix_nanos_{0};
  std::atomic<int64_t> shadow_reloads_ok_{0};
  std::atomic<int64_t> shadow_reloads_rejected_{0};
};

// Registers GET /metrics on `http`, rendering `metrics`. Call before
// http.Start(); `metrics` must outlive the server.
void RegisterMetricsRoute(HttpServer& http, const ServerMetrics& metrics);

// Starts a listener that serves only GET /metrics on
// options.listen_address, with two threads, and writes its port file.
// Returns UNAVAILABLE when the address cannot be bound, INVALID_ARGUMENT
// when it is not host:port, and the port file's error.
absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(
    const MetricsOptions& options, const ServerMetrics& metrics);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_METRICS_H_
