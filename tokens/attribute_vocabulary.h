// The attribute paths that token verification can set, with their types,
// so that a policy that names one can be checked before any token arrives.
#ifndef VERDICT_TOKENS_ATTRIBUTE_VOCABULARY_H_
#define VERDICT_TOKENS_ATTRIBUTE_VOCABULARY_H_

#include <optional>
#include <string_view>

#include "tokens/claim_attributes.h"

namespace verdict::tokens {

// Returns the kind of attribute `path` when token verification can set it,
// std::nullopt otherwise. Covers the attributes MapClaims produces, the
// per-request ones computed at decision time (token.age, tee.age,
// client.authenticated_id, client.binding_ok) and token.verified /
// tee.verified, plus the patterns tee.trust_vector.<claim> (one of the eight
// AR4SI claims, such as hardware or file_system) and
// tee.submods.<name>.status (<name> an identifier, such as cpu0).
// Thread-safe; cost: a binary search over about 80 paths.
std::optional<AttributeKind> VocabularyKind(std::string_view path);

// True when `name` can be one segment of an attribute path: an identifier
// of the policy language, [A-Za-z_][A-Za-z0-9_]*.
bool IsAttributeName(std::string_view name);

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_ATTRIBUTE_VOCABULARY_H_
