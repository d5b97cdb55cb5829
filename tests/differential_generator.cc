// The random policy sets, requests and entity data of the differential
// test. The atoms together use every construct of the language.
//
// - Expressions: every operator and method, both spellings of the logical
//   operators, every literal form and constructor (string escapes,
//   durations, the int64 bounds), timestamps with UTC offsets.
// - Names: every attribute type, optional and nested attributes, constants
//   of this module and of another, patterns given as constants.
// - Data: joins for two groups and hierarchies for two groups.
// - Structure: policy sets nested two deep with each combining algorithm,
//   templates, obligations and advice that read attributes, and policies
//   without a condition.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/differential_case.h"

namespace verdict::testing {
namespace {

using Json = nlohmann::json;

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
schema resource from docs {
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
schema context { client.ip?: ip  client.port?: int }
schema action { name: string }
schema env { now: timestamp }
schema token { issued_at: timestamp  ttl: duration }
const EDITORS = ["r1", "r2"]
const ID_GLOB = "d*"
const DOC_SUFFIX = "/b"
)";

std::string Join(const std::vector<std::string>& terms) {
  std::string text = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) text += " and " + terms[i];
  return text;
}

}  // namespace

const char kLibraryModule[] = R"(module lib;
const ROLES = ["r1", "r3"]
const NETS = [cidr("10.0.0.0/8"), cidr("::ffff:192.168.0.0/112")]
)";

std::string Condition::Render() const {
  switch (kind) {
    case kAtom:
      return atom;
    case kNot:
      return (symbols ? "!(" : "not (") + children[0].Render() + ")";
    case kAnd:
    case kOr: {
      const char* op = kind == kAnd ? (symbols ? " && " : " and ")
                                    : (symbols ? " || " : " or ");
      return "(" + children[0].Render() + op + children[1].Render() + ")";
    }
  }
  return atom;
}

std::string GeneratedPolicy::Render() const {
  std::string text = std::string(forbid ? "forbid" : "permit") + " \"" + id + "\"";
  std::vector<std::string> terms = binding_terms;
  if (!data_set.empty()) {
    if (condition) terms.push_back("(" + condition->Render() + ")");
    text += " from " + data_set + " when { " + Join(terms) + " }\n";
  } else if (condition) {
    text += " when { " + condition->Render() + " }\n";
  } else {
    // A policy without a condition ends with ';' unless a duty follows.
    text += duties.empty() ? ";\n" : "\n";
  }
  for (const std::string& duty : duties) text += "  " + duty + "\n";
  return text;
}

std::string Member::Render() const {
  if (!is_set) return policy.Render();
  std::string text = "policyset \"" + set_id + "\" " + algorithm + " {\n";
  for (const Member& member : members) text += member.Render();
  return text + "}\n";
}

std::string DifferentialCase::PolicyFile() const {
  std::string text = in_module ? "module app;\n" : "";
  text += kSchema;
  for (const Member& member : members) text += member.Render();
  return text;
}

size_t DifferentialCase::PolicyCount() const {
  std::function<size_t(const std::vector<Member>&)> count =
      [&](const std::vector<Member>& members) {
        size_t n = 0;
        for (const Member& m : members) n += m.is_set ? count(m.members) : 1;
        return n;
      };
  return count(members);
}

int CaseGenerator::Uniform(int n) {
  return std::uniform_int_distribution<int>(0, n - 1)(random_);
}

