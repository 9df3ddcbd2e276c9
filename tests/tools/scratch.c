#include "scratch.h"

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
