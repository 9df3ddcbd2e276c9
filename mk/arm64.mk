# arm64: cross-built with Debian's aarch64 toolchain into build-arm64/, run
# under qemu-user (make ARCH=arm64, make test-arm64).  Included by the Makefile
# instead of its amd64 rules when ARCH=arm64.
#
#   make ARCH=arm64        build libfpunwind's core, fprt (runtime/arch/arm64),
#                          the scenario programs, the unit and runtime suites
#   make ARCH=arm64 test   install missing packages, build, run them under qemu
#                          (scripts/run-tests-arm64.sh: tests/arm64/*.sh too)
#   make ARCH=arm64 bench  the unwinding benchmark under qemu (fp-raw,
#                          fp-checked, glibc-backtrace)

.DEFAULT_GOAL := all
BUILD    ?= build-arm64
CROSS    ?= aarch64-linux-gnu-
CC        = $(CROSS)gcc
AR        = $(CROSS)ar
# No -L /usr/aarch64-linux-gnu: under qemu-aarch64 7.2 a fork()ed child of a
# dynamically linked program hangs with -L.  libc6:arm64 (scripts/deps.sh)
# puts the arm64 loader at /lib/ld-linux-aarch64.so.1, where it needs no -L.
QEMU     ?= qemu-aarch64-static

WARN      = -Wall -Wextra -Werror
# -mno-omit-leaf-frame-pointer: GCC for aarch64 omits leaf functions' frame
# records even with -fno-omit-frame-pointer, so a sample in a leaf would skip
# its caller (x30 is in no record); x86-64 GCC keeps them.  The signal test's
# unwind_from_ucontext fails without it.
CFLAGS    = -std=c11 -D_GNU_SOURCE -g -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
            -pthread $(WARN) -MMD -MP
LDFLAGS   = -pthread
INC       = -Ilibfpunwind/include -Iruntime/include
OBJ       = $(BUILD)/obj
LIB       = $(BUILD)/lib

