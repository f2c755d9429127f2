# ovnic: thin wrapper over CMake.
#   make demo    install dependencies, build, run the main scenario
#   make check   install dependencies, build with ASan+UBSan, run every test
#   make bench   build and run every program in bench/
BUILD ?= build
CHECK_BUILD ?= build-check
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build check demo bench format format-check clean

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

format-check:
	cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target format-check

format:
	cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target format

clean:
	rm -rf $(BUILD) $(CHECK_BUILD)
