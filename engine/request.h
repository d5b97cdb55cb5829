// Decoded requests: the per-call frame of attribute slots, and the builder
// that fills it from any wire format.
//
// A Frame is scratch state that the caller owns and reuses across calls.
// Once its buffers have grown to a program's needs, decoding and evaluating
// allocate nothing, except to parse RFC 3339 timestamp strings. A Frame is
// thread-compatible: use one per thread.

#ifndef VERDICT_ENGINE_REQUEST_H_
#define VERDICT_ENGINE_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/presentation.h"
#include "engine/program.h"

namespace verdict {

// The provenance of an attribute's value, which policies read as
// `meta.source.<attribute>` (see SourceName).
enum class AttributeSource : uint8_t {
  kRequest,      // a plain attribute of the request, not verified by Verdict
  kData,         // joined from entity data
  kIdJag,        // a verified ID-JAG
  kAccessToken,  // a verified JWT access token (RFC 9068)
  kEar,          // a verified EAR attestation result
  kVerdict,      // set by Verdict itself, such as token.verified = false
};

// Returns the provenance name: "attribute", "data", "id-jag",
// "access_token", "ear" or "verdict".
std::string_view SourceName(AttributeSource source);

// Whether decoding runs the program's token verification.
enum class TokenStage {
  kVerify,
  // Treats the attributes tokens set (token.verified, tee.*, ...) as plain
  // request attributes, and rejects a request with `tokens`. For analyses
  // that search the attribute space, which cannot sign tokens.
  kSkip,
};

// The value of one attribute slot in a request.
struct SlotValue {
  bool present = false;
  bool given = false;  // set by the request or a token, present or null
  AttributeSource source = AttributeSource::kRequest;
  int64_t integer = 0;        // bool, int, timestamp, duration
  uint32_t symbol = kNoSymbol;  // string and list<string>, interned
  uint32_t text_begin = 0;    // string bytes in Frame::text_arena
  uint32_t text_size = 0;
  uint32_t set_begin = 0;     // set<string> symbols in Frame::set_pool
  uint32_t set_size = 0;      // sorted, unique
};

class Frame {
 public:
  Frame() = default;
  Frame(const Frame&) = delete;  // slot values index its own buffers
  Frame& operator=(const Frame&) = delete;

  // Clears every slot for a new request against `program`, keeping capacity.
  void Reset(const Program& program);

  const SlotValue& slot(uint32_t index) const { return slots_[index]; }
  std::string_view Text(const SlotValue& value) const {
    return std::string_view(text_arena_).substr(value.text_begin,
                                                value.text_size);
  }
  std::span<const uint32_t> Set(const SlotValue& value) const {
    return std::span<const uint32_t>(set_pool_).subspan(value.set_begin,
                                                        value.set_size);
  }
  // Returns the text of a symbol from this frame's program or request.
  std::string_view SymbolText(uint32_t symbol) const;
  // Attribute paths given two different values: by the request and by
  // entity data or a verified token, or by two tokens.
  const std::vector<std::string>& conflicts() const { return conflicts_; }
  // Reasons the request is denied before evaluation, such as
  // "token_invalid:aud" for a token that failed verification.
  const std::vector<std::string>& rejections() const { return rejections_; }
  // For each rejection, what failed, for people; may be empty.
  const std::vector<std::string>& rejection_details() const {
    return rejection_details_;
  }
  // The tokens the request carried and the facts that bind them.
  const Presentation& presentation() const { return presentation_; }

  // Scratch buffers of DecodeJsonRequest, kept so that decoding allocates
  // nothing once they have grown. The views point into the last request.
  struct JsonScratch {
    std::string path;             // dotted path of the current member
    std::string text;             // strings that contained escapes, decoded
    std::string open_containers;  // '{' or '[' per container being skipped
    std::vector<std::string_view> keys;      // member names of open objects
    std::vector<std::string_view> elements;  // strings of the current array
  };

  // Result storage written by Evaluate().
  std::vector<uint32_t> permits;
  std::vector<uint32_t> forbids;
  std::vector<ErroredPolicy> errors;
  // Scratch for combining policy sets: the determining policies, and one
  // status per policy (all zero between evaluations).
  std::vector<uint32_t> determining;
  std::vector<uint8_t> policy_status;
  std::vector<uint8_t> set_results;

 private:
  friend class RequestBuilder;
  friend absl::Status DecodeJsonRequest(const Program& program,
                                        std::string_view json,
                                        int64_t now_unix_seconds, Frame& frame,
                                        TokenStage token_stage);

