// Decoding of verdict.v1.DecideRequest messages into evaluation frames.

#ifndef VERDICT_SERVER_PROTO_REQUEST_H_
#define VERDICT_SERVER_PROTO_REQUEST_H_

#include <cstdint>

#include "absl/status/status.h"
#include "engine/program.h"
#include "engine/request.h"
#include "verdict/v1/verdict.pb.h"

namespace verdict::server {

// Maximum nesting of `object` values below a group. Deeper requests are
// rejected before they can exhaust the decoder's stack.
inline constexpr int kMaxObjectDepth = 32;

// Resets `frame` for `program` and fills it from `request`:
//   subject.type, subject.id, subject.<property>
//   action.name, action.<property>
//   resource.type, resource.id, resource.<property>
//   context.<property>
//   attributes[<group>].<property>  ->  <group>.<property>
// An `object` value nests: property `b` of object `a` is `<group>.a.b`.
// Empty type, id and name fields count as not given. Then calls
// RequestBuilder::Finish(now_unix_seconds), which joins entity data and
// fills env.now when the request has none.
//
// Returns INVALID_ARGUMENT, naming the attribute path, for a value whose
// type does not match the schema, a property name that is empty or contains
// '.', a property that repeats a fixed field (subject "id", action "name"),
// an attribute group that is empty, dotted or one of the four fixed groups,
// and nesting deeper than kMaxObjectDepth. Thread-compatible, like Frame.
absl::Status DecodeDecideRequest(const Program& program,
                                 const v1::DecideRequest& request,
                                 int64_t now_unix_seconds, Frame& frame);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_PROTO_REQUEST_H_
