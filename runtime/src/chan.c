/*
 * chan.c — channels (Go's chan.go without select): a ring buffer plus queues of
 * parked senders and receivers, under one lock.  A waiter's sudog lives in its
 * G and its element on its own stack; a goroutine's stack never moves while it
 * is parked, so the waker copies straight to or from the parked goroutine's
 * stack, as Go does.  Every operation, close and len included, runs on a
 * goroutine (Go code always does), which lets one P do without the lock.
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

struct waitq { struct rt_sudog *first, *last; };

struct rt_chan {
	rt_lock_t lock;
	bool closed;
	size_t elemsize, cap, count, recvx, sendx;
	struct waitq recvq, sendq;
	unsigned char *buf;
};

rt_chan *rt_chan_new(size_t elem_size, size_t cap)
{
	rt_chan *c = calloc(1, sizeof *c);
	if (!c || (cap && !(c->buf = calloc(cap, elem_size ? elem_size : 1))))
		rt_fatal("rt_chan_new: out of memory (elem %zu, cap %zu)", elem_size, cap);
	c->elemsize = elem_size;
	c->cap = cap;
	return c;
}

void rt_chan_free(rt_chan *c)
{
	if (c && (c->recvq.first || c->sendq.first))
		rt_fatal("rt_chan_free(%p): goroutines still wait on it", (void *)c);
	if (c)
		free(c->buf);
	free(c);
}

static void enqueue(struct waitq *q, struct rt_sudog *sd)
{
	sd->next = NULL;
	if (q->last)
		q->last->next = sd;
	else
		q->first = sd;
	q->last = sd;
}

static struct rt_sudog *dequeue(struct waitq *q)
{
	struct rt_sudog *sd = q->first;
	if (sd) {
		q->first = sd->next;
		if (!q->first)
			q->last = NULL;
	}
	return sd;
}

static void *slot(rt_chan *c, size_t i) { return c->buf + i * c->elemsize; }

static void copyelem(rt_chan *c, void *dst, const void *src)
{
	if (dst && c->elemsize)
		memcpy(dst, src, c->elemsize);
}

static struct rt_g *mustg(const char *what)
{
	struct rt_g *g = rt_getg();
	if (!g || g->is_g0)
		rt_fatal("%s called outside a goroutine", what);
	return g;
}

/*
 * The channel lock, elided when there is one P (FPRT_MAXPROCS=1).
 *
 * Why that is sound: every channel operation runs on a goroutine (mustg)
 * whose M holds a P (chan_lock checks it: a goroutine between entersyscall
 * and exitsyscall has none), and with one P one M at a time runs channel
 * code.  Every change of the P's owner goes through sched.lock (pidleput,
 * pidleget), an M's park futex word (startm, startlockedm) or the P's
 * status CAS (retake, exitsyscall), each a release by the old owner and an
 * acquire by the new one, so one owner's critical section happens before the
 * next one's.  No section gives the P away before its end: goready and
 * schedule come after the unlock, and a parking receiver or sender ends its
 * section in rt_park_m on g0, where gopark's unlockf would release the
 * lock, before schedule can hand the P on; nobody can ready it before it is
 * parked, because nobody else runs.  No other thread reads a channel
 * (tracebacks and the profiler read Gs and stacks).  Saved: the lock's two
 * atomic read-modify-writes per operation, 8 of the 12 of an unbuffered round
 * trip; with rt_gopark inline, 95 -> 81 ns of CPU per round trip
 * (chan-pingpong).  The run queue with one P rests on the same fact
 * (sched.c runqget).
 */
static bool chan_lock(rt_chan *c, struct rt_g *g, const char *what)
{
	if (rt_sched.nprocs == 1) {
		if (!g->m->p)
			rt_fatal("%s on channel %p by goroutine %llu in a syscall (M%lld has no P)",
				 what, (void *)c, (unsigned long long)g->goid,
				 (long long)g->m->id);
		return false;
	}
	rt_lock(&c->lock);
	return true;
}

