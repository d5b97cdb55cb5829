#include "playground/workspace.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "compiler/compile.h"
#include "engine/absl_compat.h"
#include "playground/assets.h"

namespace verdict::playground {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool IsPathCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '@';
}

// Returns the first string in `value` (at any depth) that names a file
// outside the directory of the trust file, or "" when there is none. The
// trust file names key and certificate files relative to its directory, and
// an absolute path or a `..` segment would make the compiler read a file
// that the page did not send.
std::string FindOutsidePath(const Json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (absl::StartsWith(text, "/")) return text;
    for (absl::string_view segment : absl::StrSplit(text, '/')) {
      if (segment == "..") return text;
    }
    return "";
  }
  if (value.is_structured()) {
    for (const Json& element : value) {
      std::string found = FindOutsidePath(element);
      if (!found.empty()) return found;
    }
  }
  return "";
}

absl::Status CheckTrustFile(const std::string& text) {
  Json trust = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  // A malformed trust file is reported by the compiler, with its position.
  if (trust.is_discarded()) return absl::OkStatus();
  std::string outside = FindOutsidePath(trust);
  if (outside.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "policies/trust.json names \"", outside,
      "\", which is outside the workspace; the playground compiles only the "
      "files the page sends, so name key and certificate files relative to "
      "policies/ and add them to the workspace"));
}

absl::StatusOr<std::string> ReadFileText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path.string(), ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds the regular files under `dir` to `workspace` as `prefix`/<relative
// path>, recursing only when `recursive` and keeping only *.json files when
// `json_only`.
absl::Status AddDirectory(const std::string& dir, std::string_view prefix,
                          bool recursive, bool json_only,
                          Workspace& workspace) {
  if (dir.empty()) return absl::OkStatus();
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(
        absl::StrCat(dir, " does not exist or is not a directory"));
  }
  for (fs::recursive_directory_iterator it(dir, error), end; it != end;
       it.increment(error)) {
    if (error) break;
    if (it->path().filename().string().starts_with('.') ||
        (it->is_directory() && !recursive)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    if (json_only && it->path().extension() != ".json") continue;
    std::string path = absl::StrCat(
        ToAbsl(prefix), "/", fs::relative(it->path(), dir).generic_string());
    absl::StatusOr<std::string> text = ReadFileText(it->path());
    if (!text.ok()) return text.status();
    workspace[path] = *std::move(text);
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckLimits(const Workspace& workspace,
                         const WorkspaceLimits& limits) {
  if (workspace.size() > limits.max_files) {
    return absl::InvalidArgumentError(
        absl::StrCat("the workspace has ", workspace.size(),
                     " files, more than the limit of ", limits.max_files));
  }
  size_t total = 0;
  for (const auto& [path, text] : workspace) {
    if (path.size() > limits.max_path_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("workspace path ", path.substr(0, 64), "... is ",
                       path.size(), " bytes, more than the limit of ",
                       limits.max_path_bytes));
    }
    total += text.size();
  }
  if (total > limits.max_total_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the workspace files take ", total,
                     " bytes, more than the limit of ", limits.max_total_bytes));
  }
  return absl::OkStatus();
}

// Writes `text` to `path`, creating its parent directories.
absl::Status WriteFile(const fs::path& path, const std::string& text) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) {
    return absl::InternalError(absl::StrCat(
        "cannot create ", path.parent_path().string(), ": ", error.message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

// Creates a private temporary directory and returns its path.
absl::StatusOr<std::string> MakeTemporaryDirectory() {
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
      "/verdict-playground-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat(
        "cannot create a temporary directory ", pattern, ": ",
        std::strerror(errno), "; set TMPDIR to a writable directory"));
  }
  return pattern;
}

}  // namespace

