// Compiles policy source given as a string, for tests.

#ifndef VERDICT_TESTS_COMPILE_TEXT_H_
#define VERDICT_TESTS_COMPILE_TEXT_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "compiler/compile.h"
#include "gtest/gtest.h"

namespace verdict::testing {

// Writes each of `files` as policies/<name> (and each `data` entry as
// data/<name>.json) in a fresh temporary directory and compiles them.
inline compiler::Compilation CompileFiles(
    const std::map<std::string, std::string>& files,
    const std::map<std::string, std::string>& data = {},
    compiler::CompileOptions options = {}) {
  static std::atomic<int> counter{0};
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() /
                 ("verdict-test-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter++));
  fs::create_directories(dir / "policies");
  for (const auto& [name, text] : files) {
    std::ofstream(dir / "policies" / name) << text;
  }
  if (!data.empty()) {
    fs::create_directories(dir / "data");
    for (const auto& [name, text] : data) {
      std::ofstream(dir / "data" / (name + ".json")) << text;
    }
  }
  absl::StatusOr<compiler::Compilation> result = compiler::CompileDirectory(
      (dir / "policies").string(), data.empty() ? "" : (dir / "data").string(),
      options);
  fs::remove_all(dir);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : compiler::Compilation{};
}

// Compiles `source` as the single file policies/policy.verdict.
inline compiler::Compilation CompileText(
    const std::string& source,
    const std::map<std::string, std::string>& data = {},
    compiler::CompileOptions options = {}) {
  return CompileFiles({{"policy.verdict", source}}, data, options);
}

}  // namespace verdict::testing

#endif  // VERDICT_TESTS_COMPILE_TEXT_H_
