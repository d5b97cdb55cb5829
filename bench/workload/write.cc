// Writing workloads to disk in the layout `verdict check` and the peer
// adapters read.

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/workload/workload.h"

namespace verdict::workload {
namespace {

namespace fs = std::filesystem;

absl::Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Creates `<dir>/verdict/policies` and `<dir>/verdict/data`. Stale policy
// files from an earlier, larger workload would be compiled with the new
// ones, so a policy directory that already contains files is an error.
absl::Status PrepareDirectories(const std::string& dir) {
  fs::path policies = fs::path(dir) / "verdict" / "policies";
  std::error_code error;
  fs::create_directories(policies, error);
  if (error) {
    return absl::InternalError(absl::StrCat(
        "cannot create ", policies.string(), ": ", error.message()));
  }
  fs::create_directories(fs::path(dir) / "verdict" / "data", error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", dir,
                                            "/verdict/data: ", error.message()));
  }
  if (!fs::is_empty(policies, error)) {
    return absl::AlreadyExistsError(absl::StrCat(
        policies.string(),
        " already contains files; pass a new or empty output directory"));
  }
  return absl::OkStatus();
}

// Writes the rules in files of kRulesPerFile; the first file starts with
// the schema.
template <typename Workload, typename TextFn>
absl::Status WritePolicies(const Workload& workload, const std::string& dir,
                           TextFn text) {
  const int size = static_cast<int>(workload.rules.size());
  for (int begin = 0; begin < size; begin += kRulesPerFile) {
    int end = std::min(size, begin + kRulesPerFile);
    fs::path path = fs::path(dir) / "verdict" / "policies" /
                    absl::StrFormat("rules-%05d.verdict", begin / kRulesPerFile);
    absl::Status status =
        WriteFile(path, text(workload, begin, end, /*with_schema=*/begin == 0));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteZeroTrust(const ZeroTrustWorkload& workload,
                            const std::string& dir) {
  absl::Status status = PrepareDirectories(dir);
  if (!status.ok()) return status;
  status = WritePolicies(workload, dir, ZeroTrustPolicyText);
  if (!status.ok()) return status;
  return WriteFile(fs::path(dir) / "workload.json",
                   ZeroTrustWorkloadJson(workload));
}

absl::Status WriteHierarchy(const HierarchyWorkload& workload,
                            const std::string& dir) {
  absl::Status status = PrepareDirectories(dir);
  if (!status.ok()) return status;
  status = WritePolicies(workload, dir, HierarchyPolicyText);
  if (!status.ok()) return status;
  fs::path data = fs::path(dir) / "verdict" / "data";
  status = WriteFile(data / "entities.json", HierarchyEntitiesJson(workload));
  if (!status.ok()) return status;
  if (workload.family == HierarchyFamily::kGDrive) {
    status = WriteFile(data / "documents.json", HierarchyDocumentsJson(workload));
    if (!status.ok()) return status;
  }
  return WriteFile(fs::path(dir) / "workload.json",
                   HierarchyWorkloadJson(workload));
}

}  // namespace verdict::workload
