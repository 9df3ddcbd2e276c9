/*
 * fuzz_compare.c — libFuzzer target for fpu_compare (fpu_dwarf.h).
 *
 * Random FP and DWARF chains (exactly sized heap arrays, so ASan sees any read
 * past either), drawn mostly from a small alphabet of pcs so the chains share
 * frames, skip some and diverge; random FP end reasons and DWARF end states.
 * Invariants of the verdict: class in range, indexes within the chains,
 * culprit_pc one of the input pcs (or 0), missing_pc one of the DWARF pcs (or
 * 0), a match blames nothing, and equal chains that ended cleanly match.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpu_dwarf.h"
#include "fuzz_in.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "fuzz_compare: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                                \
			abort();                                              \
		}                                                             \
	} while (0)

#define MAX_CHAIN 64

static uint64_t pick(struct fin *in)
{
	uint8_t t = fin_u8(in);
	if (t < 224)
		return 0x401000 + 0x10 * (uint64_t)(t % 12);   /* shared alphabet */
	if (t < 240)
		return 0;
	return fin_u64(in);
}

static int in_chain(const uint64_t *c, size_t n, uint64_t pc)
{
	for (size_t i = 0; i < n; i++)
		if (c[i] == pc)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t shape = fin_u8(&in);
	size_t nf = fin_below(&in, MAX_CHAIN + 1);
	size_t nd = fin_below(&in, MAX_CHAIN + 1);
	uint64_t *f = malloc(nf ? nf * 8 : 1);
	uint64_t *d = malloc(nd ? nd * 8 : 1);
	struct fpu_sample s;
	struct fpu_dwarf_result dres;
	struct fpu_verdict v;

	if (!f || !d)
		abort();
	for (size_t i = 0; i < nf; i++)
		f[i] = pick(&in);
	if (shape & 1) {
		/* DWARF = FP with edits: frames dropped, inserted, replaced. */
		size_t j = 0;
		for (size_t i = 0; i < nf && j < nd; i++) {
			uint8_t e = fin_u8(&in);
			if ((e & 7) == 0 && j + 1 < nd)
				d[j++] = pick(&in);          /* a frame FP lacks */
			if ((e & 7) == 1)
				continue;                    /* a frame DWARF lacks */
			d[j++] = (e & 7) == 2 ? pick(&in) : f[i];
		}
		for (; j < nd; j++)
			d[j] = pick(&in);
	} else {
		for (size_t j = 0; j < nd; j++)
			d[j] = pick(&in);
	}

	memset(&s, 0, sizeof s);
	s.kind = FPU_SAMPLE_CPU;
	s.nfp = (uint32_t)nf;
	s.fp_pcs = f;
	s.fp_end = fin_below(&in, FPU_END_COUNT);
	s.fp_end_pc = nf ? f[nf - 1] : 0;
	memset(&dres, 0, sizeof dres);
	dres.end = (enum fpu_dwarf_end)fin_below(&in, 3);
	dres.frames = (uint32_t)nd;
	dres.read_outside_snapshot = fin_u8(&in) & 1;
	/* What the DWARF side adds: the leaf's frame shape, where its steps
	 * stopped being independent, where the start-up frames begin. */
	dres.leaf_frame = fin_below(&in, FPU_LEAF_FRAME_NO_RECORD + 1);
	dres.unverified_from = (uint32_t)fin_below(&in, nd + 1);
	dres.root_from = (uint32_t)fin_below(&in, nd + 1);

	memset(&v, 0x5a, sizeof v);
	fpu_compare(&s, d, nd, &dres, &v);

	CHECK((unsigned)v.cls < FPU_CLASS_COUNT);
	CHECK(v.fp_index <= nf);
	CHECK(v.dwarf_index <= nd);
	CHECK(v.culprit_pc == 0 || in_chain(f, nf, v.culprit_pc) || in_chain(d, nd, v.culprit_pc));
	CHECK(v.missing_pc == 0 || in_chain(d, nd, v.missing_pc));
	CHECK(v.culprit_is_return == 0 || v.culprit_is_return == 1);
	if (v.cls == FPU_CLASS_MATCH)
		CHECK(v.culprit_pc == 0 && v.missing_pc == 0 && v.culprit_is_return == 0);
	if (v.cls == FPU_CLASS_FP_SKIPS || v.cls == FPU_CLASS_LEAF_WINDOW)
		CHECK(v.missing_pc == 0 || in_chain(d, nd, v.missing_pc));
	if (s.fp_end == FPU_END_STALE)
		CHECK(v.cls == FPU_CLASS_FP_STALE);
	else if (nd == 0)
		CHECK(v.cls == FPU_CLASS_DWARF_FAIL);
	/* Identical chains that both ended cleanly are a match. */
	if (nf == nd && nf > 0 && !memcmp(f, d, nf * 8) && s.fp_end == FPU_END_CLEAN &&
	    dres.end == FPU_DWARF_END_CLEAN)
		CHECK(v.cls == (dres.unverified_from && dres.unverified_from < nd
					? FPU_CLASS_UNVERIFIED : FPU_CLASS_MATCH));
	/* Classes the comparator never gives for a chain... */
	(void)fpu_class_name(v.cls);
	CHECK(fpu_class_is_malignant(v.cls) ==
	      (v.cls != FPU_CLASS_MATCH && v.cls != FPU_CLASS_LEAF_WINDOW &&
	       v.cls != FPU_CLASS_DWARF_FAIL && v.cls != FPU_CLASS_UNVERIFIED &&
	       v.cls != FPU_CLASS_ROOT_WINDOW));

	free(f);
	free(d);
	return 0;
}
