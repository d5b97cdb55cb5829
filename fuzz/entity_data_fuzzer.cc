// Loads the input as entity data for the schema of fuzz/program/: the part
// before the first line "---" is the data set users.json, the part after it
// (when present) the hierarchy entities.json. When the data loads without
// errors, builds the DAG and decides requests that join the data.
//
// The loaders read files, so each input is written to a temporary
// directory first.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/checker.h"
#include "compiler/dag_builder.h"
#include "compiler/data_loader.h"
#include "compiler/formula.h"
#include "compiler/lower.h"
#include "compiler/parser.h"
#include "compiler/source.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "fuzz/fuzz_program.h"

namespace {

namespace fs = std::filesystem;
using namespace verdict::compiler;

constexpr std::string_view kSeparator = "\n---\n";

// Requests that join each record of fuzz/program/data/users.json, an
// unknown user and a hierarchy member.
constexpr std::string_view kRequests[] = {
    R"({"subject": {"type": "user", "id": "alice"},
        "action": {"name": "read"},
        "resource": {"type": "doc", "id": "d1", "properties": {"owner": "alice"}}})",
    R"({"subject": {"type": "user", "id": "bob"},
        "action": {"name": "pay"},
        "resource": {"type": "invoice", "id": "i1",
                     "properties": {"amount": "12.25", "tags": ["q1"]}}})",
    R"({"subject": {"type": "user", "id": "carol",
                    "properties": {"clearance": 0}},
        "action": {"name": "read"},
        "resource": {"type": "doc", "id": "d2"}})",
    R"({"subject": {"type": "user", "id": "nobody"},
        "action": {"name": "read"},
        "resource": {"type": "doc", "id": "d3"}})",
};

// The checked schema and policies of fuzz/program/policies, which the
// loaders type-check the data against. The sources and syntax trees stay
// alive with it.
struct CheckedProgram {
  std::vector<std::unique_ptr<SourceFile>> sources;
  std::vector<FileAst> files;
  CheckedSet checked;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const CheckedProgram& Checked() {
  static const CheckedProgram* checked = [] {
    auto result = new CheckedProgram;
    Diagnostics diagnostics;
    const fs::path dir = fs::path(verdict::fuzz::ProgramDirectory()) / "policies";
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".verdict") continue;
      result->sources.push_back(std::make_unique<SourceFile>(
          entry.path().string(), ReadFile(entry.path())));
      result->files.push_back(ParseFile(*result->sources.back(), diagnostics));
    }
    result->checked = Check(result->files, diagnostics);
    if (result->files.empty() || diagnostics.has_errors()) {
      std::fprintf(stderr, "fuzz program %s has errors:\n%s\n",
                   dir.c_str(), diagnostics.Render().c_str());
      std::abort();
    }
    return result;
  }();
  return *checked;
}

// A directory of its own under the system temporary directory, removed
// when the process exits normally.
fs::path* data_directory = nullptr;

const fs::path& DataDirectory() {
  if (data_directory == nullptr) {
    std::string pattern =
        (fs::temp_directory_path() / "verdict-entity-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    data_directory = new fs::path(pattern);
    std::atexit([] { fs::remove_all(*data_directory); });
  }
  return *data_directory;
}

void WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) {
    std::fprintf(stderr, "failed to write %s\n", path.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const CheckedProgram& checked = Checked();
  const fs::path& dir = DataDirectory();

  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t separator = input.find(kSeparator);
  WriteFile(dir / "users.json", input.substr(0, separator));
  if (separator == std::string_view::npos) {
    fs::remove(dir / "entities.json");
  } else {
    WriteFile(dir / "entities.json",
              input.substr(separator + kSeparator.size()));
  }

  verdict::Program program;
  FormulaStore store;
  Lower(checked.checked, program, store);
  auto ignore_file = [](std::string_view, std::string_view) {};
  std::string errors;
  size_t error_count = 0;
  if (!LoadData(checked.checked, dir.string(), 1u << 20, program, ignore_file,
                errors, error_count)
           .ok() ||
      !LoadHierarchy(dir.string(), program, ignore_file, errors, error_count)
           .ok() ||
      error_count > 0) {
    return 0;
  }
  BuildDag(store, program, DagNodeBudget(0, program.policies.size()));
  store.MoveTo(program);

  verdict::Frame frame;
  for (std::string_view request : kRequests) {
    if (!verdict::DecodeJsonRequest(program, request,
                                    verdict::fuzz::kNowUnixSeconds, frame)
             .ok()) {
      continue;
    }
    verdict::Decision decision = verdict::Evaluate(program, frame);
    verdict::DecisionReasons(program, frame, decision);
  }
  return 0;
}
