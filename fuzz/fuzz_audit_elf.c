/*
 * fuzz_audit_elf.c — libFuzzer target for fptrace audit's ELF/CFI reader
 * (tools/fptrace/audit_elf.c, audit_funcs.c) and the verdict on each
 * function (audit_verdict.c): random bytes (seeded with small real objects
 * and truncated ones) into fpt_elf_open_mem, its DWARF and CFI, the function
 * list from the symbol tables and the FDEs, and a verdict for each.
 *
 * Checks besides "no crash, no sanitizer report": a refused input has a
 * one-line reason; the functions come sorted by address, each named; the
 * bytes fpt_elf_bytes hands out lie inside the input and are read; every
 * verdict is in range and has evidence.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_audit_elf: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

/* Bounded work per input: a fuzzer wants many short runs. */
#define MAX_FUNCS 256

static volatile uint64_t g_sink;
static struct fpt_decoder_cs *g_dec;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	struct fpt_elf o;
	struct fpt_arena arena = { 0 };

	if (!g_dec) {
		g_dec = fpt_audit_decoder_new(err, sizeof err);
		CHECK(g_dec != NULL);
	}
	/* libelf may write into its image: give it a copy of exactly size bytes. */
	uint8_t *copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (fpt_elf_open_mem(&o, copy, size, err, sizeof err) != 0) {
		CHECK(err[0] != 0 && strchr(err, '\n') == NULL);
		free(copy);
		return 0;
	}
	fpt_elf_load_debug(&o, 0, 1);
	struct fpt_elf_func *funcs = NULL;
	size_t n = 0;
	if (fpt_elf_functions(&o, &arena, &funcs, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			CHECK(funcs[i].name != NULL);
			CHECK(i == 0 || funcs[i - 1].lo <= funcs[i].lo);
		}
		for (size_t i = 0; i < n && i < MAX_FUNCS; i++) {
			size_t len = funcs[i].hi > funcs[i].lo ? (size_t)(funcs[i].hi - funcs[i].lo) : 0;
			if (len > 4096)
				len = 4096;
			const uint8_t *b = fpt_elf_bytes(&o, funcs[i].lo, &len);
			if (b) {
				CHECK(b >= copy && b + len <= copy + size);
				for (size_t k = 0; k < len; k++)
					g_sink += b[k];
			}
			struct fpt_audit_func f = { .lo = funcs[i].lo, .name = funcs[i].name,
						    .hi = funcs[i].lo + len };
			fpt_audit_judge(g_dec, &o, &f, funcs, n);
			CHECK(f.verdict < FPT_VERDICT_COUNT);
			CHECK(f.evidence[0] != 0);
			const char *p = fpt_elf_producer_hint(&o, f.lo);
			g_sink += p ? (uint8_t)p[0] : 0;
		}
	}
	fpt_elf_close(&o);
	fpt_arena_free(&arena);
	free(copy);
	return 0;
}
