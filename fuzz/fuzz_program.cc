#include "fuzz/fuzz_program.h"

#include <cstdio>
#include <cstdlib>

#include "compiler/compile.h"

namespace verdict::fuzz {

std::string ProgramDirectory() { return VERDICT_FUZZ_DIR "/program"; }

const Program& FuzzProgram() {
  static const std::shared_ptr<const Program> program = [] {
    const std::string dir = ProgramDirectory();
    absl::StatusOr<compiler::Compilation> compilation =
        compiler::CompileDirectory(dir + "/policies", dir + "/data", {});
    if (!compilation.ok()) {
      std::fprintf(stderr, "fuzz program %s: %s\n", dir.c_str(),
                   compilation.status().ToString().c_str());
      std::abort();
    }
    if (compilation->program == nullptr) {
      std::fprintf(stderr, "fuzz program %s does not compile:\n%s\n",
                   dir.c_str(), compilation->diagnostics.c_str());
      std::abort();
    }
    return compilation->program;
  }();
  return *program;
}

}  // namespace verdict::fuzz
