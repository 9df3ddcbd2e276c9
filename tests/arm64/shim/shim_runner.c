/*
 * shim_runner.c — runs the tests registered through criterion.h (the arm64
 * shim: see there why) one by one, each in its own fork()ed child with the
 * suite's and the test's init/fini, and prints Criterion's synthesis line and
 * "N passed, N failed".  Exit 0 only if every test passed.
 *
 * Timeouts are hang guards, not measurements: a test's own .timeout is scaled
 * by SHIM_TIMEOUT_SCALE (default 20: qemu-user runs arm64 code 10 to 50 times
 * slower than the host, and the machine may be loaded); a test without one gets
 * SHIM_TIMEOUT_DEFAULT seconds (600).
 *
 * A skipped test (cr_skip_test) counts as failed when CI=true, as the
 * project's runners count skips in CI.
 *
 * Arguments: --filter SUITE/NAME (either may be *), other Criterion options
 * (--jobs=N, --verbose) are accepted and ignored.
 */
#include "criterion/criterion.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct cr_shim_test *tests, **tests_tail = &tests;
static struct cr_shim_suite *suites;

void cr_shim_register_test(struct cr_shim_test *t)
{
	*tests_tail = t;
	tests_tail = &t->next;
}

void cr_shim_register_suite(struct cr_shim_suite *s)
{
	s->next = suites;
	suites = s;
}

static _Noreturn void fail_v(const char *file, int line, const char *what,
			     const char *fmt, va_list ap)
{
	fprintf(stderr, "[----] %s:%d: Assertion failed: %s", file, line, what);
	if (fmt[1]) {   /* fmt is " " and the test's message */
		fputc(':', stderr);
		vfprintf(stderr, fmt, ap);
	}
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

void cr_shim_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(file, line, what, fmt, ap);
}

void cr_shim_str_eq(const char *file, int line, const char *what, const char *a,
		    const char *b, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(a, b) == 0)
		return;
	fprintf(stderr, "[----] %s:%d: \"%s\" != \"%s\"\n", file, line, a, b);
	va_start(ap, fmt);
	fail_v(file, line, what, fmt, ap);
}

static int expect_failed;   /* in the child: a cr_expect failed */

void cr_shim_expect_failed(const char *file, int line, const char *what,
			   const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[----] %s:%d: Expectation failed: %s", file, line, what);
	va_start(ap, fmt);
	if (fmt[1])
		vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	expect_failed = 1;
}

void cr_shim_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("[SKIP]", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(77);
}

void cr_shim_log(const char *fmt, ...)
{
	va_list ap;

	fputs("[----] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct cr_shim_opts *suite_opts(const char *name)
{
	for (const struct cr_shim_suite *s = suites; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return &s->opts;
	return NULL;
}

static double env_double(const char *name, double dflt)
{
	const char *v = getenv(name);
	char *end;
	double d = v ? strtod(v, &end) : 0;

	return v && *v && !*end && d > 0 ? d : dflt;
}

/* 0 passed, 1 failed (assertion or exit code), 2 crashed (a signal), 3 skipped. */
static int run_one(const struct cr_shim_test *t)
{
	const struct cr_shim_opts *so = suite_opts(t->suite);
	double timeout = t->opts.timeout ? t->opts.timeout : (so ? so->timeout : 0);
	unsigned secs = timeout ? (unsigned)(timeout * env_double("SHIM_TIMEOUT_SCALE", 20))
				: (unsigned)env_double("SHIM_TIMEOUT_DEFAULT", 600);
	int status;

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("shim_runner: fork");
		return 2;
	}
	if (pid == 0) {
		alarm(secs);
		if (so && so->init)
			so->init();
		if (t->opts.init)
			t->opts.init();
		t->fn();
		if (t->opts.fini)
			t->opts.fini();
		if (so && so->fini)
			so->fini();
		fflush(NULL);
		_exit(expect_failed);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		return 3;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "[FAIL] %s::%s: CRASH: signal %d (%s)%s\n", t->suite, t->name,
			WTERMSIG(status), strsignal(WTERMSIG(status)),
			WTERMSIG(status) == SIGALRM ? ", timed out" : "");
		return 2;
	}
	fprintf(stderr, "[FAIL] %s::%s: exit status %d\n", t->suite, t->name,
		WEXITSTATUS(status));
	return 1;
}

int main(int argc, char **argv)
{
	const char *filter = "*/*";
	int tested = 0, passed = 0, failed = 0, crashed = 0, skipped = 0;
	const char *ci = getenv("CI");
	int in_ci = ci && strcmp(ci, "true") == 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			filter = argv[++i];
		else if (strncmp(argv[i], "--filter=", 9) == 0)
			filter = argv[i] + 9;
	}
	for (const struct cr_shim_test *t = tests; t; t = t->next) {
		char full[256];
		snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
		if (fnmatch(filter, full, 0) != 0)
			continue;
		tested++;
		switch (run_one(t)) {
		case 0: passed++; break;
		case 1: failed++; break;
		case 3:
			if (in_ci)
				failed++;
			else
				skipped++;
			break;
		default: crashed++; break;
		}
	}
	printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d | Skipped: %d\n",
	       tested, passed, failed + crashed, crashed, skipped);
	printf("%d passed, %d failed, %d skipped\n", passed, failed + crashed, skipped);
	return failed + crashed || tested == 0 ? 1 : 0;
}
