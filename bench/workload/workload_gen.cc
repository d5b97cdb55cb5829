// workload_gen: writes a generated workload for benchmarks and peer
// adapters.
//
//   workload_gen --size N [--seed S] [--requests R] [--family F] --out DIR

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/workload/workload.h"

namespace {

constexpr char kUsage[] =
    "usage: workload_gen --size N --out DIR [--seed S] [--requests R] "
    "[--family F]\n"
    "  --size N      number of rules (policies), 1 to 1000000\n"
    "  --seed S      random seed (default 42); equal options give equal "
    "output\n"
    "  --requests R  number of requests with expected decisions (default "
    "1000)\n"
    "  --family F    zero-trust (default), gdrive or github\n"
    "  --out DIR     output directory; DIR/verdict/policies must be new or "
    "empty\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "workload_gen: %s\n%s", message.c_str(), kUsage);
  return 2;
}

bool ParseNumber(std::string_view text, long long min, long long max,
                 long long& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() &&
         out >= min && out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  long long size = -1;
  long long seed = verdict::workload::kDefaultSeed;
  long long requests = 1000;
  std::string family = "zero-trust";
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Fail(std::string(flag) + " needs a value");
    std::string_view value = argv[++i];
    if (flag == "--size") {
      if (!ParseNumber(value, 1, 1'000'000, size)) {
        return Fail("invalid --size '" + std::string(value) +
                    "': expected an integer from 1 to 1000000");
      }
    } else if (flag == "--seed") {
      if (!ParseNumber(value, 0, INT64_MAX, seed)) {
        return Fail("invalid --seed '" + std::string(value) +
                    "': expected a non-negative integer");
      }
    } else if (flag == "--requests") {
      if (!ParseNumber(value, 0, 10'000'000, requests)) {
        return Fail("invalid --requests '" + std::string(value) +
                    "': expected an integer from 0 to 10000000");
      }
    } else if (flag == "--family") {
      family = value;
    } else if (flag == "--out") {
      out = value;
    } else {
      return Fail("unknown option '" + std::string(flag) + "'");
    }
  }
  if (size < 0) return Fail("missing --size");
  if (out.empty()) return Fail("missing --out");

  absl::Status status;
  if (family == "zero-trust") {
    status = verdict::workload::WriteZeroTrust(
        verdict::workload::GenerateZeroTrust(size, seed, requests), out);
  } else if (family == "gdrive" || family == "github") {
    auto kind = family == "gdrive" ? verdict::workload::HierarchyFamily::kGDrive
                                   : verdict::workload::HierarchyFamily::kGitHub;
    status = verdict::workload::WriteHierarchy(
        verdict::workload::GenerateHierarchy(kind, size, seed, requests), out);
  } else {
    return Fail("unknown --family '" + family +
                "': expected zero-trust, gdrive or github");
  }
  if (!status.ok()) {
    std::fprintf(stderr, "workload_gen: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
