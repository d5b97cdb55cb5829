#include "server/proto_request.h"

#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

namespace verdict::server {
namespace {

// Walks one request, keeping the current attribute path in a single buffer
// that grows and shrinks as the walk enters and leaves properties.
class ProtoDecoder {
 public:
  ProtoDecoder(const Program& program, Frame& frame)
      : builder_(program, frame) {}

  absl::Status Decode(const v1::DecideRequest& request) {
    if (request.has_subject()) {
      const v1::Subject& subject = request.subject();
      if (absl::Status s = DecodeEntity("subject", subject.type(), subject.id(),
                                        subject.properties());
          !s.ok()) {
        return s;
      }
    }
    if (request.has_action()) {
      if (absl::Status s = DecodeAction(request.action()); !s.ok()) return s;
    }
    if (request.has_resource()) {
      const v1::Resource& resource = request.resource();
      if (absl::Status s = DecodeEntity("resource", resource.type(),
                                        resource.id(), resource.properties());
          !s.ok()) {
        return s;
      }
    }
    if (request.has_context()) {
      path_ = "context";
      if (absl::Status s = DecodeProperties(request.context().properties(),
                                            /*depth=*/0, {});
          !s.ok()) {
        return s;
      }
      if (absl::Status s = DecodePresentationFacts(request.context());
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = DecodeTokens(request); !s.ok()) return s;
    return DecodeAttributeGroups(request);
  }

  absl::Status Finish(int64_t now_unix_seconds) {
    if (absl::Status s = builder_.VerifyTokens(now_unix_seconds); !s.ok()) {
      return s;
    }
    builder_.Finish(now_unix_seconds);
    return absl::OkStatus();
  }

 private:
  // Reads the context properties that bind tokens to this presentation.
  absl::Status DecodePresentationFacts(const v1::Context& context) {
    Presentation& presentation = builder_.presentation();
    const auto& fields = context.properties().fields();
    for (auto [name, fact] :
         {std::pair{"client_authenticated_id",
                    &presentation.client_authenticated_id},
          std::pair{"dpop_jkt", &presentation.dpop_jkt},
          std::pair{"expected_nonce", &presentation.expected_nonce}}) {
      auto it = fields.find(name);
      if (it == fields.end() ||
          it->second.kind_case() == v1::Value::KIND_NOT_SET) {
        continue;
      }
      if (it->second.kind_case() != v1::Value::kStringValue) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute context.", name, " must be a string value"));
      }
      *fact = it->second.string_value();
    }
    return absl::OkStatus();
  }

