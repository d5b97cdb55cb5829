// The hierarchy workloads, shaped like the document-sharing (GDrive) and
// repository (GitHub) models that Cedar and OpenFGA publish benchmarks on.
//
// GDrive: users belong to groups (groups nest), documents sit in folders
// (folders nest). A rule shares one document, or everything in a folder,
// with a user or a group, as viewer, commenter or editor. Every document has
// an owner, joined from data/documents.json, and one static rule lets
// owners do everything.
//
// GitHub: every repository has five role groups, admin within maintainer
// within writer within triager within reader, so a member of a stronger
// role is also in every weaker one. Teams (which nest), single users and
// the repository's organisation are members of role groups. A rule grants
// one role's actions on one repository.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/workload/random.h"
#include "bench/workload/workload.h"
#include "nlohmann/json.hpp"

namespace verdict::workload {
namespace {

using Json = nlohmann::ordered_json;

// Entity hierarchy under construction: parents and children by entity.
struct Graph {
  std::map<std::string, std::vector<std::string>> parents;
  std::map<std::string, std::vector<std::string>> children;

  void Link(const std::string& child, const std::string& parent) {
    std::vector<std::string>& up = parents[child];
    if (std::find(up.begin(), up.end(), parent) != up.end()) return;
    up.push_back(parent);
    children[parent].push_back(child);
  }

  // Returns `entity` and every entity above it.
  std::set<std::string> Ancestors(const std::string& entity) const {
    std::set<std::string> seen{entity};
    std::vector<std::string> stack{entity};
    while (!stack.empty()) {
      std::string next = std::move(stack.back());
      stack.pop_back();
      auto it = parents.find(next);
      if (it == parents.end()) continue;
      for (const std::string& parent : it->second) {
        if (seen.insert(parent).second) stack.push_back(parent);
      }
    }
    return seen;
  }

