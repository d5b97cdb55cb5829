// DecodeJsonRequest against the DOM-based reference decoder: on hand-written
// and generated requests, valid and not, both decoders must accept the same
// requests with the same frame contents, or both reject them with
// INVALID_ARGUMENT.

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "engine/request.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/compile_text.h"
#include "tests/reference_json_decoder.h"

#ifdef VERDICT_HAVE_WORKLOAD
#include "bench/workload/workload.h"
#endif

namespace verdict {
namespace {

using ::testing::HasSubstr;
using testing::CompileText;
using testing::ReferenceDecodeJsonRequest;

// Every request type, nested context paths, an entity hierarchy (whose
// `subject.$ancestors` is computed) and a data join (whose conflicts are
// part of the frame).
constexpr char kSchema[] = R"(schema subject from users {
  type: string
  id: string
  role?: string
  roles?: set<string>
  tags?: list<string>
  level?: int
  active?: bool
  email?: string
}
schema action { name: string }
schema resource {
  type: string
  id: string
  tenant?: string
  created?: timestamp
  retention?: duration
  price?: decimal
}
schema context {
  ip?: ip
  net?: cidr
  session.mfa?: bool
  session.issued_at?: timestamp
  a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee.ff?: string
}
schema tee { debug?: bool  tcb_status?: string }
schema env { now: timestamp }
permit "p" when { subject in Group::"staff" and action.name == "read" }
)";

constexpr char kUsers[] =
    R"({"alice": {"role": "admin", "level": 5, "email": "alice@x.com"}})";
constexpr char kEntities[] = R"({"user::alice": ["Group::staff"]})";

// Returns the frame as text, independent of the order in which attributes
// were set: request-local symbols and arena offsets depend on that order,
// the values do not.
std::string Describe(const Program& program, const Frame& frame) {
  std::string out;
  for (uint32_t i = 0; i < program.slots.size(); ++i) {
    const SlotValue& value = frame.slot(i);
    if (!value.present && !value.given) continue;
    absl::StrAppend(&out, program.slots[i].path, value.present ? "" : " absent",
                    value.given ? " given" : "", " int=", value.integer);
    switch (program.slots[i].type) {
      case Type::kString:
      case Type::kStringList:
        if (!value.present) break;
        absl::StrAppend(&out, " symbol=\"",
                        ToAbsl(frame.SymbolText(value.symbol)), "\"");
        if (value.symbol < program.symbols.size()) {
          absl::StrAppend(&out, " #", value.symbol);
        }
        break;
      case Type::kStringSet: {
        std::vector<std::string> elements;
        for (uint32_t symbol : frame.Set(value)) {
          elements.emplace_back(frame.SymbolText(symbol));
        }
        std::sort(elements.begin(), elements.end());
        absl::StrAppend(&out, " set={", absl::StrJoin(elements, "|"), "}");
        break;
      }
      default:
        break;
    }
    if (value.present && (program.slots[i].type == Type::kString ||
                          program.slots[i].type == Type::kIp ||
                          program.slots[i].type == Type::kCidr)) {
      absl::StrAppend(&out, " text=\"", ToAbsl(frame.Text(value)), "\"");
    }
    out.push_back('\n');
  }
  for (const std::string& conflict : frame.conflicts()) {
    absl::StrAppend(&out, "conflict ", conflict, "\n");
  }
  return out;
}

class JsonDecoderDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    compiler::Compilation result = CompileText(
        kSchema, {{"users", kUsers}, {"entities", kEntities}});
    ASSERT_NE(result.program, nullptr) << result.diagnostics;
    program_ = result.program;
  }

  // Decodes `json` with both decoders and checks that they agree. Returns
  // the status of DecodeJsonRequest.
  absl::Status ExpectSameDecoding(const Program& program,
                                  const std::string& json) {
    // An exact-size copy, so that AddressSanitizer builds catch any read
    // past the end of the input.
    const std::vector<char> exact(json.begin(), json.end());
    absl::Status fast = DecodeJsonRequest(
        program, std::string_view(exact.data(), exact.size()), 1000,
        fast_frame_);
    absl::Status reference =
        ReferenceDecodeJsonRequest(program, json, 1000, reference_frame_);
    EXPECT_EQ(fast.code(), reference.code())
        << "request: " << json << "\nfast: " << fast
        << "\nreference: " << reference;
    if (fast.ok() && reference.ok()) {
      EXPECT_EQ(Describe(program, fast_frame_),
                Describe(program, reference_frame_))
          << "request: " << json;
    }
    if (!fast.ok()) {
      EXPECT_EQ(fast.code(), absl::StatusCode::kInvalidArgument) << fast;
    }
    return fast;
  }

  std::shared_ptr<const Program> program_;
  Frame fast_frame_;
  Frame reference_frame_;
};

