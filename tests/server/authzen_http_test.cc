// End-to-end tests of the AuthZEN HTTP API of `verdict serve`. They start
// the real binary with the HTTP listener on an ephemeral loopback port and
// send every case of the OpenID AuthZEN interop files over HTTP. They also
// check what the interop files do not cover: errors, batch semantics,
// pagination, metadata and X-Request-ID.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "server/json_convert.h"
#include "verdict/v1/verdict.grpc.pb.h"

extern char** environ;

namespace verdict::server {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kExitTimeout = std::chrono::seconds(15);

fs::path ExamplesDir() { return VERDICT_EXAMPLES_DIR; }
fs::path InteropDir() { return VERDICT_INTEROP_DIR; }

std::string ReadText(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A `verdict serve` process with its HTTP listener on a port the OS chose.
// The destructor stops it with SIGTERM (only this PID), then SIGKILL if it
// has not exited after kExitTimeout.
class ServeProcess {
 public:
  ServeProcess(const fs::path& policies, const fs::path& data,
               const std::string& name) {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("verdict-authzen-http-", name, "-", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string port_file = (dir_ / "http-port").string();
    const std::string grpc_port_file = (dir_ / "grpc-port").string();
    std::vector<std::string> args = {
        VERDICT_BINARY,     "serve",        "--policies",    policies.string(),
        "--data",           data.string(),  "--listen",      "127.0.0.1:0",
        "--port-file",      grpc_port_file, "--http-listen", "127.0.0.1:0",
        "--http-port-file", port_file};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string log = (dir_ / "serve.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);

    const Clock::time_point deadline = Clock::now() + kStartTimeout;
    while (pid_ > 0 && port_ == 0 && Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::string text = ReadText(port_file);
      if (!text.empty() && text.back() == '\n') {
        text.pop_back();
        if (!absl::SimpleAtoi(text, &port_)) port_ = 0;
      }
      if (port_ == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The gRPC port file is written before the HTTP listener starts.
    std::string grpc_port = ReadText(grpc_port_file);
    if (!absl::SimpleAtoi(grpc_port, &grpc_port_)) grpc_port_ = 0;
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      const Clock::time_point deadline = Clock::now() + kExitTimeout;
      int status = 0;
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
          kill(pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  int port() const { return port_; }
  int grpc_port() const { return grpc_port_; }
  std::string Log() const { return ReadText(dir_ / "serve.log"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int grpc_port_ = 0;
};

// One server per scenario, started when a test first needs it and stopped
// when the test program ends.
struct Scenario {
  const char* name;
  const char* policies;  // under ExamplesDir()
  const char* data;
};

constexpr Scenario kTodo = {"todo", "authzen-todo/policies",
                            "authzen-todo/data"};
// The pre-1.0 drafts name the subject by email and pass the opaque user id
// as subject.identity, so the same policies join users keyed by email.
constexpr Scenario kTodoByEmail = {"todo-by-email", "authzen-todo/policies",
                                   "authzen-todo/data-by-email"};
constexpr Scenario kSearch = {"search", "authzen-search/policies",
                              "authzen-search/data"};
constexpr Scenario kIdp = {"idp", "authzen-idp/policies", "authzen-idp/data"};

ServeProcess& ServerFor(const Scenario& scenario) {
  static auto* servers =
      new std::map<std::string, std::unique_ptr<ServeProcess>>;
  std::unique_ptr<ServeProcess>& server = (*servers)[scenario.name];
  if (server == nullptr) {
    server = std::make_unique<ServeProcess>(ExamplesDir() / scenario.policies,
                                            ExamplesDir() / scenario.data,
                                            scenario.name);
    // Stops every server before the test program exits.
    static bool registered = [] {
      std::atexit([] { servers->clear(); });
      return true;
    }();
    (void)registered;
  }
  return *server;
}

// The response to one request, or a failed transport.
struct Reply {
  int status = 0;
  Json body;
  std::string request_id;
};

Reply SendTo(int port, const std::string& method, const std::string& path,
             const std::string& body, const httplib::Headers& headers = {}) {
  Reply reply;
  if (port == 0) return reply;
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  httplib::Result result =
      method == "GET"   ? client.Get(path, headers)
      : method == "PUT" ? client.Put(path, headers, body, "application/json")
                        : client.Post(path, headers, body, "application/json");
  if (!result) return reply;
  reply.status = result->status;
  reply.body = Json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  reply.request_id = result->get_header_value("X-Request-ID");
  return reply;
}

Reply Send(const Scenario& scenario, const std::string& method,
           const std::string& path, const std::string& body,
           const httplib::Headers& headers = {}) {
  return SendTo(ServerFor(scenario).port(), method, path, body, headers);
}

// ---------------------------------------------------------------------------
// The interop files, one test per case.

enum class Endpoint { kEvaluation, kEvaluations, kSubject, kResource, kAction };

struct InteropFile {
  const char* file;
  const char* member;  // the array of cases in the file
  Endpoint endpoint;
  const Scenario* scenario;
  const char* tag;
};

const InteropFile kInteropFiles[] = {
    {"authzen-todo-backend__test__decisions.json", "decisions",
     Endpoint::kEvaluation, &kTodoByEmail, "todo_pre_1_0"},
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-00.json",
     "evaluation", Endpoint::kEvaluation, &kTodoByEmail, "todo_1_0_00"},
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-01.json",
     "evaluation", Endpoint::kEvaluation, &kTodo, "todo_1_0_01"},
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-02.json",
     "evaluation", Endpoint::kEvaluation, &kTodo, "todo_1_0_02"},
    {"authzen-todo-backend__test__decisions-authorization-api-1_0-02.json",
     "evaluations", Endpoint::kEvaluations, &kTodo, "todo_1_0_02_batch"},
    {"authzen-api-gateways__test-harness__test__decisions.json", "evaluation",
     Endpoint::kEvaluation, &kTodo, "gateway"},
    {"authzen-search-demo__test__subject__results.json", "evaluation",
     Endpoint::kSubject, &kSearch, "search_subject"},
    {"authzen-search-demo__test__resource__results.json", "evaluation",
     Endpoint::kResource, &kSearch, "search_resource"},
    {"authzen-search-demo__test__action__results.json", "evaluation",
     Endpoint::kAction, &kSearch, "search_action"},
    {"authzen-idp__test-harness__src__results.json", "search",
     Endpoint::kResource, &kIdp, "idp_resource"},
};

const char* PathOf(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kEvaluation:
      return "/access/v1/evaluation";
    case Endpoint::kEvaluations:
      return "/access/v1/evaluations";
    case Endpoint::kSubject:
      return "/access/v1/search/subject";
    case Endpoint::kResource:
      return "/access/v1/search/resource";
    case Endpoint::kAction:
      return "/access/v1/search/action";
  }
  return "";
}

struct InteropCase {
  const InteropFile* file;
  size_t index;
  std::string name;
};

const Json& InteropJson(const std::string& file) {
  static auto* cache = new std::map<std::string, Json>;
  auto it = cache->find(file);
  if (it == cache->end()) {
    it = cache
             ->emplace(file, Json::parse(ReadText(InteropDir() / file), nullptr,
                                         /*allow_exceptions=*/false))
             .first;
  }
  return it->second;
}

std::vector<InteropCase> AllInteropCases() {
  std::vector<InteropCase> cases;
  for (const InteropFile& file : kInteropFiles) {
    const Json& json = InteropJson(file.file);
    const size_t count = json.is_object() && json.contains(file.member)
                             ? json[file.member].size()
                             : 0;
    if (count == 0) {
      // One case that fails, so that a missing or empty file is seen.
      cases.push_back({&file, 0, absl::StrCat(file.tag, "_missing")});
    }
    for (size_t i = 0; i < count; ++i) {
      cases.push_back({&file, i, absl::StrCat(file.tag, "_", i)});
    }
  }
  return cases;
}

// Search results in a canonical order: the Search API leaves the order of
// results to the PDP, so two result lists match when they hold the same
// entries.
Json Sorted(Json results) {
  if (!results.is_array()) return results;
  std::sort(results.begin(), results.end(),
            [](const Json& a, const Json& b) { return a.dump() < b.dump(); });
  return results;
}

class InteropHttpTest : public ::testing::TestWithParam<InteropCase> {};

TEST_P(InteropHttpTest, MatchesExpected) {
  const InteropCase& param = GetParam();
  const Json& file = InteropJson(param.file->file);
  ASSERT_TRUE(file.is_object()) << "cannot read " << param.file->file;
  ASSERT_TRUE(file.contains(param.file->member))
      << param.file->file << " has no member " << param.file->member;
  const Json& entry = file[param.file->member][param.index];
  const Json& expected = entry["expected"];

  Reply reply = Send(*param.file->scenario, "POST",
                     PathOf(param.file->endpoint), entry["request"].dump());
  ASSERT_EQ(reply.status, 200) << reply.body.dump() << "\nserver log:\n"
                               << ServerFor(*param.file->scenario).Log();
  switch (param.file->endpoint) {
    case Endpoint::kEvaluation:
      EXPECT_EQ(reply.body["decision"], expected) << reply.body.dump(2);
      break;
    case Endpoint::kEvaluations: {
      ASSERT_TRUE(reply.body["evaluations"].is_array()) << reply.body.dump();
      Json decisions = Json::array();
      for (const Json& item : reply.body["evaluations"]) {
        decisions.push_back({{"decision", item["decision"]}});
      }
      EXPECT_EQ(decisions, expected) << reply.body.dump(2);
      break;
    }
    default:
      EXPECT_EQ(Sorted(reply.body["results"]), Sorted(expected["results"]))
          << reply.body.dump(2);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Interop, InteropHttpTest,
                         ::testing::ValuesIn(AllInteropCases()),
                         [](const ::testing::TestParamInfo<InteropCase>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------
// Protocol behaviour.

constexpr char kRickId[] =
    "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
constexpr char kBethId[] =
    "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

Json TodoRequest(const std::string& user, const std::string& action) {
  return {{"subject", {{"type", "user"}, {"id", user}}},
          {"action", {{"name", action}}},
          {"resource", {{"type", "todo"}, {"id", "1"}}}};
}

TEST(AuthzenHttp, EvaluationReturnsDecisionContext) {
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluation",
                     TodoRequest(kRickId, "can_create_todo").dump());
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["decision"], true);
  EXPECT_EQ(reply.body["context"]["reasons"],
            Json::array({"permit:create-todo"}));
  EXPECT_TRUE(reply.body["context"]["decision_id"].is_string());
  EXPECT_TRUE(reply.body["context"]["revision"].is_string());
}

TEST(AuthzenHttp, DenyIsStatus200) {
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluation",
                     TodoRequest(kBethId, "can_create_todo").dump());
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["decision"], false);
}

TEST(AuthzenHttp, EchoesRequestId) {
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluation",
                     TodoRequest(kRickId, "can_read_todos").dump(),
                     {{"X-Request-ID", "trace-42"}});
  EXPECT_EQ(reply.request_id, "trace-42");
  Reply error = Send(kTodo, "POST", "/access/v1/evaluation", "{",
                     {{"X-Request-ID", "trace-43"}});
  EXPECT_EQ(error.request_id, "trace-43");
  Reply missing =
      Send(kTodo, "GET", "/no/such/path", "", {{"X-Request-ID", "trace-44"}});
  EXPECT_EQ(missing.request_id, "trace-44");
}

struct BadRequestCase {
  const char* name;
  std::string body;
  const char* message;  // expected in error.message
};

TEST(AuthzenHttp, InvalidRequestsAre400) {
  Json no_subject = TodoRequest(kRickId, "can_read_todos");
  no_subject.erase("subject");
  Json id_number = TodoRequest(kRickId, "can_read_todos");
  id_number["subject"]["id"] = 7;
  Json action_string = TodoRequest(kRickId, "can_read_todos");
  action_string["action"] = "read";
  Json extra = TodoRequest(kRickId, "can_read_todos");
  extra["subjects"] = Json::object();
  Json context_array = TodoRequest(kRickId, "can_read_todos");
  context_array["context"] = Json::array();
  const BadRequestCase cases[] = {
      {"malformed", "{\"subject\": ", "not valid JSON"},
      {"array", "[]", "must be a JSON object"},
      {"no_subject", no_subject.dump(), "missing member \"subject\""},
      {"id_number", id_number.dump(), "\"subject.id\" must be a string"},
      {"action_string", action_string.dump(), "\"action\" must be an object"},
      {"unknown_member", extra.dump(), "unknown member \"subjects\""},
      {"context_array", context_array.dump(), "\"context\" must be an object"},
      {"too_deep", std::string(100, '[') + std::string(100, ']'),
       "deeper than"},
  };
  for (const BadRequestCase& c : cases) {
    SCOPED_TRACE(c.name);
    Reply reply = Send(kTodo, "POST", "/access/v1/evaluation", c.body);
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(reply.body["error"]["code"], 400);
    EXPECT_NE(reply.body["error"]["message"].get<std::string>().find(c.message),
              std::string::npos)
        << reply.body.dump();
  }
}

TEST(AuthzenHttp, UnknownPathIs404) {
  Reply reply = Send(kTodo, "POST", "/access/v2/evaluation", "{}");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body["error"]["code"], 404);
}

TEST(AuthzenHttp, WrongMethodIs405) {
  Reply get = Send(kTodo, "GET", "/access/v1/evaluation", "");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.body["error"]["code"], 405);
  Reply put = Send(kTodo, "PUT", "/access/v1/evaluations", "{}");
  EXPECT_EQ(put.status, 405);
  Reply post = Send(kTodo, "POST", "/.well-known/authzen-configuration", "");
  EXPECT_EQ(post.status, 405);
}

TEST(AuthzenHttp, OversizedBodyIs413) {
  std::string body = absl::StrCat("{\"context\": {\"padding\": \"",
                                  std::string(17 << 20, 'x'), "\"}}");
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluation", body);
  EXPECT_EQ(reply.status, 413);
}

// cpp-httplib limits form-encoded bodies, which curl -d sends, to 8 KiB.
// The 413 must tell the caller to send JSON rather than blame the body
// limit.
TEST(AuthzenHttp, LargeFormEncodedBodyNamesContentType) {
  const std::string body =
      TodoRequest(kRickId, "can_read_todos").dump() + std::string(9000, ' ');
  httplib::Client client("127.0.0.1", ServerFor(kTodo).port());
  client.set_read_timeout(10, 0);
  httplib::Result form = client.Post("/access/v1/evaluation", body,
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 413);
  EXPECT_NE(form->body.find("Content-Type: application/json"),
            std::string::npos)
      << form->body;
  Reply json = Send(kTodo, "POST", "/access/v1/evaluation", body);
  EXPECT_EQ(json.status, 200) << json.body.dump();
}

Json Batch(const std::string& semantic) {
  Json batch = {{"subject", {{"type", "user"}, {"id", kBethId}}},
                {"resource", {{"type", "todo"}, {"id", "1"}}},
                {"evaluations",
                 {{{"action", {{"name", "can_read_todos"}}}},
                  {{"action", {{"name", "can_create_todo"}}}},
                  {{"action", {{"name", "can_read_user"}}}}}}};
  if (!semantic.empty()) {
    batch["options"] = {{"evaluations_semantic", semantic}};
  }
  return batch;
}

std::vector<bool> Decisions(const Reply& reply) {
  std::vector<bool> decisions;
  for (const Json& item : reply.body["evaluations"]) {
    decisions.push_back(item["decision"].get<bool>());
  }
  return decisions;
}

TEST(AuthzenHttp, EvaluationsSemantics) {
  Reply all = Send(kTodo, "POST", "/access/v1/evaluations",
                   Batch("execute_all").dump());
  ASSERT_EQ(all.status, 200) << all.body.dump();
  EXPECT_EQ(Decisions(all), (std::vector<bool>{true, false, true}));
  Reply by_default =
      Send(kTodo, "POST", "/access/v1/evaluations", Batch("").dump());
  EXPECT_EQ(Decisions(by_default), (std::vector<bool>{true, false, true}));
  Reply deny = Send(kTodo, "POST", "/access/v1/evaluations",
                    Batch("deny_on_first_deny").dump());
  EXPECT_EQ(Decisions(deny), (std::vector<bool>{true, false}));
  Reply permit = Send(kTodo, "POST", "/access/v1/evaluations",
                      Batch("permit_on_first_permit").dump());
  EXPECT_EQ(Decisions(permit), (std::vector<bool>{true}));
  Reply bad = Send(kTodo, "POST", "/access/v1/evaluations",
                   Batch("first_permit").dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body["error"]["message"].get<std::string>().find(
                "evaluations_semantic"),
            std::string::npos);
}

TEST(AuthzenHttp, EvaluationsItemErrorIsDeny) {
  Json batch = Batch("");
  batch["evaluations"][1]["subject"] = {{"type", "user"}};
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluations", batch.dump());
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(Decisions(reply), (std::vector<bool>{true, false, true}));
  EXPECT_NE(reply.body["evaluations"][1]["context"]["error"]["message"]
                .get<std::string>()
                .find("evaluations[1]: missing member \"subject.id\""),
            std::string::npos)
      << reply.body.dump();
}

TEST(AuthzenHttp, EvaluationsWithoutItemsIsOneDecision) {
  Json batch = TodoRequest(kRickId, "can_create_todo");
  Reply reply = Send(kTodo, "POST", "/access/v1/evaluations", batch.dump());
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["decision"], true);
}

TEST(AuthzenHttp, SearchPagesCoverAllResults) {
  Json request = {{"subject", {{"type", "user"}, {"id", "alice"}}},
                  {"action", {{"name", "view"}}},
                  {"resource", {{"type", "record"}}}};
  Reply whole =
      Send(kSearch, "POST", "/access/v1/search/resource", request.dump());
  ASSERT_EQ(whole.status, 200) << whole.body.dump();
  ASSERT_EQ(whole.body["results"].size(), 20u);
  EXPECT_EQ(whole.body["page"]["next_token"], "");

  Json paged = Json::array();
  std::string token;
  int pages = 0;
  do {
    request["page"] = {{"limit", 6}, {"token", token}};
    Reply reply =
        Send(kSearch, "POST", "/access/v1/search/resource", request.dump());
    ASSERT_EQ(reply.status, 200) << reply.body.dump();
    EXPECT_LE(reply.body["results"].size(), 6u);
    EXPECT_EQ(reply.body["page"]["count"], reply.body["results"].size());
    for (const Json& result : reply.body["results"]) paged.push_back(result);
    token = reply.body["page"]["next_token"].get<std::string>();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(paged, whole.body["results"]);
}

TEST(AuthzenHttp, SearchRejectsBadPage) {
  Json request = {{"subject", {{"type", "user"}, {"id", "alice"}}},
                  {"action", {{"name", "view"}}},
                  {"resource", {{"type", "record"}}},
                  {"page", {{"limit", 0}}}};
  Reply limit =
      Send(kSearch, "POST", "/access/v1/search/resource", request.dump());
  EXPECT_EQ(limit.status, 400);
  request["page"] = {{"token", "not a token!"}};
  Reply token =
      Send(kSearch, "POST", "/access/v1/search/resource", request.dump());
  EXPECT_EQ(token.status, 400);
}

TEST(AuthzenHttp, SearchNeedsSearchedType) {
  Json request = {{"subject", {{"type", "user"}, {"id", "alice"}}},
                  {"action", {{"name", "view"}}},
                  {"resource", {{"id", "101"}}}};
  Reply reply =
      Send(kSearch, "POST", "/access/v1/search/resource", request.dump());
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(
      reply.body["error"]["message"].get<std::string>().find("resource.type"),
      std::string::npos);
}

TEST(AuthzenHttp, MetadataListsEndpoints) {
  ServeProcess& server = ServerFor(kTodo);
  Reply reply = Send(kTodo, "GET", "/.well-known/authzen-configuration", "");
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  const std::string base = absl::StrCat("http://127.0.0.1:", server.port());
  EXPECT_EQ(reply.body["policy_decision_point"], base);
  EXPECT_EQ(reply.body["access_evaluation_endpoint"],
            base + "/access/v1/evaluation");
  EXPECT_EQ(reply.body["access_evaluations_endpoint"],
            base + "/access/v1/evaluations");
  EXPECT_EQ(reply.body["search_subject_endpoint"],
            base + "/access/v1/search/subject");
  EXPECT_EQ(reply.body["search_resource_endpoint"],
            base + "/access/v1/search/resource");
  EXPECT_EQ(reply.body["search_action_endpoint"],
            base + "/access/v1/search/action");
}

// Returns the revision gRPC Decide reports for `request`, or "" on error.
std::string GrpcRevision(int port, const Json& request) {
  absl::StatusOr<v1::DecideRequest> decide = JsonToDecideRequest(request);
  if (!decide.ok()) return "";
  std::unique_ptr<v1::Verdict::Stub> stub = v1::Verdict::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::DecideResponse response;
  if (!stub->Decide(&context, *decide, &response).ok()) return "";
  return response.revision();
}

TEST(AuthzenHttp, ReloadReachesHttpAndGrpc) {
  const fs::path dir = fs::temp_directory_path() /
                       absl::StrCat("verdict-authzen-reload-", getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(ExamplesDir() / "authzen-todo" / "policies", dir / "policies",
           fs::copy_options::recursive);
  fs::copy(ExamplesDir() / "authzen-todo" / "data", dir / "data",
           fs::copy_options::recursive);
  ServeProcess server(dir / "policies", dir / "data", "reload");
  ASSERT_NE(server.port(), 0) << server.Log();
  ASSERT_NE(server.grpc_port(), 0) << server.Log();

  const Json request = TodoRequest(kBethId, "can_archive_todo");
  Reply before =
      SendTo(server.port(), "POST", "/access/v1/evaluation", request.dump());
  ASSERT_EQ(before.status, 200) << before.body.dump();
  EXPECT_EQ(before.body["decision"], false);
  const std::string old_revision = before.body["context"]["revision"];
  EXPECT_EQ(GrpcRevision(server.grpc_port(), request), old_revision);

  std::ofstream(dir / "policies" / "archive.verdict")
      << "permit \"archive-todo\" when { action.name == \"can_archive_todo\" "
         "}\n";
  Reply after;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(15);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after =
        SendTo(server.port(), "POST", "/access/v1/evaluation", request.dump());
  } while (after.body["decision"] != true && Clock::now() < deadline);
  EXPECT_EQ(after.body["decision"], true) << server.Log();
  const std::string new_revision = after.body["context"]["revision"];
  EXPECT_NE(new_revision, old_revision);
  EXPECT_EQ(GrpcRevision(server.grpc_port(), request), new_revision);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace verdict::server
