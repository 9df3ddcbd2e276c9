/*
 * sync.c — a mutex that parks (ownership is handed to the first waiter, so a
 * waiter cannot starve) and a wait group.  Waiters queue their G's sudog; the
 * queue is protected by the small runtime lock embedded in the public struct.
 */
#include "rt.h"

_Static_assert(sizeof(rt_lock_t) == sizeof(uint32_t), "rt_lock_t embeds in rt_mutex");

static void sq_put(void **head, void **tail, struct rt_sudog *sd)
{
	sd->next = NULL;
	if (*tail)
		((struct rt_sudog *)*tail)->next = sd;
	else
		*head = sd;
	*tail = sd;
}

static struct rt_sudog *sq_get(void **head, void **tail)
{
	struct rt_sudog *sd = *head;
	if (sd) {
		*head = sd->next;
		if (!*head)
			*tail = NULL;
	}
	return sd;
}

static struct rt_g *self(const char *what)
{
	struct rt_g *g = rt_getg();
	if (!g || g->is_g0)
		rt_fatal("%s called outside a goroutine", what);
	return g;
}

#define MU_STATE(mu) ((_Atomic uint32_t *)&(mu)->state)
#define MU_LOCK(mu) ((rt_lock_t *)&(mu)->lock)

bool rt_mutex_trylock(rt_mutex *mu)
{
	uint32_t z = 0;
	return atomic_compare_exchange_strong(MU_STATE(mu), &z, 1);
}

void rt_mutex_lock(rt_mutex *mu)
{
	if (rt_mutex_trylock(mu))
		return;
	struct rt_g *g = self("rt_mutex_lock");
	rt_lock(MU_LOCK(mu));
	if (rt_mutex_trylock(mu)) {
		rt_unlock(MU_LOCK(mu));
		return;
	}
	g->sd.g = g;
	sq_put(&mu->head, &mu->tail, &g->sd);
	rt_gopark(rt_unlock_lock, MU_LOCK(mu), "mutex");
	/* rt_mutex_unlock handed the still-locked mutex to us. */
}

void rt_mutex_unlock(rt_mutex *mu)
{
	rt_lock(MU_LOCK(mu));
	if (atomic_load(MU_STATE(mu)) != 1) {
		rt_unlock(MU_LOCK(mu));
		rt_fatal("rt_mutex_unlock of unlocked mutex %p (state %u)", (void *)mu,
			 atomic_load(MU_STATE(mu)));
	}
	struct rt_sudog *sd = sq_get(&mu->head, &mu->tail);
	if (!sd)
		atomic_store(MU_STATE(mu), 0);
	rt_unlock(MU_LOCK(mu));
	if (sd)
		rt_goready(sd->g);
}

void rt_wg_add(rt_waitgroup *wg, int64_t delta)
{
	rt_lock(MU_LOCK(wg));
	wg->count += delta;
	if (wg->count < 0) {
		int64_t c = wg->count;
		rt_unlock(MU_LOCK(wg));
		rt_fatal("rt_wg_add: negative wait group counter %lld (delta %lld)",
			 (long long)c, (long long)delta);
	}
	struct rt_sudog *list = NULL;
	if (wg->count == 0) {
		list = wg->head;
		wg->head = wg->tail = NULL;
	}
	rt_unlock(MU_LOCK(wg));
	while (list) {
		struct rt_sudog *sd = list;
		list = sd->next;
		rt_goready(sd->g);
	}
}

void rt_wg_done(rt_waitgroup *wg) { rt_wg_add(wg, -1); }

void rt_wg_wait(rt_waitgroup *wg)
{
	struct rt_g *g = self("rt_wg_wait");
	rt_lock(MU_LOCK(wg));
	if (wg->count == 0) {
		rt_unlock(MU_LOCK(wg));
		return;
	}
	g->sd.g = g;
	sq_put(&wg->head, &wg->tail, &g->sd);
	rt_gopark(rt_unlock_lock, MU_LOCK(wg), "wait group");
}
