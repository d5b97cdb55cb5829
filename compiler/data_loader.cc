#include "compiler/data_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "compiler/lower.h"
#include "engine/absl_compat.h"
#include "engine/values.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class DataSetLoader {
 public:
  DataSetLoader(Program& program, const std::string& file, std::string& errors,
                size_t& error_count)
      : program_(program), file_(file), errors_(errors),
        error_count_(error_count) {}

  // Fills `join.records` from the parsed data set.
  void Load(const Json& data, DataJoin& join);

 private:
  void Error(const std::string& message) {
    absl::StrAppend(&errors_, file_, ": error: ", message, "\n");
    ++error_count_;
  }
  void AddMembers(const std::string& id, const std::string& prefix,
                  const Json& object, DataRecord& record, int depth);
  bool Convert(const std::string& id, uint32_t slot, const Json& value,
               DataValue& out);

  Program& program_;
  const std::string& file_;
  std::string& errors_;
  size_t& error_count_;
};

void DataSetLoader::Load(const Json& data, DataJoin& join) {
  if (!data.is_object()) {
    Error("a data set must be a JSON object mapping entity ids to objects");
    return;
  }
  for (const auto& [id, record] : data.items()) {
    if (!record.is_object()) {
      Error(absl::StrCat("record \"", id, "\" must be an object, not ",
                         record.type_name()));
      continue;
    }
    DataRecord out;
    AddMembers(id, join.group, record, out, 0);
    std::sort(out.values.begin(), out.values.end(),
              [](const DataValue& a, const DataValue& b) { return a.slot < b.slot; });
    join.records.emplace(id, std::move(out));
  }
}

void DataSetLoader::AddMembers(const std::string& id, const std::string& prefix,
                               const Json& object, DataRecord& record,
                               int depth) {
  constexpr int kMaxDepth = 16;
  if (depth > kMaxDepth) {
    Error(absl::StrCat("record \"", id, "\" nests deeper than ", kMaxDepth,
                       " objects, the limit; flatten it into fewer levels"));
    return;
  }
  for (const auto& [key, value] : object.items()) {
    std::string path = absl::StrCat(prefix, ".", key);
    if (value.is_object()) {
      AddMembers(id, path, value, record, depth + 1);
      continue;
    }
    uint32_t slot = program_.FindSlot(path);
    // The record's key is its id; an `id` member is data, not the key.
    if (slot == kNoSlot || value.is_null() || key == "id") continue;
    DataValue converted;
    if (Convert(id, slot, value, converted)) {
      record.values.push_back(std::move(converted));
    }
  }
}

