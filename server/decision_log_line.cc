#include "server/decision_log_line.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "engine/values.h"

namespace verdict::server {
namespace {

bool IsMaskNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-' || c == '$';
}

// The compact tokens a request presented, which must never reach the log.
std::vector<std::string_view> PresentedTokens(const Frame& frame) {
  std::vector<std::string_view> tokens;
  for (const PresentedToken& token : frame.presentation().tokens) {
    if (!token.jwt.empty()) tokens.push_back(token.jwt);
  }
  return tokens;
}

bool ContainsToken(std::string_view text,
                   const std::vector<std::string_view>& tokens) {
  for (std::string_view token : tokens) {
    if (text.find(token) != std::string_view::npos) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// JSON text, appended to one string as the line is formatted. Strings are
// escaped exactly as nlohmann::json 3.11.2 dumps them with ensure_ascii
// false and error_handler_t::replace, so lines keep the bytes they had when
// an nlohmann::json tree was dumped. decision_log_line_differential_test
// compares the two.

// The size of a UTF-8 sequence and whether it is well-formed.
struct Utf8Sequence {
  size_t size;
  bool valid;
};

// Scans the UTF-8 sequence that starts at text[i], a byte of 0x80 or more.
// Well-formed means RFC 3629: no overlong form, no surrogate, nothing past
// U+10FFFF. An ill-formed sequence spans its lead byte and the continuation
// bytes before the first invalid byte, or the rest of the text when the text
// ends inside it, so scanning resumes at that invalid byte.
Utf8Sequence ScanUtf8Sequence(std::string_view text, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  size_t continuations = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    if (lead == 0xE0) low = 0xA0;   // below is overlong
    if (lead == 0xED) high = 0x9F;  // above is a surrogate
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    if (lead == 0xF0) low = 0x90;   // below is overlong
    if (lead == 0xF4) high = 0x8F;  // above is past U+10FFFF
  } else {
    return {1, false};
  }
  for (size_t size = 1; size <= continuations; ++size) {
    if (i + size == text.size()) return {size, false};
    const unsigned char byte = static_cast<unsigned char>(text[i + size]);
    if (byte < low || byte > high) return {size, false};
    low = 0x80;
    high = 0xBF;
  }
  return {continuations + 1, true};
}

// The bytes that AppendJsonString copies without looking further: printable
// ASCII but for the quote and the backslash.
constexpr std::array<bool, 256> kPlainJsonBytes = [] {
  std::array<bool, 256> plain{};
  for (int byte = 0x20; byte < 0x80; ++byte) plain[byte] = true;
  plain['"'] = false;
  plain['\\'] = false;
  return plain;
}();

// Appends `text` as a quoted JSON string. Quotes, backslashes and the
// control characters U+0000 to U+001F are escaped (\b \t \n \f \r, else
// \u00xx in lower-case hex). Well-formed UTF-8 is copied, and each
// ill-formed sequence becomes one U+FFFD.
void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t copied = 0;  // text[copied, i) is appended unchanged when it ends
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (kPlainJsonBytes[byte]) {
      ++i;
      continue;
    }
    if (byte >= 0x80) {
      const Utf8Sequence sequence = ScanUtf8Sequence(text, i);
      if (sequence.valid) {
        i += sequence.size;
        continue;
      }
      out.append(text, copied, i - copied);
      out += "\xEF\xBF\xBD";
      i += sequence.size;
      copied = i;
      continue;
    }
    out.append(text, copied, i - copied);
    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += "\\u00";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
    }
    ++i;
    copied = i;
  }
  out.append(text, copied, i - copied);
  out += '"';
}

void AppendBool(bool value, std::string& out) {
  out += value ? "true" : "false";
}

void AppendInteger(int64_t value, std::string& out) {
  char digits[20];  // "-9223372036854775808"
  const std::to_chars_result end =
      std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end.ptr);
}

void AppendStringArray(const std::vector<std::string>& strings,
                       std::string& out) {
  out += '[';
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(strings[i], out);
  }
  out += ']';
}

