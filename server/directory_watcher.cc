#include "server/directory_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace verdict::server {
namespace {

constexpr uint32_t kWatchMask =
    IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM |
    IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// True for names editors write beside the file being edited.
bool IsEditorScratch(std::string_view name) {
  return name.ends_with('~') || name.ends_with(".swp") ||
         name.ends_with(".swx") || name.ends_with(".swo") ||
         name.starts_with(".#") || name == "4913";
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryWatcher>> DirectoryWatcher::Create(
    std::vector<std::string> roots) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat(
        "failed to create an inotify instance: ", std::strerror(errno),
        "; raise the sysctl fs.inotify.max_user_instances"));
  }
  std::unique_ptr<DirectoryWatcher> watcher(
      new DirectoryWatcher(fd, std::move(roots)));
  for (const std::string& root : watcher->roots_) {
    if (absl::Status s = watcher->WatchTree(root); !s.ok()) return s;
  }
  return watcher;
}

DirectoryWatcher::DirectoryWatcher(int fd, std::vector<std::string> roots)
    : fd_(fd), roots_(std::move(roots)) {}

DirectoryWatcher::~DirectoryWatcher() { close(fd_); }

absl::Status DirectoryWatcher::WatchOne(const std::string& dir) {
  if (paths_.size() >= kMaxWatchedDirectories) {
    return absl::ResourceExhaustedError(
        absl::StrCat("not watching ", dir, ": already watching the maximum of ",
                     kMaxWatchedDirectories,
                     " directories; send SIGHUP after changes "
                     "there"));
  }
  const int wd = inotify_add_watch(fd_, dir.c_str(), kWatchMask);
  if (wd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "failed to watch directory ", dir, ": ", std::strerror(errno),
        "; check that it exists and is readable, or raise the sysctl "
        "fs.inotify.max_user_watches"));
  }
  paths_[wd] = dir;
  return absl::OkStatus();
}

absl::Status DirectoryWatcher::WatchTree(const std::string& dir) {
  if (absl::Status s = WatchOne(dir); !s.ok()) return s;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(
      dir, std::filesystem::directory_options::skip_permission_denied, error);
  const std::filesystem::recursive_directory_iterator end;
  // The iterator stops at the first error; the directories it reached are
  // still watched.
  for (; !error && it != end; it.increment(error)) {
    if (!it->is_directory(error) || it->is_symlink(error)) continue;
    if (absl::Status s = WatchOne(it->path().string()); !s.ok()) return s;
  }
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("failed to list directory ", dir, ": ", error.message(),
                     "; check that it exists and is readable"));
  }
  return absl::OkStatus();
}

void DirectoryWatcher::Rescan() {
  for (const std::string& root : roots_) {
    absl::Status status = WatchTree(root);
    if (status.ok()) continue;
    if (status.code() == absl::StatusCode::kResourceExhausted) {
      if (limit_logged_) continue;  // logged once, not on every reload
      limit_logged_ = true;
    }
    LogWarning(status.message());
  }
}

bool DirectoryWatcher::ReadEvents() {
  alignas(inotify_event) char buffer[16 * 1024];
  bool changed = false;
  // Each read drains up to one buffer of events. The loop ends when the
  // non-blocking descriptor has none left (EAGAIN), or after 64 reads so
  // that a flood of events cannot starve the signals; the next poll resumes.
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t size = read(fd_, buffer, sizeof(buffer));
    if (size <= 0) break;
    for (ssize_t offset = 0; offset < size;) {
      const auto* event =
          reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);

      if (event->mask & IN_Q_OVERFLOW) {
        changed = true;
        continue;
      }
      if (event->mask & IN_IGNORED) {
        paths_.erase(event->wd);  // the directory is gone or moved away
        continue;
      }
      const std::string_view name =
          event->len > 0 ? std::string_view(event->name) : std::string_view();
      if (!name.empty() && IsEditorScratch(name)) continue;
      changed = true;

      const bool new_directory =
          (event->mask & IN_ISDIR) && (event->mask & (IN_CREATE | IN_MOVED_TO));
      auto parent = paths_.find(event->wd);
      if (new_directory && parent != paths_.end()) {
        const std::string dir = parent->second + "/" + std::string(name);
        if (absl::Status s = WatchTree(dir); !s.ok()) LogWarning(s.message());
      }
    }
  }
  return changed;
}

}  // namespace verdict::server
