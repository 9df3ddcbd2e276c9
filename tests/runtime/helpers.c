#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

_Atomic int rt_test_failures;

#if defined(__SANITIZE_ADDRESS__)
/* make SAN=address: Criterion's runner keeps a few allocations to its exit. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcriterion.so\n"; }
#endif

void rt_test_fail(const char *file, int line, const char *fmt, ...)
{
	RT_STACK_CHECK(16384);       /* vfprintf to stderr wants room */
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	rt_test_failures++;
}

void rt_test_run(int (*body)(int, char **), const char *debug)
{
	if (debug)
		setenv("FPRT_DEBUG", debug, 1);
	char *argv[] = { "test", NULL };
	int rc = rt_main(body, 1, argv);
	cr_assert_eq(rt_test_failures, 0, "%d check(s) failed (see stderr)",
		     (int)rt_test_failures);
	cr_assert_eq(rc, 0, "test body returned %d", rc);
}

static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1024 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

/* Stdout and stderr go to temporary files, so a child that prints a lot
 * never blocks on a pipe nobody reads yet. */
static struct child_result spawn(void (*inchild)(void *), void *arg)
{
	char on[] = "/tmp/rt-test-out-XXXXXX", en[] = "/tmp/rt-test-err-XXXXXX";
	int ofd = mkstemp(on), efd = mkstemp(en);
	cr_assert(ofd >= 0 && efd >= 0, "mkstemp");
	unlink(on);
	unlink(en);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork");
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		inchild(arg);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	struct child_result r;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	r.out = slurp(ofd);
	r.err = slurp(efd);
	return r;
}

struct fnarg { int (*fn)(int, char **); const char *const *env; };

static void putenvs(const char *const *env)
{
	for (; env && *env; env++) {
		char *kv = strdup(*env), *eq = strchr(kv, '=');
		*eq = 0;
		setenv(kv, eq + 1, 1);
	}
}

static void child_fn(void *p)
{
	struct fnarg *a = p;
	putenvs(a->env);
	char *argv[] = { "child", NULL };
	int rc = rt_main(a->fn, 1, argv);
	fflush(NULL);
	_exit(rc);
}

struct child_result run_child(int (*fn)(int, char **), const char *const *env)
{
	struct fnarg a = { fn, env };
	return spawn(child_fn, &a);
}

struct progarg { char path[PATH_MAX + 64]; const char *const *argv, *const *env; };

/*
 * FPRT_TEST_EXEC_WRAPPER=/usr/bin/qemu-aarch64-static (scripts/run-tests-arm64.sh):
 * the arm64 suite runs under qemu-user without binfmt_misc, where the kernel
 * cannot exec an arm64 program; the (host) emulator can, given its path.
 */
static void child_exec(void *p)
{
	struct progarg *a = p;
	putenvs(a->env);
	const char *wrapper = getenv("FPRT_TEST_EXEC_WRAPPER");
	if (wrapper && wrapper[0]) {
		const char *wargv[64] = { wrapper, a->path };
		size_t n = 2;
		for (size_t i = 1; a->argv[0] && a->argv[i] && n < 63; i++)
			wargv[n++] = a->argv[i];
		wargv[n] = NULL;
		execv(wrapper, (char *const *)wargv);
		fprintf(stderr, "exec %s %s failed\n", wrapper, a->path);
		return;
	}
	execv(a->path, (char *const *)a->argv);
	fprintf(stderr, "exec %s failed\n", a->path);
}

struct child_result run_prog(const char *name, const char *const *argv,
			     const char *const *env)
{
	struct progarg a = { .argv = argv, .env = env };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	cr_assert(n > 0);
	self[n] = 0;
	*strrchr(self, '/') = 0;               /* BUILD/tests */
	snprintf(a.path, sizeof a.path, "%s/../progs/%.40s", self, name);
	cr_assert(access(a.path, X_OK) == 0, "scenario program %s not built", a.path);
	return spawn(child_exec, &a);
}

void child_result_free(struct child_result *r)
{
	free(r->out);
	free(r->err);
}

/* A goroutine's state as its traceback header reports it: "goroutine N [REASON]:".
 * Tests wait on this instead of sleeping, so they hold on a loaded machine. */
void wait_until_parked(uint64_t goid, const char *reason)
{
	char want[128];
	snprintf(want, sizeof want, "goroutine %llu [%s]:", (unsigned long long)goid, reason);
	RT_STACK_CHECK(16384);
	int fd = memfd_create("rt-test-parked", 0);
	if (fd < 0) {
		rt_test_fail(__FILE__, __LINE__, "memfd_create: %s", strerror(errno));
		return;
	}
	for (;;) {
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
		    rt_traceback_goid(fd, goid) != 0) {
			rt_test_fail(__FILE__, __LINE__, "goroutine %llu: no traceback (%s)",
				     (unsigned long long)goid, strerror(errno));
			break;
		}
		char head[128] = "";
		ssize_t n = pread(fd, head, sizeof head - 1, 0);
		if (n > 0 && strncmp(head, want, strlen(want)) == 0)
			break;
		rt_gosched();
	}
	close(fd);
}
