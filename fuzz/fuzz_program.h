// Shared setup of the fuzz targets: the fixed program that requests and
// entity data are decoded against.

#ifndef VERDICT_FUZZ_FUZZ_PROGRAM_H_
#define VERDICT_FUZZ_FUZZ_PROGRAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "engine/program.h"

namespace verdict::fuzz {

// The clock of every fuzzed decision, 2026-01-01T00:00:00Z, so that a crash
// input reproduces whatever the time of the rerun.
inline constexpr int64_t kNowUnixSeconds = 1767225600;

// Returns the directory fuzz/program/ of the source tree: policies/ contains
// the policy files and data/ the entity data they join.
std::string ProgramDirectory();

// Compiles fuzz/program/ once and returns it. Aborts with the compiler's
// diagnostics when it does not compile, since every input would then test
// nothing.
const Program& FuzzProgram();

}  // namespace verdict::fuzz

#endif  // VERDICT_FUZZ_FUZZ_PROGRAM_H_