  // Returns the program symbol of `text`, or a request-local symbol above
  // the program's range so that equal unknown strings still compare equal.
  uint32_t Intern(std::string_view text);

  // Hashes and compares request-local symbols, given as indices into
  // dynamic_spans_, by their text, so that the set of them can be searched
  // with a string_view.
  struct DynamicSymbolHash {
    using is_transparent = void;
    size_t operator()(uint32_t index) const {
      return frame->dynamic_spans_[index].hash;
    }
    size_t operator()(std::string_view text) const;
    const Frame* frame;
  };
  struct DynamicSpan {
    uint32_t begin;  // in dynamic_text_
    uint32_t size;
    size_t hash;  // DynamicSymbolHash of the text, kept for rehashing
  };
  struct DynamicSymbolEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Text(a) == Text(b);
    }
    std::string_view Text(uint32_t index) const {
      return frame->DynamicText(index);
    }
    std::string_view Text(std::string_view text) const { return text; }
    const Frame* frame;
  };

  std::string_view DynamicText(uint32_t index) const {
    const DynamicSpan& span = dynamic_spans_[index];
    return std::string_view(dynamic_text_).substr(span.begin, span.size);
  }

  const Program* program_ = nullptr;
  std::vector<SlotValue> slots_;
  std::string text_arena_;
  std::vector<uint32_t> set_pool_;
  // Strings the program does not know, numbered from 0 in the order they
  // were interned: their bytes are in dynamic_text_, and dynamic_symbols_
  // finds a number by its text. Clearing keeps the capacity of all three.
  std::string dynamic_text_;
  std::vector<DynamicSpan> dynamic_spans_;
  absl::flat_hash_set<uint32_t, DynamicSymbolHash, DynamicSymbolEq>
      dynamic_symbols_{0, DynamicSymbolHash{this}, DynamicSymbolEq{this}};
  std::vector<std::string> conflicts_;
  std::vector<std::string> rejections_;
  std::vector<std::string> rejection_details_;
  Presentation presentation_;
  // A list's joined elements, or an ancestors key "<type>::<id>".
  std::string scratch_text_;
  JsonScratch json_scratch_;
};

// Budgets for one request. RequestBuilder enforces the element and string
// budgets for every wire format, on the attributes the schema declares,
// at O(1) cost per value. Values under undeclared paths are read and
// dropped, so kMaxRequestBytes bounds their cost. Past a budget the
// request is an INVALID_ARGUMENT error that names the path and the limit.
//
// Bytes of one JSON request, checked before decoding. AuthZEN requests
// are typically a few kilobytes, so 4 MiB, gRPC's own default maximum
// message size, leaves room for large sets while bounding the decoder's
// scratch buffers, which grow with the input.
inline constexpr size_t kMaxRequestBytes = size_t{4} << 20;
// Elements of one set<string> or list<string> attribute, before duplicates
// collapse. Role, group and tag sets typically run to hundreds.
// SetStrings sorts each set, so this also bounds that sort.
inline constexpr size_t kMaxRequestElements = 10'000;
// Bytes of one string attribute or one set or list element, matching the
// default size limit for a token (tokens/trust_config.h). Identifiers,
// names, paths and addresses are far shorter.
inline constexpr size_t kMaxRequestStringBytes = size_t{64} << 10;

// Fills a Frame attribute by attribute. Wire decoders (JSON here, protobuf in
// the server) walk their input and call the setters with dotted attribute
// paths. Paths the program's schema does not declare are ignored, because
// requests routinely carry properties no policy reads. A value of the wrong
// type, or a second value for a path already given (such as `subject.id`
// and `subject.properties.id`), is an INVALID_ARGUMENT error naming the
// path, and so is a declared string or collection past
// kMaxRequestStringBytes or kMaxRequestElements. Thread-compatible.
class RequestBuilder {
 public:
  // REQUIRES: `program` and `frame` outlive the builder.
  RequestBuilder(const Program& program, Frame& frame);

  absl::Status SetBool(std::string_view path, bool value);
  // Integers for int, timestamp (Unix seconds) and duration (seconds) slots.
  absl::Status SetInt(std::string_view path, int64_t value);
  // A string, or an RFC 3339 time for a timestamp slot.
  absl::Status SetString(std::string_view path, std::string_view value);
  // Elements of a set<string> or list<string> slot.
  absl::Status SetStrings(std::string_view path,
                          std::span<const std::string_view> values);
  // Marks `path` as explicitly absent (a JSON null).
  absl::Status SetNull(std::string_view path);