  absl::Status DecodeTokens(const v1::DecideRequest& request) {
    if (request.tokens_size() > static_cast<int>(kMaxPresentedTokens)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the request has ", request.tokens_size(),
          " tokens; present at most ", kMaxPresentedTokens));
    }
    std::vector<PresentedToken>& tokens = builder_.presentation().tokens;
    for (int i = 0; i < request.tokens_size(); ++i) {
      const v1::Token& token = request.tokens(i);
      const std::string& kind = token.kind();
      if (!kind.empty() && kind != "id-jag" && kind != "access_token" &&
          kind != "attestation") {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", i, "].kind \"", kind,
            "\" is not a token kind; use id-jag, access_token or "
            "attestation, or leave it empty to detect the kind from the typ "
            "header"));
      }
      if (token.jwt().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", i, "].jwt is empty; give the compact JWS"));
      }
      tokens.push_back(PresentedToken{kind, token.jwt(), /*compact=*/true});
    }
    return absl::OkStatus();
  }

  // Decodes `type`, `id` and the properties of a subject or resource.
  absl::Status DecodeEntity(absl::string_view group, const std::string& type,
                            const std::string& id,
                            const v1::Properties& properties) {
    if (!type.empty()) {
      if (absl::Status s =
              builder_.SetString(absl::StrCat(group, ".type"), type);
          !s.ok()) {
        return s;
      }
    }
    if (!id.empty()) {
      if (absl::Status s = builder_.SetString(absl::StrCat(group, ".id"), id);
          !s.ok()) {
        return s;
      }
    }
    path_ = std::string(group);
    static constexpr std::string_view kReserved[] = {"type", "id"};
    return DecodeProperties(properties, /*depth=*/0, kReserved);
  }

  absl::Status DecodeAction(const v1::Action& action) {
    if (!action.name().empty()) {
      if (absl::Status s = builder_.SetString("action.name", action.name());
          !s.ok()) {
        return s;
      }
    }
    path_ = "action";
    static constexpr std::string_view kReserved[] = {"name"};
    return DecodeProperties(action.properties(), /*depth=*/0, kReserved);
  }

  absl::Status DecodeAttributeGroups(const v1::DecideRequest& request) {
    for (const auto& [group, properties] : request.attributes()) {
      if (group.empty() || group.find('.') != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid attribute group name \"", group,
            "\": a group name must be non-empty and contain no '.'"));
      }
      if (group == "subject" || group == "action" || group == "resource" ||
          group == "context") {
        return absl::InvalidArgumentError(absl::StrCat(
            "attribute group \"", group, "\" must be sent in the request's ",
            group, " field, not in attributes"));
      }
      path_ = group;
      if (absl::Status s = DecodeProperties(properties, /*depth=*/0, {});
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Decodes every field of `properties` below `path_`, which it leaves
  // unchanged. `reserved` names fields the entity message already carries.
  absl::Status DecodeProperties(const v1::Properties& properties, int depth,
                                std::span<const std::string_view> reserved) {
    if (depth >= kMaxObjectDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attribute ", path_, " nests objects more than ", kMaxObjectDepth,
          " levels deep; flatten the properties"));
    }
    const size_t parent_size = path_.size();
    for (const auto& [name, value] : properties.fields()) {
      if (absl::Status s = CheckName(name, reserved); !s.ok()) return s;
      path_.resize(parent_size);
      path_ += '.';
      path_ += name;
      absl::Status s = DecodeValue(value, depth);
      path_.resize(parent_size);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status CheckName(const std::string& name,
                         std::span<const std::string_view> reserved) const {
    if (name.empty() || name.find('.') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid property name \"", name, "\" in ", path_,
          ": a name must be non-empty and contain no '.'; nest an object "
          "value to build a dotted path"));
    }
    for (std::string_view fixed : reserved) {
      if (name == fixed) {
        return absl::InvalidArgumentError(
            absl::StrCat("property \"", name, "\" of ", path_, " repeats the ",
                         path_, ".", name, " field; set that field instead"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status DecodeValue(const v1::Value& value, int depth) {
    switch (value.kind_case()) {
      case v1::Value::kBoolValue:
        return builder_.SetBool(path_, value.bool_value());
      case v1::Value::kIntValue:
        return builder_.SetInt(path_, value.int_value());
      case v1::Value::kStringValue:
        return builder_.SetString(path_, value.string_value());
      case v1::Value::kStringSet:
        return SetStrings(value.string_set());
      case v1::Value::kStringList:
        return SetStrings(value.string_list());
      case v1::Value::kObject:
        return DecodeProperties(value.object(), depth + 1, {});
      case v1::Value::KIND_NOT_SET:
        return builder_.SetNull(path_);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("attribute ", path_, " has an unknown value kind ",
                     static_cast<int>(value.kind_case())));
  }

  // The builder checks the slot type, and accepts either kind of list for
  // set<string> and list<string> slots: JSON clients cannot tell them apart.
  absl::Status SetStrings(const v1::StringList& list) {
    views_.assign(list.values().begin(), list.values().end());
    return builder_.SetStrings(path_, views_);
  }

  RequestBuilder builder_;
  std::string path_;
  std::vector<std::string_view> views_;
};

}  // namespace

absl::Status DecodeDecideRequest(const Program& program,
                                 const v1::DecideRequest& request,
                                 int64_t now_unix_seconds, Frame& frame) {
  frame.Reset(program);
  ProtoDecoder decoder(program, frame);
  if (absl::Status s = decoder.Decode(request); !s.ok()) return s;
  return decoder.Finish(now_unix_seconds);
}

}  // namespace verdict::server
