/*
 * env.c — FPRT_DEBUG options and the injectable regressions (FPRT_INJECT).
 *
 * The regressions are the seeds of DESIGN.md: each re-introduces a Go runtime
 * bug on request, so that the checker can be proven to catch it.  They exist
 * only in the checked runtime (libfprt-checked.a, -DFPRT_CHECKED); the release
 * runtime refuses FPRT_INJECT instead of silently ignoring it, so a test can
 * never pass because it linked the wrong library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

struct rt_debug rt_debug;
uint8_t rt_debug_stackforcemove;
#ifdef FPRT_CHECKED
uint8_t rt_inject_mcall_bp_leak;
struct rt_inject rt_inject;
#endif

struct rt_opt {
	const char *name;
	bool *flag;
	uint8_t *asmflag;      /* mirror for the assembly, or NULL */
};

#ifdef FPRT_CHECKED
static bool inject_mcall_bp_leak;
/* Known regressions: one line per seed as later issues add them. */
static const struct rt_opt injections[] = {
	{ "mcall-bp-leak", &inject_mcall_bp_leak, &rt_inject_mcall_bp_leak }, /* seed 003 */
	{ "syscallbp-untracked", &rt_inject.syscallbp_untracked, NULL },      /* seed 000 */
	{ "syscallbp-nocheck", &rt_inject.syscallbp_nocheck, NULL },          /* seed 000 */
	{ "syscallsp-untracked", &rt_inject.syscallsp_untracked, NULL },      /* seeds 000, 002 */
	{ "g0-bounds-fastpath", &rt_inject.g0_bounds_fastpath, NULL },        /* seed 001 */
	{ "syscallsp-reentry", &rt_inject.syscallsp_reentry, NULL },          /* seed 002 */
	{ "g0-bounds-static", &rt_inject.g0_bounds_static, NULL },            /* seed 004 */
};
#define NINJECT (sizeof injections / sizeof injections[0])
#endif

static const struct rt_opt debugopts[] = {
	{ "stackforcemove", &rt_debug.stackforcemove, &rt_debug_stackforcemove },
	{ "stackfaultonfree", &rt_debug.stackfaultonfree, NULL },
	{ "stackpoison", &rt_debug.stackpoison, NULL },
	{ "stackscanreport", &rt_debug.stackscanreport, NULL },
};

static void known_list(char *buf, size_t len, const struct rt_opt *o, size_t n)
{
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s%s", i ? ", " : "", o[i].name);
	}
}

/* Parses "a,b,c" against opts; an unknown name is fatal, naming the known ones. */
static void parse_list(const char *var, const char *val, const struct rt_opt *opts,
		       size_t n, const char *what)
{
	char name[64];
	while (*val) {
		size_t len = strcspn(val, ",");
		if (len > 0) {
			snprintf(name, sizeof name, "%.*s", (int)len, val);
			size_t i;
			for (i = 0; i < n && strcmp(opts[i].name, name) != 0; i++)
				;
			if (i == n) {
				char known[512];
				known_list(known, sizeof known, opts, n);
				rt_fatal("%s: unknown %s \"%s\" (known: %s)", var, what, name, known);
			}
			*opts[i].flag = true;
			if (opts[i].asmflag)
				*opts[i].asmflag = 1;
		}
		val += len;
		if (*val == ',')
			val++;
	}
}

int rt_env_int(const char *name, int def)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	long v = strtol(s, &end, 0);
	if (*end || v <= 0 || v > (1L << 30))
		rt_fatal("%s=\"%s\": not a positive integer", name, s);
	return (int)v;
}

void rt_env_init(void)
{
	const char *d = getenv("FPRT_DEBUG");
	if (d)
		parse_list("FPRT_DEBUG", d, debugopts,
			   sizeof debugopts / sizeof debugopts[0], "option");
	const char *inj = getenv("FPRT_INJECT");
	if (inj && *inj) {
#ifdef FPRT_CHECKED
		parse_list("FPRT_INJECT", inj, injections, NINJECT, "regression");
#else
		rt_fatal("FPRT_INJECT=\"%s\": this is the release runtime (libfprt.a), which "
			 "has no injectable regressions; link libfprt-checked.a", inj);
#endif
	}
}

bool rt_checked_build(void)
{
#ifdef FPRT_CHECKED
	return true;
#else
	return false;
#endif
}

bool rt_injected(const char *name)
{
#ifdef FPRT_CHECKED
	for (size_t i = 0; i < NINJECT; i++)
		if (strcmp(injections[i].name, name) == 0)
			return *injections[i].flag;
#else
	(void)name;
#endif
	return false;
}
