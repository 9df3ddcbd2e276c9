/* check.h — the frame-pointer verdict: class tables, defect sites, exit status. */
#ifndef FPT_CHECK_H
#define FPT_CHECK_H

#include <stdio.h>
#include "analyze.h"

struct fpt_check_opts {
	uint64_t max_defects;   /* malignant samples allowed before exit 3 */
	int strict;             /* count defects in system libraries too */
	int json;
	unsigned top;           /* sites shown per class */
};

/* Malignant samples that count against the code under test (see DESIGN.md). */
uint64_t fpt_check_defects(const struct fpt_analysis *a, const struct fpt_check_opts *o);

/* Print the verdict; returns the exit status: 0 clean, 3 defects. */
int fpt_check_print(FILE *out, const struct fpt_analysis *a, const struct fpt_check_opts *o);

#endif
