// The requests a load run sends, read from AuthZEN-shaped JSON once before
// the run.

#ifndef VERDICT_BENCH_LOADGEN_REQUEST_SOURCE_H_
#define VERDICT_BENCH_LOADGEN_REQUEST_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verdict/v1/verdict.pb.h"

namespace verdict::loadgen {

// Reads requests from `path` and converts them to protos with the rules of
// server::JsonToDecideRequest. A directory contributes every `*.json` file
// in it, each one JSON request, in file name order. Any other file is JSON
// Lines: one request object per line, blank lines skipped.
//
// Returns INVALID_ARGUMENT naming the file (and line) for text that is not
// JSON or a request that does not convert, NOT_FOUND for a missing path,
// and INVALID_ARGUMENT when no request was found at all.
absl::StatusOr<std::vector<v1::DecideRequest>> ReadRequests(
    const std::string& path);

}  // namespace verdict::loadgen

#endif  // VERDICT_BENCH_LOADGEN_REQUEST_SOURCE_H_
