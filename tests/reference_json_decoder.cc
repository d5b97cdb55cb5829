// The DOM-based AuthZEN JSON request decoder, kept as a reference for tests
// and benchmarks (see reference_json_decoder.h).

#include "tests/reference_json_decoder.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict::testing {
namespace {

using Json = nlohmann::json;

// Nested objects deeper than this are rejected rather than walked.
constexpr int kMaxJsonDepth = 32;

class JsonDecoder {
 public:
  JsonDecoder(const Program& program, Frame& frame)
      : program_(program), builder_(program, frame) {}

  absl::Status Decode(const Json& request);
  RequestBuilder& builder() { return builder_; }

 private:
  absl::Status DecodeEntity(const std::string& group, const Json& entity);
  absl::Status DecodeValue(const std::string& path, const Json& value,
                           int depth);
  absl::Status DecodeArray(const std::string& path, const Json& array);

  const Program& program_;
  RequestBuilder builder_;
};

absl::Status JsonDecoder::Decode(const Json& request) {
  if (!request.is_object()) {
    return absl::InvalidArgumentError(
        "a request must be a JSON object with subject, action, resource and "
        "context members");
  }
  for (const auto& [key, value] : request.items()) {
    absl::Status status;
    if (key == "subject" || key == "action" || key == "resource") {
      status = DecodeEntity(key, value);
    } else if (key == "context") {
      if (!value.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request member \"context\" must be an object, not ",
            value.type_name()));
      }
      status = DecodeValue("context", value, 0);
    } else if (key == "attributes") {
      if (!value.is_object()) {
        return absl::InvalidArgumentError(
            "request member \"attributes\" must be an object of attribute "
            "groups, such as {\"tee\": {\"debug\": false}}");
      }
      for (const auto& [group, members] : value.items()) {
        status = DecodeValue(group, members, 0);
        if (!status.ok()) break;
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown request member \"", key,
          "\"; a request has subject, action, resource, context and "
          "attributes"));
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// An entity's own members (type, id, name) and its `properties` all become
// attributes of the group; older AuthZEN drafts put properties at the top.
absl::Status JsonDecoder::DecodeEntity(const std::string& group,
                                       const Json& entity) {
  if (!entity.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request member \"", group, "\" must be an object, not ",
        entity.type_name()));
  }
  for (const auto& [key, value] : entity.items()) {
    absl::Status status = key == "properties"
                              ? DecodeValue(group, value, 0)
                              : DecodeValue(absl::StrCat(group, ".", key),
                                            value, 1);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status JsonDecoder::DecodeValue(const std::string& path,
                                      const Json& value, int depth) {
  if (depth > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", path, " nests deeper than ", kMaxJsonDepth,
        " objects, the limit; flatten it into fewer levels"));
  }
  switch (value.type()) {
    case Json::value_t::object:
      if (program_.FindSlot(path) != kNoSlot) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute ", path, ": expected ",
            ToAbsl(TypeName(program_.slots[program_.FindSlot(path)].type)),
            ", got an object"));
      }
      for (const auto& [key, member] : value.items()) {
        absl::Status status =
            DecodeValue(absl::StrCat(path, ".", key), member, depth + 1);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    case Json::value_t::null:
      return builder_.SetNull(path);
    case Json::value_t::boolean:
      return builder_.SetBool(path, value.get<bool>());
    case Json::value_t::number_integer:
      return builder_.SetInt(path, value.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t number = value.get<uint64_t>();
      if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        if (program_.FindSlot(path) == kNoSlot) return absl::OkStatus();
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute ", path, ": the integer ", number,
            " does not fit in a signed 64-bit integer"));
      }
      return builder_.SetInt(path, static_cast<int64_t>(number));
    }
    case Json::value_t::number_float:
      if (program_.FindSlot(path) == kNoSlot) return absl::OkStatus();
      if (program_.slots[program_.FindSlot(path)].type == Type::kDecimal) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute ", path, ": ", value.dump(),
            " is a JSON float; send a decimal as a string, such as \"",
            value.dump(), "\", so that no digit is lost to floating point"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "request attribute ", path, ": ", value.dump(),
          " is not an integer; Verdict reads numbers as exact 64-bit "
          "integers and never through floating point"));
    case Json::value_t::string:
      return builder_.SetString(path, value.get_ref<const std::string&>());
    case Json::value_t::array:
      return DecodeArray(path, value);
    default:
      return absl::OkStatus();  // binary and discarded values do not occur
  }
}

absl::Status JsonDecoder::DecodeArray(const std::string& path,
                                      const Json& array) {
  if (program_.FindSlot(path) == kNoSlot) return absl::OkStatus();
  std::vector<std::string_view> elements;
  elements.reserve(array.size());
  for (const Json& element : array) {
    if (!element.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request attribute ", path, ": element ", element.dump(),
          " is not a string; sets and lists hold strings"));
    }
    elements.push_back(element.get_ref<const std::string&>());
  }
  return builder_.SetStrings(path, elements);
}

}  // namespace

absl::Status ReferenceDecodeJsonRequest(const Program& program,
                                        std::string_view json,
                                        int64_t now_unix_seconds, Frame& frame) {
  if (json.size() > kMaxRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request is ", json.size(), " bytes, more than the limit of ",
        kMaxRequestBytes, " bytes (4 MiB); send a smaller request"));
  }
  Json request = Json::parse(json, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) {
    // Parse again with exceptions only to recover the position of the error.
    try {
      Json ignored = Json::parse(json);
      (void)ignored;
    } catch (const Json::exception& error) {
      // Usually a parse_error; a number beyond the range of double is an
      // out_of_range error instead.
      return absl::InvalidArgumentError(
          absl::StrCat("request is not valid JSON: ", error.what()));
    }
    return absl::InvalidArgumentError("request is not valid JSON");
  }
  frame.Reset(program);
  JsonDecoder decoder(program, frame);
  absl::Status status = decoder.Decode(request);
  if (!status.ok()) return status;
  decoder.builder().Finish(now_unix_seconds);
  return absl::OkStatus();
}

}  // namespace verdict::testing
