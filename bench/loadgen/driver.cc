#include "bench/loadgen/driver.h"

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "google/protobuf/arena.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "verdict/v1/verdict.grpc.pb.h"

namespace verdict::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// Open loop: sends wait while this many messages are in flight, once the
// server has clearly fallen behind. Thousands of concurrent calls on one
// connection slow gRPC's client down so much that the achieved rate
// collapsed in trials (20,000 allowed: 7,900 of 12,000 requested decisions
// per second, with a closed-loop peak of 24,000). The delayed sends still
// count against latency.
constexpr int64_t kMaxOpenLoopInFlight = 1'000;

// Open loop: the shortest time between two wakeups of the sender thread.
constexpr int64_t kSendTick = 100'000;  // nanoseconds

// How often the completion thread wakes up to check whether the run is over.
constexpr auto kPollInterval = std::chrono::milliseconds(20);

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout);
}

std::string CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS",     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",          "OUT_OF_RANGE",
      "UNIMPLEMENTED",      "INTERNAL",          "UNAVAILABLE",
      "DATA_LOSS",          "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  if (index >= 0 && index < static_cast<int>(std::size(kNames))) {
    return kNames[index];
  }
  return "code " + std::to_string(index);
}

// A completion-queue tag. The queue hands back the pointer, and the worker
// calls Complete with the operation's outcome.
class Event {
 public:
  virtual void Complete(bool ok) = 0;

 protected:
  ~Event() = default;
};

class Worker;

// One Decide or BatchDecide call; deletes itself when it completes.
template <typename Response>
class UnaryCall final : public Event {
 public:
  UnaryCall(Worker& worker, int64_t intended, bool measured)
      : worker_(worker), intended_(intended), measured_(measured) {}

  void Complete(bool ok) override;

  Worker& worker_;
  const int64_t intended_;
  const bool measured_;
  grpc::ClientContext context_;
  // The response lives on an arena, so parsing a batch's results costs a
  // few block allocations instead of several per result.
  google::protobuf::Arena arena_;
  Response& response_ =
      *google::protobuf::Arena::CreateMessage<Response>(&arena_);
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader_;
};

// One DecideStream call. Keeps one write and one read outstanding at most,
// as gRPC requires, and matches responses to requests in order.
// Thread-safe: the open-loop sender enqueues while the completion thread
// handles events.
class Stream {
 public:
  Stream(Worker& worker, v1::Verdict::Stub& stub, grpc::CompletionQueue& queue,
         absl::Duration timeout);

  // Queues `request`, sent as soon as the previous write completes. Returns
  // false, queueing nothing, once the call has failed or ended.
  bool Enqueue(const v1::DecideRequest& request, int64_t intended,
               bool measured);
  // Closes the sending side once the queued requests are written.
  void Close();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  // A tag that dispatches to one of the stream's handlers.
  class Op final : public Event {
   public:
    Op(Stream* stream, void (Stream::*handler)(bool))
        : stream_(stream), handler_(handler) {}
    void Complete(bool ok) override { (stream_->*handler_)(ok); }

   private:
    Stream* stream_;
    void (Stream::*handler_)(bool);
  };

  struct Pending {
    const v1::DecideRequest* request;
    int64_t intended;
    bool measured;
  };

  void OnStarted(bool ok);
  void OnWritten(bool ok);
  void OnRead(bool ok);
  void OnWritesDone(bool ok);
  void OnFinished(bool ok);
  // Starts the next write, WritesDone or Finish that the state allows.
  void AdvanceLocked();

  Worker& worker_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::DecideRequest,
                                                v1::DecideResponse>>
      call_;
  Op started_op_{this, &Stream::OnStarted};
  Op written_op_{this, &Stream::OnWritten};
  Op read_op_{this, &Stream::OnRead};
  Op writes_done_op_{this, &Stream::OnWritesDone};
  Op finished_op_{this, &Stream::OnFinished};
  v1::DecideResponse response_;
  grpc::Status status_;

  std::mutex mutex_;
  std::deque<Pending> unsent_;     // queued, not yet written
  std::deque<Pending> in_flight_;  // written, response not yet read
  bool started_ = false;
  bool writing_ = false;       // a Write or WritesDone is outstanding
  bool closing_ = false;       // Close() was called
  bool writes_done_ = false;   // WritesDone was issued
  bool reads_over_ = false;    // a Read failed: the server ended the call
  bool broken_ = false;        // a write failed: the call is over
  bool finish_issued_ = false;
  std::atomic<bool> finished_{false};
};

