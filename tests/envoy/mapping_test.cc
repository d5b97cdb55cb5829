// Tests of the Envoy ext_authz mapping: path normalisation, query parsing,
// headers and JWT claims as attributes, and decisions and obligations back
// to a CheckResponse.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/evaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/envoy_request.h"
#include "server/envoy_response.h"
#include "tests/compile_text.h"

namespace verdict::server {
namespace {

namespace auth = ::envoy::service::auth::v3;
using ::envoy::config::core::v3::HeaderValueOption;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct PathCase {
  const char* name;
  const char* input;
  const char* normalised;  // null when the path must be rejected
  const char* error = "";  // substring of the rejection
};

const PathCase kPathCases[] = {
    {"Root", "/", "/"},
    {"Plain", "/orders/17", "/orders/17"},
    {"DotDotClimbsOut", "/public/../admin", "/admin"},
    {"DotDotAboveRoot", "/../../admin", "/admin"},
    {"RfcExample", "/a/b/c/./../../g", "/a/g"},
    {"SingleDot", "/a/./b", "/a/b"},
    {"TrailingDotDot", "/a/b/..", "/a/"},
    {"TrailingDot", "/a/.", "/a/"},
    {"OnlyDotDot", "/..", "/"},
    {"EncodedDots", "/public/%2e%2E/admin", "/admin"},
    {"EncodedUnreservedLetter", "/%70ublic/%7Euser", "/public/~user"},
    {"OtherEscapesUpperCased", "/caf%c3%a9/%3f", "/caf%C3%A9/%3F"},
    {"EncodedPercentKept", "/100%25", "/100%25"},
    {"DoubleEncodedDotsStayEncoded", "/%252e%252e/admin", "/%252e%252e/admin"},
    {"MergedSlashes", "/a//b///c", "/a/b/c"},
    {"DotSegmentNameKept", "/a/..b/.c", "/a/..b/.c"},
    {"EncodedSlash", "/public%2F..%2Fadmin", nullptr, "encoded slash"},
    {"EncodedSlashLowerCase", "/a%2fb", nullptr, "encoded slash"},
    {"EncodedBackslash", "/a%5C..%5Cadmin", nullptr, "encoded slash"},
    {"RawBackslash", "/public\\..\\admin", nullptr, "0x5c"},
    {"Fragment", "/a#b", nullptr, "0x23"},
    {"Space", "/a b", nullptr, "0x20"},
    {"ControlByte", "/a\tb", nullptr, "0x09"},
    {"TruncatedEscape", "/a%2", nullptr, "malformed percent escape"},
    {"NonHexEscape", "/a%zz", nullptr, "malformed percent escape"},
    {"Empty", "", nullptr, "does not start with '/'"},
    {"Relative", "orders/17", nullptr, "does not start with '/'"},
    {"Asterisk", "*", nullptr, "does not start with '/'"},
};

class NormalizePathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(NormalizePathTest, NormalisesOrRejects) {
  const PathCase& c = GetParam();
  absl::StatusOr<std::string> result = NormalizePath(c.input);
  if (c.normalised == nullptr) {
    ASSERT_FALSE(result.ok()) << "normalised to " << *result;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(c.error));
  } else {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, c.normalised);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, NormalizePathTest, ::testing::ValuesIn(kPathCases),
    [](const ::testing::TestParamInfo<PathCase>& info) {
      return info.param.name;
    });

TEST(ParseQuery, SplitsAndDecodes) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      ParseQuery("a=1&b=x%20y+z&a=2&flag&&c=&e%3Dq=%26");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_THAT(*query,
              ElementsAre(Pair("a", "1"), Pair("b", "x y z"), Pair("a", "2"),
                          Pair("flag", ""), Pair("c", ""), Pair("e=q", "&")));
}

TEST(ParseQuery, RejectsMalformedEscape) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      ParseQuery("a=%zz");
  ASSERT_FALSE(query.ok());
  EXPECT_THAT(std::string(query.status().message()),
              HasSubstr("malformed percent escape"));
}

