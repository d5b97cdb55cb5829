#include "engine/values.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace verdict {
namespace {

constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

bool IsMapped(std::string_view ip) {
  return std::memcmp(ip.data(), kMappedPrefix, sizeof(kMappedPrefix)) == 0;
}

}  // namespace

std::optional<std::string> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string input(text);
  std::string out(kIpBytes, '\0');
  unsigned char v4[4];
  if (inet_pton(AF_INET, input.c_str(), v4) == 1) {
    std::memcpy(out.data(), kMappedPrefix, sizeof(kMappedPrefix));
    std::memcpy(out.data() + 12, v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, input.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

std::optional<std::string> ParseCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view address = text.substr(0, slash);
  std::string_view length_text = text.substr(slash + 1);
  // Digits only, without a sign, spaces or leading zeros.
  if (length_text.empty() || length_text.size() > 3 ||
      (length_text.size() > 1 && length_text[0] == '0')) {
    return std::nullopt;
  }
  int length = 0;
  for (char c : length_text) {
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + (c - '0');
  }
  std::optional<std::string> ip = ParseIp(address);
  if (!ip.has_value()) return std::nullopt;
  const bool v4 = address.find(':') == std::string_view::npos;
  if (length < 0 || length > (v4 ? 32 : 128)) return std::nullopt;
  const int prefix = v4 ? length + 96 : length;
  for (int bit = prefix; bit < 128; ++bit) {
    if ((*ip)[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  ip->push_back(static_cast<char>(prefix));
  return ip;
}

bool IpInCidr(std::string_view ip, std::string_view cidr) {
  const int prefix = static_cast<unsigned char>(cidr[kIpBytes]);
  const int whole = prefix / 8;
  if (std::memcmp(ip.data(), cidr.data(), whole) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (ip[whole] & mask) == (cidr[whole] & mask);
}

std::string FormatIp(std::string_view ip) {
  char buffer[INET6_ADDRSTRLEN];
  if (IsMapped(ip)) {
    inet_ntop(AF_INET, ip.data() + 12, buffer, sizeof(buffer));
  } else {
    inet_ntop(AF_INET6, ip.data(), buffer, sizeof(buffer));
  }
  return buffer;
}

std::string FormatCidr(std::string_view cidr) {
  int prefix = static_cast<unsigned char>(cidr[kIpBytes]);
  if (IsMapped(cidr.substr(0, kIpBytes)) && prefix >= 96) prefix -= 96;
  return absl::StrCat(FormatIp(cidr.substr(0, kIpBytes)), "/", prefix);
}

std::optional<int64_t> ParseDecimal(std::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 4 ||
      (dot != std::string_view::npos && fraction.empty())) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (std::string_view digits : {whole, fraction}) {
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, c - '0', &value)) {
        return std::nullopt;
      }
    }
  }
  for (size_t i = fraction.size(); i < 4; ++i) {
    if (__builtin_mul_overflow(value, 10, &value)) return std::nullopt;
  }
  return negative ? -value : value;
}

std::string FormatDecimal(int64_t scaled) {
  // The magnitude as unsigned, so that INT64_MIN is representable.
  uint64_t magnitude = scaled < 0 ? uint64_t{0} - static_cast<uint64_t>(scaled)
                                  : static_cast<uint64_t>(scaled);
  std::string fraction = absl::StrCat(magnitude % kDecimalScale);
  fraction.insert(0, 4 - fraction.size(), '0');
  while (fraction.size() > 1 && fraction.back() == '0') fraction.pop_back();
  return absl::StrCat(scaled < 0 ? "-" : "", magnitude / kDecimalScale, ".",
                      fraction);
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      ++digits;
    }
    if (digits == 0 || digits == text.size()) return std::nullopt;
    int64_t count;
    if (!absl::SimpleAtoi(ToAbsl(text.substr(0, digits)), &count)) {
      return std::nullopt;
    }
    int64_t unit;
    switch (text[digits]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return std::nullopt;
    }
    int64_t seconds;
    if (__builtin_mul_overflow(count, unit, &seconds) ||
        __builtin_add_overflow(total, seconds, &total)) {
      return std::nullopt;
    }
    text.remove_prefix(digits + 1);
  }
  return total;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds == 0) return "0s";
  for (auto [unit, size] :
       {std::pair<char, int64_t>{'d', 86400}, {'h', 3600}, {'m', 60}}) {
    if (seconds % size == 0) {
      return absl::StrCat(seconds / size, std::string(1, unit));
    }
  }
  return absl::StrCat(seconds, "s");
}

namespace {

// Returns `text` without a leading "scheme://authority" (RFC 3986 §3), so
// that "spiffe://example.org/ns/a" is tested as the path "/ns/a". A text
// without one is returned whole.
std::string_view PathOf(std::string_view text) {
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) {
    return text;
  }
  for (size_t i = 1; i < colon; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') {
      return text;
    }
  }
  const size_t path = text.find('/', colon + 3);
  return path == std::string_view::npos ? std::string_view()
                                        : text.substr(path);
}

}  // namespace

bool IsNonCanonicalPath(std::string_view text) {
  const std::string_view path = PathOf(text);
  if (path.find("//") != std::string_view::npos) return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    // Counts the dots of a segment made of dots only, "%2e" counting as one.
    int dots = 0;
    size_t at = start;
    while (at < end) {
      if (path[at] == '.') {
        ++at;
      } else if (end - at >= 3 && path[at] == '%' && path[at + 1] == '2' &&
                 (path[at + 2] == 'e' || path[at + 2] == 'E')) {
        at += 3;
      } else {
        break;
      }
      ++dots;
    }
    if (at == end && (dots == 1 || dots == 2)) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace verdict