// Appends the `width` low decimal digits of `value`, which is not negative,
// with leading zeros.
void AppendDigits(int64_t value, int width, std::string& out) {
  char digits[4];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, width);
}

// Appends `unix_nanos` as a quoted RFC 3339 UTC time with milliseconds,
// "2026-12-05T06:41:45.040Z", as absl::FormatTime with the format
// "%Y-%m-%dT%H:%M:%E3SZ" writes it, with the milliseconds truncated. An
// int64 of nanoseconds spans the years 1677 to 2262, so the year always has
// four digits.
void AppendTime(int64_t unix_nanos, std::string& out) {
  const absl::TimeZone::CivilInfo civil =
      absl::UTCTimeZone().At(absl::FromUnixNanos(unix_nanos));
  out += '"';
  AppendDigits(civil.cs.year(), 4, out);
  out += '-';
  AppendDigits(civil.cs.month(), 2, out);
  out += '-';
  AppendDigits(civil.cs.day(), 2, out);
  out += 'T';
  AppendDigits(civil.cs.hour(), 2, out);
  out += ':';
  AppendDigits(civil.cs.minute(), 2, out);
  out += ':';
  AppendDigits(civil.cs.second(), 2, out);
  out += '.';
  AppendDigits(absl::ToInt64Milliseconds(civil.subsecond), 3, out);
  out += "Z\"";
}

// Calls `visit` on each element of a list<string> value, which the frame
// stores as one symbol with kListSeparator before every element.
template <typename Visit>
void ForEachListElement(std::string_view encoded, Visit visit) {
  size_t start = 0;
  while (start < encoded.size()) {
    size_t next = encoded.find(kListSeparator, start + 1);
    if (next == std::string_view::npos) next = encoded.size();
    visit(encoded.substr(start + 1, next - start - 1));
    start = next;
  }
}

// ---------------------------------------------------------------------------
// Attribute values, rendered as SlotToJson and DutiesToJson render them
// (engine/decision_json.h): strings, decimals, ip and cidr as text, sets and
// lists as arrays of strings, other types as integers, absent as null.

void AppendSlotValue(const Program& program, const Frame& frame, uint32_t slot,
                     std::string& out) {
  const SlotValue& value = frame.slot(slot);
  if (!value.present) {
    out += "null";
    return;
  }
  switch (program.slots[slot].type) {
    case Type::kBool:
      AppendBool(value.integer != 0, out);
      return;
    case Type::kString:
      AppendJsonString(frame.Text(value), out);
      return;
    case Type::kDecimal:
      AppendJsonString(FormatDecimal(value.integer), out);
      return;
    case Type::kIp:
      AppendJsonString(FormatIp(frame.Text(value)), out);
      return;
    case Type::kCidr:
      AppendJsonString(FormatCidr(frame.Text(value)), out);
      return;
    case Type::kStringSet: {
      out += '[';
      bool first = true;
      for (uint32_t symbol : frame.Set(value)) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(frame.SymbolText(symbol), out);
      }
      out += ']';
      return;
    }
    case Type::kStringList: {
      out += '[';
      bool first = true;
      ForEachListElement(frame.SymbolText(value.symbol),
                         [&](std::string_view element) {
                           if (!first) out += ',';
                           first = false;
                           AppendJsonString(element, out);
                         });
      out += ']';
      return;
    }
    default:
      AppendInteger(value.integer, out);
      return;
  }
}

// True when a string of the value of `slot`, as AppendSlotValue renders it,
// contains a presented token.
bool SlotContainsToken(const Program& program, const Frame& frame,
                       uint32_t slot,
                       const std::vector<std::string_view>& tokens) {
  const SlotValue& value = frame.slot(slot);
  if (tokens.empty() || !value.present) return false;
  switch (program.slots[slot].type) {
    case Type::kString:
      return ContainsToken(frame.Text(value), tokens);
    case Type::kDecimal:
      return ContainsToken(FormatDecimal(value.integer), tokens);
    case Type::kIp:
      return ContainsToken(FormatIp(frame.Text(value)), tokens);
    case Type::kCidr:
      return ContainsToken(FormatCidr(frame.Text(value)), tokens);
    case Type::kStringSet:
      for (uint32_t symbol : frame.Set(value)) {
        if (ContainsToken(frame.SymbolText(symbol), tokens)) return true;
      }
      return false;
    case Type::kStringList: {
      bool found = false;
      ForEachListElement(frame.SymbolText(value.symbol),
                         [&](std::string_view element) {
                           found = found || ContainsToken(element, tokens);
                         });
      return found;
    }
    default:
      return false;
  }
}

