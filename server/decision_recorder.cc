#include "server/decision_recorder.h"

#include "server/decision_log.h"
#include "server/metrics.h"
#include "server/shadow_policies.h"

namespace verdict::server {

void DecisionRecorder::Record(const DecisionEvent& event) const {
  if (metrics_ != nullptr) metrics_->RecordDecision(event);
  if (shadow_ == nullptr) {
    if (log_ != nullptr) log_->Write(event, nullptr);
    return;
  }
  bool shadow_decided = false;
  shadow_->Decide(event, [&](const ShadowDecision& shadow) {
    shadow_decided = true;
    if (metrics_ != nullptr) metrics_->RecordShadow(event, shadow);
    if (log_ != nullptr) log_->Write(event, &shadow);
  });
  // Before the first shadow program is published there is no shadow result.
  if (!shadow_decided && log_ != nullptr) log_->Write(event, nullptr);
}

void DecisionRecorder::RecordRejectedRequest(DecisionApi api) const {
  if (metrics_ != nullptr) metrics_->RecordRejectedRequest(api);
}

}  // namespace verdict::server
