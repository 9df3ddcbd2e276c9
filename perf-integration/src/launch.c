/*
 * launch.c — see fpt_launch.h.  Both recorders start their program here, so
 * they treat it alike: the same exec-error pipe, the same forwarded signals
 * (SIGHUP included: a closed ssh session hangs up fptrace, and the program
 * must end with the recording completed, not be SIGKILLed by PDEATHSIG with
 * fptrace), the dispositions put back afterwards, the same END record.
 */
#include "fpt_launch.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int fwd_signals[FPT_LAUNCH_NFWD] = { SIGINT, SIGTERM, SIGHUP };
static volatile pid_t fwd_child;

static void fwd_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int e = errno;
	/* A terminal signals the whole foreground process group, the program
	 * included (si_code SI_KERNEL): forward only what was sent to us alone. */
	if (fwd_child > 0 && si->si_code != SI_KERNEL)
		kill(fwd_child, sig);
	errno = e;
}

static void fwd_install(struct fpt_launch *l)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fwd_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	fwd_child = l->pid;
	for (size_t i = 0; i < FPT_LAUNCH_NFWD; i++)
		sigaction(fwd_signals[i], &sa, &l->old[i]);
	l->forwarding = 1;
}

static void fwd_restore(struct fpt_launch *l)
{
	if (!l->forwarding)
		return;
	for (size_t i = 0; i < FPT_LAUNCH_NFWD; i++)
		sigaction(fwd_signals[i], &l->old[i], NULL);
	fwd_child = 0;
	l->forwarding = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the child: wait for the go byte if held, then exec; never returns. */
static void run_child(char *const argv[], pid_t parent, int go_fd, int exec_fd, int keep_fd)
{
	if (go_fd >= 0) {
		char c;
		ssize_t n;
		while ((n = read(go_fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			_exit(127);   /* the parent gave up */
	}
	if (keep_fd >= 0) {
		fcntl(keep_fd, F_SETFL, 0);           /* blocking for the program */
		fcntl(keep_fd, F_SETFD, 0);           /* and kept across exec */
	}
	fpt_child_before_exec(parent);
	execvp(argv[0], argv);
	int e = errno;
	if (write(exec_fd, &e, sizeof e) < 0)
		_exit(126);
	_exit(e == ENOENT ? 127 : 126);
}

int fpt_launch_fork(struct fpt_launch *l, char *const argv[], int hold, int keep_fd,
		    char *err, size_t errlen)
{
	int go[2] = { -1, -1 }, ex[2];
	memset(l, 0, sizeof *l);
	l->go_fd = l->exec_fd = -1;
	if (!argv || !argv[0] || !argv[0][0]) {
		snprintf(err, errlen, "no command to run");
		return -1;
	}
	if ((hold && pipe2(go, O_CLOEXEC) != 0) || pipe2(ex, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close_fd(&go[0]);
		close_fd(&go[1]);
		return -1;
	}
	pid_t parent = getpid();
	l->pid = fork();
	if (l->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		l->pid = 0;
		close_fd(&go[0]);
		close_fd(&go[1]);
		close(ex[0]);
		close(ex[1]);
		return -1;
	}
	if (l->pid == 0) {
		close_fd(&go[1]);
		close(ex[0]);
		run_child(argv, parent, go[0], ex[1], keep_fd);
	}
	close_fd(&go[0]);
	close(ex[1]);
	l->go_fd = go[1];
	l->exec_fd = ex[0];
	return 0;
}

static void reap(struct fpt_launch *l, int *wstatus)
{
	int st = 0;
	while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR)
		;
	l->pid = 0;
	if (wstatus)
		*wstatus = st;
}

int fpt_launch_exec(struct fpt_launch *l, char *const argv[], int *wstatus, char *err,
		    size_t errlen)
{
	if (l->go_fd >= 0 && write(l->go_fd, "x", 1) != 1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		fpt_launch_abort(l, wstatus);
		return -1;
	}
	close_fd(&l->go_fd);
	/* EOF: the CLOEXEC pipe was closed by a successful exec */
	int child_errno = 0;
	ssize_t n;
	while ((n = read(l->exec_fd, &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
		;
	close_fd(&l->exec_fd);
	if (n == (ssize_t)sizeof child_errno) {
		reap(l, wstatus);
		snprintf(err, errlen, "%s: %s", argv[0], strerror(child_errno));
		return -1;
	}
	fwd_install(l);
	return 0;
}

void fpt_launch_abort(struct fpt_launch *l, int *wstatus)
{
	close_fd(&l->go_fd);
	close_fd(&l->exec_fd);
	if (l->pid > 0) {
		kill(l->pid, SIGKILL);
		reap(l, wstatus);
	}
	fwd_restore(l);
}

int fpt_launch_wait(struct fpt_launch *l, int *wstatus, int nohang)
{
	int st = 0;
	for (;;) {
		pid_t w = l->pid > 0 ? waitpid(l->pid, &st, nohang ? WNOHANG : 0) : -1;
		if (w < 0 && errno == EINTR)
			continue;   /* a forwarded signal */
		if (w == 0)
			return 0;
		if (w < 0) {
			int e = l->pid > 0 ? errno : ECHILD;
			fwd_restore(l);
			errno = e;
			return -1;
		}
		if (!WIFEXITED(st) && !WIFSIGNALED(st))
			continue;   /* stopped or continued: it has not ended */
		l->pid = 0;
		if (wstatus)
			*wstatus = st;
		fwd_restore(l);
		return 1;
	}
}

int fpt_launch_which(const char *cmd, char *out, size_t len)
{
	snprintf(out, len, "%s", cmd);
	if (strchr(cmd, '/'))
		return access(cmd, X_OK);
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		/* an empty element is the current directory, as for execvp */
		snprintf(out, len, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", cmd);
		if (access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	snprintf(out, len, "%s", cmd);
	return -1;
}

struct fpu_rec_end fpt_launch_end_record(int wstatus)
{
	struct timespec ts;
	struct fpu_rec_end end = { .how = FPU_END_HOW_UNKNOWN };
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (WIFEXITED(wstatus)) {
		end.how = FPU_END_HOW_EXITED;
		end.status = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		end.how = FPU_END_HOW_SIGNALED;
		end.status = WTERMSIG(wstatus);
	}
	return end;
}