// Appends the value of the attribute in `slot` as logged: kMaskedValue when
// a mask covers the attribute or its value contains a presented token.
void AppendLoggedSlotValue(const Program& program, const Frame& frame,
                           uint32_t slot, const AttributeMasks& masks,
                           const std::vector<std::string_view>& tokens,
                           std::string& out) {
  if (masks.Covers(program.slots[slot].path) ||
      SlotContainsToken(program, frame, slot, tokens)) {
    AppendJsonString(kMaskedValue, out);
    return;
  }
  AppendSlotValue(program, frame, slot, out);
}

void AppendLiteral(const DutyField& field, std::string& out) {
  switch (field.type) {
    case Type::kBool:
      AppendBool(field.integer != 0, out);
      return;
    case Type::kString:
      AppendJsonString(field.text, out);
      return;
    case Type::kDecimal:
      AppendJsonString(FormatDecimal(field.integer), out);
      return;
    case Type::kIp:
      AppendJsonString(FormatIp(field.text), out);
      return;
    case Type::kCidr:
      AppendJsonString(FormatCidr(field.text), out);
      return;
    case Type::kStringSet:
    case Type::kStringList:
      AppendStringArray(field.elements, out);
      return;
    default:
      AppendInteger(field.integer, out);
      return;
  }
}

