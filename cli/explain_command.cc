// `verdict explain`: decide one request and show why, for PERMIT and DENY.

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/compile_util.h"
#include "engine/evaluator.h"
#include "engine/explain.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict::cli {
namespace {

// Parses --now as Unix seconds or an RFC 3339 time.
absl::StatusOr<int64_t> ParseNow(const std::string& text) {
  int64_t seconds;
  if (absl::SimpleAtoi(text, &seconds)) return seconds;
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::ToUnixSeconds(time);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--now ", text, " is neither Unix seconds nor an RFC 3339 time"));
}

// Reads the request from `source`, a file name or "-" for standard input.
absl::StatusOr<std::string> ReadRequest(const std::string& source) {
  std::ostringstream text;
  if (source == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream file(source, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("cannot read request file ", source));
  }
  text << file.rdbuf();
  return text.str();
}

// A test case file ({"now": ..., "request": {...}, "expected": ...}) is
// accepted in place of a request: its request is explained, at its `now`
// unless --now is given. No AuthZEN request has a top-level "request".
void UnwrapCase(std::string& text, bool now_given, int64_t& now) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("request")) return;
  if (!now_given && json.contains("now") && json["now"].is_number_integer()) {
    now = json["now"].get<int64_t>();
  }
  text = json["request"].dump();
}

struct ExplainFlags {
  int64_t now = 0;
  bool json = false;
  ExplainOptions options;
};

// Reads --now, --format and --all; returns false after printing a usage
// error.
bool ReadFlags(const ParsedArgs& parsed, ExplainFlags& flags) {
  flags.now = absl::ToUnixSeconds(absl::Now());
  if (parsed.Has("now")) {
    absl::StatusOr<int64_t> pinned = ParseNow(parsed.Get("now"));
    if (!pinned.ok()) {
      std::cerr << "verdict explain: " << pinned.status().message() << "\n";
      return false;
    }
    flags.now = *pinned;
  }
  std::string format = parsed.Get("format", "text");
  if (format != "text" && format != "json") {
    std::cerr << "verdict explain: --format " << format
              << " is not supported; use text or json\n";
    return false;
  }
  flags.json = format == "json";
  if (parsed.Has("all")) flags.options.max_nearest = 0;
  return true;
}

}  // namespace

const CommandSpec& ExplainSpec() {
  static const CommandSpec spec = {
      "explain",
      "Decide one request and show which policies applied and why others "
      "did not.",
      "verdict explain --policies DIR [--data DIR] [--request FILE|-] "
      "[--now TIME] [--format text|json] [--all]",
      {{"policies", "DIR", "Directory of *.verdict policy files.", true},
       {"data", "DIR",
        "Directory of entity data sets (<name>.json) that schemas join."},
       {"request", "FILE",
        "JSON request to explain, or a test case file whose \"request\" and "
        "\"now\" are used; '-' (the default) reads standard input."},
       {"now", "TIME",
        "Clock for env.now, as Unix seconds or RFC 3339 (default: the system "
        "clock)."},
       {"format", "FORMAT", "Output format: text (the default) or json."},
       {"all", "",
        "Show every policy that did not apply, not only the 3 nearest."}},
      /*positional_name=*/""};
  return spec;
}

int RunExplain(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(ExplainSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict explain: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(ExplainSpec());
    return 0;
  }
  ExplainFlags flags;
  if (!ReadFlags(*parsed, flags)) return 2;
  std::shared_ptr<const Program> program =
      CompileOrReport(parsed->Get("policies"), parsed->Get("data"));
  if (program == nullptr) return 1;

  absl::StatusOr<std::string> request = ReadRequest(parsed->Get("request", "-"));
  if (!request.ok()) {
    std::cerr << "verdict explain: " << request.status().message() << "\n";
    return 1;
  }
  UnwrapCase(*request, parsed->Has("now"), flags.now);
  Frame frame;
  absl::Status status = DecodeJsonRequest(*program, *request, flags.now, frame);
  if (!status.ok()) {
    std::cerr << "verdict explain: invalid request: " << status.message()
              << "\n";
    return 1;
  }
  Decision decision = Evaluate(*program, frame);
  Explanation explanation = Explain(*program, frame, decision, flags.options);
  if (flags.json) {
    std::cout << ExplanationToJson(explanation).dump(2) << "\n";
  } else {
    std::cout << ExplanationToText(explanation);
  }
  return 0;
}

}  // namespace verdict::cli
