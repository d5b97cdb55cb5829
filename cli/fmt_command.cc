// `verdict fmt`: rewrite policy files in the canonical layout.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/formatter.h"
#include "compiler/source.h"

namespace verdict::cli {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Unified diff

// The maximum cells of the longest-common-subsequence table: 16 MiB of
// uint32. A changed region larger than about 2000 by 2000 lines exceeds it
// and is shown as removed and added in full, which is correct but longer.
constexpr size_t kMaxDiffCells = size_t{4} << 20;
constexpr size_t kDiffContext = 3;

// Splits `text` into lines, each with its newline, except a last line that
// has none.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const size_t length =
        newline == std::string_view::npos ? text.size() : newline + 1;
    lines.push_back(text.substr(0, length));
    text.remove_prefix(length);
  }
  return lines;
}

struct Edit {
  char op;  // ' ' kept, '-' removed, '+' added
  std::string_view line;
};

// Appends the edits from `a` to `b`, which share no first and no last line:
// a longest common subsequence when the table fits in kMaxDiffCells, else
// every line of `a` removed and every line of `b` added.
void AppendMiddleEdits(std::span<const std::string_view> a,
                       std::span<const std::string_view> b,
                       std::vector<Edit>& edits) {
  const size_t n = a.size();
  const size_t m = b.size();
  if ((n + 1) * (m + 1) > kMaxDiffCells) {
    for (std::string_view line : a) edits.push_back({'-', line});
    for (std::string_view line : b) edits.push_back({'+', line});
    return;
  }
  // common[i * (m + 1) + j]: the longest common subsequence of a[i..], b[j..].
  std::vector<uint32_t> common((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& {
    return common[i * (m + 1) + j];
  };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1
                              : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edits.push_back({' ', a[i++]});
      ++j;
    } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
      edits.push_back({'-', a[i++]});
    } else {
      edits.push_back({'+', b[j++]});
    }
  }
}

// Returns the edits that turn lines `a` into lines `b`, every line of both
// in order.
std::vector<Edit> EditScript(const std::vector<std::string_view>& a,
                             const std::vector<std::string_view>& b) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) {
    ++prefix;
  }
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  std::vector<Edit> edits;
  for (size_t i = 0; i < prefix; ++i) edits.push_back({' ', a[i]});
  AppendMiddleEdits(std::span(a).subspan(prefix, a.size() - prefix - suffix),
                    std::span(b).subspan(prefix, b.size() - prefix - suffix),
                    edits);
  for (size_t i = a.size() - suffix; i < a.size(); ++i) {
    edits.push_back({' ', a[i]});
  }
  return edits;
}

// Returns "start,count" for a hunk header; an empty range starts at the line
// before it, as diff -u writes it.
std::string HunkRange(size_t lines_before, size_t count) {
  return absl::StrCat(count == 0 ? lines_before : lines_before + 1, ",", count);
}

// Appends the hunk of `edits`, which start after `a_before` lines of the
// old text and `b_before` lines of the new one.
void AppendHunk(std::span<const Edit> edits, size_t a_before, size_t b_before,
                std::string& out) {
  const size_t a_count = std::count_if(
      edits.begin(), edits.end(), [](const Edit& e) { return e.op != '+'; });
  const size_t b_count = std::count_if(
      edits.begin(), edits.end(), [](const Edit& e) { return e.op != '-'; });
  absl::StrAppend(&out, "@@ -", HunkRange(a_before, a_count), " +",
                  HunkRange(b_before, b_count), " @@\n");
  for (const Edit& edit : edits) {
    out.push_back(edit.op);
    out.append(edit.line);
    if (edit.line.empty() || edit.line.back() != '\n') {
      out.append("\n\\ No newline at end of file\n");
    }
  }
}

// Returns the changes from `before` to `after` as a unified diff with three
// lines of context, or "" when they are equal.
std::string UnifiedDiff(std::string_view before, std::string_view after,
                        const std::string& path) {
  const std::vector<Edit> edits =
      EditScript(SplitLines(before), SplitLines(after));
  std::string out;
  size_t k = 0;
  size_t a_line = 0;  // lines of `before` ahead of edits[k]
  size_t b_line = 0;
  while (true) {
    size_t first = k;
    while (first < edits.size() && edits[first].op == ' ') ++first;
    if (first == edits.size()) break;
    size_t last = first;
    for (size_t j = first + 1; j < edits.size(); ++j) {
      if (edits[j].op == ' ') continue;
      if (j - last - 1 > 2 * kDiffContext) break;
      last = j;
    }
    const size_t begin = std::max(k, first - std::min(first, kDiffContext));
    const size_t end = std::min(edits.size(), last + 1 + kDiffContext);
    a_line += begin - k;  // the edits skipped since k are all kept lines
    b_line += begin - k;
    if (out.empty()) absl::StrAppend(&out, "--- ", path, "\n+++ ", path, "\n");
    const std::span hunk = std::span(edits).subspan(begin, end - begin);
    AppendHunk(hunk, a_line, b_line, out);
    for (const Edit& edit : hunk) {
      if (edit.op != '+') ++a_line;
      if (edit.op != '-') ++b_line;
    }
    k = end;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Files

// Returns the files that `paths` name: a file as given, a directory as every
// *.verdict file under it, recursively, in sorted order.
absl::StatusOr<std::vector<fs::path>> CollectFiles(
    const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const std::string& path : paths) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (fs::is_regular_file(status)) {
      files.emplace_back(path);
      continue;
    }
    if (!fs::is_directory(status)) {
      return absl::NotFoundError(
          absl::StrCat("file or directory '", path,
                       "' not found; pass .verdict files or "
                       "directories that contain them"));
    }
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(path, error), end;
         !error && it != end; it.increment(error)) {
      if (it->is_regular_file() && it->path().extension() == ".verdict") {
        found.push_back(it->path());
      }
    }
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("failed to list '", path, "': ", error.message()));
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::UnavailableError(absl::StrCat(
        "failed to read '", path.string(), "': ", std::strerror(errno)));
  }
  return text.str();
}

