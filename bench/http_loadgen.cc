// A closed-loop HTTP load generator for the AuthZEN API of `verdict serve`:
// each connection sends the same POST body, waits for the response and
// sends again, on a keep-alive connection with TCP_NODELAY, for a fixed
// time. Prints the throughput and latency percentiles.
//
//   http_loadgen PORT CONNECTIONS SECONDS PATH BODY_FILE
//
// Connects to 127.0.0.1 only.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "bench/loadgen/histogram.h"
#include "httplib.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxConnections = 256;
constexpr int kMaxSeconds = 60;

int Usage(const std::string& message) {
  std::fprintf(stderr,
               "http_loadgen: %s\n"
               "usage: http_loadgen PORT CONNECTIONS SECONDS PATH BODY_FILE\n"
               "  CONNECTIONS from 1 to %d, SECONDS from 1 to %d\n",
               message.c_str(), kMaxConnections, kMaxSeconds);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) return Usage("expected 5 arguments");
  int port = 0;
  int connections = 0;
  int seconds = 0;
  if (!absl::SimpleAtoi(argv[1], &port) || port < 1 || port > 65535) {
    return Usage(std::string("invalid PORT ") + argv[1]);
  }
  if (!absl::SimpleAtoi(argv[2], &connections) || connections < 1 ||
      connections > kMaxConnections) {
    return Usage(std::string("invalid CONNECTIONS ") + argv[2]);
  }
  if (!absl::SimpleAtoi(argv[3], &seconds) || seconds < 1 ||
      seconds > kMaxSeconds) {
    return Usage(std::string("invalid SECONDS ") + argv[3]);
  }
  const std::string path = argv[4];
  std::ifstream file(argv[5], std::ios::binary);
  if (!file) return Usage(std::string("failed to read BODY_FILE ") + argv[5]);
  std::ostringstream text;
  text << file.rdbuf();
  const std::string body = text.str();

  std::vector<verdict::loadgen::LatencyHistogram> histograms(connections);
  std::atomic<int64_t> errors{0};
  const Clock::time_point end = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      // Without TCP_NODELAY, the request's header and body writes meet
      // delayed ACKs and every request takes about 40 ms on Linux.
      client.set_tcp_nodelay(true);
      while (Clock::now() < end) {
        const Clock::time_point start = Clock::now();
        httplib::Result result = client.Post(path, body, "application/json");
        if (!result || result->status != 200) {
          errors.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        histograms[i].Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                                 start)
                .count());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  verdict::loadgen::LatencyHistogram total;
  for (const auto& histogram : histograms) total.Add(histogram);
  std::printf(
      "connections %d, %lld requests in %d s (%.0f/s), %lld errors, "
      "latency p50 %.0f us, p99 %.0f us, max %.0f us\n",
      connections, static_cast<long long>(total.count()), seconds,
      static_cast<double>(total.count()) / seconds,
      static_cast<long long>(errors.load()), total.Percentile(0.5) / 1e3,
      total.Percentile(0.99) / 1e3, total.max() / 1e3);
  return total.count() > 0 ? 0 : 1;
}
