#include "server/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace verdict::server {
namespace {

void AppendEscaped(absl::string_view message, std::string& out) {
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out += c;
    }
  }
}

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string FormatLogLine(absl::Time time, LogLevel level,
                          absl::string_view message) {
  std::string line =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  absl::StrAppend(&line, " ", LogLevelName(level), " ");
  AppendEscaped(message, line);
  line += '\n';
  return line;
}

void Log(LogLevel level, absl::string_view message) {
  static std::mutex* const mutex = new std::mutex;  // never destroyed, so
                                                    // logging works at exit
  const std::string line = FormatLogLine(absl::Now(), level, message);
  std::lock_guard<std::mutex> lock(*mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace verdict::server
