/*
 * nofp_modules.h — modules built without frame pointers, as one line each.
 *
 * A module compiled without frame pointers (Debian's python3.11 and libc are)
 * breaks the chain in every function of it that calls: a check of a Python
 * run blames hundreds of its functions, one site each, and the defects of the
 * code a user can fix drown in them.  Such a module is summarized in one line
 * ("python3.11: built without frame pointers ...") and its sites are listed
 * only on request (check --all-sites).
 *
 * "Built without frame pointers" is decided from the module's code, not from
 * how many of its samples break: a seed bug can break most samples of a
 * module built with frame pointers (mcall keeping BP breaks every stack
 * through rt_mcall), and that must stay a listed site.  The audit's verdicts
 * (audit_verdict.c, Capstone) decide: most of the module's functions that
 * make calls keep no frame record (no-frame) or use rbp as a general
 * register (clobbers-rbp).  A Go binary is never judged so: the audit's rules
 * (push rbp; mov rbp,rsp, an rbp-based CFA at each call) do not describe
 * Go's frame records, so its sites stay listed.
 */
#ifndef FPT_NOFP_MODULES_H
#define FPT_NOFP_MODULES_H

#include <stdint.h>
#include <stdio.h>

#include "analyze.h"

struct fpt_nofp_module {
	const char *path;         /* as the profile's frames name the module */
	int system;               /* a system library (its sites are reported apart) */
	uint64_t sites, samples;  /* malignant sites blamed on it, and their samples */
	uint64_t calling;         /* audited functions that make calls */
	uint64_t breaking;        /* of them, no-frame or clobbers-rbp */
};

struct fpt_nofp {
	struct fpt_nofp_module *v;   /* only the modules built without frame pointers */
	size_t n;
};

/*
 * The modules that two or more malignant sites of the judging backend blame,
 * audited once each; those built without frame pointers go into out.  A module that
 * cannot be audited (gone, not x86-64 ELF, [vdso], a JIT map) keeps its sites
 * listed.  Returns 0, or -1 when out of memory (out is then empty).
 */
int fpt_nofp_find(const struct fpt_analysis *a, struct fpt_nofp *out);

/* The entry of module (a frame's module path), or NULL. */
const struct fpt_nofp_module *fpt_nofp_lookup(const struct fpt_nofp *n, const char *module);

/*
 * One line, prefix first: "python3.11: built without frame pointers (7890 of
 * 7892 functions that call keep no frame record), 34 sites, 48 samples (96.0%
 * of all)".  Its sites are defects, so it names "sites" and "samples" as
 * check does; "of all" is of every sample analysed.  total is the number of samples analysed.
 */
void fpt_nofp_print(FILE *out, const char *prefix, const struct fpt_nofp_module *m,
		    uint64_t total);

void fpt_nofp_free(struct fpt_nofp *n);

#endif
