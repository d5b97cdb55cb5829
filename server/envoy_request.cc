#include "server/envoy_request.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/absl_compat.h"
#include "server/proto_request.h"

namespace verdict::server {
namespace {

namespace auth = ::envoy::service::auth::v3;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 section 2.3.
bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Returns the byte that the escape at text[at] ('%' then two hex digits)
// encodes, or -1 when the escape is malformed.
int DecodeEscape(std::string_view text, size_t at) {
  if (at + 2 >= text.size()) return -1;
  const int high = HexValue(text[at + 1]);
  const int low = HexValue(text[at + 2]);
  if (high < 0 || low < 0) return -1;
  return high * 16 + low;
}

absl::Status UnsafePathError(std::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "request path \"", absl::CHexEscape(ToAbsl(path)), "\" ", what,
      "; it is denied because a backend may read it differently from the "
      "policy"));
}

// Step 1 of NormalizePath: decodes unreserved escapes, upper-cases the
// others, and rejects the characters that have no safe reading.
absl::StatusOr<std::string> DecodeUnreserved(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      const int byte = DecodeEscape(path, i);
      if (byte < 0) {
        return UnsafePathError(path, absl::StrCat("has a malformed percent "
                                                  "escape at offset ",
                                                  i));
      }
      if (byte == '/' || byte == '\\') {
        return UnsafePathError(path, "contains an encoded slash or backslash");
      }
      if (IsUnreserved(static_cast<char>(byte))) {
        out += static_cast<char>(byte);
      } else {
        out += '%';
        out += absl::ascii_toupper(path[i + 1]);
        out += absl::ascii_toupper(path[i + 2]);
      }
      i += 2;
      continue;
    }
    const unsigned char byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '#' || byte <= 0x20 || byte == 0x7F) {
      return UnsafePathError(
          path, absl::StrCat("contains the byte 0x",
                             absl::Hex(byte, absl::kZeroPad2),
                             ", which a request path may not hold"));
    }
    out += c;
  }
  return out;
}

// Steps 2 and 3 of NormalizePath on a path that starts with '/'.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<absl::string_view> kept;
  bool trailing_slash = false;
  const std::vector<absl::string_view> segments =
      absl::StrSplit(ToAbsl(path.substr(1)), '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    const absl::string_view segment = segments[i];
    const bool last = i + 1 == segments.size();
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      trailing_slash = last;
    } else if (segment == "." || segment.empty()) {
      trailing_slash = last;
    } else {
      kept.push_back(segment);
      trailing_slash = false;
    }
  }
  std::string out;
  for (absl::string_view segment : kept) absl::StrAppend(&out, "/", segment);
  if (trailing_slash || kept.empty()) out += '/';
  return out;
}

// Decodes one query component: '+' is a space and every escape is decoded.
absl::StatusOr<std::string> DecodeQueryComponent(std::string_view text,
                                                 std::string_view query) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      const int byte = DecodeEscape(text, i);
      if (byte < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("query string \"", absl::CHexEscape(ToAbsl(query)),
                         "\" has a malformed percent escape in \"",
                         absl::CHexEscape(ToAbsl(text)), "\""));
      }
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Maps a name to [a-z_][a-z0-9_]* (or [A-Za-z_][A-Za-z0-9_]* when case is
// kept), or to "" when it has another character.
std::string NameOf(std::string_view name, bool lower_case) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '-') c = '_';
    if (lower_case) c = absl::ascii_tolower(static_cast<unsigned char>(c));
    const bool letter = absl::ascii_isalpha(static_cast<unsigned char>(c));
    const bool digit = absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!(letter || c == '_' || (digit && !out.empty()))) return "";
    out += c;
  }
  return out;
}

// The values of headers or query parameters, by attribute path, with the
// first wire name seen for each so that two names mapping to one declared
// path are caught. Paths the schema does not declare are dropped.
class ValueSets {
 public:
  ValueSets(absl::string_view kind, const Program& program)
      : kind_(kind), program_(program) {}

