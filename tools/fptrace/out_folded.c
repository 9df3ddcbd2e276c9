/*
 * out_folded.c — Brendan Gregg's "folded stacks" format: one line per distinct
 * stack, root first, frames separated by ';', then a space and the sample
 * count.  flamegraph.pl, speedscope, inferno and many other tools read it.
 *
 * The readers split a line at ';' and take the last space-separated token as
 * the count, and they read line by line: so ';' and line breaks (and other
 * control characters, which would garble a terminal) must not survive inside a
 * function name.  Spaces are kept: C++ names such as "f(int, char)" need them
 * and the readers cope.  Lines are merged after sanitizing (two stacks that
 * differ only in class, or in names that sanitize to the same text, are one
 * line) and sorted, so that the output is deterministic and diffable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* A frame name as it may appear between two ';'. */
static void put_sanitized(char *dst, size_t *len, const char *name)
{
	if (!*name)
		name = "[unknown]";
	for (const char *s = name; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ';')
			c = ':';
		else if (c < 0x20 || c == 0x7f)
			c = ' ';
		dst[(*len)++] = (char)c;
	}
}

struct line {
	char *text;           /* "root;...;leaf" */
	uint64_t count;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

/* The folded text of stack st, malloc'ed; NULL when out of memory. */
static char *fold_stack(const struct fpt_profile *p, const struct fpt_stack *st)
{
	size_t size = 1;

	for (uint32_t i = 0; i < st->depth; i++)
		size += strlen(p->frames[st->frames[i]].function) + 10;
	size += sizeof("[unknown]");

	char *text = malloc(size);
	size_t len = 0;

	if (!text)
		return NULL;
	if (st->depth == 0)
		/* Keep the samples (totals must match the other outputs) but a
		 * line needs a frame. */
		put_sanitized(text, &len, "");
	for (uint32_t i = st->depth; i-- > 0;) {
		put_sanitized(text, &len, p->frames[st->frames[i]].function);
		if (i)
			text[len++] = ';';
	}
	text[len] = '\0';
	return text;
}

int fpt_write_folded(FILE *out, const struct fpt_profile *p, char *err, size_t errlen)
{
	struct line *lines = calloc(p->nstacks ? p->nstacks : 1, sizeof(*lines));
	size_t n = 0;
	int rc = -1;

	if (!lines) {
		snprintf(err, errlen, "folded: out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->nstacks; i++) {
		if (p->stacks[i].samples == 0)
			continue;
		lines[n].text = fold_stack(p, &p->stacks[i]);
		if (!lines[n].text) {
			snprintf(err, errlen, "folded: out of memory");
			goto out;
		}
		lines[n++].count = p->stacks[i].samples;
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n;) {
		uint64_t count = 0;
		size_t j = i;

		for (; j < n && strcmp(lines[j].text, lines[i].text) == 0; j++)
			count += lines[j].count;
		fprintf(out, "%s %llu\n", lines[i].text, (unsigned long long)count);
		i = j;
	}
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "folded: write error: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
	return rc;
}