class Worker {
 public:
  Worker(const LoadOptions& options, const std::vector<v1::DecideRequest>& requests,
         int index);

  // Sends load until the stop condition and drains what is in flight.
  void Run(int64_t start);
  LoadResult& result() { return result_; }

  // Called on the completion thread.
  void OnDecide(UnaryCall<v1::DecideResponse>& call);
  void OnBatch(UnaryCall<v1::BatchDecideResponse>& call);
  void OnStreamResponse(Stream& stream, int64_t intended, bool measured,
                        const v1::DecideResponse& response);
  void OnStreamEnd(const grpc::Status& status, int64_t lost);

 private:
  // Sends the next message, timed as if sent at `intended`.
  void Send(int64_t intended, Stream* stream);
  // Decides whether a send intended at `intended` is still due; sets
  // stopping_ when the run is over.
  bool ShouldSend(int64_t intended);
  void RecordLatency(int64_t intended, bool measured, int64_t decisions);
  void RecordError(grpc::StatusCode code, bool measured);
  void SendOpenLoop();
  bool Drained() const;

  // Fires on the completion thread at once, so that the open-loop sender
  // thread hands its due sends to that thread instead of starting the calls
  // itself. Calls started off the polling thread ran at about a third of
  // the closed-loop rate in trials.
  class SendAlarm final : public Event {
   public:
    SendAlarm(Worker& worker, std::vector<int64_t> intended)
        : worker_(worker), intended_(std::move(intended)) {
      alarm_.Set(&worker.queue_, gpr_time_0(GPR_CLOCK_MONOTONIC), this);
    }
    void Complete(bool ok) override {
      for (int64_t intended : intended_) {
        worker_.scheduled_.fetch_sub(1, std::memory_order_relaxed);
        worker_.Send(intended, nullptr);
      }
      delete this;
    }

   private:
    Worker& worker_;
    const std::vector<int64_t> intended_;
    grpc::Alarm alarm_;
  };

  const LoadOptions& options_;
  const std::vector<v1::DecideRequest>& requests_;
  std::vector<v1::BatchDecideRequest> batches_;
  std::unique_ptr<v1::Verdict::Stub> stub_;
  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<Stream>> streams_;

  // This worker's share of the load.
  int concurrency_ = 0;
  double messages_per_second_ = 0;
  int64_t count_limit_ = 0;  // decisions; 0 for none

  int64_t measure_start_ = 0;
  int64_t measure_end_ = 0;
  size_t next_request_ = 0;
  size_t next_stream_ = 0;
  int64_t measured_sent_ = 0;  // decisions sent after warmup
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> in_flight_{0};
  // Open loop: sends handed to the completion thread, not yet started.
  std::atomic<int64_t> scheduled_{0};
  int64_t last_completion_ = 0;
  int64_t max_send_lag_ = 0;
  LoadResult result_;
};

template <>
void UnaryCall<v1::DecideResponse>::Complete(bool ok) {
  worker_.OnDecide(*this);
  delete this;
}

template <>
void UnaryCall<v1::BatchDecideResponse>::Complete(bool ok) {
  worker_.OnBatch(*this);
  delete this;
}

Stream::Stream(Worker& worker, v1::Verdict::Stub& stub,
               grpc::CompletionQueue& queue, absl::Duration timeout)
    : worker_(worker) {
  context_.set_deadline(DeadlineAfter(timeout));
  call_ = stub.PrepareAsyncDecideStream(&context_, &queue);
  call_->StartCall(&started_op_);
}

bool Stream::Enqueue(const v1::DecideRequest& request, int64_t intended,
                     bool measured) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (broken_ || reads_over_ || writes_done_) return false;
  unsent_.push_back({&request, intended, measured});
  AdvanceLocked();
  return true;
}

void Stream::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closing_ = true;
  AdvanceLocked();
}

void Stream::AdvanceLocked() {
  if (!started_ || writing_ || finish_issued_) return;
  if (reads_over_) {
    finish_issued_ = true;
    call_->Finish(&status_, &finished_op_);
    return;
  }
  if (broken_) return;
  if (!unsent_.empty()) {
    writing_ = true;
    in_flight_.push_back(unsent_.front());
    unsent_.pop_front();
    call_->Write(*in_flight_.back().request, &written_op_);
    return;
  }
  if (closing_ && !writes_done_) {
    writing_ = true;
    writes_done_ = true;
    call_->WritesDone(&writes_done_op_);
  }
}