  // Adds `value` to the set of `path`; `value` null only marks the set
  // present, as for a header with an empty value.
  absl::Status Add(const std::string& path, absl::string_view wire_name,
                   const std::string_view* value) {
    if (program_.FindSlot(path) == kNoSlot) return absl::OkStatus();
    Entry& entry = entries_[path];
    if (entry.wire_name.empty()) {
      entry.wire_name = std::string(wire_name);
    } else if (entry.wire_name != wire_name) {
      return absl::InvalidArgumentError(absl::StrCat(
          kind_, " names \"", entry.wire_name, "\" and \"", wire_name,
          "\" both map to the attribute ", path, "; send only one of them"));
    }
    if (value != nullptr) entry.values.emplace_back(*value);
    return absl::OkStatus();
  }

  absl::Status SetAll(RequestBuilder& builder) const {
    std::vector<std::string_view> views;
    for (const auto& [path, entry] : entries_) {
      views.assign(entry.values.begin(), entry.values.end());
      if (absl::Status s = builder.SetStrings(path, views); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  struct Entry {
    std::string wire_name;
    std::vector<std::string> values;
  };
  absl::string_view kind_;
  const Program& program_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

// Walks one CheckRequest into a RequestBuilder.
class CheckDecoder {
 public:
  CheckDecoder(const Program& program, Frame& frame)
      : program_(program), builder_(program, frame) {}

  absl::Status Decode(const auth::CheckRequest& request) {
    const auth::AttributeContext& attributes = request.attributes();
    if (absl::Status s = DecodePeer("source", attributes.source()); !s.ok()) {
      return s;
    }
    if (absl::Status s = DecodePeer("destination", attributes.destination());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = DecodeHttp(attributes.request().http()); !s.ok()) {
      return s;
    }
    for (const auto& [key, value] : attributes.context_extensions()) {
      const std::string name = NameOf(key, /*lower_case=*/false);
      if (name.empty()) continue;
      if (absl::Status s =
              builder_.SetString(absl::StrCat("context.extensions.", name),
                                 value);
          !s.ok()) {
        return s;
      }
    }
    return DecodeJwtPayload(attributes.metadata_context());
  }

  absl::Status Finish(int64_t now_unix_seconds) {
    if (absl::Status s = builder_.VerifyTokens(now_unix_seconds); !s.ok()) {
      return s;
    }
    builder_.Finish(now_unix_seconds);
    return absl::OkStatus();
  }

 private:
  absl::Status DecodePeer(absl::string_view group,
                          const auth::AttributeContext::Peer& peer) {
    if (!peer.principal().empty()) {
      if (absl::Status s = builder_.SetString(
              absl::StrCat(group, ".principal"), peer.principal());
          !s.ok()) {
        return s;
      }
    }
    if (!peer.address().has_socket_address()) return absl::OkStatus();
    const auto& socket = peer.address().socket_address();
    if (!socket.address().empty()) {
      if (absl::Status s = builder_.SetString(absl::StrCat(group, ".address"),
                                              socket.address());
          !s.ok()) {
        return s;
      }
    }
    if (socket.port_specifier_case() ==
        envoy::config::core::v3::SocketAddress::kPortValue) {
      return builder_.SetInt(absl::StrCat(group, ".port"),
                             socket.port_value());
    }
    return absl::OkStatus();
  }

  absl::Status DecodeHttp(const auth::AttributeContext::HttpRequest& http) {
    for (auto [path, value] :
         {std::pair<const char*, const std::string*>{"action.name",
                                                     &http.method()},
          {"request.scheme", &http.scheme()},
          {"request.protocol", &http.protocol()},
          {"request.id", &http.id()}}) {
      if (value->empty()) continue;
      if (absl::Status s = builder_.SetString(path, *value); !s.ok()) return s;
    }
    if (!http.host().empty()) {
      if (absl::Status s = builder_.SetString(
              "resource.host", absl::AsciiStrToLower(http.host()));
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = DecodeTarget(http.path()); !s.ok()) return s;
    return DecodeHeaders(http);
  }

  absl::Status DecodeTarget(std::string_view target) {
    if (target.empty()) return absl::OkStatus();
    const size_t question = target.find('?');
    absl::StatusOr<std::string> path =
        NormalizePath(target.substr(0, question));
    if (!path.ok()) return path.status();
    if (absl::Status s = builder_.SetString("resource.path", *path); !s.ok()) {
      return s;
    }
    if (question == std::string_view::npos) return absl::OkStatus();
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
        ParseQuery(target.substr(question + 1));
    if (!query.ok()) return query.status();
    ValueSets parameters("query parameter", program_);
    for (const auto& [name, value] : *query) {
      const std::string attribute = NameOf(name, /*lower_case=*/false);
      if (attribute.empty()) continue;
      const std::string_view text = value;
      if (absl::Status s = parameters.Add(
              absl::StrCat("request.query.", attribute), name, &text);
          !s.ok()) {
        return s;
      }
    }
    return parameters.SetAll(builder_);
  }

  // Each header value is split at commas, so that a header sent twice and
  // one sent once with a comma-joined value give the same set.
  absl::Status DecodeHeaders(const auth::AttributeContext::HttpRequest& http) {
    ValueSets headers("header", program_);
    auto add = [&](absl::string_view name, absl::string_view value) {
      const std::string lower = absl::AsciiStrToLower(name);
      const std::string attribute = NameOf(lower, /*lower_case=*/true);
      if (attribute.empty()) return absl::OkStatus();  // ":path", "a.b"
      const std::string path = absl::StrCat("request.headers.", attribute);
      if (absl::Status s = headers.Add(path, lower, nullptr); !s.ok()) {
        return s;
      }
      for (absl::string_view element : absl::StrSplit(value, ',')) {
        element = absl::StripAsciiWhitespace(element);
        if (element.empty()) continue;
        const std::string_view text = ToStd(element);
        if (absl::Status s = headers.Add(path, lower, &text); !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    };
    for (const auto& [name, value] : http.headers()) {
      if (absl::Status s = add(name, value); !s.ok()) return s;
    }
    for (const auto& header : http.header_map().headers()) {
      const std::string& value =
          header.raw_value().empty() ? header.value() : header.raw_value();
      if (absl::Status s = add(header.key(), value); !s.ok()) return s;
    }
    return headers.SetAll(builder_);
  }

  absl::Status DecodeJwtPayload(
      const envoy::config::core::v3::Metadata& metadata) {
    const auto filter = metadata.filter_metadata().find(
        std::string(kJwtFilterNamespace));
    if (filter == metadata.filter_metadata().end()) return absl::OkStatus();
    const auto payload =
        filter->second.fields().find(std::string(kJwtPayloadKey));
    if (payload == filter->second.fields().end() ||
        !payload->second.has_struct_value()) {
      return absl::OkStatus();
    }
    const google::protobuf::Struct& claims = payload->second.struct_value();
    if (absl::Status s = DecodeClaims(claims, "jwt", /*depth=*/0); !s.ok()) {
      return s;
    }
    const auto sub = claims.fields().find("sub");
    if (sub != claims.fields().end() && sub->second.has_string_value()) {
      return builder_.SetString("subject.id", sub->second.string_value());
    }
    return absl::OkStatus();
  }

  absl::Status DecodeClaims(const google::protobuf::Struct& claims,
                            const std::string& parent, int depth) {
    if (depth >= kMaxObjectDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JWT claim ", parent, " nests objects more than ", kMaxObjectDepth,
          " levels deep"));
    }
    for (const auto& [name, value] : claims.fields()) {
      // Names such as "https://example.com/roles" cannot be attributes.
      if (name.empty() || name.find('.') != std::string::npos) continue;
      if (absl::Status s =
              DecodeClaim(absl::StrCat(parent, ".", name), value, depth);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status DecodeClaim(const std::string& path,
                           const google::protobuf::Value& value, int depth) {
    const uint32_t slot = program_.FindSlot(path);
    switch (value.kind_case()) {
      case google::protobuf::Value::kNullValue:
        return builder_.SetNull(path);
      case google::protobuf::Value::kBoolValue:
        return builder_.SetBool(path, value.bool_value());
      case google::protobuf::Value::kNumberValue:
        return SetNumberClaim(path, slot, value.number_value());
      case google::protobuf::Value::kStringValue:
        return SetStringClaim(path, slot, value.string_value());
      case google::protobuf::Value::kListValue:
        return SetListClaim(path, slot, value.list_value());
      case google::protobuf::Value::kStructValue:
        return DecodeClaims(value.struct_value(), path, depth + 1);
      case google::protobuf::Value::KIND_NOT_SET:
        break;
    }
    return absl::OkStatus();
  }

  // Struct numbers are doubles; only whole numbers in the int64 range are
  // read, and only for attributes the schema declares.
  absl::Status SetNumberClaim(const std::string& path, uint32_t slot,
                              double number) {
    if (slot == kNoSlot) return absl::OkStatus();
    constexpr double kTwoTo63 = 9223372036854775808.0;
    if (std::trunc(number) != number || number < -kTwoTo63 ||
        number >= kTwoTo63) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JWT claim ", path, " is ", number,
          ", which is not a whole number in the 64-bit range"));
    }
    return builder_.SetInt(path, static_cast<int64_t>(number));
  }

  // A string for a set<string> attribute is a one-element set, except
  // `scope`, which OAuth defines as space-separated scopes.
  absl::Status SetStringClaim(const std::string& path, uint32_t slot,
                              const std::string& text) {
    if (slot == kNoSlot || program_.slots[slot].type != Type::kStringSet) {
      return builder_.SetString(path, text);
    }
    std::vector<std::string_view> elements;
    if (path == "jwt.scope") {
      for (absl::string_view scope :
           absl::StrSplit(text, ' ', absl::SkipEmpty())) {
        elements.push_back(ToStd(scope));
      }
    } else {
      elements.push_back(text);
    }
    return builder_.SetStrings(path, elements);
  }

  absl::Status SetListClaim(const std::string& path, uint32_t slot,
                            const google::protobuf::ListValue& list) {
    if (slot == kNoSlot) return absl::OkStatus();
    std::vector<std::string_view> elements;
    for (const google::protobuf::Value& element : list.values()) {
      if (!element.has_string_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "JWT claim ", path,
            " is a list with an element that is not a string; only lists "
            "of strings map to set<string> and list<string> attributes"));
      }
      elements.push_back(element.string_value());
    }
    return builder_.SetStrings(path, elements);
  }

  const Program& program_;
  RequestBuilder builder_;
};

}  // namespace

absl::StatusOr<std::string> NormalizePath(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("request path \"", absl::CHexEscape(ToAbsl(path)),
                     "\" does not start with '/'; only origin-form request "
                     "targets can be authorized"));
  }
  absl::StatusOr<std::string> decoded = DecodeUnreserved(path);
  if (!decoded.ok()) return decoded.status();
  return RemoveDotSegments(*decoded);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> parameters;
  for (absl::string_view piece :
       absl::StrSplit(ToAbsl(query), '&', absl::SkipEmpty())) {
    const std::string_view parameter = ToStd(piece);
    const size_t equals = parameter.find('=');
    absl::StatusOr<std::string> name =
        DecodeQueryComponent(parameter.substr(0, equals), query);
    if (!name.ok()) return name.status();
    std::string value;
    if (equals != std::string_view::npos) {
      absl::StatusOr<std::string> decoded =
          DecodeQueryComponent(parameter.substr(equals + 1), query);
      if (!decoded.ok()) return decoded.status();
      value = *std::move(decoded);
    }
    parameters.emplace_back(*std::move(name), std::move(value));
  }
  return parameters;
}

std::string AttributeNameOf(std::string_view name) {
  return NameOf(name, /*lower_case=*/true);
}

absl::Status DecodeCheckRequest(const Program& program,
                                const auth::CheckRequest& request,
                                int64_t now_unix_seconds, Frame& frame) {
  frame.Reset(program);
  CheckDecoder decoder(program, frame);
  if (absl::Status s = decoder.Decode(request); !s.ok()) return s;
  return decoder.Finish(now_unix_seconds);
}

}  // namespace verdict::server
