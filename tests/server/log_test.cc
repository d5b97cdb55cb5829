// Tests of the server's log line format.

#include "server/log.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace verdict::server {
namespace {

absl::Time TestTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 12, 4, 20, 0, 0),
                         absl::UTCTimeZone()) +
         absl::Milliseconds(123);
}

TEST(FormatLogLine, TimestampLevelMessage) {
  EXPECT_EQ(FormatLogLine(TestTime(), LogLevel::kInfo, "listening"),
            "2026-12-04T20:00:00.123Z INFO listening\n");
  EXPECT_EQ(FormatLogLine(TestTime(), LogLevel::kWarning, "w"),
            "2026-12-04T20:00:00.123Z WARNING w\n");
  EXPECT_EQ(FormatLogLine(TestTime(), LogLevel::kError, "e"),
            "2026-12-04T20:00:00.123Z ERROR e\n");
}

TEST(FormatLogLine, EscapesControlCharacters) {
  EXPECT_EQ(FormatLogLine(TestTime(), LogLevel::kInfo, "a\nb\tc\x01"),
            "2026-12-04T20:00:00.123Z INFO a\\nb\\tc\\x01\n");
}

TEST(FormatLogLine, KeepsMillisecondsWhenZero) {
  const absl::Time time = TestTime() - absl::Milliseconds(123);
  EXPECT_EQ(FormatLogLine(time, LogLevel::kInfo, "x"),
            "2026-12-04T20:00:00.000Z INFO x\n");
}

}  // namespace
}  // namespace verdict::server
