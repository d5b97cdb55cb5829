#include "bench/loadgen/request_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/json_convert.h"

namespace verdict::loadgen {
namespace {

namespace fs = std::filesystem;

// Parses and converts one request; `where` names it in errors.
absl::StatusOr<v1::DecideRequest> ConvertRequest(const std::string& text,
                                                 const std::string& where) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr,
                                              /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": invalid JSON; expected one request object"));
  }
  absl::StatusOr<v1::DecideRequest> request =
      server::JsonToDecideRequest(json);
  if (!request.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", request.status().message()));
  }
  return request;
}

absl::StatusOr<std::vector<v1::DecideRequest>> ReadDirectory(
    const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<v1::DecideRequest> requests;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    absl::StatusOr<v1::DecideRequest> request =
        ConvertRequest(text.str(), file.string());
    if (!request.ok()) return request.status();
    requests.push_back(*std::move(request));
  }
  return requests;
}

absl::StatusOr<std::vector<v1::DecideRequest>> ReadJsonLines(
    const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("failed to open request file ", file.string()));
  }
  std::vector<v1::DecideRequest> requests;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<v1::DecideRequest> request =
        ConvertRequest(line, absl::StrCat(file.string(), ":", number));
    if (!request.ok()) return request.status();
    requests.push_back(*std::move(request));
  }
  return requests;
}

}  // namespace

absl::StatusOr<std::vector<v1::DecideRequest>> ReadRequests(
    const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat(
        "request source ", path,
        " not found; pass --requests with a JSON Lines file or a directory "
        "of *.json requests"));
  }
  absl::StatusOr<std::vector<v1::DecideRequest>> requests =
      fs::is_directory(status) ? ReadDirectory(path) : ReadJsonLines(path);
  if (requests.ok() && requests->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request source ", path, " contains no requests"));
  }
  return requests;
}

}  // namespace verdict::loadgen
