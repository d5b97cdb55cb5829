// Decoding of Envoy's envoy.service.auth.v3.CheckRequest into evaluation
// frames, and the URL normalisation it applies first. docs/envoy.md lists
// the attribute each part of the request becomes.

#ifndef VERDICT_SERVER_ENVOY_REQUEST_H_
#define VERDICT_SERVER_ENVOY_REQUEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/program.h"
#include "engine/request.h"
#include "envoy/service/auth/v3/external_auth.pb.h"

namespace verdict::server {

// The filter_metadata namespace of Envoy's JWT filter, and the key under it
// that contains the verified payload (its `payload_in_metadata` setting).
inline constexpr std::string_view kJwtFilterNamespace =
    "envoy.filters.http.jwt_authn";
inline constexpr std::string_view kJwtPayloadKey = "jwt_payload";

// Normalises the path of a request target (without its query) so that
// equal resources compare equal in policies:
//   1. percent-encoded unreserved characters (RFC 3986 section 2.3) are
//      decoded, and the hex digits of every other escape are upper-cased;
//   2. dot segments are removed (RFC 3986 section 5.2.4);
//   3. runs of '/' become one '/'.
// "/public/../admin" and "/public/%2E%2E/admin" both become "/admin".
//
// Returns INVALID_ARGUMENT, naming the path, for a path that does not start
// with '/', a malformed escape, an escaped '/' or '\' (%2F, %5C), a raw '\',
// '#', a control character, space or DEL. A backend may read these
// differently from the policy, so the request is denied.
absl::StatusOr<std::string> NormalizePath(std::string_view path);

// Splits a query string "a=1&b=x%20y&a=2" into decoded (name, value) pairs
// in order. '+' means a space, as in HTML forms; a parameter without '='
// has an empty value; empty parameters ("a=1&&b") are skipped. Returns
// INVALID_ARGUMENT for a malformed percent escape.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view query);

// Returns the attribute name part for an HTTP header or query parameter
// name: lower-cased, with '-' replaced by '_' ("X-Tenant-Id" ->
// "x_tenant_id"). Returns an empty string when the result is not a name a
// schema can declare ([a-z_][a-z0-9_]*), such as for ":path" or "a.b".
std::string AttributeNameOf(std::string_view name);

// Resets `frame` for `program` and fills it from `request` (see
// docs/envoy.md for the mapping), then runs token verification defaults
// and RequestBuilder::Finish(now_unix_seconds).
//
// Returns INVALID_ARGUMENT, naming the value, for any of these: a path
// NormalizePath rejects, a malformed query escape, two header or parameter names that map
// to one declared attribute ("x-a" and "x_a"), a JWT claim whose value the
// schema's type cannot hold (such as 1.5 for an int), JWT claims nested
// deeper than kMaxObjectDepth, and any value RequestBuilder rejects.
// Thread-compatible, like Frame.
absl::Status DecodeCheckRequest(
    const Program& program,
    const envoy::service::auth::v3::CheckRequest& request,
    int64_t now_unix_seconds, Frame& frame);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_ENVOY_REQUEST_H_
