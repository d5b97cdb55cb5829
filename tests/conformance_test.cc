// Fault classes that policy engines have got wrong, one table row per
// case: the policy, the request, and the decision with its reasons, a
// compile error, or a request error. docs/reliability.md lists the rule
// Verdict follows for each class.
//
// Every row that decides is compiled three times, with the automatic DAG
// budget and with budgets of 1 and 4 nodes so that residual leaves decide
// instead of the DAG. All three must give the expected reasons, and the
// reference interpreter must give the same decision.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/parser.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"
#include "tests/reference_interpreter.h"

namespace verdict {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

struct ConformanceCase {
  std::string name;
  std::string policies;
  std::string request;
  // Exactly, in order. Empty when the row expects an error.
  std::vector<std::string> reasons;
  std::string compile_error;  // a substring of the diagnostics
  std::string request_error;  // a substring of the decoding error
  std::map<std::string, std::string> data;  // data set -> file contents
};

constexpr char kSchema[] = R"(
schema subject from users { id: string  level: int  roles: set<string> }
schema resource {
  id: string
  path: string
  size: int
  price: decimal
  tags: set<string>
  segments: list<string>
}
schema action { name: string }
schema source { ip: ip  net: cidr }
schema env { now: timestamp }
schema token { issued_at: timestamp  ttl: duration }
)";

// A request for subject alice doing `action`, with `rest` appended.
std::string Request(const std::string& action, const std::string& rest = "") {
  return R"({"subject": {"id": "alice"}, "action": {"name": ")" + action +
         "\"}" + (rest.empty() ? "" : ", " + rest) + "}";
}

std::string Resource(const std::string& properties) {
  return R"("resource": {"properties": {)" + properties + "}}";
}

std::string Attributes(const std::string& members) {
  return R"("attributes": {)" + members + "}";
}

