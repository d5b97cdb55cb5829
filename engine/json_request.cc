// Decoding of AuthZEN-shaped JSON requests into a Frame.
//
// The decoder is a single-pass scanner written for the request shape rather
// than a general JSON parser. It reads the bytes once, keeps the attribute
// path of the current member in one reusable buffer, and calls the
// RequestBuilder setters as it reads each value. Strings without escapes are
// passed on as views of the input, and the other buffers live in the Frame,
// so a warm Frame decodes a request without allocating. Everything it does
// not map to an attribute (arrays under undeclared paths, for example) is
// still validated as JSON. bench/decode_bench.cc compares it with the
// nlohmann::json DOM decoder that it replaced, which it beats several times
// over (docs/benchmarks.md has the figures). simdjson's On-Demand API was
// not used because it leaves the values that the caller skips unvalidated,
// and a request with malformed JSON anywhere must be rejected. Its DOM API
// validates everything but builds a document first, which is the cost this
// decoder avoids.

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/request.h"

namespace verdict {
namespace {

// Nested objects deeper than this are rejected rather than walked.
constexpr int kMaxJsonDepth = 32;

// Bytes that end the fast scan of a string: '"', '\\', control characters
// (which JSON requires to be escaped) and the lead bytes of multibyte UTF-8.
constexpr auto kStringStops = [] {
  std::array<bool, 256> stops{};
  for (int c = 0; c < 0x20; ++c) stops[c] = true;
  for (int c = 0x80; c < 0x100; ++c) stops[c] = true;
  stops['"'] = true;
  stops['\\'] = true;
  return stops;
}();

// Returns the first byte in [p, end) that kStringStops marks, or `end`.
// Tests eight bytes at a time: in each test below, a byte can be flagged
// wrongly only above a byte flagged rightly, so the lowest flag is exact.
const char* FindStringStop(const char* p, const char* end) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101;
    constexpr uint64_t kHighBits = 0x8080808080808080;
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof(word));
      const uint64_t quote = word ^ (kOnes * '"');
      const uint64_t backslash = word ^ (kOnes * '\\');
      const uint64_t stops = (((quote - kOnes) & ~quote) |
                              ((backslash - kOnes) & ~backslash) |
                              ((word - kOnes * 0x20) & ~word) | word) &
                             kHighBits;
      if (stops != 0) return p + __builtin_ctzll(stops) / 8;
      p += 8;
    }
  }
  while (p < end && !kStringStops[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// Returns the length of the well-formed UTF-8 sequence at `p` whose lead
// byte is at least 0x80, or 0 if it is ill-formed (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  auto continuation = [&](size_t i, unsigned char low, unsigned char high) {
    return p + i < end && p[i] >= low && p[i] <= high;
  };
  const unsigned char lead = p[0];
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1, 0x80, 0xBF) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, low, high) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, low, high) && continuation(2, 0x80, 0xBF) &&
                   continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
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

// Returns true when the JSON number `text` is beyond the range of a double.
// nlohmann::json 3.11 rejects such numbers as invalid, and so does this
// decoder. Numbers too close to zero round to zero in both.
bool OverflowsDouble(std::string_view text) {
  double ignored;
  const auto result =
      std::from_chars(text.data(), text.data() + text.size(), ignored);
  if (result.ec != std::errc::result_out_of_range) return false;

  // Out of range: too large, unless the first significant digit lies right
  // of the decimal point, where the value can only underflow.
  size_t i = text[0] == '-' ? 1 : 0;
  if (text[i] != '0') return true;
  ++i;  // the '0' of the integer part
  int64_t exponent = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] == '0') {
      --exponent;
      ++i;
    }
    while (i < text.size() && text[i] != 'e' && text[i] != 'E') ++i;
  }

  if (i < text.size()) {  // 'e' or 'E'
    ++i;
    const bool negative = text[i] == '-';
    if (text[i] == '-' || text[i] == '+') ++i;
    int64_t explicit_exponent = 0;
    for (; i < text.size(); ++i) {
      explicit_exponent = std::min<int64_t>(explicit_exponent * 10 +
                                                (text[i] - '0'),
                                            int64_t{1} << 40);
    }
    exponent += negative ? -explicit_exponent : explicit_exponent;
  }
  return exponent > 0;
}

// The parts of a JSON number token that decoding needs.
struct Number {
  std::string_view text;
  bool integral = true;   // no fraction and no exponent
  bool fits = true;       // integral and within int64_t
  int64_t value = 0;
};

