#include "tokens/base64url.h"

#include <array>
#include <cstdint>

namespace verdict::tokens {
namespace {

constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStandardAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Maps each byte to its 6-bit value, or -1 when it is not in the alphabet.
std::array<int8_t, 256> MakeDecodeTable(const char* alphabet) {
  std::array<int8_t, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

// Decodes unpadded input in the given alphabet, rejecting non-canonical tails.
std::optional<std::string> DecodeUnpadded(
    std::string_view input, const std::array<int8_t, 256>& table) {
  if (input.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(input.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : input) {
    const int8_t value = table[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // The 2 or 4 bits left over from a partial group must be zero; otherwise
  // two different strings would decode to the same bytes.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> DecodeBase64Url(std::string_view input) {
  static const std::array<int8_t, 256> table = MakeDecodeTable(kUrlAlphabet);
  return DecodeUnpadded(input, table);
}

std::string EncodeBase64Url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kUrlAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kUrlAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::optional<std::string> DecodeBase64Standard(std::string_view input) {
  static const std::array<int8_t, 256> table =
      MakeDecodeTable(kStandardAlphabet);
  if (input.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && padding < input.size() &&
         input[input.size() - 1 - padding] == '=') {
    ++padding;
  }
  return DecodeUnpadded(input.substr(0, input.size() - padding), table);
}

}  // namespace verdict::tokens