bool LiteralContainsToken(const DutyField& field,
                          const std::vector<std::string_view>& tokens) {
  if (tokens.empty()) return false;
  switch (field.type) {
    case Type::kString:
      return ContainsToken(field.text, tokens);
    case Type::kDecimal:
      return ContainsToken(FormatDecimal(field.integer), tokens);
    case Type::kIp:
      return ContainsToken(FormatIp(field.text), tokens);
    case Type::kCidr:
      return ContainsToken(FormatCidr(field.text), tokens);
    case Type::kStringSet:
    case Type::kStringList:
      return std::any_of(
          field.elements.begin(), field.elements.end(),
          [&](const std::string& text) { return ContainsToken(text, tokens); });
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// The "input" member: the request's attributes as a tree of objects.

// Values of InputNode::slot that are not slot indexes.
inline constexpr uint32_t kObjectNode = 0xFFFFFFFDu;
inline constexpr uint32_t kEmptyNode = 0xFFFFFFFEu;  // added, not yet set
inline constexpr uint32_t kNoNode = 0xFFFFFFFFu;

// A member of the "input" object: an attribute or an object of members.
// Node 0 is the root object. The members of an object form a linked list in
// the order they were added, and AppendInputObject sorts them by name.
struct InputNode {
  std::string_view name;
  // The attribute's slot, kObjectNode or kEmptyNode.
  uint32_t slot = kEmptyNode;
  uint32_t first_member = kNoNode;
  uint32_t next_member = kNoNode;
};

// Up to 64 nodes, enough for requests of tens of attributes, fit without
// allocating.
using InputTree = absl::InlinedVector<InputNode, 64>;

// Returns the member `name` of object `parent`, added as kEmptyNode when
// absent. Cost: a scan of the members of `parent`.
uint32_t FindOrAddMember(InputTree& tree, uint32_t parent,
                         std::string_view name) {
  uint32_t last = kNoNode;
  for (uint32_t member = tree[parent].first_member; member != kNoNode;
       member = tree[member].next_member) {
    if (tree[member].name == name) return member;
    last = member;
  }
  const uint32_t added = static_cast<uint32_t>(tree.size());
  tree.push_back(InputNode{.name = name});
  if (last == kNoNode) {
    tree[parent].first_member = added;
  } else {
    tree[last].next_member = added;
  }
  return added;
}

// Makes `node` the attribute in `slot`, dropping any members it had.
void SetAttribute(InputTree& tree, uint32_t node, uint32_t slot) {
  tree[node].slot = slot;
  tree[node].first_member = kNoNode;
}

// Stores attribute `slot` under the object path of its dotted `path`:
// "subject.id" becomes {"subject": {"id": ...}}. When a name along the path
// is already an attribute, or the last name is already an object, the
// attribute goes under the whole dotted path in the root object instead.
// For a path without a dot, that replaces the object.
void InsertNested(InputTree& tree, std::string_view path, uint32_t slot) {
  uint32_t node = 0;
  size_t start = 0;
  for (size_t dot = path.find('.'); dot != std::string_view::npos;
       dot = path.find('.', start)) {
    const uint32_t member =
        FindOrAddMember(tree, node, path.substr(start, dot - start));
    if (tree[member].slot == kEmptyNode) tree[member].slot = kObjectNode;
    if (tree[member].slot != kObjectNode) {
      SetAttribute(tree, FindOrAddMember(tree, 0, path), slot);
      return;
    }
    node = member;
    start = dot + 1;
  }
  const uint32_t leaf = FindOrAddMember(tree, node, path.substr(start));
  if (tree[leaf].slot == kObjectNode) {
    SetAttribute(tree, FindOrAddMember(tree, 0, path), slot);
    return;
  }
  SetAttribute(tree, leaf, slot);
}

// Appends object `object` of `tree`, its members sorted by name.
void AppendInputObject(const InputTree& tree, uint32_t object,
                       const Program& program, const Frame& frame,
                       const AttributeMasks& masks,
                       const std::vector<std::string_view>& tokens,
                       std::string& out) {
  absl::InlinedVector<uint32_t, 32> members;
  for (uint32_t member = tree[object].first_member; member != kNoNode;
       member = tree[member].next_member) {
    members.push_back(member);
  }
  std::sort(members.begin(), members.end(), [&](uint32_t a, uint32_t b) {
    return tree[a].name < tree[b].name;
  });
  out += '{';
  for (size_t i = 0; i < members.size(); ++i) {
    const InputNode& node = tree[members[i]];
    if (i > 0) out += ',';
    AppendJsonString(node.name, out);
    out += ':';
    if (node.slot == kObjectNode) {
      AppendInputObject(tree, members[i], program, frame, masks, tokens, out);
    } else if (node.slot == kEmptyNode) {
      out += "null";
    } else {
      AppendLoggedSlotValue(program, frame, node.slot, masks, tokens, out);
    }
  }
  out += '}';
}

// Appends every attribute the request gave. Attributes the engine computes
// (meta.source.*, entity ancestors) are left out.
void AppendInput(const Program& program, const Frame& frame,
                 const AttributeMasks& masks,
                 const std::vector<std::string_view>& tokens,
                 std::string& out) {
  InputTree tree(1);
  tree[0].slot = kObjectNode;
  for (uint32_t slot = 0; slot < program.slots.size(); ++slot) {
    const SlotInfo& info = program.slots[slot];
    if (info.computed || !frame.slot(slot).present) continue;
    InsertNested(tree, info.path, slot);
  }
  AppendInputObject(tree, 0, program, frame, masks, tokens, out);
}

// ---------------------------------------------------------------------------
// The "result" member: the decision as DecisionToJson renders its context,
// without the decision id and revision, which the line has at the top.

// Appends the fields of `duty` as an object sorted by key. A field read
// from an attribute is kMaskedValue when a mask covers the attribute or its
// value contains a presented token. The checker rejects a key given twice.
// Of fields that repeat a key, the last is written.
void AppendDutyFields(const Program& program, const Frame& frame,
                      const Duty& duty, const AttributeMasks& masks,
                      const std::vector<std::string_view>& tokens,
                      std::string& out) {
  absl::InlinedVector<uint32_t, 16> order(duty.fields.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return duty.fields[a].key < duty.fields[b].key;
  });
  out += '{';
  for (size_t begin = 0, end = 0; begin < order.size(); begin = end) {
    const std::string& key = duty.fields[order[begin]].key;
    bool reads_attribute = false;
    bool masked = false;
    for (end = begin; end < order.size() && duty.fields[order[end]].key == key;
         ++end) {
      const DutyField& field = duty.fields[order[end]];
      if (field.slot == kNoSlot) continue;
      reads_attribute = true;
      masked = masked || masks.Covers(program.slots[field.slot].path);
    }
    const DutyField& written = duty.fields[order[end - 1]];
    if (reads_attribute && !masked) {
      masked = written.slot == kNoSlot
                   ? LiteralContainsToken(written, tokens)
                   : SlotContainsToken(program, frame, written.slot, tokens);
    }

    if (begin > 0) out += ',';
    AppendJsonString(key, out);
    out += ':';
    if (masked) {
      AppendJsonString(kMaskedValue, out);
    } else if (written.slot == kNoSlot) {
      AppendLiteral(written, out);
    } else {
      AppendSlotValue(program, frame, written.slot, out);
    }
  }
  out += '}';
}

// Appends the advice (`advice` true) or the obligations of the policies
// that determined `decision`, in policy order.
void AppendDuties(bool advice, const Program& program, const Frame& frame,
                  const Decision& decision, const AttributeMasks& masks,
                  const std::vector<std::string_view>& tokens,
                  std::string& out) {
  out += '[';
  bool first = true;
  for (uint32_t policy : decision.determining) {
    const PolicyInfo& info = program.policies[policy];
    for (const Duty& duty : info.duties) {
      if (duty.advice != advice) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"fields\":";
      AppendDutyFields(program, frame, duty, masks, tokens, out);
      out += ",\"name\":";
      AppendJsonString(duty.name, out);
      out += ",\"policy\":";
      AppendJsonString(info.id, out);
      out += '}';
    }
  }
  out += ']';
}

void AppendResult(const Program& program, const Frame& frame,
                  const Decision& decision, const AttributeMasks& masks,
                  const std::vector<std::string_view>& tokens,
                  std::string& out) {
  out += "{\"advice\":";
  AppendDuties(true, program, frame, decision, masks, tokens, out);
  out += ",\"decision\":";
  AppendBool(decision.permit, out);

  out += ",\"errors\":[";
  for (size_t i = 0; i < decision.errors.size(); ++i) {
    const ErroredPolicy& error = decision.errors[i];
    if (i > 0) out += ',';
    out += "{\"message\":";
    AppendJsonString(DescribeError(program, frame, error.predicate), out);
    out += ",\"policy\":";
    AppendJsonString(program.policies[error.policy].id, out);
    out += '}';
  }

  out += "],\"obligations\":";
  AppendDuties(false, program, frame, decision, masks, tokens, out);
  out += ",\"policies\":[";
  for (size_t i = 0; i < decision.determining.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(program.policies[decision.determining[i]].id, out);
  }
  out += ']';
  if (decision.deciding_set != 0) {
    out += ",\"policy_set\":";
    AppendJsonString(program.sets[decision.deciding_set].id, out);
  }
  out += ",\"reasons\":";
  AppendStringArray(DecisionReasons(program, frame, decision), out);
  out += '}';
}

// Returns the decoder's error message as logged. Decoders quote the value
// they rejected, cut to its first 64 bytes, so a message that names a
// masked attribute or contains the start of a presented token is replaced.
std::string ErrorMessage(const absl::Status& status,
                         const AttributeMasks& masks,
                         const std::vector<std::string_view>& tokens) {
  const std::string_view message = ToStd(status.message());
  for (const std::string& mask : masks.paths()) {
    if (message.find(mask) != std::string_view::npos) {
      return absl::StrCat("invalid request; the error message names the "
                          "masked attribute ",
                          mask, " and is left out");
    }
  }
  // A value quoted after a prefix such as "Bearer " still shows this much
  // of the token.
  constexpr size_t kTokenStartBytes = 24;
  for (std::string_view token : tokens) {
    if (message.find(token.substr(0, kTokenStartBytes)) !=
        std::string_view::npos) {
      return "invalid request; the error message quotes a presented token "
             "and is left out";
    }
  }
  return std::string(message);
}

void AppendShadow(const ShadowDecision& shadow, const AttributeMasks& masks,
                  const std::vector<std::string_view>& tokens,
                  std::string& out) {
  out += '{';
  if (shadow.decision != nullptr) {
    out += "\"decision\":";
    AppendBool(shadow.decision->permit, out);
    out += ',';
  }
  out += "\"differs\":";
  AppendBool(shadow.differs, out);
  if (shadow.decision == nullptr) {
    out += ",\"error\":";
    AppendJsonString(ErrorMessage(shadow.status, masks, tokens), out);
  } else {
    out += ",\"reasons\":";
    AppendStringArray(
        DecisionReasons(shadow.program, shadow.frame, *shadow.decision), out);
  }
  out += ",\"revision\":";
  AppendJsonString(shadow.program.revision, out);
  out += '}';
}

// Lines take a few hundred bytes (581 for the AuthZEN Todo request of
// bench/decision_log_bench.cc), so the line usually fits one allocation.
inline constexpr size_t kLineReserveBytes = 1024;

}  // namespace

