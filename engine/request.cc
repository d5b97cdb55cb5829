#include "engine/request.h"

#include <algorithm>
#include <type_traits>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/absl_compat.h"
#include "engine/values.h"

namespace verdict {
namespace {

bool AcceptsBool(Type type) { return type == Type::kBool; }
bool AcceptsInt(Type type) {
  return type == Type::kInt || type == Type::kTimestamp ||
         type == Type::kDuration || type == Type::kDecimal;
}
bool AcceptsString(Type type) {
  return type == Type::kString || type == Type::kTimestamp ||
         type == Type::kDecimal || type == Type::kIp || type == Type::kCidr;
}
bool AcceptsStrings(Type type) {
  return type == Type::kStringSet || type == Type::kStringList;
}

// Quotes a request value for an error message, cut to a readable length.
std::string Excerpt(std::string_view value) {
  constexpr size_t kMaxShown = 64;
  if (value.size() <= kMaxShown) return absl::StrCat("\"", ToAbsl(value), "\"");
  return absl::StrCat("\"", ToAbsl(value.substr(0, kMaxShown)), "...\"");
}

// Returns the error for a request string past kMaxRequestStringBytes.
// `what` is "" for a string attribute, or names the set or list element.
ABSL_ATTRIBUTE_NOINLINE absl::Status StringTooLong(std::string_view path,
                                                   std::string_view what,
                                                   std::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("request attribute ", ToAbsl(path), ": ", ToAbsl(what),
                   "string ", Excerpt(value), " is ", value.size(),
                   " bytes, more than the limit of ", kMaxRequestStringBytes,
                   " bytes; send at most ", kMaxRequestStringBytes, " bytes"));
}

bool AcceptsDerivedInt(Type type) {
  return type == Type::kInt || type == Type::kTimestamp ||
         type == Type::kDuration;
}
bool AcceptsPlainString(Type type) { return type == Type::kString; }
bool AcceptsSet(Type type) { return type == Type::kStringSet; }
bool AcceptsList(Type type) { return type == Type::kStringList; }

}  // namespace

std::string_view SourceName(AttributeSource source) {
  switch (source) {
    case AttributeSource::kRequest: return "attribute";
    case AttributeSource::kData: return "data";
    case AttributeSource::kIdJag: return "id-jag";
    case AttributeSource::kAccessToken: return "access_token";
    case AttributeSource::kEar: return "ear";
    case AttributeSource::kVerdict: return "verdict";
  }
  return "attribute";
}

void Frame::Reset(const Program& program) {
  program_ = &program;
  slots_.assign(program.slots.size(), SlotValue{});
  text_arena_.clear();
  set_pool_.clear();
  dynamic_text_.clear();
  dynamic_spans_.clear();
  dynamic_symbols_.clear();
  conflicts_.clear();
  rejections_.clear();
  rejection_details_.clear();
  presentation_.Clear();
  permits.clear();
  forbids.clear();
  errors.clear();
  determining.clear();
  policy_status.assign(program.policies.size(), 0);
}

uint32_t Frame::Intern(std::string_view text) {
  // One hash serves both tables: a flat_hash_map keyed by std::string hashes
  // with absl::Hash<absl::string_view> by default, as DynamicSymbolHash does.
  static_assert(std::is_same_v<decltype(Program::symbol_index),
                               absl::flat_hash_map<std::string, uint32_t>>);
  const size_t hash = DynamicSymbolHash{this}(text);
  auto known = program_->symbol_index.find(ToAbsl(text), hash);
  if (known != program_->symbol_index.end()) return known->second;
  const uint32_t first_dynamic =
      static_cast<uint32_t>(program_->symbols.size());
  auto found = dynamic_symbols_.find(text, hash);
  if (found != dynamic_symbols_.end()) return first_dynamic + *found;
  const uint32_t index = static_cast<uint32_t>(dynamic_spans_.size());
  dynamic_spans_.push_back({static_cast<uint32_t>(dynamic_text_.size()),
                            static_cast<uint32_t>(text.size()), hash});
  dynamic_text_.append(text);
  dynamic_symbols_.insert(index);
  return first_dynamic + index;
}

std::string_view Frame::SymbolText(uint32_t symbol) const {
  if (symbol < program_->symbols.size()) return program_->symbols[symbol];
  return DynamicText(symbol - static_cast<uint32_t>(program_->symbols.size()));
}

