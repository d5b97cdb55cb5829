// The decision log formatter that builds an nlohmann::json tree and dumps
// it, which FormatDecisionLine replaced. Kept for tests only:
// decision_log_line_differential_test checks that both write the same bytes.

#ifndef VERDICT_TESTS_SERVER_DECISION_LOG_LINE_REFERENCE_H_
#define VERDICT_TESTS_SERVER_DECISION_LOG_LINE_REFERENCE_H_

#include <string>

#include "server/decision_event.h"
#include "server/decision_log_line.h"

namespace verdict::testing {

// Formats the decision log line of `event` like FormatDecisionLine, by
// building the line as an nlohmann::json object and dumping it with
// error_handler_t::replace.
std::string ReferenceFormatDecisionLine(const server::DecisionEvent& event,
                                        const server::ShadowDecision* shadow,
                                        const server::AttributeMasks& masks);

}  // namespace verdict::testing

#endif  // VERDICT_TESTS_SERVER_DECISION_LOG_LINE_REFERENCE_H_
