#include "server/decision_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/log.h"

namespace verdict::server {
namespace {

// The writer flushes its buffer into the file at this size, so a large
// batch does not hold a second copy of every line in memory.
constexpr size_t kMaxChunkBytes = size_t{1} << 20;

// At most one drop WARNING, one file ERROR and one rotation attempt after a
// failed rotation per interval.
constexpr int64_t kReportIntervalNanos = int64_t{10} * 1'000'000'000;

// How long the idle writer sleeps before it checks the drop count again.
constexpr absl::Duration kWriterIdleWait = absl::Seconds(1);

std::string ErrnoText(int error) { return std::strerror(error); }

// Opens `path` for appending, creating it readable by its owner and group
// only because decisions name subjects and resources. Returns -1 and sets
// errno on failure.
int OpenAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                0640);
}

absl::Status OpenError(const std::string& path, int error) {
  const std::string what = absl::StrCat(
      "cannot open the decision log ", path, ": ", ErrnoText(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(
          what, "; create its directory, or pass another --decision-log"));
    case EACCES:
    case EROFS:
      return absl::PermissionDeniedError(absl::StrCat(
          what, "; make the file and its directory writable by this user, "
                "or pass another --decision-log"));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(what, "; pass a regular file in a writable directory "
                             "as --decision-log"));
  }
}

absl::Status ValidateOptions(const DecisionLogOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        "the decision log path is empty; pass a file name");
  }
  if (options.max_file_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid decision log file size ", options.max_file_bytes,
                     " bytes; expected at least 1"));
  }
  if (options.max_files < 0 || options.max_files > kMaxDecisionLogFiles) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid number of rotated decision log files ", options.max_files,
        "; expected 0 to ", kMaxDecisionLogFiles));
  }
  if (options.queue_capacity < 1 || options.queue_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid decision log queue of ", options.queue_capacity, " lines and ",
        options.queue_bytes, " bytes; expected at least 1 of each"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DecisionLog>> DecisionLog::Open(
    DecisionLogOptions options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  absl::StatusOr<AttributeMasks> masks =
      AttributeMasks::Create(options.masked_attributes);
  if (!masks.ok()) return masks.status();

  const int fd = OpenAppend(options.path);
  if (fd < 0) return OpenError(options.path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "the decision log ", options.path,
        " is not a regular file; pass a file name as --decision-log"));
  }
  return std::unique_ptr<DecisionLog>(new DecisionLog(
      std::move(options), *std::move(masks), fd, info.st_size));
}

DecisionLog::DecisionLog(DecisionLogOptions options, AttributeMasks masks,
                         int fd, int64_t file_bytes)
    : options_(std::move(options)),
      masks_(std::move(masks)),
      fd_(fd),
      file_bytes_(file_bytes) {
  writer_ = std::thread(&DecisionLog::RunWriter, this);
}

DecisionLog::~DecisionLog() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  queue_ready_.Signal();
  writer_.join();
  if (fd_ >= 0) ::close(fd_);
}