class RequestDecoder {
 public:
  RequestDecoder(const Program& program, Frame& frame, std::string_view json,
                 Frame::JsonScratch& scratch)
      : program_(program),
        builder_(program, frame),
        begin_(json.data()),
        p_(json.data()),
        end_(json.data() + json.size()),
        scratch_(scratch) {}

  // Decodes the whole input; the caller runs RequestBuilder::Finish.
  absl::Status Decode();
  RequestBuilder& builder() { return builder_; }

 private:
  // Request shape. Each Decode* function starts at the first byte of its
  // value; the attribute path of that value is in scratch_.path.
  absl::Status DecodeMember(std::string_view key);
  absl::Status DecodeEntity(std::string_view group);
  absl::Status DecodeGroups();
  absl::Status DecodeValue(int depth);
  absl::Status DecodeObject(int depth);
  absl::Status DecodeNumber();
  absl::Status DecodeStrings();
  absl::Status DecodeTokens();
  std::optional<std::string_view>* PresentationFact(std::string_view name);

  // Reads the members of the object whose '{' is at p_, calling
  // `on_member(key)` with p_ at each member's value. Rejects a member name
  // given twice.
  template <typename OnMember>
  absl::Status ReadObject(OnMember on_member);
  absl::Status CheckUniqueKeys(size_t first_key);

  // JSON lexing. ReadString starts after the opening quote. Its common case,
  // a string with neither escapes nor multibyte UTF-8, is inline.
  absl::Status ReadString(std::string_view& out) {
    const char* start = p_;
    const char* stop = FindStringStop(p_, end_);
    if (ABSL_PREDICT_TRUE(stop != end_ && *stop == '"')) {
      out = std::string_view(start, static_cast<size_t>(stop - start));
      p_ = stop + 1;
      return absl::OkStatus();
    }
    p_ = stop;
    return ReadOtherString(start, out);
  }
  ABSL_ATTRIBUTE_NOINLINE absl::Status ReadOtherString(const char* start,
                                                       std::string_view& out);
  absl::Status ReadEscapedString(const char* start, std::string_view& out);
  absl::Status ReadEscape(std::string& out);
  absl::Status ReadHex4(uint32_t& out);
  absl::Status ReadNumber(Number& out);
  absl::Status ReadLiteral(std::string_view literal);
  absl::Status SkipValue();
  absl::Status SkipMemberName();
  void SkipWhitespace() {
    if (p_ < end_ && static_cast<unsigned char>(*p_) > ' ') return;
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }
  bool Consume(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  char Peek() const { return p_ == end_ ? '\0' : *p_; }

  // Errors, kept out of line so that the hot functions stay small.
  ABSL_ATTRIBUTE_NOINLINE absl::Status NotAnObject(std::string_view key);
  ABSL_ATTRIBUTE_NOINLINE absl::Status SyntaxError(
      std::string_view expected) const;
  // Returns the JSON type name of the value at p_, for messages.
  std::string_view TypeNameAt() const;
  // Returns the value at p_ as written and cut to a readable length, or
  // "an object" or "an array".
  std::string ExcerptAt() const;

  const Program& program_;
  RequestBuilder builder_;
  const char* const begin_;
  const char* p_;
  const char* const end_;
  Frame::JsonScratch& scratch_;
};

absl::Status RequestDecoder::Decode() {
  // Accept and ignore a UTF-8 byte order mark, as nlohmann::json does.
  if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
  SkipWhitespace();
  if (Peek() != '{') {
    absl::Status status = SkipValue();
    if (!status.ok()) return status;
    return absl::InvalidArgumentError(
        "a request must be a JSON object with subject, action, resource and "
        "context members");
  }
  absl::Status status =
      ReadObject([this](std::string_view key) { return DecodeMember(key); });
  if (!status.ok()) return status;
  SkipWhitespace();
  if (p_ != end_) return SyntaxError("the end of the input after the request");
  return absl::OkStatus();
}

absl::Status RequestDecoder::DecodeMember(std::string_view key) {
  if (key == "subject" || key == "action" || key == "resource") {
    return DecodeEntity(key);
  }
  if (key == "context") {
    if (Peek() != '{') return NotAnObject(key);
    return ReadObject([this](std::string_view name) {
      scratch_.path.assign("context.");
      scratch_.path.append(name);
      std::optional<std::string_view>* fact = PresentationFact(name);
      if (fact == nullptr || Peek() == 'n') return DecodeValue(1);
      if (Peek() != '"') {
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute ", scratch_.path, ": expected a string, got ",
            ExcerptAt()));
      }
      ++p_;
      std::string_view value;
      absl::Status status = ReadString(value);
      if (!status.ok()) return status;
      *fact = value;
      return builder_.SetString(scratch_.path, value);
    });
  }
  if (key == "tokens") return DecodeTokens();
  if (key == "attributes") {
    if (Peek() != '{') return NotAnObject(key);
    return ReadObject([this](std::string_view group) {
      scratch_.path.assign(group);
      return DecodeValue(0);
    });
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown request member \"", ToAbsl(key),
      "\"; a request has subject, action, resource, context, attributes "
      "and tokens"));
}

