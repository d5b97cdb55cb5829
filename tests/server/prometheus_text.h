// A strict parser of the Prometheus text exposition format 0.0.4, for the
// metrics tests: it checks the grammar of every line and the rules a
// scraper relies on, and returns the samples.

#ifndef VERDICT_TESTS_SERVER_PROMETHEUS_TEXT_H_
#define VERDICT_TESTS_SERVER_PROMETHEUS_TEXT_H_

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/absl_compat.h"

namespace verdict::server::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;  // values unescaped
  double value = 0;
};

struct PromPage {
  std::map<std::string, std::string> types;  // family -> counter, gauge, ...
  std::vector<PromSample> samples;

  // Returns the value of the sample with exactly these labels, or NaN.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (const PromSample& sample : samples) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
    return std::nan("");
  }
};

namespace prom_internal {

inline bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':';
}
inline bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9');
}

// Reads a metric or label name at `text[at]`, advancing `at`.
inline bool ReadName(std::string_view text, size_t& at, std::string& name) {
  const size_t begin = at;
  if (at >= text.size() || !IsNameStart(text[at])) return false;
  while (at < text.size() && IsNameChar(text[at])) ++at;
  name = std::string(text.substr(begin, at - begin));
  return true;
}

// Reads a quoted label value with the escapes \\, \" and \n.
inline bool ReadLabelValue(std::string_view text, size_t& at,
                           std::string& value) {
  if (at >= text.size() || text[at] != '"') return false;
  ++at;
  value.clear();
  while (at < text.size() && text[at] != '"') {
    char c = text[at++];
    if (c == '\\') {
      if (at >= text.size()) return false;
      const char escaped = text[at++];
      if (escaped == 'n') {
        c = '\n';
      } else if (escaped == '\\' || escaped == '"') {
        c = escaped;
      } else {
        return false;
      }
    }
    value += c;
  }
  if (at >= text.size()) return false;
  ++at;  // the closing quote
  return true;
}

inline bool ParseValue(std::string_view text, double& value) {
  if (text == "+Inf") {
    value = INFINITY;
    return true;
  }
  if (text == "-Inf") {
    value = -INFINITY;
    return true;
  }
  if (text == "NaN") {
    value = std::nan("");
    return true;
  }
  return absl::SimpleAtod(ToAbsl(text), &value);
}

// Returns the family a sample belongs to: a histogram's _bucket, _sum and
// _count samples belong to the histogram's name.
inline std::string FamilyOf(const std::string& name,
                            const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

inline absl::Status CheckHistograms(const PromPage& page) {
  // family + labels without le -> buckets in page order, sum, count.
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // le, cumulative count
    double count = std::nan("");
  };
  std::map<std::string, Series> series;
  for (const PromSample& sample : page.samples) {
    const std::string family = FamilyOf(sample.name, page.types);
    if (family == sample.name) continue;
    std::map<std::string, std::string> labels = sample.labels;
    std::string le;
    if (auto it = labels.find("le"); it != labels.end()) {
      le = it->second;
      labels.erase(it);
    }
    std::string key = family;
    for (const auto& [k, v] : labels) absl::StrAppend(&key, ",", k, "=", v);
    if (sample.name.ends_with("_bucket")) {
      double bound = 0;
      if (!ParseValue(le, bound)) {
        return absl::InvalidArgumentError(
            absl::StrCat(key, ": invalid le '", le, "'"));
      }
      series[key].buckets.push_back({bound, sample.value});
    } else if (sample.name.ends_with("_count")) {
      series[key].count = sample.value;
    }
  }
  for (const auto& [key, s] : series) {
    if (s.buckets.empty() || !std::isinf(s.buckets.back().first)) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": the last bucket is not le=\"+Inf\""));
    }
    for (size_t i = 1; i < s.buckets.size(); ++i) {
      if (s.buckets[i].first <= s.buckets[i - 1].first ||
          s.buckets[i].second < s.buckets[i - 1].second) {
        return absl::InvalidArgumentError(absl::StrCat(
            key, ": bucket ", i, " is not above the previous one"));
      }
    }
    if (s.buckets.back().second != s.count) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": the +Inf bucket ", s.buckets.back().second,
                       " differs from _count ", s.count));
    }
  }
  return absl::OkStatus();
}

}  // namespace prom_internal

// Parses `text`. Returns INVALID_ARGUMENT naming the line when a line breaks
// the grammar, a family has no TYPE before its samples or is split, a
// sample repeats, or a histogram's buckets are not cumulative up to a +Inf
// bucket equal to its _count.
inline absl::StatusOr<PromPage> ParsePrometheusText(std::string_view text) {
  using namespace prom_internal;
  PromPage page;
  std::set<std::string> finished_families;
  std::set<std::string> seen_samples;
  std::string current_family;
  if (!text.empty() && !text.ends_with("\n")) {
    return absl::InvalidArgumentError("the page does not end with a newline");
  }
  int line_number = 0;
  for (absl::string_view absl_line : absl::StrSplit(ToAbsl(text), '\n')) {
    const std::string_view line(absl_line.data(), absl_line.size());
    ++line_number;
    auto error = [&](std::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, " '", ToAbsl(line),
                       "': ", ToAbsl(what)));
    };
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool is_type = line[2] == 'T';
      size_t at = 7;
      std::string name;
      if (!ReadName(line, at, name) || at >= line.size() || line[at] != ' ') {
        return error("invalid metric name");
      }
      if (finished_families.count(name) != 0 && name != current_family) {
        return error("the family appeared earlier");
      }
      if (name != current_family) {
        if (!current_family.empty()) finished_families.insert(current_family);
        current_family = name;
      }
      if (is_type) {
        const std::string type(line.substr(at + 1));
        if (type != "counter" && type != "gauge" && type != "histogram" &&
            type != "summary" && type != "untyped") {
          return error("unknown type");
        }
        if (!page.types.emplace(name, type).second) return error("second TYPE");
      }
      continue;
    }
    if (line.starts_with("#")) continue;  // a comment

    PromSample sample;
    size_t at = 0;
    if (!ReadName(line, at, sample.name)) return error("invalid metric name");
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (at < line.size() && line[at] != '}') {
        std::string label;
        std::string value;
        if (!ReadName(line, at, label) || at >= line.size() ||
            line[at] != '=' || !ReadLabelValue(line, ++at, value)) {
          return error("invalid label");
        }
        if (!sample.labels.emplace(label, value).second) {
          return error("repeated label");
        }
        if (at < line.size() && line[at] == ',') ++at;
      }
      if (at >= line.size()) return error("unterminated labels");
      ++at;  // the closing brace
    }
    if (at >= line.size() || line[at] != ' ') return error("missing value");
    const std::vector<absl::string_view> rest =
        absl::StrSplit(ToAbsl(line.substr(at + 1)), ' ');
    if (rest.empty() || rest.size() > 2 ||
        !ParseValue(std::string_view(rest[0].data(), rest[0].size()),
                    sample.value)) {
      return error("invalid value");
    }
    const std::string family = FamilyOf(sample.name, page.types);
    if (family != current_family || page.types.count(family) == 0) {
      return error("sample outside its family or without a TYPE line");
    }
    if (!seen_samples.insert(std::string(line.substr(0, at))).second) {
      return error("repeated sample");
    }
    page.samples.push_back(std::move(sample));
  }
  if (absl::Status s = CheckHistograms(page); !s.ok()) return s;
  return page;
}

}  // namespace verdict::server::testing

#endif  // VERDICT_TESTS_SERVER_PROMETHEUS_TEXT_H_
