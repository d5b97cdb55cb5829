#include "compiler/patterns.h"

#include "re2/re2.h"

namespace verdict::compiler {
namespace {

void AppendLiteral(char c, std::string& out) {
  out += RE2::QuoteMeta(re2::StringPiece(&c, 1));
}

}  // namespace

RE2::Options PatternOptions() {
  RE2::Options options;
  options.set_max_mem(kPatternMaxMemBytes);
  options.set_log_errors(false);
  return options;
}

std::string GlobToRegex(std::string_view glob) {
  std::string out;
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '\\' && i + 1 < glob.size()) {
      AppendLiteral(glob[++i], out);
    } else if (c == '*' && i + 1 < glob.size() && glob[i + 1] == '*') {
      out += "(?s:.*)";
      ++i;
    } else if (c == '*') {
      out += "[^/]*";
    } else if (c == '?') {
      out += "[^/]";
    } else {
      AppendLiteral(c, out);
    }
  }
  return out;
}

std::string TemplateToRegex(std::string_view path_template) {
  std::string out;
  for (size_t i = 0; i < path_template.size(); ++i) {
    const char c = path_template[i];
    size_t close = path_template.find('}', i);
    if (c == '{' && close != std::string_view::npos && close > i + 1) {
      out += "[^/]+";
      i = close;
    } else {
      AppendLiteral(c, out);
    }
  }
  return out;
}

}  // namespace verdict::compiler
