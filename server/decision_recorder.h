// Fans each decided request out to the metrics, the decision log and the
// shadow policy set.

#ifndef VERDICT_SERVER_DECISION_RECORDER_H_
#define VERDICT_SERVER_DECISION_RECORDER_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "server/decision_event.h"

namespace verdict::server {

class DecisionLog;
class ServerMetrics;
class ShadowPolicies;

// Called by every API on the request's thread after each decision, before
// the frame is reused. Each part is optional. With a shadow policy set, the
// request is decided a second time against it on the same thread. The
// shadow result goes to the metrics and the decision log beside the
// enforced one, and the API's response never depends on it.
//
// Thread-safe: the parts it calls are. Does not own them; they must outlive
// the recorder.
class DecisionRecorder {
 public:
  // Any argument may be null to leave that part out.
  DecisionRecorder(ServerMetrics* metrics, DecisionLog* log,
                   ShadowPolicies* shadow)
      : metrics_(metrics), log_(log), shadow_(shadow) {}

  // Records one request that was decoded, whether or not it was valid.
  void Record(const DecisionEvent& event) const;

  // Counts a request the API rejected before decoding it: an AuthZEN body
  // that is not valid JSON or lacks a required member.
  void RecordRejectedRequest(DecisionApi api) const;

 private:
  ServerMetrics* const metrics_;
  DecisionLog* const log_;
  ShadowPolicies* const shadow_;
};

// Decodes a request with `decode`, evaluates it when it is valid and passes
// the decision to `respond`, then reports both to `recorder` unless it is
// null. `decode(program, frame)` returns the decoder's status and must
// decode the same request every time, because shadow mode calls it again
// with the shadow program. The reported duration covers decoding and
// evaluation, not `respond`. Returns the decoder's status.
template <typename Decode, typename Respond>
absl::Status DecideAndRecord(const DecisionRecorder* recorder, DecisionApi api,
                             const Program& program, Frame& frame,
                             const Decode& decode, const Respond& respond) {
  const int64_t start = recorder != nullptr ? absl::GetCurrentTimeNanos() : 0;
  const absl::Status status = decode(program, frame);
  std::optional<Decision> decision;
  if (status.ok()) decision = Evaluate(program, frame);
  const int64_t end = recorder != nullptr ? absl::GetCurrentTimeNanos() : 0;
  if (decision.has_value()) respond(*decision);
  if (recorder != nullptr) {
    recorder->Record(
        DecisionEvent{.api = api,
                      .program = program,
                      .frame = frame,
                      .decision = decision.has_value() ? &*decision : nullptr,
                      .status = status,
                      .start_nanos = start,
                      .duration_nanos = end - start,
                      .decode_again = decode});
  }
  return status;
}

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DECISION_RECORDER_H_
