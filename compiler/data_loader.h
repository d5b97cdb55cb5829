// Loading of entity data sets that schemas join into requests.

#ifndef VERDICT_COMPILER_DATA_LOADER_H_
#define VERDICT_COMPILER_DATA_LOADER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "compiler/checker.h"
#include "engine/program.h"

namespace verdict::compiler {

// Loads each data set that `checked` joins (`schema subject from users`)
// from `<data_dir>/<name>.json`, a JSON object mapping entity ids to objects
// of attributes:
//   {"alice": {"roles": ["admin"], "email": "alice@example.com"}}
// Values are type-checked against the group's schema and interned into
// `program`'s symbols; members the schema does not declare are ignored, and
// nested objects become dotted attribute names. `on_file` receives each
// file's name and contents (for the revision hash). Problems with the data are
// appended to `errors` as "file: error: message" lines and counted in
// `error_count`; the Status is an error only when a file cannot be read.
absl::Status LoadData(
    const CheckedSet& checked, const std::string& data_dir, size_t max_bytes,
    Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count);

// Loads the entity hierarchy from `<data_dir>/entities.json` when it exists:
// a JSON object mapping an entity "Type::id" to the list of its parents,
//   {"user::alice": ["Group::eng"], "Group::eng": ["Group::all"]}
// and stores each entity's ancestors (itself included) in
// `program.hierarchy`. A cycle is an error that names the entities on it.
// Problems are reported as for LoadData.
absl::Status LoadHierarchy(
    const std::string& data_dir, Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count);

// Fills the link table of each template (`permit "shared" from shares`)
// from `<data_dir>/<data set>.json`, a JSON array of records with a member
// per placeholder, typed as the attribute it binds:
//   [{"user": "alice", "doc": "plan.md"}, {"user": "bob", "doc": "plan.md"}]
// Other members are ignored. Problems are reported as for LoadData.
absl::Status LoadLinks(
    const CheckedSet& checked, const std::string& data_dir, size_t max_bytes,
    Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_DATA_LOADER_H_
