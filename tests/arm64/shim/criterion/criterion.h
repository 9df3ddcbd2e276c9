/*
 * criterion.h for arm64 under qemu-user: the subset of Criterion's API that the
 * walker and runtime suites use, run in-process by shim_runner.c.
 *
 * Why not Criterion itself: its test workers talk to the runner through
 * nanomsg over epoll and signalfd-style event loops that qemu-user 7.2 does
 * not emulate; the arm64 Criterion binary spins in epoll_wait before running
 * its first test (seen with qemu-aarch64 -strace).  The same test sources build
 * against the real Criterion on amd64; here every test runs in its own fork()ed
 * child (which qemu-user does emulate), as Criterion would run it.
 */
#ifndef CRITERION_SHIM_H
#define CRITERION_SHIM_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>   /* Criterion's header brings it in too */
#include <string.h>

struct cr_shim_opts {
	void (*init)(void);
	void (*fini)(void);
	double timeout;         /* seconds; 0: the runner's default */
};

struct cr_shim_test {
	const char *suite, *name;
	void (*fn)(void);
	struct cr_shim_opts opts;
	struct cr_shim_test *next;
};

struct cr_shim_suite {
	const char *name;
	struct cr_shim_opts opts;
	struct cr_shim_suite *next;
};

void cr_shim_register_test(struct cr_shim_test *t);
void cr_shim_register_suite(struct cr_shim_suite *s);
_Noreturn void cr_shim_fail(const char *file, int line, const char *what,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Fails, printing both strings, unless a and b are equal. */
void cr_shim_str_eq(const char *file, int line, const char *what, const char *a,
		    const char *b, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* cr_expect: report and go on; the test fails when it ends. */
void cr_shim_expect_failed(const char *file, int line, const char *what,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* cr_skip_test: the runner counts the test as skipped (exit status 77). */
_Noreturn void cr_shim_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cr_shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define Test(suite, name, ...)                                                 \
	static void cr_fn_##suite##_##name(void);                              \
	static struct cr_shim_test cr_test_##suite##_##name = {                \
		#suite, #name, cr_fn_##suite##_##name, { __VA_ARGS__ }, NULL }; \
	__attribute__((constructor)) static void cr_reg_##suite##_##name(void) \
	{ cr_shim_register_test(&cr_test_##suite##_##name); }                   \
	static void cr_fn_##suite##_##name(void)

#define TestSuite(suite, ...)                                                  \
	static struct cr_shim_suite cr_suite_##suite = {                       \
		#suite, { __VA_ARGS__ }, NULL };                                \
	__attribute__((constructor)) static void cr_regsuite_##suite(void)     \
	{ cr_shim_register_suite(&cr_suite_##suite); }

/* The message arguments, when given, start with a string literal; the " "
 * before them keeps the format non-empty when there are none. */
#define cr_assert(cond, ...) \
	((cond) ? (void)0 : cr_shim_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__))
#define cr_assert_eq(a, b, ...)  cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...)  cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...)  cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_null(p, ...)     cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) \
	cr_shim_str_eq(__FILE__, __LINE__, #a " == " #b, (a), (b), " " __VA_ARGS__)
#define cr_log_info(...) cr_shim_log(__VA_ARGS__)

#define cr_expect(cond, ...) \
	((cond) ? (void)0 : cr_shim_expect_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__))
#define cr_expect_eq(a, b, ...)  cr_expect((a) == (b), __VA_ARGS__)
#define cr_expect_neq(a, b, ...) cr_expect((a) != (b), __VA_ARGS__)
#define cr_expect_lt(a, b, ...)  cr_expect((a) < (b), __VA_ARGS__)
#define cr_expect_leq(a, b, ...) cr_expect((a) <= (b), __VA_ARGS__)
#define cr_expect_gt(a, b, ...)  cr_expect((a) > (b), __VA_ARGS__)
#define cr_expect_geq(a, b, ...) cr_expect((a) >= (b), __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) \
	cr_expect(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_skip_test(...) cr_shim_skip(" " __VA_ARGS__)

#endif