void DecisionLog::Write(const DecisionEvent& event,
                        const ShadowDecision* shadow) {
  std::string line = FormatDecisionLine(event, shadow, masks_);
  const int64_t size = static_cast<int64_t>(line.size());
  bool was_empty;
  {
    absl::MutexLock lock(&mutex_);
    if (queue_.size() >= options_.queue_capacity ||
        queue_bytes_ + size > options_.queue_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = queue_.empty();
    queue_.push_back(std::move(line));
    queue_bytes_ += size;
  }
  // The writer waits only on an empty queue, so only the first line of a
  // batch needs to wake it.
  if (was_empty) queue_ready_.Signal();
}

void DecisionLog::RunWriter() {
  std::vector<std::string> batch;
  for (;;) {
    bool stopping;
    {
      absl::MutexLock lock(&mutex_);
      if (queue_.empty() && !stopping_) {
        queue_ready_.WaitWithTimeout(&mutex_, kWriterIdleWait);
      }
      batch.swap(queue_);
      queue_bytes_ = 0;
      stopping = stopping_ && queue_.empty() && batch.empty();
    }
    if (stopping) break;
    WriteBatch(batch);
    batch.clear();
    MaybeWarnDropped();
  }
  // Reports drops of the last interval before the log closes.
  last_drop_warning_nanos_ = 0;
  MaybeWarnDropped();
}

void DecisionLog::WriteBatch(std::vector<std::string>& lines) {
  std::string chunk;
  int64_t chunk_lines = 0;
  for (std::string& line : lines) {
    const int64_t pending = file_bytes_ + static_cast<int64_t>(chunk.size());
    if (pending > 0 &&
        pending + static_cast<int64_t>(line.size()) > options_.max_file_bytes) {
      WriteChunk(chunk, chunk_lines);
      chunk.clear();
      chunk_lines = 0;
      Rotate();  // on failure the line goes into the current file
    }
    if (chunk.empty() && line.size() >= kMaxChunkBytes) {
      WriteChunk(line, 1);
      continue;
    }
    chunk += line;
    ++chunk_lines;
    if (chunk.size() >= kMaxChunkBytes) {
      WriteChunk(chunk, chunk_lines);
      chunk.clear();
      chunk_lines = 0;
    }
  }
  WriteChunk(chunk, chunk_lines);
}

void DecisionLog::WriteChunk(const std::string& chunk, int64_t line_count) {
  if (line_count == 0) return;
  if (fd_ < 0) {
    fd_ = OpenAppend(options_.path);
    if (fd_ < 0) {
      lost_.fetch_add(line_count, std::memory_order_relaxed);
      LogFileError(absl::StrCat("cannot reopen the decision log ",
                                options_.path, ": ", ErrnoText(errno)));
      return;
    }
    struct stat info;
    file_bytes_ = ::fstat(fd_, &info) == 0 ? info.st_size : 0;
  }
  size_t done = 0;
  while (done < chunk.size()) {
    const ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int error = n < 0 ? errno : EIO;
    // Cuts off the part of the chunk that was written, so the file ends
    // with a whole line.
    if (done > 0 && ::ftruncate(fd_, file_bytes_) != 0) {
      LogFileError(absl::StrCat("cannot truncate the decision log ",
                                options_.path, " after a failed write: ",
                                ErrnoText(errno)));
    }
    lost_.fetch_add(line_count, std::memory_order_relaxed);
    LogFileError(absl::StrCat("cannot write to the decision log ",
                              options_.path, ": ", ErrnoText(error), "; ",
                              line_count, " lines lost, ", lost(),
                              " since the server started"));
    return;
  }
  file_bytes_ += static_cast<int64_t>(chunk.size());
  written_.fetch_add(line_count, std::memory_order_relaxed);
}

bool DecisionLog::Rotate() {
  const int64_t now = absl::GetCurrentTimeNanos();
  if (now < next_rotation_attempt_nanos_) return false;
  const std::string& path = options_.path;
  const int files = options_.max_files;

  // Deletes the oldest file, then shifts each one up by one.
  const std::string oldest =
      files == 0 ? path : absl::StrCat(path, ".", files);
  if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) {
    LogFileError(absl::StrCat("cannot delete the old decision log ", oldest,
                              ": ", ErrnoText(errno)));
  }
  for (int i = files - 1; i >= 1; --i) {
    const std::string from = absl::StrCat(path, ".", i);
    const std::string to = absl::StrCat(path, ".", i + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      LogFileError(absl::StrCat("cannot rename the decision log ", from,
                                " to ", to, ": ", ErrnoText(errno)));
    }
  }
  if (files > 0) {
    const std::string newest = absl::StrCat(path, ".1");
    if (::rename(path.c_str(), newest.c_str()) != 0 && errno != ENOENT) {
      LogFileError(absl::StrCat("cannot rotate the decision log ", path,
                                " to ", newest, ": ", ErrnoText(errno),
                                "; still appending to ", path));
      next_rotation_attempt_nanos_ = now + kReportIntervalNanos;
      return false;
    }
  }

  const int fd = OpenAppend(path);
  if (fd < 0) {
    LogFileError(absl::StrCat("cannot open a new decision log ", path,
                              " after rotating: ", ErrnoText(errno),
                              "; still appending to the rotated file"));
    next_rotation_attempt_nanos_ = now + kReportIntervalNanos;
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  file_bytes_ = 0;
  return true;
}

void DecisionLog::LogFileError(const std::string& message) {
  const int64_t now = absl::GetCurrentTimeNanos();
  if (now - last_error_log_nanos_ < kReportIntervalNanos) return;
  last_error_log_nanos_ = now;
  LogError(message);
}

void DecisionLog::MaybeWarnDropped() {
  const int64_t dropped_now = dropped();
  if (dropped_now == dropped_warned_) return;
  const int64_t now = absl::GetCurrentTimeNanos();
  if (now - last_drop_warning_nanos_ < kReportIntervalNanos) return;
  LogWarning(absl::StrCat(
      "decision log queue full: dropped ", dropped_now - dropped_warned_,
      " lines since the last warning, ", dropped_now,
      " since the server started; the writer cannot keep up with ",
      options_.path,
      ", so raise --decision-log-queue or write to a faster disk"));
  dropped_warned_ = dropped_now;
  last_drop_warning_nanos_ = now;
}

}  // namespace verdict::server