std::vector<ConformanceCase> BigIntegerCases() {
  return {
      {"IntegerAbove2To53ComparedExactly",
       R"(permit "exact" when { resource.size == 9007199254740993 })",
       Request("read", Resource(R"("size": 9007199254740993)")),
       {"permit:exact"}},
      {"IntegerAbove2To53NotRoundedToNeighbour",
       R"(permit "exact" when { resource.size == 9007199254740992 })",
       Request("read", Resource(R"("size": 9007199254740993)")),
       {"default_deny"}},
      {"Int64MaxComparedExactly",
       R"(permit "max" when { resource.size > 9223372036854775806 })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"permit:max"}},
      {"RequestIntegerBeyondInt64Rejected",
       R"(permit "any" when { resource.size > 0 })",
       Request("read", Resource(R"("size": 9223372036854775808)")),
       {}, "", "9223372036854775808"},
      {"RequestIntegerBelowInt64Rejected",
       R"(permit "any" when { resource.size < 0 })",
       Request("read", Resource(R"("size": -9223372036854775809)")),
       {}, "", "-9223372036854775809"},
      {"RequestIntegerWithExponentRejected",
       R"(permit "any" when { resource.size > 0 })",
       Request("read", Resource(R"("size": 1e3)")),
       {}, "", "1e3"},
      {"PolicyIntegerBeyondInt64Rejected",
       R"(permit "any" when { resource.size < 9223372036854775808 })",
       Request("read"),
       {}, "9223372036854775808"},
      {"DataIntegerAbove2To53ComparedExactly",
       R"(permit "exact" when { subject.level == 9007199254740993 })",
       Request("read"),
       {"permit:exact"}, "", "",
       {{"users", R"({"alice": {"level": 9007199254740993}})"}}},
      {"DataIntegerBeyondInt64Rejected",
       R"(permit "any" when { subject.level > 0 })",
       Request("read"),
       {}, "subject.level must be int, but is 9223372036854775808", "",
       {{"users", R"({"alice": {"level": 9223372036854775808}})"}}},
      {"DataIntegerBeyondUint64NotShownRounded",
       R"(permit "any" when { subject.level > 0 })",
       Request("read"),
       {}, "but is a number with a fraction, an exponent or more than 64 bits", "",
       {{"users", R"({"alice": {"level": 18446744073709551616}})"}}},
      {"DataIntegerWrittenWithFractionRejected",
       R"(permit "any" when { subject.level > 0 })",
       Request("read"),
       {}, "but is a number with a fraction", "",
       {{"users", R"({"alice": {"level": 3.0}})"}}},
      {"DecimalBeyondRangeRejected",
       R"(permit "any" when { resource.price > decimal("0") })",
       Request("read", Resource(R"("price": "922337203685477.5808")")),
       {}, "", "922337203685477.5808"},
  };
}

std::vector<ConformanceCase> OverflowCases() {
  return {
      {"AdditionOverflowInPermitDoesNotApply",
       R"(permit "grow" when { resource.size + 1 > 0 })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"default_deny"}},
      {"NegatedOverflowInPermitDoesNotApply",
       R"(permit "grow" when { not (resource.size + 1 < 0) })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"default_deny"}},
      {"OverflowOrFalseDoesNotApply",
       R"(permit "grow" when { resource.size + 1 > 0 or action.name == "x" })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"default_deny"}},
      {"OverflowOrTrueApplies",
       R"(permit "grow" when { resource.size + 1 > 0 or action.name == "read" })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"permit:grow"}},
      {"NegationOfInt64MinOverflows",
       R"(permit "flip" when { -resource.size > 0 })",
       Request("read", Resource(R"("size": -9223372036854775808)")),
       {"default_deny"}},
      {"SubtractionOverflowInForbidDenies",
       R"(permit "all";
          forbid "old" when { env.now - token.issued_at > 1d })",
       Request("read", Attributes(R"("token": {"issued_at": -9223372036854775808},
                                     "env": {"now": 1000})")),
       {"forbid_error:old"}},
      {"NegatedOverflowInForbidDenies",
       R"(permit "all";
          forbid "small" when { not (resource.size + 1 > 100) })",
       Request("read", Resource(R"("size": 9223372036854775807)")),
       {"forbid_error:small"}},
      {"DecimalOverflowInNegatedForbidDenies",
       R"(permit "all";
          forbid "cheap" when { !(resource.price + decimal("1") > decimal("5")) })",
       Request("read", Resource(R"("price": "922337203685477.5807")")),
       {"forbid_error:cheap"}},
      {"DurationOverflowInForbidDenies",
       R"(permit "all";
          forbid "expired" when { token.issued_at + token.ttl < env.now })",
       Request("read", Attributes(R"("token": {"issued_at": 10,
                                               "ttl": 9223372036854775807})")),
       {"forbid_error:expired"}},
  };
}

std::vector<ConformanceCase> DecimalCases() {
  return {
      {"NegativeHalfBelowZero",
       R"(permit "credit" when { resource.price < decimal("0") })",
       Request("read", Resource(R"("price": "-0.5")")),
       {"permit:credit"}},
      {"NegativeHalfNotAboveZero",
       R"(permit "debit" when { resource.price > decimal("0") })",
       Request("read", Resource(R"("price": "-0.5")")),
       {"default_deny"}},
      {"NegativeHundredthAboveNegativeHalf",
       R"(permit "above" when { resource.price > decimal("-0.5") })",
       Request("read", Resource(R"("price": "-0.05")")),
       {"permit:above"}},
      {"NegativeHalfBelowNegativeHundredth",
       R"(permit "below" when { resource.price < decimal("-0.05") })",
       Request("read", Resource(R"("price": "-0.5")")),
       {"permit:below"}},
      {"NegativeHalfEqualsTrailingZero",
       R"(permit "same" when { resource.price == decimal("-0.50") })",
       Request("read", Resource(R"("price": "-0.5")")),
       {"permit:same"}},
      {"NegativeZeroEqualsZero",
       R"(permit "zero" when { resource.price == decimal("0") })",
       Request("read", Resource(R"("price": "-0.0")")),
       {"permit:zero"}},
      {"NegatedNegativeHalfIsPositive",
       R"(permit "flip" when { -resource.price == decimal("0.5") })",
       Request("read", Resource(R"("price": "-0.5")")),
       {"permit:flip"}},
      {"NegativeSmallestUnitBelowZero",
       R"(forbid "negative" when { resource.price < decimal("0") }
          permit "all";)",
       Request("read", Resource(R"("price": "-0.0001")")),
       {"forbid:negative"}},
      {"DecimalWithoutLeadingDigitRejected",
       R"(permit "any" when { resource.price < decimal("0") })",
       Request("read", Resource(R"("price": "-.5")")),
       {}, "", "-.5"},
      {"DecimalWithFiveFractionDigitsRejected",
       R"(permit "any" when { resource.price < decimal("-0.00001") })",
       Request("read"),
       {}, "-0.00001"},
  };
}

std::vector<ConformanceCase> PatternCases() {
  return {
      {"GlobMustMatchWholeString",
       R"(permit "docs" when { resource.path like "/docs/*" })",
       Request("read", Resource(R"("path": "/x/docs/a")")),
       {"default_deny"}},
      {"GlobMustMatchToTheEnd",
       R"(permit "pdf" when { resource.path like "*.pdf" })",
       Request("read", Resource(R"("path": "a.pdf.bak")")),
       {"default_deny"}},
      {"RegexMustMatchWholeString",
       R"(permit "ticket" when { resource.id.matches("[A-Z]+-[0-9]+") })",
       Request("read", Resource(R"("id": "see OPS-1 now")")),
       {"default_deny"}},
      {"RegexAlternationAnchoredAsAWhole",
       R"(permit "rw" when { resource.id.matches("read|write") })",
       Request("read", Resource(R"("id": "readonly")")),
       {"default_deny"}},
      {"RegexMatchesWholeString",
       R"(permit "rw" when { resource.id.matches("read|write") })",
       Request("read", Resource(R"("id": "write")")),
       {"permit:rw"}},
      {"RegexDotDoesNotMatchNewline",
       R"(permit "line" when { resource.id.matches("a.*") })",
       Request("read", Resource(R"("id": "ab\nc")")),
       {"default_deny"}},
      {"TemplateMustMatchWholeString",
       R"(permit "file" when { resource.path.matchesTemplate("/p/{id}") })",
       Request("read", Resource(R"("path": "/p/1/extra")")),
       {"default_deny"}},
      {"NegatedPatternForbidsSubstringMatch",
       R"(permit "all";
          forbid "bad-id" when { not resource.id.matches("[a-z]+") })",
       Request("read", Resource(R"("id": "abc!")")),
       {"forbid:bad-id"}},
      {"MalformedRegexRejectedAtCompile",
       R"(permit "bad" when { resource.id.matches("([a-z]+") })",
       Request("read"),
       {}, "invalid pattern \"([a-z]+\""},
      {"MalformedRegexConstantRejectedAtCompile",
       R"(const ID_PATTERN = "[a-z"
          permit "bad" when { resource.id.matches(ID_PATTERN) })",
       Request("read"),
       {}, "[a-z"},
      {"OversizedRegexRejectedAtCompile",
       R"(permit "big" when { resource.path.matches("(/[a-z]+){1,1000}") })",
       Request("read"),
       {}, "(/[a-z]+){1,1000}"},
  };
}

std::vector<ConformanceCase> AddressCases() {
  return {
      {"MappedAddressInIpv4Range",
       R"(permit "office" when { source.ip in cidr("10.0.0.0/8") })",
       Request("read", Attributes(R"("source": {"ip": "::ffff:10.0.0.1"})")),
       {"permit:office"}},
      {"MappedAddressCannotBypassIpv4Forbid",
       R"(permit "all";
          forbid "blocked" when { source.ip in cidr("10.0.0.0/8") })",
       Request("read", Attributes(R"("source": {"ip": "::ffff:10.0.0.1"})")),
       {"forbid:blocked"}},
      {"MappedAddressEqualsIpv4Address",
       R"(permit "host" when { source.ip == ip("10.0.0.1") })",
       Request("read", Attributes(R"("source": {"ip": "::ffff:10.0.0.1"})")),
       {"permit:host"}},
      {"MappedAddressInMappedRange",
       R"(permit "mapped" when { source.ip in cidr("::ffff:0:0/96") })",
       Request("read", Attributes(R"("source": {"ip": "10.0.0.1"})")),
       {"permit:mapped"}},
      {"MappedRangeInRequestContainsIpv4",
       R"(permit "net" when { source.ip in source.net })",
       Request("read", Attributes(R"("source": {"ip": "10.1.2.3",
                                                "net": "::ffff:10.0.0.0/104"})")),
       {"permit:net"}},
      {"Ipv4CompatibleAddressIsIpv6",
       R"(permit "office" when { source.ip in cidr("10.0.0.0/8") })",
       Request("read", Attributes(R"("source": {"ip": "::10.0.0.1"})")),
       {"default_deny"}},
      {"Nat64AddressIsIpv6",
       R"(permit "office" when { source.ip in cidr("10.0.0.0/8") })",
       Request("read", Attributes(R"("source": {"ip": "64:ff9b::10.0.0.1"})")),
       {"default_deny"}},
      {"MappedAddressIsIpv4",
       R"(permit "v4" when { source.ip.isIpv4() })",
       Request("read", Attributes(R"("source": {"ip": "::ffff:10.0.0.1"})")),
       {"permit:v4"}},
      {"AddressWithLeadingZeroRejected",
       R"(permit "office" when { source.ip in cidr("10.0.0.0/8") })",
       Request("read", Attributes(R"("source": {"ip": "010.0.0.1"})")),
       {}, "", "010.0.0.1"},
  };
}

std::vector<ConformanceCase> SetCases() {
  return {
      {"SetEqualityIgnoresOrderAndDuplicates",
       R"(permit "same" when { resource.tags == ["a", "b"] })",
       Request("read", Resource(R"("tags": ["b", "a", "b"])")),
       {"permit:same"}},
      {"SetLiteralDuplicatesIgnored",
       R"(permit "same" when { resource.tags == ["a", "a", "b"] })",
       Request("read", Resource(R"("tags": ["b", "a"])")),
       {"permit:same"}},
      {"SetSizeCountsDistinctElements",
       R"(permit "one" when { resource.tags.size() == 1 })",
       Request("read", Resource(R"("tags": ["a", "a", "a"])")),
       {"permit:one"}},
      {"ContainsAllIgnoresDuplicates",
       R"(permit "all" when { resource.tags.containsAll(["a", "b", "a"]) })",
       Request("read", Resource(R"("tags": ["b", "a"])")),
       {"permit:all"}},
      {"SupersetIsNotEqual",
       R"(permit "same" when { resource.tags == ["a"] })",
       Request("read", Resource(R"("tags": ["a", "b"])")),
       {"default_deny"}},
      {"ContainsAllOfDataSet",
       R"(permit "roles" when { subject.roles.containsAll(resource.tags) })",
       Request("read", Resource(R"("tags": ["r2", "r1", "r1"])")),
       {"permit:roles"}, "", "",
       {{"users", R"({"alice": {"roles": ["r1", "r2", "r2"]}})"}}},
      {"EmptySetContainsNothing",
       R"(permit "any" when { resource.tags.containsAny(["a"]) })",
       Request("read", Resource(R"("tags": [])")),
       {"default_deny"}},
      {"ListKeepsOrder",
       R"(permit "list" when { resource.segments == ["a", "b"] })",
       Request("read", Resource(R"("segments": ["b", "a"])")),
       {"default_deny"}},
  };
}

std::vector<ConformanceCase> PathCases() {
  return {
      {"DotDotSegmentDoesNotPassPrefixGlob",
       R"(permit "public" when { resource.path like "/public/**" })",
       Request("read", Resource(R"("path": "/public/../admin")")),
       {"default_deny"}},
      {"DotDotSegmentInForbidDenies",
       R"(permit "all";
          forbid "admin" when { resource.path like "/admin/**" })",
       Request("read", Resource(R"("path": "/public/../admin/keys")")),
       {"forbid_error:admin"}},
      {"DotSegmentDoesNotPassTemplate",
       R"(permit "file" when { resource.path.matchesTemplate("/p/{id}") })",
       Request("read", Resource(R"("path": "/p/.")")),
       {"default_deny"}},
      {"DotDotSegmentDoesNotPassPrefix",
       R"(permit "public" when { resource.path.startsWith("/public/") })",
       Request("read", Resource(R"("path": "/public/../admin")")),
       {"default_deny"}},
      {"PercentEncodedDotsAreDotSegment",
       R"(permit "public" when { resource.path like "/public/**" })",
       Request("read", Resource(R"("path": "/public/%2e%2E/admin")")),
       {"default_deny"}},
      {"MixedEncodedDotsAreDotSegment",
       R"(permit "public" when { resource.path like "/public/**" })",
       Request("read", Resource(R"("path": "/public/.%2e/admin")")),
       {"default_deny"}},
      {"DuplicateSlashCannotBypassForbid",
       R"(permit "all";
          forbid "admin" when { resource.path like "/admin/**" })",
       Request("read", Resource(R"("path": "//admin/keys")")),
       {"forbid_error:admin"}},
      {"DotsInsideSegmentAreOrdinary",
       R"(permit "public" when { resource.path like "/public/**" })",
       Request("read", Resource(R"("path": "/public/a..b/...")")),
       {"permit:public"}},
      {"TrailingSlashIsOrdinary",
       R"(permit "docs" when { resource.path like "/docs/*" })",
       Request("read", Resource(R"("path": "/docs/")")),
       {"permit:docs"}},
      {"SuffixWithoutSlashIsStringTest",
       R"(permit "pdf" when { resource.path.endsWith(".pdf") })",
       Request("read", Resource(R"("path": "/a/../b.pdf")")),
       {"permit:pdf"}},
      {"RegexSeesRawPath",
       R"(permit "raw" when { resource.path.matches("/public/.*") })",
       Request("read", Resource(R"("path": "/public/../admin")")),
       {"permit:raw"}},
      {"SchemeAndAuthorityAreNotPath",
       R"(permit "prod" when {
            resource.path.startsWith("spiffe://example.org/ns/prod/") })",
       Request("read", Resource(R"("path": "spiffe://example.org/ns/prod/sa/web")")),
       {"permit:prod"}},
      {"UrlGlobMatchesAfterAuthority",
       R"(permit "docs" when { resource.path like "https://docs.example.org/**" })",
       Request("read", Resource(R"("path": "https://docs.example.org/a/b")")),
       {"permit:docs"}},
      {"DotDotSegmentAfterAuthority",
       R"(permit "prod" when {
            resource.path.startsWith("spiffe://example.org/ns/prod/") })",
       Request("read", Resource(R"("path": "spiffe://example.org/ns/prod/../dev/sa/x")")),
       {"default_deny"}},
      {"DuplicateSlashAfterAuthority",
       R"(permit "all";
          forbid "admin" when { resource.path like "https://h.example/admin/**" })",
       Request("read", Resource(R"("path": "https://h.example//admin/keys")")),
       {"forbid_error:admin"}},
  };
}

std::vector<ConformanceCase> TimeCases() {
  return {
      {"OffsetConvertedToUtc",
       R"(permit "at" when { env.now == timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-03-01T05:30:00+05:30"})")),
       {"permit:at"}},
      {"NegativeOffsetConvertedToUtc",
       R"(permit "at" when { env.now == timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-02-28T20:30:00-03:30"})")),
       {"permit:at"}},
      {"OffsetInPolicyConvertedToUtc",
       R"(permit "before" when { env.now < timestamp("2026-03-01T05:30:00+05:30") })",
       Request("read", Attributes(R"("env": {"now": "2026-02-28T23:59:59Z"})")),
       {"permit:before"}},
      {"LocalTimeNotTakenAsUtc",
       R"(permit "before" when { env.now < timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-02-28T23:00:00-02:00"})")),
       {"default_deny"}},
      {"LowercaseZAccepted",
       R"(permit "at" when { env.now == timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-03-01t00:00:00z"})")),
       {"permit:at"}},
      {"TimestampWithoutOffsetRejected",
       R"(permit "any" when { env.now > timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-03-01T00:00:00"})")),
       {}, "", "2026-03-01T00:00:00"},
      {"OffsetOutOfRangeRejected",
       R"(permit "any" when { env.now > timestamp("2026-03-01T00:00:00Z") })",
       Request("read", Attributes(R"("env": {"now": "2026-03-01T00:00:00+24:00"})")),
       {}, "", "+24:00"},
  };
}

std::vector<ConformanceCase> AllCases() {
  std::vector<ConformanceCase> all;
  for (auto group : {BigIntegerCases, OverflowCases, DecimalCases, PatternCases,
                     AddressCases, SetCases, PathCases, TimeCases}) {
    std::vector<ConformanceCase> cases = group();
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

// The reference interpreter's decision on the request in `frame`.
testing::ReferenceDecision ReferenceDecide(const ConformanceCase& c,
                                           const Program& program,
                                           const Frame& frame) {
  // The compiler reads the files in sorted order: case, then schema.
  compiler::SourceFile case_file("case.verdict", c.policies);
  compiler::SourceFile schema_file("schema.verdict", kSchema);
  compiler::Diagnostics diagnostics;
  std::vector<compiler::FileAst> files;
  files.push_back(compiler::ParseFile(case_file, diagnostics));
  files.push_back(compiler::ParseFile(schema_file, diagnostics));
  compiler::CheckedSet checked = compiler::Check(files, diagnostics);
  EXPECT_FALSE(diagnostics.has_errors()) << diagnostics.Render();
  return testing::ReferenceEvaluate(checked, program, frame);
}

void PrintTo(const ConformanceCase& c, std::ostream* out) { *out << c.name; }

class ConformanceTest : public ::testing::TestWithParam<ConformanceCase> {};

TEST_P(ConformanceTest, DecidesAsDocumented) {
  const ConformanceCase& c = GetParam();
  std::map<std::string, std::string> data = c.data;
  if (data.empty()) data["users"] = R"({"alice": {}})";
  for (size_t budget : {0, 1, 4}) {
    SCOPED_TRACE("max_dag_nodes " + std::to_string(budget));
    compiler::CompileOptions options;
    options.max_dag_nodes = budget;
    compiler::Compilation compiled = testing::CompileFiles(
        {{"schema.verdict", kSchema}, {"case.verdict", c.policies}}, data,
        options);
    if (!c.compile_error.empty()) {
      EXPECT_EQ(compiled.program, nullptr);
      EXPECT_THAT(compiled.diagnostics, HasSubstr(c.compile_error));
      return;
    }
    ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
    const Program& program = *compiled.program;
    Frame frame;
    absl::Status decoded = DecodeJsonRequest(program, c.request, 0, frame);
    if (!c.request_error.empty()) {
      EXPECT_FALSE(decoded.ok());
      EXPECT_THAT(std::string(decoded.message()), HasSubstr(c.request_error));
      return;
    }
    ASSERT_TRUE(decoded.ok()) << decoded;
    const Decision decision = Evaluate(program, frame);
    EXPECT_THAT(DecisionReasons(program, frame, decision),
                ElementsAreArray(c.reasons));
    const bool permit = std::any_of(
        c.reasons.begin(), c.reasons.end(),
        [](const std::string& reason) { return reason.starts_with("permit:"); });
    EXPECT_EQ(decision.permit, permit);

    const testing::ReferenceDecision expected = ReferenceDecide(c, program, frame);
    EXPECT_EQ(expected.permit, permit);
    std::set<std::string> determining;
    for (uint32_t policy : decision.determining) {
      determining.insert(program.policies[policy].id);
    }
    EXPECT_EQ(determining, expected.determining);
  }
}

INSTANTIATE_TEST_SUITE_P(
    FaultClasses, ConformanceTest, ::testing::ValuesIn(AllCases()),
    [](const ::testing::TestParamInfo<ConformanceCase>& info) {
      return info.param.name;
    });

// The error of a path test names the path and what to do about it.
TEST(PathRule, ErrorNamesPathAndFix) {
  compiler::Compilation compiled = testing::CompileFiles(
      {{"schema.verdict", kSchema},
       {"case.verdict", R"(permit "all";
                           forbid "admin" when { resource.path like "/admin/**" })"}},
      {{"users", R"({"alice": {}})"}});
  ASSERT_NE(compiled.program, nullptr) << compiled.diagnostics;
  const Program& program = *compiled.program;
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(program,
                                Request("read", Resource(R"("path": "//admin/keys")")),
                                0, frame)
                  .ok());
  const Decision decision = Evaluate(program, frame);

  EXPECT_FALSE(decision.permit);
  ASSERT_EQ(decision.errors.size(), 1u);
  const std::string message =
      DescribeError(program, frame, decision.errors[0].predicate);
  EXPECT_THAT(message, HasSubstr("path \"//admin/keys\""));
  EXPECT_THAT(message, HasSubstr("resolve the path before the request"));
}

}  // namespace
}  // namespace verdict