  // Attributes established by a verified token or by Verdict itself, set
  // after the request's own attributes. A path the schema does not declare
  // is ignored. A value that differs from one the request or an earlier
  // token gave denies the request with attribute_conflict:<path>; an equal
  // value is kept and takes `source`. A declared type that cannot hold the
  // value denies the request with attribute_type:<path>.
  void DeriveBool(std::string_view path, bool value, AttributeSource source);
  // For int, timestamp (Unix seconds) and duration (seconds) slots.
  void DeriveInt(std::string_view path, int64_t value, AttributeSource source);
  void DeriveString(std::string_view path, std::string_view value,
                    AttributeSource source);
  // A set<string> (`ordered` false) or a list<string> (`ordered` true).
  void DeriveStrings(std::string_view path, std::span<const std::string> values,
                     bool ordered, AttributeSource source);
  // Denies the request before evaluation, with `reason` among the reasons.
  // `detail` describes what failed, for explanations.
  void Reject(std::string reason, std::string detail = {});

  // The tokens the request presents; wire decoders fill it.
  Presentation& presentation() { return frame_.presentation_; }

  // Verifies the presented tokens with the program's TokenSource and sets
  // the attributes they establish. Call after the request's own attributes
  // and before Finish. Returns INVALID_ARGUMENT when the request presents
  // tokens but the program was compiled without a trust file.
  absl::Status VerifyTokens(int64_t now_unix_seconds,
                            TokenStage stage = TokenStage::kVerify);

  // Joins entity data records into groups keyed by `<group>.id`, recording a
  // conflict for every attribute the request gives with a different value,
  // and fills `env.now` with `now_unix_seconds` when the request has none.
  void Finish(int64_t now_unix_seconds);

 private:
  // Returns the slot for `path` if declared with a type accepted by
  // `accepts`, kNoSlot if the schema does not declare it, or an error.
  // `describe_given` names the given value for the type error; it runs only
  // on that error path, so a valid attribute costs no string building.
  absl::Status Lookup(std::string_view path,
                      absl::FunctionRef<std::string()> describe_given,
                      bool (*accepts)(Type), uint32_t& slot);
  // Returns Lookup's error for a declared `slot` that cannot take the value.
  ABSL_ATTRIBUTE_NOINLINE absl::Status LookupError(
      std::string_view path, absl::FunctionRef<std::string()> describe_given,
      uint32_t slot);
  // Returns the slot of a derived attribute, or kNoSlot when the schema
  // does not declare it or its type cannot hold the value (then the request
  // is rejected).
  uint32_t DerivedSlot(std::string_view path, bool (*accepts)(Type));
  // Keeps `source` when the slot already contains an equal value, or
  // records a conflict. Returns false when the slot was empty and must be filled.
  bool MatchDerived(uint32_t slot, bool equal, AttributeSource source);
  void DeriveText(uint32_t slot, std::string_view value, AttributeSource source);
  void AddConflict(uint32_t slot);
  void FillProvenance();
  void JoinRecord(const DataJoin& join, const DataRecord& record);
  // Parses a timestamp, decimal, ip or cidr value given as text into its
  // slot. Out of line, so that SetString stays small for plain strings.
  ABSL_ATTRIBUTE_NOINLINE absl::Status SetParsed(std::string_view path, uint32_t slot, Type type,
                         std::string_view value);

  const Program& program_;
  Frame& frame_;
};

// Decodes an AuthZEN-shaped JSON request:
//   {"subject":  {"type": ..., "id": ..., "properties": {...}},
//    "action":   {"name": ..., "properties": {...}},
//    "resource": {"type": ..., "id": ..., "properties": {...}},
//    "context":  {...},
//    "attributes": {"<group>": {...}}}
// Entity properties become `<group>.<name>`; nested objects become dotted
// paths. Integers are read as integers, never through floating point.
// Returns INVALID_ARGUMENT for malformed JSON (numbers beyond the range of
// a double included), input longer than kMaxRequestBytes, unknown
// top-level fields, a member name repeated in one object, objects nested
// deeper than 32, and ill-typed values. Calls
// RequestBuilder::Finish with `now_unix_seconds`. Reads the input once and,
// when `frame` has decoded similar requests before, allocates nothing
// unless a timestamp is given as an RFC 3339 string.
absl::Status DecodeJsonRequest(const Program& program, std::string_view json,
                               int64_t now_unix_seconds, Frame& frame);

// DecodeJsonRequest with the token stage chosen.
absl::Status DecodeJsonRequest(const Program& program, std::string_view json,
                               int64_t now_unix_seconds, Frame& frame,
                               TokenStage token_stage);

}  // namespace verdict

#endif  // VERDICT_ENGINE_REQUEST_H_
