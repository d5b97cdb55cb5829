#include "server/envoy_response.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "engine/values.h"

namespace verdict::server {
namespace {

namespace auth = ::envoy::service::auth::v3;
using ::envoy::config::core::v3::HeaderValueOption;

// gRPC status codes of the CheckResponse.
constexpr int32_t kGrpcOk = 0;
constexpr int32_t kGrpcPermissionDenied = 7;

// A duty field's value, read from the policy literal or the request.
struct FieldValue {
  Type type = Type::kString;
  int64_t integer = 0;
  std::string text;  // every type rendered as text
};

std::string JoinSymbols(const Frame& frame, const SlotValue& value) {
  std::vector<absl::string_view> elements;
  for (uint32_t symbol : frame.Set(value)) {
    elements.push_back(ToAbsl(frame.SymbolText(symbol)));
  }
  // Sets are ordered by symbol number; text order keeps headers stable
  // across policy revisions.
  std::sort(elements.begin(), elements.end());
  return absl::StrJoin(elements, ", ");
}

std::string JoinList(const Frame& frame, const SlotValue& value) {
  // Each element is stored behind a kListSeparator byte.
  std::string_view encoded = frame.SymbolText(value.symbol);
  if (!encoded.empty()) encoded.remove_prefix(1);
  return absl::StrJoin(absl::StrSplit(ToAbsl(encoded), kListSeparator), ", ");
}

std::string RenderScalar(Type type, int64_t integer, std::string_view text) {
  switch (type) {
    case Type::kBool:
      return integer != 0 ? "true" : "false";
    case Type::kString:
      return std::string(text);
    case Type::kDecimal:
      return FormatDecimal(integer);
    case Type::kIp:
      return FormatIp(text);
    case Type::kCidr:
      return FormatCidr(text);
    default:
      return absl::StrCat(integer);
  }
}

// Returns the value of `field`, or nullopt when it reads an attribute the
// request does not have.
std::optional<FieldValue> ReadField(const Program& program, const Frame& frame,
                                    const DutyField& field) {
  FieldValue out;
  if (field.slot == kNoSlot) {
    out.type = field.type;
    out.integer = field.integer;
    if (field.type == Type::kStringSet) {
      std::vector<std::string> sorted = field.elements;
      std::sort(sorted.begin(), sorted.end());
      out.text = absl::StrJoin(sorted, ", ");
    } else if (field.type == Type::kStringList) {
      out.text = absl::StrJoin(field.elements, ", ");
    } else {
      out.text = RenderScalar(field.type, field.integer, field.text);
    }
    return out;
  }
  const SlotValue& value = frame.slot(field.slot);
  if (!value.present) return std::nullopt;
  out.type = program.slots[field.slot].type;
  out.integer = value.integer;
  if (out.type == Type::kStringSet) {
    out.text = JoinSymbols(frame, value);
  } else if (out.type == Type::kStringList) {
    out.text = JoinList(frame, value);
  } else {
    out.text = RenderScalar(out.type, value.integer, frame.Text(value));
  }
  return out;
}

// RFC 9110 section 5.6.2.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The HTTP effects of the determining policies' obligations.
class HttpEffects {
 public:
  HttpEffects(const Program& program, const Frame& frame)
      : program_(program), frame_(frame) {}

  // Reads every obligation of `policy`. On PERMIT (`permit` true) an
  // obligation Envoy cannot carry out is an error naming it.
  absl::Status AddPolicy(uint32_t policy, bool permit) {
    const PolicyInfo& info = program_.policies[policy];
    for (const Duty& duty : info.duties) {
      if (duty.advice) continue;
      absl::Status s = AddDuty(duty, permit);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("obligation \"", duty.name, "\" of policy \"",
                         info.id, "\": ", s.message()));
      }
    }
    return absl::OkStatus();
  }

  // Drops every effect read so far.
  void Clear() {
    request_headers_.clear();
    removed_headers_.clear();
    response_headers_.clear();
    deny_status_ = kDefaultDenyStatus;
    deny_body_.clear();
  }

  void FillOk(auth::OkHttpResponse& ok) const {
    for (const Header& header : request_headers_) {
      AddHeader(header, *ok.add_headers());
    }
    for (const std::string& name : removed_headers_) {
      ok.add_headers_to_remove(name);
    }
    for (const Header& header : response_headers_) {
      AddHeader(header, *ok.add_response_headers_to_add());
    }
  }

