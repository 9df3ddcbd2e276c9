/* scratch.h — a scratch directory for the tools tests that record, build and
 * read files (one per suite, made in .init and removed in .fini), and the
 * files they write there. */
#ifndef FPT_TEST_SCRATCH_H
#define FPT_TEST_SCRATCH_H

#include <stddef.h>

/* Makes /tmp/fpt-NAME-XXXXXX into dir (a buffer of len bytes); the test
 * fails if it cannot.  Returns dir. */
const char *fpt_scratch_make(char *dir, size_t len, const char *name);

/* Removes dir and everything in it, and empties dir; nothing if it is empty.
 * Saying so on stderr is all a failure does: the test's verdict stands. */
void fpt_scratch_remove(char *dir);

/* Writes text to path (a program's source, a document to validate); the
 * test fails if it cannot. */
void fpt_write_text(const char *path, const char *text);

/* Runs cmd, a shell command that builds the test's program in dir (cc is
 * installed by scripts/deps.sh).  When it fails, removes dir and skips the
 * test (fails it under CI=true) with the command in the reason. */
void fpt_scratch_build(char *dir, const char *cmd);

#endif
