/*
 * stack_reach.c — how much of a user stack dump unwinding can reach (see
 * fpt_stack_reach.h for the rule and why it holds).
 */
#include "fpt_stack_reach.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpunwind.h"

uint32_t fpt_stack_keep_rule(uint64_t sp, uint32_t len, uint64_t map_lo, uint64_t map_hi,
			     uint64_t start_stack)
{
	if (!map_hi || sp < map_lo || sp >= map_hi)
		return len;
	uint64_t top = map_hi;
	if (start_stack >= map_lo && start_stack < map_hi &&
	    start_stack + FPT_STACK_START_MARGIN < top) {
		/* Above the start frame, sp can only be where no frame is (a
		 * stack switched into argv?): keep the copy whole. */
		if (sp >= start_stack + FPT_STACK_START_MARGIN)
			return len;
		top = start_stack + FPT_STACK_START_MARGIN;
	}
	return top - sp < len ? (uint32_t)(top - sp) : len;
}

uint64_t fpt_stack_thread_tcb(const uint8_t *dump, uint64_t sp, uint32_t len, uint64_t map_hi)
{
#if defined(__x86_64__)
	uint64_t end = sp + len < map_hi ? sp + len : map_hi;   /* what the dump holds */
	uint64_t lo = map_hi - sp > FPT_STACK_TCB_WINDOW ? map_hi - FPT_STACK_TCB_WINDOW : sp;
	if (!dump || end < lo + 24)
		return 0;
	for (uint64_t a = (end - 24) & ~(uint64_t)63; a >= lo; a -= 64) {
		uint64_t tcb, self;
		memcpy(&tcb, dump + (a - sp), sizeof tcb);
		memcpy(&self, dump + (a - sp) + 16, sizeof self);
		if (tcb == a && self == a)
			return a;
		if (a < 64)
			break;
	}
#else
	(void)dump;
	(void)sp;
	(void)len;
	(void)map_hi;
#endif
	return 0;
}

uint64_t fpt_proc_start_stack(uint32_t pid)
{
	char path[64], buf[2048];
	if (pid)
		snprintf(path, sizeof path, "/proc/%u/stat", pid);
	else
		snprintf(path, sizeof path, "/proc/self/stat");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm (field 2) may hold spaces and parentheses: count from its end. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field <= 28; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (field == 28)
			return strtoull(p, NULL, 10);
		p += strcspn(p, " ");
	}
	return 0;
}

struct maps_read {
	struct fpt_stack_span *maps;
	size_t n, cap;
	int failed;
};

static int add_line(const struct fpu_maps_line *m, void *arg)
{
	struct maps_read *mr = arg;
	if (mr->n == mr->cap) {
		size_t cap = mr->cap ? mr->cap * 2 : 64;
		struct fpt_stack_span *p = realloc(mr->maps, cap * sizeof *p);
		if (!p) {
			mr->failed = 1;
			return 1;
		}
		mr->maps = p;
		mr->cap = cap;
	}
	/* /proc/PID/maps lists mappings in address order. */
	mr->maps[mr->n++] = (struct fpt_stack_span){ m->start, m->end };
	return 0;
}

static void read_proc(struct fpt_stack_reach *r, struct fpt_stack_proc *p)
{
	char line[512];
	struct maps_read mr = { 0 };
	r->reads++;
	p->samples_since_read = 0;
	if (fpu_maps_each((int)p->pid, line, sizeof line, add_line, &mr) != 0 || mr.failed) {
		free(mr.maps);
		p->gone = 1;   /* it exited: nothing more to learn */
		return;
	}
	free(p->maps);
	p->maps = mr.maps;
	p->nmaps = mr.n;
	p->start_stack = fpt_proc_start_stack(p->pid);
}

static const struct fpt_stack_span *find_span(const struct fpt_stack_proc *p, uint64_t sp)
{
	size_t lo = 0, hi = p->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sp < p->maps[mid].lo)
			hi = mid;
		else if (sp >= p->maps[mid].hi)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

static struct fpt_stack_proc *proc_of(struct fpt_stack_reach *r, uint32_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	if (r->nprocs == r->cap_procs) {
		size_t cap = r->cap_procs ? r->cap_procs * 2 : 8;
		struct fpt_stack_proc *p = realloc(r->procs, cap * sizeof *p);
		if (!p)
			return NULL;
		r->procs = p;
		r->cap_procs = cap;
	}
	struct fpt_stack_proc *p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->samples_since_read = FPT_STACK_REREAD;   /* read at the first miss */
	return p;
}

uint32_t fpt_stack_keep(struct fpt_stack_reach *r, uint32_t pid, uint64_t sp,
			const uint8_t *dump, uint32_t len)
{
	struct fpt_stack_proc *p = proc_of(r, pid);
	if (!p || len == 0)
		return len;
	const struct fpt_stack_span *m = find_span(p, sp);
	if (!m && !p->gone && p->samples_since_read >= FPT_STACK_REREAD) {
		read_proc(r, p);
		m = find_span(p, sp);
	}
	p->samples_since_read++;
	if (!m)
		return len;
	uint64_t hi = m->hi;
	if (p->start_stack < m->lo || p->start_stack >= m->hi) {
		uint64_t tcb = fpt_stack_thread_tcb(dump, sp, len, m->hi);
		if (tcb > sp)
			hi = tcb;
	}
	return fpt_stack_keep_rule(sp, len, m->lo, hi, p->start_stack);
}

void fpt_stack_forget(struct fpt_stack_reach *r, uint32_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid) {
			free(r->procs[i].maps);
			r->procs[i] = r->procs[--r->nprocs];
			return;
		}
}

void fpt_stack_reach_free(struct fpt_stack_reach *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].maps);
	free(r->procs);
	memset(r, 0, sizeof *r);
}
