// Parsing and formatting of the typed scalar values that arrive as text:
// IP addresses, CIDR ranges, decimals and durations.

#ifndef VERDICT_ENGINE_VALUES_H_
#define VERDICT_ENGINE_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verdict {

// An address is 16 bytes in network order. IPv4 addresses, and IPv6
// addresses in the IPv4-mapped range ::ffff:0:0/96, are both kept as the
// IPv4-mapped form, so 10.0.0.1 and ::ffff:10.0.0.1 are the same address.
inline constexpr size_t kIpBytes = 16;
// A range is the 16 address bytes followed by the prefix length (0-128; an
// IPv4 prefix /n is stored as /96+n).
inline constexpr size_t kCidrBytes = 17;

// Parses "10.0.0.1", "2001:db8::1" or "::ffff:10.0.0.1" into kIpBytes bytes.
// Returns nullopt for anything else (no zone ids, no leading zeros rules
// beyond inet_pton's).
std::optional<std::string> ParseIp(std::string_view text);

// Parses "10.0.0.0/8" or "2001:db8::/32" into kCidrBytes bytes. Host bits
// below the prefix must be zero: "10.0.0.1/8" is rejected, because it
// usually means a mistyped range.
std::optional<std::string> ParseCidr(std::string_view text);

// True when address `ip` (kIpBytes) lies in range `cidr` (kCidrBytes).
bool IpInCidr(std::string_view ip, std::string_view cidr);

// Renders bytes from ParseIp / ParseCidr back to the usual text form, with
// IPv4-mapped addresses as dotted quads.
std::string FormatIp(std::string_view ip);
std::string FormatCidr(std::string_view cidr);

// Decimals have 4 fractional digits and are stored as value * 10^4.
inline constexpr int64_t kDecimalScale = 10'000;

// Parses "-12.5", "0.0001" or "7" (at most 4 fractional digits, no exponent)
// into a scaled integer. The sign applies to the whole value, so "-0.5" is
// -5000. Returns nullopt for other text or a value out of range.
std::optional<int64_t> ParseDecimal(std::string_view text);
std::string FormatDecimal(int64_t scaled);

// Parses a duration such as "90s", "5m", "1h30m" or "2d" into seconds.
std::optional<int64_t> ParseDuration(std::string_view text);
// Renders seconds in the largest unit that divides them: 300 -> "5m".
std::string FormatDuration(int64_t seconds);

// True when `text` is not in the form that path tests require: its path
// has an empty segment ("//" anywhere), or a segment that is "." or "..",
// with any of the dots percent-encoded as "%2e" or "%2E". The path is the
// text after a leading "scheme://authority" (as in "spiffe://example.org/ns/a"
// or "https://host/a"), else the whole text. Segments are split at '/'. A
// trailing '/' and dots inside a segment ("a..b") are allowed. Backslashes
// and other percent-encodings are not interpreted.
bool IsNonCanonicalPath(std::string_view text);

}  // namespace verdict

#endif  // VERDICT_ENGINE_VALUES_H_