  void FillDenied(auth::DeniedHttpResponse& denied) const {
    denied.mutable_status()->set_code(
        static_cast<envoy::type::v3::StatusCode>(deny_status_));
    for (const Header& header : response_headers_) {
      AddHeader(header, *denied.add_headers());
    }
    denied.set_body(deny_body_);
  }

 private:
  struct Header {
    std::string name;
    std::string value;
    HeaderValueOption::HeaderAppendAction action;
  };

  static void AddHeader(const Header& header, HeaderValueOption& out) {
    out.mutable_header()->set_key(header.name);
    out.mutable_header()->set_value(header.value);
    out.set_append_action(header.action);
  }

  absl::Status AddDuty(const Duty& duty, bool permit) {
    const auto overwrite = HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD;
    if (duty.name == kSetResponseHeader) {
      return ReadHeader(duty, overwrite, response_headers_);
    }
    if (duty.name == kDenyResponse) {
      return permit ? absl::OkStatus() : ReadDenyResponse(duty);
    }
    if (!permit) return absl::OkStatus();  // upstream headers need a PERMIT
    if (duty.name == kSetRequestHeader) {
      return ReadHeader(duty, overwrite, request_headers_);
    }
    if (duty.name == kAppendRequestHeader) {
      return ReadHeader(duty, HeaderValueOption::APPEND_IF_EXISTS_OR_ADD,
                        request_headers_);
    }
    if (duty.name == kRemoveRequestHeader) {
      absl::StatusOr<std::string> name = ReadHeaderName(duty);
      if (!name.ok()) return name.status();
      removed_headers_.push_back(*std::move(name));
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        "Envoy cannot carry it out; use set_request_header, "
        "append_request_header, remove_request_header, set_response_header "
        "or deny_response, or make it advice");
  }

  // Returns the value of field `key`; an error when it is missing from the
  // obligation or reads an absent attribute.
  absl::StatusOr<FieldValue> Field(const Duty& duty, absl::string_view key) {
    for (const DutyField& field : duty.fields) {
      if (field.key != key) continue;
      std::optional<FieldValue> value = ReadField(program_, frame_, field);
      if (!value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "field ", key, " reads an attribute the request does not have"));
      }
      return *std::move(value);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("it has no field \"", key, "\""));
  }

  const DutyField* FindField(const Duty& duty, absl::string_view key) const {
    for (const DutyField& field : duty.fields) {
      if (field.key == key) return &field;
    }
    return nullptr;
  }

  absl::StatusOr<std::string> ReadHeaderName(const Duty& duty) {
    absl::StatusOr<FieldValue> name = Field(duty, "name");
    if (!name.ok()) return name.status();
    if (name->type != Type::kString || name->text.empty()) {
      return absl::InvalidArgumentError(
          "field name must be a non-empty string");
    }
    for (char c : name->text) {
      if (!IsTokenChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "header name \"", absl::CHexEscape(name->text),
            "\" is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"));
      }
    }
    return absl::AsciiStrToLower(name->text);
  }

  absl::Status ReadHeader(const Duty& duty,
                          HeaderValueOption::HeaderAppendAction action,
                          std::vector<Header>& out) {
    absl::StatusOr<std::string> name = ReadHeaderName(duty);
    if (!name.ok()) return name.status();
    absl::StatusOr<FieldValue> value = Field(duty, "value");
    if (!value.ok()) return value.status();
    if (value->text.size() > kMaxHeaderValueBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("header ", *name, " has a value of ",
                       value->text.size(), " bytes; Envoy accepts at most ",
                       kMaxHeaderValueBytes));
    }
    if (value->text.find_first_of(std::string_view("\r\n\0", 3)) !=
        std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("the value of header ", *name,
                       " contains CR, LF or NUL, which HTTP forbids"));
    }
    out.push_back(Header{*std::move(name), std::move(value->text), action});
    return absl::OkStatus();
  }

  absl::Status ReadDenyResponse(const Duty& duty) {
    if (FindField(duty, "status") != nullptr) {
      absl::StatusOr<FieldValue> status = Field(duty, "status");
      if (!status.ok()) return status.status();
      if (status->type != Type::kInt || status->integer < 300 ||
          status->integer > 599 ||
          !envoy::type::v3::StatusCode_IsValid(
              static_cast<int>(status->integer))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "status ", status->text,
            " is not an HTTP status from 300 to 599 that Envoy knows"));
      }
      deny_status_ = static_cast<int>(status->integer);
    }
    if (FindField(duty, "body") != nullptr) {
      absl::StatusOr<FieldValue> body = Field(duty, "body");
      if (!body.ok()) return body.status();
      deny_body_ = std::move(body->text);
    }
    return absl::OkStatus();
  }

  const Program& program_;
  const Frame& frame_;
  std::vector<Header> request_headers_;
  std::vector<std::string> removed_headers_;
  std::vector<Header> response_headers_;
  int deny_status_ = kDefaultDenyStatus;
  std::string deny_body_;
};

