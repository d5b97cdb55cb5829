#include "engine/decision_json.h"

#include "engine/values.h"

namespace verdict {

nlohmann::json SlotToJson(const Program& program, const Frame& frame,
                          uint32_t slot) {
  const SlotValue& value = frame.slot(slot);
  if (!value.present) return nullptr;
  switch (program.slots[slot].type) {
    case Type::kBool:
      return value.integer != 0;
    case Type::kString:
      return std::string(frame.Text(value));
    case Type::kDecimal:
      return FormatDecimal(value.integer);
    case Type::kIp:
      return FormatIp(frame.Text(value));
    case Type::kCidr:
      return FormatCidr(frame.Text(value));
    case Type::kStringSet: {
      nlohmann::json elements = nlohmann::json::array();
      for (uint32_t symbol : frame.Set(value)) {
        elements.push_back(std::string(frame.SymbolText(symbol)));
      }
      return elements;
    }
    case Type::kStringList: {
      nlohmann::json elements = nlohmann::json::array();
      std::string_view encoded = frame.SymbolText(value.symbol);
      size_t start = 0;
      while (start < encoded.size()) {
        size_t next = encoded.find(kListSeparator, start + 1);
        if (next == std::string_view::npos) next = encoded.size();
        elements.push_back(
            std::string(encoded.substr(start + 1, next - start - 1)));
        start = next;
      }
      return elements;
    }
    default:
      return value.integer;
  }
}

namespace {

nlohmann::json LiteralToJson(const DutyField& field) {
  switch (field.type) {
    case Type::kBool:
      return field.integer != 0;
    case Type::kString:
      return field.text;
    case Type::kDecimal:
      return FormatDecimal(field.integer);
    case Type::kIp:
      return FormatIp(field.text);
    case Type::kCidr:
      return FormatCidr(field.text);
    case Type::kStringSet:
    case Type::kStringList:
      return field.elements;
    default:
      return field.integer;
  }
}

}  // namespace

nlohmann::json DutiesToJson(const Program& program, const Frame& frame,
                            const Decision& decision) {
  nlohmann::json obligations = nlohmann::json::array();
  nlohmann::json advice = nlohmann::json::array();
  for (uint32_t policy : decision.determining) {
    const PolicyInfo& info = program.policies[policy];
    for (const Duty& duty : info.duties) {
      nlohmann::json fields = nlohmann::json::object();
      for (const DutyField& field : duty.fields) {
        fields[field.key] = field.slot == kNoSlot
                                ? LiteralToJson(field)
                                : SlotToJson(program, frame, field.slot);
      }
      (duty.advice ? advice : obligations)
          .push_back({{"policy", info.id},
                      {"name", duty.name},
                      {"fields", std::move(fields)}});
    }
  }
  return {{"obligations", std::move(obligations)},
          {"advice", std::move(advice)}};
}

nlohmann::json DecisionToJson(const Program& program, const Frame& frame,
                              const Decision& decision) {
  nlohmann::json policies = nlohmann::json::array();
  for (uint32_t policy : decision.determining) {
    policies.push_back(program.policies[policy].id);
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const ErroredPolicy& error : decision.errors) {
    errors.push_back(
        {{"policy", program.policies[error.policy].id},
         {"message", DescribeError(program, frame, error.predicate)}});
  }
  nlohmann::json context = {
      {"decision_id", decision.id.ToString()},
      {"revision", program.revision},
      {"policies", std::move(policies)},
      {"errors", std::move(errors)},
      {"reasons", DecisionReasons(program, frame, decision)},
  };
  if (decision.deciding_set != 0) {
    context["policy_set"] = program.sets[decision.deciding_set].id;
  }
  nlohmann::json duties = DutiesToJson(program, frame, decision);
  context["obligations"] = std::move(duties["obligations"]);
  context["advice"] = std::move(duties["advice"]);
  return {{"decision", decision.permit}, {"context", std::move(context)}};
}

}  // namespace verdict
