// Loading of the records that link templates.

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "compiler/data_loader.h"
#include "compiler/lower.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Appends the records of `data` to `table`; false after reporting.
bool AddLinks(const Json& data, const std::string& file, Program& program,
              LinkTable& table, std::string& errors, size_t& error_count) {
  auto error = [&](const std::string& message) {
    absl::StrAppend(&errors, file, ": error: ", message, "\n");
    ++error_count;
    return false;
  };
  if (!data.is_array()) {
    return error(absl::StrCat(
        "template \"", table.policy, "\" is linked by a JSON array of "
        "records, such as [{\"", table.fields[0], "\": ...}], not ",
        data.type_name()));
  }
  bool ok = true;
  for (size_t index = 0; index < data.size(); ++index) {
    const Json& record = data[index];
    if (!record.is_object()) {
      ok = error(absl::StrCat("record ", index, " must be an object, not ",
                              record.type_name()));
      continue;
    }
    for (size_t i = 0; i < table.fields.size(); ++i) {
      const std::string& field = table.fields[i];
      auto member = record.find(field);
      const Type type = program.slots[table.slots[i]].type;
      if (member == record.end()) {
        ok = error(absl::StrCat("record ", index, " has no \"", field,
                                "\", which template \"", table.policy,
                                "\" binds to ",
                                program.slots[table.slots[i]].path));
        table.values.push_back(0);
      } else if (type == Type::kString && member->is_string()) {
        table.values.push_back(
            InternSymbol(program, member->get_ref<const std::string&>()));
      } else if (type == Type::kInt && member->is_number_integer()) {
        if (member->is_number_unsigned() &&
            member->get<uint64_t>() > uint64_t{INT64_MAX}) {
          ok = error(absl::StrCat("record ", index, " field \"", field,
                                  "\" is out of the int range"));
        }
        table.values.push_back(member->get<int64_t>());
      } else {
        ok = error(absl::StrCat(
            "record ", index, " field \"", field, "\" must be ",
            type == Type::kString ? "a string" : "an integer", ", as ",
            program.slots[table.slots[i]].path, " is; got ",
            member->type_name()));
        table.values.push_back(0);
      }
    }
  }
  return ok;
}

}  // namespace

absl::Status LoadLinks(
    const CheckedSet& checked, const std::string& data_dir, size_t max_bytes,
    Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count) {
  size_t total_bytes = 0;
  for (size_t t = 0; t < checked.templates.size(); ++t) {
    const CheckedTemplate& entry = checked.templates[t];
    LinkTable& table = program.link_tables[t];
    if (table.fields.empty()) continue;  // the template was left out
    for (const Join& join : checked.joins) {
      if (join.data_set == entry.data_set) {
        absl::StrAppend(&errors, FormatLocation(entry.span),
                        ": error: data set '", entry.data_set,
                        "' is joined by schema ", join.group,
                        " and cannot also link a template; give the links a "
                        "data set of their own\n");
        ++error_count;
      }
    }
    if (data_dir.empty()) {
      absl::StrAppend(&errors, FormatLocation(entry.span),
                      ": error: template \"", entry.policy,
                      "\" is linked from data set '", entry.data_set,
                      "', but no data directory was given (use --data DIR)\n");
      ++error_count;
      continue;
    }
    fs::path path = fs::path(data_dir) / (entry.data_set + ".json");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      absl::StrAppend(&errors, FormatLocation(entry.span), ": error: data set '",
                      entry.data_set, "' that links template \"", entry.policy,
                      "\" is missing; create ", path.string(), "\n");
      ++error_count;
      continue;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    total_bytes += text.size();
    if (total_bytes > max_bytes) {
      absl::StrAppend(&errors, path.string(), ": error: template links exceed ",
                      "the limit of ", max_bytes,
                      " bytes for all data files together; remove links "
                      "that no request uses\n");
      ++error_count;
      return absl::OkStatus();
    }
    on_file(path.filename().string(), text);
    Json data = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (data.is_discarded()) {
      absl::StrAppend(&errors, path.string(), ": error: not valid JSON\n");
      ++error_count;
      continue;
    }
    if (AddLinks(data, path.string(), program, table, errors, error_count)) {
      table.BuildIndex();
    }
  }
  return absl::OkStatus();
}

}  // namespace verdict::compiler
