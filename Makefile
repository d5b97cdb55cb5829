# Entry points for a fresh Debian 12 machine. Each target installs the
# Debian packages it needs first (scripts/install-deps.sh is a no-op when
# they are present).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps configure build run test test-asan test-tsan fuzz bench bench-gate clean

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Starts `verdict serve` on the bundled Todo example, decides the example
# requests over gRPC, prints the decisions and stops the server.
run: build
	bash scripts/run-example.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The test suite built with AddressSanitizer and UBSan (GCC) in its own
# build directory. A leak, a memory error or undefined behaviour fails the
# test that hit it.
ASAN_BUILD ?= build-asan
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
test-asan: deps
	cmake -G Ninja -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVERDICT_SANITIZE=ON -DVERDICT_BUILD_BENCHMARKS=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure \
	  -j $(JOBS)

# The tests that run threads, built with ThreadSanitizer (GCC): engine_test
# (concurrent readers of a ProgramStore snapshot), parser_test (concurrent
# compiles), and 200 policy reloads while four threads decide through
# ProgramStore::Reader (ReloadUnderLoad.ReadersSeeOnlyValidRevisions).
# The tests that go through gRPC are left out: Debian's gRPC is not built
# with TSan, so TSan cannot see how gRPC hands a call from thread to thread
# and reports races that do not exist (docs/reliability.md).
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= engine_test parser_test
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
test-tsan: deps
	cmake -G Ninja -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVERDICT_SANITIZE_THREAD=ON -DVERDICT_BUILD_BENCHMARKS=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS) \
	  --target $(TSAN_TESTS) server_reload_test
	set -e; for test in $(TSAN_TESTS); do \
	  $(TSAN_ENV) $(TSAN_BUILD)/tests/$$test; \
	done
	$(TSAN_ENV) $(TSAN_BUILD)/tests/server/server_reload_test \
	  --gtest_filter=ReloadUnderLoad.ReadersSeeOnlyValidRevisions

# Builds the libFuzzer targets with clang into build-fuzz and runs each for
# FUZZ_SECONDS seconds.
FUZZ_SECONDS ?= 30
fuzz: deps
	bash fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	$(BUILD)/bench/eval_bench

# Short benchmarks (about 15 s) that fail when a budget in
# bench/budgets.json is exceeded: an allocation or a lock per decision, or
# decision time growing with the policy count.
bench-gate: build
	python3 bench/gate $(BUILD)

clean:
	rm -rf $(BUILD)
