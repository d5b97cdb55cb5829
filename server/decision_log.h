// The decision log of `verdict serve`: one JSON line per decided request,
// appended to a file by a background thread and rotated by size.

#ifndef VERDICT_SERVER_DECISION_LOG_H_
#define VERDICT_SERVER_DECISION_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/decision_event.h"
#include "server/decision_log_line.h"

namespace verdict::server {

inline constexpr int64_t kDefaultDecisionLogFileBytes = int64_t{100} << 20;
inline constexpr int kDefaultDecisionLogFiles = 5;
inline constexpr int kMaxDecisionLogFiles = 1000;
inline constexpr size_t kDefaultDecisionLogQueueLines = 65536;
inline constexpr int64_t kDefaultDecisionLogQueueBytes = int64_t{64} << 20;

struct DecisionLogOptions {
  std::string path;  // file the JSON lines are appended to
  // Rotate when the file would exceed this. A single longer line is written
  // alone into a fresh file.
  int64_t max_file_bytes = kDefaultDecisionLogFileBytes;
  // Rotated files kept: path.1 (newest) .. path.N; older ones are deleted.
  // 0 keeps none, so a full file is deleted and started again.
  int max_files = kDefaultDecisionLogFiles;
  // Lines waiting for the writer thread; beyond it lines are dropped.
  size_t queue_capacity = kDefaultDecisionLogQueueLines;
  // Attribute paths whose values are replaced by kMaskedValue, in the
  // syntax of AttributeMasks; kDefaultMaskedAttributes are always added.
  std::vector<std::string> masked_attributes;
  // Bytes of the lines waiting for the writer thread; beyond it lines are
  // dropped, so that large requests cannot make the queue hold gigabytes.
  int64_t queue_bytes = kDefaultDecisionLogQueueBytes;
};

// Appends one JSON line per decision to a file, written and rotated by a
// writer thread of its own.
//
// Write() formats the line on the caller's thread and queues it; it never
// waits for the file. The queue is a vector of lines behind a mutex that is
// held only to append one line or to swap the whole vector out, never
// during I/O, so a request thread waits at most behind another append or a
// swap. A lock-free ring would avoid even that wait but needs a fixed
// number of preallocated strings, and the mutex costs tens of nanoseconds
// against the microseconds that formatting a line takes.
//
// The writer thread writes each batch with as few write(2) calls as the
// rotation allows, so lines never interleave and never split between files.
// A failed write is truncated away and its lines are counted as lost.
//
// Thread-safe. The log owns its file and thread.
class DecisionLog {
 public:
  // Opens (creates or appends to) the file and starts the writer thread.
  // Returns INVALID_ARGUMENT for an option out of range and an error that
  // names the path when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<DecisionLog>> Open(
      DecisionLogOptions options);

  // Writes every queued line, then closes the file and joins the thread.
  ~DecisionLog();

  DecisionLog(const DecisionLog&) = delete;  // owns a thread and a file
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Formats one JSON line for `event` (and `shadow` when not null) and
  // queues it. Never blocks on I/O: when the queue is full, the line is
  // dropped and counted. Thread-safe.
  void Write(const DecisionEvent& event, const ShadowDecision* shadow);

  // Lines dropped because the queue was full, since Open.
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Lines written to the file since Open.
  int64_t written() const { return written_.load(std::memory_order_relaxed); }
  // Lines that reached the writer thread but failed to be written, since
  // Open.
  int64_t lost() const { return lost_.load(std::memory_order_relaxed); }

  const DecisionLogOptions& options() const { return options_; }

 private:
  DecisionLog(DecisionLogOptions options, AttributeMasks masks, int fd,
              int64_t file_bytes);

  void RunWriter();
  // Writes `lines` to the file, rotating before a line that would overflow
  // it. Called only by the writer thread.
  void WriteBatch(std::vector<std::string>& lines);
  // Writes `chunk`, the `line_count` lines that fit in the current file.
  void WriteChunk(const std::string& chunk, int64_t line_count);
  // Renames path -> path.1 -> ... -> path.N and opens a new file. Returns
  // false, keeping the current file, when a rename or the open fails.
  bool Rotate();
  // Logs an ERROR for a failed file operation, at most once every 10 s.
  void LogFileError(const std::string& message);
  void MaybeWarnDropped();

  const DecisionLogOptions options_;
  const AttributeMasks masks_;

  absl::Mutex mutex_;
  absl::CondVar queue_ready_;
  std::vector<std::string> queue_ ABSL_GUARDED_BY(mutex_);
  int64_t queue_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  // Counters only; no other memory is published through them, so relaxed
  // order suffices.
  std::atomic<int64_t> dropped_{0};
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> lost_{0};

  // Owned by the writer thread after Open.
  int fd_;
  int64_t file_bytes_;
  int64_t dropped_warned_ = 0;
  int64_t last_drop_warning_nanos_ = 0;
  int64_t last_error_log_nanos_ = 0;
  int64_t next_rotation_attempt_nanos_ = 0;

  std::thread writer_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DECISION_LOG_H_
