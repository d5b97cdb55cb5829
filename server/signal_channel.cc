#include "server/signal_channel.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace verdict::server {

absl::StatusOr<std::unique_ptr<SignalChannel>> SignalChannel::Create(
    std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal : signals) sigaddset(&mask, signal);

  sigset_t previous;
  if (int error = pthread_sigmask(SIG_BLOCK, &mask, &previous); error != 0) {
    return absl::InternalError(
        absl::StrCat("cannot block signals: ", std::strerror(error)));
  }
  const int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return absl::InternalError(
        absl::StrCat("cannot create a signalfd: ", std::strerror(error)));
  }
  return std::unique_ptr<SignalChannel>(new SignalChannel(fd, previous));
}

SignalChannel::SignalChannel(int fd, const sigset_t& previous_mask)
    : fd_(fd), previous_mask_(previous_mask) {}

SignalChannel::~SignalChannel() {
  // Unblocking with a signal still pending would deliver it with its
  // default action, so drain first. The number of pending signals is
  // bounded by the signal set, as standard signals do not queue.
  while (ReadSignal() != 0) {
  }
  close(fd_);
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

int SignalChannel::ReadSignal() {
  signalfd_siginfo info;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t size = read(fd_, &info, sizeof(info));
    if (size == static_cast<ssize_t>(sizeof(info))) {
      return static_cast<int>(info.ssi_signo);
    }
    if (size < 0 && errno == EINTR) continue;
    return 0;
  }
  return 0;
}

}  // namespace verdict::server
