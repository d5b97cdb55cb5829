#include "compiler/compile.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/checker.h"
#include "compiler/dag_builder.h"
#include "compiler/data_loader.h"
#include "compiler/trust_loader.h"
#include "compiler/lower.h"
#include "compiler/parser.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path.string(), ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::vector<fs::path>> ListPolicyFiles(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat(
        "policy directory ", dir, " does not exist or is not a directory"));
  }
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, error), end; it != end;
       it.increment(error)) {
    if (error) break;
    // Hidden entries are skipped, directories with all they contain. A
    // Kubernetes ConfigMap volume keeps its files in a hidden directory
    // and links each one from the top, so they would otherwise count twice.
    if (it->path().filename().string().starts_with('.')) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().extension() == ".verdict") {
      files.push_back(it->path());
    }
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", dir, ": ", error.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A short content hash over everything that determines the program, so that
// replicas serving the same bundle report the same revision.
class RevisionHasher {
 public:
  RevisionHasher() : context_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(context_, EVP_sha256(), nullptr);
  }
  ~RevisionHasher() { EVP_MD_CTX_free(context_); }
  RevisionHasher(const RevisionHasher&) = delete;
  RevisionHasher& operator=(const RevisionHasher&) = delete;

  void Add(std::string_view name, std::string_view contents) {
    std::string header = absl::StrCat(name.size(), ":", ToAbsl(name), ":",
                                      contents.size(), ":");
    EVP_DigestUpdate(context_, header.data(), header.size());
    EVP_DigestUpdate(context_, contents.data(), contents.size());
  }

  // Returns the first 12 hex digits of the SHA-256 digest.
  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_, digest, &size);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < 6 && i < size; ++i) {
      out.push_back(kHex[digest[i] >> 4]);
      out.push_back(kHex[digest[i] & 0xF]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* context_;
};

}  // namespace

absl::StatusOr<Compilation> CompileDirectory(const std::string& policy_dir,
                                             const std::string& data_dir,
                                             const CompileOptions& options) {
  absl::StatusOr<std::vector<fs::path>> paths = ListPolicyFiles(policy_dir);
  if (!paths.ok()) return paths.status();
  Compilation result;
  Diagnostics diagnostics;
  if (paths->empty()) {
    result.diagnostics = absl::StrCat(
        policy_dir, ": error: no *.verdict policy files found\n");
    result.error_count = 1;
    return result;
  }
  if (paths->size() > options.max_policy_files) {
    result.diagnostics =
        absl::StrCat(policy_dir, ": error: ", paths->size(),
                     " policy files exceed the limit of ",
                     options.max_policy_files, "; merge small policy files\n");
    result.error_count = 1;
    return result;
  }

  RevisionHasher revision;
  std::vector<std::unique_ptr<SourceFile>> sources;
  // The syntax trees of all policies take more memory than the program
  // built from them, but checking any file needs the schemas and constants
  // of all. So each file is parsed twice: first for its declarations, its
  // policies dropped at once, then again when its turn to be checked comes.
  // Parsing is about a tenth of compile time.
  std::vector<FileAst> declarations;
  for (const fs::path& path : *paths) {
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) return text.status();
    revision.Add(fs::relative(path, policy_dir).string(), *text);
    sources.push_back(std::make_unique<SourceFile>(path.string(), *text));
    declarations.push_back(ParseFile(*sources.back(), diagnostics));
    std::vector<PolicyDecl>().swap(declarations.back().policies);
  }
  auto parse_again = [&](size_t f) {
    Diagnostics reported_already;
    return ParseFile(*sources[f], reported_already);
  };
  // Each file's policies are lowered as soon as they are checked. After the
  // first error lowering stops, because the program is discarded.
  auto program = std::make_shared<Program>();
  FormulaStore store;
  StreamingLowerer lowerer(*program, store);
  size_t disabled_from = 0;
  auto lower = [&](CheckedSet& checked) {
    for (; disabled_from < checked.policies.size(); ++disabled_from) {
      CheckedPolicy& policy = checked.policies[disabled_from];
      if (std::find(options.disabled_policies.begin(),
                    options.disabled_policies.end(),
                    policy.id) == options.disabled_policies.end()) {
        continue;
      }
      policy.has_condition = true;
      policy.condition = TExpr{};  // the literal false
      policy.duties.clear();
    }
    if (!diagnostics.has_errors()) lowerer.Lower(checked);
  };
  CheckedSet checked =
      CheckStreaming(declarations, parse_again, lower, diagnostics);
  declarations.clear();

  std::string data_errors;
  std::string warnings;
  size_t data_error_count = 0;
  if (!diagnostics.has_errors()) {
    lowerer.Finish(checked);
    auto hash_data = [&](std::string_view name, std::string_view contents) {
      revision.Add(absl::StrCat("data/", ToAbsl(name)), contents);
    };
    absl::Status data = LoadData(checked, data_dir, options.max_data_bytes,
                                 *program, hash_data, data_errors,
                                 data_error_count);
    if (!data.ok()) return data;
    absl::Status hierarchy = LoadHierarchy(data_dir, *program, hash_data,
                                           data_errors, data_error_count);
    if (!hierarchy.ok()) return hierarchy;
    absl::Status links = LoadLinks(checked, data_dir, options.max_data_bytes,
                                   *program, hash_data, data_errors,
                                   data_error_count);
    if (!links.ok()) return links;
    absl::Status trust =
        LoadTrust(policy_dir, options.trust_file, options.replay_cache,
                  *program, hash_data, data_errors, data_error_count);
    if (!trust.ok()) return trust;
    // The DAG builder reads only `store` and `program`.
    checked = CheckedSet();
    if (data_error_count == 0) {
      const size_t budget =
          DagNodeBudget(options.max_dag_nodes, program->policies.size());
      // One node past the limit is enough to know it is exceeded.
      const DagStats stats = BuildDag(
          store, *program, std::min(budget, options.dag_node_limit + 1));
      store.MoveTo(*program);
      if (stats.nodes > options.dag_node_limit) {
        absl::StrAppend(&data_errors, policy_dir,
                        ": error: the decision DAG needs more than ",
                        options.dag_node_limit, " nodes, the limit, for ",
                        program->policies.size(),
                        " policies; serve the policies from several "
                        "directories, or turn repeated policies into a "
                        "template\n");
        ++data_error_count;
      } else if (stats.nodes >= budget) {
        absl::StrAppend(
            &warnings, policy_dir, ": warning: the decision DAG reached its ",
            "budget of ", budget, " nodes; ", stats.residual_leaves,
            " leaves keep conditions that run at decision time, which is "
            "slower\n");
      }
    }
  }
  result.diagnostics = diagnostics.Render() + data_errors + warnings;
  result.error_count = diagnostics.error_count() + data_error_count;
  if (result.error_count == 0) {
    program->revision = revision.Finish();
    result.program = std::move(program);
  }
  return result;
}

}  // namespace verdict::compiler
