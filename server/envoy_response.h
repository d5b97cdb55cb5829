// Building Envoy's envoy.service.auth.v3.CheckResponse from a decision, and
// the obligations that set the HTTP headers and the denial response.
//
// Obligations Envoy carries out (field values render as text: integers in
// decimal, sets and lists joined with ", "):
//
//   set_request_header    {name, value}  replace or add a header of the
//                                        request sent upstream (on PERMIT)
//   append_request_header {name, value}  add a value to such a header,
//                                        keeping existing ones (on PERMIT)
//   remove_request_header {name}         remove a header from the request
//                                        sent upstream (on PERMIT)
//   set_response_header   {name, value}  set a header of the response to the
//                                        client, on PERMIT or DENY
//   deny_response         {status?, body?}  the HTTP status (an int from 300
//                                        to 599, default 403) and body of a
//                                        denial (on DENY; ignored on PERMIT)
//
// Envoy cannot carry out any other obligation, so a permit that carries one
// is denied with the reason "obligation_invalid:<policy>". So is a permit
// whose obligation has a missing field, a field of the wrong type, a header
// name that is not an HTTP token, or a value with CR, LF or NUL. Advice is
// not used.

#ifndef VERDICT_SERVER_ENVOY_RESPONSE_H_
#define VERDICT_SERVER_ENVOY_RESPONSE_H_

#include <string_view>

#include "absl/status/status.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "envoy/service/auth/v3/external_auth.pb.h"

namespace verdict::server {

inline constexpr std::string_view kSetRequestHeader = "set_request_header";
inline constexpr std::string_view kAppendRequestHeader =
    "append_request_header";
inline constexpr std::string_view kRemoveRequestHeader =
    "remove_request_header";
inline constexpr std::string_view kSetResponseHeader = "set_response_header";
inline constexpr std::string_view kDenyResponse = "deny_response";

// Maximum size of a HeaderValue value that Envoy accepts, in bytes.
inline constexpr size_t kMaxHeaderValueBytes = 16384;

// Status code of a denial whose policies set none: 403 Forbidden.
inline constexpr int kDefaultDenyStatus = 403;

// Fills `response` for `decision`, made on the request in `frame`:
//   PERMIT: status code 0 and an OkHttpResponse with the header obligations;
//   DENY:   status code 7 (PERMISSION_DENIED) and a DeniedHttpResponse with
//           the status, headers and body of the forbid's obligations.
// dynamic_metadata carries decision ("permit" or "deny"), decision_id,
// revision, policies, reasons and, when a policy set decided, policy_set.
// Thread-compatible; allocates.
void BuildCheckResponse(const Program& program, const Frame& frame,
                        const Decision& decision,
                        envoy::service::auth::v3::CheckResponse& response);

// Fills `response` with a denial (status 7, HTTP 403) for a request that
// could not be decoded, with `error`'s message in the status and in
// dynamic_metadata ("reasons": ["request_invalid"], "error", "revision").
void BuildInvalidRequestResponse(
    std::string_view revision, const absl::Status& error,
    envoy::service::auth::v3::CheckResponse& response);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_ENVOY_RESPONSE_H_