// Replaces the file at `path` with `text` in one step: the text goes to a
// temporary file in the same directory, which then takes the file's place,
// so that an interrupted run leaves either the old or the new file. The
// file keeps its permissions; a symbolic link keeps pointing at it.
absl::Status WriteAtomically(const fs::path& path, const std::string& text) {
  std::error_code error;
  fs::path target = fs::canonical(path, error);
  if (error) target = path;
  std::string temp = (target.parent_path() /
                      ("." + target.filename().string() + ".fmt-XXXXXX"))
                         .string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "failed to create a temporary file next to '", path.string(),
        "': ", std::strerror(errno), "; check that its directory is writable"));
  }

  struct stat original;
  if (stat(target.c_str(), &original) == 0) {
    fchmod(fd, original.st_mode & 07777);
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool complete = written == text.size() && fsync(fd) == 0;
  const int write_errno = errno;
  close(fd);

  if (!complete || rename(temp.c_str(), target.c_str()) != 0) {
    const int reason = complete ? errno : write_errno;
    unlink(temp.c_str());
    return absl::UnavailableError(absl::StrCat(
        "failed to write '", path.string(), "': ", std::strerror(reason),
        "; the file was left unchanged"));
  }
  return absl::OkStatus();
}

struct FmtOptions {
  bool check = false;  // list the files that would change
  bool diff = false;   // print the changes
};

enum class FileOutcome { kUnchanged, kChanged, kFailed };

// Formats the file at `path`, then rewrites it, or only lists it or prints
// its diff as `options` request.
FileOutcome FormatFile(const fs::path& path, const FmtOptions& options) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    std::cerr << "verdict fmt: " << text.status().message() << "\n";
    return FileOutcome::kFailed;
  }
  const compiler::SourceFile source(path.string(), *std::move(text));
  compiler::Diagnostics diagnostics;
  const std::optional<std::string> formatted =
      compiler::FormatSource(source, diagnostics);
  if (!formatted.has_value()) {
    std::cerr << diagnostics.Render() << "verdict fmt: left '" << path.string()
              << "' unchanged; fix the errors above and run verdict fmt "
                 "again\n";
    return FileOutcome::kFailed;
  }
  if (*formatted == source.text()) return FileOutcome::kUnchanged;

  if (options.diff) {
    std::cout << UnifiedDiff(source.text(), *formatted, path.string());
  }
  if (options.check) std::cout << path.string() << "\n";
  if (options.check || options.diff) return FileOutcome::kChanged;
  if (absl::Status status = WriteAtomically(path, *formatted); !status.ok()) {
    std::cerr << "verdict fmt: " << status.message() << "\n";
    return FileOutcome::kFailed;
  }
  std::cout << path.string() << "\n";
  return FileOutcome::kChanged;
}

}  // namespace

const CommandSpec& FmtSpec() {
  static const CommandSpec spec = {
      "fmt",
      "Rewrite policy files in the canonical layout.",
      "verdict fmt [--check] [--diff] DIR|FILE...",
      {{"check", "",
        "List the files that are not formatted and exit with status 1 if "
        "there are any; change nothing."},
       {"diff", "", "Print the changes as a unified diff; change nothing."}},
      "DIR|FILE"};
  return spec;
}

int RunFmt(const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(FmtSpec(), args);
  if (!parsed.ok()) {
    std::cerr << "verdict fmt: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << HelpText(FmtSpec());
    return 0;
  }
  if (parsed->positionals.empty()) {
    std::cerr << "verdict fmt: give at least one DIR or FILE; see verdict fmt "
                 "--help\n";
    return 2;
  }
  absl::StatusOr<std::vector<fs::path>> files =
      CollectFiles(parsed->positionals);
  if (!files.ok()) {
    std::cerr << "verdict fmt: " << files.status().message() << "\n";
    return 1;
  }

  FmtOptions options;
  options.check = parsed->Has("check");
  options.diff = parsed->Has("diff");
  bool failed = false;
  bool changed = false;
  for (const fs::path& path : *files) {
    const FileOutcome outcome = FormatFile(path, options);
    failed = failed || outcome == FileOutcome::kFailed;
    changed = changed || outcome == FileOutcome::kChanged;
  }
  return failed || (options.check && changed) ? 1 : 0;
}

}  // namespace verdict::cli
