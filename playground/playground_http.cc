#include "playground/playground_http.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "compiler/dag_export.h"
#include "engine/absl_compat.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/explain.h"
#include "engine/policy_test_runner.h"
#include "engine/request.h"
#include "playground/assets.h"
#include "server/log.h"

namespace verdict::playground {
namespace {

using Json = nlohmann::json;
using server::ErrorResponse;
using server::JsonResponse;

// nlohmann::json parses recursively, so bodies nested deeper are rejected
// before it reads them. Requests themselves nest at most 32 deep
// (DecodeJsonRequest), and a workspace adds one level of files around them.
constexpr int kMaxBodyDepth = 40;

// Parses a request body as a JSON object.
absl::StatusOr<Json> ParseBody(const std::string& body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c == '{' || c == '[') && ++depth > kMaxBodyDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("request body nests objects and arrays deeper than ",
                       kMaxBodyDepth, " levels, the limit"));
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError("request body is not valid JSON");
  }
  if (!json.is_object()) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return json;
}

// Logs a failure of the playground itself, such as an unwritable
// temporary directory or a missing Graphviz, and returns it as a 500.
JsonResponse ServerError(const httplib::Request& request,
                         const absl::Status& status) {
  server::LogError(absl::StrCat("playground: ", request.path, " failed: ",
                                status.message()));
  return ErrorResponse(500, std::string(status.message()));
}

JsonResponse BadRequest(const absl::Status& status) {
  return ErrorResponse(400, std::string(status.message()));
}

// The request to decide, read from the body's "request" and "now".
struct DecideInput {
  std::string request;  // JSON text
  int64_t now = 0;
};

// Reads "request" (an object, JSON text, or a test case with "request" and
// "now") and "now" from `body`. An explicit "now" wins over a test case's.
absl::StatusOr<DecideInput> ReadDecideInput(const Json& body) {
  DecideInput input;
  input.now = absl::ToUnixSeconds(absl::Now());
  if (!body.contains("request")) {
    return absl::InvalidArgumentError(
        "missing \"request\": send the AuthZEN request to decide");
  }
  Json request = body["request"];
  if (request.is_string()) {
    request = Json::parse(request.get<std::string>(), nullptr, false);
    if (request.is_discarded()) {
      return absl::InvalidArgumentError(
          "\"request\" is not valid JSON; check the request editor");
    }
  }
  if (!request.is_object()) {
    return absl::InvalidArgumentError(
        "\"request\" must be a JSON object with subject, action and resource");
  }
  if (request.contains("request") && request["request"].is_object()) {
    if (request.contains("now") && request["now"].is_number_integer()) {
      input.now = request["now"].get<int64_t>();
    }
    request = Json(request["request"]);
  }
  if (body.contains("now")) {
    if (!body["now"].is_number_integer()) {
      return absl::InvalidArgumentError(
          "\"now\" must be an integer number of Unix seconds");
    }
    input.now = body["now"].get<int64_t>();
  }
  input.request = request.dump();
  return input;
}

// The walk as the SVG names it: nodes "n<index>" and edges "n<a>->n<b>",
// the titles Graphviz gives the elements it draws from DagToDot.
Json PathToJson(const std::vector<uint32_t>& path) {
  Json nodes = Json::array();
  Json edges = Json::array();
  for (size_t i = 0; i < path.size(); ++i) {
    nodes.push_back(absl::StrCat("n", path[i]));
    if (i > 0) edges.push_back(absl::StrCat("n", path[i - 1], "->n", path[i]));
  }
  return Json{{"nodes", std::move(nodes)}, {"edges", std::move(edges)}};
}

Json DiagnosticsToJson(const WorkspaceCompilation& compilation) {
  Json list = Json::array();
  for (const PlaygroundDiagnostic& diagnostic : compilation.diagnostics) {
    list.push_back({{"file", diagnostic.file},
                    {"line", diagnostic.line},
                    {"column", diagnostic.column},
                    {"width", diagnostic.width},
                    {"severity", diagnostic.error ? "error" : "warning"},
                    {"message", diagnostic.message}});
  }
  return list;
}

JsonResponse NotCompiled(const WorkspaceCompilation& compilation) {
  JsonResponse response = ErrorResponse(
      422, absl::StrCat("the policies do not compile (",
                        compilation.error_count,
                        compilation.error_count == 1 ? " error" : " errors",
                        "); fix them first"));
  response.body["diagnostics"] = DiagnosticsToJson(compilation);
  return response;
}

