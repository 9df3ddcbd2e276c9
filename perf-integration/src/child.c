#include "child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

void fpt_child_before_exec(pid_t parent)
{
	/* SIGKILL: a program that handles or ignores SIGTERM would still run on.
	 * The death signal follows the thread that forked; fptrace forks from its
	 * only thread.  exec of a set-user-ID program clears it (kernel rule). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);   /* fptrace died before prctl: nobody would see the program */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &old) != 0)
			continue;
		if (old.sa_handler == SIG_IGN) {
			struct sigaction dfl = { .sa_handler = SIG_DFL };
			sigaction(sig, &dfl, NULL);
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
