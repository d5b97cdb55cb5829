// The typed values and built-in tests of the language: IP addresses and
// ranges, decimals, timestamps with offsets, set functions and patterns.

#include <memory>
#include <string>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace verdict {
namespace {

using testing::CompileText;
using ::testing::HasSubstr;

constexpr char kSchema[] = R"(schema source { ip: ip  net?: cidr }
schema resource { path: string  price: decimal  tags: set<string> }
schema subject { roles: set<string> }
schema env { now: timestamp }
)";

struct Case {
  std::string name;
  std::string condition;
  std::string request;  // JSON
  bool permit;
};

class BuiltinsTest : public ::testing::TestWithParam<Case> {};

TEST_P(BuiltinsTest, Decides) {
  compiler::Compilation result =
      CompileText(std::string(kSchema) + "permit \"p\" when { " +
                  GetParam().condition + " }");
  ASSERT_NE(result.program, nullptr) << result.diagnostics;
  Frame frame;
  absl::Status status =
      DecodeJsonRequest(*result.program, GetParam().request, 0, frame);
  ASSERT_TRUE(status.ok()) << status;
  Decision decision = Evaluate(*result.program, frame);
  EXPECT_EQ(decision.permit, GetParam().permit);
  EXPECT_TRUE(decision.errors.empty());
}

std::string Ip(const std::string& ip) {
  return R"({"attributes": {"source": {"ip": ")" + ip + R"("}}})";
}
std::string Path(const std::string& path) {
  return R"({"resource": {"properties": {"path": ")" + path + R"("}}})";
}
std::string Price(const std::string& price) {
  return R"({"resource": {"properties": {"price": )" + price + "}}}";
}
std::string Roles(const std::string& roles) {
  return R"({"subject": {"properties": {"roles": )" + roles + "}}}";
}