// Returns where the presentation keeps context member `name`, or null for
// a member that binds no token.
std::optional<std::string_view>* RequestDecoder::PresentationFact(
    std::string_view name) {
  Presentation& presentation = builder_.presentation();
  if (name == "client_authenticated_id") {
    return &presentation.client_authenticated_id;
  }
  if (name == "dpop_jkt") return &presentation.dpop_jkt;
  if (name == "expected_nonce") return &presentation.expected_nonce;
  return nullptr;
}

// Reads `"tokens": [{"kind": "id-jag", "jwt": "<compact JWS>"}, ...]`. The
// kind may be left out, or given as "hint".
absl::Status RequestDecoder::DecodeTokens() {
  std::vector<PresentedToken>& tokens = builder_.presentation().tokens;
  if (Peek() != '[') {
    absl::Status status = SkipValue();
    if (!status.ok()) return status;
    return absl::InvalidArgumentError(
        "request member \"tokens\" must be an array such as "
        "[{\"kind\": \"id-jag\", \"jwt\": \"<compact JWS>\"}]");
  }
  ++p_;
  SkipWhitespace();
  if (Consume(']')) return absl::OkStatus();
  while (true) {
    const size_t index = tokens.size();
    if (index == kMaxPresentedTokens) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request member \"tokens\" has more than ", kMaxPresentedTokens,
          " tokens; present at most ", kMaxPresentedTokens));
    }
    if (Peek() != '{') {
      if (p_ == end_) return SyntaxError("a token object");
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens[", index, "] must be an object such as {\"kind\": "
          "\"id-jag\", \"jwt\": \"<compact JWS>\"}, not ", ExcerptAt()));
    }
    PresentedToken token;
    bool has_jwt = false;
    absl::Status status = ReadObject([&](std::string_view key) {
      if (key == "jwt") {
        has_jwt = true;
        if (Peek() != '"') {
          token.compact = false;  // such as a JWS in JSON serialization
          return SkipValue();
        }
        ++p_;
        return ReadString(token.jwt);
      }
      if (key != "kind" && key != "hint") {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", index, "] has the unknown member \"", ToAbsl(key),
            "\"; a token has \"jwt\" and an optional \"kind\""));
      }
      if (!token.kind.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", index, "] gives both \"kind\" and \"hint\"; give one"));
      }
      if (Peek() != '"') {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", index, "].", ToAbsl(key), " must be a string, not ",
            ExcerptAt()));
      }
      ++p_;
      absl::Status read = ReadString(token.kind);
      if (!read.ok()) return read;
      if (token.kind != "id-jag" && token.kind != "access_token" &&
          token.kind != "attestation") {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens[", index, "].", ToAbsl(key), " \"", ToAbsl(token.kind),
            "\" is not a token kind; use id-jag, access_token or "
            "attestation, or leave it out to detect the kind from the typ "
            "header"));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (!has_jwt) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens[", index, "] has no \"jwt\" member with the compact JWS"));
    }
    tokens.push_back(token);
    SkipWhitespace();
    if (Consume(']')) return absl::OkStatus();
    if (!Consume(',')) return SyntaxError("',' or ']' after a token");
    SkipWhitespace();
  }
}

// An entity's own members (type, id, name) and its `properties` all become
// attributes of the group; older AuthZEN drafts put properties at the top.
absl::Status RequestDecoder::DecodeEntity(std::string_view group) {
  if (Peek() != '{') return NotAnObject(group);
  return ReadObject([this, group](std::string_view key) {
    std::string& path = scratch_.path;
    path.assign(group);
    if (key == "properties") return DecodeValue(0);
    path.push_back('.');
    path.append(key);
    return DecodeValue(1);
  });
}