TEST_F(JsonDecoderDifferentialTest, HandWrittenRequests) {
  const std::vector<std::string> requests = {
      // Valid shapes.
      R"({})",
      " \t\r\n{ } \n",
      "\xEF\xBB\xBF{\"action\": {\"name\": \"read\"}}",
      R"({"subject": {"type": "user", "id": "alice"}, "action": {"name": "read"}})",
      R"({"subject": {"type": "user", "id": "bob", "properties": {"role": "x", "roles": ["a", "b", "a"], "tags": ["z", "y"], "level": -42, "active": true}}})",
      R"({"subject": {"id": "alice", "properties": {"role": "other"}}})",
      R"({"subject": {"id": "alice", "properties": {"level": 5, "email": null}}})",
      R"({"resource": {"type": "doc", "id": "1", "properties": {"created": "2026-03-01T12:00:00+02:00", "retention": 86400, "price": "12.5"}}})",
      R"({"resource": {"properties": {"created": 1735689600, "price": -3}}})",
      R"({"context": {"ip": "10.0.0.1", "net": "10.0.0.0/8", "session": {"mfa": false, "issued_at": 1}}})",
      R"({"context": {"session.mfa": true}})",
      R"({"attributes": {"tee": {"debug": false, "tcb_status": "UpToDate"}, "env": {"now": 99}}})",
      R"({"attributes": {"unknown": {"x": [1, {"y": [[], {}]}, null, 1.5e3, "s"]}}})",
      R"({"context": {"undeclared": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}})",
      R"({"subject": {"properties": {"roles": []}}})",
      R"({"subject": {"properties": {"tags": []}}})",
      R"({"subject": {"properties": {"level": 9223372036854775807}}})",
      R"({"subject": {"properties": {"level": -9223372036854775808}}})",
      R"({"subject": {"properties": {"level": -0}}})",
      R"({"subject": {"properties": {"other": 99999999999999999999999}}})",
      R"({"subject": {"properties": {"other": -9223372036854775809}}})",
      R"({"subject": {"properties": {"other": 1.5, "more": 1e400}}})",
      R"({"resource": {"properties": {"price": 922337203685477}}})",
      // Escapes and Unicode.
      R"({"subject": {"id": "a\"b\\c\/d\be\ff\ng\rh\ti"}})",
      R"({"subject": {"id": "caf\u00e9 \u00E9 \u4e2d \ud83d\ude00 \uD83D\uDE00"}})",
      R"({"subject": {"id": "nul\u0000byte"}})",
      "{\"subject\": {\"id\": \"Z\xC3\xBCrich \xE4\xB8\xAD \xF0\x9F\x98\x80\"}}",
      R"({"subject": {"properties": {"roles": ["\u0061", "a", "caf\u00e9"]}}})",
      R"({"subject": {"prop\u0065rties": {"role": "x"}}})",
      R"({"c\u006fntext": {"ip": "::1"}})",
      R"({"subject": {"properties": {"tags": ["a\u001fb"]}}})",
      // Wrong types and values.
      R"({"subject": {"properties": {"level": 1.5}}})",
      R"({"subject": {"properties": {"level": 1.0}}})",
      R"({"subject": {"properties": {"level": 1e3}}})",
      R"({"subject": {"properties": {"level": 9223372036854775808}}})",
      R"({"subject": {"properties": {"level": -9223372036854775809}}})",
      R"({"subject": {"properties": {"level": 18446744073709551616}}})",
      R"({"subject": {"properties": {"level": "5"}}})",
      R"({"subject": {"properties": {"roles": "admin"}}})",
      R"({"subject": {"properties": {"roles": ["a", 1]}}})",
      R"({"subject": {"properties": {"roles": ["a", ["b"]]}}})",
      R"({"subject": {"properties": {"roles": ["a", {"b": 1}]}}})",
      R"({"subject": {"properties": {"active": "true"}}})",
      R"({"subject": {"properties": {"$ancestors": ["Group::staff"]}}})",
      R"({"action": {"name": {"x": "y"}}})",
      R"({"action": {"name": ["read"]}})",
      R"({"resource": {"properties": {"price": 1.5}}})",
      R"({"resource": {"properties": {"price": 922337203685478}}})",
      R"({"resource": {"properties": {"created": "yesterday"}}})",
      R"({"resource": {"properties": {"retention": "5m"}}})",
      R"({"context": {"ip": "10.0.0.300"}})",
      R"({"context": {"net": "10.0.0.1/8"}})",
      R"({"context": 5})",
      R"({"context": [1]})",
      R"({"context": null})",
      R"({"subject": "alice"})",
      R"({"subject": null})",
      R"({"attributes": []})",
      R"({"attributes": {"tee": 5}})",
      R"({"subjct": {}})",
      R"([{"subject": {}}])",
      R"("request")",
      R"(null)",
      R"(5)",
      // Given twice.
      R"({"subject": {"id": "alice", "properties": {"id": "bob"}}})",
      R"({"subject": {"id": "alice"}, "attributes": {"subject": {"id": "bob"}}})",
      R"({"action": {"name": "a"}, "attributes": {"action": {"name": null}}})",
      R"({"context": {"session": {"mfa": true}, "session.mfa": false}})",
      // Malformed JSON.
      "",
      " ",
      "{",
      "}",
      R"({"subject": )",
      R"({"subject": {"id": "alice"})",
      R"({"subject": {"id": "alice"}}})",
      R"({"subject": {"id": "alice"}} x)",
      R"({"subject": {"id": "alice",}})",
      R"({"subject": {"id" "alice"}})",
      R"({"subject": {id: "alice"}})",
      R"({'subject': {}})",
      R"({"subject": {"id": "alice"} "action": {}})",
      R"({"context": {"x": [1, 2,]}})",
      R"({"context": {"x": [1 2]}})",
      R"({"context": {"x": 01}})",
      R"({"context": {"x": +1}})",
      R"({"context": {"x": 1.}})",
      R"({"context": {"x": .5}})",
      R"({"context": {"x": 1e}})",
      R"({"context": {"x": -}})",
      R"({"context": {"x": NaN}})",
      R"({"context": {"x": Infinity}})",
      R"({"context": {"x": tru}})",
      R"({"context": {"x": nul}})",
      R"({"context": {"x": True}})",
      R"({"context": {"x": "a\xb"}})",
      R"({"context": {"x": "\u12"}})",
      R"({"context": {"x": "\uD800"}})",
      R"({"context": {"x": "\uD800\u0041"}})",
      R"({"context": {"x": "\uDC00"}})",
      R"({"context": {"x": "\ud83d\ud83d"}})",
      R"({"context": {"x": "\'"}})",
      "{\"context\": {\"x\": \"tab\there\"}}",
      "{\"context\": {\"x\": \"line\nbreak\"}}",
      "{\"context\": {\"x\": \"\xC0\xAF\"}}",
      "{\"context\": {\"x\": \"\xED\xA0\x80\"}}",
      "{\"context\": {\"x\": \"\xF4\x90\x80\x80\"}}",
      "{\"context\": {\"x\": \"\xE4\xB8\"}}",
      "{\"context\": {\"x\": \"\x80\"}}",
      "{\"context\": {\"x\": \"\xFF\"}}",
      "{\"context\": {\"\xFF\": 1}}",
      R"({"context": {"x": [[[[]]]}})",
      R"({"context": {"x": [{"a": 1}}})",
      R"({"context": {"x": {"a" 1}}})",
      R"({"context": {"x": [{"a": 1,}]}})",
      R"({"context": {"x": [{1: 1}]}})",
      R"({"context": {"x": 1} /* comment */})",
      "{\"context\": {\"x\": 1}}\x00",
      "\xEF\xBB{}",
  };
  for (const std::string& request : requests) {
    ExpectSameDecoding(*program_, request).IgnoreError();
  }
}

