// Delivery of process signals as readable events instead of handlers.

#ifndef VERDICT_SERVER_SIGNAL_CHANNEL_H_
#define VERDICT_SERVER_SIGNAL_CHANNEL_H_

#include <signal.h>

#include <initializer_list>
#include <memory>

#include "absl/status/statusor.h"

namespace verdict::server {

// Blocks a set of signals and receives them through a signalfd, so a poll
// loop handles them as ordinary events and no code runs in signal context.
//
// The signals are blocked in the creating thread; threads it starts later
// inherit the mask. A thread started earlier that does not block them would
// take the default action instead (terminating the process for SIGTERM), so
// create the channel before starting threads.
//
// Thread-compatible. Owns the descriptor; destruction discards signals still
// pending, closes it, and restores the creating thread's previous mask.
class SignalChannel {
 public:
  static absl::StatusOr<std::unique_ptr<SignalChannel>> Create(
      std::initializer_list<int> signals);

  ~SignalChannel();
  SignalChannel(const SignalChannel&) = delete;
  SignalChannel& operator=(const SignalChannel&) = delete;

  // The descriptor to poll for readability; it is non-blocking.
  int fd() const { return fd_; }

  // Returns the number of the next pending signal, or 0 when none is.
  int ReadSignal();

 private:
  SignalChannel(int fd, const sigset_t& previous_mask);

  const int fd_;
  const sigset_t previous_mask_;
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_SIGNAL_CHANNEL_H_
