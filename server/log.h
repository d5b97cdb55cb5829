// A minimal line logger for the server: one line per call on stderr,
//
//   2026-12-04T20:00:00.123Z INFO listening on 127.0.0.1:8181
//
// with the time in UTC to the millisecond. Messages must never contain
// request contents, tokens or other secrets. Messages are absl::string_view
// because most of them come from absl::StrCat and absl::Status::message().

#ifndef VERDICT_SERVER_LOG_H_
#define VERDICT_SERVER_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace verdict::server {

enum class LogLevel { kInfo, kWarning, kError };

// Returns "INFO", "WARNING" or "ERROR".
absl::string_view LogLevelName(LogLevel level);

// Formats one log line, with its trailing newline. Control characters in
// `message` (a newline in a file name, say) are escaped as \n, \t or \xNN,
// so every call yields exactly one line.
std::string FormatLogLine(absl::Time time, LogLevel level,
                          absl::string_view message);

// Writes one line to stderr with the current time. Thread-safe: lines from
// concurrent calls never interleave.
void Log(LogLevel level, absl::string_view message);

inline void LogInfo(absl::string_view message) {
  Log(LogLevel::kInfo, message);
}
inline void LogWarning(absl::string_view message) {
  Log(LogLevel::kWarning, message);
}
inline void LogError(absl::string_view message) {
  Log(LogLevel::kError, message);
}

}  // namespace verdict::server

#endif  // VERDICT_SERVER_LOG_H_
