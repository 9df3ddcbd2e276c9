/*
 * helpers.h — shared by the runtime's Criterion tests.
 *
 * Criterion runs every test in a process of its own, so each test may call
 * rt_main once with its own environment.  RT_TEST defines a test twice: as is,
 * and in suite "<suite>_debug" under FPRT_DEBUG=stackforcemove,stackfaultonfree
 * (every stack check moves the stack; old stacks fault on access), which is
 * how the whole suite runs again with the stack debug options.
 *
 * run_child forks a child that runs fn under rt_main with extra environment
 * and returns its exit status and captured stderr: for fatal errors (exit 2
 * plus tracebacks), which must be checked from outside the dying process.
 */
#ifndef RT_TEST_HELPERS_H
#define RT_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "fprt.h"

#define RT_DEBUG_ENV "stackforcemove,stackfaultonfree"

/* Runs body under rt_main; fails the test on a non-zero result. */
void rt_test_run(int (*body)(int, char **), const char *debug);

/* timeout in seconds: a hang fails instead of blocking `make test` */
#define RT_TEST(suite, name, body, timeout_s)                                  \
	Test(suite, name, .timeout = (timeout_s)) { rt_test_run(body, NULL); } \
	Test(suite##_debug, name, .timeout = (timeout_s)) { rt_test_run(body, RT_DEBUG_ENV); }

struct child_result {
	int status;          /* exit status, or 128 + signal */
	char *out, *err;     /* captured, NUL-terminated, malloc'd */
};

/* env: "NAME=value" strings, NULL-terminated (may be NULL). */
struct child_result run_child(int (*fn)(int, char **), const char *const *env);
/* Runs build/progs/NAME (found next to this test binary) with args and env. */
struct child_result run_prog(const char *name, const char *const *argv,
			     const char *const *env);
void child_result_free(struct child_result *r);

/* Returns once goroutine goid is parked with this wait reason ("chan receive"),
 * as its traceback header says; the condition tests wait on instead of a sleep. */
void wait_until_parked(uint64_t goid, const char *reason);

/* A goroutine-safe test assertion: records the failure, reported by rt_test_run
 * (Criterion's asserts longjmp, which must not happen on a goroutine stack). */
extern _Atomic int rt_test_failures;
#define CHECK(cond, ...) do { if (!(cond)) { rt_test_fail(__FILE__, __LINE__, __VA_ARGS__); } } while (0)
void rt_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