static void chan_unlock(rt_chan *c, bool locked)
{
	if (locked)
		rt_unlock(&c->lock);
}

void rt_chan_send(rt_chan *c, const void *elem)
{
	struct rt_g *g = mustg("rt_chan_send");
	bool locked = chan_lock(c, g, "rt_chan_send");
	if (c->closed) {
		chan_unlock(c, locked);
		rt_fatal("send on closed channel %p (goroutine %llu)", (void *)c,
			 (unsigned long long)g->goid);
	}
	struct rt_sudog *r = dequeue(&c->recvq);
	if (r) {
		copyelem(c, r->elem, elem);
		r->success = true;
		chan_unlock(c, locked);
		rt_goready(r->g);
		return;
	}
	if (c->count < c->cap) {
		copyelem(c, slot(c, c->sendx), elem);
		c->sendx = (c->sendx + 1) % c->cap;
		c->count++;
		chan_unlock(c, locked);
		return;
	}
	struct rt_sudog *sd = &g->sd;
	sd->g = g;
	sd->elem = (void *)elem;
	sd->success = false;
	enqueue(&c->sendq, sd);
	rt_gopark(locked ? rt_unlock_lock : NULL, &c->lock, "chan send");
	if (!sd->success)
		rt_fatal("send on closed channel %p (goroutine %llu, woken by close)",
			 (void *)c, (unsigned long long)rt_getg()->goid);
}

bool rt_chan_recv(rt_chan *c, void *elem)
{
	struct rt_g *g = mustg("rt_chan_recv");
	bool locked = chan_lock(c, g, "rt_chan_recv");
	struct rt_sudog *s = dequeue(&c->sendq);
	if (s) {
		if (c->cap == 0) {
			copyelem(c, elem, s->elem);
		} else {
			/* Full buffer: take its head, the sender's value goes to the tail
			 * (the same slot, since the ring is full). */
			copyelem(c, elem, slot(c, c->recvx));
			if (c->elemsize)
				memcpy(slot(c, c->recvx), s->elem, c->elemsize);
			c->recvx = (c->recvx + 1) % c->cap;
			c->sendx = c->recvx;
		}
		s->success = true;
		chan_unlock(c, locked);
		rt_goready(s->g);
		return true;
	}
	if (c->count > 0) {
		copyelem(c, elem, slot(c, c->recvx));
		c->recvx = (c->recvx + 1) % c->cap;
		c->count--;
		chan_unlock(c, locked);
		return true;
	}
	if (c->closed) {
		chan_unlock(c, locked);
		if (elem && c->elemsize)
			memset(elem, 0, c->elemsize);
		return false;
	}
	struct rt_sudog *sd = &g->sd;
	sd->g = g;
	sd->elem = elem;
	sd->success = false;
	enqueue(&c->recvq, sd);
	rt_gopark(locked ? rt_unlock_lock : NULL, &c->lock, "chan receive");
	if (!sd->success && elem && c->elemsize)
		memset(elem, 0, c->elemsize);
	return sd->success;
}

void rt_chan_close(rt_chan *c)
{
	bool locked = chan_lock(c, mustg("rt_chan_close"), "rt_chan_close");
	if (c->closed) {
		chan_unlock(c, locked);
		rt_fatal("close of closed channel %p", (void *)c);
	}
	c->closed = true;
	struct rt_sudog *list = NULL, *sd;
	while ((sd = dequeue(&c->recvq)) || (sd = dequeue(&c->sendq))) {
		sd->success = false;
		sd->next = list;
		list = sd;
	}
	chan_unlock(c, locked);
	while (list) {
		sd = list;
		list = sd->next;     /* read before the G can run and reuse its sudog */
		rt_goready(sd->g);
	}
}

size_t rt_chan_len(rt_chan *c)
{
	bool locked = chan_lock(c, mustg("rt_chan_len"), "rt_chan_len");
	size_t n = c->count;
	chan_unlock(c, locked);
	return n;
}
