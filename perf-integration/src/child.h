/* child.h — internal to launch.c: what every program fptrace starts gets
 * between fork and exec. */
#ifndef FPT_CHILD_H
#define FPT_CHILD_H

#include <sys/types.h>

/*
 * In the child, before execvp:
 *   - it dies with fptrace: PR_SET_PDEATHSIG(SIGKILL), so a SIGKILLed fptrace
 *     leaves no program running on, unwatched (if parent is already gone, the
 *     child exits 127 at once);
 *   - every signal fptrace's own starter ignored (a script's `trap '' INT`, a
 *     background job's SIGINT and SIGQUIT) is back to its default, and none is
 *     blocked: fptrace forwards SIGINT and SIGTERM, and the program must obey.
 * Async-signal-safe (it runs in a forked child).
 */
void fpt_child_before_exec(pid_t parent);

#endif