# ---- libfpunwind's core (no DWARF part: that links libdw/libunwind) --------
FPU_CORE   = $(wildcard libfpunwind/core/*.c)
FPU_CORE_O = $(FPU_CORE:%.c=$(OBJ)/pic/%.o)

$(OBJ)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(INC) -c $< -o $@

$(LIB)/libfpunwind_core.a: $(FPU_CORE_O)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# ---- fprt: release and checked (the amd64 rules, with runtime/arch/arm64) ---
ASFLAGS  = -g -MMD -MP
RT_ARCH  = arm64
include mk/runtime.mk

RT_LINK = $(LIB)/libfprt-checked.a $(LIB)/libfpunwind_core.a

# ---- scenario programs (tests/progs/NAME.c -> build-arm64/progs/NAME) ------
PROG_SRC = $(wildcard tests/progs/*.c)
PROGS    = $(PROG_SRC:tests/progs/%.c=$(BUILD)/progs/%)

$(BUILD)/progs/%: tests/progs/%.c $(RT_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -rdynamic $< -o $@ $(RT_LINK) $(LDFLAGS)

# ---- the unit suite: the walker (synthetic, guard, real and signal stacks),
# regions, transitions, graveyard, /proc maps.  The other unit tests need the
# DWARF backends or x86 assembly.
UNIT_ARM64 = test_walk_synthetic test_walk_guard test_walk_real test_walk_signal \
             test_regions test_maps test_record_crc test_record_roundtrip \
             test_record_hostile test_record_fixture test_record_machine
UNIT_O     = $(UNIT_ARM64:%=$(OBJ)/tests/tests/unit/%.o)

# Criterion's API through tests/arm64/shim (criterion.h says why Criterion
# itself cannot run under qemu-user): the same test sources as on amd64.
SHIM     = tests/arm64/shim
SHIM_O   = $(OBJ)/tests/$(SHIM)/shim_runner.o

$(OBJ)/tests/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -I$(SHIM) -c $< -o $@

$(BUILD)/tests/unit: $(UNIT_O) $(SHIM_O) $(LIB)/libfpunwind_core.a
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(UNIT_O) $(SHIM_O) $(LIB)/libfpunwind_core.a -ldl $(LDFLAGS)

# ---- the runtime suite, every test of tests/runtime (run-tests-arm64.sh says
# which ones qemu-user cannot run, and why).
RTT_SRC = $(wildcard tests/runtime/*.c)
RTT_O   = $(RTT_SRC:%.c=$(OBJ)/tests/%.o)
$(OBJ)/tests/tests/runtime/test_prof_wall.o: INC += -Iruntime/src
$(OBJ)/tests/tests/runtime/test_prof_ring.o: INC += -Iruntime/src

$(BUILD)/tests/runtime: $(RTT_O) $(SHIM_O) $(RT_LINK)
	@mkdir -p $(dir $@)
	$(CC) -rdynamic -o $@ $(RTT_O) $(SHIM_O) $(RT_LINK) -ldl $(LDFLAGS)

# ---- tests/arm64/leaf_shapes.sh's sample writer: samples stopped in each
# aarch64 leaf shape of shapes.S, for the host's comparator.
LEAF_SHAPES = $(BUILD)/arm64/leaf_shapes
$(LEAF_SHAPES): tests/arm64/leaf_shapes/shapes.c tests/arm64/leaf_shapes/shapes.S $(LIB)/libfpunwind_core.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) $(filter %.c %.S,$^) -o $@ $(LIB)/libfpunwind_core.a $(LDFLAGS)

# ---- fptrace (build-arm64/bin/fptrace): libfpunwind's DWARF half,
# perf-integration and tools/fptrace, as on amd64.  Headers come from the
# arm64 -dev packages unpacked into $(SYSROOT) (scripts/deps.sh SYSROOT: never
# installed, an arm64 -dev package in dpkg removes its amd64 twin); libraries
# are the installed arm64 runtime packages (Multi-Arch: same), linked by
# soname because their .so link names come only with those -dev packages.
SYSROOT     = $(BUILD)/sysroot
SYSROOT_OK  = $(SYSROOT)/.complete
ARM64_LIBS  = /usr/lib/aarch64-linux-gnu
DWARF_LIBS  = -l:libdw.so.1 -l:libelf.so.1 -l:libunwind-aarch64.so.8 -l:libunwind.so.8 -l:libz.so.1
FPT_INC     = $(INC) -Iperf-integration/include -Itools/fptrace -I$(GEN) \
              -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/aarch64-linux-gnu
FPT_LDFLAGS = -L$(ARM64_LIBS) -Wl,-rpath-link,$(ARM64_LIBS) $(LDFLAGS)

$(SYSROOT_OK): scripts/deps.sh
	@bash scripts/deps.sh $(SYSROOT)

FPU_DWARF   = $(wildcard libfpunwind/dwarf/*.c)
FPU_DWARF_O = $(FPU_DWARF:%.c=$(OBJ)/fpt/%.o)
PERF_SRC    = $(wildcard perf-integration/src/*.c)
PERF_O      = $(PERF_SRC:%.c=$(OBJ)/fpt/%.o)
# protoc-c's output is the same C on every machine: the host's compiler writes it.
GEN         = $(BUILD)/gen
TOOL_PROTO  = $(wildcard tools/fptrace/*.proto)
TOOL_PB_C   = $(TOOL_PROTO:tools/fptrace/%.proto=$(GEN)/%.pb-c.c)
TOOL_SRC    = $(wildcard tools/fptrace/*.c)
TOOL_O      = $(TOOL_SRC:%.c=$(OBJ)/fpt/%.o) $(TOOL_PB_C:$(GEN)/%.c=$(OBJ)/gen/%.o)
FPTRACE     = $(BUILD)/bin/fptrace

.PRECIOUS: $(GEN)/%.pb-c.c $(GEN)/%.pb-c.h
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: tools/fptrace/%.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) --proto_path=tools/fptrace $<

$(OBJ)/fpt/%.o: %.c $(TOOL_PB_C) | $(SYSROOT_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FPT_INC) -c $< -o $@
$(OBJ)/fpt/tools/fptrace/help.o: CFLAGS += -DFPTRACE_VERSION='"$(VERSION)"'

$(OBJ)/gen/%.o: $(GEN)/%.c | $(SYSROOT_OK)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wextra,$(CFLAGS)) $(FPT_INC) -c $< -o $@

$(FPTRACE): $(TOOL_O) $(PERF_O) $(FPU_DWARF_O) $(LIB)/libfpunwind_core.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(TOOL_O) $(PERF_O) $(FPU_DWARF_O) $(LIB)/libfpunwind_core.a $(FPT_LDFLAGS) \
		$(DWARF_LIBS) -l:libprotobuf-c.so.1 -l:libcapstone.so.4 -ldl

# ---- the unwinding benchmark (make bench ARCH=arm64), under qemu-user.  Without
# its libunwind and libdw columns (BENCH_NO_DWARF): their headers are in
# $(SYSROOT) now, but the benchmark captures the registers libdw starts from
# with x86-64 assembly (fpb_capture_regs).  Emulated figures: only the ratios
# between the columns mean something.
$(BUILD)/bench/unwind: bench/unwind.c $(LIB)/libfpunwind_core.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DBENCH_NO_DWARF $(INC) -rdynamic $< -o $@ $(LIB)/libfpunwind_core.a -ldl $(LDFLAGS)

bench: deps $(BUILD)/bench/unwind
	@echo "=== unwind (arm64, qemu-user: compare the ratios, not the ns)"
	@$(QEMU) $(BUILD)/bench/unwind

.PHONY: all deps test bench clean
all: $(LIB)/libfpunwind_core.a $(BUILD)/tests/unit $(LIB)/libfprt.a $(LIB)/libfprt-checked.a $(BUILD)/bench/unwind $(LEAF_SHAPES) \
     $(PROGS) $(BUILD)/tests/runtime $(FPTRACE)

deps:
	@bash scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory ARCH=arm64 all
	@QEMU="$(QEMU)" bash scripts/run-tests-arm64.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
