/* check.h — the frame-pointer verdict: class tables, defect sites, exit status. */
#ifndef FPT_CHECK_H
#define FPT_CHECK_H

#include <stdio.h>
#include "analyze.h"

struct fpt_check_opts {
	uint64_t max_defects;   /* malignant samples allowed before exit 3 */
	int strict;             /* count defects in system libraries too */
	int json;
	unsigned top;           /* sites listed per section (text) */
	int all_sites;          /* list the sites of modules built without frame
				   pointers too, not one line per module */
};

/* The exit status of a check that could not judge, and of one that found
 * more defects than allowed. */
enum { FPT_CHECK_EXIT_ERROR = 1, FPT_CHECK_EXIT_DEFECTS = 3 };

/*
 * A clean verdict needs DWARF's second opinion on at least this share of the
 * samples: a sample DWARF could not unwind was not checked at all, and "no
 * defects" in the few that were says nothing of the rest.  Defects found in
 * the few still fail the check.
 */
enum { FPT_CHECK_MIN_UNWOUND_PERCENT = 50 };

/* Fewer samples than this: the verdict says how few it rests on. */
enum { FPT_CHECK_FEW_SAMPLES = 100 };

/* Sites of the code under test shown with their FP and DWARF chains. */
enum { FPT_CHECK_CHAINS = 3 };

/*
 * dwarf-fail in the code under test is a defect above this share of the
 * samples: in fprt (and in any program whose CFI is meant to be right) a
 * sample DWARF cannot unwind through its own module is broken CFI, the very
 * thing the cross-check relies on.  Below it, a stray sample (a signal frame,
 * a read past a short snapshot) is noise.  System libraries never count.
 */
#define FPT_DWARF_FAIL_MAX_PERMILLE 10

/*
 * dwarf-fail samples whose frame is in a named module outside the system
 * library directories and whose failure a short stack snapshot does not
 * explain; *worst gets the site with the most (or NULL).
 */
uint64_t fpt_check_dwarf_fail(const struct fpt_analysis *a, const struct fpt_site **worst);

/* Malignant samples that count against the code under test (see DESIGN.md). */
uint64_t fpt_check_defects(const struct fpt_analysis *a, const struct fpt_check_opts *o);

/*
 * Can these samples be checked at all?  0, or -1 with a one-line reason when
 * most of them carry no stack copy (perf record --call-graph fp): DWARF has
 * nothing to unwind, and every verdict would be made up.
 */
int fpt_check_has_stacks(const struct fpt_analysis *a, const char *path, char *reason,
			 size_t len);

/* The exit status (0, FPT_CHECK_EXIT_ERROR when too few samples could be
 * unwound to call them clean, or FPT_CHECK_EXIT_DEFECTS) and a one-line
 * reason for it. */
int fpt_check_verdict(const struct fpt_analysis *a, const struct fpt_check_opts *o,
		      char *reason, size_t len);

/* A check that could not judge (exit status 1), as --format json says it. */
void fpt_check_print_error_json(FILE *out, int status, const char *reason);

/* Print the verdict; returns the exit status: 0 clean, 1 cannot judge, 3 defects. */
int fpt_check_print(FILE *out, const struct fpt_analysis *a, const struct fpt_check_opts *o);

#endif
