// Loading of the entity hierarchy and its transitive closure.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/data_loader.h"
#include "compiler/lower.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Graph = std::map<std::string, std::vector<std::string>>;

bool IsEntity(const std::string& text) {
  size_t separator = text.find("::");
  return separator != std::string::npos && separator > 0 &&
         separator + 2 < text.size();
}

// Reads the parent lists, reporting malformed entries.
Graph ReadGraph(const Json& data, const std::string& file, std::string& errors,
                size_t& error_count) {
  Graph graph;
  auto error = [&](const std::string& message) {
    absl::StrAppend(&errors, file, ": error: ", message, "\n");
    ++error_count;
  };
  if (!data.is_object()) {
    error(
        "the hierarchy must be a JSON object mapping \"Type::id\" to a list "
        "of parents");
    return graph;
  }
  for (const auto& [entity, parents] : data.items()) {
    if (!IsEntity(entity)) {
      error(absl::StrCat("\"", entity,
                         "\" is not an entity; write Type::id, "
                         "as in Group::eng"));
      continue;
    }
    std::vector<std::string>& out = graph[entity];
    if (!parents.is_array()) {
      error(absl::StrCat("the parents of \"", entity, "\" must be a list"));
      continue;
    }
    for (const Json& parent : parents) {
      if (!parent.is_string() || !IsEntity(parent.get<std::string>())) {
        error(absl::StrCat("parent ", parent.dump(), " of \"", entity,
                           "\" is not an entity written Type::id"));
        continue;
      }
      out.push_back(parent.get<std::string>());
    }
  }
  return graph;
}

// Computes every entity's ancestors depth-first with an explicit stack, so
// that deep hierarchies cannot exhaust the call stack. Returns the entities
// on a cycle, or an empty list.
std::vector<std::string> Close(
    const Graph& graph, std::map<std::string, std::set<std::string>>& closure) {
  enum class State { kNew, kOpen, kDone };
  std::map<std::string, State> state;
  for (const auto& [root, unused] : graph) {
    if (state[root] != State::kNew) continue;
    std::vector<std::pair<std::string, size_t>> stack = {{root, 0}};
    state[root] = State::kOpen;
    while (!stack.empty()) {
      auto& [entity, next] = stack.back();
      auto edges = graph.find(entity);
      const size_t count = edges == graph.end() ? 0 : edges->second.size();
      if (next < count) {
        const std::string& parent = edges->second[next++];
        State& parent_state = state[parent];
        if (parent_state == State::kOpen) {
          std::vector<std::string> cycle;
          for (auto it = stack.begin(); it != stack.end(); ++it) {
            if (it->first == parent || !cycle.empty())
              cycle.push_back(it->first);
          }
          cycle.push_back(parent);
          return cycle;
        }
        if (parent_state == State::kNew) {
          parent_state = State::kOpen;
          stack.push_back({parent, 0});
        }
        continue;
      }
      std::set<std::string>& ancestors = closure[entity];
      ancestors.insert(entity);
      for (size_t i = 0; i < count; ++i) {
        const std::set<std::string>& above = closure[edges->second[i]];
        ancestors.insert(above.begin(), above.end());
      }
      state[entity] = State::kDone;
      stack.pop_back();
    }
  }
  return {};
}

}  // namespace

absl::Status LoadHierarchy(
    const std::string& data_dir, Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count) {
  if (data_dir.empty()) return absl::OkStatus();
  fs::path path = fs::path(data_dir) / "entities.json";
  std::error_code exists_error;
  if (!fs::exists(path, exists_error)) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  on_file("entities.json", text);
  Json data = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) {
    absl::StrAppend(&errors, path.string(), ": error: not valid JSON\n");
    ++error_count;
    return absl::OkStatus();
  }
  Graph graph = ReadGraph(data, path.string(), errors, error_count);
  std::map<std::string, std::set<std::string>> closure;
  std::vector<std::string> cycle = Close(graph, closure);
  if (!cycle.empty()) {
    absl::StrAppend(&errors, path.string(),
                    ": error: the entity hierarchy has a cycle: ",
                    absl::StrJoin(cycle, " -> "), "\n");
    ++error_count;
    return absl::OkStatus();
  }
  for (const auto& [entity, ancestors] : closure) {
    std::vector<uint32_t> symbols;
    for (const std::string& ancestor : ancestors) {
      symbols.push_back(InternSymbol(program, ancestor));
    }
    std::sort(symbols.begin(), symbols.end());
    program.hierarchy.emplace(entity, std::move(symbols));
  }
  return absl::OkStatus();
}

}  // namespace verdict::compiler
