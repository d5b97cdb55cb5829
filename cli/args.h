// A small command-line parser for the `verdict` subcommands.
//
// Each subcommand declares its options; `--name value` and `--name=value`
// are accepted, boolean options take no value, and `--help` prints the
// generated usage. Unknown options and missing values are errors that name
// the option.

#ifndef VERDICT_CLI_ARGS_H_
#define VERDICT_CLI_ARGS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace verdict::cli {

struct OptionSpec {
  std::string name;        // without dashes: "policies"
  std::string value_name;  // "DIR"; empty for a boolean option
  std::string help;        // what the option sets, with its unit and default
  bool required = false;
  // When the option is given several times, its values are joined with ','
  // in ParsedArgs::values; otherwise the last one wins.
  bool repeatable = false;
};

struct CommandSpec {
  std::string name;     // "serve"
  std::string summary;  // one line for `verdict --help`
  std::string usage;    // "verdict serve --policies DIR [options]"
  std::vector<OptionSpec> options;
  std::string positional_name;  // "DIR" when the command takes positionals
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  // option name -> value
  std::vector<std::string> positionals;
  bool help = false;

  bool Has(std::string_view name) const;
  // Returns the value of `name`, or `fallback` when it was not given.
  std::string Get(std::string_view name, std::string fallback = "") const;
};

// Parses `args` (the words after the subcommand name) against `spec`.
// Returns INVALID_ARGUMENT naming the offending option.
absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     const std::vector<std::string>& args);

// Returns the help text for `spec`: usage, summary and one line per option.
std::string HelpText(const CommandSpec& spec);

}  // namespace verdict::cli

#endif  // VERDICT_CLI_ARGS_H_