size_t Frame::DynamicSymbolHash::operator()(std::string_view text) const {
  return absl::Hash<absl::string_view>{}(ToAbsl(text));
}

RequestBuilder::RequestBuilder(const Program& program, Frame& frame)
    : program_(program), frame_(frame) {}

absl::Status RequestBuilder::Lookup(
    std::string_view path, absl::FunctionRef<std::string()> describe_given,
    bool (*accepts)(Type), uint32_t& slot) {
  slot = program_.FindSlot(path);
  if (slot == kNoSlot) return absl::OkStatus();
  const Type type = program_.slots[slot].type;
  if (!program_.slots[slot].computed && !frame_.slots_[slot].given &&
      accepts(type)) {
    return absl::OkStatus();
  }
  return LookupError(path, describe_given, slot);
}

absl::Status RequestBuilder::LookupError(
    std::string_view path, absl::FunctionRef<std::string()> describe_given,
    uint32_t slot) {
  if (program_.slots[slot].computed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", ToAbsl(path),
        " is computed from the entity data and cannot be given in a "
        "request"));
  }
  if (frame_.slots_[slot].given) {
    // Which of two values wins would depend on member order: reject both.
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", ToAbsl(path),
        " is given twice; give each attribute once, either as an entity "
        "member, a property or under \"attributes\""));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("request attribute ", ToAbsl(path), ": expected ",
                   ToAbsl(TypeName(program_.slots[slot].type)), ", got ",
                   describe_given()));
}

absl::Status RequestBuilder::SetBool(std::string_view path, bool value) {
  uint32_t slot;
  absl::Status status = Lookup(
      path, [&] { return std::string(value ? "true" : "false"); }, AcceptsBool,
      slot);
  if (!status.ok() || slot == kNoSlot) return status;
  SlotValue& out = frame_.slots_[slot];
  out = SlotValue{};
  out.present = true;
  out.given = true;
  out.integer = value ? 1 : 0;
  return absl::OkStatus();
}

absl::Status RequestBuilder::SetInt(std::string_view path, int64_t value) {
  uint32_t slot;
  absl::Status status = Lookup(
      path, [&] { return absl::StrCat("the integer ", value); }, AcceptsInt,
      slot);
  if (!status.ok() || slot == kNoSlot) return status;
  SlotValue& out = frame_.slots_[slot];
  out = SlotValue{};
  int64_t stored = value;
  if (program_.slots[slot].type == Type::kDecimal &&
      __builtin_mul_overflow(value, kDecimalScale, &stored)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", ToAbsl(path), ": ", value,
        " is out of the decimal range"));
  }
  out.present = true;
  out.given = true;
  out.integer = stored;
  return absl::OkStatus();
}

absl::Status RequestBuilder::SetString(std::string_view path,
                                       std::string_view value) {
  uint32_t slot;
  absl::Status status = Lookup(
      path, [&] { return absl::StrCat("the string ", Excerpt(value)); },
      AcceptsString, slot);
  if (!status.ok() || slot == kNoSlot) return status;
  if (value.size() > kMaxRequestStringBytes) {
    return StringTooLong(path, "", value);
  }
  SlotValue& out = frame_.slots_[slot];
  out = SlotValue{};
  out.given = true;
  const Type type = program_.slots[slot].type;
  if (type != Type::kString) return SetParsed(path, slot, type, value);
  out.present = true;
  out.text_begin = static_cast<uint32_t>(frame_.text_arena_.size());
  out.text_size = static_cast<uint32_t>(value.size());
  frame_.text_arena_.append(value);
  out.symbol = frame_.Intern(value);
  return absl::OkStatus();
}

