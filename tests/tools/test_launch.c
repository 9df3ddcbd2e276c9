/*
 * test_launch.c — the one program launcher both recorders use
 * (perf-integration/src/launch.c): signals sent to fptrace reach the program,
 * SIGHUP included, and fptrace's own dispositions are back afterwards; exec
 * errors come back through the pipe; the fd the in-process recorder hands the
 * runtime survives exec; the END record says how the program ended.
 * No timing: every wait is for the program's end.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fpt_launch.h"

static volatile sig_atomic_t own_handler_ran;

static void own_handler(int sig)
{
	(void)sig;
	own_handler_ran++;
}

/* Start argv and wait until it runs (exec done). */
static void start(struct fpt_launch *l, char *const argv[], int keep_fd)
{
	char err[256] = "";
	int st = 0;
	cr_assert_eq(fpt_launch_fork(l, argv, 0, keep_fd, err, sizeof err), 0, "%s", err);
	cr_assert_eq(fpt_launch_exec(l, argv, &st, err, sizeof err), 0, "%s", err);
}

static void forwards(int sig)
{
	struct sigaction mine = { .sa_handler = own_handler }, now;
	sigemptyset(&mine.sa_mask);
	cr_assert_eq(sigaction(sig, &mine, NULL), 0);
	own_handler_ran = 0;

	char *argv[] = { "sleep", "600", NULL };
	struct fpt_launch l;
	start(&l, argv, -1);
	raise(sig);   /* sent to fptrace alone (not by a terminal): forwarded */
	if (own_handler_ran)
		kill(l.pid, SIGKILL);   /* not forwarded: do not wait 600 s */
	int st = 0;
	cr_assert_eq(fpt_launch_wait(&l, &st, 0), 1);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == sig,
		  "the program should be killed by signal %d (%s); wait status %#x", sig,
		  strsignal(sig), st);
	cr_expect_eq(own_handler_ran, 0, "fptrace's own handler ran instead of forwarding");
	cr_assert_eq(sigaction(sig, NULL, &now), 0);
	cr_expect(now.sa_handler == own_handler,
		  "the disposition of signal %d is not put back after the program ended", sig);
}

Test(launch, forwards_sighup_and_restores) { forwards(SIGHUP); }
Test(launch, forwards_sigint_and_restores) { forwards(SIGINT); }
Test(launch, forwards_sigterm_and_restores) { forwards(SIGTERM); }

Test(launch, exec_error)
{
	char *argv[] = { "/nonexistent-dir/prog", NULL };
	struct fpt_launch l;
	char err[256] = "";
	int st = 0;
	cr_assert_eq(fpt_launch_fork(&l, argv, 1, -1, err, sizeof err), 0, "%s", err);
	cr_assert_eq(fpt_launch_exec(&l, argv, &st, err, sizeof err), -1);
	cr_expect_str_eq(err, "/nonexistent-dir/prog: No such file or directory");
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 127, "wait status %#x", st);
	cr_expect_eq(l.pid, 0, "the child is reaped");
}

Test(launch, keeps_one_fd_across_exec)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	/* through /proc: dash takes one digit after >&, and low fds may be
	 * Criterion's own */
	char cmd[64];
	snprintf(cmd, sizeof cmd, "echo kept >/proc/self/fd/%d", p[1]);
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct fpt_launch l;
	start(&l, argv, p[1]);
	close(p[1]);
	int st = 0;
	cr_assert_eq(fpt_launch_wait(&l, &st, 0), 1);
	char buf[16] = "";
	cr_expect_eq(read(p[0], buf, sizeof buf - 1), 5);
	cr_expect_str_eq(buf, "kept\n");
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %#x", st);
	close(p[0]);
}

Test(launch, end_record_from_the_wait_status)
{
	char *exit7[] = { "sh", "-c", "exit 7", NULL };
	char *segv[] = { "sh", "-c", "kill -SEGV $$", NULL };
	struct fpt_launch l;
	int st = 0;
	start(&l, exit7, -1);
	cr_assert_eq(fpt_launch_wait(&l, &st, 0), 1);
	struct fpu_rec_end e = fpt_launch_end_record(st);
	cr_expect_eq(e.how, FPU_END_HOW_EXITED);
	cr_expect_eq(e.status, 7);
	start(&l, segv, -1);
	cr_assert_eq(fpt_launch_wait(&l, &st, 0), 1);
	e = fpt_launch_end_record(st);
	cr_expect_eq(e.how, FPU_END_HOW_SIGNALED);
	cr_expect_eq(e.status, SIGSEGV);
	cr_expect_gt(e.time_ns, 0);
}
