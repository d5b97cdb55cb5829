// End-to-end tests of `verdict fmt`: exit codes, the files it lists or
// rewrites, and its unified diff. The tests run the verdict binary of the
// same build directory, which must be built first (ninja builds it with the
// tests).

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace verdict {
namespace {

namespace fs = std::filesystem;

constexpr char kMessy[] =
    "schema s { a: int, b: bool }\n"
    "permit \"x\" when { s.a > 1 && s.b }\n";
constexpr char kClean[] =
    "schema s {\n"
    "  a: int\n"
    "  b: bool\n"
    "}\n"
    "\n"
    "permit \"x\" when {\n"
    "  s.a > 1 and s.b\n"
    "}\n";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

struct CommandResult {
  int status = -1;
  std::string out;
  std::string err;
};

class FmtCommandTest : public testing::Test {
 protected:
  void SetUp() override {
    // tests/formatter_test and cli/verdict share the build directory.
    binary_ = fs::read_symlink("/proc/self/exe").parent_path().parent_path() /
              "cli" / "verdict";
    ASSERT_TRUE(fs::exists(binary_))
        << binary_ << " is missing; build the verdict target first";
    std::string pattern =
        (fs::temp_directory_path() / "verdict-fmt-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs `verdict fmt ARGS` in the temporary directory, whose path contains
  // no character that the shell would interpret.
  CommandResult Fmt(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = "cd '" + dir_.string() + "' && '" +
                                binary_.string() + "' fmt " + args + " 2>'" +
                                err.string() + "'";
    CommandResult run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
      run.out.append(buffer, n);
    }
    const int status = pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.err = ReadFile(err);
    fs::remove(err);
    return run;
  }

  fs::path binary_;
  fs::path dir_;
};

TEST_F(FmtCommandTest, CheckExitsOneAndChangesNothing) {
  WriteFile(dir_ / "policies/clean.verdict", kClean);
  WriteFile(dir_ / "policies/sub/messy.verdict", kMessy);
  WriteFile(dir_ / "policies/notes.txt", "not a policy {");

  CommandResult run = Fmt("--check policies/clean.verdict");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "");

  run = Fmt("--check policies");
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_EQ(run.out, "policies/sub/messy.verdict\n");
  EXPECT_EQ(ReadFile(dir_ / "policies/sub/messy.verdict"), kMessy);
}

TEST_F(FmtCommandTest, RewritesInPlaceAndThenChecksClean) {
  WriteFile(dir_ / "policies/b.verdict", kMessy);
  WriteFile(dir_ / "policies/a.verdict", kMessy);
  fs::permissions(dir_ / "policies/a.verdict", fs::perms(0640));

  CommandResult run = Fmt("policies");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "policies/a.verdict\npolicies/b.verdict\n");
  EXPECT_EQ(ReadFile(dir_ / "policies/a.verdict"), kClean);
  EXPECT_EQ(
      fs::status(dir_ / "policies/a.verdict").permissions() & fs::perms::all,
      fs::perms(0640));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "policies"),
                          fs::directory_iterator()),
            2)
      << "a temporary file was left behind";

  run = Fmt("--check policies");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST_F(FmtCommandTest, DiffPrintsUnifiedDiff) {
  WriteFile(dir_ / "p.verdict", kMessy);
  const CommandResult run = Fmt("--diff p.verdict");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "--- p.verdict\n"
            "+++ p.verdict\n"
            "@@ -1,2 +1,8 @@\n"
            "-schema s { a: int, b: bool }\n"
            "-permit \"x\" when { s.a > 1 && s.b }\n"
            "+schema s {\n"
            "+  a: int\n"
            "+  b: bool\n"
            "+}\n"
            "+\n"
            "+permit \"x\" when {\n"
            "+  s.a > 1 and s.b\n"
            "+}\n");
  EXPECT_EQ(ReadFile(dir_ / "p.verdict"), kMessy);
}

TEST_F(FmtCommandTest, DiffKeepsContextAndSeparatesHunks) {
  std::string before;
  for (int i = 0; i < 12; ++i) {
    before +=
        "const C" + std::to_string(i) + " = " + std::to_string(i) + "\n\n";
  }
  std::string after = before;
  before.replace(before.find("const C1 ="), 10, "const  C1=");
  before.pop_back();  // the file ends without a blank line...
  before.pop_back();  // ...and without a newline
  before.replace(before.find("C11 = 11"), 8, "C11 =11");
  after.pop_back();
  WriteFile(dir_ / "c.verdict", before);
  const CommandResult run = Fmt("--diff c.verdict");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "--- c.verdict\n"
            "+++ c.verdict\n"
            "@@ -1,6 +1,6 @@\n"
            " const C0 = 0\n"
            " \n"
            "-const  C1= 1\n"
            "+const C1 = 1\n"
            " \n"
            " const C2 = 2\n"
            " \n"
            "@@ -20,4 +20,4 @@\n"
            " \n"
            " const C10 = 10\n"
            " \n"
            "-const C11 =11\n"
            "\\ No newline at end of file\n"
            "+const C11 = 11\n");
}

TEST_F(FmtCommandTest, RefusesFilesThatDoNotParse) {
  const std::string broken = "permit \"x\" when { s.a == }\n";
  WriteFile(dir_ / "bad/broken.verdict", broken);
  WriteFile(dir_ / "bad/messy.verdict", kMessy);

  CommandResult run = Fmt("bad");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("bad/broken.verdict:1:"), std::string::npos)
      << run.err;
  EXPECT_EQ(ReadFile(dir_ / "bad/broken.verdict"), broken);
  // The other file is formatted all the same.
  EXPECT_EQ(run.out, "bad/messy.verdict\n");

  run = Fmt("--check bad/broken.verdict");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
}

TEST_F(FmtCommandTest, UsageErrors) {
  EXPECT_EQ(Fmt("").status, 2);
  EXPECT_EQ(Fmt("--fix policies").status, 2);
  const CommandResult run = Fmt("no-such-dir");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("'no-such-dir'"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace verdict
