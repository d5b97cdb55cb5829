// Change notification for policy and data directories, through inotify.

#ifndef VERDICT_SERVER_DIRECTORY_WATCHER_H_
#define VERDICT_SERVER_DIRECTORY_WATCHER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace verdict::server {

// Maximum directories watched across all roots. Each costs one inotify watch,
// a kernel resource limited per user (fs.inotify.max_user_watches); past
// this, changes in further directories are noticed only on SIGHUP.
inline constexpr size_t kMaxWatchedDirectories = 10'000;

// Watches directory trees for created, written, moved and deleted entries.
// Subdirectories are watched too, including ones created later. Symbolic
// links below a root are not followed. Editor scratch files (`*.swp`, `*~`,
// `.#*`, vim's `4913` probe) do not count as changes.
//
// Thread-compatible. Owns its inotify descriptor and closes it on
// destruction.
class DirectoryWatcher {
 public:
  // Starts watching every directory under each of `roots`. Fails when a
  // root cannot be watched (missing, not a directory, no permission).
  static absl::StatusOr<std::unique_ptr<DirectoryWatcher>> Create(
      std::vector<std::string> roots);

  ~DirectoryWatcher();
  DirectoryWatcher(const DirectoryWatcher&) = delete;
  DirectoryWatcher& operator=(const DirectoryWatcher&) = delete;

  // The descriptor to poll for readability; it is non-blocking.
  int fd() const { return fd_; }

  // Reads every pending event without blocking. Returns true when any event
  // may change the policy set, including a lost-events overflow. Starts
  // watching directories created or moved into a watched tree.
  bool ReadEvents();

  // Watches any directory under the roots that is not watched yet: after an
  // overflow, after a root was replaced, or after a directory was created
  // faster than its watch could be added. Logs directories it cannot watch.
  void Rescan();

  size_t watch_count() const { return paths_.size(); }

 private:
  explicit DirectoryWatcher(int fd, std::vector<std::string> roots);

  // Watches `dir` and every directory below it.
  absl::Status WatchTree(const std::string& dir);
  absl::Status WatchOne(const std::string& dir);

  const int fd_;
  const std::vector<std::string> roots_;
  absl::flat_hash_map<int, std::string> paths_;  // watch descriptor -> dir
  bool limit_logged_ = false;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_DIRECTORY_WATCHER_H_
