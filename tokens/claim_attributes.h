// The attributes a verified token establishes: its header and claims mapped
// to Verdict's attribute vocabulary (subject.*, client.*, actor.*, token.*,
// tee.*) with normalised values.
#ifndef VERDICT_TOKENS_CLAIM_ATTRIBUTES_H_
#define VERDICT_TOKENS_CLAIM_ATTRIBUTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokens/trust_config.h"

namespace verdict::tokens {

struct VerifiedToken;

// The type of an attribute a token establishes.
enum class AttributeKind : uint8_t {
  kBool,
  kInt,
  kString,
  kStringSet,
  kStringList
};

// Returns "bool", "int", "string", "set<string>" or "list<string>".
std::string_view AttributeKindName(AttributeKind kind);

// One attribute established by a verified token, such as subject.id. Only
// the member that `kind` names is meaningful.
struct ClaimAttribute {
  std::string path;  // "subject.id", "tee.tcb.snp"
  AttributeKind kind = AttributeKind::kString;
  bool boolean = false;               // kBool
  int64_t integer = 0;                // kInt (Unix seconds for times)
  std::string text;                   // kString
  std::vector<std::string> elements;  // kStringSet (sorted, unique) /
                                      // kStringList (in order)
};

// Returns the attributes that depend only on the token's header and claims
// (not on the clock or the presentation context), sorted by path, each path
// at most once. A claim of the wrong JSON type, hex text that is not hex, or
// two claims that contradict each other leave the attribute out, so a policy
// that tests it sees it absent. Cost: linear in the size of the claims.
// Thread-safe.
std::vector<ClaimAttribute> MapClaims(const VerifiedToken& token);

// Returns the provenance name of a token kind: "id-jag", "access_token" or
// "ear".
std::string_view SourceName(TokenKind kind);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_CLAIM_ATTRIBUTES_H_
