#include "scratch.h"

#include "ci_skip.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

const char *fpt_scratch_make(char *dir, size_t len, const char *name)
{
	int n = snprintf(dir, len, "/tmp/fpt-%s-XXXXXX", name);
	cr_assert(n > 0 && (size_t)n < len, "scratch directory name for %s does not fit %zu bytes",
		  name, len);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s failed", dir);
	return dir;
}

void fpt_scratch_remove(char *dir)
{
	char cmd[600];
	if (!dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	dir[0] = 0;
}

void fpt_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	int bad = fputs(text, f) < 0;
	bad |= fclose(f) != 0;
	cr_assert(!bad, "writing %s failed", path);
}

void fpt_scratch_build(char *dir, const char *cmd)
{
	char why[700];
	if (system(cmd) == 0)
		return;
	fpt_scratch_remove(dir);
	snprintf(why, sizeof why, "cannot build the test program: `%.600s` failed", cmd);
	fpt_skip_test(why);
}
