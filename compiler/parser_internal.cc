#include "compiler/parser_internal.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace verdict::compiler {
namespace {

// Returns the length of the valid UTF-8 sequence at `text[i]`, or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(text[i + k]);
    const unsigned char min = k == 1 ? second_min : 0x80;
    const unsigned char max = k == 1 ? second_max : 0xBF;
    if (byte < min || byte > max) return 0;
  }
  return length;
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Returns the value of the `\uXXXX` escape at `body[i]`, or nullopt when
// four hexadecimal digits do not follow the `\u`.
std::optional<uint32_t> ParseUnicodeEscape(std::string_view body, size_t i) {
  if (i + 6 > body.size() || body[i] != '\\' || body[i + 1] != 'u') {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const char c = body[k];
    uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    value = value * 16 + digit;
  }
  return value;
}

// Decodes the `\u` escape at `body[i]`, pairing UTF-16 surrogates as JSON
// does. Returns the number of bytes consumed, or 0 with `error` set.
size_t DecodeUnicodeEscape(std::string_view body, size_t i, std::string& out,
                           StringError& error) {
  const std::optional<uint32_t> unit = ParseUnicodeEscape(body, i);
  if (!unit.has_value()) {
    const size_t length = std::min<size_t>(6, body.size() - i);
    error = {i, length,
             absl::StrCat("invalid escape ", Quote(body.substr(i, length)),
                          ": \\u takes exactly four hexadecimal digits")};
    return 0;
  }
  if (*unit >= 0xD800 && *unit <= 0xDBFF) {
    const std::optional<uint32_t> low = ParseUnicodeEscape(body, i + 6);
    if (low.has_value() && *low >= 0xDC00 && *low <= 0xDFFF) {
      AppendUtf8(0x10000 + ((*unit - 0xD800) << 10) + (*low - 0xDC00), out);
      return 12;
    }
  }
  if (*unit >= 0xD800 && *unit <= 0xDFFF) {
    error = {i, 6,
             absl::StrCat("invalid escape ", Quote(body.substr(i, 6)),
                          ": a UTF-16 surrogate must be one of a high and "
                          "low pair such as \\uD83D\\uDE00")};
    return 0;
  }
  AppendUtf8(*unit, out);
  return 6;
}

// Decodes the escape at `body[i]`. Returns the number of bytes consumed,
// or 0 with `error` set.
size_t DecodeEscape(std::string_view body, size_t i, std::string& out,
                    StringError& error) {
  const char escaped = i + 1 < body.size() ? body[i + 1] : '\\';
  switch (escaped) {
    case '"':
    case '\\':
    case '/':
      out.push_back(escaped);
      return 2;
    case 'n':
      out.push_back('\n');
      return 2;
    case 't':
      out.push_back('\t');
      return 2;
    case 'r':
      out.push_back('\r');
      return 2;
    case 'u':
      return DecodeUnicodeEscape(body, i, out, error);
    default:
      break;
  }
  const size_t length =
      i + 1 < body.size()
          ? 1 + std::max<size_t>(Utf8SequenceLength(body, i + 1), 1)
          : 1;
  error = {
      i, length,
      absl::StrCat("invalid escape sequence ", Quote(body.substr(i, length)),
                   " in string literal; the escapes are \\\" \\\\ \\/ "
                   "\\n \\r \\t and \\uXXXX")};
  return 0;
}

}  // namespace

// Returns `text` single-quoted for a message, with control bytes escaped
// and anything past 40 bytes cut off.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShownBytes = 40;
  size_t shown_bytes = std::min(text.size(), kMaxShownBytes);
  // Cut before a UTF-8 continuation byte only at a character boundary.
  while (shown_bytes < text.size() && shown_bytes > 0 &&
         (static_cast<unsigned char>(text[shown_bytes]) & 0xC0) == 0x80) {
    --shown_bytes;
  }
  std::string out = "'";
  for (const char byte : text.substr(0, shown_bytes)) {
    const auto code = static_cast<unsigned char>(byte);
    if (code < 0x20 || code == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02X", code);
    } else {
      out.push_back(byte);
    }
  }
  absl::StrAppend(&out, shown_bytes < text.size() ? "...'" : "'");
  return out;
}

// Returns the value of decimal `digits` times `unit`, or nullopt when it is
// larger than `limit`.
std::optional<uint64_t> ParseMagnitude(std::string_view digits, uint64_t unit,
                                       uint64_t limit) {
  uint64_t value = 0;
  for (const char digit : digits) {
    const uint64_t digit_value = static_cast<uint64_t>(digit - '0');
    if (value > (limit - digit_value) / 10) return std::nullopt;
    value = value * 10 + digit_value;
  }
  if (value > limit / unit) return std::nullopt;
  return value * unit;
}

uint64_t DurationUnitSeconds(char unit) {
  switch (unit) {
    case 'm':
      return 60;
    case 'h':
      return 60 * 60;
    case 'd':
      return 24 * 60 * 60;
    default:  // 's'
      return 1;
  }
}

// Decodes the body of a string literal, without its quotes. Raw bytes must
// be UTF-8, as the values that policies compare strings with are.
std::optional<std::string> DecodeStringBody(std::string_view body,
                                            StringError& error) {
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    size_t consumed = 0;
    if (body[i] == '\\') {
      consumed = DecodeEscape(body, i, out, error);
    } else {
      consumed = Utf8SequenceLength(body, i);
      if (consumed == 0) {
        error = {i, 1,
                 absl::StrFormat("string literal is not valid UTF-8: "
                                 "unexpected byte 0x%02X",
                                 static_cast<unsigned char>(body[i]))};
      }
      out.append(body.substr(i, consumed));
    }
    if (consumed == 0) return std::nullopt;
    i += consumed;
  }
  return out;
}

}  // namespace verdict::compiler
