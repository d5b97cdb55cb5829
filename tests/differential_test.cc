// Differential test: the compiled DAG evaluator must agree with the
// tree-walking reference interpreter on generated policy sets and requests.
//
// Each round writes a random policy set over a fixed schema (covering every
// construct of the language: switches, set and list tests, guards, string
// methods, exact integer arithmetic with overflow, timestamps and
// durations, entity data joins), compiles it, and decides random requests,
// some with attributes missing, some contradicting entity data. Some
// policies are templates linked from data sets. Every
// fourth round compiles with a tiny node budget so that residual leaves are
// exercised too.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/compile.h"
#include "compiler/parser.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/reference_interpreter.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;

constexpr int kRounds = 250;
constexpr int kRequestsPerRound = 40;  // 10,000 cases in all

constexpr char kSchema[] = R"(
schema subject from users {
  type: string
  id: string
  roles: set<string>
  email?: string
  tenant?: string
  level: int
  active: bool
}
schema resource {
  type: string
  id: string
  owner?: string
  tags: set<string>
  path: list<string>
  size: int
  price: decimal
  net?: cidr
  uri: string
}
schema source { ip: ip }
schema action { name: string }
schema env { now: timestamp }
schema token { issued_at: timestamp  ttl: duration }
const EDITORS = ["r1", "r2"]
)";

// The records that link templates, by data set.
constexpr const char* kLinks[][2] = {
    {"shares", R"([{"user": "u1", "doc": "d1"}, {"user": "u2", "doc": "x1"},
                   {"user": "zz", "doc": "d1"}, {"user": "u1", "doc": "u1"}])"},
    {"levels", R"([{"lvl": 3}, {"lvl": -7}, {"lvl": 9223372036854775807}])"},
    {"mails", R"([{"mail": "u1@x.com", "doc": "d1"},
                  {"mail": "u2@y.org", "doc": "x1", "note": "ignored"}])"},
};

constexpr char kUsers[] = R"({
  "u1": {"roles": ["r1", "r3"], "email": "u1@x.com", "level": 3, "tenant": "t1"},
  "u2": {"roles": ["r2"], "email": "u2@y.org", "active": true},
  "u3": {"roles": [], "level": 9223372036854775807}
})";

class Generator {
 public:
  explicit Generator(uint64_t seed) : random_(seed) {}

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) { return items[Uniform(items.size())]; }

  std::string Atom();
  std::string Condition(int depth);
  std::string PolicySet(int count);
  nlohmann::json Request();

 private:
  std::string Integer() {
    return Pick<std::string>({"0", "3", "-5", "100", "9223372036854775807",
                              "-9223372036854775807"});
  }
  std::mt19937_64 random_;
};

std::string Generator::Atom() {
  switch (Uniform(37)) {
    case 0: return "action.name == \"" + Pick<std::string>({"a", "b", "c"}) + "\"";
    case 1: return "action.name in [\"a\", \"b\"]";
    case 2: return "resource.type == \"" + Pick<std::string>({"doc", "img"}) + "\"";
    case 3: return "\"" + Pick<std::string>({"r1", "r2", "r3"}) + "\" in subject.roles";
    case 4: return "subject.id in [\"u1\", \"u2\"]";
    case 5: return "subject has email";
    case 6: return "resource has owner and resource.owner == subject.id";
    case 7: return "subject has email and subject.email.endsWith(\"@x.com\")";
    case 8: return "subject has tenant and subject.tenant != \"t2\"";
    case 9: return "subject.level " + Pick<std::string>({">", "<=", "==", "!="}) + " " + Integer();
    case 10: return "subject.level + " + Integer() + " < " + Integer();
    case 11: return "-subject.level < resource.size - " + Integer();
    case 12: return Pick<std::string>({"subject.active", "subject.active == false"});
    case 13: return "resource.tags == [\"x\", \"y\"]";
    case 14: return "\"x\" in resource.tags";
    case 15: return "subject.id in resource.tags";
    case 16: return "resource.path == [\"a\", \"b\"]";
    case 17: return "resource.id.startsWith(\"d\")";
    case 18: return "env.now - token.issued_at < " + Pick<std::string>({"300s", "5m", "0s"});
    case 19: return "token.ttl > 1m";
    case 20: return "subject.roles == EDITORS";
    case 21: return "source.ip in cidr(\"10.0.0.0/8\")";
    case 22: return "source.ip in [cidr(\"10.0.0.0/8\"), cidr(\"2001:db8::/32\")]";
    case 23: return "source.ip == ip(\"::ffff:10.1.2.3\")";
    case 24: return Pick<std::string>({"source.ip.isIpv4()", "source.ip.isIpv6()"});
    case 25: return "resource has net and source.ip in resource.net";
    case 26: return "resource.price < decimal(\"" + Pick<std::string>({"10.5", "-0.25", "3"}) + "\")";
    case 27: return "resource.price + decimal(\"0.0001\") > decimal(\"-0.5\")";
    case 28: return "subject.roles.containsAll([\"r1\", \"r3\"])";
    case 29: return "subject.roles.containsAny(EDITORS)";
    case 30: return "subject.roles.containsAny(resource.tags)";
    case 31: return "subject.roles.size() > 1";
    case 32: return "resource.uri like \"" + Pick<std::string>({"/docs/*", "/docs/**", "/d?cs/*"}) + "\"";
    case 33: return "resource.uri.matches(\"/d[a-z]*/.*\")";
    case 34: return "resource.uri.matchesTemplate(\"/docs/{id}\")";
    case 35: return "subject in Group::\"" + Pick<std::string>({"g1", "g2", "all"}) + "\"";
    default: return Pick<std::string>({"true", "false"});
  }
}