absl::Status RequestDecoder::DecodeValue(int depth) {
  const std::string& path = scratch_.path;
  if (depth > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", path, " nests deeper than ", kMaxJsonDepth,
        " objects, the limit; flatten it into fewer levels"));
  }
  switch (Peek()) {
    case '{':
      return DecodeObject(depth);
    case '[':
      if (program_.FindSlot(path) == kNoSlot) return SkipValue();
      return DecodeStrings();
    case '"': {
      ++p_;
      std::string_view value;
      absl::Status status = ReadString(value);
      if (!status.ok()) return status;
      return builder_.SetString(path, value);
    }
    case 't': {
      absl::Status status = ReadLiteral("true");
      return status.ok() ? builder_.SetBool(path, true) : status;
    }
    case 'f': {
      absl::Status status = ReadLiteral("false");
      return status.ok() ? builder_.SetBool(path, false) : status;
    }
    case 'n': {
      absl::Status status = ReadLiteral("null");
      return status.ok() ? builder_.SetNull(path) : status;
    }
    default:
      return DecodeNumber();
  }
}

absl::Status RequestDecoder::DecodeObject(int depth) {
  std::string& path = scratch_.path;
  // Every slot path is "<group>.<name>", so a path without a dot, such as
  // the group of an entity's properties, needs no lookup.
  const uint32_t slot = path.find('.') == std::string::npos
                            ? kNoSlot
                            : program_.FindSlot(path);
  if (slot != kNoSlot) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", path, ": expected ",
        ToAbsl(TypeName(program_.slots[slot].type)), ", got an object"));
  }
  const size_t base = path.size();
  absl::Status status = ReadObject([&](std::string_view key) {
    path.resize(base);
    path.push_back('.');
    path.append(key);
    return DecodeValue(depth + 1);
  });
  path.resize(base);
  return status;
}

absl::Status RequestDecoder::DecodeNumber() {
  const std::string& path = scratch_.path;
  Number number;
  absl::Status status = ReadNumber(number);
  if (!status.ok()) return status;
  if (number.fits) return builder_.SetInt(path, number.value);
  uint32_t slot = program_.FindSlot(path);
  if (slot == kNoSlot) return absl::OkStatus();
  const std::string_view text = number.text;
  if (number.integral) {
    return absl::InvalidArgumentError(
        absl::StrCat("request attribute ", path, ": the integer ",
                     ToAbsl(text), " does not fit in a signed 64-bit integer"));
  }
  if (program_.slots[slot].type == Type::kDecimal) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", path, ": ", ToAbsl(text),
        " is a JSON float; send a decimal as a string, such as \"",
        ToAbsl(text), "\", so that no digit is lost to floating point"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "request attribute ", path, ": ", ToAbsl(text),
      " is not an integer; Verdict reads numbers as exact 64-bit integers "
      "and never through floating point"));
}

// Reads the array at p_ into a set<string> or list<string> slot.
absl::Status RequestDecoder::DecodeStrings() {
  std::vector<std::string_view>& elements = scratch_.elements;
  elements.clear();
  ++p_;  // '['
  SkipWhitespace();
  if (!Consume(']')) {
    while (true) {
      if (Peek() != '"') {
        if (p_ == end_) return SyntaxError("an array element");
        return absl::InvalidArgumentError(absl::StrCat(
            "request attribute ", scratch_.path, ": element ", ExcerptAt(),
            " is not a string; sets and lists hold strings"));
      }
      ++p_;
      std::string_view element;
      absl::Status status = ReadString(element);
      if (!status.ok()) return status;
      elements.push_back(element);
      SkipWhitespace();
      if (Consume(']')) break;
      if (!Consume(',')) return SyntaxError("',' or ']' after an array element");
      SkipWhitespace();
    }
  }
  return builder_.SetStrings(scratch_.path, elements);
}