absl::Status RequestBuilder::SetParsed(std::string_view path, uint32_t slot,
                                       Type type, std::string_view value) {
  SlotValue& out = frame_.slots_[slot];
  if (type == Type::kTimestamp) {
    absl::Time time;
    std::string error;
    // NOTE: absl::ParseTime copies the format and the input into
    // std::strings, so an RFC 3339 string longer than 15 bytes allocates.
    if (!absl::ParseTime(absl::RFC3339_full, ToAbsl(value), &time, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request attribute ", ToAbsl(path), ": ", Excerpt(value),
          " is not an RFC 3339 time such as 2026-01-01T00:00:00Z (", error,
          "); give Unix seconds or an RFC 3339 string"));
    }
    out.present = true;
    out.integer = absl::ToUnixSeconds(time);
    return absl::OkStatus();
  }
  if (type == Type::kDecimal) {
    std::optional<int64_t> scaled = ParseDecimal(value);
    if (!scaled.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request attribute ", ToAbsl(path), ": ", Excerpt(value),
          " is not a decimal such as \"12.5\" (at most 4 fractional "
          "digits)"));
    }
    out.present = true;
    out.integer = *scaled;
    return absl::OkStatus();
  }
  std::optional<std::string> bytes =
      type == Type::kIp ? ParseIp(value) : ParseCidr(value);
  if (!bytes.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request attribute ", ToAbsl(path), ": ", Excerpt(value),
        type == Type::kIp
            ? " is not an IP address such as 10.0.0.1 or 2001:db8::1"
            : " is not a CIDR range such as 10.0.0.0/8 with zero host bits"));
  }
  out.present = true;
  out.text_begin = static_cast<uint32_t>(frame_.text_arena_.size());
  out.text_size = static_cast<uint32_t>(bytes->size());
  frame_.text_arena_.append(*bytes);
  return absl::OkStatus();
}

absl::Status RequestBuilder::SetStrings(
    std::string_view path, std::span<const std::string_view> values) {
  uint32_t slot;
  absl::Status status = Lookup(
      path, [] { return std::string("a list of strings"); }, AcceptsStrings,
      slot);
  if (!status.ok() || slot == kNoSlot) return status;
  if (values.size() > kMaxRequestElements) {
    return absl::InvalidArgumentError(
        absl::StrCat("request attribute ", ToAbsl(path), ": ", values.size(),
                     " elements, more than the limit of ", kMaxRequestElements,
                     "; send at most ", kMaxRequestElements,
                     " elements, or keep large collections in entity data"));
  }
  // Every element is checked before the slot changes, so a rejected value
  // leaves the slot as it was. The decision log formats the frame of an
  // invalid request too, and must never read a half-set value.
  const bool is_list = program_.slots[slot].type == Type::kStringList;
  for (std::string_view value : values) {
    if (value.size() > kMaxRequestStringBytes) {
      return StringTooLong(path, "element ", value);
    }
    if (is_list && value.find(kListSeparator) != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request attribute ", ToAbsl(path), ": element ", Excerpt(value),
          " contains the byte 0x1F, which list elements may not contain"));
    }
  }
  SlotValue& out = frame_.slots_[slot];
  out = SlotValue{};
  out.present = true;
  out.given = true;
  if (is_list) {
    std::string& joined = frame_.scratch_text_;
    joined.clear();
    for (std::string_view value : values) {
      joined.push_back(kListSeparator);
      joined.append(value);
    }
    out.symbol = frame_.Intern(joined);
    return absl::OkStatus();
  }
  out.set_begin = static_cast<uint32_t>(frame_.set_pool_.size());
  for (std::string_view value : values) {
    frame_.set_pool_.push_back(frame_.Intern(value));
  }
  auto begin = frame_.set_pool_.begin() + out.set_begin;
  std::sort(begin, frame_.set_pool_.end());
  frame_.set_pool_.erase(std::unique(begin, frame_.set_pool_.end()),
                         frame_.set_pool_.end());
  out.set_size = static_cast<uint32_t>(frame_.set_pool_.size() - out.set_begin);
  return absl::OkStatus();
}

absl::Status RequestBuilder::SetNull(std::string_view path) {
  uint32_t slot;
  absl::Status status = Lookup(
      path, [] { return std::string("null"); }, [](Type) { return true; },
      slot);
  if (!status.ok() || slot == kNoSlot) return status;
  frame_.slots_[slot] = SlotValue{};
  frame_.slots_[slot].given = true;
  return absl::OkStatus();
}

uint32_t RequestBuilder::DerivedSlot(std::string_view path,
                                     bool (*accepts)(Type)) {
  const uint32_t slot = program_.FindSlot(path);
  if (slot == kNoSlot || accepts(program_.slots[slot].type)) return slot;
  Reject(absl::StrCat("attribute_type:", ToAbsl(path)));
  return kNoSlot;
}