  // Walks down from `entity` to a random descendant whose name starts with
  // `prefix` (such as "user::"); returns "" when the walk finds none.
  std::string RandomDescendant(Random& random, std::string entity,
                               const std::string& prefix) const {
    for (int step = 0; step < 64; ++step) {
      if (entity.starts_with(prefix)) return entity;
      auto it = children.find(entity);
      if (it == children.end()) return "";
      entity = it->second[random.Below(it->second.size())];
    }
    return "";
  }
};

const std::vector<std::string> kGDriveRoles[] = {
    {"read"}, {"read", "comment"}, {"read", "comment", "write"}};
const std::vector<std::string> kGDriveActions = {"read", "comment", "write",
                                                 "share", "delete"};

const char* kGitHubRoles[] = {"reader", "triager", "writer", "maintainer",
                              "admin"};
const std::vector<std::string> kGitHubRoleActions[] = {
    {"pull", "fork"}, {"triage"}, {"push"}, {"maintain"}, {"delete"}};
const std::vector<std::string> kGitHubActions = {"pull", "fork", "triage",
                                                 "push", "maintain", "delete"};

std::string Entity(const std::string& type, const std::string& id) {
  return absl::StrCat(type, "::", id);
}

struct Built {
  Graph graph;
  std::map<std::string, std::string> owners;  // document id -> user id
  int users = 0;
  std::vector<std::string> resources;  // resource ids
};

Built BuildGDrive(Random& random, HierarchyWorkload& workload) {
  const int size = workload.size;
  Built built;
  built.users = std::max(10, size / 4);
  const int groups = std::max(3, size / 40);
  const int folders = std::max(3, size / 8);
  const int documents = std::max(10, size / 2);
  for (int g = 1; g < groups; ++g) {
    if (random.Percent(50)) {
      built.graph.Link(Entity("Group", absl::StrCat("g", g)),
                       Entity("Group", random.Name("g", g)));
    }
  }
  for (int u = 0; u < built.users; ++u) {
    std::string user = Entity("user", absl::StrCat("u", u));
    for (int n = 1 + random.Below(2); n > 0; --n) {
      built.graph.Link(user, Entity("Group", random.Name("g", groups)));
    }
  }
  for (int f = 1; f < folders; ++f) {
    built.graph.Link(Entity("Folder", absl::StrCat("f", f)),
                     Entity("Folder", random.Name("f", f)));
  }
  for (int d = 0; d < documents; ++d) {
    std::string id = absl::StrCat("doc", d);
    built.graph.Link(Entity("doc", id), Entity("Folder", random.Name("f", folders)));
    built.owners[id] = random.Name("u", built.users);
    built.resources.push_back(id);
  }

  HierarchyRule owner;
  owner.id = "owner-full-access";
  owner.owner_rule = true;
  owner.actions = kGDriveActions;
  owner.resource_type = "doc";
  workload.rules.push_back(owner);
  for (int i = 1; i < size; ++i) {
    HierarchyRule rule;
    rule.id = absl::StrCat("share", i);
    rule.actions = kGDriveRoles[random.Below(3)];
    rule.resource_type = "doc";
    rule.principal = random.Percent(50)
                         ? Entity("user", random.Name("u", built.users))
                         : Entity("Group", random.Name("g", groups));
    if (random.Percent(50)) {
      rule.resource_id = random.Name("doc", documents);
    } else {
      rule.resource_ancestor = Entity("Folder", random.Name("f", folders));
    }
    workload.rules.push_back(std::move(rule));
  }
  return built;
}

Built BuildGitHub(Random& random, HierarchyWorkload& workload) {
  const int size = workload.size;
  Built built;
  const int repos = (size + 4) / 5;
  const int orgs = std::max(1, repos / 20);
  const int teams = std::max(2, repos / 2);
  built.users = std::max(20, repos * 2);
  for (int t = 1; t < teams; ++t) {
    if (random.Percent(30)) {
      built.graph.Link(Entity("Team", absl::StrCat("t", t)),
                       Entity("Team", random.Name("t", t)));
    }
  }
  for (int u = 0; u < built.users; ++u) {
    std::string user = Entity("user", absl::StrCat("u", u));
    built.graph.Link(user, Entity("Org", random.Name("o", orgs)));
    for (int n = 1 + random.Below(2); n > 0; --n) {
      built.graph.Link(user, Entity("Team", random.Name("t", teams)));
    }
  }
  for (int r = 0; r < repos; ++r) {
    std::string id = absl::StrCat("repo", r);
    built.resources.push_back(id);
    auto role_group = [&](int role) {
      return Entity("Group", absl::StrCat(id, "-", kGitHubRoles[role]));
    };
    for (int role = 4; role > 0; --role) {
      built.graph.Link(role_group(role), role_group(role - 1));
    }
    built.graph.Link(Entity("Org", random.Name("o", orgs)), role_group(0));
    for (int n = 1 + random.Below(2); n > 0; --n) {
      built.graph.Link(Entity("Team", random.Name("t", teams)),
                       role_group(random.Below(5)));
    }
    built.graph.Link(Entity("user", random.Name("u", built.users)),
                     role_group(random.Below(5)));
    for (int role = 0; role < 5 && workload.rules.size() < size_t(size);
         ++role) {
      HierarchyRule rule;
      rule.id = absl::StrCat(id, "-", kGitHubRoles[role]);
      rule.principal = role_group(role);
      rule.actions = kGitHubRoleActions[role];
      rule.resource_type = "repo";
      rule.resource_id = id;
      workload.rules.push_back(std::move(rule));
    }
  }
  return built;
}

bool RuleMatches(const HierarchyRule& rule, const Built& built,
                 const HierarchyRequest& request,
                 const std::set<std::string>& subject_ancestors,
                 const std::set<std::string>& resource_ancestors) {
  if (rule.resource_type != request.resource_type) return false;
  if (std::find(rule.actions.begin(), rule.actions.end(), request.action) ==
      rule.actions.end()) {
    return false;
  }
  if (rule.owner_rule) {
    auto it = built.owners.find(request.resource_id);
    return it != built.owners.end() && it->second == request.subject_id;
  }
  if (rule.resource_id && *rule.resource_id != request.resource_id) {
    return false;
  }
  if (rule.resource_ancestor &&
      !resource_ancestors.contains(*rule.resource_ancestor)) {
    return false;
  }
  return subject_ancestors.contains(rule.principal);
}

bool Decide(const HierarchyWorkload& workload, const Built& built,
            const HierarchyRequest& request) {
  std::set<std::string> subject_ancestors =
      built.graph.Ancestors(Entity("user", request.subject_id));
  std::set<std::string> resource_ancestors = built.graph.Ancestors(
      Entity(request.resource_type, request.resource_id));
  for (const HierarchyRule& rule : workload.rules) {
    if (RuleMatches(rule, built, request, subject_ancestors,
                    resource_ancestors)) {
      return true;  // every rule is a permit
    }
  }
  return false;
}

// Builds a request that `rule` grants, or returns false when the random
// walks find no user or resource below the rule's entities.
bool GrantedRequest(Random& random, const Built& built,
                    const HierarchyRule& rule, HierarchyRequest& request) {
  request.resource_type = rule.resource_type;
  request.action = rule.actions[random.Below(rule.actions.size())];
  if (rule.owner_rule) {
    auto it = built.owners.begin();
    std::advance(it, random.Below(built.owners.size()));
    request.resource_id = it->first;
    request.subject_id = it->second;
    return true;
  }
  std::string user = built.graph.RandomDescendant(random, rule.principal,
                                                  "user::");
  if (user.empty()) return false;
  request.subject_id = user.substr(6);
  if (rule.resource_id) {
    request.resource_id = *rule.resource_id;
    return true;
  }
  std::string prefix = absl::StrCat(rule.resource_type, "::");
  std::string resource =
      built.graph.RandomDescendant(random, *rule.resource_ancestor, prefix);
  if (resource.empty()) return false;
  request.resource_id = resource.substr(prefix.size());
  return true;
}

}  // namespace

const char* FamilyName(HierarchyFamily family) {
  return family == HierarchyFamily::kGDrive ? "gdrive" : "github";
}

HierarchyWorkload GenerateHierarchy(HierarchyFamily family, int size,
                                    uint64_t seed, int request_count) {
  HierarchyWorkload workload;
  workload.family = family;
  workload.seed = seed;
  workload.size = size;
  Random random(seed);
  Built built = family == HierarchyFamily::kGDrive
                    ? BuildGDrive(random, workload)
                    : BuildGitHub(random, workload);
  for (const auto& [entity, parents] : built.graph.parents) {
    workload.parents.emplace_back(entity, parents);
  }
  workload.owners.assign(built.owners.begin(), built.owners.end());
  const std::vector<std::string>& actions =
      family == HierarchyFamily::kGDrive ? kGDriveActions : kGitHubActions;
  for (int i = 0; i < request_count; ++i) {
    HierarchyRequest request;
    bool granted = false;
    bool try_granted = random.Percent(50);
    for (int attempt = 0; try_granted && !granted && attempt < 8; ++attempt) {
      const HierarchyRule& rule =
          workload.rules[random.Below(workload.rules.size())];
      granted = GrantedRequest(random, built, rule, request);
    }
    if (!granted) {
      request.subject_id = random.Name("u", built.users);
      request.resource_type =
          family == HierarchyFamily::kGDrive ? "doc" : "repo";
      request.resource_id = built.resources[random.Below(built.resources.size())];
      request.action = actions[random.Below(actions.size())];
    }
    request.expected = Decide(workload, built, request);
    workload.requests.push_back(std::move(request));
  }
  return workload;
}

std::string HierarchyPolicyText(const HierarchyWorkload& workload, int begin,
                                int end, bool with_schema) {
  std::string text;
  if (with_schema) {
    absl::StrAppend(
        &text, "// Generated ", FamilyName(workload.family),
        " workload. Entities and their parents are in data/entities.json.\n"
        "schema subject { type: string  id: string }\n"
        "schema action { name: string }\n");
    absl::StrAppend(&text,
                    workload.family == HierarchyFamily::kGDrive
                        ? "schema resource from documents {\n"
                          "  type: string  id: string  owner?: string\n}\n\n"
                        : "schema resource { type: string  id: string }\n\n");
  }
  for (int i = begin; i < end; ++i) {
    const HierarchyRule& rule = workload.rules[i];
    absl::StrAppend(&text, "permit \"", rule.id, "\" when {\n",
                    "  resource.type == \"", rule.resource_type, "\" and ");
    if (rule.actions.size() == 1) {
      absl::StrAppend(&text, "action.name == \"", rule.actions[0], "\"");
    } else {
      absl::StrAppend(&text, "action.name in [\"",
                      absl::StrJoin(rule.actions, "\", \""), "\"]");
    }
    if (rule.owner_rule) {
      absl::StrAppend(&text,
                      "\n  and resource has owner and resource.owner == "
                      "subject.id\n}\n");
      continue;
    }
    if (rule.resource_id) {
      absl::StrAppend(&text, "\n  and resource.id == \"", *rule.resource_id,
                      "\"");
    } else {
      size_t colon = rule.resource_ancestor->find("::");
      absl::StrAppend(&text, "\n  and resource in ",
                      rule.resource_ancestor->substr(0, colon), "::\"",
                      rule.resource_ancestor->substr(colon + 2), "\"");
    }
    size_t colon = rule.principal.find("::");
    std::string type = rule.principal.substr(0, colon);
    std::string id = rule.principal.substr(colon + 2);
    // A share with one user names the user; a group share goes through the
    // hierarchy.
    if (type == "user") {
      absl::StrAppend(&text, " and subject.id == \"", id, "\"\n}\n");
    } else {
      absl::StrAppend(&text, " and subject in ", type, "::\"", id, "\"\n}\n");
    }
  }
  return text;
}

std::string HierarchyEntitiesJson(const HierarchyWorkload& workload) {
  Json json = Json::object();
  for (const auto& [entity, parents] : workload.parents) json[entity] = parents;
  return json.dump(1);
}

std::string HierarchyDocumentsJson(const HierarchyWorkload& workload) {
  Json json = Json::object();
  for (const auto& [document, owner] : workload.owners) {
    json[document] = {{"owner", owner}};
  }
  return json.dump(1);
}

std::string HierarchyRequestJson(const HierarchyRequest& request) {
  Json json;
  json["subject"] = {{"type", "user"}, {"id", request.subject_id}};
  json["action"] = {{"name", request.action}};
  json["resource"] = {{"type", request.resource_type},
                      {"id", request.resource_id}};
  return json.dump();
}

std::string HierarchyWorkloadJson(const HierarchyWorkload& workload) {
  Json json;
  json["family"] = FamilyName(workload.family);
  json["seed"] = workload.seed;
  json["size"] = workload.size;
  json["requests"] = Json::array();
  for (const HierarchyRequest& request : workload.requests) {
    json["requests"].push_back(
        {{"subject", {{"type", "user"}, {"id", request.subject_id}}},
         {"action", request.action},
         {"resource",
          {{"type", request.resource_type}, {"id", request.resource_id}}},
         {"expected", request.expected}});
  }
  return json.dump(1);
}

}  // namespace verdict::workload