template <typename OnMember>
absl::Status RequestDecoder::ReadObject(OnMember on_member) {
  std::vector<std::string_view>& keys = scratch_.keys;
  const size_t first_key = keys.size();
  ++p_;  // '{'
  SkipWhitespace();
  if (!Consume('}')) {
    while (true) {
      if (!Consume('"')) return SyntaxError("a member name in double quotes");
      std::string_view key;
      absl::Status status = ReadString(key);
      if (!status.ok()) return status;
      SkipWhitespace();
      if (!Consume(':')) return SyntaxError("':' after a member name");
      SkipWhitespace();
      keys.push_back(key);
      status = on_member(key);
      if (!status.ok()) return status;
      SkipWhitespace();
      if (Consume('}')) break;
      if (!Consume(',')) return SyntaxError("',' or '}' after an object member");
      SkipWhitespace();
    }
  }
  if (keys.size() - first_key < 2) {
    keys.resize(first_key);
    return absl::OkStatus();
  }
  absl::Status status = CheckUniqueKeys(first_key);
  keys.resize(first_key);
  return status;
}

// Rejects an object that names a member twice: JSON parsers disagree on
// which of the two values counts, so accepting either would let a request
// mean different things to Verdict and to a proxy in front of it.
absl::Status RequestDecoder::CheckUniqueKeys(size_t first_key) {
  constexpr size_t kMaxPairwise = 16;
  std::vector<std::string_view>& keys = scratch_.keys;
  const auto first = keys.begin() + static_cast<ptrdiff_t>(first_key);
  const std::string_view* repeated = nullptr;
  if (keys.size() - first_key <= kMaxPairwise) {
    for (auto i = first; i != keys.end() && repeated == nullptr; ++i) {
      for (auto j = i + 1; j != keys.end(); ++j) {
        if (*i == *j) {
          repeated = &*i;
          break;
        }
      }
    }
  } else {
    std::sort(first, keys.end());
    auto found = std::adjacent_find(first, keys.end());
    if (found != keys.end()) repeated = &*found;
  }
  if (repeated == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "request is not valid: the member name \"", ToAbsl(*repeated),
      "\" appears twice in one object; give each member once"));
}

// Continues ReadString at p_, a byte that kStringStops contains.
absl::Status RequestDecoder::ReadOtherString(const char* start,
                                             std::string_view& out) {
  while (true) {
    p_ = FindStringStop(p_, end_);
    if (p_ == end_) return SyntaxError("a '\"' to close the string");
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      out = std::string_view(start, static_cast<size_t>(p_ - start));
      ++p_;
      return absl::OkStatus();
    }
    if (c == '\\') return ReadEscapedString(start, out);
    if (c < 0x20) {
      return SyntaxError("a string without raw control characters; escape "
                         "them, such as \\n or \\u001f");
    }
    size_t length =
        Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                           reinterpret_cast<const unsigned char*>(end_));
    if (length == 0) return SyntaxError("valid UTF-8 in a string");
    p_ += length;
  }
}

// Continues ReadString from the first backslash, decoding into
// scratch_.text. Decoded text is never longer than its JSON form, and
// Decode reserved the input's size, so earlier views stay valid.
absl::Status RequestDecoder::ReadEscapedString(const char* start,
                                               std::string_view& out) {
  std::string& text = scratch_.text;
  const size_t text_begin = text.size();
  text.append(start, p_);
  while (true) {
    const char* run = p_;
    p_ = FindStringStop(p_, end_);
    text.append(run, p_);
    if (p_ == end_) return SyntaxError("a '\"' to close the string");
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      out = std::string_view(text).substr(text_begin);
      return absl::OkStatus();
    }
    if (c == '\\') {
      ++p_;
      absl::Status status = ReadEscape(text);
      if (!status.ok()) return status;
      continue;
    }
    if (c < 0x20) {
      return SyntaxError("a string without raw control characters; escape "
                         "them, such as \\n or \\u001f");
    }
    size_t length =
        Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p_),
                           reinterpret_cast<const unsigned char*>(end_));
    if (length == 0) return SyntaxError("valid UTF-8 in a string");
    text.append(p_, length);
    p_ += length;
  }
}

