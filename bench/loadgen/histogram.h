// A latency histogram with logarithmic buckets, in the manner of
// HdrHistogram: fixed memory, constant-time recording, and a relative error
// under 1% for every percentile it reports.

#ifndef VERDICT_BENCH_LOADGEN_HISTOGRAM_H_
#define VERDICT_BENCH_LOADGEN_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace verdict::loadgen {

// Counts latencies in nanoseconds. Values below 128 ns have a bucket each.
// Above that, every power of two is split into 128 buckets, so a bucket is
// at most 1/128 of its lower bound wide. Values above kMaxNanos (about 18
// minutes) are counted as kMaxNanos. Thread-compatible; merge per-thread
// histograms with Add().
class LatencyHistogram {
 public:
  static constexpr int64_t kMaxNanos = int64_t{1} << 40;

  void Record(int64_t nanos);
  // Adds every count of `other` to this histogram.
  void Add(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // Returns the smallest recorded latency that at least `fraction` (0 to 1)
  // of the samples do not exceed, rounded up to its bucket's upper bound;
  // 0 when the histogram is empty.
  int64_t Percentile(double fraction) const;

 private:
  static constexpr int kSubBucketBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  // Bucket indexes run up to the one that contains kMaxNanos.
  static constexpr int kBucketCount = (40 - kSubBucketBits + 2) * kSubBuckets;

  static int BucketIndex(int64_t nanos);
  static int64_t BucketUpperBound(int index);

  std::array<int64_t, kBucketCount> counts_{};
  int64_t count_ = 0;
  int64_t max_ = 0;
};

}  // namespace verdict::loadgen

#endif  // VERDICT_BENCH_LOADGEN_HISTOGRAM_H_