INSTANTIATE_TEST_SUITE_P(
    Language, BuiltinsTest,
    ::testing::Values(
        Case{"Ipv4InRange", "source.ip in cidr(\"10.0.0.0/8\")", Ip("10.9.8.7"),
             true},
        Case{"Ipv4OutOfRange", "source.ip in cidr(\"10.0.0.0/8\")",
             Ip("11.0.0.1"), false},
        Case{"MappedIpv6IsIpv4", "source.ip in cidr(\"10.0.0.0/8\")",
             Ip("::ffff:10.1.2.3"), true},
        Case{"MappedEqualsDotted", "source.ip == ip(\"10.1.2.3\")",
             Ip("::ffff:10.1.2.3"), true},
        Case{"Ipv6Range", "source.ip in cidr(\"2001:db8::/32\")",
             Ip("2001:db8:1::5"), true},
        Case{"Ipv6NotInIpv4Range", "source.ip in cidr(\"0.0.0.0/0\")",
             Ip("2001:db8::1"), false},
        Case{"RangeList",
             "source.ip in [cidr(\"192.168.0.0/16\"), cidr(\"10.0.0.0/8\")]",
             Ip("10.0.0.1"), true},
        Case{"LiteralInCidrAttribute",
             "source has net and ip(\"10.0.0.1\") in source.net",
             R"({"attributes": {"source": {"net": "10.0.0.0/8"}}})", true},
        Case{"IsIpv6", "source.ip.isIpv6()", Ip("::1"), true},
        Case{"IsIpv4", "source.ip.isIpv4()", Ip("127.0.0.1"), true},
        Case{"DecimalBelowMinusOneKeepsSign", "resource.price < decimal(\"0\")",
             Price("\"-0.5\""), true},
        Case{"DecimalExact",
             "resource.price == decimal(\"0.1\") + decimal(\"0.2\") - "
             "decimal(\"0.3\") + decimal(\"0.1\")",
             Price("\"0.1\""), true},
        Case{"DecimalFromInteger", "resource.price >= decimal(\"7\")",
             Price("7"), true},
        Case{"TimestampOffsetConverted",
             "env.now >= timestamp(\"2026-01-01T02:00:00+02:00\")",
             R"({"attributes": {"env": {"now": "2026-01-01T00:00:00Z"}}})",
             true},
        Case{"TimestampBeforeOffset",
             "env.now >= timestamp(\"2026-01-01T02:00:00+02:00\")",
             R"({"attributes": {"env": {"now": "2026-01-01T00:59:59+01:00"}}})",
             false},
        Case{"DurationConstructor",
             "env.now + duration(\"1h30m\") > "
             "timestamp(\"1970-01-01T01:29:59Z\")",
             R"({"attributes": {"env": {"now": 0}}})", true},
        Case{"ContainsAll", "subject.roles.containsAll([\"a\", \"b\"])",
             Roles("[\"b\", \"c\", \"a\"]"), true},
        Case{"ContainsAllMissingOne",
             "subject.roles.containsAll([\"a\", \"b\"])", Roles("[\"a\"]"),
             false},
        Case{"ContainsAny", "subject.roles.containsAny([\"x\", \"b\"])",
             Roles("[\"b\"]"), true},
        Case{
            "IntersectsAttribute", "subject.roles.intersects(resource.tags)",
            R"({"subject": {"properties": {"roles": ["a"]}}, "resource": {"properties": {"tags": ["b", "a"]}}})",
            true},
        Case{"SizeCountsDistinct", "subject.roles.size() == 2",
             Roles("[\"a\", \"b\", \"a\"]"), true},
        Case{"GlobStarStopsAtSlash", "resource.path like \"/docs/*\"",
             Path("/docs/a/b"), false},
        Case{"GlobDoubleStarCrossesSlash", "resource.path like \"/docs/**\"",
             Path("/docs/a/b"), true},
        Case{"GlobAnchoredAtBothEnds", "resource.path like \"docs\"",
             Path("/docs/"), false},
        Case{"GlobEscapedStar", "resource.path like \"a\\\\*\"", Path("a*"),
             true},
        Case{"RegexFullMatchOnly", "resource.path.matches(\"[a-z]+\")",
             Path("abc1"), false},
        Case{"RegexMatches", "resource.path.matches(\"[a-z]+[0-9]\")",
             Path("abc1"), true},
        Case{"TemplateOneSegment",
             "resource.path.matchesTemplate(\"/project/{id}\")",
             Path("/project/42"), true},
        Case{"TemplateNotTwoSegments",
             "resource.path.matchesTemplate(\"/project/{id}\")",
             Path("/project/4/2"), false},
        Case{"TemplateNotEmptySegment",
             "resource.path.matchesTemplate(\"/project/{id}\")",
             Path("/project/"), false}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

struct ErrorCase {
  std::string name;
  std::string condition;
  std::string message;
};

class BuiltinErrorsTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BuiltinErrorsTest, Rejects) {
  compiler::Compilation result =
      CompileText(std::string(kSchema) + "permit \"p\" when { " +
                  GetParam().condition + " }");
  EXPECT_EQ(result.program, nullptr);
  EXPECT_THAT(result.diagnostics, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Language, BuiltinErrorsTest,
    ::testing::Values(
        ErrorCase{"BadIp", "source.ip == ip(\"10.0.0.256\")",
                  "invalid ip \"10.0.0.256\""},
        ErrorCase{"CidrHostBits", "source.ip in cidr(\"10.0.0.1/8\")",
                  "invalid cidr \"10.0.0.1/8\""},
        ErrorCase{"DecimalTooPrecise", "resource.price < decimal(\"0.00001\")",
                  "invalid decimal"},
        ErrorCase{"BadTimestamp",
                  "env.now > timestamp(\"2026-13-01T00:00:00Z\")",
                  "invalid timestamp"},
        ErrorCase{"UnknownFunction", "source.ip == addr(\"1.2.3.4\")",
                  "unknown function 'addr'"},
        ErrorCase{"BadRegex", "resource.path.matches(\"(a\")",
                  "invalid pattern \"(a\""},
        ErrorCase{"RegexTooLarge",
                  "resource.path.matches(\"(abc|def){1,1000}\")",
                  "more than the limit of 5000"},
        ErrorCase{"MixedCollection",
                  "source.ip in [cidr(\"10.0.0.0/8\"), \"x\"]",
                  "all of one kind"},
        ErrorCase{"IpInStrings", "source.ip in [\"10.0.0.1\"]",
                  "an ip address is tested `in` a cidr range"},
        ErrorCase{"DecimalWithInt", "resource.price < 3",
                  "cannot compare decimal < int"},
        ErrorCase{"SetMethodOnString", "resource.path.size() > 1",
                  "unknown method 'size'"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return info.param.name;
    });

TEST(Builtins, LargeRangeListsCompileToOnePredicate) {
  std::string ranges;
  for (int i = 0; i < 5000; ++i) {
    ranges += (i ? ", " : "") + std::string("cidr(\"10.") +
              std::to_string(i / 256) + "." + std::to_string(i % 256) +
              ".0/24\")";
  }
  compiler::Compilation result = CompileText(
      std::string(kSchema) + "permit \"p\" when { source.ip in [" + ranges +
      "] }");
  ASSERT_NE(result.program, nullptr) << result.diagnostics;
  EXPECT_EQ(result.program->predicates.size(), 1u);
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(*result.program, Ip("10.19.135.7"), 0, frame).ok());
  EXPECT_TRUE(Evaluate(*result.program, frame).permit);
  ASSERT_TRUE(DecodeJsonRequest(*result.program, Ip("10.20.0.1"), 0, frame).ok());
  EXPECT_FALSE(Evaluate(*result.program, frame).permit);
}

TEST(Builtins, RequestValuesAreValidated) {
  compiler::Compilation result =
      CompileText(std::string(kSchema) + "permit \"p\";");
  ASSERT_NE(result.program, nullptr);
  Frame frame;
  absl::Status status =
      DecodeJsonRequest(*result.program, Ip("10.0.0.300"), 0, frame);
  EXPECT_THAT(status.message(), HasSubstr("is not an IP address"));
  status = DecodeJsonRequest(*result.program, Price("\"1.23456\""), 0, frame);
  EXPECT_THAT(status.message(), HasSubstr("is not a decimal"));
  status = DecodeJsonRequest(*result.program, Price("1.5"), 0, frame);
  EXPECT_THAT(status.message(), HasSubstr("send a decimal as a string"));
  status = DecodeJsonRequest(*result.program, Ip("10.0.0.1\\u0000junk"), 0, frame);
  EXPECT_THAT(status.message(), HasSubstr("is not an IP address"));
  status = DecodeJsonRequest(
      *result.program, R"({"attributes": {"source": {"net": "10.0.0.0/08"}}})",
      0, frame);
  EXPECT_THAT(status.message(), HasSubstr("is not a CIDR range"));
}

}  // namespace
}  // namespace verdict