// Returns the key of the compile cache: the policy and data files, each
// with its length so that no two workspaces share a key.
std::string CacheKey(const Workspace& workspace) {
  std::string key;
  for (const auto& [path, text] : workspace) {
    if (!path.starts_with("policies/") && !path.starts_with("data/")) continue;
    absl::StrAppend(&key, path.size(), ":", path, text.size(), ":", text);
  }
  return key;
}

std::string_view ContentType(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// The page loads only its own files and talks only to this server.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'";

void ServeBytes(httplib::Response& response, std::string_view bytes,
                std::string_view content_type) {
  response.set_header("Content-Security-Policy", kContentSecurityPolicy);
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Cache-Control", "no-cache");
  response.set_content(std::string(bytes), std::string(content_type));
}

}  // namespace

std::string PageNotBuiltHtml() {
  std::string reason(PageNotBuiltReason());
  std::string escaped;
  for (char c : reason) {
    if (c == '<') {
      escaped += "&lt;";
    } else if (c == '&') {
      escaped += "&amp;";
    } else {
      escaped += c;
    }
  }
  return absl::StrCat(
      "<!doctype html><meta charset=utf-8><title>Verdict playground</title>"
      "<h1>The playground page was not built</h1><p>", escaped,
      "</p><p>Install Node.js and npm (<code>sudo bash "
      "scripts/install-deps.sh</code>), make sure <code>npm ci</code> can "
      "reach the npm registry, then reconfigure and build: <code>cmake -S . "
      "-B build &amp;&amp; cmake --build build</code>. See "
      "docs/playground.md.</p>\n");
}

std::vector<std::string> LoopbackHosts(const std::string& listen_host) {
  std::vector<std::string> hosts = {"127.0.0.1", "localhost", "::1", "[::1]"};
  if (std::find(hosts.begin(), hosts.end(), listen_host) == hosts.end()) {
    hosts.push_back(listen_host);
  }
  return hosts;
}

Playground::Playground(PlaygroundOptions options)
    : options_(std::move(options)) {}

std::optional<server::JsonResponse> Playground::RejectForeign(
    const httplib::Request& request) const {
  if (!options_.allowed_hosts.empty()) {
    std::string host = request.get_header_value("Host");
    // Strips the port: "127.0.0.1:8182", "[::1]:8182", "localhost".
    const size_t colon = host.rfind(':');
    if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
      host.resize(colon);
    }
    if (std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(),
                  host) == options_.allowed_hosts.end()) {
      return ErrorResponse(
          403, absl::StrCat("Host \"", host.substr(0, 100),
                            "\" is not an address of this playground; open "
                            "the page at the address the server logged"));
    }
  }
  const std::string content_type = request.get_header_value("Content-Type");
  if (request.method == "POST" &&
      content_type.find("application/json") == std::string::npos) {
    return ErrorResponse(
        415, absl::StrCat("the body has Content-Type \"",
                          content_type.substr(0, 100),
                          "\"; send it as application/json"));
  }
  return std::nullopt;
}

void Playground::Register(server::HttpServer& server) {
  auto serve = [this](std::string_view bytes, std::string_view content_type) {
    return [this, bytes, content_type](const httplib::Request& request,
                                       httplib::Response& response) {
      if (std::optional<JsonResponse> rejected = RejectForeign(request)) {
        response.status = rejected->status;
        response.set_content(rejected->body.dump(), "application/json");
        return;
      }
      ServeBytes(response, bytes, content_type);
    };
  };
  std::span<const EmbeddedFile> page = PageFiles();
  if (page.empty()) {
    static const std::string not_built = PageNotBuiltHtml();
    server.RouteRaw("GET", "/", serve(not_built, ContentType(".html")));
  }
  for (const EmbeddedFile& file : page) {
    std::string route =
        file.path == "index.html" ? "/" : absl::StrCat("/", ToAbsl(file.path));
    server.RouteRaw("GET", route, serve(file.bytes, ContentType(file.path)));
  }
  auto route = [&](const char* method, const char* path,
                   JsonResponse (Playground::*handler)(const httplib::Request&)) {
    server.Route(method, path, [this, handler](const httplib::Request& request) {
      if (std::optional<JsonResponse> rejected = RejectForeign(request)) {
        return *rejected;
      }
      return (this->*handler)(request);
    });
  };
  route("GET", "/api/workspace", &Playground::HandleWorkspace);
  route("GET", "/api/example", &Playground::HandleExample);
  route("POST", "/api/compile", &Playground::HandleCompile);
  route("POST", "/api/decide", &Playground::HandleDecide);
  route("POST", "/api/explain", &Playground::HandleExplain);
  route("POST", "/api/dag", &Playground::HandleDag);
  route("POST", "/api/test", &Playground::HandleTest);
}

