// Parses the input as a binary verdict.v1.DecideRequest, as the gRPC server
// receives it, then decodes it against fuzz/program/ and evaluates it.

#include <cstddef>
#include <cstdint>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "fuzz/fuzz_program.h"
#include "google/protobuf/stubs/logging.h"
#include "server/proto_request.h"
#include "verdict/v1/verdict.pb.h"

// Drops protobuf's log messages: it logs every string field with invalid
// UTF-8, which most mutated inputs have, and the output slows fuzzing.
// ParseFromArray still rejects those inputs.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const verdict::Program& program = verdict::fuzz::FuzzProgram();
  static verdict::Frame frame;
  verdict::v1::DecideRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status status = verdict::server::DecodeDecideRequest(
      program, request, verdict::fuzz::kNowUnixSeconds, frame);
  if (!status.ok()) return 0;
  verdict::Decision decision = verdict::Evaluate(program, frame);
  verdict::DecisionReasons(program, frame, decision);
  for (const verdict::ErroredPolicy& errored : decision.errors) {
    verdict::DescribeError(program, frame, errored.predicate);
  }
  return 0;
}
