/*
 * prog_args.h — how every scenario program reads its arguments: a bad flag, a
 * missing or malformed value or a stray argument prints the program's usage
 * line and exits 2 (never reads a NULL optarg, never runs on a garbage value).
 */
#ifndef FPT_PROG_ARGS_H
#define FPT_PROG_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints "usage: USAGE" and the value that was wrong, if any; returns 2. */
static inline int prog_usage(const char *usage, const char *bad)
{
	if (bad)
		fprintf(stderr, "bad argument '%s'\n", bad);
	fprintf(stderr, "usage: %s\n", usage);
	return 2;
}

/* A whole decimal integer in [min, max]. */
static inline bool prog_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (!s || !*s)
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A number of seconds, >= 0 (fractions allowed). */
static inline bool prog_seconds(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return false;
	double v = strtod(s, &end);
	if (*end || !(v >= 0) || v > 1e6)
		return false;
	*out = v;
	return true;
}

#endif
