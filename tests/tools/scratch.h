/* scratch.h — a scratch directory for the tools tests that record, build and
 * read files: one per suite, made in .init and removed in .fini. */
#ifndef FPT_TEST_SCRATCH_H
#define FPT_TEST_SCRATCH_H

#include <stddef.h>

/* Makes /tmp/fpt-NAME-XXXXXX into dir (a buffer of len bytes); the test
 * fails if it cannot.  Returns dir. */
const char *fpt_scratch_make(char *dir, size_t len, const char *name);

/* Removes dir and everything in it, and empties dir; nothing if it is empty.
 * Saying so on stderr is all a failure does: the test's verdict stands. */
void fpt_scratch_remove(char *dir);

#endif