TEST_F(JsonDecoderDifferentialTest, NestingDepthLimit) {
  auto nested = [](int objects) {
    std::string json = R"({"attributes": {"deep": )";
    for (int i = 0; i < objects; ++i) json += R"({"k": )";
    json += "1";
    for (int i = 0; i < objects; ++i) json += "}";
    return json + "}}";
  };
  for (int objects : {1, 31, 32, 33, 100}) {
    absl::Status status = ExpectSameDecoding(*program_, nested(objects));
    EXPECT_EQ(status.ok(), objects <= 32) << objects << ": " << status;
    if (objects > 32) {
      EXPECT_THAT(status.message(),
                  HasSubstr("request attribute deep.k.k.k.k.k.k.k.k.k.k.k.k."
                            "k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k nests "
                            "deeper than 32 objects"));
    }
  }
  // The 32 nested objects of a declared path are accepted.
  std::string path_json = R"({"context": )";
  for (std::string_view key : {"a", "b", "c", "d", "e", "f", "g", "h", "i",
                               "j", "k", "l", "m", "n", "o", "p", "q", "r",
                               "s", "t", "u", "v", "w", "x", "y", "z", "aa",
                               "bb", "cc", "dd", "ee"}) {
    absl::StrAppend(&path_json, "{\"", ToAbsl(key), "\": ");
  }
  path_json += R"({"ff": "deep"})" + std::string(31, '}') + "}";
  EXPECT_TRUE(ExpectSameDecoding(*program_, path_json).ok());
  // Arrays under undeclared paths are skipped at any depth.
  std::string arrays = R"({"context": {"x": )" + std::string(100000, '[') +
                       std::string(100000, ']') + "}}";
  EXPECT_TRUE(ExpectSameDecoding(*program_, arrays).ok());
}

