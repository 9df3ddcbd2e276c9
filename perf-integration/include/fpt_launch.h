/*
 * fpt_launch.h — the one way fptrace starts a program, for both recorders
 * (the in-process one for fprt programs and the perf_event_open one):
 *
 *   fpt_launch_fork   fork; the child resets what it must not inherit
 *                     (child.h: it dies with fptrace, no signal ignored or
 *                     blocked), optionally keeps one fd across
 *                     exec, and optionally waits until fpt_launch_exec lets it
 *                     go (the perf recorder opens its events on the child
 *                     first);
 *   fpt_launch_exec   lets it exec and learns, through a CLOEXEC pipe that
 *                     carries execvp's errno, whether the program runs;
 *                     from then on SIGINT, SIGTERM and SIGHUP sent to fptrace
 *                     alone (by kill, not by the terminal, which signals the
 *                     whole foreground group) are forwarded to the program;
 *   fpt_launch_wait   waits for it (or polls), and puts the dispositions
 *                     fptrace had before back once it has ended;
 *   fpt_launch_end_record  the END record from the wait status.
 *
 * One program at a time (the forwarding handler knows one pid).
 */
#ifndef FPT_LAUNCH_H
#define FPT_LAUNCH_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "fpu_record.h"

#define FPT_LAUNCH_NFWD 3   /* SIGINT, SIGTERM, SIGHUP */

struct fpt_launch {
	pid_t pid;                 /* the child; 0 once reaped */
	int go_fd;                 /* held child: a byte here lets it exec; else -1 */
	int exec_fd;               /* read end of the exec-error pipe; -1 once read */
	int forwarding;            /* the handlers below are installed */
	struct sigaction old[FPT_LAUNCH_NFWD];
};

/*
 * Fork a child that will run argv (execvp).  keep_fd >= 0 is left open
 * across exec, in blocking mode; hold: the child waits for fpt_launch_exec.
 * 0, or -1 with a one-line reason in err (no child left).
 */
int fpt_launch_fork(struct fpt_launch *l, char *const argv[], int hold, int keep_fd,
		    char *err, size_t errlen);

/*
 * Let the child exec and wait until it has: 0 when the program runs (signals
 * are forwarded from now on); -1 when it could not be executed ("CMD: No such
 * file or directory"), the child then reaped and its status (127 for a
 * command not found, 126 otherwise) in *wstatus.
 */
int fpt_launch_exec(struct fpt_launch *l, char *const argv[], int *wstatus, char *err,
		    size_t errlen);

/* Kill and reap the child (a recorder that failed to set up after fork). */
void fpt_launch_abort(struct fpt_launch *l, int *wstatus);

/*
 * Wait for the program to end: 1 with its wait status in *wstatus; with
 * nohang, 0 while it runs.  -1 when there is nothing to wait for (errno).
 * Once it has ended (or on -1) the previous signal dispositions are back.
 */
int fpt_launch_wait(struct fpt_launch *l, int *wstatus, int nohang);

/* argv[0] as execvp finds it through PATH: 0 with its path in out, or -1
 * (out then holds cmd). */
int fpt_launch_which(const char *cmd, char *out, size_t len);

/* The END record of a program that ended with wait status wstatus, now
 * (CLOCK_MONOTONIC); samples and drops left 0. */
struct fpu_rec_end fpt_launch_end_record(int wstatus);

#endif