std::string Generator::Condition(int depth) {
  if (depth == 0 || Uniform(3) == 0) return Atom();
  switch (Uniform(3)) {
    case 0: return "(" + Condition(depth - 1) + " and " + Condition(depth - 1) + ")";
    case 1: return "(" + Condition(depth - 1) + " or " + Condition(depth - 1) + ")";
    default: return "not (" + Condition(depth - 1) + ")";
  }
}

std::string Generator::PolicySet(int count) {
  std::string text;
  int open_sets = 0;
  for (int i = 0; i < count; ++i) {
    // Sometimes open or close a policy set, nesting up to two deep.
    if (open_sets < 2 && Uniform(5) == 0) {
      text += "policyset \"s" + std::to_string(i) + "\" " +
              Pick<std::string>({"", "deny_overrides", "permit_overrides",
                                 "first_applicable"}) +
              " {\n";
      ++open_sets;
    } else if (open_sets > 0 && Uniform(4) == 0) {
      text += "}\n";
      --open_sets;
    }
    text += Uniform(3) == 0 ? "forbid" : "permit";
    text += " \"p" + std::to_string(i) + "\"";
    if (Uniform(5) == 0) {
      // A template, its binding terms anywhere in the top-level `and`.
      std::vector<std::string> terms = Pick<std::vector<std::string>>(
          {{"subject.id == ?user", "?doc == resource.id"},
           {"subject.level == ?lvl"},
           {"subject has email", "subject.email == ?mail", "resource.id == ?doc"}});
      const char* data_set = terms[0].find("?user") != std::string::npos ? "shares"
                             : terms.size() == 1                         ? "levels"
                                                                         : "mails";
      if (Uniform(2) == 0) {
        terms.insert(terms.begin() + Uniform(terms.size() + 1),
                     "(" + Condition(2) + ")");
      }
      std::string condition = terms[0];
      for (size_t t = 1; t < terms.size(); ++t) condition += " and " + terms[t];
      text += std::string(" from ") + data_set + " when { " + condition + " }\n";
      continue;
    }
    std::string duty;
    if (Uniform(4) == 0) {
      duty = Pick<std::string>({"  obligation \"log\" { who: subject.email }\n",
                                "  advice \"why\" { tenant: subject.tenant }\n",
                                "  obligation \"tag\" { kind: \"x\", n: 3 }\n"});
    }
    if (Uniform(10) == 0) {
      // A policy without a condition ends with ';' unless a duty follows.
      text += duty.empty() ? ";\n" : "\n" + duty;
    } else {
      text += " when { " + Condition(3) + " }\n" + duty;
    }
  }
  for (; open_sets > 0; --open_sets) text += "}\n";
  return text;
}

nlohmann::json Generator::Request() {
  using Json = nlohmann::json;
  Json request = Json::object();
  request["attributes"] = Json::object();
  auto maybe = [&] { return Uniform(6) != 0; };  // attributes go missing
  Json subject = Json::object();
  if (maybe()) subject["id"] = Pick<std::string>({"u1", "u2", "u3", "zz"});
  if (maybe()) subject["type"] = Pick<std::string>({"user", "Group"});
  if (Uniform(8) == 0) subject["roles"] = Json::array({"r2"});  // may conflict
  if (Uniform(3) == 0) subject["level"] = Pick<int64_t>({0, 3, 100, -7, INT64_MIN});
  if (Uniform(4) == 0) subject["active"] = Uniform(2) == 0;
  request["subject"] = subject;
  if (maybe()) request["action"] = {{"name", Pick<std::string>({"a", "b", "c", "z"})}};
  Json resource = Json::object();
  if (maybe()) resource["type"] = Pick<std::string>({"doc", "img", "vid"});
  if (maybe()) resource["id"] = Pick<std::string>({"d1", "x1", "u1"});
  Json properties = Json::object();
  if (Uniform(2) == 0) properties["owner"] = Pick<std::string>({"u1", "u2"});
  if (maybe()) {
    properties["tags"] = Pick<Json>({Json::array({"x", "y"}), Json::array({"y", "x", "x"}),
                                     Json::array({"u1"}), Json::array()});
  }
  if (maybe()) properties["path"] = Pick<Json>({Json::array({"a", "b"}), Json::array({"b", "a"}), Json::array()});
  if (maybe()) properties["size"] = Pick<int64_t>({0, 10, INT64_MAX});
  if (maybe()) properties["price"] = Pick<Json>({"-0.5", "10.5", "3", 7, "922337203685477.5807"});
  if (Uniform(2) == 0) properties["net"] = Pick<std::string>({"10.0.0.0/8", "2001:db8::/32"});
  if (maybe()) properties["uri"] = Pick<std::string>({"/docs/a", "/docs/a/b", "/x", "/docs/", "/dacs/q"});
  resource["properties"] = properties;
  request["resource"] = resource;
  if (maybe()) {
    request["attributes"]["source"] = {
        {"ip", Pick<std::string>({"10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1",
                                  "192.168.1.1"})}};
  }
  Json token = Json::object();
  if (maybe()) token["issued_at"] = Pick<int64_t>({1000, 1300, 999, INT64_MIN});
  if (maybe()) token["ttl"] = Pick<int64_t>({30, 600});
  request["attributes"]["token"] = token;
  if (Uniform(5) == 0) request["attributes"]["env"] = {{"now", 1200}};
  return request;
}

