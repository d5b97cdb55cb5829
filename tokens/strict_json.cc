#include "tokens/strict_json.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace verdict::tokens {
namespace {

using json = nlohmann::json;

// Builds a DOM from SAX events, checking member names and depth as it goes.
class StrictBuilder : public nlohmann::json_sax<json> {
 public:
  explicit StrictBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return Add(json(nullptr)); }
  bool boolean(bool value) override { return Add(json(value)); }
  bool number_integer(number_integer_t value) override {
    return Add(json(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Add(json(value));
  }
  bool number_float(number_float_t value, const string_t&) override {
    return Add(json(value));
  }
  bool string(string_t& value) override { return Add(json(std::move(value))); }
  bool binary(binary_t&) override {
    error_ = "binary values are not JSON";
    return false;
  }
  bool start_object(std::size_t) override { return Open(json::object()); }
  bool key(string_t& name) override {
    json& object = *stack_.back();
    if (object.contains(name)) {
      error_ = absl::StrCat("duplicate member name \"", name, "\"");
      return false;
    }
    pending_key_ = std::move(name);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return Open(json::array()); }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = absl::StrCat("syntax error at byte ", position, ": ", ex.what());
    return false;
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  // Places a value in the current container, or at the root.
  json* Place(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[pending_key_];
    slot = std::move(value);
    return &slot;
  }

  bool Add(json value) {
    Place(std::move(value));
    return true;
  }

  bool Open(json container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      error_ = absl::StrCat("nesting deeper than ", max_depth_, " levels");
      return false;
    }
    stack_.push_back(Place(std::move(container)));
    return true;
  }

  const int max_depth_;
  json root_;
  // Pointers stay valid: a container is only appended to while it is the
  // innermost open one, and appending to it never moves its ancestors.
  std::vector<json*> stack_;
  std::string pending_key_;
  std::string error_;
};

}  // namespace

absl::StatusOr<json> ParseStrictJson(std::string_view text, int max_depth) {
  StrictBuilder builder(max_depth);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder,
                                  json::input_format_t::json, /*strict=*/true);
  if (!ok) {
    return absl::InvalidArgumentError(
        builder.error().empty() ? "invalid JSON" : builder.error());
  }
  return std::move(builder.root());
}

}  // namespace verdict::tokens
