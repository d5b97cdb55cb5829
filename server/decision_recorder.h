// Fans each decided request out to the metrics, the decision log and the
// shadow policy set.

#ifndef VERDICT_SERVER_DECISION_RECORDER_H_
#define VERDICT_SERVER_DECISION_RECORDER_H_

#include "server/decision_event.h"

namespace verdict::server {

class DecisionLog;
class ServerMetrics;
class ShadowPolicies;

// Called by every API on the request's thread after each decision, before
// the frame is reused. Each part is optional. With a shadow policy set, the
// request is decided a second time against it, on the same thread, and the
// shadow result goes to the metrics and the decision log beside the
// enforced one; the API's response never depends on it.
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

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DECISION_RECORDER_H_
