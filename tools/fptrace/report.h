/* report.h — `fptrace report` in text and JSON, and a JSON string helper. */
#ifndef FPT_REPORT_H
#define FPT_REPORT_H

#include <stdio.h>
#include "analyze.h"

/* Top functions by self samples, with totals, like `perf report --stdio`. */
void fpt_report_text(FILE *out, const struct fpt_analysis *a, unsigned top);
void fpt_report_json(FILE *out, const struct fpt_analysis *a, unsigned top);

/* s as a JSON string literal, quotes included. */
void fpt_json_string(FILE *out, const char *s);

#endif
