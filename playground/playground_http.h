// The HTTP endpoints of `verdict playground`: the page, and JSON endpoints
// that compile a workspace sent by the page and decide, explain, draw and
// test against it.
//
//   GET  /                the page (index.html); /<file> its other files
//   GET  /api/workspace   the workspace the page opens with, and the
//                         names of the bundled examples
//   GET  /api/example?name=N     bundled example N as a workspace
//   POST /api/compile {files}    diagnostics with file, line and column
//   POST /api/decide  {files, request, now?}   decision and DAG walk
//   POST /api/explain {files, request, now?, all?}   explanation
//   POST /api/dag     {files, request?, now?}  DAG as SVG, and the walk
//   POST /api/test    {files}    every cases/*.json with its result
//
// `files` maps workspace paths to contents (workspace.h). `request` is an
// AuthZEN request as `verdict eval` reads it, as an object or as JSON
// text, or a test case whose "request" and "now" are used. `now` is Unix
// seconds for env.now; the system clock when absent. Errors are
// {"error": {"code", "message"}} with status 400 for bad input and 422
// when the policies do not compile.

#ifndef VERDICT_PLAYGROUND_PLAYGROUND_HTTP_H_
#define VERDICT_PLAYGROUND_PLAYGROUND_HTTP_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "playground/workspace.h"
#include "server/http_server.h"

namespace verdict::playground {

struct PlaygroundOptions {
  // The workspace the page opens with, and the name it shows for it.
  Workspace initial;
  std::string initial_name;
  WorkspaceLimits limits;
  // DAGs with more nodes are not drawn, because Graphviz takes long and
  // the drawing would be unreadable.
  size_t max_drawn_nodes = 2000;
  absl::Duration draw_timeout = absl::Seconds(20);
  // Compiled workspaces kept for the calls that follow a compile.
  size_t cache_entries = 4;
  // Host header values (without the port) that requests may carry; empty
  // accepts any. A web page on another site can make the browser send
  // requests to a loopback port, and with DNS rebinding read the answers,
  // but it cannot make the browser send one of these names.
  std::vector<std::string> allowed_hosts;
};

// The Host names of a loopback listener: 127.0.0.1, localhost, ::1 and
// [::1], plus `listen_host` itself.
std::vector<std::string> LoopbackHosts(const std::string& listen_host);

// The playground's routes. Register them on a server before it starts. The
// Playground must outlive the server. Thread-safe: handlers run
// concurrently, and the compile cache is guarded by a mutex.
class Playground {
 public:
  explicit Playground(PlaygroundOptions options);
  Playground(const Playground&) = delete;  // handlers capture `this`
  Playground& operator=(const Playground&) = delete;

  void Register(server::HttpServer& server);

 private:
  // A compiled workspace, with its DAG drawing once one was requested.
  struct Compiled {
    std::string key;
    WorkspaceCompilation compilation;
    absl::Mutex svg_mutex;
    bool svg_done ABSL_GUARDED_BY(svg_mutex) = false;
    absl::StatusOr<std::string> svg ABSL_GUARDED_BY(svg_mutex);
  };

  // A request body with its workspace compiled, or the error response
  // that ends the call.
  struct Loaded {
    nlohmann::json body;
    Workspace workspace;
    std::shared_ptr<Compiled> compiled;
    std::optional<server::JsonResponse> error;
  };

  // Compiles `workspace`, or returns the cached compilation of the same
  // policy and data files.
  absl::StatusOr<std::shared_ptr<Compiled>> Compile(const Workspace& workspace);
  // Parses the body of `request` and compiles its "files".
  Loaded Load(const httplib::Request& request);
  // Returns the SVG drawing of the compiled program, drawn once per entry.
  // FAILED_PRECONDITION when the DAG is too large to draw.
  absl::StatusOr<std::string> Draw(Compiled& entry);

  server::JsonResponse HandleWorkspace(const httplib::Request& request);
  server::JsonResponse HandleExample(const httplib::Request& request);
  server::JsonResponse HandleCompile(const httplib::Request& request);
  server::JsonResponse HandleDecide(const httplib::Request& request);
  server::JsonResponse HandleExplain(const httplib::Request& request);
  server::JsonResponse HandleDag(const httplib::Request& request);
  server::JsonResponse HandleTest(const httplib::Request& request);
  // Returns 403 for a Host header not in PlaygroundOptions::allowed_hosts
  // and 415 for a POST whose body is not declared as JSON, which a page on
  // another site can send only after a CORS preflight that this server
  // never allows. Returns nothing for an acceptable request.
  std::optional<server::JsonResponse> RejectForeign(
      const httplib::Request& request) const;
  // Decides the body's request, and explains it too when `explain` is set.
  server::JsonResponse Decide(const httplib::Request& request, bool explain);

  const PlaygroundOptions options_;
  absl::Mutex cache_mutex_;
  std::deque<std::shared_ptr<Compiled>> cache_ ABSL_GUARDED_BY(cache_mutex_);
};

// Returns the HTML page served when the build has no page: why, and how to
// build it.
std::string PageNotBuiltHtml();

}  // namespace verdict::playground

#endif  // VERDICT_PLAYGROUND_PLAYGROUND_HTTP_H_
