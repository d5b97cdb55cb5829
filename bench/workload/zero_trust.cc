// The zero-trust workload: rules, requests, their Verdict encoding and the
// engine-neutral workload.json.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/workload/random.h"
#include "bench/workload/workload.h"
#include "nlohmann/json.hpp"

namespace verdict::workload {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kRoles = 50;
constexpr int kResourceTypes = 20;
constexpr const char* kActions[] = {"read",   "write",   "delete", "share",
                                    "list",   "create",  "approve", "export"};
constexpr const char* kScopes[] = {
    "docs.read",  "docs.write",  "docs.share",     "mail.read",
    "mail.send",  "files.read",  "files.write",    "calendar.read",
    "admin.read", "admin.write", "billing.read",   "billing.write"};
constexpr int kActionCount = std::size(kActions);
constexpr int kScopeCount = std::size(kScopes);

// The tcb_status value (Intel's name) of an up-to-date TEE.
constexpr char kTcbUpToDate[] = "UpToDate";
constexpr char kTcbOutOfDate[] = "OutOfDate";

int TenantCount(int size) { return std::max(1, size / 50); }

ZeroTrustRule RandomRule(Random& random, int index, int tenants) {
  ZeroTrustRule rule;
  rule.id = absl::StrCat("r", index);
  rule.role = random.Name("role", kRoles);
  rule.tenant = random.Name("tenant", tenants);
  rule.resource_type = random.Name("type", kResourceTypes);
  rule.action = kActions[random.Below(kActionCount)];
  if (!random.Percent(25)) rule.scope = kScopes[random.Below(kScopeCount)];
  rule.require_tee = random.Percent(30);
  rule.allow_agent = random.Percent(30);
  return rule;
}

// Builds a request that `rule` matches.
ZeroTrustRequest MatchingRequest(Random& random, const ZeroTrustRule& rule,
                                 int index) {
  ZeroTrustRequest request;
  request.subject_id = random.Name("user", 10'000);
  request.role = rule.role;
  request.subject_tenant = rule.tenant;
  request.resource_tenant = rule.tenant;
  request.resource_type = rule.resource_type;
  request.resource_id = absl::StrCat("res-", index);
  request.action = rule.action;
  if (rule.scope) request.scopes.push_back(*rule.scope);
  for (int extra = random.Below(3); extra > 0; --extra) {
    request.scopes.push_back(kScopes[random.Below(kScopeCount)]);
  }
  std::sort(request.scopes.begin(), request.scopes.end());
  request.scopes.erase(std::unique(request.scopes.begin(), request.scopes.end()),
                       request.scopes.end());
  if (rule.require_tee || random.Percent(50)) request.tee = TeeClaims{};
  if (rule.allow_agent && random.Percent(50)) {
    request.actor_id = random.Name("agent-", 100);
  }
  return request;
}

// Changes one attribute so that `request` may no longer match its rule.
void Perturb(Random& random, ZeroTrustRequest& request, int tenants) {
  switch (random.Below(8)) {
    case 0: request.action = kActions[random.Below(kActionCount)]; break;
    case 1: request.resource_type = random.Name("type", kResourceTypes); break;
    case 2: request.subject_tenant = random.Name("tenant", tenants); break;
    case 3: request.role = random.Name("role", kRoles); break;
    case 4: request.scopes.clear(); break;
    case 5: request.tee = TeeClaims{.debug = true, .tcb_ok = true}; break;
    case 6: request.tee = TeeClaims{.debug = false, .tcb_ok = false}; break;
    default: request.actor_id = random.Name("agent-", 100); break;
  }
}

Json RuleJson(const ZeroTrustRule& rule) {
  Json json;
  json["id"] = rule.id;
  json["effect"] = rule.permit ? "permit" : "forbid";
  json["role"] = rule.role;
  json["tenant"] = rule.tenant;
  json["resource_type"] = rule.resource_type;
  json["action"] = rule.action;
  json["scope"] = rule.scope ? Json(*rule.scope) : Json(nullptr);
  json["require_tee"] = rule.require_tee;
  json["allow_agent"] = rule.allow_agent;
  return json;
}

Json RequestJson(const ZeroTrustRequest& request) {
  Json json;
  json["subject"] = {{"id", request.subject_id},
                     {"role", request.role},
                     {"tenant", request.subject_tenant}};
  json["actor"] = request.actor_id ? Json{{"id", *request.actor_id}}
                                   : Json(nullptr);
  json["scopes"] = request.scopes;
  json["tee"] = request.tee ? Json{{"debug", request.tee->debug},
                                   {"tcb_ok", request.tee->tcb_ok}}
                            : Json(nullptr);
  json["action"] = request.action;
  json["resource"] = {{"id", request.resource_id},
                      {"type", request.resource_type},
                      {"tenant", request.resource_tenant}};
  json["expected"] = request.expected;
  return json;
}

}  // namespace

bool Matches(const ZeroTrustRule& rule, const ZeroTrustRequest& request) {
  if (rule.role != request.role || rule.tenant != request.resource_tenant ||
      request.subject_tenant != request.resource_tenant ||
      rule.resource_type != request.resource_type ||
      rule.action != request.action) {
    return false;
  }
  if (rule.scope &&
      std::find(request.scopes.begin(), request.scopes.end(), *rule.scope) ==
          request.scopes.end()) {
    return false;
  }
  if (rule.require_tee &&
      !(request.tee && !request.tee->debug && request.tee->tcb_ok)) {
    return false;
  }
  return rule.allow_agent || !request.actor_id;
}

bool BruteForceDecision(const std::vector<ZeroTrustRule>& rules,
                        const ZeroTrustRequest& request) {
  bool permitted = false;
  for (const ZeroTrustRule& rule : rules) {
    if (!Matches(rule, request)) continue;
    if (!rule.permit) return false;
    permitted = true;
  }
  return permitted;
}

ZeroTrustWorkload GenerateZeroTrust(int size, uint64_t seed,
                                    int request_count) {
  ZeroTrustWorkload workload;
  workload.seed = seed;
  workload.size = size;
  Random random(seed);
  const int tenants = TenantCount(size);
  std::vector<int> permits;
  for (int i = 0; i < size; ++i) {
    ZeroTrustRule rule = RandomRule(random, i, tenants);
    // Rule 0 is a permit so that every size has one to build requests from.
    rule.permit = i == 0 || !random.Percent(10);
    if (!rule.permit && random.Percent(50)) {
      // Half the forbids target what an earlier permit grants, so that
      // deny-overrides decides some requests.
      const ZeroTrustRule& target =
          workload.rules[permits[random.Below(permits.size())]];
      rule.role = target.role;
      rule.tenant = target.tenant;
      rule.resource_type = target.resource_type;
      rule.action = target.action;
    }
    if (rule.permit) permits.push_back(i);
    workload.rules.push_back(std::move(rule));
  }
  for (int i = 0; i < request_count; ++i) {
    const ZeroTrustRule& rule =
        workload.rules[permits[random.Below(permits.size())]];
    ZeroTrustRequest request = MatchingRequest(random, rule, i);
    if (random.Percent(60)) Perturb(random, request, tenants);
    request.expected = BruteForceDecision(workload.rules, request);
    workload.requests.push_back(std::move(request));
  }
  return workload;
}

std::string ZeroTrustPolicyText(const ZeroTrustWorkload& workload, int begin,
                                int end, bool with_schema) {
  std::string text;
  if (with_schema) {
    text =
        "// Generated zero-trust workload: one policy per rule.\n"
        "schema subject { id: string  role: string  tenant: string }\n"
        "schema action { name: string }\n"
        "schema resource { type: string  id: string  tenant: string }\n"
        "schema token { scope: set<string> }\n"
        "// An agent acting for the subject; absent when none is.\n"
        "schema actor { id?: string }\n"
        "// Attestation results; absent without a TEE.\n"
        "schema tee { debug?: bool  tcb_status?: string }\n\n";
  }
  for (int i = begin; i < end; ++i) {
    const ZeroTrustRule& rule = workload.rules[i];
    absl::StrAppend(&text, rule.permit ? "permit" : "forbid", " \"", rule.id,
                    "\" when {\n  action.name == \"", rule.action,
                    "\" and resource.type == \"", rule.resource_type,
                    "\"\n  and resource.tenant == \"", rule.tenant,
                    "\" and subject.tenant == resource.tenant\n"
                    "  and subject.role == \"",
                    rule.role, "\"");
    if (rule.scope) {
      absl::StrAppend(&text, " and \"", *rule.scope, "\" in token.scope");
    }
    if (rule.require_tee) {
      absl::StrAppend(&text,
                      "\n  and tee has debug and tee has tcb_status"
                      " and not tee.debug and tee.tcb_status == \"",
                      kTcbUpToDate, "\"");
    }
    if (!rule.allow_agent) absl::StrAppend(&text, "\n  and not (actor has id)");
    absl::StrAppend(&text, "\n}\n");
  }
  return text;
}

std::string ZeroTrustRequestJson(const ZeroTrustRequest& request) {
  Json json;
  json["subject"] = {{"type", "user"},
                     {"id", request.subject_id},
                     {"properties",
                      {{"role", request.role},
                       {"tenant", request.subject_tenant}}}};
  json["action"] = {{"name", request.action}};
  json["resource"] = {{"type", request.resource_type},
                      {"id", request.resource_id},
                      {"properties", {{"tenant", request.resource_tenant}}}};
  Json attributes;
  attributes["token"] = {{"scope", request.scopes}};
  if (request.actor_id) attributes["actor"] = {{"id", *request.actor_id}};
  if (request.tee) {
    attributes["tee"] = {
        {"debug", request.tee->debug},
        {"tcb_status", request.tee->tcb_ok ? kTcbUpToDate : kTcbOutOfDate}};
  }
  json["attributes"] = std::move(attributes);
  return json.dump();
}

std::string ZeroTrustWorkloadJson(const ZeroTrustWorkload& workload) {
  Json json;
  json["seed"] = workload.seed;
  json["size"] = workload.size;
  json["rules"] = Json::array();
  for (const ZeroTrustRule& rule : workload.rules) {
    json["rules"].push_back(RuleJson(rule));
  }
  json["requests"] = Json::array();
  for (const ZeroTrustRequest& request : workload.requests) {
    json["requests"].push_back(RequestJson(request));
  }
  return json.dump(1);
}

}  // namespace verdict::workload