// Parses and checks the files of `dir` the way the compiler driver does, for
// the reference interpreter.
struct Checked {
  std::vector<std::unique_ptr<compiler::SourceFile>> sources;
  std::vector<compiler::FileAst> files;
  compiler::CheckedSet set;
};

std::unique_ptr<Checked> CheckDirectory(const fs::path& file) {
  auto checked = std::make_unique<Checked>();
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  checked->sources.push_back(
      std::make_unique<compiler::SourceFile>(file.string(), text.str()));
  compiler::Diagnostics diagnostics;
  checked->files.push_back(
      compiler::ParseFile(*checked->sources.back(), diagnostics));
  checked->set = compiler::Check(checked->files, diagnostics);
  EXPECT_FALSE(diagnostics.has_errors()) << diagnostics.Render();
  return checked;
}

std::set<std::string> PolicyIds(const Program& program,
                                std::span<const uint32_t> policies) {
  std::set<std::string> ids;
  for (uint32_t policy : policies) ids.insert(program.policies[policy].id);
  return ids;
}

TEST(Differential, DagAgreesWithReferenceInterpreter) {
  fs::path dir = fs::temp_directory_path() /
                 ("verdict-differential-" + std::to_string(::getpid()));
  fs::create_directories(dir / "policies");
  fs::create_directories(dir / "data");
  std::ofstream(dir / "data" / "users.json") << kUsers;
  std::ofstream(dir / "data" / "entities.json")
      << R"({"user::u1": ["Group::g1"], "user::u2": ["Group::g2", "Group::g1"],
             "Group::g1": ["Group::all"], "Group::g2": ["Group::all"]})";
  testing::ReferenceLinks links;
  for (const auto& [name, text] : kLinks) {
    std::ofstream(dir / "data" / (std::string(name) + ".json")) << text;
    for (const nlohmann::json& record : nlohmann::json::parse(text)) {
      std::map<std::string, std::string> fields;
      for (const auto& [field, value] : record.items()) {
        fields[field] = value.is_string() ? value.get<std::string>() : value.dump();
      }
      links[name].push_back(std::move(fields));
    }
  }
  Generator generator(20261204);
  Frame frame;
  int cases = 0;
  int permits = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string policies = generator.PolicySet(1 + generator.Uniform(8));
    fs::path file = dir / "policies" / "generated.verdict";
    std::ofstream(file) << kSchema << policies;
    compiler::CompileOptions options;
    if (round % 4 == 3) options.max_dag_nodes = 4;
    absl::StatusOr<compiler::Compilation> compilation = compiler::CompileDirectory(
        (dir / "policies").string(), (dir / "data").string(), options);
    ASSERT_TRUE(compilation.ok()) << compilation.status();
    ASSERT_NE(compilation->program, nullptr)
        << compilation->diagnostics << "\n" << policies;
    const Program& program = *compilation->program;
    std::unique_ptr<Checked> checked = CheckDirectory(file);
    for (int i = 0; i < kRequestsPerRound; ++i) {
      nlohmann::json request = generator.Request();
      ASSERT_TRUE(DecodeJsonRequest(program, request.dump(), 1000, frame).ok())
          << request.dump();
      Decision decision = Evaluate(program, frame);
      testing::ReferenceDecision expected =
          testing::ReferenceEvaluate(checked->set, program, frame, links);
      std::set<std::string> errored;
      for (const ErroredPolicy& error : decision.errors) {
        errored.insert(program.policies[error.policy].id);
      }
      SCOPED_TRACE(policies + "\nrequest: " + request.dump());
      ASSERT_EQ(decision.permit, expected.permit);
      ASSERT_EQ(PolicyIds(program, decision.determining), expected.determining);
      ASSERT_EQ(errored, expected.errored);
      ++cases;
      permits += decision.permit;
    }
  }
  fs::remove_all(dir);
  EXPECT_EQ(cases, kRounds * kRequestsPerRound);
  // The generator must produce both outcomes often enough to mean something.
  EXPECT_GT(permits, cases / 20);
  EXPECT_LT(permits, cases - cases / 20);
}

}  // namespace
}  // namespace verdict
