#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace verdict::loadgen {

// Layout: index v for v < 128. For larger v with highest set bit e, let
// shift = e - 7 and top = v >> shift, which lies in [128, 255]; the index
// is (shift + 1) * 128 + (top - 128). So each power of two from 2^7 on gets
// 128 consecutive buckets, and the index grows with the value.
int LatencyHistogram::BucketIndex(int64_t nanos) {
  const uint64_t value =
      static_cast<uint64_t>(std::clamp<int64_t>(nanos, 0, kMaxNanos));
  if (value < kSubBuckets) return static_cast<int>(value);
  const int highest_bit = std::bit_width(value) - 1;
  const int shift = highest_bit - kSubBucketBits;
  const int top = static_cast<int>(value >> shift);
  return (shift + 1) * kSubBuckets + (top - kSubBuckets);
}

int64_t LatencyHistogram::BucketUpperBound(int index) {
  if (index < kSubBuckets) return index;
  const int shift = index / kSubBuckets - 1;
  const int64_t top = kSubBuckets + index % kSubBuckets;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t nanos) {
  ++counts_[BucketIndex(nanos)];
  ++count_;
  max_ = std::max(max_, std::min(nanos, kMaxNanos));
}

void LatencyHistogram::Add(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Percentile(double fraction) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(fraction, 0.0, 1.0);
  const int64_t rank = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(clamped * static_cast<double>(count_))));
  int64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    // The top bucket's bound can exceed the largest sample; max_ is exact.
    if (seen >= rank) return std::min(BucketUpperBound(i), max_);
  }
  return max_;
}

}  // namespace verdict::loadgen
