# fptrace — one entry point.  Every output goes under $(BUILD)/ (git ignores it).
#
#   make            build libraries, runtime (release + checked), tools, progs, bench
#   make test       install missing Debian packages, build, run every test suite
#   make demo       fptrace on the yield scenario, clean and with seed 003
#   make bench      build and run the benchmarks (never part of make test)
#   make soak       stress and soak under the profiler (SOAK_SECONDS, default 60)
#   make install    PREFIX=/usr/local: bin/fptrace, its man page, libfpunwind
#                   and libfprt with their headers and .pc files
#   make uninstall  PREFIX=/usr/local: removes what make install put there
#   make clean
#   make test-arm64 cross-build for arm64 into build-arm64/ and run the arm64
#                   suites under qemu-user (same as make ARCH=arm64 test;
#                   mk/arm64.mk)
#
# Flavours.  The fprt runtime is built twice from the same sources: release
# (libfprt.a, no injectable regressions compiled in) and checked
# (libfprt-checked.a, -DFPRT_CHECKED: the seeds can be re-introduced with
# FPRT_INJECT).  Tests and scenario programs link the checked one.

.DEFAULT_GOAL := all

# fptrace --version, fpunwind.pc and fprt.pc (both architectures).
VERSION  = 0.1
ARCH    ?= amd64
ifeq ($(ARCH),arm64)
include mk/arm64.mk
else ifneq ($(ARCH),amd64)
$(error ARCH=$(ARCH): only amd64 (the default) and arm64 are supported)
else

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= gcc
SAN     ?=

WARN     = -Wall -Wextra -Werror
BASE     = -std=c11 -D_GNU_SOURCE -g -O2 -fno-omit-frame-pointer -pthread
# GCC rejects atomic_thread_fence under TSan (-Wtsan); our fences pair with
# atomics TSan does see, so the warning is not an error there.
SANFLAGS = $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all $(if $(findstring thread,$(SAN)),-Wno-error=tsan),)
CFLAGS  ?=
CFLAGS  += $(BASE) $(WARN) $(SANFLAGS) -MMD -MP
ASFLAGS  = -g $(SANFLAGS) -MMD -MP
LDFLAGS += -pthread $(SANFLAGS)

INC = -Ilibfpunwind/include -Iruntime/include

OBJ = $(BUILD)/obj
LIB = $(BUILD)/lib