std::string CaseGenerator::Atom() {
  const std::string integer = Pick<std::string>(
      {"0", "3", "-5", "100", "9223372036854775807", "-9223372036854775807"});
  switch (Uniform(66)) {
    case 0: return "action.name == \"" + Pick<std::string>({"a", "b", "c"}) + "\"";
    case 1: return "action.name in [\"a\", \"b\"]";
    case 2: return "resource.type == \"" + Pick<std::string>({"doc", "img"}) + "\"";
    case 3: return "\"" + Pick<std::string>({"r1", "r2", "r3"}) + "\" in subject.roles";
    case 4: return "subject.id in [\"u1\", \"u2\"]";
    case 5: return "subject has email";
    case 6: return "resource has owner and resource.owner == subject.id";
    case 7: return "subject has email and subject.email.endsWith(\"@x.com\")";
    case 8: return "subject has tenant and subject.tenant != \"t2\"";
    case 9: return "subject.level " + Pick<std::string>({">", "<=", "==", "!=", "<", ">="}) + " " + integer;
    case 10: return "subject.level + " + integer + " < " + integer;
    case 11: return "-subject.level < resource.size - " + integer;
    case 12: return Pick<std::string>({"subject.active", "subject.active == false"});
    case 13: return "resource.tags == [\"x\", \"y\"]";
    case 14: return "\"x\" in resource.tags";
    case 15: return "subject.id in resource.tags";
    case 16: return "resource.path == [\"a\", \"b\"]";
    case 17: return "resource.id.startsWith(\"d\")";
    case 58: return "resource.uri.startsWith(\"/docs/\")";
    case 59: return "token.ttl " + Pick<std::string>({">=", "<"}) + " duration(\"1h30m\")";
    case 60: return "token.ttl == 9m + 1m";
    case 61: return "action.name == \"\\u0061\"";
    case 62: return "resource.uri like \"/docs/\\\\*\"";
    case 63: return "subject.level > -9223372036854775808";
    case 64: return "subject.id in EDITORS";
    case 18: return "env.now - token.issued_at < " + Pick<std::string>({"300s", "5m", "0s", "1h", "1d"});
    case 19: return "token.ttl > 1m";
    case 20: return "subject.roles == EDITORS";
    case 21: return "source.ip in cidr(\"10.0.0.0/8\")";
    case 22: return "source.ip in [cidr(\"10.0.0.0/8\"), cidr(\"2001:db8::/32\")]";
    case 23: return "source.ip == ip(\"::ffff:10.1.2.3\")";
    case 24: return Pick<std::string>({"source.ip.isIpv4()", "source.ip.isIpv6()"});
    case 25: return "resource has net and source.ip in resource.net";
    case 26: return "resource.price < decimal(\"" + Pick<std::string>({"10.5", "-0.25", "3", "-0.05", "-0.5"}) + "\")";
    case 27: return "resource.price + decimal(\"0.0001\") > decimal(\"-0.5\")";
    case 28: return "subject.roles.containsAll([\"r1\", \"r3\"])";
    case 29: return "subject.roles.containsAny(EDITORS)";
    case 30: return "subject.roles.containsAny(resource.tags)";
    case 31: return "subject.roles.size() > 1";
    case 32: return "resource.uri like \"" + Pick<std::string>({"/docs/*", "/docs/**", "/d?cs/*", "/docs/**/b", "**/b"}) + "\"";
    case 33: return "resource.uri.matches(\"/d[a-z]*/.*\")";
    case 34: return "resource.uri.matchesTemplate(\"" + Pick<std::string>({"/docs/{id}", "/{a}/{b}"}) + "\")";
    case 35: return "subject in Group::\"" + Pick<std::string>({"g1", "g2", "all"}) + "\"";
    case 36: return "resource in Folder::\"" + Pick<std::string>({"f1", "root"}) + "\"";
    case 37: return "subject.roles.containsAll(lib::ROLES)";
    case 38: return "source.ip in lib::NETS";
    case 39: return "context has client.ip and context.client.ip == source.ip";
    case 40: return "context has client.ip and context.client.ip in cidr(\"::ffff:0:0/96\")";
    case 41: return "context has client.port and context.client.port " + Pick<std::string>({">", "=="}) + " 443";
    case 42: return "env.now " + Pick<std::string>({"<", ">=", "=="}) + " timestamp(\"" +
                    Pick<std::string>({"1970-01-01T00:20:00Z", "1970-01-01T05:50:00+05:30",
                                       "1969-12-31T23:50:00-00:30"}) + "\")";
    case 43: return "token.issued_at + token.ttl >= env.now";
    case 44: return "-resource.price " + Pick<std::string>({"<", ">"}) + " decimal(\"0.5\")";
    case 45: return "resource.price == decimal(\"" + Pick<std::string>({"-0.5", "-0.05", "3.0"}) + "\")";
    case 46: return "resource.id like ID_GLOB";
    case 47: return "resource.uri.endsWith(DOC_SUFFIX)";
    case 48: return "resource.tags != [\"y\", \"x\"]";
    case 49: return "resource.path != [\"b\", \"a\"]";
    case 50: return "resource.size + resource.size > " + integer;
    case 51: return "-(-subject.level) == subject.level";
    case 52: return "subject has email and subject.email like \"*@x.com\"";
    case 53: return "resource.uri.matches(\"(?i)/DOCS/[^/]+\")";
    case 54: return "subject.roles.containsAny([\"r3\"])";
    case 55: return "subject.type == \"user\"";
    case 56: return "resource has owner";
    case 57: return "source.ip != ip(\"10.1.2.3\")";
    default: return Pick<std::string>({"true", "false"});
  }
}

