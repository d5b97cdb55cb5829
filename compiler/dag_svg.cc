// RenderSvg (dag_export.h): runs Graphviz `dot` as a child process with its
// standard streams on pipes.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <tuple>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "compiler/dag_export.h"
#include "engine/absl_compat.h"

extern char** environ;

namespace verdict::compiler {
namespace {

// The two ends of a pipe; -1 once closed.
struct Pipe {
  int read = -1;
  int write = -1;
};

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

absl::Status ErrnoError(std::string_view call) {
  return absl::InternalError(
      absl::StrCat(ToAbsl(call), " failed: ", std::strerror(errno)));
}

absl::Status MakePipe(Pipe& pipe_fds) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  pipe_fds.read = fds[0];
  pipe_fds.write = fds[1];
  return absl::OkStatus();
}

// Starts `dot -Tsvg` with its stdin, stdout and stderr on the given pipes.
absl::StatusOr<pid_t> SpawnDot(Pipe& in, Pipe& out, Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  absl::Cleanup destroy = [&] { posix_spawn_file_actions_destroy(&actions); };
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  char program[] = "dot";
  char format[] = "-Tsvg";
  char* argv[] = {program, format, nullptr};
  pid_t pid = 0;
  int result = posix_spawnp(&pid, program, &actions, nullptr, argv, environ);
  if (result == ENOENT) {
    return absl::NotFoundError(
        "Graphviz `dot` was not found on PATH; install the Debian package "
        "graphviz (apt-get install graphviz), or use --format dot");
  }
  if (result != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start Graphviz dot: ", std::strerror(result)));
  }
  return pid;
}

// Feeds `input` to the child's stdin and collects stdout and stderr until
// both close or `deadline` passes. Returns false on timeout.
bool Exchange(std::string_view input, Pipe& in, Pipe& out, Pipe& err,
              absl::Time deadline, std::string& stdout_text,
              std::string& stderr_text) {
  size_t written = 0;
  if (input.empty()) CloseFd(in.write);
  char buffer[65536];
  while (out.read >= 0 || err.read >= 0) {
    pollfd fds[3] = {{in.write, POLLOUT, 0},
                     {out.read, POLLIN, 0},
                     {err.read, POLLIN, 0}};
    int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait_ms <= 0) return false;
    if (poll(fds, 3, static_cast<int>(wait_ms)) < 0 && errno != EINTR) {
      return false;
    }
    if (in.write >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(in.write, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // EPIPE means dot exited early, and its error output gives the reason.
      if (n < 0 || written == input.size()) CloseFd(in.write);
    }
    for (auto [index, fd, text] : {std::tuple{1, &out.read, &stdout_text},
                                   std::tuple{2, &err.read, &stderr_text}}) {
      if (*fd < 0 || !(fds[index].revents & (POLLIN | POLLERR | POLLHUP))) {
        continue;
      }
      ssize_t n = read(*fd, buffer, sizeof buffer);
      if (n > 0) {
        text->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        CloseFd(*fd);
      }
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> RenderSvg(std::string_view dot_source,
                                      absl::Duration timeout) {
  Pipe in, out, err;
  absl::Cleanup close_all = [&] {
    for (int* fd : {&in.read, &in.write, &out.read, &out.write, &err.read,
                    &err.write}) {
      CloseFd(*fd);
    }
  };
  for (Pipe* p : {&in, &out, &err}) {
    if (absl::Status status = MakePipe(*p); !status.ok()) return status;
  }
  absl::StatusOr<pid_t> pid = SpawnDot(in, out, err);
  if (!pid.ok()) return pid.status();
  CloseFd(in.read);
  CloseFd(out.write);
  CloseFd(err.write);

  // A write to a pipe whose reader exited raises SIGPIPE, which would end
  // the process. So block it in this thread and discard it if it was raised.
  sigset_t sigpipe, previous;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &previous);
  std::string svg, errors;
  bool finished = Exchange(dot_source, in, out, err, absl::Now() + timeout, svg,
                           errors);
  const timespec no_wait = {0, 0};
  while (sigtimedwait(&sigpipe, nullptr, &no_wait) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  if (!finished) kill(*pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(*pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    return absl::DeadlineExceededError(absl::StrCat(
        "Graphviz dot did not finish within ", absl::FormatDuration(timeout),
        "; the DAG may be too large to draw, so try --format text or --stats"));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(
        absl::StrCat("Graphviz dot failed: ", errors.empty() ? "no message" : errors));
  }
  return svg;
}

}  // namespace verdict::compiler
