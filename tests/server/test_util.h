// Helpers shared by the server tests: fixture paths and the AuthZEN interop
// decision files.

#ifndef VERDICT_TESTS_SERVER_TEST_UTIL_H_
#define VERDICT_TESTS_SERVER_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace verdict::server::testing {

inline std::string TodoPolicyDir() {
  return std::string(VERDICT_TODO_EXAMPLE_DIR) + "/policies";
}
inline std::string TodoDataDir() {
  return std::string(VERDICT_TODO_EXAMPLE_DIR) + "/data";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Expands an AuthZEN batch request: each item of `evaluations` inherits the
// subject, action, resource and context given at the top level unless it
// sets its own.
inline std::vector<nlohmann::json> ExpandEvaluations(
    const nlohmann::json& batch) {
  std::vector<nlohmann::json> requests;
  for (const nlohmann::json& item : batch.at("evaluations")) {
    nlohmann::json request = item;
    for (const char* key : {"subject", "action", "resource", "context"}) {
      if (!request.contains(key) && batch.contains(key)) {
        request[key] = batch[key];
      }
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace verdict::server::testing

#endif  // VERDICT_TESTS_SERVER_TEST_UTIL_H_