TEST(AttributeNameOf, LowerCasesAndReplacesDashes) {
  EXPECT_EQ(AttributeNameOf("X-Tenant-Id"), "x_tenant_id");
  EXPECT_EQ(AttributeNameOf("authorization"), "authorization");
  EXPECT_EQ(AttributeNameOf(":path"), "");
  EXPECT_EQ(AttributeNameOf("a.b"), "");
  EXPECT_EQ(AttributeNameOf("9lives"), "");
  EXPECT_EQ(AttributeNameOf(""), "");
}

constexpr char kPolicies[] = R"(
schema source { principal?: string  address?: ip  port?: int }
schema action { name: string }
schema resource { host: string  path: string }
schema request {
  headers.x_groups?: set<string>
  headers.x_a?: set<string>
  query.tag?: set<string>
  scheme?: string
}
schema context { extensions.route?: string }
schema subject { id?: string }
schema jwt {
  scope?: set<string>
  aud?: set<string>
  exp?: timestamp
  org.id?: string
  level?: int
}

permit "all" when { action.name == "GET" }
  obligation "set_request_header" { name: "X-User", value: subject.id }
  obligation "append_request_header" { name: "x-trace", value: jwt.scope }
  obligation "remove_request_header" { name: "authorization" }
  obligation "set_response_header" { name: "cache-control", value: "no-store" }
  obligation "deny_response" { status: 401 }

permit "bad-header-name" when { action.name == "PUT" }
  obligation "set_request_header" { name: "x user", value: "v" }

permit "unknown-obligation" when { action.name == "PATCH" }
  obligation "audit" { who: "x" }

forbid "teapot" when { action.name == "BREW" }
  obligation "deny_response" { status: 418, body: "no" }

forbid "unauthorized" when { action.name == "DELETE" }
  obligation "deny_response" { status: 401, body: "log in first\n" }
  obligation "set_response_header" { name: "WWW-Authenticate", value: "Bearer" }
  obligation "set_request_header" { name: "x-ignored", value: "on deny" }
)";

class EnvoyMappingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    compiler::Compilation compiled = verdict::testing::CompileText(kPolicies);
    ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
    program_ = new std::shared_ptr<const Program>(compiled.program);
  }
  static void TearDownTestSuite() {
    delete program_;
    program_ = nullptr;
  }

  static const Program& program() { return **program_; }

  static auth::CheckRequest Get(const std::string& path) {
    auth::CheckRequest request;
    auto& http = *request.mutable_attributes()->mutable_request()->mutable_http();
    http.set_method("GET");
    http.set_host("Shop.Example:8443");
    http.set_path(path);
    return request;
  }

  static auth::AttributeContext::HttpRequest& Http(auth::CheckRequest& r) {
    return *r.mutable_attributes()->mutable_request()->mutable_http();
  }

  static google::protobuf::Struct& Jwt(auth::CheckRequest& request) {
    auto& metadata = *request.mutable_attributes()
                          ->mutable_metadata_context()
                          ->mutable_filter_metadata();
    return *(*metadata[std::string(kJwtFilterNamespace)]
                  .mutable_fields())[std::string(kJwtPayloadKey)]
                .mutable_struct_value();
  }

  static google::protobuf::Value& Claim(auth::CheckRequest& request,
                                        const std::string& name) {
    return (*Jwt(request).mutable_fields())[name];
  }

  // Decodes `request` into frame_; returns the decoder's status.
  absl::Status Decode(const auth::CheckRequest& request) {
    return DecodeCheckRequest(program(), request, kNow, frame_);
  }

  // The elements of set attribute `path` in frame_, sorted.
  std::vector<std::string> SetOf(const std::string& path) {
    const uint32_t slot = program().FindSlot(path);
    EXPECT_NE(slot, kNoSlot) << path;
    std::vector<std::string> out;
    if (slot == kNoSlot || !frame_.slot(slot).present) return out;
    for (uint32_t symbol : frame_.Set(frame_.slot(slot))) {
      out.emplace_back(frame_.SymbolText(symbol));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string TextOf(const std::string& path) {
    const uint32_t slot = program().FindSlot(path);
    EXPECT_NE(slot, kNoSlot) << path;
    if (slot == kNoSlot || !frame_.slot(slot).present) return "<absent>";
    return std::string(frame_.Text(frame_.slot(slot)));
  }

  int64_t IntOf(const std::string& path) {
    const uint32_t slot = program().FindSlot(path);
    EXPECT_NE(slot, kNoSlot) << path;
    if (slot == kNoSlot) return -1;
    EXPECT_TRUE(frame_.slot(slot).present) << path;
    return frame_.slot(slot).integer;
  }

  // Decodes and decides `request` as the ext_authz service does.
  auth::CheckResponse Check(const auth::CheckRequest& request) {
    auth::CheckResponse response;
    if (absl::Status s = Decode(request); !s.ok()) {
      BuildInvalidRequestResponse(program().revision, s, response);
      return response;
    }
    BuildCheckResponse(program(), frame_, Evaluate(program(), frame_),
                       response);
    return response;
  }

  static std::vector<std::string> Reasons(const auth::CheckResponse& r) {
    std::vector<std::string> reasons;
    for (const auto& value :
         r.dynamic_metadata().fields().at("reasons").list_value().values()) {
      reasons.push_back(value.string_value());
    }
    return reasons;
  }

  static constexpr int64_t kNow = 1767225600;
  static std::shared_ptr<const Program>* program_;
  Frame frame_;
};

std::shared_ptr<const Program>* EnvoyMappingTest::program_ = nullptr;

TEST_F(EnvoyMappingTest, MapsMethodHostPathAndPeers) {
  auth::CheckRequest request = Get("/public/../orders/%2E/17?tag=a");
  auto& source = *request.mutable_attributes()->mutable_source();
  source.set_principal("spiffe://shop.example/ns/shop/sa/frontend");
  source.mutable_address()->mutable_socket_address()->set_address(
      "::ffff:192.0.2.10");
  source.mutable_address()->mutable_socket_address()->set_port_value(51544);
  Http(request).set_scheme("https");
  (*request.mutable_attributes()->mutable_context_extensions())["route"] =
      "orders";
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_EQ(TextOf("action.name"), "GET");
  EXPECT_EQ(TextOf("resource.host"), "shop.example:8443");
  EXPECT_EQ(TextOf("resource.path"), "/orders/17");
  EXPECT_EQ(TextOf("request.scheme"), "https");
  EXPECT_EQ(TextOf("context.extensions.route"), "orders");
  EXPECT_EQ(TextOf("source.principal"),
            "spiffe://shop.example/ns/shop/sa/frontend");
  EXPECT_EQ(IntOf("source.port"), 51544);
  const uint32_t address = program().FindSlot("source.address");
  ASSERT_TRUE(frame_.slot(address).present);
}

TEST_F(EnvoyMappingTest, RejectsAnUnsafePath) {
  const absl::Status status = Decode(Get("/public%2F..%2Fadmin"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("encoded slash"));
}

TEST_F(EnvoyMappingTest, RejectsAPeerAddressThatIsNotAnIp) {
  auth::CheckRequest request = Get("/");
  request.mutable_attributes()
      ->mutable_source()
      ->mutable_address()
      ->mutable_socket_address()
      ->set_address("not-an-ip");
  EXPECT_THAT(std::string(Decode(request).message()),
              HasSubstr("source.address"));
}

TEST_F(EnvoyMappingTest, RepeatedAndCommaJoinedHeadersAreOneSet) {
  auth::CheckRequest request = Get("/");
  (*Http(request).mutable_headers())["x-groups"] = "ops, dev,,audit ";
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_THAT(SetOf("request.headers.x_groups"),
              ElementsAre("audit", "dev", "ops"));

  auth::CheckRequest raw = Get("/");
  for (const char* value : {"ops", "dev, audit", "ops"}) {
    auto& header = *Http(raw).mutable_header_map()->add_headers();
    header.set_key("X-Groups");
    header.set_raw_value(value);
  }
  ASSERT_TRUE(Decode(raw).ok());
  EXPECT_THAT(SetOf("request.headers.x_groups"),
              ElementsAre("audit", "dev", "ops"));
}

TEST_F(EnvoyMappingTest, EmptyHeaderIsAnEmptySet) {
  auth::CheckRequest request = Get("/");
  (*Http(request).mutable_headers())["x-groups"] = "";
  ASSERT_TRUE(Decode(request).ok());
  const uint32_t slot = program().FindSlot("request.headers.x_groups");
  EXPECT_TRUE(frame_.slot(slot).present);
  EXPECT_TRUE(SetOf("request.headers.x_groups").empty());
}

TEST_F(EnvoyMappingTest, RejectsTwoHeaderNamesForOneAttribute) {
  auth::CheckRequest request = Get("/");
  (*Http(request).mutable_headers())["x-a"] = "1";
  (*Http(request).mutable_headers())["x_a"] = "2";
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("both map to the attribute request.headers.x_a"));
}

TEST_F(EnvoyMappingTest, UndeclaredHeaderNamesMayCollide) {
  auth::CheckRequest request = Get("/");
  (*Http(request).mutable_headers())["x-b"] = "1";
  (*Http(request).mutable_headers())["x_b"] = "2";
  EXPECT_TRUE(Decode(request).ok());
}

TEST_F(EnvoyMappingTest, QueryParametersAreSets) {
  ASSERT_TRUE(Decode(Get("/search?tag=a&tag=b+c&tag=a&other=1")).ok());
  EXPECT_THAT(SetOf("request.query.tag"), ElementsAre("a", "b c"));
  EXPECT_EQ(TextOf("resource.path"), "/search");
  EXPECT_THAT(std::string(Decode(Get("/search?tag=%G0")).message()),
              HasSubstr("malformed percent escape"));
}

TEST_F(EnvoyMappingTest, MapsJwtPayloadClaims) {
  auth::CheckRequest request = Get("/");
  Claim(request, "sub").set_string_value("alice");
  Claim(request, "scope").set_string_value("orders:read  profile");
  Claim(request, "aud").set_string_value("shop-api");
  Claim(request, "exp").set_number_value(1893456000);
  Claim(request, "https://example.com/roles").set_string_value("ignored");
  auto& org = *Claim(request, "org").mutable_struct_value()->mutable_fields();
  org["id"].set_string_value("acme");
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_EQ(TextOf("subject.id"), "alice");
  EXPECT_THAT(SetOf("jwt.scope"), ElementsAre("orders:read", "profile"));
  EXPECT_THAT(SetOf("jwt.aud"), ElementsAre("shop-api"));
  EXPECT_EQ(IntOf("jwt.exp"), 1893456000);
  EXPECT_EQ(TextOf("jwt.org.id"), "acme");
}

TEST_F(EnvoyMappingTest, JwtScopeListAndFractionalNumbers) {
  auth::CheckRequest request = Get("/");
  auto& scopes = *Claim(request, "scope").mutable_list_value();
  scopes.add_values()->set_string_value("a");
  scopes.add_values()->set_string_value("b");
  ASSERT_TRUE(Decode(request).ok());
  EXPECT_THAT(SetOf("jwt.scope"), ElementsAre("a", "b"));

  Claim(request, "level").set_number_value(1.5);
  const absl::Status status = Decode(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("JWT claim jwt.level is 1.5"));

  // An undeclared claim may hold any number.
  Claim(request, "level").set_number_value(2);
  Claim(request, "ratio").set_number_value(0.25);
  EXPECT_TRUE(Decode(request).ok());
}

TEST_F(EnvoyMappingTest, PermitCarriesHeaderObligations) {
  auth::CheckRequest request = Get("/");
  Claim(request, "sub").set_string_value("alice");
  Claim(request, "scope").set_string_value("b a");
  const auth::CheckResponse response = Check(request);
  EXPECT_EQ(response.status().code(), 0);
  ASSERT_TRUE(response.has_ok_response());
  const auth::OkHttpResponse& ok = response.ok_response();
  ASSERT_EQ(ok.headers_size(), 2);
  EXPECT_EQ(ok.headers(0).header().key(), "x-user");
  EXPECT_EQ(ok.headers(0).header().value(), "alice");
  EXPECT_EQ(ok.headers(0).append_action(),
            HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  EXPECT_EQ(ok.headers(1).header().key(), "x-trace");
  EXPECT_EQ(ok.headers(1).header().value(), "a, b");
  EXPECT_EQ(ok.headers(1).append_action(),
            HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  EXPECT_THAT(ok.headers_to_remove(), ElementsAre("authorization"));
  ASSERT_EQ(ok.response_headers_to_add_size(), 1);
  EXPECT_EQ(ok.response_headers_to_add(0).header().key(), "cache-control");
  const auto& metadata = response.dynamic_metadata().fields();
  EXPECT_EQ(metadata.at("decision").string_value(), "permit");
  EXPECT_EQ(metadata.at("decision_id").string_value().size(), 36u);
  EXPECT_EQ(metadata.at("revision").string_value(), program().revision);
  EXPECT_THAT(Reasons(response), ElementsAre("permit:all"));
}

TEST_F(EnvoyMappingTest, PermitWhoseObligationReadsAnAbsentAttributeDenies) {
  const auth::CheckResponse response = Check(Get("/"));  // no subject.id
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_THAT(Reasons(response), ElementsAre("obligation_error:all"));
  EXPECT_EQ(response.denied_response().status().code(), 403);
}

TEST_F(EnvoyMappingTest, UnknownObligationDeniesPermit) {
  auth::CheckRequest request = Get("/");
  Http(request).set_method("PUT");
  auth::CheckResponse response = Check(request);
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_THAT(Reasons(response), ElementsAre("obligation_invalid:bad-header-name"));
  EXPECT_THAT(response.status().message(),
              HasSubstr("header name \"x user\" is not an HTTP token"));

  Http(request).set_method("PATCH");
  response = Check(request);
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_THAT(Reasons(response),
              ElementsAre("obligation_invalid:unknown-obligation"));
  EXPECT_THAT(response.status().message(),
              HasSubstr("obligation \"audit\" of policy \"unknown-obligation\""));
}

TEST_F(EnvoyMappingTest, ForbidSetsTheDeniedResponse) {
  auth::CheckRequest request = Get("/");
  Http(request).set_method("DELETE");
  const auth::CheckResponse response = Check(request);
  EXPECT_EQ(response.status().code(), 7);
  ASSERT_TRUE(response.has_denied_response());
  const auth::DeniedHttpResponse& denied = response.denied_response();
  EXPECT_EQ(denied.status().code(), 401);
  EXPECT_EQ(denied.body(), "log in first\n");
  ASSERT_EQ(denied.headers_size(), 1);
  EXPECT_EQ(denied.headers(0).header().key(), "www-authenticate");
  EXPECT_EQ(denied.headers(0).header().value(), "Bearer");
  EXPECT_THAT(Reasons(response), ElementsAre("forbid:unauthorized"));
  EXPECT_EQ(response.dynamic_metadata().fields().at("decision").string_value(),
            "deny");
}

TEST_F(EnvoyMappingTest, DefaultDenyIs403WithoutBody) {
  auth::CheckRequest request = Get("/");
  Http(request).set_method("POST");
  const auth::CheckResponse response = Check(request);
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_EQ(response.denied_response().status().code(), 403);
  EXPECT_EQ(response.denied_response().body(), "");
  EXPECT_THAT(Reasons(response), ElementsAre("default_deny"));
}

TEST_F(EnvoyMappingTest, DenyStatusOutsideTheRangeFallsBackTo403) {
  auth::CheckRequest request = Get("/");
  Http(request).set_method("BREW");
  const auth::CheckResponse response = Check(request);
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_EQ(response.denied_response().status().code(), 403);
  EXPECT_THAT(response.status().message(),
              HasSubstr("status 418 is not an HTTP status"));
  EXPECT_THAT(Reasons(response), ElementsAre("forbid:teapot"));
}

TEST_F(EnvoyMappingTest, InvalidRequestIsDenied) {
  const auth::CheckResponse response = Check(Get("/a%5c..%5cadmin"));
  EXPECT_EQ(response.status().code(), 7);
  EXPECT_EQ(response.denied_response().status().code(), 403);
  EXPECT_THAT(Reasons(response), ElementsAre("request_invalid"));
  EXPECT_THAT(response.dynamic_metadata().fields().at("error").string_value(),
              HasSubstr("encoded slash"));
}

}  // namespace
}  // namespace verdict::server
