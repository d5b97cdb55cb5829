#include "tests/differential_case.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "compiler/checker.h"
#include "compiler/compile.h"
#include "compiler/parser.h"
#include "engine/decision_json.h"
#include "engine/evaluator.h"
#include "engine/request.h"
#include "tests/reference_interpreter.h"

namespace verdict::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The clock of every decision, in Unix seconds, for requests without
// `env.now`.
constexpr int64_t kNow = 1000;

// Sorts every array inside `value`, because sets render in no fixed order.
Json SortArrays(Json value) {
  if (value.is_array()) {
    for (Json& element : value) element = SortArrays(element);
    std::sort(value.begin(), value.end());
  } else if (value.is_object()) {
    for (auto& [key, element] : value.items()) element = SortArrays(element);
  }
  return value;
}

std::string DutyText(bool advice, const std::string& name,
                     const std::string& policy, const Json& fields) {
  return std::string(advice ? "advice " : "obligation ") + name + " by " +
         policy + " " + SortArrays(fields).dump();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A duty field read by the reference: a literal or a request attribute
// rendered as DutiesToJson documents it, for the types the generator uses.
Json ReferenceField(const compiler::TExpr& value, const Program& program,
                    const Frame& frame) {
  if (value.kind == compiler::TExprKind::kLiteral) {
    switch (value.type) {
      case Type::kBool: return value.bool_value;
      case Type::kString: return value.text;
      default: return value.int_value;
    }
  }
  const SlotValue& slot = frame.slot(value.attribute);
  if (!slot.present) return nullptr;
  switch (program.slots[value.attribute].type) {
    case Type::kBool: return slot.integer != 0;
    case Type::kString:
    case Type::kIp:
      return std::string(frame.Text(slot));
    case Type::kStringSet: {
      Json elements = Json::array();
      for (uint32_t symbol : frame.Set(slot)) {
        elements.push_back(std::string(frame.SymbolText(symbol)));
      }
      return elements;
    }
    default: return slot.integer;
  }
}

// Writes the policy and data files of `c` under `dir`, replacing what is
// there.
void WriteCaseFiles(const DifferentialCase& c, const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir / "policies");
  fs::create_directories(dir / "data");
  std::ofstream(dir / "policies" / "app.verdict") << c.PolicyFile();
  std::ofstream(dir / "policies" / "lib.verdict") << kLibraryModule;
  for (const auto& [name, contents] : c.data.items()) {
    std::ofstream(dir / "data" / (name + ".json")) << contents.dump(2) << "\n";
  }
}

}  // namespace

Json Outcome::ToJson() const {
  return {{"permit", permit},
          {"determining", determining},
          {"errored", errored},
          {"duties", duties}};
}

Outcome Outcome::FromJson(const Json& json) {
  Outcome outcome;
  outcome.permit = json.at("permit").get<bool>();
  outcome.determining = json.at("determining").get<std::set<std::string>>();
  outcome.errored = json.at("errored").get<std::set<std::string>>();
  outcome.duties = json.at("duties").get<std::multiset<std::string>>();
  return outcome;
}

struct PreparedCase::State {
  std::shared_ptr<const Program> program;
  std::vector<std::unique_ptr<compiler::SourceFile>> sources;
  std::vector<compiler::FileAst> files;
  compiler::CheckedSet checked;
  ReferenceLinks links;
  mutable Frame frame;
};

PreparedCase::PreparedCase(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
PreparedCase::~PreparedCase() = default;

std::unique_ptr<PreparedCase> PreparedCase::Load(const fs::path& dir,
                                                 size_t max_dag_nodes,
                                                 std::string* error) {
  compiler::CompileOptions options;
  options.max_dag_nodes = max_dag_nodes;
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory((dir / "policies").string(),
                                 (dir / "data").string(), options);
  if (!compilation.ok()) {
    *error = compilation.status().ToString();
    return nullptr;
  }
  if (compilation->program == nullptr) {
    *error = compilation->diagnostics;
    return nullptr;
  }
  auto state = std::make_unique<State>();
  state->program = compilation->program;
  // The reference reads the files in the compiler's order: sorted paths.
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir / "policies")) {
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  compiler::Diagnostics diagnostics;
  for (const fs::path& path : paths) {
    state->sources.push_back(std::make_unique<compiler::SourceFile>(
        path.string(), ReadFile(path)));
    state->files.push_back(
        compiler::ParseFile(*state->sources.back(), diagnostics));
  }
  state->checked = compiler::Check(state->files, diagnostics);
  if (diagnostics.has_errors()) {
    *error = diagnostics.Render();
    return nullptr;
  }
  // Template links are the data sets that are JSON arrays.
  for (const auto& entry : fs::directory_iterator(dir / "data")) {
    Json records = Json::parse(ReadFile(entry.path()));
    if (!records.is_array()) continue;
    auto& links = state->links[entry.path().stem().string()];
    for (const Json& record : records) {
      std::map<std::string, std::string> fields;
      for (const auto& [field, value] : record.items()) {
        fields[field] =
            value.is_string() ? value.get<std::string>() : value.dump();
      }
      links.push_back(std::move(fields));
    }
  }
  return std::unique_ptr<PreparedCase>(new PreparedCase(std::move(state)));
}

