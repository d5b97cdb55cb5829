// The JSON line the decision log writes for each decided request, and the
// attribute masks applied to it.

#ifndef VERDICT_SERVER_DECISION_LOG_LINE_H_
#define VERDICT_SERVER_DECISION_LOG_LINE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/decision_event.h"

namespace verdict::server {

// The string that replaces a masked value, and any value that contains a
// token the request presented.
inline constexpr std::string_view kMaskedValue = "[masked]";

// Attributes masked whatever the options say: those that carry credentials
// in the Envoy adapter (headers and the RFC 6750 query parameter), where
// header names are lower-cased with '-' mapped to '_'.
inline constexpr std::string_view kDefaultMaskedAttributes[] = {
    "request.headers.authorization",
    "request.headers.proxy_authorization",
    "request.headers.cookie",
    "request.headers.set_cookie",
    "request.headers.x_api_key",
    "request.headers.x_auth_token",
    "request.headers.x_amz_security_token",
    "request.headers.dpop",
    "request.query.access_token",
};

// Returns OK when `mask` is a valid mask path: dot-separated names of
// letters, digits, '_', '-' and '$', optionally ending in '.'. Otherwise
// returns INVALID_ARGUMENT naming the value.
absl::Status ValidateMaskPath(std::string_view mask);

// A set of mask paths. A path masks the attribute of that name and every
// attribute under it: "subject.email" masks subject.email, and "context" or
// "context." masks context.ip and everything else under context. Always
// includes kDefaultMaskedAttributes. Immutable after Create, so
// thread-safe.
class AttributeMasks {
 public:
  // Returns INVALID_ARGUMENT for the first path ValidateMaskPath rejects.
  static absl::StatusOr<AttributeMasks> Create(
      const std::vector<std::string>& paths);

  // True when some mask covers attribute `path`. Cost: one prefix
  // comparison per mask.
  bool Covers(std::string_view path) const;

  // The masks in force, without trailing dots, sorted.
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  std::vector<std::string> paths_;
};

// Formats the decision log line of `event`, and of `shadow` when not null,
// with its trailing newline:
//
//   {"api":"decide","decision_id":"...","duration_ns":41000,
//    "input":{"action":{"name":"edit"},"subject":{"id":"alice"}},
//    "result":{"decision":true,"reasons":["permit:edit-own-docs"],...},
//    "revision":"cc86245fcb93","time":"2026-12-05T06:41:45.040Z"}
//
// The members are sorted by name, and docs/operations.md describes each.
// An invalid request has "error" in place of "decision_id" and "result".
// Values of attributes `masks` covers are kMaskedValue, and so is any
// string value that contains a token of frame.presentation(). Attributes
// the engine computes (meta.source.*, entity ancestors) are left out.
// Thread-safe. Appends the JSON text to one string, which it reserves at
// 1 KiB, and allocates a few short-lived strings besides (the decision id,
// the reasons, formatted decimals and addresses).
std::string FormatDecisionLine(const DecisionEvent& event,
                               const ShadowDecision* shadow,
                               const AttributeMasks& masks);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DECISION_LOG_LINE_H_