bool DataSetLoader::Convert(const std::string& id, uint32_t slot,
                            const Json& value, DataValue& out) {
  const SlotInfo& info = program_.slots[slot];
  out.slot = slot;
  auto mismatch = [&] {
    // The JSON parser has already rounded a number with a fraction, an
    // exponent or more than 64 bits to a double, so its text is not shown:
    // it would name a value the file does not contain.
    const std::string given =
        value.is_number_float()
            ? "a number with a fraction, an exponent or more than 64 bits; "
              "give an integer from -2^63 to 2^63-1, or a decimal as a "
              "string such as \"12.5\""
            : value.dump();
    Error(absl::StrCat("record \"", id, "\": ", info.path, " must be ",
                       ToAbsl(TypeName(info.type)), ", but is ", given));
    return false;
  };
  switch (info.type) {
    case Type::kBool:
      if (!value.is_boolean()) return mismatch();
      out.integer = value.get<bool>() ? 1 : 0;
      return true;
    case Type::kInt:
    case Type::kDuration:
    case Type::kTimestamp:
      if (info.type == Type::kTimestamp && value.is_string()) {
        absl::Time time;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full, value.get<std::string>(),
                             &time, &error)) {
          return mismatch();
        }
        out.integer = absl::ToUnixSeconds(time);
        return true;
      }
      if (!value.is_number_integer() ||
          (value.is_number_unsigned() &&
           value.get<uint64_t>() >
               static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        return mismatch();
      }
      out.integer = value.get<int64_t>();
      return true;
    case Type::kString:
      if (!value.is_string()) return mismatch();
      out.symbol = InternSymbol(program_, value.get<std::string>());
      return true;
    case Type::kDecimal: {
      std::optional<int64_t> scaled;
      int64_t whole;
      if (value.is_string()) {
        scaled = ParseDecimal(value.get<std::string>());
      } else if (value.is_number_integer() && !value.is_number_unsigned() &&
                 !__builtin_mul_overflow(value.get<int64_t>(), kDecimalScale,
                                         &whole)) {
        scaled = whole;
      } else if (value.is_number_unsigned() &&
                 value.get<uint64_t>() <= static_cast<uint64_t>(
                     std::numeric_limits<int64_t>::max() / kDecimalScale)) {
        scaled = static_cast<int64_t>(value.get<uint64_t>()) * kDecimalScale;
      }
      if (!scaled.has_value()) return mismatch();
      out.integer = *scaled;
      return true;
    }
    case Type::kIp:
    case Type::kCidr: {
      // Addresses are interned as their bytes; a join copies them.
      std::optional<std::string> bytes;
      if (value.is_string()) {
        bytes = info.type == Type::kIp ? ParseIp(value.get<std::string>())
                                       : ParseCidr(value.get<std::string>());
      }
      if (!bytes.has_value()) return mismatch();
      out.symbol = InternSymbol(program_, *bytes);
      return true;
    }
    case Type::kStringSet:
    case Type::kStringList: {
      if (!value.is_array()) return mismatch();
      std::string joined;
      for (const Json& element : value) {
        if (!element.is_string()) return mismatch();
        const std::string& text = element.get_ref<const std::string&>();
        if (info.type == Type::kStringSet) {
          out.elements.push_back(InternSymbol(program_, text));
        } else {
          joined.push_back(kListSeparator);
          joined += text;
        }
      }
      if (info.type == Type::kStringList) {
        out.symbol = InternSymbol(program_, joined);
      }
      std::sort(out.elements.begin(), out.elements.end());
      out.elements.erase(std::unique(out.elements.begin(), out.elements.end()),
                         out.elements.end());
      return true;
    }
  }
  return mismatch();
}

}  // namespace

absl::Status LoadData(
    const CheckedSet& checked, const std::string& data_dir, size_t max_bytes,
    Program& program,
    const std::function<void(std::string_view, std::string_view)>& on_file,
    std::string& errors, size_t& error_count) {
  size_t total_bytes = 0;
  for (const Join& join : checked.joins) {
    if (data_dir.empty()) {
      absl::StrAppend(&errors, FormatLocation(join.span), ": error: schema ",
                      join.group, " joins data set '", join.data_set,
                      "', but no data directory was given (use --data DIR)\n");
      ++error_count;
      continue;
    }
    fs::path path = fs::path(data_dir) / (join.data_set + ".json");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      absl::StrAppend(&errors, path.string(), ": error: data set '",
                      join.data_set, "' joined by schema ", join.group,
                      " is missing; create ", path.string(), "\n");
      ++error_count;
      continue;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    total_bytes += text.size();
    if (total_bytes > max_bytes) {
      absl::StrAppend(&errors, path.string(), ": error: entity data exceeds ",
                      "the limit of ", max_bytes,
                      " bytes for all data files together; remove records "
                      "and fields that no policy reads\n");
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
    DataJoin out;
    out.group = join.group;
    out.data_set = join.data_set;
    out.key_slot = program.FindSlot(join.group + ".id");
    std::string file = path.string();
    DataSetLoader(program, file, errors, error_count).Load(data, out);
    program.joins.push_back(std::move(out));
  }
  return absl::OkStatus();
}

}  // namespace verdict::compiler
