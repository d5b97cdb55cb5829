// Loading the trust file that is compiled with a policy set.

#ifndef VERDICT_COMPILER_TRUST_LOADER_H_
#define VERDICT_COMPILER_TRUST_LOADER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/program.h"

namespace verdict::tokens {
class ReplayCache;
}  // namespace verdict::tokens

namespace verdict::compiler {

// Loads `trust_file`, or `<policy_dir>/trust.json` when `trust_file` is
// empty and that file exists, into `program.token_source`, so that requests
// can present tokens. Checks that every attribute the schema declares and
// token verification sets has the type verification gives it. Without a
// trust file, those attributes are plain ones that the PEP vouches for.
// `replay_cache`, when not null, keeps the jtis of earlier compilations.
// `on_file` receives the trust file and the key and certificate files it
// names, for the revision hash. Problems are appended to `errors` as
// "file: error: message" lines and counted in `error_count`.
absl::Status LoadTrust(
    const std::string& policy_dir, const std::string& trust_file,
    std::shared_ptr<tokens::ReplayCache> replay_cache, Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_TRUST_LOADER_H_
