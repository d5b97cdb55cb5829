// The workload generators' random source: the same seed gives the same
// sequence with every standard library, unlike std::uniform_int_distribution.

#ifndef VERDICT_BENCH_WORKLOAD_RANDOM_H_
#define VERDICT_BENCH_WORKLOAD_RANDOM_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"

namespace verdict::workload {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Returns a number in [0, n). The modulo bias is below 2^-40 for the
  // ranges used here. REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return engine_() % n; }
  // Returns true with probability `percent` / 100.
  bool Percent(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  // Returns `prefix` followed by a number in [0, n), such as "role7".
  std::string Name(const char* prefix, uint64_t n) {
    return absl::StrCat(prefix, Below(n));
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace verdict::workload

#endif  // VERDICT_BENCH_WORKLOAD_RANDOM_H_