absl::Status ValidateMaskPath(std::string_view mask) {
  std::string_view names = mask;
  if (!names.empty() && names.back() == '.') names.remove_suffix(1);
  bool valid = !names.empty();
  size_t name_size = 0;
  for (char c : names) {
    if (c == '.') {
      if (name_size == 0) valid = false;
      name_size = 0;
    } else if (IsMaskNameChar(c)) {
      ++name_size;
    } else {
      valid = false;
    }
  }
  if (valid && name_size > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid mask path '", ToAbsl(mask),
      "'; expected an attribute path such as subject.email, or a prefix such "
      "as context. that masks every attribute under it"));
}

absl::StatusOr<AttributeMasks> AttributeMasks::Create(
    const std::vector<std::string>& paths) {
  AttributeMasks masks;
  for (std::string_view path : kDefaultMaskedAttributes) {
    masks.paths_.emplace_back(path);
  }
  for (const std::string& path : paths) {
    if (absl::Status s = ValidateMaskPath(path); !s.ok()) return s;
    std::string_view names = path;
    if (names.back() == '.') names.remove_suffix(1);
    masks.paths_.emplace_back(names);
  }
  std::sort(masks.paths_.begin(), masks.paths_.end());
  masks.paths_.erase(std::unique(masks.paths_.begin(), masks.paths_.end()),
                     masks.paths_.end());
  return masks;
}

