// Decodes the input as an AuthZEN JSON request against fuzz/program/ and
// evaluates it. Decoding must reject bad input with a status, never crash.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "fuzz/fuzz_program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const verdict::Program& program = verdict::fuzz::FuzzProgram();
  // One frame for every input, as a server thread reuses its frame: this
  // also checks that a request leaves nothing behind for the next.
  static verdict::Frame frame;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  absl::Status status = verdict::DecodeJsonRequest(
      program, json, verdict::fuzz::kNowUnixSeconds, frame);
  if (!status.ok()) return 0;
  verdict::Decision decision = verdict::Evaluate(program, frame);
  verdict::DecisionReasons(program, frame, decision);
  for (const verdict::ErroredPolicy& errored : decision.errors) {
    verdict::DescribeError(program, frame, errored.predicate);
  }
  return 0;
}
