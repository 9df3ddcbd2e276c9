/*
 * chan.c — channels (Go's chan.go without select): a ring buffer plus queues of
 * parked senders and receivers, under one lock.  A waiter's sudog lives in its
 * G and its element on its own stack; a goroutine's stack never moves while it
 * is parked, so the waker copies straight to or from the parked goroutine's
 * stack, as Go does.
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

void rt_chan_send(rt_chan *c, const void *elem)
{
	struct rt_g *g = mustg("rt_chan_send");
	rt_lock(&c->lock);
	if (c->closed) {
		rt_unlock(&c->lock);
		rt_fatal("send on closed channel %p (goroutine %llu)", (void *)c,
			 (unsigned long long)g->goid);
	}
	struct rt_sudog *r = dequeue(&c->recvq);
	if (r) {
		copyelem(c, r->elem, elem);
		r->success = true;
		rt_unlock(&c->lock);
		rt_goready(r->g);
		return;
	}
	if (c->count < c->cap) {
		copyelem(c, slot(c, c->sendx), elem);
		c->sendx = (c->sendx + 1) % c->cap;
		c->count++;
		rt_unlock(&c->lock);
		return;
	}
	struct rt_sudog *sd = &g->sd;
	sd->g = g;
	sd->elem = (void *)elem;
	sd->success = false;
	enqueue(&c->sendq, sd);
	rt_gopark(rt_unlock_lock, &c->lock, "chan send");
	if (!sd->success)
		rt_fatal("send on closed channel %p (goroutine %llu, woken by close)",
			 (void *)c, (unsigned long long)rt_getg()->goid);
}

bool rt_chan_recv(rt_chan *c, void *elem)
{
	struct rt_g *g = mustg("rt_chan_recv");
	rt_lock(&c->lock);
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
		rt_unlock(&c->lock);
		rt_goready(s->g);
		return true;
	}
	if (c->count > 0) {
		copyelem(c, elem, slot(c, c->recvx));
		c->recvx = (c->recvx + 1) % c->cap;
		c->count--;
		rt_unlock(&c->lock);
		return true;
	}
	if (c->closed) {
		rt_unlock(&c->lock);
		if (elem && c->elemsize)
			memset(elem, 0, c->elemsize);
		return false;
	}
	struct rt_sudog *sd = &g->sd;
	sd->g = g;
	sd->elem = elem;
	sd->success = false;
	enqueue(&c->recvq, sd);
	rt_gopark(rt_unlock_lock, &c->lock, "chan receive");
	if (!sd->success && elem && c->elemsize)
		memset(elem, 0, c->elemsize);
	return sd->success;
}

void rt_chan_close(rt_chan *c)
{
	rt_lock(&c->lock);
	if (c->closed) {
		rt_unlock(&c->lock);
		rt_fatal("close of closed channel %p", (void *)c);
	}
	c->closed = true;
	struct rt_sudog *list = NULL, *sd;
	while ((sd = dequeue(&c->recvq)) || (sd = dequeue(&c->sendq))) {
		sd->success = false;
		sd->next = list;
		list = sd;
	}
	rt_unlock(&c->lock);
	while (list) {
		sd = list;
		list = sd->next;     /* read before the G can run and reuse its sudog */
		rt_goready(sd->g);
	}
}

size_t rt_chan_len(rt_chan *c)
{
	rt_lock(&c->lock);
	size_t n = c->count;
	rt_unlock(&c->lock);
	return n;
}
