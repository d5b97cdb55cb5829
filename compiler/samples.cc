#include "compiler/samples.h"

#include <vector>

namespace verdict::compiler {
namespace {

constexpr size_t kNone = std::string_view::npos;

struct CharRange {
  char low;
  char high;
};

// Adds the ranges a class escape such as \d stands for; false when the
// escape names a class this sampler does not handle.
bool AddEscapeRanges(char escape, std::vector<CharRange>& ranges) {
  switch (escape) {
    case 'd':
      ranges.push_back({'0', '9'});
      return true;
    case 'w':
      ranges.insert(ranges.end(), {{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'_', '_'}});
      return true;
    case 's':
      ranges.insert(ranges.end(), {{' ', ' '}, {'\t', '\r'}});
      return true;
    case 'n': ranges.push_back({'\n', '\n'}); return true;
    case 't': ranges.push_back({'\t', '\t'}); return true;
    case 'r': ranges.push_back({'\r', '\r'}); return true;
    default:
      if ((escape >= 'a' && escape <= 'z') || (escape >= 'A' && escape <= 'Z') ||
          (escape >= '0' && escape <= '9')) {
        return false;  // \D, \p{..}, \x41, back-references and the like
      }
      ranges.push_back({escape, escape});
      return true;
  }
}

// Reads a class from just after its '[' and leaves `i` on its ']'. Returns
// a character the class matches.
std::optional<char> ClassSample(std::string_view r, size_t& i) {
  bool negated = i < r.size() && r[i] == '^';
  if (negated) ++i;
  std::vector<CharRange> ranges;
  for (bool first = true; i < r.size(); ++i, first = false) {
    char c = r[i];
    if (c == ']' && !first) break;
    if (c == '[' && i + 1 < r.size() && r[i + 1] == ':') return std::nullopt;
    if (c == '\\') {
      if (i + 1 >= r.size() || !AddEscapeRanges(r[++i], ranges)) return std::nullopt;
      continue;
    }
    CharRange range{c, c};
    if (i + 2 < r.size() && r[i + 1] == '-' && r[i + 2] != ']') {
      range.high = r[i + 2];
      if (range.high == '\\') return std::nullopt;
      i += 2;
    }
    ranges.push_back(range);
  }
  if (i >= r.size() || ranges.empty()) return std::nullopt;
  if (!negated) return ranges[0].low;
  auto member = [&](char ch) {
    for (const CharRange& range : ranges) {
      if (ch >= range.low && ch <= range.high) return true;
    }
    return false;
  };
  for (char ch : std::string_view("xa0Z_-.")) {
    if (!member(ch)) return ch;
  }
  return std::nullopt;
}

// Returns the index just before the ')' that closes the current group (or
// the last index), skipping the alternatives after a '|'.
size_t SkipAlternatives(std::string_view r, size_t i) {
  int depth = 0;
  for (size_t j = i + 1; j < r.size(); ++j) {
    if (r[j] == '\\') {
      ++j;
    } else if (r[j] == '[') {
      j = r.find(']', j + 2);
      if (j == kNone) return r.size() - 1;
    } else if (r[j] == '(') {
      ++depth;
    } else if (r[j] == ')') {
      if (depth == 0) return j - 1;
      --depth;
    }
  }
  return r.size() - 1;
}

// Applies a counted repetition {n} or {n,m} at `i` to the atom starting at
// `atom` in `out`, with the fewest repetitions allowed.
bool Repeat(std::string_view r, size_t& i, size_t atom, std::string& out) {
  size_t close = r.find('}', i);
  if (close == kNone || atom == kNone) return false;
  size_t count = 0;
  size_t j = i + 1;
  for (; j < close && r[j] >= '0' && r[j] <= '9'; ++j) {
    count = count * 10 + static_cast<size_t>(r[j] - '0');
    if (count > 64) return false;
  }
  if (j == i + 1 || (j < close && r[j] != ',')) return false;
  const std::string unit = out.substr(atom);
  out.erase(atom);
  for (size_t k = 0; k < count; ++k) out += unit;
  i = close;
  return true;
}

}  // namespace

std::optional<std::string> SampleMatch(std::string_view r) {
  std::string out;
  std::vector<size_t> groups;  // where each open group starts in `out`
  size_t atom = kNone;         // where the last quantifiable atom starts
  for (size_t i = 0; i < r.size(); ++i) {
    const char c = r[i];
    if (c == '^' || c == '$') {
      atom = kNone;
    } else if (c == '(') {
      if (i + 1 < r.size() && r[i + 1] == '?') {
        size_t end = r.find_first_of(":)>", i);
        if (end == kNone) return std::nullopt;
        i = end;
        if (r[end] == ')') {  // flags only, such as (?i)
          atom = kNone;
          continue;
        }
      }
      groups.push_back(out.size());
    } else if (c == ')') {
      if (groups.empty()) return std::nullopt;
      atom = groups.back();
      groups.pop_back();
    } else if (c == '|') {
      i = SkipAlternatives(r, i);
    } else if (c == '*' || c == '?' || c == '+' || c == '{') {
      if (atom == kNone) return std::nullopt;
      if (c == '{') {
        if (!Repeat(r, i, atom, out)) return std::nullopt;
      } else if (c != '+') {
        out.erase(atom);
      }
      atom = kNone;
      if (i + 1 < r.size() && r[i + 1] == '?') ++i;  // a lazy quantifier
    } else if (c == '[') {
      atom = out.size();
      std::optional<char> member = ClassSample(r, ++i);
      if (!member) return std::nullopt;
      out += *member;
    } else if (c == '\\') {
      if (i + 1 >= r.size()) return std::nullopt;
      const char e = r[++i];
      if (e == 'b' || e == 'B' || e == 'A' || e == 'z') {
        atom = kNone;  // zero-width assertions
        continue;
      }
      std::vector<CharRange> ranges;
      if (!AddEscapeRanges(e, ranges)) return std::nullopt;
      atom = out.size();
      out += ranges[0].low;
    } else {
      atom = out.size();
      out += c == '.' ? 'x' : c;
    }
  }
  if (!groups.empty()) return std::nullopt;
  return out;
}

}  // namespace verdict::compiler
