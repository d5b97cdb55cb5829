// Compiles the input as one policy file, in memory, with the steps of
// compiler::CompileDirectory: parse, check, lower and build the decision
// DAG. Then evaluates an empty request against the program. Entity data is
// not loaded; entity_data_fuzzer covers it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "compiler/dag_builder.h"
#include "compiler/formula.h"
#include "compiler/lower.h"
#include "compiler/parser.h"
#include "compiler/source.h"
#include "engine/evaluator.h"
#include "engine/program.h"
#include "engine/request.h"
#include "fuzz/fuzz_program.h"

namespace {

// DAG nodes per input, well below the compiler's automatic budget (at least
// 200,000), so that one input stays within libFuzzer's -timeout under ASan.
// The budget logic runs the same code at any size.
constexpr size_t kMaxDagNodes = 20'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace verdict::compiler;
  SourceFile source("fuzz.verdict",
                    std::string(reinterpret_cast<const char*>(data), size));
  Diagnostics diagnostics;
  std::vector<FileAst> files;
  files.push_back(ParseFile(source, diagnostics));
  CheckedSet checked = Check(files, diagnostics);
  // Rendering reads source lines at every diagnostic's span.
  diagnostics.Render();
  if (diagnostics.has_errors()) return 0;

  verdict::Program program;
  FormulaStore store;
  Lower(checked, program, store);
  BuildDag(store, program, kMaxDagNodes);
  store.MoveTo(program);

  verdict::Frame frame;
  if (!verdict::DecodeJsonRequest(program, "{}",
                                  verdict::fuzz::kNowUnixSeconds, frame)
           .ok()) {
    return 0;
  }
  verdict::Decision decision = verdict::Evaluate(program, frame);
  verdict::DecisionReasons(program, frame, decision);
  return 0;
}
