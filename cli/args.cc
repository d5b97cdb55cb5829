#include "cli/args.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace verdict::cli {
namespace {

const OptionSpec* FindOption(const CommandSpec& spec, std::string_view name) {
  for (const OptionSpec& option : spec.options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

}  // namespace

bool ParsedArgs::Has(std::string_view name) const {
  return values.find(std::string(name)) != values.end();
}

std::string ParsedArgs::Get(std::string_view name, std::string fallback) const {
  auto it = values.find(std::string(name));
  return it == values.end() ? fallback : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--help" || word == "-h") {
      parsed.help = true;
      return parsed;
    }
    if (word.size() < 3 || word.compare(0, 2, "--") != 0) {
      if (spec.positional_name.empty() && word != "-") {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected argument '", word, "'; see verdict ", spec.name,
            " --help"));
      }
      parsed.positionals.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      has_value = true;
    }
    const OptionSpec* option = FindOption(spec, name);
    if (option == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown option --", name, " for verdict ", spec.name,
          "; see verdict ", spec.name, " --help"));
    }
    if (option->value_name.empty()) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " takes no value"));
      }
      parsed.values[name] = "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option --", name, " needs a value: --", name, " ",
            option->value_name));
      }
      value = args[++i];
    }
    if (option->repeatable && parsed.Has(name)) {
      parsed.values[name] += "," + value;
      continue;
    }
    parsed.values[name] = value;
  }
  for (const OptionSpec& option : spec.options) {
    if (option.required && !parsed.Has(option.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "verdict ", spec.name, " needs --", option.name, " ",
          option.value_name));
    }
  }
  return parsed;
}

std::string HelpText(const CommandSpec& spec) {
  std::string text = absl::StrCat("Usage: ", spec.usage, "\n\n", spec.summary,
                                  "\n");
  if (spec.options.empty()) return text;
  absl::StrAppend(&text, "\nOptions:\n");
  size_t width = 0;
  std::vector<std::string> heads;
  for (const OptionSpec& option : spec.options) {
    heads.push_back(absl::StrCat("--", option.name,
                                 option.value_name.empty() ? "" : " ",
                                 option.value_name));
    width = std::max(width, heads.back().size());
  }
  for (size_t i = 0; i < spec.options.size(); ++i) {
    absl::StrAppend(&text, "  ", heads[i],
                    std::string(width - heads[i].size() + 2, ' '),
                    spec.options[i].help, "\n");
  }
  absl::StrAppend(&text, "  --help", std::string(width > 4 ? width - 4 : 2, ' '),
                  "Print this help and exit.\n");
  return text;
}

}  // namespace verdict::cli
