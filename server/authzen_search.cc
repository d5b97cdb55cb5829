// The AuthZEN search endpoints: enumerate candidates from the loaded
// program and return those the policies permit, a page at a time.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/authzen_http.h"
#include "server/authzen_internal.h"

namespace verdict::server {
namespace {

using Json = nlohmann::json;
using authzen_internal::CheckAccessRequest;
using authzen_internal::Decide;
using authzen_internal::DescribeType;
using authzen_internal::ParseBody;

const char* GroupName(SearchKind kind) {
  switch (kind) {
    case SearchKind::kSubject:
      return "subject";
    case SearchKind::kResource:
      return "resource";
    case SearchKind::kAction:
      return "action";
  }
  return "";
}

// The page a search request selects.
struct PageRequest {
  size_t limit = kDefaultSearchPageSize;
  // The last candidate of the previous page; empty for the first page.
  std::string after;
};

// Reads the optional `page` member; returns an error message or "".
std::string ReadPage(const Json& request, PageRequest& page) {
  if (!request.contains("page")) return "";
  const Json& member = request["page"];
  if (!member.is_object()) {
    return absl::StrCat("member \"page\" must be an object, not ",
                        DescribeType(member));
  }
  if (member.contains("limit")) {
    const Json& limit = member["limit"];
    if (!limit.is_number_integer() || limit.get<int64_t>() < 1 ||
        limit.get<int64_t>() > static_cast<int64_t>(kDefaultSearchPageSize)) {
      return absl::StrCat("invalid page.limit ", limit.dump(),
                          "; expected an integer from 1 to ",
                          kDefaultSearchPageSize);
    }
    page.limit = limit.get<size_t>();
  }
  if (member.contains("token")) {
    const Json& token = member["token"];
    if (!token.is_string()) {
      return absl::StrCat("member \"page.token\" must be a string, not ",
                          DescribeType(token));
    }
    const std::string text = token.get<std::string>();
    if (!text.empty() && (!absl::WebSafeBase64Unescape(text, &page.after) ||
                          page.after.empty())) {
      return absl::StrCat("invalid page.token \"", text,
                          "\"; pass the page.next_token of the previous "
                          "response unchanged");
    }
  }
  return "";
}

// Action names the program compares action.name with, in byte order.
std::vector<std::string> MentionedActions(const Program& program) {
  std::vector<std::string> names;
  const uint32_t slot = program.FindSlot("action.name");
  if (slot == kNoSlot) return names;
  for (const Predicate& predicate : program.predicates) {
    if (predicate.slot != slot) continue;
    if (predicate.kind == PredicateKind::kStrEq) {
      names.emplace_back(program.SymbolText(predicate.symbol));
    } else if (predicate.kind == PredicateKind::kStrInConst) {
      for (uint32_t symbol : program.const_sets[predicate.set]) {
        names.emplace_back(program.SymbolText(symbol));
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// The result entry of a permitted candidate.
Json ResultEntry(SearchKind kind, const Json& request,
                 const std::string& candidate) {
  if (kind == SearchKind::kAction) return {{"name", candidate}};
  return {{"type", request[GroupName(kind)]["type"]}, {"id", candidate}};
}

}  // namespace

std::vector<std::string> SearchCandidates(const Program& program,
                                          SearchKind kind) {
  if (kind == SearchKind::kAction) return MentionedActions(program);
  std::vector<std::string> ids;
  for (const DataJoin& join : program.joins) {
    if (join.group != GroupName(kind)) continue;
    for (const auto& [id, record] : join.records) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

JsonResponse AuthzenHttpService::Search(SearchKind kind,
                                        const std::string& body) const {
  Json request;
  if (absl::Status s = ParseBody(body, request); !s.ok()) {
    return Reject(DecisionApi::kAuthzenSearch, std::string(s.message()));
  }
  PageRequest page;
  if (request.is_object()) {
    if (std::string error = ReadPage(request, page); !error.empty()) {
      return Reject(DecisionApi::kAuthzenSearch, std::move(error));
    }
    request.erase("page");
  }
  const char* group = GroupName(kind);
  if (std::string error = CheckAccessRequest(request, "", group);
      !error.empty()) {
    return Reject(DecisionApi::kAuthzenSearch, std::move(error));
  }
  const std::shared_ptr<const Program> program = store_.Current();
  if (program == nullptr) {
    return ErrorResponse(503, "no policy set is loaded yet; retry shortly");
  }

  const std::vector<std::string> candidates = SearchCandidates(*program, kind);
  size_t next = 0;
  if (!page.after.empty()) {
    auto it = std::find(candidates.begin(), candidates.end(), page.after);
    if (it == candidates.end()) {
      return ErrorResponse(
          400, absl::StrCat("page.token refers to \"", page.after,
                            "\", which the loaded policies and data no "
                            "longer contain; restart the search without a "
                            "token"));
    }
    next = static_cast<size_t>(it - candidates.begin()) + 1;
  }
  if (kind == SearchKind::kAction && !request.contains("action")) {
    request["action"] = Json::object();
  }

  Json results = Json::array();
  std::string last_returned;
  bool more = false;
  for (; next < candidates.size(); ++next) {
    Json& member = request[group];
    member[kind == SearchKind::kAction ? "name" : "id"] = candidates[next];
    Json decision;
    if (absl::Status s = Decide(*program, request, DecisionApi::kAuthzenSearch,
                                recorder_, decision);
        !s.ok()) {
      return ErrorResponse(400, std::string(s.message()));
    }
    if (!decision["decision"].get<bool>()) continue;
    // One permitted candidate past a full page proves a next page exists.
    if (results.size() == page.limit) {
      more = true;
      break;
    }
    results.push_back(ResultEntry(kind, request, candidates[next]));
    last_returned = candidates[next];
  }

  Json page_out = {
      {"next_token",
       more ? absl::WebSafeBase64Escape(last_returned) : std::string()},
      {"count", results.size()}};
  return {200,
          {{"results", std::move(results)},
           {"page", std::move(page_out)},
           {"context", {{"revision", program->revision}}}}};
}

}  // namespace verdict::server