// Decodes the escape after a backslash, appending its UTF-8 to `out`.
absl::Status RequestDecoder::ReadEscape(std::string& out) {
  if (p_ == end_) return SyntaxError("an escape after '\\'");
  const char c = *p_++;
  switch (c) {
    case '"': out.push_back('"'); return absl::OkStatus();
    case '\\': out.push_back('\\'); return absl::OkStatus();
    case '/': out.push_back('/'); return absl::OkStatus();
    case 'b': out.push_back('\b'); return absl::OkStatus();
    case 'f': out.push_back('\f'); return absl::OkStatus();
    case 'n': out.push_back('\n'); return absl::OkStatus();
    case 'r': out.push_back('\r'); return absl::OkStatus();
    case 't': out.push_back('\t'); return absl::OkStatus();
    case 'u': break;
    default:
      --p_;
      return SyntaxError("one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r "
                         "\\t \\uXXXX");
  }
  uint32_t code_point;
  absl::Status status = ReadHex4(code_point);
  if (!status.ok()) return status;
  if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
    return SyntaxError("a high surrogate before the low surrogate \\u" +
                       std::string(p_ - 4, p_));
  }
  if (code_point >= 0xD800 && code_point <= 0xDBFF) {
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
      return SyntaxError("a low surrogate \\uDC00-\\uDFFF after the high "
                         "surrogate \\u" + std::string(p_ - 4, p_));
    }
    p_ += 2;
    uint32_t low;
    status = ReadHex4(low);
    if (!status.ok()) return status;
    if (low < 0xDC00 || low > 0xDFFF) {
      p_ -= 6;
      return SyntaxError("a low surrogate \\uDC00-\\uDFFF after a high "
                         "surrogate");
    }
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
  }
  AppendUtf8(code_point, out);
  return absl::OkStatus();
}

absl::Status RequestDecoder::ReadHex4(uint32_t& out) {
  out = 0;
  for (int i = 0; i < 4; ++i, ++p_) {
    const char c = Peek();
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return SyntaxError("four hexadecimal digits after \\u");
    }
    out = out * 16 + digit;
  }
  return absl::OkStatus();
}

// Reads a number as RFC 8259 defines it. Integers are accumulated exactly;
// a fraction or exponent only marks the number as not integral.
absl::Status RequestDecoder::ReadNumber(Number& out) {
  const char* start = p_;
  const bool negative = Consume('-');
  auto is_digit = [this] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
  if (!is_digit()) return SyntaxError("a JSON value");

  uint64_t magnitude = 0;
  bool overflow = false;
  if (*p_ == '0') {
    ++p_;
  } else {
    while (is_digit()) {
      const uint64_t digit = static_cast<uint64_t>(*p_ - '0');
      overflow = overflow || __builtin_mul_overflow(magnitude, 10, &magnitude) ||
                 __builtin_add_overflow(magnitude, digit, &magnitude);
      ++p_;
    }
  }

  out.integral = true;
  if (Consume('.')) {
    out.integral = false;
    if (!is_digit()) return SyntaxError("a digit after the decimal point");
    while (is_digit()) ++p_;
  }
  if (Consume('e') || Consume('E')) {
    out.integral = false;
    if (!Consume('+')) Consume('-');
    if (!is_digit()) return SyntaxError("a digit in the exponent");
    while (is_digit()) ++p_;
  }

  out.text = std::string_view(start, static_cast<size_t>(p_ - start));
  constexpr uint64_t kMaxPositive = uint64_t{1} << 63;  // one above INT64_MAX
  out.fits = out.integral && !overflow &&
             (negative ? magnitude <= kMaxPositive : magnitude < kMaxPositive);
  // Two's complement negation of the magnitude; exact for -2^63 too.
  out.value = static_cast<int64_t>(negative ? 0 - magnitude : magnitude);
  if (!out.fits && OverflowsDouble(out.text)) {
    p_ = start;
    return SyntaxError("a number within the range of a 64-bit double");
  }
  return absl::OkStatus();
}

absl::Status RequestDecoder::ReadLiteral(std::string_view literal) {
  if (static_cast<size_t>(end_ - p_) < literal.size() ||
      std::memcmp(p_, literal.data(), literal.size()) != 0) {
    return SyntaxError("a JSON value");
  }
  p_ += literal.size();
  return absl::OkStatus();
}

// Validates and skips the value at p_, nested to any depth, without
// recursion: scratch_.open_containers has a '{' or '[' per open container.
absl::Status RequestDecoder::SkipValue() {
  std::string& open = scratch_.open_containers;
  open.clear();
  while (true) {
    // A value is expected at p_.
    SkipWhitespace();
    absl::Status status;
    switch (Peek()) {
      case '{':
        ++p_;
        SkipWhitespace();
        if (Consume('}')) break;
        open.push_back('{');
        status = SkipMemberName();
        if (!status.ok()) return status;
        continue;
      case '[':
        ++p_;
        SkipWhitespace();
        if (Consume(']')) break;
        open.push_back('[');
        continue;
      case '"': {
        ++p_;
        std::string_view ignored;
        status = ReadString(ignored);
        break;
      }
      case 't': status = ReadLiteral("true"); break;
      case 'f': status = ReadLiteral("false"); break;
      case 'n': status = ReadLiteral("null"); break;
      default: {
        Number ignored;
        status = ReadNumber(ignored);
        break;
      }
    }
    if (!status.ok()) return status;
    // A value ended: close containers until one has another element.
    while (true) {
      if (open.empty()) return absl::OkStatus();
      SkipWhitespace();
      const char close = open.back() == '{' ? '}' : ']';
      if (Consume(close)) {
        open.pop_back();
        continue;
      }
      if (!Consume(',')) {
        return SyntaxError(close == '}' ? "',' or '}' after an object member"
                                        : "',' or ']' after an array element");
      }
      break;
    }
    if (open.back() == '{') {
      status = SkipMemberName();
      if (!status.ok()) return status;
    }
  }
}