void Stream::OnStarted(bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  started_ = true;
  if (ok) {
    call_->Read(&response_, &read_op_);
  } else {
    // The call failed before it began; Finish reports why.
    reads_over_ = true;
  }
  AdvanceLocked();
}

void Stream::OnWritten(bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  writing_ = false;
  // A failed write means the call is over; the outstanding Read fails next.
  if (!ok) broken_ = true;
  AdvanceLocked();
}

void Stream::OnWritesDone(bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  writing_ = false;
  AdvanceLocked();
}

void Stream::OnRead(bool ok) {
  Pending answered{};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ok || in_flight_.empty()) {
      reads_over_ = true;
      AdvanceLocked();
      return;
    }
    answered = in_flight_.front();
    in_flight_.pop_front();
  }
  // Outside the lock: the worker may enqueue the next request on this
  // stream. Only this thread touches response_ until the next Read.
  worker_.OnStreamResponse(*this, answered.intended, answered.measured,
                           response_);
  std::lock_guard<std::mutex> lock(mutex_);
  call_->Read(&response_, &read_op_);
}

void Stream::OnFinished(bool ok) {
  int64_t lost = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    lost = static_cast<int64_t>(unsent_.size() + in_flight_.size());
    unsent_.clear();
    in_flight_.clear();
  }
  worker_.OnStreamEnd(status_, lost);
  finished_.store(true, std::memory_order_release);
}

Worker::Worker(const LoadOptions& options,
               const std::vector<v1::DecideRequest>& requests, int index)
    : options_(options), requests_(requests) {
  grpc::ChannelArguments arguments;
  // A channel of its own per worker: without this, channels to the same
  // target share one connection.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  arguments.SetMaxReceiveMessageSize(-1);
  stub_ = v1::Verdict::NewStub(grpc::CreateCustomChannel(
      options.target, grpc::InsecureChannelCredentials(), arguments));

  // Spread the totals so that the workers' shares add up exactly.
  const int workers = options.workers;
  concurrency_ = options.concurrency / workers +
                 (index < options.concurrency % workers ? 1 : 0);
  const int per_message =
      options.rpc == RpcKind::kBatchDecide ? options.batch : 1;
  messages_per_second_ = options.rate / workers / per_message;
  if (options.count > 0) {
    count_limit_ =
        options.count / workers + (index < options.count % workers ? 1 : 0);
  }

  if (options.rpc == RpcKind::kBatchDecide) {
    // Batches that start at different requests, so that a run with several
    // distinct requests does not send the same batch every time.
    const size_t distinct = std::min<size_t>(requests.size(), 16);
    for (size_t b = 0; b < distinct; ++b) {
      v1::BatchDecideRequest& batch = batches_.emplace_back();
      for (int i = 0; i < options.batch; ++i) {
        *batch.add_requests() = requests[(b + i) % requests.size()];
      }
    }
  }
}

bool Worker::ShouldSend(int64_t intended) {
  if (stopping_.load(std::memory_order_relaxed)) return false;
  const bool over_time = intended >= measure_end_;
  const bool over_count = count_limit_ > 0 && measured_sent_ >= count_limit_;
  if (over_time || over_count) {
    stopping_.store(true, std::memory_order_release);
    return false;
  }
  return true;
}

