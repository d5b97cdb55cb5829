// Evaluation and JSON request decoding allocate no heap memory once the
// frame has warmed up. The global operator new of this test binary counts
// every allocation.

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
  // The counter works: a fresh frame allocates while it grows.
  long before = allocations.load();
  Frame fresh;
  ASSERT_TRUE(DecodeJsonRequest(program, requests[0], 0, fresh).ok());
  EXPECT_GT(allocations.load() - before, 0);
}

TEST(Allocation, DecodeJsonAllocatesNothingAfterWarmUp) {
  compiler::Compilation compilation = testing::CompileText(
      "schema subject { id: string  roles: set<string>  tags: list<string> }\n"
      "schema action { name: string }\n"
      "schema resource { type: string  id: string  owner: string }\n"
      "schema context { session.mfa: bool  session.issued_at: timestamp }\n"
      "permit \"p\" when { action.name == \"read\" and \"admin\" in "
      "subject.roles }");
  ASSERT_NE(compilation.program, nullptr) << compilation.diagnostics;
  const Program& program = *compilation.program;
  // Unknown strings, escapes, a set, a list, nested objects and undeclared
  // members, so that every buffer of the frame is used. The timestamp is an
  // integer: absl::ParseTime, which reads RFC 3339 strings, copies its
  // arguments into std::strings.
  const std::string requests[] = {
      R"({"subject": {"type": "user", "id": "al\u00efce",
                      "properties": {"roles": ["admin", "new-role"],
                                     "tags": ["a", "b"], "extra": [1, {"x": 2}]}},
          "action": {"name": "read"},
          "resource": {"type": "doc", "id": "d1", "properties": {"owner": "al\u00efce"}},
          "context": {"session": {"mfa": true, "issued_at": 1772366400}}})",
      R"({"subject": {"id": "bob", "properties": {"roles": ["viewer"]}},
          "action": {"name": "write"}, "attributes": {"other": {"a": "b"}}})"};
  Frame frame;
  for (const std::string& request : requests) {
    ASSERT_TRUE(DecodeJsonRequest(program, request, 0, frame).ok());
  }
  for (const std::string& request : requests) {
    long before = allocations.load();
    absl::Status status = DecodeJsonRequest(program, request, 0, frame);
    long after = allocations.load();
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(after - before, 0) << request;
  }
}

}  // namespace
}  // namespace verdict
