// `verdict eval`: decide JSON requests in process, without a server.

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/compile_util.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/request.h"

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

// Decides one request and prints the decision; returns false on a bad
// request, after printing an error object.
bool DecideOne(const Program& program, const std::string& json, int64_t now,
               bool pretty, Frame& frame) {
  absl::Status status = DecodeJsonRequest(program, json, now, frame);
  if (!status.ok()) {
    nlohmann::json error = {{"error", std::string(status.message())}};
    std::cout << error.dump(pretty ? 2 : -1) << "\n";
    return false;
  }
  Decision decision = Evaluate(program, frame);
  std::cout << DecisionToJson(program, frame, decision).dump(pretty ? 2 : -1)
            << "\n";
  return true;
}

}  // namespace

const CommandSpec& EvalSpec() {
  static const CommandSpec spec = {
      "eval",
      "Decide AuthZEN-shaped JSON requests against policies, in process.",
      "verdict eval --policies DIR [--data DIR] [--request FILE|-] [--batch]",
      {{"policies", "DIR", "Directory of *.verdict policy files.", true},
       {"data", "DIR",
        "Directory of entity data sets (<name>.json) that schemas join."},
       {"request", "FILE",
        "JSON request to decide; '-' (the default) reads standard input."},
       {"batch", "",
        "Read one JSON request per line and print one decision per line."},
       {"now", "TIME",
        "Clock for env.now, as Unix seconds or RFC 3339 (default: the system "
        "clock)."}},
      /*positional_name=*/""};
  return spec;
}

int RunEval(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(EvalSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict eval: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(EvalSpec());
    return 0;
  }
  int64_t now = absl::ToUnixSeconds(absl::Now());
  if (parsed->Has("now")) {
    absl::StatusOr<int64_t> pinned = ParseNow(parsed->Get("now"));
    if (!pinned.ok()) {
      std::cerr << "verdict eval: " << pinned.status().message() << "\n";
      return 2;
    }
    now = *pinned;
  }
  std::shared_ptr<const Program> program =
      CompileOrReport(parsed->Get("policies"), parsed->Get("data"));
  if (program == nullptr) return 1;

  std::string source = parsed->Get("request", "-");
  std::ifstream file;
  if (source != "-") {
    file.open(source, std::ios::binary);
    if (!file) {
      std::cerr << "verdict eval: cannot read request file " << source << "\n";
      return 1;
    }
  }
  std::istream& in = source == "-" ? std::cin : file;
  Frame frame;
  bool all_ok = true;
  if (parsed->Has("batch")) {
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      all_ok &= DecideOne(*program, line, now, /*pretty=*/false, frame);
    }
  } else {
    std::ostringstream text;
    text << in.rdbuf();
    all_ok = DecideOne(*program, text.str(), now, /*pretty=*/true, frame);
  }
  return all_ok ? 0 : 1;
}

}  // namespace verdict::cli
