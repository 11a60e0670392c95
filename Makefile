# Sluice: the two commands are `make demo` and `make test`. Both install what
# is missing (Debian packages), build, and run.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps build build-debug build-release test test-unit test-integration demo \
        bench fuzz format format-check clean

all: build-release

deps:
	@bash scripts/install-deps.sh

build-debug: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

build-release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build: build-release

# Every test (unit, integration against a real Postgres, fault tests) under
# AddressSanitizer and UndefinedBehaviorSanitizer, plus the format check.
test: build-debug format-check
	@cd build/debug && ctest --output-on-failure -j 1 --timeout 1200

test-unit: build-debug
	@cd build/debug && ctest --output-on-failure -L unit

test-integration: build-debug
	@cd build/debug && ctest --output-on-failure -L integration --timeout 1200

# A throwaway Postgres, a sample table with traffic, and Sluice streaming the
# changes to the terminal. Ctrl-C stops and removes everything.
demo: build-release
	@./build/release/src/daemon/sluice demo $(if $(SECONDS_TO_RUN),--seconds $(SECONDS_TO_RUN),)

# Sluice side by side with pg_recvlogical and a Node peer on the same
# workloads (a benchmark, never a test): see bench/README.md.
bench: build-release
	@bench/run.sh

# libFuzzer targets, FUZZ_SECONDS each (clang).
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@for f in decoder_fuzz value_json_fuzz config_fuzz; do \
	  mkdir -p build/fuzz/corpus/$$f; \
	  ./build/fuzz/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$f || exit 1; \
	done

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