void Worker::Send(int64_t intended, Stream* stream) {
  const bool measured = intended >= measure_start_;
  const v1::DecideRequest& request =
      requests_[next_request_++ % requests_.size()];
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  switch (options_.rpc) {
    case RpcKind::kDecide: {
      auto* call = new UnaryCall<v1::DecideResponse>(*this, intended, measured);
      call->context_.set_deadline(DeadlineAfter(options_.timeout));
      call->reader_ = stub_->PrepareAsyncDecide(&call->context_, request,
                                                &queue_);
      call->reader_->StartCall();
      call->reader_->Finish(&call->response_, &call->status_, call);
      if (measured) ++measured_sent_;
      break;
    }
    case RpcKind::kBatchDecide: {
      auto* call =
          new UnaryCall<v1::BatchDecideResponse>(*this, intended, measured);
      call->context_.set_deadline(DeadlineAfter(options_.timeout));
      const v1::BatchDecideRequest& batch =
          batches_[next_request_ % batches_.size()];
      call->reader_ = stub_->PrepareAsyncBatchDecide(&call->context_, batch,
                                                     &queue_);
      call->reader_->StartCall();
      call->reader_->Finish(&call->response_, &call->status_, call);
      if (measured) measured_sent_ += options_.batch;
      break;
    }
    case RpcKind::kStream: {
      if (stream == nullptr) {
        stream = streams_[next_stream_++ % streams_.size()].get();
      }
      if (!stream->Enqueue(request, intended, measured)) {
        in_flight_.fetch_sub(1, std::memory_order_relaxed);
        RecordError(grpc::StatusCode::CANCELLED, measured);
        return;
      }
      if (measured) ++measured_sent_;
      break;
    }
  }
}

void Worker::RecordLatency(int64_t intended, bool measured,
                           int64_t decisions) {
  const int64_t now = NowNanos();
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (!measured) return;
  last_completion_ = std::max(last_completion_, now);
  result_.latency.Record(now - intended);
  result_.decisions += decisions;
  ++result_.messages;
}

void Worker::RecordError(grpc::StatusCode code, bool measured) {
  if (measured) ++result_.errors[CodeName(code)];
}

void Worker::OnDecide(UnaryCall<v1::DecideResponse>& call) {
  if (call.status_.ok()) {
    RecordLatency(call.intended_, call.measured_, 1);
  } else {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    RecordError(call.status_.error_code(), call.measured_);
  }
  if (messages_per_second_ == 0 && ShouldSend(NowNanos())) {
    Send(NowNanos(), nullptr);
  }
}

void Worker::OnBatch(UnaryCall<v1::BatchDecideResponse>& call) {
  if (call.status_.ok()) {
    int64_t decided = 0;
    for (const v1::BatchItem& item : call.response_.results()) {
      if (item.has_response()) {
        ++decided;
      } else {
        RecordError(static_cast<grpc::StatusCode>(item.error().code()),
                    call.measured_);
      }
    }
    RecordLatency(call.intended_, call.measured_, decided);
  } else {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    RecordError(call.status_.error_code(), call.measured_);
  }
  if (messages_per_second_ == 0 && ShouldSend(NowNanos())) {
    Send(NowNanos(), nullptr);
  }
}

void Worker::OnStreamResponse(Stream& stream, int64_t intended, bool measured,
                              const v1::DecideResponse& response) {
  RecordLatency(intended, measured, 1);
  if (messages_per_second_ == 0 && ShouldSend(NowNanos())) {
    Send(NowNanos(), &stream);
  }
}

void Worker::OnStreamEnd(const grpc::Status& status, int64_t lost) {
  in_flight_.fetch_sub(lost, std::memory_order_relaxed);
  // A stream that ends early stops its share of a closed loop, so the
  // failure is reported whatever the phase.
  if (!status.ok()) ++result_.errors[CodeName(status.error_code())];
}

// Sends on the schedule start + i / rate from its own thread, sleeping in
// between, so that a slow response never delays the next send. The thread
// wakes at most once per kSendTick and hands every send then due to the
// completion thread in one alarm. With a wakeup and an alarm per send, the
// two client threads used about 1.1 cores at 18,000 Decide calls per second
// in trials, more than the server. A send can so start up to kSendTick
// after its scheduled time, and that delay counts against its latency.
void Worker::SendOpenLoop() {
  // Sleeps overshoot by the timer slack, 50 us by default.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  const double interval = 1e9 / messages_per_second_;
  const int64_t per_message =
      options_.rpc == RpcKind::kBatchDecide ? options_.batch : 1;
  const int64_t first =
      measure_start_ - absl::ToInt64Nanoseconds(options_.warmup);
  auto scheduled_at = [&](int64_t i) {
    return first + static_cast<int64_t>(static_cast<double>(i) * interval);
  };
  int64_t measured_scheduled = 0;  // decisions
  auto past_end = [&](int64_t intended) {
    return intended >= measure_end_ ||
           (count_limit_ > 0 && measured_scheduled >= count_limit_);
  };

  int64_t next = 0;  // index of the next send
  int64_t last_wake = 0;
  for (;;) {
    if (past_end(scheduled_at(next))) {
      stopping_.store(true, std::memory_order_release);
      return;
    }
    const int64_t wake = std::max(scheduled_at(next), last_wake + kSendTick);
    int64_t now = NowNanos();
    if (now < wake) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(wake - now));
      now = NowNanos();
    }
    while (in_flight_.load(std::memory_order_relaxed) +
               scheduled_.load(std::memory_order_relaxed) >=
           kMaxOpenLoopInFlight) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      now = NowNanos();
    }
    last_wake = now;

    std::vector<int64_t> due;
    for (; scheduled_at(next) <= now && !past_end(scheduled_at(next));
         ++next) {
      const int64_t intended = scheduled_at(next);
      if (intended >= measure_start_) {
        max_send_lag_ = std::max(max_send_lag_, now - intended);
        measured_scheduled += per_message;
      }
      due.push_back(intended);
    }
    scheduled_.fetch_add(static_cast<int64_t>(due.size()),
                         std::memory_order_relaxed);
    new SendAlarm(*this, std::move(due));
  }
}

