#include "server/json_convert.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/proto_request.h"

namespace verdict::server {
namespace {

using nlohmann::json;

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// Describes a JSON value for an error message without echoing long text.
std::string Describe(const json& value) {
  std::string text = value.dump();
  constexpr size_t kMaxShown = 40;
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "...";
  return absl::StrCat(value.type_name(), " ", text);
}

absl::Status ConvertProperties(const json& object, const std::string& field,
                               int depth, v1::Properties& out);

absl::Status ConvertStringArray(const json& array, const std::string& field,
                                v1::StringList& out) {
  for (size_t i = 0; i < array.size(); ++i) {
    const json& element = array[i];
    if (!element.is_string()) {
      return FieldError(
          absl::StrCat(field, "[", i, "]"),
          absl::StrCat("arrays must contain only strings (a set<string> or "
                       "list<string>), got ",
                       Describe(element)));
    }
    out.add_values(element.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status ConvertValue(const json& value, const std::string& field,
                          int depth, v1::Value& out) {
  switch (value.type()) {
    case json::value_t::boolean:
      out.set_bool_value(value.get<bool>());
      return absl::OkStatus();
    case json::value_t::number_integer:
      out.set_int_value(value.get<int64_t>());
      return absl::OkStatus();
    case json::value_t::number_unsigned: {
      const uint64_t number = value.get<uint64_t>();
      if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FieldError(field, absl::StrCat(number,
                                              " is larger than the int64 "
                                              "maximum 9223372036854775807"));
      }
      out.set_int_value(static_cast<int64_t>(number));
      return absl::OkStatus();
    }
    case json::value_t::number_float:
      return FieldError(
          field,
          absl::StrCat(value.dump(),
                       " is not an integer; attributes hold 64-bit integers "
                       "only, so send whole units (seconds, cents)"));
    case json::value_t::string:
      out.set_string_value(value.get<std::string>());
      return absl::OkStatus();
    case json::value_t::array:
      return ConvertStringArray(value, field, *out.mutable_string_set());
    case json::value_t::object:
      return ConvertProperties(value, field, depth + 1, *out.mutable_object());
    default:
      return FieldError(
          field, absl::StrCat("unsupported JSON value ", Describe(value)));
  }
}

absl::Status ConvertProperties(const json& object, const std::string& field,
                               int depth, v1::Properties& out) {
  if (!object.is_object()) {
    return FieldError(
        field, absl::StrCat("expected an object, got ", Describe(object)));
  }
  if (depth >= kMaxObjectDepth) {
    return FieldError(field, absl::StrCat("objects nest more than ",
                                          kMaxObjectDepth, " levels deep"));
  }
  for (const auto& [name, value] : object.items()) {
    if (value.is_null()) continue;
    const std::string child = absl::StrCat(field, ".", name);
    v1::Value converted;
    if (absl::Status s = ConvertValue(value, child, depth, converted);
        !s.ok()) {
      return s;
    }
    (*out.mutable_fields())[name] = std::move(converted);
  }
  return absl::OkStatus();
}

// Checks that `object` is a JSON object whose keys are all in `allowed`.
absl::Status CheckFields(const json& object, absl::string_view field,
                         std::initializer_list<absl::string_view> allowed) {
  if (!object.is_object()) {
    return FieldError(
        field, absl::StrCat("expected an object, got ", Describe(object)));
  }
  for (const auto& [name, value] : object.items()) {
    bool known = false;
    for (absl::string_view candidate : allowed) known |= (name == candidate);
    if (!known) {
      return FieldError(absl::StrCat(field, field.empty() ? "" : ".", name),
                        absl::StrCat("unknown field; expected one of ",
                                     absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

// Copies the string member `name` of `object` into `out` unless it is
// missing or null.
absl::Status CopyString(const json& object, absl::string_view parent,
                        const char* name, std::string& out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return FieldError(absl::StrCat(parent, ".", name),
                      absl::StrCat("expected a string, got ", Describe(*it)));
  }
  out = it->get<std::string>();
  return absl::OkStatus();
}

// Converts a subject, action or resource. `fixed` pairs its string fields
// (type and id, or name) with their destinations. The `properties` object
// and, as older AuthZEN drafts allow, any other member become properties.
absl::Status ConvertEntity(
    const json& object, const std::string& field,
    std::initializer_list<std::pair<const char*, std::string*>> fixed,
    v1::Properties& properties) {
  if (!object.is_object()) {
    return FieldError(
        field, absl::StrCat("expected an object, got ", Describe(object)));
  }
  for (const auto& [name, destination] : fixed) {
    if (absl::Status s = CopyString(object, field, name, *destination);
        !s.ok()) {
      return s;
    }
  }
  if (auto it = object.find("properties");
      it != object.end() && !it->is_null()) {
    if (absl::Status s = ConvertProperties(
            *it, absl::StrCat(field, ".properties"), 0, properties);
        !s.ok()) {
      return s;
    }
  }

  for (const auto& [name, value] : object.items()) {
    bool is_fixed = name == "properties";
    for (const auto& entry : fixed) is_fixed |= (name == entry.first);
    if (is_fixed || value.is_null()) continue;

    const std::string child = absl::StrCat(field, ".", name);
    if (properties.fields().contains(name)) {
      return FieldError(child, absl::StrCat("given both here and in ", field,
                                            ".properties; send it once"));
    }
    v1::Value converted;
    if (absl::Status s = ConvertValue(value, child, 0, converted); !s.ok()) {
      return s;
    }
    (*properties.mutable_fields())[name] = std::move(converted);
  }
  return absl::OkStatus();
}

absl::Status ConvertAttributes(const json& object, v1::DecideRequest& request) {
  if (!object.is_object()) {
    return FieldError("attributes", absl::StrCat("expected an object, got ",
                                                 Describe(object)));
  }
  for (const auto& [group, properties] : object.items()) {
    if (properties.is_null()) continue;
    v1::Properties& out = (*request.mutable_attributes())[group];
    if (absl::Status s = ConvertProperties(
            properties, absl::StrCat("attributes.", group), 0, out);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ConvertMember(const std::string& name, const json& value,
                           v1::DecideRequest& request) {
  if (name == "subject") {
    v1::Subject& subject = *request.mutable_subject();
    return ConvertEntity(
        value, name,
        {{"type", subject.mutable_type()}, {"id", subject.mutable_id()}},
        *subject.mutable_properties());
  }
  if (name == "action") {
    v1::Action& action = *request.mutable_action();
    return ConvertEntity(value, name, {{"name", action.mutable_name()}},
                         *action.mutable_properties());
  }
  if (name == "resource") {
    v1::Resource& resource = *request.mutable_resource();
    return ConvertEntity(
        value, name,
        {{"type", resource.mutable_type()}, {"id", resource.mutable_id()}},
        *resource.mutable_properties());
  }
  if (name == "context") {
    return ConvertProperties(value, name, 0,
                             *request.mutable_context()->mutable_properties());
  }
  return ConvertAttributes(value, request);
}

}  // namespace

absl::StatusOr<v1::DecideRequest> JsonToDecideRequest(const json& document) {
  if (!document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a request must be a JSON object, got ", Describe(document)));
  }
  if (absl::Status s = CheckFields(
          document, "",
          {"subject", "action", "resource", "context", "attributes"});
      !s.ok()) {
    return s;
  }
  v1::DecideRequest request;
  for (const auto& [name, value] : document.items()) {
    if (value.is_null()) continue;
    if (absl::Status s = ConvertMember(name, value, request); !s.ok()) {
      return s;
    }
  }
  return request;
}

json DecideResponseToJson(const v1::DecideResponse& response) {
  json errors = json::array();
  for (const v1::PolicyError& error : response.errors()) {
    errors.push_back(
        {{"policy", error.policy()}, {"message", error.message()}});
  }
  json duties[2] = {json::array(), json::array()};
  for (int advice = 0; advice < 2; ++advice) {
    for (const v1::Duty& duty :
         advice ? response.advice() : response.obligations()) {
      duties[advice].push_back({{"policy", duty.policy()},
                                {"name", duty.name()},
                                {"fields", PropertiesToJson(duty.fields())}});
    }
  }
  json context = {
      {"decision_id", response.decision_id()},
      {"revision", response.revision()},
      {"policies", json(std::vector<std::string>(response.policies().begin(),
                                                 response.policies().end()))},
      {"errors", std::move(errors)},
      {"reasons", json(std::vector<std::string>(response.reasons().begin(),
                                                response.reasons().end()))},
      {"obligations", std::move(duties[0])},
      {"advice", std::move(duties[1])},
  };
  if (!response.policy_set().empty()) context["policy_set"] = response.policy_set();
  return {{"decision", response.decision()}, {"context", std::move(context)}};
}

absl::Status JsonToProperties(const json& object, v1::Properties& out) {
  return ConvertProperties(object, "fields", 0, out);
}

json PropertiesToJson(const v1::Properties& properties) {
  json out = json::object();
  for (const auto& [name, value] : properties.fields()) {
    switch (value.kind_case()) {
      case v1::Value::kBoolValue:
        out[name] = value.bool_value();
        break;
      case v1::Value::kIntValue:
        out[name] = value.int_value();
        break;
      case v1::Value::kStringValue:
        out[name] = value.string_value();
        break;
      case v1::Value::kStringSet:
        out[name] = std::vector<std::string>(value.string_set().values().begin(),
                                             value.string_set().values().end());
        break;
      case v1::Value::kStringList:
        out[name] = std::vector<std::string>(
            value.string_list().values().begin(),
            value.string_list().values().end());
        break;
      case v1::Value::kObject:
        out[name] = PropertiesToJson(value.object());
        break;
      case v1::Value::KIND_NOT_SET:
        out[name] = nullptr;
        break;
    }
  }
  return out;
}

json ItemErrorToJson(const v1::ItemError& error) {
  const std::string code =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(error.code()));
  return {{"error", {{"code", code}, {"message", error.message()}}}};
}

}  // namespace verdict::server