TEST_F(JsonDecoderDifferentialTest, ErrorsNameThePath) {
  struct Case {
    const char* request;
    const char* message;
  };
  const Case cases[] = {
      {R"({"subject": {"properties": {"level": 1.5}}})",
       "subject.level: 1.5 is not an integer"},
      {R"({"subject": {"properties": {"level": 9223372036854775808}}})",
       "subject.level: the integer 9223372036854775808 does not fit"},
      {R"({"resource": {"properties": {"price": 2.50}}})",
       "resource.price: 2.50 is a JSON float"},
      {R"({"subject": {"properties": {"roles": ["a", 7]}}})",
       "subject.roles: element '7' is not a string"},
      {R"({"subject": {"properties": {"roles": ["a", {"b": 1}]}}})",
       "subject.roles: element an object is not a string"},
      {R"({"action": {"name": {"x": "y"}}})",
       "action.name: expected string, got an object"},
      {R"({"subject": {"x": "a", "x": "b"}})",
       "the member name \"x\" appears twice"},
      {R"({"context": {"x": "\uD800"}})", "not valid JSON: at byte 25"},
      {"{\"context\": {\"x\": \"\xC0\xAF\"}}", "expected valid UTF-8"},
      {R"({"context": {"x": "\q"}})", "one of the escapes"},
      {R"({"subject": )", "the input ends where a JSON value was expected"},
      {R"({"subject": {}} x)", "at byte 16, expected the end of the input"},
      {R"({"subjct": {}})", "unknown request member \"subjct\""},
      {R"({"context": 5})", "\"context\" must be an object, not number"},
  };
  for (const Case& c : cases) {
    absl::Status status = DecodeJsonRequest(*program_, c.request, 0, fast_frame_);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.request;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message))
        << c.request;
  }
}

// A repeated member name is the one intended difference: the reference
// decoder keeps the last value, DecodeJsonRequest rejects the request.
TEST_F(JsonDecoderDifferentialTest, RepeatedMemberNamesAreRejected) {
  const std::vector<std::string> requests = {
      R"({"subject": {"id": "a"}, "subject": {"type": "user"}})",
      R"({"subject": {"properties": {"role": "x"}, "properties": {}}})",
      R"({"context": {"undeclared": 1, "undeclared": 2}})",
      R"({"attributes": {"tee": {}, "tee": {"debug": true}}})",
  };
  for (const std::string& request : requests) {
    absl::Status status = DecodeJsonRequest(*program_, request, 0, fast_frame_);
    EXPECT_THAT(status.message(), HasSubstr("appears twice")) << request;
    EXPECT_TRUE(
        ReferenceDecodeJsonRequest(*program_, request, 0, reference_frame_).ok())
        << request;
  }
  // Objects inside arrays under undeclared paths are only validated.
  EXPECT_TRUE(ExpectSameDecoding(
                  *program_, R"({"context": {"x": [{"a": 1, "a": 2}]}})")
                  .ok());
  // More members than the pairwise check covers are sorted instead.
  std::string many = R"({"context": {)";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&many, "\"m", i, "\": 1, ");
  EXPECT_TRUE(ExpectSameDecoding(*program_, many + "\"last\": 1}}").ok());
  absl::Status status =
      DecodeJsonRequest(*program_, many + "\"m17\": 1}}", 0, fast_frame_);
  EXPECT_THAT(status.message(), HasSubstr("\"m17\" appears twice"));
}