bool Worker::Drained() const {
  if (in_flight_.load(std::memory_order_acquire) > 0 ||
      scheduled_.load(std::memory_order_acquire) > 0) {
    return false;
  }
  return std::all_of(streams_.begin(), streams_.end(),
                     [](const std::unique_ptr<Stream>& stream) {
                       return stream->finished();
                     });
}

void Worker::Run(int64_t start) {
  measure_start_ = start + absl::ToInt64Nanoseconds(options_.warmup);
  measure_end_ = measure_start_ + absl::ToInt64Nanoseconds(options_.duration);
  if (options_.rpc == RpcKind::kStream) {
    const absl::Duration length =
        options_.warmup + options_.duration + options_.timeout;
    for (int i = 0; i < options_.streams; ++i) {
      streams_.push_back(
          std::make_unique<Stream>(*this, *stub_, queue_, length));
    }
  }

  std::thread sender;
  if (messages_per_second_ > 0) {
    sender = std::thread([this] { SendOpenLoop(); });
  } else {
    for (int i = 0; i < concurrency_ && ShouldSend(NowNanos()); ++i) {
      Send(NowNanos(), nullptr);
    }
  }

  bool streams_closed = false;
  for (;;) {
    void* tag = nullptr;
    bool ok = false;
    const grpc::CompletionQueue::NextStatus status =
        queue_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kPollInterval);
    if (status == grpc::CompletionQueue::GOT_EVENT) {
      static_cast<Event*>(tag)->Complete(ok);
      continue;
    }
    if (status == grpc::CompletionQueue::SHUTDOWN) break;
    // A closed loop stops sending from its completion handlers; with
    // nothing completing, the time limit is checked here.
    if (messages_per_second_ == 0) ShouldSend(NowNanos());
    if (!stopping_.load(std::memory_order_acquire)) continue;
    if (!streams_closed) {
      for (std::unique_ptr<Stream>& stream : streams_) stream->Close();
      streams_closed = true;
    }
    if (Drained()) break;
  }
  if (sender.joinable()) sender.join();

  result_.max_send_lag = absl::Nanoseconds(max_send_lag_);
  result_.elapsed = absl::Nanoseconds(
      std::max<int64_t>(last_completion_ - measure_start_, 0));
  queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) {
  }
}

}  // namespace

LoadResult RunLoad(const LoadOptions& options,
                   const std::vector<v1::DecideRequest>& requests) {
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < options.workers; ++i) {
    workers.push_back(std::make_unique<Worker>(options, requests, i));
  }
  const int64_t start = NowNanos();
  std::vector<std::thread> threads;
  for (std::unique_ptr<Worker>& worker : workers) {
    threads.emplace_back([&worker, start] { worker->Run(start); });
  }
  for (std::thread& thread : threads) thread.join();

  LoadResult total;
  for (std::unique_ptr<Worker>& worker : workers) {
    LoadResult& part = worker->result();
    total.latency.Add(part.latency);
    total.decisions += part.decisions;
    total.messages += part.messages;
    for (const auto& [code, count] : part.errors) total.errors[code] += count;
    total.elapsed = std::max(total.elapsed, part.elapsed);
    total.max_send_lag = std::max(total.max_send_lag, part.max_send_lag);
  }
  return total;
}

}  // namespace verdict::loadgen
