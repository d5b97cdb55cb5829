// The formatter FormatDecisionLine replaced, unchanged but for its name and
// namespace: it builds the line as an nlohmann::json object and dumps it.

#include "tests/server/decision_log_line_reference.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/absl_compat.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "nlohmann/json.hpp"

namespace verdict::testing {
namespace {

using server::AttributeMasks;
using server::DecisionApiName;
using server::kMaskedValue;
using server::ShadowDecision;

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

// True when `value`, a string or an array of strings, contains a token.
bool ValueContainsToken(const nlohmann::json& value,
                        const std::vector<std::string_view>& tokens) {
  if (tokens.empty()) return false;
  if (value.is_string()) {
    return ContainsToken(value.get_ref<const std::string&>(), tokens);
  }
  if (value.is_array()) {
    for (const nlohmann::json& element : value) {
      if (ValueContainsToken(element, tokens)) return true;
    }
  }
  return false;
}

// Returns the value of `slot` as logged: the marker when a mask covers it
// or it contains a presented token.
nlohmann::json LoggedValue(const Program& program, const Frame& frame,
                           uint32_t slot, const AttributeMasks& masks,
                           const std::vector<std::string_view>& tokens) {
  if (masks.Covers(program.slots[slot].path)) return kMaskedValue;
  nlohmann::json value = SlotToJson(program, frame, slot);
  if (ValueContainsToken(value, tokens)) return kMaskedValue;
  return value;
}

// Stores `value` in `input` under the object path of the dotted `path`:
// "subject.id" becomes {"subject": {"id": ...}}. When a name along the path
// already holds a value that is not an object, or the last name holds an
// object, the value goes under the whole dotted path at the top instead,
// so that nothing is overwritten.
void InsertNested(nlohmann::json& input, std::string_view path,
                  nlohmann::json value) {
  nlohmann::json* node = &input;
  size_t start = 0;
  for (size_t dot = path.find('.'); dot != std::string_view::npos;
       dot = path.find('.', start)) {
    nlohmann::json& child = (*node)[std::string(path.substr(start, dot - start))];
    if (child.is_null()) child = nlohmann::json::object();
    if (!child.is_object()) {
      input[std::string(path)] = std::move(value);
      return;
    }
    node = &child;
    start = dot + 1;
  }
  nlohmann::json& leaf = (*node)[std::string(path.substr(start))];
  if (leaf.is_object()) {
    input[std::string(path)] = std::move(value);
    return;
  }
  leaf = std::move(value);
}

nlohmann::json InputToJson(const Program& program, const Frame& frame,
                           const AttributeMasks& masks,
                           const std::vector<std::string_view>& tokens) {
  nlohmann::json input = nlohmann::json::object();
  for (uint32_t slot = 0; slot < program.slots.size(); ++slot) {
    const SlotInfo& info = program.slots[slot];
    if (info.computed || !frame.slot(slot).present) continue;
    InsertNested(input, info.path,
                 LoggedValue(program, frame, slot, masks, tokens));
  }
  return input;
}

// Replaces the obligation and advice fields that DutiesToJson read from a
// masked or token-bearing attribute. Walks the duties in DutiesToJson's
// order: determining policies, then each policy's duties.
void MaskDuties(const Program& program, const Frame& frame,
                const Decision& decision, const AttributeMasks& masks,
                const std::vector<std::string_view>& tokens,
                nlohmann::json& result) {
  size_t obligation = 0;
  size_t advice = 0;
  for (uint32_t policy : decision.determining) {
    for (const Duty& duty : program.policies[policy].duties) {
      nlohmann::json& rendered = duty.advice
                                     ? result["advice"][advice++]
                                     : result["obligations"][obligation++];
      for (const DutyField& field : duty.fields) {
        if (field.slot == kNoSlot) continue;
        nlohmann::json& value = rendered["fields"][field.key];
        if (masks.Covers(program.slots[field.slot].path) ||
            ValueContainsToken(value, tokens)) {
          value = kMaskedValue;
        }
      }
    }
  }
}

nlohmann::json ResultToJson(const Program& program, const Frame& frame,
                            const Decision& decision,
                            const AttributeMasks& masks,
                            const std::vector<std::string_view>& tokens) {
  nlohmann::json rendered = DecisionToJson(program, frame, decision);
  nlohmann::json result = std::move(rendered["context"]);
  result.erase("decision_id");
  result.erase("revision");
  result["decision"] = decision.permit;
  MaskDuties(program, frame, decision, masks, tokens, result);
  return result;
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

nlohmann::json ShadowToJson(const ShadowDecision& shadow,
                            const AttributeMasks& masks,
                            const std::vector<std::string_view>& tokens) {
  nlohmann::json out = {{"revision", shadow.program.revision},
                        {"differs", shadow.differs}};
  if (shadow.decision == nullptr) {
    out["error"] = ErrorMessage(shadow.status, masks, tokens);
    return out;
  }
  out["decision"] = shadow.decision->permit;
  out["reasons"] =
      DecisionReasons(shadow.program, shadow.frame, *shadow.decision);
  return out;
}

}  // namespace

std::string ReferenceFormatDecisionLine(const server::DecisionEvent& event,
                                        const server::ShadowDecision* shadow,
                                        const server::AttributeMasks& masks) {
  const std::vector<std::string_view> tokens = PresentedTokens(event.frame);
  nlohmann::json line = {
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                absl::FromUnixNanos(event.start_nanos),
                                absl::UTCTimeZone())},
      {"api", DecisionApiName(event.api)},
      {"revision", event.program.revision},
      {"input", InputToJson(event.program, event.frame, masks, tokens)},
      {"duration_ns", event.duration_nanos},
  };
  if (event.decision == nullptr) {
    line["error"] = ErrorMessage(event.status, masks, tokens);
  } else {
    line["decision_id"] = event.decision->id.ToString();
    line["result"] = ResultToJson(event.program, event.frame, *event.decision,
                                  masks, tokens);
  }
  if (shadow != nullptr) line["shadow"] = ShadowToJson(*shadow, masks, tokens);

  // Invalid UTF-8 in a request string becomes U+FFFD rather than an
  // exception, so every event yields a line.
  std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace verdict::testing
