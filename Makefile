# ovnic: thin wrapper over CMake.
#   make demo    install dependencies, build, run the main scenario
#   make check   install dependencies, build with ASan+UBSan, run every test
#   make bench   build and run every program in bench/
#   make fuzz    build the libFuzzer targets (clang) and fuzz each for FUZZ_SECONDS,
#                merging new inputs into the seed corpora; make fuzz-ci: the short
#                campaign that CI runs (FUZZ_CI_SECONDS each, corpora untouched)
# CC=clang make check builds with clang, in build directories of its own.
COMPILER_SUFFIX := $(if $(filter clang%,$(notdir $(CC))),-clang,)
BUILD ?= build$(COMPILER_SUFFIX)
CHECK_BUILD ?= build-check$(COMPILER_SUFFIX)
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_CI_SECONDS ?= 20
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build check demo bench fuzz fuzz-build fuzz-ci format format-check clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# check also builds the optimised configuration first (the one demo and bench use), so
# that warnings only an -O2 build shows fail here too.
check: build
	cmake -S . -B $(CHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug -DOVNIC_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(CHECK_BUILD) -j $(JOBS)
	cd $(CHECK_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	scripts/demo.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

# The fuzz build: clang, ASan+UBSan, every library with coverage instrumentation; only
# the fuzz targets are built.
fuzz-build: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
	    -DOVNIC_FUZZ=ON -DOVNIC_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-all

fuzz-ci: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) --seconds $(FUZZ_CI_SECONDS)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) --merge

format-check:
	cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target format-check

format:
	cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target format

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD)
