// Checks FormatDecisionLine against the nlohmann::json formatter it
// replaced: both must write the same bytes for generated decisions, with
// every attribute type, hostile strings, masks, tokens, invalid requests
// and shadow decisions.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "server/decision_log_line.h"
#include "tests/compile_text.h"
#include "tests/server/decision_log_line_reference.h"

namespace verdict::server {
namespace {

// Every attribute type, in obligations, advice, a policy set and policies
// that error when a required attribute is absent. context.tenant is both an
// attribute and the parent of context.tenant.region, so one of them is
// logged in the top of "input" under its whole dotted path.
constexpr char kPolicies[] = R"(
schema subject {
  id: string  email: string  roles: set<string>  level: int
  trail: list<string>
}
schema action { name: string }
schema resource {
  type: string  owner: string  amount: decimal  net: cidr  tags: set<string>
  zone.name: string  zone: string
}
schema context {
  ip: ip  token: string  tenant: string  tenant.region: string
  size: decimal  at: timestamp  ttl: duration  flag: bool  note: string
}
schema request {
  headers.authorization: set<string>
  headers.cookie: set<string>
  headers.x_tenant: set<string>
  query.access_token: string
}

permit "read" when { action.name == "read" }
  obligation "audit" {
    who: subject.id, mail: subject.email, roles: subject.roles,
    trail: subject.trail, level: subject.level, size: context.size,
    ip: context.ip, net: resource.net, at: context.at, ttl: context.ttl,
    flag: context.flag, note: context.note
  }
  advice "tenant" {
    header: request.headers.authorization, tenant: context.tenant,
    region: context.tenant.region, text: "q\"uo\\te\u0001\u00e9\uD83D\uDE00",
    amount: decimal("-12.5"), tags: ["b", "a"], n: -7, yes: true,
    addr: ip("10.0.0.1"), addr6: ip("2001:db8::1"), range: cidr("10.0.0.0/8"),
    wait: 90s
  }

forbid "owner-only-edit" when {
  action.name == "edit" and resource.owner != subject.id
}
  advice "owner" { owner: resource.owner, token: context.token }

permit "high-level" when { subject.level > 3 }
  obligation "log" { note: context.note, cookie: request.headers.cookie }

forbid "flagged" when { context.flag }

policyset "ops" permit_overrides {
  permit "ops-write" when { action.name == "write" and "ops" in subject.roles }
    obligation "notify" {
      tenant: context.tenant, query: request.query.access_token,
      tags: resource.tags, amount: resource.amount
    }
  forbid "ops-big" when { resource.amount > decimal("100") }
}
)";

// A compact JWS as a PEP would present it.
constexpr char kToken[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
    "eyJzdWIiOiJhbGljZSIsImF1ZCI6InZlcmRpY3QifQ."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi10aGF0LW11c3Qtbm90LWxlYWs";

std::shared_ptr<const Program> SharedProgram() {
  static const std::shared_ptr<const Program> program = [] {
    compiler::Compilation compiled = testing::CompileText(kPolicies);
    if (compiled.program == nullptr) {
      ADD_FAILURE() << compiled.diagnostics;
      std::abort();
    }
    return compiled.program;
  }();
  return program;
}

absl::Status DecodeNothing(const Program&, Frame&) { return absl::OkStatus(); }

// Byte strings that exercise the JSON string escaping: quotes, backslashes,
// control bytes, DEL, well-formed UTF-8 of every length, and ill-formed
// UTF-8 (stray continuation bytes, bytes that never start a sequence,
// overlong forms, surrogates, code points past U+10FFFF, sequences cut
// short).
constexpr std::string_view kPieces[] = {
    "a",
    "alice",
    "Bearer ",
    "10.1",
    "2.5",
    "\"",
    "\\",
    "/",
    std::string_view("\0", 1),
    "\x01",
    "\x08",
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\x1f",
    "\x7f",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    "\xef\xbf\xbd",
    "\xe2\x80\xa8",
    "\xf4\x8f\xbf\xbf",
    "\x80",
    "\xbf",
    "\xc0\xaf",
    "\xc1",
    "\xc2",
    "\xc3",
    "\xe2\x82",
    "\xe0\x80\xaf",
    "\xe0\x9f\xbf",
    "\xed\xa0\x80",
    "\xed\x9f\xbf",
    "\xf0\x80\x80\x80",
    "\xf0\x8f\xbf\xbf",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xf8",
    "\xfe",
    "\xff",
    "\xf0\x9f\x98",
    "\xf0\x9f",
};

class EventGenerator {
 public:
  explicit EventGenerator(uint64_t seed) : random_(seed) {}

  bool Chance(double probability) {
    return std::bernoulli_distribution(probability)(random_);
  }
  size_t Below(size_t bound) {
    return std::uniform_int_distribution<size_t>(0, bound - 1)(random_);
  }
  int64_t Int64() {
    switch (Below(4)) {
      case 0:
        return std::numeric_limits<int64_t>::min();
      case 1:
        return std::numeric_limits<int64_t>::max();
      case 2:
        return static_cast<int64_t>(Below(2001)) - 1000;
      default:
        return static_cast<int64_t>(random_());
    }
  }

  // A string of random pieces; sometimes a presented token inside it.
  std::string Text(const std::vector<std::string>& tokens) {
    std::string text;
    const size_t pieces = Below(7);
    for (size_t i = 0; i < pieces; ++i) {
      if (!tokens.empty() && Chance(0.05)) {
        text += tokens[Below(tokens.size())];
      } else {
        text += kPieces[Below(std::size(kPieces))];
      }
    }
    return text;
  }

  std::vector<std::string> Texts(const std::vector<std::string>& tokens) {
    std::vector<std::string> texts(Below(4));
    for (std::string& text : texts) text = Text(tokens);
    return texts;
  }

  std::mt19937_64& random() { return random_; }

 private:
  std::mt19937_64 random_;
};

// One generated request, decoded through RequestBuilder and decided when
// valid: the parts a DecisionEvent refers to.
struct GeneratedDecision {
  GeneratedDecision(EventGenerator& generator, const Program& program)
      : program(program) {
    frame.Reset(program);
    RequestBuilder builder(program, frame);
    if (generator.Chance(0.3)) {
      tokens.push_back(kToken);
      if (generator.Chance(0.3))
        tokens.push_back(generator.Chance(0.5) ? "2.5" : "10.1");
    }
    for (const std::string& token : tokens) {
      builder.presentation().tokens.push_back(
          PresentedToken{.kind = "access_token", .jwt = token});
    }
    // Each attribute is given with probability 0.85, so some policies error
    // on absent attributes and some obligations read absent ones.
    for (uint32_t slot = 0; slot < program.slots.size() && status.ok();
         ++slot) {
      const SlotInfo& info = program.slots[slot];
      if (info.computed || !generator.Chance(0.85)) continue;
      status = SetAttribute(generator, builder, info);
    }
    builder.Finish(1'700'000'000);
    if (status.ok()) decision = Evaluate(program, frame);
  }

  DecisionEvent Event(DecisionApi api, int64_t start_nanos,
                      int64_t duration_nanos) const {
    return DecisionEvent{.api = api,
                         .program = program,
                         .frame = frame,
                         .decision = status.ok() ? &decision : nullptr,
                         .status = status,
                         .start_nanos = start_nanos,
                         .duration_nanos = duration_nanos,
                         .decode_again = DecodeNothing};
  }

  // Sets attribute `info` to a random value of its type. One in 25 values
  // has the wrong type or does not parse, which makes the request invalid
  // with an error that names the attribute and may quote the value.
  absl::Status SetAttribute(EventGenerator& generator, RequestBuilder& builder,
                            const SlotInfo& info) {
    if (generator.Chance(0.04)) {
      if (info.type == Type::kString) {
        const std::string_view elements[] = {"x"};
        return builder.SetStrings(info.path, elements);
      }
      return builder.SetString(info.path, generator.Text(tokens));
    }
    switch (info.type) {
      case Type::kBool:
        return builder.SetBool(info.path, generator.Chance(0.5));
      case Type::kInt:
      case Type::kTimestamp:
      case Type::kDuration:
        return builder.SetInt(info.path, generator.Int64());
      case Type::kString:
        if (info.path == "action.name") {
          constexpr std::string_view kActions[] = {"read", "edit", "write",
                                                   "other"};
          return builder.SetString(info.path, kActions[generator.Below(4)]);
        }
        return builder.SetString(info.path, generator.Text(tokens));
      case Type::kDecimal: {
        constexpr std::string_view kDecimals[] = {
            "12.5", "-0.0001", "7", "922337203685477.5807", "2.5", "100.0001"};
        return builder.SetString(info.path, kDecimals[generator.Below(6)]);
      }
      case Type::kIp: {
        constexpr std::string_view kIps[] = {"10.1.2.3", "2001:db8::1",
                                             "::ffff:10.1.2.5", "::"};
        return builder.SetString(info.path, kIps[generator.Below(4)]);
      }
      case Type::kCidr: {
        constexpr std::string_view kCidrs[] = {"10.0.0.0/8", "2001:db8::/32",
                                               "0.0.0.0/0", "10.1.2.3/32"};
        return builder.SetString(info.path, kCidrs[generator.Below(4)]);
      }
      case Type::kStringSet:
      case Type::kStringList: {
        // A list element with kListSeparator (0x1F) is rejected, which
        // leaves the attribute absent in the invalid request's frame.
        std::vector<std::string> texts = generator.Texts(tokens);
        if (info.path == "subject.roles" && generator.Chance(0.5)) {
          texts.push_back("ops");
        }
        std::vector<std::string_view> views(texts.begin(), texts.end());
        return builder.SetStrings(info.path, views);
      }
    }
    return absl::OkStatus();
  }

  const Program& program;
  std::vector<std::string> tokens;
  Frame frame;
  absl::Status status;
  Decision decision;
};

// Exact paths and prefixes, of attributes the policies read and of others.
constexpr std::string_view kMaskChoices[] = {
    "subject.email", "context.",      "context.tenant",
    "resource",      "context.ip",    "request.headers.x_tenant",
    "subject",       "subject.trail", "nothing.here",
};

int64_t StartNanos(EventGenerator& generator) {
  switch (generator.Below(3)) {
    case 0:
      return generator.Int64();
    case 1:
      // Around 1970, where the milliseconds of a negative time round down.
      return static_cast<int64_t>(generator.Below(4'000'000'000)) -
             2'000'000'000;
    default:
      return 1'796'000'000'000'000'000 +
             static_cast<int64_t>(generator.Below(1'000'000'000'000));
  }
}

TEST(DecisionLogLineDifferential, MatchesJsonTreeFormatter) {
  const std::shared_ptr<const Program> program = SharedProgram();
  EventGenerator generator(20261205);
  constexpr int kEvents = 20000;
  // Lines that contain each of these, so that a generator change that stops
  // reaching one fails the test.
  struct Reached {
    std::string_view text;
    int lines = 0;
  };
  Reached reached[] = {
      {"\"error\":\""},
      {"\"shadow\":{\"decision\""},
      {"\"shadow\":{\"differs\""},
      {"\"policy_set\":\"ops\""},
      {"\"obligations\":[{"},
      {"\"advice\":[{"},
      {"\"errors\":[{"},
      {"[masked]"},
      {"\xef\xbf\xbd"},
      {"\\u001f"},
      {"\"context.tenant"},
      {":null"},
  };
  for (int i = 0; i < kEvents; ++i) {
    GeneratedDecision decided(generator, *program);

    std::vector<std::string> mask_paths;
    for (std::string_view mask : kMaskChoices) {
      if (generator.Chance(0.15)) mask_paths.emplace_back(mask);
    }
    absl::StatusOr<AttributeMasks> masks = AttributeMasks::Create(mask_paths);
    ASSERT_TRUE(masks.ok()) << masks.status();

    std::unique_ptr<GeneratedDecision> shadow_decided;
    std::unique_ptr<ShadowDecision> shadow;
    if (generator.Chance(0.3)) {
      shadow_decided = std::make_unique<GeneratedDecision>(generator, *program);
      shadow = std::make_unique<ShadowDecision>(ShadowDecision{
          .program = *program,
          .frame = shadow_decided->frame,
          .decision =
              shadow_decided->status.ok() ? &shadow_decided->decision : nullptr,
          .status = shadow_decided->status,
          .differs = generator.Chance(0.5)});
    }

    const DecisionEvent event = decided.Event(
        static_cast<DecisionApi>(generator.Below(kDecisionApiCount)),
        StartNanos(generator), generator.Int64());
    const std::string expected =
        testing::ReferenceFormatDecisionLine(event, shadow.get(), *masks);
    const std::string actual = FormatDecisionLine(event, shadow.get(), *masks);
    ASSERT_EQ(actual, expected) << "event " << i;
    for (Reached& kind : reached) {
      if (expected.find(kind.text) != std::string::npos) ++kind.lines;
    }
  }
  for (const Reached& kind : reached) {
    EXPECT_GT(kind.lines, kEvents / 500) << "lines with " << kind.text;
  }
}

// Attribute paths where one is the parent of another, in every slot order.
// The compiler sorts slots by path, so only a program built by hand has a
// child before its parent, or a path without a dot.
TEST(DecisionLogLineDifferential, InputWithParentAndChildPaths) {
  std::vector<std::string> paths = {"a", "a.b", "a.b.c", "a.d", "x.y"};
  std::sort(paths.begin(), paths.end());
  do {
    Program program;
    program.revision = "r1";
    for (const std::string& path : paths) {
      program.slot_index[path] = static_cast<uint32_t>(program.slots.size());
      program.slots.push_back(SlotInfo{
          .path = path, .group = path.substr(0, 1), .type = Type::kString});
    }
    Frame frame;
    frame.Reset(program);
    RequestBuilder builder(program, frame);
    for (const std::string& path : paths) {
      ASSERT_TRUE(builder.SetString(path, absl::StrCat("v-", path)).ok());
    }
    const absl::Status invalid = absl::InvalidArgumentError("invalid");
    const DecisionEvent event{.api = DecisionApi::kDecide,
                              .program = program,
                              .frame = frame,
                              .decision = nullptr,
                              .status = invalid,
                              .start_nanos = 0,
                              .duration_nanos = 0,
                              .decode_again = DecodeNothing};
    const absl::StatusOr<AttributeMasks> masks = AttributeMasks::Create({});
    ASSERT_TRUE(masks.ok());
    EXPECT_EQ(FormatDecisionLine(event, nullptr, *masks),
              testing::ReferenceFormatDecisionLine(event, nullptr, *masks))
        << absl::StrJoin(paths, " ");
  } while (std::next_permutation(paths.begin(), paths.end()));
}

// Formats a line whose one string attribute is `text` with both formatters.
void ExpectSameLineForString(const Program& program, std::string_view text) {
  Frame frame;
  frame.Reset(program);
  RequestBuilder builder(program, frame);
  ASSERT_TRUE(builder.SetString("context.note", text).ok());
  builder.Finish(1'700'000'000);
  const Decision decision = Evaluate(program, frame);
  const absl::Status ok;
  const DecisionEvent event{.api = DecisionApi::kDecide,
                            .program = program,
                            .frame = frame,
                            .decision = &decision,
                            .status = ok,
                            .start_nanos = 0,
                            .duration_nanos = 0,
                            .decode_again = DecodeNothing};
  const absl::StatusOr<AttributeMasks> masks = AttributeMasks::Create({});
  ASSERT_TRUE(masks.ok());
  ASSERT_EQ(FormatDecisionLine(event, nullptr, *masks),
            testing::ReferenceFormatDecisionLine(event, nullptr, *masks))
      << absl::CHexEscape(ToAbsl(text));
}

TEST(DecisionLogLineDifferential, EscapesEveryTwoByteString) {
  const std::shared_ptr<const Program> program = SharedProgram();
  for (int first = 0; first < 256; ++first) {
    for (int second = 0; second < 256; ++second) {
      const char text[] = {static_cast<char>(first), static_cast<char>(second)};
      ExpectSameLineForString(*program, std::string_view(text, 2));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// Three and four bytes from the boundaries of the UTF-8 ranges, so that
// every lead byte meets valid and invalid continuations and ends.
TEST(DecisionLogLineDifferential, EscapesUtf8Boundaries) {
  const std::shared_ptr<const Program> program = SharedProgram();
  constexpr unsigned char kBytes[] = {0x00, 0x1f, 0x22, 0x41, 0x5c, 0x7f, 0x80,
                                      0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                      0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
                                      0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  for (unsigned char a : kBytes) {
    for (unsigned char b : kBytes) {
      for (unsigned char c : kBytes) {
        const char three[] = {static_cast<char>(a), static_cast<char>(b),
                              static_cast<char>(c)};
        ExpectSameLineForString(*program, std::string_view(three, 3));
        for (unsigned char d : {0x41, 0x80, 0xbf, 0xc3}) {
          const char four[] = {static_cast<char>(a), static_cast<char>(b),
                               static_cast<char>(c), static_cast<char>(d)};
          ExpectSameLineForString(*program, std::string_view(four, 4));
        }
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

}  // namespace
}  // namespace verdict::server
