// Attribute types of the policy language, shared by the compiler and engine.

#ifndef VERDICT_ENGINE_TYPES_H_
#define VERDICT_ENGINE_TYPES_H_

#include <cstdint>
#include <string_view>

namespace verdict {

// The type of an attribute slot. Timestamps are Unix seconds and durations
// are seconds, both as exact 64-bit integers.
enum class Type : uint8_t {
  kBool,
  kInt,
  kString,
  kStringSet,   // unordered, duplicates collapse: set<string>
  kStringList,  // ordered: list<string>, compared as a whole
  kTimestamp,
  kDuration,
  kDecimal,  // fixed point: the value times 10^4, as an exact int64
  kIp,       // IPv4 or IPv6 address; IPv4 is kept as IPv4-mapped IPv6
  kCidr,     // an address range: network address and prefix length
};

// Returns the name used in policy source: "bool", "set<string>", ...
std::string_view TypeName(Type type);

// True for types whose values are 64-bit integers at run time.
constexpr bool IsIntegral(Type type) {
  return type == Type::kInt || type == Type::kTimestamp ||
         type == Type::kDuration || type == Type::kBool ||
         type == Type::kDecimal;
}

}  // namespace verdict

#endif  // VERDICT_ENGINE_TYPES_H_