// Skips `"name":` inside a skipped object.
absl::Status RequestDecoder::SkipMemberName() {
  SkipWhitespace();
  if (!Consume('"')) return SyntaxError("a member name in double quotes");
  std::string_view ignored;
  absl::Status status = ReadString(ignored);
  if (!status.ok()) return status;
  SkipWhitespace();
  if (!Consume(':')) return SyntaxError("':' after a member name");
  return absl::OkStatus();
}

// Returns the error for top-level member `key` whose value at p_ is not an
// object, or the syntax error of that value if it is not valid JSON.
absl::Status RequestDecoder::NotAnObject(std::string_view key) {
  const char* value = p_;
  absl::Status status = SkipValue();
  if (!status.ok()) return status;
  p_ = value;
  if (key == "attributes") {
    return absl::InvalidArgumentError(
        "request member \"attributes\" must be an object of attribute "
        "groups, such as {\"tee\": {\"debug\": false}}");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("request member \"", ToAbsl(key),
                   "\" must be an object, not ", ToAbsl(TypeNameAt())));
}

absl::Status RequestDecoder::SyntaxError(std::string_view expected) const {
  if (p_ == end_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request is not valid JSON: the input ends where ", ToAbsl(expected),
        " was expected"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "request is not valid JSON: at byte ", p_ - begin_, ", expected ",
      ToAbsl(expected), " but found ", ExcerptAt()));
}

std::string_view RequestDecoder::TypeNameAt() const {
  switch (Peek()) {
    case '[': return "array";
    case '"': return "string";
    case 't':
    case 'f': return "boolean";
    case 'n': return "null";
    default: return "number";
  }
}

std::string RequestDecoder::ExcerptAt() const {
  if (Peek() == '{') return "an object";
  if (Peek() == '[') return "an array";
  constexpr size_t kMaxShown = 24;
  const std::string_view rest(p_, static_cast<size_t>(end_ - p_));
  const size_t token_end = rest.find_first_of(",]}\n", 1);
  if (token_end <= kMaxShown) {
    return absl::StrCat("'", ToAbsl(rest.substr(0, token_end)), "'");
  }
  if (rest.size() <= kMaxShown) return absl::StrCat("'", ToAbsl(rest), "'");
  return absl::StrCat("'", ToAbsl(rest.substr(0, kMaxShown)), "...'");
}

}  // namespace

absl::Status DecodeJsonRequest(const Program& program, std::string_view json,
                               int64_t now_unix_seconds, Frame& frame) {
  return DecodeJsonRequest(program, json, now_unix_seconds, frame,
                           TokenStage::kVerify);
}

absl::Status DecodeJsonRequest(const Program& program, std::string_view json,
                               int64_t now_unix_seconds, Frame& frame,
                               TokenStage token_stage) {
  frame.Reset(program);
  if (json.size() > kMaxRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request is ", json.size(), " bytes, more than the limit of ",
        kMaxRequestBytes, " bytes (4 MiB); send a smaller request"));
  }
  Frame::JsonScratch& scratch = frame.json_scratch_;
  scratch.path.clear();
  scratch.text.clear();
  if (scratch.text.capacity() < json.size()) scratch.text.reserve(json.size());
  scratch.keys.clear();
  RequestDecoder decoder(program, frame, json, scratch);
  absl::Status status = decoder.Decode();
  if (!status.ok()) return status;
  status = decoder.builder().VerifyTokens(now_unix_seconds, token_stage);
  if (!status.ok()) return status;
  decoder.builder().Finish(now_unix_seconds);
  return absl::OkStatus();
}

}  // namespace verdict