void RequestBuilder::AddConflict(uint32_t slot) {
  const std::string& path = program_.slots[slot].path;
  std::vector<std::string>& conflicts = frame_.conflicts_;
  if (std::find(conflicts.begin(), conflicts.end(), path) == conflicts.end()) {
    conflicts.push_back(path);
  }
}

bool RequestBuilder::MatchDerived(uint32_t slot, bool equal,
                                  AttributeSource source) {
  SlotValue& value = frame_.slots_[slot];
  if (!value.present) {
    value = SlotValue{};  // a null in the request does not contradict
    value.present = true;
    value.given = true;
    value.source = source;
    return false;
  }
  if (equal) {
    value.source = source;
  } else {
    AddConflict(slot);
  }
  return true;
}

void RequestBuilder::DeriveBool(std::string_view path, bool value,
                                AttributeSource source) {
  const uint32_t slot = DerivedSlot(path, AcceptsBool);
  if (slot == kNoSlot) return;
  const SlotValue& current = frame_.slots_[slot];
  if (MatchDerived(slot, current.integer == (value ? 1 : 0), source)) return;
  frame_.slots_[slot].integer = value ? 1 : 0;
}

void RequestBuilder::DeriveInt(std::string_view path, int64_t value,
                               AttributeSource source) {
  const uint32_t slot = DerivedSlot(path, AcceptsDerivedInt);
  if (slot == kNoSlot) return;
  if (MatchDerived(slot, frame_.slots_[slot].integer == value, source)) return;
  frame_.slots_[slot].integer = value;
}

void RequestBuilder::DeriveString(std::string_view path, std::string_view value,
                                  AttributeSource source) {
  const uint32_t slot = DerivedSlot(path, AcceptsPlainString);
  if (slot != kNoSlot) DeriveText(slot, value, source);
}

void RequestBuilder::DeriveText(uint32_t slot, std::string_view value,
                                AttributeSource source) {
  const SlotValue& current = frame_.slots_[slot];
  if (MatchDerived(slot, current.present && frame_.Text(current) == value,
                   source)) {
    return;
  }
  SlotValue& out = frame_.slots_[slot];
  out.symbol = frame_.Intern(value);
  out.text_begin = static_cast<uint32_t>(frame_.text_arena_.size());
  out.text_size = static_cast<uint32_t>(value.size());
  frame_.text_arena_.append(value);
}

