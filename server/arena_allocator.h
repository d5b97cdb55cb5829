// A gRPC message allocator that places each call's request and response on
// a protobuf arena.

#ifndef VERDICT_SERVER_ARENA_ALLOCATOR_H_
#define VERDICT_SERVER_ARENA_ALLOCATOR_H_

#include <cstddef>

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace verdict::server {

// Allocates the request and response of one callback-API call on a fresh
// google::protobuf::Arena. Parsing the request and building the response
// then take memory from a few arena blocks instead of one heap allocation
// per string and nested message, and the call ends by freeing those blocks.
// Under callgrind, malloc and free had been about a third of a BatchDecide
// call's instructions. Thread-safe: it has no state.
template <typename Request, typename Response>
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  // The first block fits a Decide call; blocks double up to the maximum for
  // large batches.
  static constexpr size_t kStartBlockBytes = 4 << 10;
  static constexpr size_t kMaxBlockBytes = 1 << 20;

  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = kStartBlockBytes;
      options.max_block_size = kMaxBlockBytes;
      return options;
    }

    google::protobuf::Arena arena_;
  };
};

}  // namespace verdict::server

#endif  // VERDICT_SERVER_ARENA_ALLOCATOR_H_