absl::Status CheckWorkspacePath(std::string_view path) {
  if (path == "request.json") return absl::OkStatus();
  auto invalid = [&](std::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid workspace path \"", ToAbsl(path), "\": ", ToAbsl(rule)));
  };
  if (!absl::StartsWith(ToAbsl(path), "policies/") &&
      !absl::StartsWith(ToAbsl(path), "data/") &&
      !absl::StartsWith(ToAbsl(path), "cases/")) {
    return invalid(
        "a path starts with policies/, data/ or cases/, or is request.json");
  }
  for (absl::string_view segment : absl::StrSplit(ToAbsl(path), '/')) {
    if (segment.empty()) return invalid("a path has no empty segment");
    if (segment.front() == '.') {
      return invalid("no path segment starts with '.'");
    }
    for (char c : segment) {
      if (!IsPathCharacter(c)) {
        return invalid(
            "paths contain only letters, digits, '.', '_', '-', '@' and '/'");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Workspace> WorkspaceFromJson(const Json& files,
                                            const WorkspaceLimits& limits) {
  if (!files.is_object()) {
    return absl::InvalidArgumentError(
        "\"files\" must be an object that maps workspace paths to contents");
  }
  Workspace workspace;
  for (const auto& [path, text] : files.items()) {
    if (absl::Status status = CheckWorkspacePath(path); !status.ok()) {
      return status;
    }
    if (!text.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the contents of workspace file ", path, " must be a string"));
    }
    workspace[path] = text.get<std::string>();
  }
  if (absl::Status status = CheckLimits(workspace, limits); !status.ok()) {
    return status;
  }
  if (auto trust = workspace.find("policies/trust.json");
      trust != workspace.end()) {
    if (absl::Status status = CheckTrustFile(trust->second); !status.ok()) {
      return status;
    }
  }
  return workspace;
}

absl::StatusOr<Workspace> ReadWorkspace(const std::string& policies_dir,
                                        const std::string& data_dir,
                                        const std::string& cases_dir,
                                        const WorkspaceLimits& limits) {
  Workspace workspace;
  for (auto [dir, prefix, recursive, json_only] :
       {std::tuple{&policies_dir, "policies", true, false},
        std::tuple{&data_dir, "data", false, true},
        std::tuple{&cases_dir, "cases", false, true}}) {
    absl::Status status =
        AddDirectory(*dir, prefix, recursive, json_only, workspace);
    if (!status.ok()) return status;
  }
  for (const auto& [path, text] : workspace) {
    if (absl::Status status = CheckWorkspacePath(path); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = CheckLimits(workspace, limits); !status.ok()) {
    return status;
  }
  return workspace;
}

std::vector<std::string> ExampleNames() {
  std::vector<std::string> names;
  for (const EmbeddedFile& file : ExampleFiles()) {
    std::string name(file.path.substr(0, file.path.find('/')));
    if (names.empty() || names.back() != name) names.push_back(name);
  }
  return names;
}

absl::StatusOr<Workspace> ExampleWorkspace(std::string_view name) {
  Workspace workspace;
  const std::string prefix = absl::StrCat(ToAbsl(name), "/");
  for (const EmbeddedFile& file : ExampleFiles()) {
    if (file.path.starts_with(prefix)) {
      workspace[std::string(file.path.substr(prefix.size()))] =
          std::string(file.bytes);
    }
  }
  if (workspace.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no bundled example is named \"", ToAbsl(name),
                     "\"; the examples are ", absl::StrJoin(ExampleNames(), ", ")));
  }
  return workspace;
}

absl::StatusOr<WorkspaceCompilation> CompileWorkspace(
    const Workspace& workspace) {
  absl::StatusOr<std::string> root = MakeTemporaryDirectory();
  if (!root.ok()) return root.status();
  absl::Cleanup remove = [&] {
    std::error_code ignored;
    fs::remove_all(*root, ignored);
  };
  const fs::path policies = fs::path(*root) / "policies";
  const fs::path data = fs::path(*root) / "data";
  bool has_data = false;
  std::error_code error;
  fs::create_directories(policies, error);
  if (error) {
    return absl::InternalError(absl::StrCat(
        "cannot create ", policies.string(), ": ", error.message()));
  }
  for (const auto& [path, text] : workspace) {
    if (!path.starts_with("policies/") && !path.starts_with("data/")) continue;
    has_data |= path.starts_with("data/");
    if (absl::Status status = WriteFile(fs::path(*root) / path, text);
        !status.ok()) {
      return status;
    }
  }
  absl::StatusOr<compiler::Compilation> compilation =
      compiler::CompileDirectory(policies.string(),
                                 has_data ? data.string() : "", {});
  if (!compilation.ok()) return compilation.status();

  WorkspaceCompilation result;
  result.program = compilation->program;
  result.error_count = compilation->error_count;
  const std::string prefix = *root + "/";
  result.diagnostics = ParseDiagnostics(compilation->diagnostics, prefix);
  // A diagnostic about the whole policy directory names it without a
  // trailing slash.
  result.text = absl::StrReplaceAll(
      compilation->diagnostics, {{prefix, ""}, {policies.string(), "policies"}});
  for (PlaygroundDiagnostic& diagnostic : result.diagnostics) {
    diagnostic.message = StripRoot(diagnostic.message, prefix);
  }
  result.root = prefix;
  return result;
}

std::string StripRoot(std::string_view text, std::string_view root) {
  return absl::StrReplaceAll(ToAbsl(text), {{ToAbsl(root), ""}});
}

void StripRoot(Json& json, std::string_view root) {
  if (json.is_string()) {
    json = StripRoot(json.get_ref<const std::string&>(), root);
  } else if (json.is_structured()) {
    for (Json& element : json) StripRoot(element, root);
  }
}

std::vector<PlaygroundDiagnostic> ParseDiagnostics(std::string_view text,
                                                   std::string_view root) {
  std::vector<PlaygroundDiagnostic> diagnostics;
  std::vector<absl::string_view> lines =
      absl::StrSplit(ToAbsl(text), '\n', absl::SkipEmpty());
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    // Source and caret lines of the previous diagnostic are indented.
    if (absl::StartsWith(line, " ")) continue;
    size_t marker = line.find(": error: ");
    bool error = true;
    if (marker == absl::string_view::npos) {
      marker = line.find(": warning: ");
      error = false;
    }
    if (marker == absl::string_view::npos) continue;
    PlaygroundDiagnostic diagnostic;
    diagnostic.error = error;
    diagnostic.message = std::string(
        line.substr(marker + (error ? sizeof(": error: ") : sizeof(": warning: ")) - 1));
    absl::string_view location = line.substr(0, marker);
    // `file:line:col` when the last two fields are numbers, else `file`.
    std::vector<absl::string_view> parts = absl::StrSplit(location, ':');
    uint32_t line_number = 0, column = 0;
    if (parts.size() >= 3 &&
        absl::SimpleAtoi(parts[parts.size() - 2], &line_number) &&
        absl::SimpleAtoi(parts.back(), &column)) {
      location = location.substr(
          0, location.size() - parts.back().size() -
                 parts[parts.size() - 2].size() - 2);
      diagnostic.line = line_number;
      diagnostic.column = column;
      diagnostic.width = 1;
      // The caret line, two below, marks the span with ^~~~.
      if (i + 2 < lines.size() && absl::StartsWith(lines[i + 2], " ")) {
        absl::string_view caret = lines[i + 2];
        size_t start = caret.find('^');
        if (start != absl::string_view::npos) {
          size_t end = caret.find_first_not_of('~', start + 1);
          diagnostic.width = static_cast<uint32_t>(
              (end == absl::string_view::npos ? caret.size() : end) - start);
        }
      }
    }
    if (absl::StartsWith(location, ToAbsl(root))) {
      location.remove_prefix(root.size());
    }
    diagnostic.file = std::string(location);
    diagnostics.push_back(std::move(diagnostic));
  }
  return diagnostics;
}

}  // namespace verdict::playground