Condition CaseGenerator::MakeCondition(int depth) {
  Condition condition;
  if (depth == 0 || Uniform(3) == 0) {
    condition.atom = Atom();
    return condition;
  }
  condition.symbols = Uniform(4) == 0;
  switch (Uniform(3)) {
    case 0: condition.kind = Condition::kAnd; break;
    case 1: condition.kind = Condition::kOr; break;
    default:
      condition.kind = Condition::kNot;
      condition.children.push_back(MakeCondition(depth - 1));
      return condition;
  }
  condition.children.push_back(MakeCondition(depth - 1));
  condition.children.push_back(MakeCondition(depth - 1));
  return condition;
}

GeneratedPolicy CaseGenerator::Policy(int index) {
  GeneratedPolicy policy;
  policy.forbid = Uniform(3) == 0;
  policy.id = "p" + std::to_string(index);
  if (Uniform(5) == 0) {
    // A template, its binding terms anywhere in the top-level `and`.
    switch (Uniform(3)) {
      case 0:
        policy.data_set = "shares";
        policy.binding_terms = {"subject.id == ?user", "?doc == resource.id"};
        break;
      case 1:
        policy.data_set = "levels";
        policy.binding_terms = {"subject.level == ?lvl"};
        break;
      default:
        policy.data_set = "mails";
        policy.binding_terms = {"subject has email", "subject.email == ?mail",
                                "resource.id == ?doc"};
        break;
    }
    if (Uniform(2) == 0) policy.condition = MakeCondition(2);
    return policy;
  }
  if (Uniform(10) != 0) policy.condition = MakeCondition(3);
  const int duties = Uniform(6) == 0 ? 2 : Uniform(3) == 0 ? 1 : 0;
  for (int i = 0; i < duties; ++i) {
    policy.duties.push_back(Pick<std::string>(
        {"obligation \"log\" { who: subject.email }",
         "advice \"why\" { tenant: subject.tenant }",
         "obligation \"tag\" { kind: \"x\", n: 3 }",
         "obligation \"audit\" { roles: subject.roles, level: subject.level, "
         "active: subject.active }",
         "advice \"ctx\" { port: context.client.port, id: resource.id }"}));
  }
  if (policy.condition == std::nullopt && policy.duties.empty() &&
      Uniform(2) == 0) {
    policy.duties.push_back("obligation \"tag\" { kind: \"y\" }");
  }
  return policy;
}

std::vector<Member> CaseGenerator::Members(int count) {
  // Open sets, innermost last. Sets nest at most two levels deep.
  std::vector<Member> top;
  std::vector<Member> open;
  auto close = [&] {
    Member set = std::move(open.back());
    open.pop_back();
    (open.empty() ? top : open.back().members).push_back(std::move(set));
  };
  for (int i = 0; i < count; ++i) {
    if (open.size() < 2 && Uniform(4) == 0) {
      Member set;
      set.is_set = true;
      set.set_id = "s" + std::to_string(i);
      set.algorithm = Pick<std::string>(
          {"", "deny_overrides", "permit_overrides", "first_applicable"});
      open.push_back(std::move(set));
    } else if (!open.empty() && Uniform(4) == 0) {
      close();
    }
    Member member;
    member.policy = Policy(i);
    (open.empty() ? top : open.back().members).push_back(std::move(member));
  }
  while (!open.empty()) close();
  return top;
}