std::unique_ptr<PreparedCase> PreparedCase::Prepare(const DifferentialCase& c,
                                                    const fs::path& dir,
                                                    std::string* error) {
  WriteCaseFiles(c, dir);
  return Load(dir, c.max_dag_nodes, error);
}

std::optional<Outcome> PreparedCase::Engine(const Json& request,
                                            std::string* error) const {
  const Program& program = *state_->program;
  absl::Status decoded =
      DecodeJsonRequest(program, request.dump(), kNow, state_->frame);
  if (!decoded.ok()) {
    *error = decoded.ToString();
    return std::nullopt;
  }
  Decision decision = Evaluate(program, state_->frame);
  Outcome outcome;
  outcome.permit = decision.permit;
  for (uint32_t policy : decision.determining) {
    outcome.determining.insert(program.policies[policy].id);
  }
  for (const ErroredPolicy& e : decision.errors) {
    outcome.errored.insert(program.policies[e.policy].id);
  }
  Json duties = DutiesToJson(program, state_->frame, decision);
  for (const char* kind : {"obligations", "advice"}) {
    for (const Json& duty : duties[kind]) {
      outcome.duties.insert(DutyText(std::string(kind) == "advice",
                                     duty["name"], duty["policy"],
                                     duty["fields"]));
    }
  }
  return outcome;
}

std::optional<Outcome> PreparedCase::Reference(const Json& request,
                                               std::string* error) const {
  const Program& program = *state_->program;
  absl::Status decoded =
      DecodeJsonRequest(program, request.dump(), kNow, state_->frame);
  if (!decoded.ok()) {
    *error = decoded.ToString();
    return std::nullopt;
  }
  ReferenceDecision decision = ReferenceEvaluate(
      state_->checked, program, state_->frame, state_->links);
  Outcome outcome;
  outcome.permit = decision.permit;
  outcome.determining = decision.determining;
  outcome.errored = decision.errored;
  for (const compiler::CheckedPolicy& policy : state_->checked.policies) {
    if (decision.determining.count(policy.id) == 0) continue;
    for (const compiler::CheckedDuty& duty : policy.duties) {
      Json fields = Json::object();
      for (const auto& [key, value] : duty.fields) {
        fields[key] = ReferenceField(value, program, state_->frame);
      }
      outcome.duties.insert(DutyText(duty.advice, duty.name, policy.id, fields));
    }
  }
  return outcome;
}

std::optional<std::string> Disagreement(const DifferentialCase& c,
                                        const fs::path& scratch,
                                        const EngineFault& fault) {
  std::string error;
  std::unique_ptr<PreparedCase> prepared =
      PreparedCase::Prepare(c, scratch, &error);
  if (prepared == nullptr) return std::nullopt;
  std::optional<Outcome> engine = prepared->Engine(c.request, &error);
  std::optional<Outcome> reference = prepared->Reference(c.request, &error);
  if (!engine || !reference) return std::nullopt;
  if (fault) fault(c.request, *engine);
  if (*engine == *reference) return std::nullopt;
  return "engine:    " + engine->ToJson().dump() +
         "\nreference: " + reference->ToJson().dump();
}

fs::path SaveRegression(const DifferentialCase& c, const Outcome& expected,
                        const fs::path& root) {
  // FNV-1a over everything the case consists of names its directory.
  const std::string contents = c.PolicyFile() + c.request.dump() +
                               c.data.dump() + std::to_string(c.max_dag_nodes);
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char ch : contents) hash = (hash ^ ch) * 1099511628211ull;
  char name[17];
  std::snprintf(name, sizeof name, "%016llx",
                static_cast<unsigned long long>(hash));
  const fs::path dir = root / std::string(name, 12);
  WriteCaseFiles(c, dir);
  std::ofstream(dir / "request.json") << c.request.dump(2) << "\n";
  Json expected_json = expected.ToJson();
  expected_json["max_dag_nodes"] = c.max_dag_nodes;
  std::ofstream(dir / "expected.json") << expected_json.dump(2) << "\n";
  return dir;
}

}  // namespace verdict::testing
