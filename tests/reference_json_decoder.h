// The DOM-based JSON request decoder that DecodeJsonRequest replaced, kept
// for tests and benchmarks only: json_decoder_differential_test checks that
// both decoders agree, and decode_bench measures both in one run.

#ifndef VERDICT_TESTS_REFERENCE_JSON_DECODER_H_
#define VERDICT_TESTS_REFERENCE_JSON_DECODER_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "engine/program.h"
#include "engine/request.h"

namespace verdict::testing {

// Decodes `json` like DecodeJsonRequest, by parsing it into an nlohmann::json
// document first and walking that. Differs from DecodeJsonRequest in one
// way: a member name repeated in one object keeps its last value here, where
// DecodeJsonRequest rejects the request.
absl::Status ReferenceDecodeJsonRequest(const Program& program,
                                        std::string_view json,
                                        int64_t now_unix_seconds, Frame& frame);

}  // namespace verdict::testing

#endif  // VERDICT_TESTS_REFERENCE_JSON_DECODER_H_
