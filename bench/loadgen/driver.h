// The load driver: asynchronous gRPC calls to verdict.v1.Verdict on
// completion queues, in a closed or an open loop.

#ifndef VERDICT_BENCH_LOADGEN_DRIVER_H_
#define VERDICT_BENCH_LOADGEN_DRIVER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/loadgen/histogram.h"
#include "verdict/v1/verdict.pb.h"

namespace verdict::loadgen {

enum class RpcKind { kDecide, kBatchDecide, kStream };

struct LoadOptions {
  std::string target;  // host:port, already checked to be loopback
  RpcKind rpc = RpcKind::kDecide;
  // Closed loop: messages in flight at all times, over all workers. For
  // kStream, spread evenly over the streams.
  int concurrency = 16;
  // Open loop when positive: decisions per second over all workers, sent on
  // a fixed schedule whatever the responses do. A BatchDecide run sends
  // rate / batch calls per second.
  double rate = 0;
  int batch = 100;    // requests per BatchDecide call
  int streams = 1;    // DecideStream calls per worker
  int workers = 1;    // each has its own thread, completion queue and channel
  absl::Duration warmup = absl::Seconds(1);  // sent but not measured
  absl::Duration duration = absl::Seconds(10);  // measured, after warmup
  int64_t count = 0;  // decisions to measure; 0 for no limit
  // Deadline of each call. A stream's deadline adds warmup and duration.
  absl::Duration timeout = absl::Seconds(10);
};

struct LoadResult {
  // Per message: a call for Decide and BatchDecide, a request on a stream.
  // Measured from the intended send time, so in an open loop a late send
  // counts against latency rather than hiding it.
  LatencyHistogram latency;
  int64_t decisions = 0;  // decided requests, within the measured window
  int64_t messages = 0;   // completed calls or stream messages, same window
  // Failed calls, streams and batch items, by gRPC status code name.
  std::map<std::string, int64_t> errors;
  absl::Duration elapsed;  // from the end of warmup to the last completion
  // Open loop only: the largest delay of a send behind its schedule, which
  // shows when the load generator itself could not keep up.
  absl::Duration max_send_lag;
};

// Runs the load described by `options`, cycling through `requests`, and
// returns the merged result of all workers. Blocks for about warmup +
// duration, plus the time to drain calls in flight.
// REQUIRES: `requests` is non-empty and `options` was validated.
LoadResult RunLoad(const LoadOptions& options,
                   const std::vector<v1::DecideRequest>& requests);

}  // namespace verdict::loadgen

#endif  // VERDICT_BENCH_LOADGEN_DRIVER_H_
