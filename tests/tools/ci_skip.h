/* ci_skip.h — the one way a tools test skips. */
#ifndef FPT_TEST_CI_SKIP_H
#define FPT_TEST_CI_SKIP_H

/* Skips the current Criterion test, saying why.  Under CI=true it fails the
 * test instead, with the same reason: scripts/deps.sh installs every tool the
 * tests need, so in CI a skip means a test that did not run. */
_Noreturn void fpt_skip_test(const char *why);

/* The tests that sample with perf_event_open: skips (fails under CI=true)
 * when this process may not open a user-space cpu-clock event. */
void fpt_need_perf_event(void);

/* The tests that run `perf record`: skips (fails under CI=true) when it
 * cannot record a cpu-clock event here, with perf's own first line of
 * complaint.  dir: a scratch directory, where the probe's files go; it is
 * removed (fpt_scratch_remove) before a skip. */
void fpt_need_perf_record(char *dir);

#endif