absl::StatusOr<std::shared_ptr<Playground::Compiled>> Playground::Compile(
    const Workspace& workspace) {
  std::string key = CacheKey(workspace);
  {
    absl::MutexLock lock(&cache_mutex_);
    for (const std::shared_ptr<Compiled>& entry : cache_) {
      if (entry->key == key) return entry;
    }
  }
  // Compiles outside the lock, so slow compiles do not serialize. Two
  // calls with the same new workspace may both compile it.
  absl::StatusOr<WorkspaceCompilation> compilation = CompileWorkspace(workspace);
  if (!compilation.ok()) return compilation.status();
  auto entry = std::make_shared<Compiled>();
  entry->key = std::move(key);
  entry->compilation = *std::move(compilation);
  absl::MutexLock lock(&cache_mutex_);
  cache_.push_front(entry);
  if (cache_.size() > options_.cache_entries) cache_.pop_back();
  return entry;
}

server::JsonResponse Playground::HandleWorkspace(const httplib::Request&) {
  return {200, Json{{"name", options_.initial_name},
                    {"files", options_.initial},
                    {"examples", ExampleNames()}}};
}

server::JsonResponse Playground::HandleExample(const httplib::Request& request) {
  std::string name = request.get_param_value("name");
  if (name.empty()) {
    return ErrorResponse(400, "missing query parameter name, such as "
                              "/api/example?name=quickstart");
  }
  absl::StatusOr<Workspace> workspace = ExampleWorkspace(name);
  if (!workspace.ok()) {
    return ErrorResponse(404, std::string(workspace.status().message()));
  }
  return {200, Json{{"name", name}, {"files", *workspace}}};
}

Playground::Loaded Playground::Load(const httplib::Request& request) {
  Loaded loaded;
  absl::StatusOr<Json> body = ParseBody(request.body);
  if (!body.ok()) {
    loaded.error = BadRequest(body.status());
    return loaded;
  }
  loaded.body = *std::move(body);
  absl::StatusOr<Workspace> workspace =
      WorkspaceFromJson(loaded.body["files"], options_.limits);
  if (!workspace.ok()) {
    loaded.error = BadRequest(workspace.status());
    return loaded;
  }
  absl::StatusOr<std::shared_ptr<Compiled>> compiled = Compile(*workspace);
  if (!compiled.ok()) {
    loaded.error = ServerError(request, compiled.status());
    return loaded;
  }
  loaded.workspace = *std::move(workspace);
  loaded.compiled = *std::move(compiled);
  return loaded;
}

server::JsonResponse Playground::HandleCompile(const httplib::Request& request) {
  Loaded loaded = Load(request);
  if (loaded.error.has_value()) return *loaded.error;
  const WorkspaceCompilation& compilation = loaded.compiled->compilation;
  Json response{{"ok", compilation.program != nullptr},
                {"error_count", compilation.error_count},
                {"diagnostics", DiagnosticsToJson(compilation)},
                {"text", compilation.text}};
  if (const Program* program = compilation.program.get()) {
    response["revision"] = program->revision;
    response["stats"] = {{"policies", program->policies.size()},
                         {"predicates", program->predicates.size()},
                         {"nodes", program->nodes.size()}};
  }
  return {200, std::move(response)};
}

server::JsonResponse Playground::HandleDecide(const httplib::Request& request) {
  return Decide(request, /*explain=*/false);
}

server::JsonResponse Playground::HandleExplain(const httplib::Request& request) {
  return Decide(request, /*explain=*/true);
}

