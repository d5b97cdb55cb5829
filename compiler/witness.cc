#include "compiler/witness.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"
#include "engine/values.h"

namespace verdict::compiler {
namespace {

using Json = nlohmann::json;

Json* NestedMember(Json& object, const std::string& dotted) {
  Json* target = &object;
  for (absl::string_view part : absl::StrSplit(dotted, '.')) {
    target = &(*target)[std::string(part)];
  }
  return target;
}

}  // namespace

WitnessBuilder::WitnessBuilder(const Universe& universe, int64_t now)
    : universe_(universe), now_(now) {
  for (size_t k = 0; k < universe.program_count(); ++k) {
    frames_.push_back(std::make_unique<Frame>());
    frame_pointers_.push_back(frames_.back().get());
  }
}

std::optional<Json> WitnessBuilder::Find(const Constraints& c,
                                         const Check& check) {
  const size_t n = universe_.slot_count();
  std::vector<bool> mentioned(n, c.all_present());
  for (const auto& [predicate, truth] : c.literals()) {
    for (uint32_t slot : universe_.predicate(predicate).slots) mentioned[slot] = true;
  }
  for (const Step& step : c.steps()) {
    if (step.slot != kNoSlot) mentioned[step.slot] = true;
  }
  std::vector<std::vector<Value>> candidates(n);
  std::vector<size_t> cursor(n, 0);
  std::vector<Value> values(n);
  for (uint32_t s = 0; s < n; ++s) {
    if (!mentioned[s]) continue;
    candidates[s] = Candidates(c, s);
    if (!candidates[s].empty()) values[s] = candidates[s][0];
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::vector<Value> fixed = values;
    FixRelations(c, fixed);
    FixAncestors(c, fixed);
    std::optional<Json> request = Render(fixed);
    if (!request) return std::nullopt;
    bool decoded = true;
    std::vector<uint32_t> broken = Violations(c, request->dump(), decoded);
    if (!decoded) return std::nullopt;
    if (broken.empty()) {
      if (check(frame_pointers_)) return request;
      return std::nullopt;
    }
    // Try the next value of one broken attribute, taking them in turn so
    // that a relation between several attributes gets each one changed.
    std::erase_if(broken, [&](uint32_t s) {
      return cursor[s] + 1 >= candidates[s].size();
    });
    if (broken.empty()) return std::nullopt;
    const uint32_t next = broken[static_cast<size_t>(attempt) % broken.size()];
    values[next] = candidates[next][++cursor[next]];
  }
  return std::nullopt;
}

std::vector<bool> WitnessBuilder::JoinedSlots(
    const std::vector<Value>& values) const {
  std::vector<bool> joined(values.size(), false);
  for (size_t k = 0; k < universe_.program_count(); ++k) {
    for (const DataJoin& join : universe_.program(k).joins) {
      if (join.key_slot == kNoSlot) continue;
      const Value& key = values[universe_.SlotOf(k, join.key_slot)];
      if (!key.present) continue;
      auto record = join.records.find(key.text);
      if (record == join.records.end()) continue;
      for (const DataValue& value : record->second.values) {
        joined[universe_.SlotOf(k, value.slot)] = true;
      }
    }
  }
  return joined;
}

std::optional<Json> WitnessBuilder::Render(const std::vector<Value>& values) const {
  // Attributes that entity data fills from a joined id are left out, so
  // that the request does not contradict the data.
  const std::vector<bool> joined = JoinedSlots(values);
  Json request = Json::object();
  for (uint32_t s = 0; s < values.size(); ++s) {
    const Value& value = values[s];
    const UniverseSlot& slot = universe_.slot(s);
    if (!value.present || joined[s] || slot.computed) continue;
    Json rendered;
    if (slot.type == Type::kBool) {
      rendered = value.integer != 0;
    } else if (slot.type == Type::kDecimal) {
      rendered = FormatDecimal(value.integer);
    } else if (IsIntegral(slot.type)) {
      rendered = value.integer;
    } else if (slot.type == Type::kString || slot.type == Type::kIp ||
               slot.type == Type::kCidr) {
      rendered = value.text;
    } else if (slot.type == Type::kStringSet || slot.type == Type::kStringList) {
      rendered = value.elements;
    } else {
      return std::nullopt;
    }
    const std::string rest = slot.path.substr(slot.group.size() + 1);
    const std::string& group = slot.group;
    Json* target;
    if (group == "subject" || group == "resource" || group == "action") {
      const bool own = group == "action" ? rest == "name"
                                         : rest == "id" || rest == "type";
      target = own ? &request[group][rest]
                   : NestedMember(request[group]["properties"], rest);
    } else if (group == "context") {
      target = NestedMember(request["context"], rest);
    } else {
      target = NestedMember(request["attributes"][group], rest);
    }
    *target = std::move(rendered);
  }
  return request;
}

std::vector<uint32_t> WitnessBuilder::Violations(const Constraints& c,
                                                 const std::string& json,
                                                 bool& decoded) {
  std::vector<uint32_t> out;
  for (size_t k = 0; k < universe_.program_count(); ++k) {
    const Program& program = universe_.program(k);
    // A witness gives token attributes as plain ones: an analysis cannot
    // sign tokens, so it searches the attributes they would set.
    if (!DecodeJsonRequest(program, json, now_, *frames_[k], TokenStage::kSkip)
             .ok()) {
      decoded = false;
      return {};
    }
    for (const std::string& path : frames_[k]->conflicts()) {
      uint32_t slot = program.FindSlot(path);
      if (slot != kNoSlot) out.push_back(universe_.SlotOf(k, slot));
    }
    AddViolations(c, k, out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void WitnessBuilder::AddViolations(const Constraints& c, size_t k,
                                   std::vector<uint32_t>& out) const {
  const Program& program = universe_.program(k);
  const Frame& frame = *frames_[k];
  for (const auto& [predicate, truth] : c.literals()) {
    const UniversePredicate& p = universe_.predicate(predicate);
    if (p.source[k] == kNotInProgram) continue;
    if (EvaluatePredicate(program, frame, p.source[k]) != truth) {
      out.insert(out.end(), p.slots.begin(), p.slots.end());
    }
  }
  for (const Step& step : c.steps()) {
    if (step.kind == StepKind::kLiteral) continue;
    const uint32_t local = universe_.slot(step.slot).source[k];
    if (local == kNotInProgram) continue;
    const SlotValue& value = frame.slot(local);
    bool holds = step.kind == StepKind::kAbsent ? !value.present : value.present;
    if (holds && (step.kind == StepKind::kSwitchKey ||
                  step.kind == StepKind::kSwitchOther)) {
      const std::string_view text = frame.SymbolText(value.symbol);
      bool in_keys = false;
      for (uint32_t key : step.keys) in_keys |= text == universe_.SymbolText(key);
      holds = step.kind == StepKind::kSwitchKey ? in_keys : !in_keys;
    }
    if (!holds) out.push_back(step.slot);
  }
  for (uint32_t s = 0; s < universe_.slot_count(); ++s) {
    const Presence presence = c.slot(s).presence;
    const uint32_t local = universe_.slot(s).source[k];
    if (presence == Presence::kUnknown || local == kNotInProgram) continue;
    if (frame.slot(local).present != (presence == Presence::kPresent)) {
      out.push_back(s);
    }
  }
}

}  // namespace verdict::compiler