Json CaseGenerator::Request() {
  Json request = Json::object();
  request["attributes"] = Json::object();
  auto maybe = [&] { return Uniform(6) != 0; };  // attributes go missing
  Json subject = Json::object();
  if (maybe()) subject["id"] = Pick<std::string>({"u1", "u2", "u3", "zz"});
  if (maybe()) subject["type"] = Pick<std::string>({"user", "Group"});
  if (Uniform(8) == 0) {  // may contradict the users data set
    subject["roles"] = Pick<Json>({Json::array({"r2"}), Json::array({"r3", "r1", "r1"})});
  }
  if (Uniform(3) == 0) subject["level"] = Pick<int64_t>({0, 3, 100, -7, INT64_MIN});
  if (Uniform(4) == 0) subject["active"] = Uniform(2) == 0;
  request["subject"] = subject;
  if (maybe()) request["action"] = {{"name", Pick<std::string>({"a", "b", "c", "z"})}};
  Json resource = Json::object();
  if (maybe()) resource["type"] = Pick<std::string>({"doc", "img", "vid"});
  if (maybe()) resource["id"] = Pick<std::string>({"d1", "d2", "x1", "u1"});
  Json properties = Json::object();
  if (Uniform(3) == 0) properties["owner"] = Pick<std::string>({"u1", "u2"});
  if (maybe()) {
    properties["tags"] = Pick<Json>({Json::array({"x", "y"}), Json::array({"y", "x", "x"}),
                                     Json::array({"u1"}), Json::array()});
  }
  if (maybe()) properties["path"] = Pick<Json>({Json::array({"a", "b"}), Json::array({"b", "a"}), Json::array()});
  if (maybe()) properties["size"] = Pick<int64_t>({0, 10, INT64_MAX});
  if (maybe()) {
    properties["price"] = Pick<Json>({"-0.5", "-0.05", "10.5", "3", 7, "922337203685477.5807", "-0.0001"});
  }
  if (Uniform(2) == 0) properties["net"] = Pick<std::string>({"10.0.0.0/8", "2001:db8::/32", "::/0"});
  if (maybe()) {
    properties["uri"] = Pick<std::string>({"/docs/a", "/docs/a/b", "/x", "/docs/", "/dacs/q", "/DOCS/z", "/docs//b",
                           "/docs/../b", "/docs/%2E/b", "//docs/a", "/docs/a..b", "/docs/*"});
  }
  resource["properties"] = properties;
  request["resource"] = resource;
  if (maybe()) {
    request["attributes"]["source"] = {
        {"ip", Pick<std::string>({"10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1",
                                  "192.168.1.1", "::ffff:192.168.0.9"})}};
  }
  if (Uniform(3) == 0) {
    Json client = Json::object();
    if (maybe()) client["ip"] = Pick<std::string>({"10.1.2.3", "::ffff:10.1.2.3", "::1"});
    if (maybe()) client["port"] = Pick<int64_t>({443, 8443});
    request["attributes"]["context"] = {{"client", client}};
  }
  Json token = Json::object();
  if (maybe()) token["issued_at"] = Pick<Json>({1000, 1300, 999, INT64_MIN, "1970-01-01T05:50:00+05:30"});
  if (maybe()) token["ttl"] = Pick<int64_t>({30, 600, 5400, INT64_MAX});
  request["attributes"]["token"] = token;
  if (Uniform(4) == 0) {
    request["attributes"]["env"] = {{"now", Pick<Json>({1200, "1970-01-01T00:20:00Z", 601})}};
  }
  return request;
}

Json CaseGenerator::Data() {
  Json data = Json::object();
  data["users"] = Json::parse(R"({
    "u1": {"roles": ["r1", "r3"], "email": "u1@x.com", "level": 3, "tenant": "t1"},
    "u2": {"roles": ["r2"], "email": "u2@y.org", "active": true},
    "u3": {"roles": [], "level": 9223372036854775807}
  })");
  data["docs"] = Json::parse(R"({
    "d1": {"owner": "u1", "tags": ["x", "y"]},
    "d2": {"uri": "/docs/d2", "price": "-0.05"}
  })");
  data["entities"] = Json::parse(R"({
    "user::u1": ["Group::g1"], "user::u2": ["Group::g2", "Group::g1"],
    "Group::g1": ["Group::all"], "Group::g2": ["Group::all"],
    "doc::d1": ["Folder::f1"], "doc::d2": ["Folder::f2"],
    "Folder::f1": ["Folder::root"], "Folder::f2": ["Folder::root"]
  })");
  data["shares"] = Json::parse(R"([{"user": "u1", "doc": "d1"},
    {"user": "u2", "doc": "x1"}, {"user": "zz", "doc": "d1"},
    {"user": "u1", "doc": "u1"}])");
  data["levels"] = Json::parse(
      R"([{"lvl": 3}, {"lvl": -7}, {"lvl": 9223372036854775807}])");
  data["mails"] = Json::parse(R"([{"mail": "u1@x.com", "doc": "d1"},
    {"mail": "u2@y.org", "doc": "x1", "note": "ignored"}])");
  return data;
}

}  // namespace verdict::testing