server::JsonResponse Playground::Decide(const httplib::Request& request,
                                        bool explain) {
  Loaded loaded = Load(request);
  if (loaded.error.has_value()) return *loaded.error;
  absl::StatusOr<DecideInput> input = ReadDecideInput(loaded.body);
  if (!input.ok()) return BadRequest(input.status());
  const WorkspaceCompilation& compilation = loaded.compiled->compilation;
  if (compilation.program == nullptr) return NotCompiled(compilation);
  const Program& program = *compilation.program;

  Frame frame;
  absl::Status decoded =
      DecodeJsonRequest(program, input->request, input->now, frame);
  if (!decoded.ok()) {
    return ErrorResponse(400, absl::StrCat("invalid request: ", decoded.message()));
  }
  Decision decision = Evaluate(program, frame);
  Json response{{"response", DecisionToJson(program, frame, decision)},
                {"path", PathToJson(WalkPath(program, frame))},
                {"now", input->now}};
  if (explain) {
    ExplainOptions explain_options;
    const Json& all = loaded.body["all"];
    if (all.is_boolean() && all.get<bool>()) explain_options.max_nearest = 0;
    Explanation explanation = Explain(program, frame, decision, explain_options);
    response["explanation"] = ExplanationToJson(explanation);
    response["text"] = ExplanationToText(explanation);
  }
  StripRoot(response, compilation.root);
  return {200, std::move(response)};
}

absl::StatusOr<std::string> Playground::Draw(Compiled& entry) {
  const Program& program = *entry.compilation.program;
  if (program.nodes.size() > options_.max_drawn_nodes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the decision DAG has ", program.nodes.size(), " nodes, more than the ",
        options_.max_drawn_nodes, " the playground draws; run verdict dag "
        "--format text or --stats on these policies instead"));
  }
  absl::MutexLock lock(&entry.svg_mutex);
  if (!entry.svg_done) {
    entry.svg =
        compiler::RenderSvg(compiler::DagToDot(program), options_.draw_timeout);
    entry.svg_done = true;
  }
  if (!entry.svg.ok()) return entry.svg.status();
  return StripRoot(*entry.svg, entry.compilation.root);
}

server::JsonResponse Playground::HandleDag(const httplib::Request& request) {
  Loaded loaded = Load(request);
  if (loaded.error.has_value()) return *loaded.error;
  Compiled& entry = *loaded.compiled;
  if (entry.compilation.program == nullptr) return NotCompiled(entry.compilation);
  const Program& program = *entry.compilation.program;

  absl::StatusOr<std::string> svg = Draw(entry);
  if (absl::IsFailedPrecondition(svg.status())) {
    return ErrorResponse(422, std::string(svg.status().message()));
  }
  if (!svg.ok()) return ServerError(request, svg.status());
  Json response{{"revision", program.revision}, {"svg", *std::move(svg)}};

  if (loaded.body.contains("request")) {
    absl::StatusOr<DecideInput> input = ReadDecideInput(loaded.body);
    if (!input.ok()) return BadRequest(input.status());
    Frame frame;
    absl::Status decoded =
        DecodeJsonRequest(program, input->request, input->now, frame);
    if (!decoded.ok()) {
      return ErrorResponse(400,
                           absl::StrCat("invalid request: ", decoded.message()));
    }
    response["path"] = PathToJson(WalkPath(program, frame));
  }
  return {200, std::move(response)};
}

server::JsonResponse Playground::HandleTest(const httplib::Request& request) {
  Loaded loaded = Load(request);
  if (loaded.error.has_value()) return *loaded.error;
  const WorkspaceCompilation& compilation = loaded.compiled->compilation;
  if (compilation.program == nullptr) return NotCompiled(compilation);

  PolicyTestRunner runner(*compilation.program);
  Json cases = Json::array();
  size_t passed = 0;
  for (const auto& [path, text] : loaded.workspace) {
    if (!path.starts_with("cases/") || !path.ends_with(".json")) continue;
    CaseResult result = runner.Run(text);
    passed += result.passed ? 1 : 0;
    cases.push_back({{"file", path},
                     {"passed", result.passed},
                     {"description", result.description},
                     {"failure", result.failure},
                     {"reasons", result.reasons}});
  }
  const size_t failed = cases.size() - passed;
  CoverageCount policies = runner.PolicyCoverage();
  CoverageCount conditions = runner.ConditionCoverage();
  Json response{{"cases", std::move(cases)},
                {"passed", passed},
                {"failed", failed},
                {"coverage",
                 {{"policies", {{"covered", policies.covered},
                                {"total", policies.total}}},
                  {"conditions", {{"covered", conditions.covered},
                                  {"total", conditions.total}}}}},
                {"report", runner.CoverageReport()}};
  StripRoot(response, compilation.root);
  return {200, std::move(response)};
}

}  // namespace verdict::playground
