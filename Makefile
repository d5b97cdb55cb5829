# Entry points for a fresh Debian 12 machine. Each target installs the
# Debian packages it needs first (scripts/install-deps.sh is a no-op when
# they are present).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps configure build run test bench bench-gate clean

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

bench: build
	$(BUILD)/bench/eval_bench

# Short benchmarks (about 15 s) that fail when a budget in
# bench/budgets.json is exceeded: an allocation or a lock per decision, or
# decision time growing with the policy count.
bench-gate: build
	python3 bench/gate $(BUILD)

clean:
	rm -rf $(BUILD)