// Returns true when some object in `json` names a member twice, as seen by
// nlohmann::json's SAX parser, independently of either decoder.
bool HasRepeatedMemberName(const std::string& json) {
  class Handler : public nlohmann::json_sax<nlohmann::json> {
   public:
    bool repeated = false;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
      names_.emplace_back();
      return true;
    }
    bool key(string_t& name) override {
      repeated = repeated || !names_.back().insert(name).second;
      return true;
    }
    bool end_object() override {
      names_.pop_back();
      return true;
    }
    bool start_array(std::size_t) override {
      names_.emplace_back();
      return true;
    }
    bool end_array() override {
      names_.pop_back();
      return true;
    }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception&) override {
      return false;
    }

   private:
    std::vector<std::set<std::string>> names_;
  };
  Handler handler;
  nlohmann::json::sax_parse(json, &handler);
  return handler.repeated;
}

// Generates random requests shaped like AuthZEN requests, with member names
// from the schema and outside it, every JSON value type, escapes, integers
// at and past the 64-bit limits, and random whitespace.
class RequestGenerator {
 public:
  explicit RequestGenerator(uint64_t seed) : random_(seed) {}

  std::string Request() {
    std::string out = "{";
    const char* members[] = {"subject", "action", "resource", "context",
                             "attributes"};
    bool first = true;
    for (const char* member : members) {
      if (Below(3) == 0) continue;
      Separator(first, out);
      absl::StrAppend(&out, "\"", member, "\":", Space());
      if (std::string_view(member) == "attributes") {
        Object(out, 1, {"tee", "env", "subject", "other"});
      } else if (std::string_view(member) == "context") {
        Object(out, 1, {"ip", "net", "session", "mfa", "issued_at", "x"});
      } else {
        Object(out, 0, {"type", "id", "name", "properties", "role", "roles",
                        "tags", "level", "active", "email", "created",
                        "retention", "price", "tenant", "$ancestors"});
      }
    }
    if (Below(20) == 0) {
      Separator(first, out);
      out += "\"unknown\": 1";
    }
    return out + "}";
  }

 private:
  uint64_t Below(uint64_t n) { return random_() % n; }

  std::string Space() {
    static constexpr const char* kSpaces[] = {"", "", " ", "\n  ", "\t", "\r\n"};
    return kSpaces[Below(6)];
  }

  void Separator(bool& first, std::string& out) {
    if (!first) out += ",";
    out += Space();
    first = false;
  }

  // An object with distinct member names drawn from `names`, nested values
  // below `depth` 4.
  void Object(std::string& out, int depth, std::vector<std::string> names) {
    std::shuffle(names.begin(), names.end(), random_);
    names.resize(Below(names.size() + 1));
    out += "{";
    bool first = true;
    for (const std::string& name : names) {
      Separator(first, out);
      absl::StrAppend(&out, "\"", name, "\":", Space());
      Value(out, depth + 1, name);
    }
    out += Space() + "}";
  }

  // Returns a value of the type the schema declares for member `name`, or
  // an empty string for names it has no single type for.
  std::string WellTyped(const std::string& name) {
    if (name == "level" || name == "retention") return Below(2) ? "5" : "-3";
    if (name == "active" || name == "mfa" || name == "debug") return "true";
    if (name == "roles" || name == "tags") return R"(["a", "b\u00e9", "a"])";
    if (name == "price") return Below(2) ? R"("12.5")" : "-4";
    if (name == "ip") return R"("10.1.2.3")";
    if (name == "net") return R"("10.0.0.0/8")";
    if (name == "created" || name == "issued_at" || name == "now") {
      return Below(2) ? R"("2026-03-01T12:00:00+02:00")" : "1735689600";
    }
    if (name == "properties" || name == "session" || name == "$ancestors") {
      return "";
    }
    return String(name);
  }

