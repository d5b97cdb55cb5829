// The OpenID AuthZEN Authorization API 1.0 over HTTP/JSON: access
// evaluation, batch evaluations, subject, resource and action search, and
// the PDP metadata document. docs/authzen.md describes the endpoints.

#ifndef VERDICT_SERVER_AUTHZEN_HTTP_H_
#define VERDICT_SERVER_AUTHZEN_HTTP_H_

#include <cstddef>
#include <string>
#include <vector>

#include "engine/program.h"
#include "engine/snapshot.h"
#include "nlohmann/json.hpp"
#include "server/decision_recorder.h"
#include "server/http_server.h"

namespace verdict::server {

// Paths of the AuthZEN endpoints.
inline constexpr char kEvaluationPath[] = "/access/v1/evaluation";
inline constexpr char kEvaluationsPath[] = "/access/v1/evaluations";
inline constexpr char kSearchSubjectPath[] = "/access/v1/search/subject";
inline constexpr char kSearchResourcePath[] = "/access/v1/search/resource";
inline constexpr char kSearchActionPath[] = "/access/v1/search/action";
inline constexpr char kMetadataPath[] = "/.well-known/authzen-configuration";

// Results per search response when the request sets no `page.limit`, and
// the largest limit a request may set.
inline constexpr size_t kDefaultSearchPageSize = 1000;

// JSON nesting accepted in a request body: the request decoder's 32 levels
// for attribute values plus the levels of a batch around them. Checked
// before parsing, so a deeply nested body cannot exhaust the stack.
inline constexpr int kMaxHttpJsonDepth = 40;

// The kind of entity a search enumerates.
enum class SearchKind { kSubject, kResource, kAction };

// Serves the AuthZEN endpoints from the program currently published in a
// ProgramStore. Each request decides against one snapshot of the store, so
// every item of a batch and every candidate of a search is decided on the
// same policies and data, and a reload takes effect from the next request. The
// revision in each decision's context names that snapshot.
//
// Search enumerates candidates and decides one request per candidate:
// subject and resource search take the ids of the entity data set joined
// to that group (`schema subject from users`); action search takes the
// action names that policies compare `action.name` with. Both are tried in
// byte order. Candidates the policies
// cannot list (an action matched by a pattern, an entity absent from the
// data) are not found by search. Cost: one decision per candidate up to
// the page's last result, plus the candidates scanned to find whether a
// next page exists.
//
// Thread-safe: handlers may run concurrently; each thread decodes into its
// own Frame. Does not own the store or the recorder, which must outlive the
// service.
class AuthzenHttpService {
 public:
  // `recorder`, when not null, receives every decided request, batch item
  // and search candidate, and a count of requests rejected before decoding.
  explicit AuthzenHttpService(const ProgramStore& store,
                              const DecisionRecorder* recorder = nullptr)
      : store_(store), recorder_(recorder) {}

  // Registers every endpoint on `server`, which must not be started yet.
  void Register(HttpServer& server);

  // The endpoint handlers, given the request body. `host` is the request's
  // Host header, which the metadata document uses to build endpoint URLs.
  JsonResponse Evaluation(const std::string& body) const;
  JsonResponse Evaluations(const std::string& body) const;
  JsonResponse Search(SearchKind kind, const std::string& body) const;
  JsonResponse Metadata(const std::string& host) const;

 private:
  // Counts a request of `api` rejected before decoding and returns a 400
  // response with `message`.
  JsonResponse Reject(DecisionApi api, std::string message) const;

  const ProgramStore& store_;
  const DecisionRecorder* const recorder_;  // may be null
};

// Returns the candidate ids or action names a search of `kind` tries on
// `program`, in the order the results are listed.
std::vector<std::string> SearchCandidates(const Program& program,
                                          SearchKind kind);

}  // namespace verdict::server

#endif  // VERDICT_SERVER_AUTHZEN_HTTP_H_
