// Tests of the playground's JSON endpoints against a real HttpServer on
// 127.0.0.1 with an ephemeral port: compile diagnostics, decisions with the
// DAG walk, explanations, the DAG drawing and test case runs.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "playground/assets.h"
#include "playground/playground_http.h"
#include "playground/workspace.h"
#include "server/http_server.h"

namespace verdict::playground {
namespace {

using Json = nlohmann::json;

constexpr char kAliceEditsOwnDoc[] = R"({
  "subject": {"type": "user", "id": "alice"},
  "action": {"name": "edit"},
  "resource": {"type": "doc", "id": "d1", "properties": {"owner": "alice"}}})";

constexpr char kAliceEditsOtherDoc[] = R"({
  "subject": {"type": "user", "id": "alice"},
  "action": {"name": "edit"},
  "resource": {"type": "doc", "id": "d1", "properties": {"owner": "bob"}}})";

Workspace Quickstart() {
  absl::StatusOr<Workspace> workspace = ExampleWorkspace("quickstart");
  EXPECT_TRUE(workspace.ok()) << workspace.status();
  return workspace.ok() ? *workspace : Workspace{};
}

// A playground served on 127.0.0.1 with an OS-chosen port, and a client.
class PlaygroundHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PlaygroundOptions options;
    options.initial = Quickstart();
    options.initial_name = "quickstart";
    playground_ = std::make_unique<Playground>(std::move(options));
    server::HttpOptions http;
    http.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<server::HttpServer>(http);
    playground_->Register(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  void TearDown() override { server_->Stop(); }

  // Posts `body` to `path` and returns the status and the parsed body.
  std::pair<int, Json> Post(const std::string& path, const Json& body) {
    httplib::Result result =
        client_->Post(path, body.dump(), "application/json");
    if (!result) return {0, Json()};
    return {result->status, Json::parse(result->body, nullptr, false)};
  }

  std::unique_ptr<Playground> playground_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(PlaygroundHttpTest, CompileMarksSyntaxErrorAtLineAndColumn) {
  Json files = {{"policies/p.verdict",
                 "schema action { name: string }\n"
                 "permit \"p\" when { action.name == }\n"}};
  auto [status, body] = Post("/api/compile", {{"files", files}});
  ASSERT_EQ(status, 200);
  EXPECT_FALSE(body["ok"].get<bool>());
  EXPECT_GE(body["error_count"].get<int>(), 1);
  ASSERT_FALSE(body["diagnostics"].empty());
  const Json& first = body["diagnostics"][0];
  EXPECT_EQ(first["file"], "policies/p.verdict");
  EXPECT_EQ(first["line"], 2);
  EXPECT_EQ(first["column"], 34);
  EXPECT_EQ(first["severity"], "error");
  EXPECT_GE(first["width"].get<int>(), 1);
  // No temporary directory leaks into what the page shows.
  EXPECT_EQ(body["text"].get<std::string>().find("verdict-playground-"),
            std::string::npos);
  EXPECT_NE(body["text"].get<std::string>().find("policies/p.verdict:2:34"),
            std::string::npos);
}

TEST_F(PlaygroundHttpTest, CompileReportsCheckerErrorWidth) {
  Json files = {{"policies/p.verdict",
                 "schema action { name: string }\n"
                 "permit \"p\" when { action.nme == \"read\" }\n"}};
  auto [status, body] = Post("/api/compile", {{"files", files}});
  ASSERT_EQ(status, 200);
  ASSERT_FALSE(body["diagnostics"].empty());
  const Json& first = body["diagnostics"][0];
  EXPECT_EQ(first["line"], 2);
  EXPECT_EQ(first["column"], 19);
  EXPECT_GT(first["width"].get<int>(), 1);
}

TEST_F(PlaygroundHttpTest, CompileQuickstartReturnsStats) {
  auto [status, body] = Post("/api/compile", {{"files", Quickstart()}});
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(body["ok"].get<bool>());
  EXPECT_EQ(body["error_count"], 0);
  EXPECT_EQ(body["stats"]["policies"], 3);
  EXPECT_GT(body["stats"]["nodes"].get<int>(), 1);
  EXPECT_EQ(body["revision"].get<std::string>().size(), 12u);
}

TEST_F(PlaygroundHttpTest, CompileRejectsPathOutsideWorkspace) {
  auto [status, body] =
      Post("/api/compile", {{"files", {{"policies/../x.verdict", ""}}}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(body["error"]["message"].get<std::string>().find(
                "policies/../x.verdict"),
            std::string::npos);
}

TEST_F(PlaygroundHttpTest, CompileRejectsTrustFileNamingAbsolutePath) {
  Json files = {{"policies/p.verdict", "permit \"p\" when { true }\n"},
                {"policies/trust.json",
                 R"({"issuers": [{"jwks": "/etc/hostname"}]})"}};
  auto [status, body] = Post("/api/compile", {{"files", files}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("/etc/hostname"),
            std::string::npos);
}

TEST_F(PlaygroundHttpTest, DecidePermitReturnsWalkToLeaf) {
  auto [status, body] = Post(
      "/api/decide", {{"files", Quickstart()}, {"request", kAliceEditsOwnDoc}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_TRUE(body["response"]["decision"].get<bool>());
  EXPECT_EQ(body["response"]["context"]["policies"],
            Json::array({"edit-own-docs"}));
  const Json& path = body["path"];
  ASSERT_GE(path["nodes"].size(), 2u);
  EXPECT_EQ(path["edges"].size(), path["nodes"].size() - 1);
  EXPECT_EQ(path["edges"][0],
            absl::StrCat(path["nodes"][0].get<std::string>(), "->",
                         path["nodes"][1].get<std::string>()));
}

TEST_F(PlaygroundHttpTest, DecideWalkMatchesEngine) {
  absl::StatusOr<WorkspaceCompilation> compiled = CompileWorkspace(Quickstart());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr);
  const Program& program = *compiled->program;
  Frame frame;
  ASSERT_TRUE(DecodeJsonRequest(program, kAliceEditsOtherDoc, 0, frame).ok());
  std::vector<uint32_t> walk = WalkPath(program, frame);
  ASSERT_FALSE(walk.empty());
  EXPECT_EQ(walk.front(), program.root);
  EXPECT_EQ(program.nodes[walk.back()].kind, NodeKind::kLeaf);

  auto [status, body] = Post("/api/decide", {{"files", Quickstart()},
                                             {"request", kAliceEditsOtherDoc},
                                             {"now", 0}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_FALSE(body["response"]["decision"].get<bool>());
  ASSERT_EQ(body["path"]["nodes"].size(), walk.size());
  for (size_t i = 0; i < walk.size(); ++i) {
    EXPECT_EQ(body["path"]["nodes"][i], absl::StrCat("n", walk[i]));
  }
}

TEST_F(PlaygroundHttpTest, DecideAcceptsTestCaseWithNow) {
  Json test_case = {{"now", 1767225600},
                    {"request", Json::parse(kAliceEditsOwnDoc)},
                    {"expected", {{"decision", true}}}};
  auto [status, body] = Post(
      "/api/decide", {{"files", Quickstart()}, {"request", test_case.dump()}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_TRUE(body["response"]["decision"].get<bool>());
  EXPECT_EQ(body["now"], 1767225600);
}

TEST_F(PlaygroundHttpTest, DecideRejectsMalformedRequest) {
  auto [status, body] = Post(
      "/api/decide", {{"files", Quickstart()}, {"request", "{\"subject\": "}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("not valid JSON"),
            std::string::npos);
}

TEST_F(PlaygroundHttpTest, DecideRejectsIllTypedAttribute) {
  Json request = Json::parse(kAliceEditsOwnDoc);
  request["action"]["name"] = 7;
  auto [status, body] =
      Post("/api/decide", {{"files", Quickstart()}, {"request", request}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("invalid request"),
            std::string::npos);
}

TEST_F(PlaygroundHttpTest, DecideOnBrokenPoliciesReturns422) {
  Json files = {{"policies/p.verdict", "permit \"p\" when {"}};
  auto [status, body] =
      Post("/api/decide", {{"files", files}, {"request", kAliceEditsOwnDoc}});
  EXPECT_EQ(status, 422);
  EXPECT_FALSE(body["diagnostics"].empty());
}

TEST_F(PlaygroundHttpTest, ExplainDenyNamesNearestPolicy) {
  auto [status, body] = Post("/api/explain", {{"files", Quickstart()},
                                              {"request", kAliceEditsOtherDoc}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_FALSE(body["response"]["decision"].get<bool>());
  const Json& explanation = body["explanation"];
  EXPECT_FALSE(explanation["decision"].get<bool>());
  ASSERT_FALSE(explanation["nearest"].empty());
  EXPECT_EQ(explanation["nearest"][0]["policy"], "edit-own-docs");
  EXPECT_EQ(explanation["nearest"][0]["location"], "policies/docs.verdict:13:1");
  EXPECT_NE(body["text"].get<std::string>().find("DENY"), std::string::npos);
  // Locations name workspace paths, not the temporary directory.
  EXPECT_NE(body["text"].get<std::string>().find("at policies/docs.verdict:"),
            std::string::npos);
  EXPECT_EQ(body.dump().find("verdict-playground-"), std::string::npos);
  EXPECT_FALSE(body["path"]["nodes"].empty());
}

TEST_F(PlaygroundHttpTest, DagSvgNamesEveryNodeOfTheWalk) {
  auto [status, body] = Post(
      "/api/dag", {{"files", Quickstart()}, {"request", kAliceEditsOwnDoc}});
  ASSERT_EQ(status, 200) << body.dump();
  const std::string svg = body["svg"].get<std::string>();
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  ASSERT_FALSE(body["path"]["nodes"].empty());
  for (const Json& node : body["path"]["nodes"]) {
    EXPECT_NE(svg.find(absl::StrCat("<title>", node.get<std::string>(),
                                    "</title>")),
              std::string::npos)
        << node;
  }
  // Graphviz escapes '-' and '>' in edge titles.
  for (const Json& edge : body["path"]["edges"]) {
    std::string text = edge.get<std::string>();
    std::string escaped = text.replace(text.find("->"), 2, "&#45;&gt;");
    EXPECT_NE(svg.find(absl::StrCat("<title>", escaped, "</title>")),
              std::string::npos)
        << edge;
  }
}

TEST_F(PlaygroundHttpTest, TestRunsEveryCase) {
  auto [status, body] = Post("/api/test", {{"files", Quickstart()}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["cases"].size(), 4u);
  EXPECT_EQ(body["passed"], 4);
  EXPECT_EQ(body["failed"], 0);
  EXPECT_EQ(body["coverage"]["policies"]["total"], 3);
}

TEST_F(PlaygroundHttpTest, TestReportsFailingCase) {
  Workspace workspace = Quickstart();
  Json flipped = Json::parse(workspace.at("cases/alice-edits-own-doc.json"));
  flipped["expected"]["decision"] = false;
  workspace["cases/alice-edits-own-doc.json"] = flipped.dump();
  auto [status, body] = Post("/api/test", {{"files", workspace}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["failed"], 1);
  for (const Json& result : body["cases"]) {
    if (result["file"] != "cases/alice-edits-own-doc.json") continue;
    EXPECT_FALSE(result["passed"].get<bool>());
    EXPECT_NE(result["failure"].get<std::string>().find("expected DENY"),
              std::string::npos);
  }
}

TEST_F(PlaygroundHttpTest, WorkspaceListsExamples) {
  httplib::Result result = client_->Get("/api/workspace");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  Json body = Json::parse(result->body);
  EXPECT_EQ(body["name"], "quickstart");
  EXPECT_TRUE(body["files"].contains("policies/docs.verdict"));
  std::vector<std::string> examples = body["examples"];
  EXPECT_NE(std::find(examples.begin(), examples.end(), "payments"),
            examples.end());
}

TEST_F(PlaygroundHttpTest, ExampleUnknownNameIs404) {
  httplib::Result result = client_->Get("/api/example?name=nope");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_NE(result->body.find("quickstart"), std::string::npos);
}

TEST_F(PlaygroundHttpTest, EveryExampleCompiles) {
  for (const std::string& name : ExampleNames()) {
    httplib::Result result =
        client_->Get(absl::StrCat("/api/example?name=", name));
    ASSERT_TRUE(result) << name;
    ASSERT_EQ(result->status, 200) << name;
    Json files = Json::parse(result->body)["files"];
    auto [status, body] = Post("/api/compile", {{"files", files}});
    ASSERT_EQ(status, 200) << name;
    EXPECT_TRUE(body["ok"].get<bool>()) << name << ": " << body["text"];
  }
}

TEST_F(PlaygroundHttpTest, PageIsServedWithContentSecurityPolicy) {
  httplib::Result result = client_->Get("/");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_NE(result->get_header_value("Content-Type").find("text/html"),
            std::string::npos);
  EXPECT_NE(result->get_header_value("Content-Security-Policy")
                .find("default-src 'self'"),
            std::string::npos);
  if (PageFiles().empty()) {
    EXPECT_NE(result->body.find("was not built"), std::string::npos);
  }
}

TEST_F(PlaygroundHttpTest, PostWithoutJsonContentTypeIs415) {
  httplib::Result result = client_->Post(
      "/api/compile", Json{{"files", Quickstart()}}.dump(), "text/plain");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 415);
}

TEST(PlaygroundHosts, ForeignHostIs403) {
  PlaygroundOptions options;
  options.initial = Quickstart();
  options.allowed_hosts = LoopbackHosts("127.0.0.1");
  Playground playground(std::move(options));
  server::HttpOptions http;
  http.listen_address = "127.0.0.1:0";
  server::HttpServer server(http);
  playground.Register(server);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());

  httplib::Result own = client.Get("/api/workspace");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);

  // A page of another site whose name resolves to 127.0.0.1.
  httplib::Result rebound =
      client.Get("/api/workspace", {{"Host", "attacker.example:8182"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  EXPECT_EQ(rebound->body.find("docs.verdict"), std::string::npos);
  httplib::Result page = client.Get("/", {{"Host", "attacker.example"}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 403);

  httplib::Result ipv6 = client.Get("/api/workspace", {{"Host", "[::1]:8182"}});
  ASSERT_TRUE(ipv6);
  EXPECT_EQ(ipv6->status, 200);
  server.Stop();
}

TEST(ParseDiagnostics, ReadsPositionWidthAndFileErrors) {
  std::vector<PlaygroundDiagnostic> diagnostics = ParseDiagnostics(
      "/tmp/x/policies/a.verdict:3:7: error: unknown attribute a.b\n"
      "  when { a.b }\n"
      "         ^~~\n"
      "/tmp/x/data/users.json: error: not valid JSON\n",
      "/tmp/x/");
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_EQ(diagnostics[0].file, "policies/a.verdict");
  EXPECT_EQ(diagnostics[0].line, 3u);
  EXPECT_EQ(diagnostics[0].column, 7u);
  EXPECT_EQ(diagnostics[0].width, 3u);
  EXPECT_EQ(diagnostics[0].message, "unknown attribute a.b");
  EXPECT_EQ(diagnostics[1].file, "data/users.json");
  EXPECT_EQ(diagnostics[1].line, 0u);
  EXPECT_EQ(diagnostics[1].message, "not valid JSON");
}

TEST(CheckWorkspacePath, AcceptsAndRejects) {
  EXPECT_TRUE(CheckWorkspacePath("policies/a.verdict").ok());
  EXPECT_TRUE(CheckWorkspacePath("policies/keys/idp.jwks.json").ok());
  EXPECT_TRUE(CheckWorkspacePath("request.json").ok());
  EXPECT_FALSE(CheckWorkspacePath("/etc/passwd").ok());
  EXPECT_FALSE(CheckWorkspacePath("policies/.hidden").ok());
  EXPECT_FALSE(CheckWorkspacePath("policies//a.verdict").ok());
  EXPECT_FALSE(CheckWorkspacePath("src/a.verdict").ok());
  EXPECT_FALSE(CheckWorkspacePath("policies/a b.verdict").ok());
}

}  // namespace
}  // namespace verdict::playground
