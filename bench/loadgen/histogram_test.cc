// Tests of the load generator's latency histogram against exact percentiles
// of the same samples.

#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace verdict::loadgen {
namespace {

// The value at `fraction` of sorted `samples`, with the histogram's rank rule.
int64_t ExactPercentile(std::vector<int64_t> samples, double fraction) {
  std::sort(samples.begin(), samples.end());
  const size_t rank = std::max<size_t>(
      1, static_cast<size_t>(std::ceil(fraction * samples.size())));
  return samples[rank - 1];
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0);
  EXPECT_EQ(histogram.Percentile(0.99), 0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (int64_t value = 0; value < 100; ++value) histogram.Record(value);
  EXPECT_EQ(histogram.Percentile(0.5), 49);
  EXPECT_EQ(histogram.Percentile(0.99), 98);
  EXPECT_EQ(histogram.Percentile(1.0), 99);
  EXPECT_EQ(histogram.max(), 99);
}

TEST(LatencyHistogram, PercentilesWithinOnePercent) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(std::log(200'000.0), 1.0);
  std::vector<int64_t> samples;
  LatencyHistogram histogram;
  for (int i = 0; i < 100'000; ++i) {
    samples.push_back(static_cast<int64_t>(latency(random)));
    histogram.Record(samples.back());
  }
  ASSERT_EQ(histogram.count(), 100'000);
  for (double fraction : {0.5, 0.9, 0.99, 0.999}) {
    const double exact =
        static_cast<double>(ExactPercentile(samples, fraction));
    const double reported = static_cast<double>(histogram.Percentile(fraction));
    EXPECT_GE(reported, exact) << "fraction " << fraction;
    EXPECT_LE(reported, exact * 1.01) << "fraction " << fraction;
  }
  EXPECT_EQ(histogram.max(), *std::max_element(samples.begin(), samples.end()));
}

TEST(LatencyHistogram, AddMergesCounts) {
  LatencyHistogram first;
  LatencyHistogram second;
  for (int i = 0; i < 90; ++i) first.Record(1'000);
  for (int i = 0; i < 10; ++i) second.Record(5'000'000);
  first.Add(second);
  EXPECT_EQ(first.count(), 100);
  EXPECT_LE(first.Percentile(0.9), 1'000 * 1.01);
  EXPECT_GE(first.Percentile(0.91), 5'000'000);
  EXPECT_EQ(first.max(), 5'000'000);
}

TEST(LatencyHistogram, ClampsNegativeAndHuge) {
  LatencyHistogram histogram;
  histogram.Record(-5);
  histogram.Record(LatencyHistogram::kMaxNanos * 4);
  EXPECT_EQ(histogram.Percentile(0.5), 0);
  EXPECT_EQ(histogram.max(), LatencyHistogram::kMaxNanos);
  EXPECT_EQ(histogram.Percentile(1.0), LatencyHistogram::kMaxNanos);
}

}  // namespace
}  // namespace verdict::loadgen