google::protobuf::Value StringList(const std::vector<std::string>& items) {
  google::protobuf::Value value;
  for (const std::string& item : items) {
    value.mutable_list_value()->add_values()->set_string_value(item);
  }
  if (items.empty()) value.mutable_list_value();
  return value;
}

void SetString(google::protobuf::Struct& metadata, std::string_view key,
               std::string_view text) {
  (*metadata.mutable_fields())[std::string(key)].set_string_value(
      std::string(text));
}

}  // namespace

void BuildCheckResponse(const Program& program, const Frame& frame,
                        const Decision& decision,
                        auth::CheckResponse& response) {
  std::vector<std::string> reasons = DecisionReasons(program, frame, decision);
  HttpEffects effects(program, frame);
  bool permit = decision.permit;
  std::string problem;
  for (uint32_t policy : decision.determining) {
    // A permit that did not take effect (obligation_error) shapes nothing.
    if (!permit && program.policies[policy].effect != PolicyEffect::kForbid) {
      continue;
    }
    if (absl::Status s = effects.AddPolicy(policy, permit); !s.ok()) {
      // On PERMIT an obligation Envoy cannot carry out denies the request;
      // on DENY the request is denied anyway, with the default response.
      if (permit) {
        reasons = {absl::StrCat("obligation_invalid:",
                                program.policies[policy].id)};
      }
      permit = false;
      problem = std::string(s.message());
      effects.Clear();
      break;
    }
  }

  std::vector<std::string> policies;
  for (uint32_t policy : decision.determining) {
    policies.push_back(program.policies[policy].id);
  }
  google::protobuf::Struct& metadata = *response.mutable_dynamic_metadata();
  SetString(metadata, "decision", permit ? "permit" : "deny");
  SetString(metadata, "decision_id", decision.id.ToString());
  SetString(metadata, "revision", program.revision);
  (*metadata.mutable_fields())["policies"] = StringList(policies);
  (*metadata.mutable_fields())["reasons"] = StringList(reasons);
  if (decision.deciding_set != 0) {
    SetString(metadata, "policy_set", program.sets[decision.deciding_set].id);
  }
  if (!problem.empty()) SetString(metadata, "error", problem);

  google::rpc::Status& status = *response.mutable_status();
  if (permit) {
    status.set_code(kGrpcOk);
    effects.FillOk(*response.mutable_ok_response());
    return;
  }
  status.set_code(kGrpcPermissionDenied);
  status.set_message(problem.empty()
                         ? absl::StrCat("denied: ", absl::StrJoin(reasons, " "))
                         : absl::StrCat("denied: ", problem));
  effects.FillDenied(*response.mutable_denied_response());
}

void BuildInvalidRequestResponse(std::string_view revision,
                                 const absl::Status& error,
                                 auth::CheckResponse& response) {
  google::protobuf::Struct& metadata = *response.mutable_dynamic_metadata();
  SetString(metadata, "decision", "deny");
  SetString(metadata, "revision", revision);
  (*metadata.mutable_fields())["reasons"] = StringList({"request_invalid"});
  SetString(metadata, "error", ToStd(error.message()));
  response.mutable_status()->set_code(kGrpcPermissionDenied);
  response.mutable_status()->set_message(
      absl::StrCat("denied: the request is invalid: ", error.message()));
  response.mutable_denied_response()->mutable_status()->set_code(
      envoy::type::v3::Forbidden);
}

}  // namespace verdict::server