# ---- libfpunwind ----------------------------------------------------------
# Two folders: core/ (walker, regions, maps, record reader and writer) has no
# dependency and is what signal handlers call; dwarf/ (the DWARF backends, the
# comparator, symbolization and the runtime models, which read ELF symbols)
# links libdw/libunwind.
FPU_CORE   = $(wildcard libfpunwind/core/*.c)
FPU_DWARF  = $(wildcard libfpunwind/dwarf/*.c)
FPU_ALL    = $(FPU_CORE) $(FPU_DWARF)
FPU_CORE_O = $(FPU_CORE:%.c=$(OBJ)/pic/%.o)
FPU_ALL_O  = $(FPU_ALL:%.c=$(OBJ)/pic/%.o)
DWARF_LIBS = -ldw -lelf -lunwind-generic -lunwind -lz

$(OBJ)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(INC) -c $< -o $@

$(LIB)/libfpunwind_core.a: $(FPU_CORE_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB)/libfpunwind.a: $(FPU_ALL_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB)/libfpunwind.so: $(FPU_ALL_O)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libfpunwind.so.0 $(LDFLAGS) -o $@ $^ $(if $(FPU_DWARF),$(DWARF_LIBS))

# ---- fprt runtime: release and checked ------------------------------------
RT_ARCH = amd64
include mk/runtime.mk

RT_LIBS = $(if $(RT_SRC_C),$(LIB)/libfprt.a $(LIB)/libfprt-checked.a)
RT_LINK = $(LIB)/libfprt-checked.a $(LIB)/libfpunwind_core.a

# ---- scenario programs (tests/progs/NAME.c -> build/progs/NAME) ------------
PROG_SRC = $(wildcard tests/progs/*.c)
PROGS    = $(PROG_SRC:tests/progs/%.c=$(BUILD)/progs/%)

$(BUILD)/progs/%: tests/progs/%.c $(RT_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -rdynamic $< -o $@ $(RT_LINK) $(LDFLAGS)
-include $(wildcard $(BUILD)/progs/*.d)

# ---- tests: one Criterion binary per directory ------------------------------
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_O   = $(UNIT_SRC:%.c=$(OBJ)/tests/%.o)
RTT_SRC  = $(wildcard tests/runtime/*.c)
RTT_O    = $(RTT_SRC:%.c=$(OBJ)/tests/%.o)
TEST_BINS = $(BUILD)/tests/unit $(if $(RTT_SRC),$(BUILD)/tests/runtime)

# One rule per test directory: a catch-all would also match tests/tools, and
# make prefers it there whenever the generated protobuf source is not built yet.
$(OBJ)/tests/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@
$(OBJ)/tests/tests/runtime/%.o: tests/runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@

# The wall sampler's and the ring's tests drive the runtime's own (prof.h).
$(OBJ)/tests/tests/runtime/test_prof_wall.o: INC += -Iruntime/src
$(OBJ)/tests/tests/runtime/test_prof_ring.o: INC += -Iruntime/src

# Test code that must run without frame pointers, to prove fp-skips is caught.
$(OBJ)/tests/tests/unit/nofp_%.o: CFLAGS += -fomit-frame-pointer

# -rdynamic: the tests resolve their own pcs with dladdr.
$(BUILD)/tests/unit: $(UNIT_O) $(LIB)/libfpunwind.a
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(UNIT_O) $(LIB)/libfpunwind.a -lcriterion -ldl $(if $(FPU_DWARF),$(DWARF_LIBS)) $(LDFLAGS)

$(BUILD)/tests/runtime: $(RTT_O) $(RT_LINK)
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(RTT_O) $(RT_LINK) -lcriterion -ldl $(LDFLAGS)

# ---- the instruction sweep (tests/sweep/*.c -> build/sweep/sweep) ----------
# Not under build/tests/: run-tests.sh runs everything there as Criterion.
# tests/integration/sweep.sh runs it.  -rdynamic: it sizes the routines with
# dladdr1.
SWEEP_SRC = $(wildcard tests/sweep/*.c)
SWEEP_O   = $(SWEEP_SRC:%.c=$(OBJ)/tests/%.o)
SWEEP_BIN = $(if $(SWEEP_SRC),$(BUILD)/sweep/sweep)

$(OBJ)/tests/tests/sweep/%.o: tests/sweep/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -Iruntime/src -c $< -o $@

$(BUILD)/sweep/sweep: $(SWEEP_O) $(LIB)/libfprt-checked.a $(LIB)/libfpunwind.a
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(SWEEP_O) $(LIB)/libfprt-checked.a $(LIB)/libfpunwind.a $(DWARF_LIBS) -ldl $(LDFLAGS)

# ---- benchmarks (bench/NAME.c -> build/bench/NAME) -------------------------
BENCH_SRC = $(wildcard bench/*.c)
BENCHES   = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# Benchmarks link the release runtime: the figures are what users get, not
# what the injection hooks of the checked flavour cost.
# libfpunwind_core.a too: it comes first on the link line, and a benchmark
# linked before it was rebuilt timed the old walker.
$(BUILD)/bench/%: bench/%.c $(LIB)/libfpunwind.a $(RT_LIBS) $(if $(RT_SRC_C),$(LIB)/libfpunwind_core.a)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -rdynamic $< -o $@ $(if $(RT_SRC_C),$(LIB)/libfprt.a $(LIB)/libfpunwind_core.a) $(LIB)/libfpunwind.a $(DWARF_LIBS) -ldl $(LDFLAGS)

# A benchmark too big for one file: bench/NAME/*.c (with a main.c) -> build/bench/NAME.
BENCH_DIRS = $(patsubst bench/%/main.c,%,$(wildcard bench/*/main.c))
BENCHES   += $(BENCH_DIRS:%=$(BUILD)/bench/%)
.SECONDEXPANSION:
$(BENCH_DIRS:%=$(BUILD)/bench/%): $$(wildcard bench/$$(@F)/*.c bench/$$(@F)/*.h) $(LIB)/libfpunwind.a $(RT_LIBS) $(if $(RT_SRC_C),$(LIB)/libfpunwind_core.a)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -rdynamic $(filter %.c,$^) -o $@ $(if $(RT_SRC_C),$(LIB)/libfprt.a $(LIB)/libfpunwind_core.a) $(LIB)/libfpunwind.a $(DWARF_LIBS) -ldl $(LDFLAGS)

# ---- perf-integration (perf-integration/src/*.c -> libfptperf.a) -----------
# Everything perf: the record layouts, the live perf_event_open sampler and its
# rings, the perf.data reader, the perf map reader, the program launcher.  It
# uses libfpunwind's core only; the tools use it.
PERF_SRC = $(wildcard perf-integration/src/*.c)
PERF_O   = $(PERF_SRC:%.c=$(OBJ)/perf/%.o)
PERF_INC = $(INC) -Iperf-integration/include

$(OBJ)/perf/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PERF_INC) -c $< -o $@

$(LIB)/libfptperf.a: $(PERF_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# ---- fptrace CLI (tools/fptrace/*.c -> build/bin/fptrace) -------------------
# main.c holds only main(); everything else is also linked into the tools tests.
# .proto files are compiled with protoc-c into $(BUILD)/gen.
GEN        = $(BUILD)/gen
TOOL_PROTO = $(wildcard tools/fptrace/*.proto)
TOOL_PB_C  = $(TOOL_PROTO:tools/fptrace/%.proto=$(GEN)/%.pb-c.c)
TOOL_SRC   = $(filter-out tools/fptrace/main.c,$(wildcard tools/fptrace/*.c))
TOOL_O     = $(TOOL_SRC:%.c=$(OBJ)/tools/%.o) $(TOOL_PB_C:$(GEN)/%.c=$(OBJ)/gen/%.o)
TOOL_INC   = $(PERF_INC) -Itools/fptrace -I$(GEN)
TOOL_LIBS  = $(LIB)/libfptperf.a $(LIB)/libfpunwind.a $(DWARF_LIBS) -lprotobuf-c -lz -ldl -lcapstone
TOOL_BIN   = $(if $(wildcard tools/fptrace/main.c),$(BUILD)/bin/fptrace)

# Generated sources are kept (make would delete them as intermediates).
.PRECIOUS: $(GEN)/%.pb-c.c $(GEN)/%.pb-c.h
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: tools/fptrace/%.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=tools/fptrace $<

$(OBJ)/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wextra,$(CFLAGS)) $(TOOL_INC) -c $< -o $@

$(OBJ)/tools/%.o: %.c $(TOOL_PB_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TOOL_INC) -c $< -o $@

$(OBJ)/tools/tools/fptrace/help.o: CFLAGS += -DFPTRACE_VERSION='"$(VERSION)"'

$(BUILD)/bin/fptrace: $(OBJ)/tools/tools/fptrace/main.o $(TOOL_O) $(LIB)/libfptperf.a $(LIB)/libfpunwind.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(OBJ)/tools/tools/fptrace/main.o $(TOOL_O) $(TOOL_LIBS) $(LDFLAGS)

TOOLT_SRC = $(wildcard tests/tools/*.c)
TOOLT_O   = $(TOOLT_SRC:%.c=$(OBJ)/tests/%.o)
TEST_BINS += $(if $(TOOLT_SRC),$(BUILD)/tests/tools)

$(OBJ)/tests/tests/tools/%.o: tests/tools/%.c $(TOOL_PB_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TOOL_INC) -c $< -o $@

$(BUILD)/tests/tools: $(TOOLT_O) $(TOOL_O) $(LIB)/libfptperf.a $(LIB)/libfpunwind.a
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(TOOLT_O) $(TOOL_O) -lcriterion $(TOOL_LIBS) $(LDFLAGS)

# ---- fuzzing ----------------------------------------------------------------
# libFuzzer targets fuzz/fuzz_*.c -> $(BUILD)/fuzz/fuzz_*, built with clang and
# ASan + UBSan from the library sources, into archives of their own (never
# the gcc-built ones), so SAN and CC do not matter here.
#   make fuzz [FUZZ_SECONDS=60]  build, then run each target that long over its
#                                seed corpus fuzz/corpus/<target>/ (read-only:
#                                new inputs go to $(BUILD)/fuzz/corpus/<target>/,
#                                crashes to $(BUILD)/fuzz/artifacts/)
#   make fuzz-build              only build (tests/integration/fuzz_smoke.sh)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -pthread \
                $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC      = $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
# The libraries built the fuzzers' way, as archives: a target links what it
# calls and nothing else, with no list of source files to keep up to date.
#   libfpunwind.a  the core and the DWARF half (the comparator, the FDE reader)
#   libfptperf.a   perf-integration (the perf.data reader)
#   libfpttools.a  fptrace's objects but main (the audit's ELF reader, verdicts)
FUZZ_FPU_LIB   = $(BUILD)/fuzz/lib/libfpunwind.a
FUZZ_PERF_LIB  = $(BUILD)/fuzz/lib/libfptperf.a
FUZZ_TOOLS_LIB = $(BUILD)/fuzz/lib/libfpttools.a
$(FUZZ_FPU_LIB): $(FPU_ALL:%.c=$(BUILD)/fuzz/obj/%.o)
$(FUZZ_PERF_LIB): $(PERF_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
$(FUZZ_TOOLS_LIB): $(TOOL_SRC:%.c=$(BUILD)/fuzz/obj/%.o) $(TOOL_PB_C:$(GEN)/%.c=$(BUILD)/fuzz/obj/gen/%.o)
$(FUZZ_FPU_LIB) $(FUZZ_PERF_LIB) $(FUZZ_TOOLS_LIB):
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
FUZZ_ARCHIVES_fuzz_perfdata  = $(FUZZ_PERF_LIB)
FUZZ_ARCHIVES_fuzz_audit_elf = $(FUZZ_TOOLS_LIB)
FUZZ_LIBS_fuzz_audit_elf     = $(DWARF_LIBS) -lcapstone

$(BUILD)/fuzz/obj/%.o: %.c $(TOOL_PB_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(TOOL_INC) -MMD -MP -c $< -o $@
$(BUILD)/fuzz/obj/tools/fptrace/help.o: FUZZ_CFLAGS += -DFPTRACE_VERSION='"$(VERSION)"'
$(BUILD)/fuzz/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -Wextra,$(FUZZ_CFLAGS)) -fsanitize=fuzzer-no-link $(TOOL_INC) -c $< -o $@

$(BUILD)/fuzz/fuzz_perfdata: $(FUZZ_ARCHIVES_fuzz_perfdata)
$(BUILD)/fuzz/fuzz_audit_elf: $(FUZZ_ARCHIVES_fuzz_audit_elf)
$(FUZZ_BINS): $(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz_in.h $(FUZZ_FPU_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(TOOL_INC) -Ifuzz $< \
		$(FUZZ_ARCHIVES_$*) $(FUZZ_FPU_LIB) $(FUZZ_LIBS_$*) -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@bash fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
# ---- end of fuzzing -----------------------------------------------------------

# ---- top-level targets ------------------------------------------------------
LIBS = $(LIB)/libfpunwind_core.a $(LIB)/libfpunwind.a $(LIB)/libfpunwind.so $(LIB)/libfptperf.a $(RT_LIBS)

.PHONY: all deps test test-san test-tsan progs demo bench soak install clean
all: $(LIBS) $(TOOL_BIN) $(PROGS) $(TEST_BINS) $(SWEEP_BIN) $(BENCHES)

deps:
	@bash scripts/deps.sh

# Tests never depend on timing; they run on a loaded 2-core machine.
test: deps
	@$(MAKE) --no-print-directory all
	@SAN=$(SAN) bash scripts/run-tests.sh $(BUILD)

# The Criterion suites again, built with ASan + UBSan in build-asan/ (CI runs
# this after make test; make SAN=address,undefined BUILD=... test runs the
# integration scripts under the sanitizers too).
test-san: deps
	@$(MAKE) --no-print-directory SAN=address,undefined BUILD=build-asan all
	@SAN=address,undefined FPT_SUITES=criterion bash scripts/run-tests.sh build-asan

# The runtime under ThreadSanitizer: the scenario programs built with
# SAN=thread in build-tsan/ and run as plain programs (Criterion cannot start
# under TSan), as is, with moving stacks and profiled (CI runs this last).
progs: $(PROGS)
test-tsan: deps
	@$(MAKE) --no-print-directory SAN=thread BUILD=build-tsan progs
	@bash scripts/tsan-scenarios.sh build-tsan

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh $(BUILD)

# Stress and soak: minutes, not part of make test (tests/integration/soak_short.sh is).
soak: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/soak.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/run-bench.sh $(BUILD)

# What make install puts under PREFIX, and make uninstall removes again.
# The .pc files name PREFIX, so they are written at install time, never cached.
INST_HEADERS = $(wildcard libfpunwind/include/*.h) $(wildcard runtime/include/*.h)
INST_LIBS    = $(LIB)/libfpunwind.a $(LIB)/libfpunwind_core.a $(if $(RT_SRC_C),$(LIB)/libfprt.a)
INST_PCS     = fpunwind.pc $(if $(RT_SRC_C),fprt.pc)
INST_MAN     = $(wildcard docs/fptrace.1)
DEST         = $(DESTDIR)$(PREFIX)

$(BUILD)/pc/fpunwind.pc: libfpunwind/fpunwind.pc.in FORCE
$(BUILD)/pc/fprt.pc: runtime/fprt.pc.in FORCE
$(BUILD)/pc/%.pc:
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: $(LIBS) $(TOOL_BIN) $(INST_PCS:%=$(BUILD)/pc/%)
	install -d $(DEST)/include $(DEST)/lib/pkgconfig
	install -m 644 $(INST_HEADERS) $(DEST)/include/
	install -m 644 $(INST_LIBS) $(DEST)/lib/
	install -m 755 $(LIB)/libfpunwind.so $(DEST)/lib/libfpunwind.so.0
	ln -sf libfpunwind.so.0 $(DEST)/lib/libfpunwind.so
	install -m 644 $(INST_PCS:%=$(BUILD)/pc/%) $(DEST)/lib/pkgconfig/
ifneq ($(TOOL_BIN),)
	install -d $(DEST)/bin
	install -m 755 $(TOOL_BIN) $(DEST)/bin/fptrace
endif
ifneq ($(INST_MAN),)
	install -d $(DEST)/share/man/man1
	install -m 644 $(INST_MAN) $(DEST)/share/man/man1/
endif

uninstall:
	rm -f $(addprefix $(DEST)/include/,$(notdir $(INST_HEADERS)))
	rm -f $(addprefix $(DEST)/lib/,$(notdir $(INST_LIBS)) libfpunwind.so.0 libfpunwind.so)
	rm -f $(addprefix $(DEST)/lib/pkgconfig/,$(INST_PCS))
	rm -f $(DEST)/bin/fptrace $(addprefix $(DEST)/share/man/man1/,$(notdir $(INST_MAN)))

.PHONY: uninstall FORCE
FORCE:

clean:
	rm -rf $(BUILD)

.PHONY: test-arm64
test-arm64:
	@$(MAKE) --no-print-directory ARCH=arm64 test

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
endif
