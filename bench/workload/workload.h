// Deterministic generated workloads for benchmarks and engine comparisons.
//
// Two families:
//
// - Zero trust: N rules, each granting one role of one tenant one action on
//   one resource type, optionally requiring a token scope, a trustworthy TEE
//   (not in debug mode, TCB up to date) and forbidding agents. About 10% of
//   the rules are forbids (deny-overrides). Its engine-neutral form,
//   workload.json, is what adapters for other engines translate from.
// - Hierarchies, shaped like the document-sharing (GDrive) and repository
//   (GitHub) models: users in groups or teams, documents in folders,
//   repositories with roles that include one another. Every rule grants
//   through an entity hierarchy (`subject in Group::"x"`).
//
// Every workload carries requests whose expected decision the generator
// computes by brute force over its own rule list, independently of the
// Verdict compiler. The same options give byte-identical output on every
// platform: the generator uses std::mt19937_64 and its own range reduction,
// never the implementation-defined standard distributions.

#ifndef VERDICT_BENCH_WORKLOAD_WORKLOAD_H_
#define VERDICT_BENCH_WORKLOAD_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace verdict::workload {

constexpr uint64_t kDefaultSeed = 42;

// Policy files hold at most this many rules, which keeps each file far
// below the compiler's 1 MiB limit per file.
constexpr int kRulesPerFile = 1000;

// ---------------------------------------------------------------- zero trust

struct ZeroTrustRule {
  std::string id;
  bool permit = true;
  std::string role;
  std::string tenant;
  std::string resource_type;
  std::string action;
  std::optional<std::string> scope;  // none: no scope needed
  bool require_tee = false;
  bool allow_agent = false;
};

struct TeeClaims {
  bool debug = false;
  bool tcb_ok = true;
};

struct ZeroTrustRequest {
  std::string subject_id;
  std::string role;
  std::string subject_tenant;
  std::optional<std::string> actor_id;  // none: no agent acting
  std::vector<std::string> scopes;
  std::optional<TeeClaims> tee;         // none: no attestation
  std::string action;
  std::string resource_id;
  std::string resource_type;
  std::string resource_tenant;
  bool expected = false;  // PERMIT
};

struct ZeroTrustWorkload {
  uint64_t seed = kDefaultSeed;
  int size = 0;
  std::vector<ZeroTrustRule> rules;
  std::vector<ZeroTrustRequest> requests;
};

// Returns true when `rule` matches `request`, by the workload's definition.
bool Matches(const ZeroTrustRule& rule, const ZeroTrustRequest& request);

// Returns the deny-overrides decision of `rules` on `request` by checking
// every rule: PERMIT (true) iff some permit matches and no forbid does.
bool BruteForceDecision(const std::vector<ZeroTrustRule>& rules,
                        const ZeroTrustRequest& request);

// Generates `size` rules and `request_count` requests, about half of them
// PERMIT. REQUIRES: size >= 1 and request_count >= 0.
ZeroTrustWorkload GenerateZeroTrust(int size, uint64_t seed, int request_count);

// Returns the Verdict source of rules [begin, end) of `workload`; with
// `with_schema` the text starts with the schema the rules read.
std::string ZeroTrustPolicyText(const ZeroTrustWorkload& workload, int begin,
                                int end, bool with_schema);

// Returns `request` as an AuthZEN-shaped JSON request for the schema of
// ZeroTrustPolicyText.
std::string ZeroTrustRequestJson(const ZeroTrustRequest& request);

// Returns the engine-neutral workload.json document.
std::string ZeroTrustWorkloadJson(const ZeroTrustWorkload& workload);

// ---------------------------------------------------------------- hierarchies

enum class HierarchyFamily { kGDrive, kGitHub };

// Returns "gdrive" or "github".
const char* FamilyName(HierarchyFamily family);

// One rule: grants `actions` to every member of entity `principal` (direct
// or through nested groups) on `resource_id` when it is set, otherwise on
// everything under entity `resource_ancestor`. An owner rule instead grants
// them to the owner of each document.
struct HierarchyRule {
  std::string id;
  bool owner_rule = false;
  std::string principal;  // an entity, "Group::eng" or "user::u3"
  std::vector<std::string> actions;
  std::string resource_type;                // "doc" or "repo"
  std::optional<std::string> resource_id;   // one resource
  std::optional<std::string> resource_ancestor;  // "Folder::f2"
};

struct HierarchyRequest {
  std::string subject_id;  // a user; the entity is user::<id>
  std::string action;
  std::string resource_type;
  std::string resource_id;
  bool expected = false;  // PERMIT
};

struct HierarchyWorkload {
  HierarchyFamily family = HierarchyFamily::kGDrive;
  uint64_t seed = kDefaultSeed;
  int size = 0;
  std::vector<HierarchyRule> rules;
  // Entity -> direct parents, in the shape of the compiler's entities.json.
  std::vector<std::pair<std::string, std::vector<std::string>>> parents;
  // Document id -> owner's user id (GDrive only).
  std::vector<std::pair<std::string, std::string>> owners;
  std::vector<HierarchyRequest> requests;
};

// Generates `size` permit rules over an entity hierarchy that grows with
// `size`, and `request_count` requests, about half of them PERMIT.
// REQUIRES: size >= 1 and request_count >= 0.
HierarchyWorkload GenerateHierarchy(HierarchyFamily family, int size,
                                    uint64_t seed, int request_count);

// Returns the Verdict source of rules [begin, end); with `with_schema` the
// text starts with the schema the rules read.
std::string HierarchyPolicyText(const HierarchyWorkload& workload, int begin,
                                int end, bool with_schema);

// Returns the data/entities.json document of the workload's hierarchy.
std::string HierarchyEntitiesJson(const HierarchyWorkload& workload);

// Returns the data/documents.json document: each document's owner.
std::string HierarchyDocumentsJson(const HierarchyWorkload& workload);

// Returns `request` as an AuthZEN-shaped JSON request.
std::string HierarchyRequestJson(const HierarchyRequest& request);

// Returns {"family", "seed", "size", "requests": [{..., "expected"}]}.
std::string HierarchyWorkloadJson(const HierarchyWorkload& workload);

// ---------------------------------------------------------------- output

// Writes `<dir>/verdict/policies/*.verdict` (kRulesPerFile rules per file)
// and `<dir>/workload.json`, creating the directories. Returns an error
// naming the path that could not be written.
absl::Status WriteZeroTrust(const ZeroTrustWorkload& workload,
                            const std::string& dir);

// Writes `<dir>/verdict/policies/*.verdict`, `<dir>/verdict/data/` (the
// entities.json hierarchy and, for GDrive, documents.json) and
// `<dir>/workload.json`.
absl::Status WriteHierarchy(const HierarchyWorkload& workload,
                            const std::string& dir);

}  // namespace verdict::workload

#endif  // VERDICT_BENCH_WORKLOAD_WORKLOAD_H_