void RequestBuilder::DeriveStrings(std::string_view path,
                                   std::span<const std::string> values,
                                   bool ordered, AttributeSource source) {
  const uint32_t slot =
      DerivedSlot(path, ordered ? AcceptsList : AcceptsSet);
  if (slot == kNoSlot) return;
  if (ordered) {
    std::string joined;
    for (const std::string& value : values) {
      joined.push_back(kListSeparator);
      joined.append(value);
    }
    const uint32_t symbol = frame_.Intern(joined);
    if (MatchDerived(slot, frame_.slots_[slot].symbol == symbol, source)) {
      return;
    }
    frame_.slots_[slot].symbol = symbol;
    return;
  }
  std::vector<uint32_t> symbols;
  symbols.reserve(values.size());
  for (const std::string& value : values) {
    symbols.push_back(frame_.Intern(value));
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  const std::span<const uint32_t> current = frame_.Set(frame_.slots_[slot]);
  if (MatchDerived(slot,
                   std::equal(current.begin(), current.end(), symbols.begin(),
                              symbols.end()),
                   source)) {
    return;
  }
  SlotValue& out = frame_.slots_[slot];
  out.set_begin = static_cast<uint32_t>(frame_.set_pool_.size());
  out.set_size = static_cast<uint32_t>(symbols.size());
  frame_.set_pool_.insert(frame_.set_pool_.end(), symbols.begin(),
                          symbols.end());
}

void RequestBuilder::Reject(std::string reason, std::string detail) {
  std::vector<std::string>& rejections = frame_.rejections_;
  if (std::find(rejections.begin(), rejections.end(), reason) ==
      rejections.end()) {
    rejections.push_back(std::move(reason));
    frame_.rejection_details_.push_back(std::move(detail));
  }
}

// Sets each `meta.source.<path>` to the provenance of `<path>`. A request
// may give one only with the value Verdict derives.
void RequestBuilder::FillProvenance() {
  for (const ProvenanceSlot& provenance : program_.provenance) {
    const SlotValue& target = frame_.slots_[provenance.target];
    if (!target.present) {
      if (frame_.slots_[provenance.slot].present) AddConflict(provenance.slot);
      continue;
    }
    DeriveText(provenance.slot, SourceName(target.source),
               AttributeSource::kVerdict);
  }
}

void RequestBuilder::JoinRecord(const DataJoin& join, const DataRecord& record) {
  for (const DataValue& value : record.values) {
    SlotValue& slot = frame_.slots_[value.slot];
    const Type type = program_.slots[value.slot].type;
    if (slot.present) {
      bool equal;
      if (type == Type::kIp || type == Type::kCidr) {
        equal = frame_.Text(slot) == program_.symbols[value.symbol];
      } else if (type == Type::kString || type == Type::kStringList) {
        equal = slot.symbol == value.symbol;
      } else if (type == Type::kStringSet) {
        std::span<const uint32_t> given = frame_.Set(slot);
        equal = std::equal(given.begin(), given.end(), value.elements.begin(),
                           value.elements.end());
      } else {
        equal = slot.integer == value.integer;
      }
      if (!equal) AddConflict(value.slot);
      continue;
    }
    slot.present = true;
    slot.source = AttributeSource::kData;
    slot.integer = value.integer;
    slot.symbol = value.symbol;
    if (type == Type::kString || type == Type::kIp || type == Type::kCidr) {
      std::string_view text = program_.symbols[value.symbol];
      slot.text_begin = static_cast<uint32_t>(frame_.text_arena_.size());
      slot.text_size = static_cast<uint32_t>(text.size());
      frame_.text_arena_.append(text);
    } else if (type == Type::kStringSet) {
      slot.set_begin = static_cast<uint32_t>(frame_.set_pool_.size());
      slot.set_size = static_cast<uint32_t>(value.elements.size());
      frame_.set_pool_.insert(frame_.set_pool_.end(), value.elements.begin(),
                              value.elements.end());
    }
  }
}

absl::Status RequestBuilder::VerifyTokens(int64_t now_unix_seconds,
                                          TokenStage stage) {
  const Presentation& presentation = frame_.presentation_;
  if (stage == TokenStage::kSkip) {
    if (presentation.tokens.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "this analysis reads token attributes as plain attributes and "
        "cannot take a request with \"tokens\"");
  }
  if (program_.token_source != nullptr) {
    program_.token_source->Apply(presentation, now_unix_seconds, *this);
    return absl::OkStatus();
  }
  if (presentation.tokens.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the request presents ", presentation.tokens.size(),
      " token(s), but the policies were compiled without a trust file, so "
      "no token can be verified; put trust.json beside the policies, or "
      "send the request without \"tokens\""));
}

void RequestBuilder::Finish(int64_t now_unix_seconds) {
  for (const DataJoin& join : program_.joins) {
    const SlotValue& key = frame_.slots_[join.key_slot];
    if (!key.present) continue;
    auto it = join.records.find(ToAbsl(frame_.Text(key)));
    if (it != join.records.end()) JoinRecord(join, it->second);
  }
  for (const AncestorsSlot& ancestors : program_.ancestors) {
    const SlotValue& type = frame_.slots_[ancestors.type_slot];
    const SlotValue& id = frame_.slots_[ancestors.id_slot];
    if (!type.present || !id.present) continue;
    std::string& key = frame_.scratch_text_;
    key.assign(frame_.Text(type));
    key.append("::");
    key.append(frame_.Text(id));
    SlotValue& out = frame_.slots_[ancestors.slot];
    out.present = true;
    out.set_begin = static_cast<uint32_t>(frame_.set_pool_.size());
    auto it = program_.hierarchy.find(key);
    if (it != program_.hierarchy.end()) {
      frame_.set_pool_.insert(frame_.set_pool_.end(), it->second.begin(),
                              it->second.end());
    } else {
      frame_.set_pool_.push_back(frame_.Intern(key));
    }
    out.set_size =
        static_cast<uint32_t>(frame_.set_pool_.size() - out.set_begin);
  }
  if (program_.env_now_slot != kNoSlot &&
      !frame_.slots_[program_.env_now_slot].present) {
    SlotValue& now = frame_.slots_[program_.env_now_slot];
    now.present = true;
    now.source = AttributeSource::kVerdict;
    now.integer = now_unix_seconds;
  }
  if (!program_.provenance.empty()) FillProvenance();
}

}  // namespace verdict