  void Value(std::string& out, int depth, const std::string& name) {
    if (Below(4) != 0) {
      std::string value = WellTyped(name);
      if (!value.empty()) {
        out += value;
        return;
      }
    }
    switch (Below(depth < 4 ? 10 : 9)) {
      case 0: out += Below(2) ? "true" : "false"; break;
      case 1: out += "null"; break;
      case 2: out += Integer(); break;
      case 3: out += Float(); break;
      case 4:
      case 5: out += String(name); break;
      case 6:
      case 7: {
        out += "[";
        const uint64_t count = Below(4);
        for (uint64_t i = 0; i < count; ++i) {
          if (i > 0) {
            out += ",";
            out += Space();
          }
          if (Below(8) == 0) {
            Value(out, depth + 1, name);
          } else {
            out += String(name);
          }
        }
        out += "]";
        break;
      }
      case 8: out += String("session"); break;
      default:
        Object(out, depth, {"mfa", "issued_at", "properties", "debug", "now",
                            "tcb_status", "a.b", "role"});
    }
  }

  std::string Integer() {
    static constexpr const char* kIntegers[] = {
        "0", "-0", "7", "-7", "1735689600", "922337203685477",
        "922337203685478", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616",
        "123456789012345678901234567890"};
    return kIntegers[Below(std::size(kIntegers))];
  }

  std::string Float() {
    static constexpr const char* kFloats[] = {"1.5", "-0.0", "1e3", "1E-3",
                                              "2.50", "1e400", "0.1e+2"};
    return kFloats[Below(std::size(kFloats))];
  }

  std::string String(const std::string& name) {
    static constexpr const char* kPieces[] = {
        "alice", "read", "admin", "Group::staff", "10.0.0.1", "10.0.0.0/8",
        "2026-03-01T12:00:00Z", "12.5", "x", "\\u00e9", "\\ud83d\\ude00",
        "\\n", "\\\"", "\\\\", "\\/", "\\u0000", "\\u001f", "\xC3\xA9",
        "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "UpToDate", " "};
    std::string out = "\"";
    const uint64_t count = Below(3) + (name.empty() ? 0 : 1);
    for (uint64_t i = 0; i < count; ++i) {
      out += kPieces[Below(std::size(kPieces))];
    }
    return out + "\"";
  }

  std::mt19937_64 random_;
};

TEST_F(JsonDecoderDifferentialTest, GeneratedRequests) {
  RequestGenerator generator(20260301);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    if (ExpectSameDecoding(*program_, generator.Request()).ok()) ++accepted;
  }
  // Both outcomes are well represented.
  EXPECT_GT(accepted, 500);
  EXPECT_LT(accepted, 4500);
}

// Mutates generated requests byte by byte: most mutations make invalid
// JSON, some make a different valid request.
TEST_F(JsonDecoderDifferentialTest, MutatedRequests) {
  RequestGenerator generator(7);
  std::mt19937_64 random(11);
  static constexpr char kBytes[] = "{}[]\",:\\ 0123456789-+.eEtrufalsn\x80\xC3\xFF";
  int repeated = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string request = generator.Request();
    const uint64_t edits = 1 + random() % 3;
    for (uint64_t e = 0; e < edits && !request.empty(); ++e) {
      const size_t at = random() % request.size();
      switch (random() % 4) {
        case 0: request.erase(at, 1); break;
        case 1: request.insert(at, 1, kBytes[random() % (sizeof(kBytes) - 1)]); break;
        case 2: request[at] = kBytes[random() % (sizeof(kBytes) - 1)]; break;
        default: request.resize(at); break;
      }
    }
    if (HasRepeatedMemberName(request)) {
      ++repeated;  // the intended difference; see RepeatedMemberNames
      continue;
    }
    ExpectSameDecoding(*program_, request).IgnoreError();
  }
  EXPECT_LT(repeated, 200);
}

#ifdef VERDICT_HAVE_WORKLOAD
TEST_F(JsonDecoderDifferentialTest, ZeroTrustWorkload) {
  workload::ZeroTrustWorkload generated =
      workload::GenerateZeroTrust(50, workload::kDefaultSeed, 300);
  compiler::Compilation result =
      CompileText(workload::ZeroTrustPolicyText(generated, 0, 50, true));
  ASSERT_NE(result.program, nullptr) << result.diagnostics;
  for (const workload::ZeroTrustRequest& request : generated.requests) {
    const std::string json = workload::ZeroTrustRequestJson(request);
    EXPECT_TRUE(ExpectSameDecoding(*result.program, json).ok()) << json;
  }
}
#endif  // VERDICT_HAVE_WORKLOAD

}  // namespace
}  // namespace verdict