bool AttributeMasks::Covers(std::string_view path) const {
  for (const std::string& mask : paths_) {
    if (path.size() < mask.size() || path.compare(0, mask.size(), mask) != 0) {
      continue;
    }
    if (path.size() == mask.size() || path[mask.size()] == '.') return true;
  }
  return false;
}

std::string FormatDecisionLine(const DecisionEvent& event,
                               const ShadowDecision* shadow,
                               const AttributeMasks& masks) {
  const std::vector<std::string_view> tokens = PresentedTokens(event.frame);
  std::string line;
  line.reserve(kLineReserveBytes);

  // The members in order of name.
  line += "{\"api\":";
  AppendJsonString(DecisionApiName(event.api), line);
  if (event.decision != nullptr) {
    line += ",\"decision_id\":";
    AppendJsonString(event.decision->id.ToString(), line);
  }
  line += ",\"duration_ns\":";
  AppendInteger(event.duration_nanos, line);
  if (event.decision == nullptr) {
    line += ",\"error\":";
    AppendJsonString(ErrorMessage(event.status, masks, tokens), line);
  }
  line += ",\"input\":";
  AppendInput(event.program, event.frame, masks, tokens, line);
  if (event.decision != nullptr) {
    line += ",\"result\":";
    AppendResult(event.program, event.frame, *event.decision, masks, tokens,
                 line);
  }
  line += ",\"revision\":";
  AppendJsonString(event.program.revision, line);
  if (shadow != nullptr) {
    line += ",\"shadow\":";
    AppendShadow(*shadow, masks, tokens, line);
  }
  line += ",\"time\":";
  AppendTime(event.start_nanos, line);
  line += "}\n";
  return line;
}

}  // namespace verdict::server
