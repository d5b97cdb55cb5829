// Evaluation allocates no heap memory once the frame has warmed up. The
// global operator new of this test binary counts every allocation.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "engine/evaluator.h"
#include "engine/request.h"
#include "gtest/gtest.h"
#include "tests/compile_text.h"

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace verdict {
namespace {

TEST(Allocation, EvaluateAllocatesNothingAfterWarmUp) {
  std::string root = VERDICT_SOURCE_DIR "/examples/authzen-todo";
  absl::StatusOr<compiler::Compilation> compilation = compiler::CompileDirectory(
      root + "/policies", root + "/data", {});
  ASSERT_TRUE(compilation.ok());
  ASSERT_NE(compilation->program, nullptr) << compilation->diagnostics;
  const Program& program = *compilation->program;
  const std::string requests[] = {
      R"({"subject": {"id": "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
          "action": {"name": "can_delete_todo"},
          "resource": {"type": "todo", "id": "t1", "properties": {"ownerID": "morty@the-citadel.com"}}})",
      R"({"subject": {"id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
          "action": {"name": "can_update_todo"},
          "resource": {"type": "todo", "id": "t2", "properties": {"ownerID": "rick@the-citadel.com"}}})",
      R"({"action": {"name": "can_read_todos"}})"};
  Frame frame;
  for (const std::string& request : requests) {
    ASSERT_TRUE(DecodeJsonRequest(program, request, 0, frame).ok());
    Evaluate(program, frame);  // warm up thread-locals and frame buffers
  }
  for (const std::string& request : requests) {
    ASSERT_TRUE(DecodeJsonRequest(program, request, 0, frame).ok());
    long before = allocations.load();
    Decision decision = Evaluate(program, frame);
    long after = allocations.load();
    EXPECT_EQ(after - before, 0) << request;
    (void)decision;
  }
  // The counter works: decoding a request does allocate (JSON parsing).
  long before = allocations.load();
  ASSERT_TRUE(DecodeJsonRequest(program, requests[0], 0, frame).ok());
  EXPECT_GT(allocations.load() - before, 0);
}

}  // namespace
}  // namespace verdict
