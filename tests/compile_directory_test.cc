// Tests of which files CompileDirectory reads from a policy directory.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "compiler/compile.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"(
schema action { name: string }
permit "read" when { action.name == "read" }
)";

// Returns a new, empty directory under the system's temporary directory.
fs::path MakeTempDir() {
  std::string pattern =
      (fs::temp_directory_path() / "verdict-compile-dir-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  return pattern;
}

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(CompileDirectory, ReadsSubdirectories) {
  const fs::path dir = MakeTempDir();
  Write(dir / "a.verdict", "schema action { name: string }\n");
  Write(dir / "team" / "b.verdict",
        "permit \"read\" when { action.name == \"read\" }\n");
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir.string(), "", {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
  EXPECT_EQ(compiled->program->policies.size(), 1u);
  fs::remove_all(dir);
}

TEST(CompileDirectory, SkipsHiddenEntries) {
  const fs::path dir = MakeTempDir();
  Write(dir / "policy.verdict", kPolicy);
  // Would be a duplicate policy id, or a syntax error, if read.
  Write(dir / ".git" / "copy.verdict", kPolicy);
  Write(dir / ".draft.verdict", "permit \"broken\" when {");
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir.string(), "", {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_NE(compiled->program, nullptr) << compiled->diagnostics;
  EXPECT_EQ(compiled->program->policies.size(), 1u);
  fs::remove_all(dir);
}

// The layout of a Kubernetes ConfigMap volume: the files in a hidden
// directory, `..data` linking to it, and a link per file at the top.
TEST(CompileDirectory, ReadsConfigMapVolumeOnce) {
  const fs::path dir = MakeTempDir();
  Write(dir / "..2026_12_05_07_00_00.000000001" / "policy.verdict", kPolicy);
  fs::create_directory_symlink("..2026_12_05_07_00_00.000000001",
                               dir / "..data");
  fs::create_symlink("..data/policy.verdict", dir / "policy.verdict");
  for (const fs::path& root : {dir, dir / "..data"}) {
    absl::StatusOr<compiler::Compilation> compiled =
        compiler::CompileDirectory(root.string(), "", {});
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    ASSERT_NE(compiled->program, nullptr) << root << compiled->diagnostics;
    EXPECT_EQ(compiled->program->policies.size(), 1u) << root;
  }
  fs::remove_all(dir);
}

TEST(CompileDirectory, OnlyHiddenFilesIsAnError) {
  const fs::path dir = MakeTempDir();
  Write(dir / ".hidden.verdict", kPolicy);
  absl::StatusOr<compiler::Compilation> compiled =
      compiler::CompileDirectory(dir.string(), "", {});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(compiled->program, nullptr);
  EXPECT_THAT(compiled->diagnostics,
              HasSubstr("no *.verdict policy files found"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace verdict
