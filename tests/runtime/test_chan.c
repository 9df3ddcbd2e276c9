/* Channels: order, close, blocking across Ms, many senders and receivers. */
#include <string.h>

#include "helpers.h"

struct pipe_arg { rt_chan *c; int n; rt_waitgroup *wg; };

static void producer(void *p)
{
	struct pipe_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		rt_chan_send(a->c, &i);
		if (i % 7 == 0)
			RT_STACK_CHECK(512);
	}
	rt_chan_close(a->c);
}

static void check_order(size_t cap)
{
	rt_chan *c = rt_chan_new(sizeof(int), cap);
	struct pipe_arg a = { c, 5000, NULL };
	rt_go(producer, &a);
	int v, want = 0;
	while (rt_chan_recv(c, &v)) {
		CHECK(v == want, "cap %zu: received %d, want %d", cap, v, want);
		want++;
	}
	CHECK(want == 5000, "cap %zu: %d values before close", cap, want);
	v = 123;
	CHECK(!rt_chan_recv(c, &v) && v == 0, "recv on closed channel: ok or value %d", v);
	rt_chan_free(c);
}

static int order(int argc, char **argv)
{
	(void)argc; (void)argv;
	check_order(0);
	check_order(1);
	check_order(16);
	return 0;
}
RT_TEST(chan, order, order, 120)

static int close_drains(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(sizeof(long), 4);
	for (long i = 1; i <= 3; i++)
		rt_chan_send(c, &i);
	rt_chan_close(c);
	CHECK(rt_chan_len(c) == 3, "len %zu", rt_chan_len(c));
	long v;
	for (long i = 1; i <= 3; i++)
		CHECK(rt_chan_recv(c, &v) && v == i, "drain %ld got %ld", i, v);
	CHECK(!rt_chan_recv(c, &v), "closed and drained");
	rt_chan_free(c);
	return 0;
}
RT_TEST(chan, close_drains_buffer, close_drains, 60)

struct waiter { rt_chan *c; rt_chan *done; };

static void blocked_receiver(void *p)
{
	struct waiter *w = p;
	int v = -1;
	bool ok = rt_chan_recv(w->c, &v);
	int r = ok ? 1000 + v : v;
	rt_chan_send(w->done, &r);
}

static int close_wakes(int argc, char **argv)
{
	(void)argc; (void)argv;
	/* static: the receivers hold &w while wait_until_parked may move this
	 * stack; ids too: UBSan's bounds check of ids[i] keeps a value derived
	 * from &ids in a register across the call, which no move relocates */
	static struct waiter w;
	w = (struct waiter){ rt_chan_new(sizeof(int), 0), rt_chan_new(sizeof(int), 8) };
	static uint64_t ids[8];
	for (int i = 0; i < 8; i++)
		ids[i] = rt_go(blocked_receiver, &w);
	/* close must find all eight parked, or it would test recv-after-close instead */
	for (int i = 0; i < 8; i++)
		wait_until_parked(ids[i], "chan receive");
	rt_chan_close(w.c);
	for (int i = 0; i < 8; i++) {
		int r;
		CHECK(rt_chan_recv(w.done, &r) && r == 0, "receiver %d woke with %d", i, r);
	}
	return 0;
}
RT_TEST(chan, close_wakes_receivers, close_wakes, 60)

/* Ping-pong between goroutines that run on different Ms: the receiver parks on
 * one M and is readied from another.  Each side spins a little so that both
 * Ps are busy and the pair is spread over the two Ms. */
struct pp { rt_chan *ping, *pong; int n; rt_waitgroup *wg; };

static void ponger(void *p)
{
	struct pp *a = p;
	int v;
	while (rt_chan_recv(a->ping, &v)) {
		v++;
		rt_chan_send(a->pong, &v);
	}
	rt_wg_done(a->wg);
}

static int pingpong(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_waitgroup wg = RT_WAITGROUP_INIT;
	struct pp a = { rt_chan_new(sizeof(int), 0), rt_chan_new(sizeof(int), 0), 20000, &wg };
	rt_wg_add(&wg, 1);
	rt_go(ponger, &a);
	int v = 0;
	for (int i = 0; i < a.n; i++) {
		rt_chan_send(a.ping, &v);
		CHECK(rt_chan_recv(a.pong, &v), "pong closed");
	}
	CHECK(v == a.n, "value %d after %d round trips", v, a.n);
	rt_chan_close(a.ping);
	rt_wg_wait(&wg);
	rt_chan_free(a.ping);
	rt_chan_free(a.pong);
	return 0;
}
RT_TEST(chan, pingpong_across_ms, pingpong, 120)

#define NS 8
#define NR 8
#define PER 2000

static _Atomic long long got_sum;
static _Atomic int got_n;

static void sender(void *p)
{
	struct pipe_arg *a = p;
	for (int i = 1; i <= PER; i++)
		rt_chan_send(a->c, &i);
	rt_wg_done(a->wg);
}

static void receiver(void *p)
{
	struct pipe_arg *a = p;
	int v;
	long long s = 0;
	int n = 0;
	while (rt_chan_recv(a->c, &v)) {
		s += v;
		n++;
	}
	got_sum += s;
	got_n += n;
	rt_wg_done(a->wg);
}

static void many_to_many(size_t cap)
{
	got_sum = 0;
	got_n = 0;
	rt_waitgroup ws = RT_WAITGROUP_INIT, wr = RT_WAITGROUP_INIT;
	rt_chan *c = rt_chan_new(sizeof(int), cap);
	struct pipe_arg as = { c, 0, &ws }, ar = { c, 0, &wr };
	rt_wg_add(&ws, NS);
	rt_wg_add(&wr, NR);
	for (int i = 0; i < NR; i++)
		rt_go(receiver, &ar);
	for (int i = 0; i < NS; i++)
		rt_go(sender, &as);
	rt_wg_wait(&ws);
	rt_chan_close(c);
	rt_wg_wait(&wr);
	rt_chan_free(c);
	CHECK(got_n == NS * PER, "cap %zu: %d values received", cap, (int)got_n);
	CHECK(got_sum == (long long)NS * PER * (PER + 1) / 2, "cap %zu: sum %lld", cap,
	      (long long)got_sum);
}

static int many(int argc, char **argv)
{
	(void)argc; (void)argv;
	many_to_many(0);
	many_to_many(3);
	many_to_many(64);
	return 0;
}
RT_TEST(chan, many_senders_receivers, many, 120)

static int send_closed(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(sizeof(int), 1);
	rt_chan_close(c);
	int v = 1;
	rt_chan_send(c, &v);
	return 0;
}

Test(chan, send_on_closed_is_fatal, .timeout = 60)
{
	struct child_result r = run_child(send_closed, NULL);
	cr_assert_eq(r.status, 2, "status %d", r.status);
	cr_assert(strstr(r.err, "fatal error: send on closed channel"), "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "goroutine 1 [running]:"), "stderr:\n%s", r.err);
	child_result_free(&r);
}

/* ---- one P: the channel lock is elided (chan.c) ------------------------------- */

/* The bodies above again with FPRT_MAXPROCS=1, where no channel operation
 * takes the lock and only the P's handoffs order them. */
static void one_p(int (*body)(int, char **))
{
	setenv("FPRT_MAXPROCS", "1", 1);
	rt_test_run(body, NULL);
}

Test(chan_one_p, order, .timeout = 120) { one_p(order); }
Test(chan_one_p, close_drains_buffer, .timeout = 60) { one_p(close_drains); }
Test(chan_one_p, close_wakes_receivers, .timeout = 60) { one_p(close_wakes); }
Test(chan_one_p, pingpong, .timeout = 120) { one_p(pingpong); }
Test(chan_one_p, many_senders_receivers, .timeout = 120) { one_p(many); }

/* Every operation but new and free needs a goroutine: close and len too,
 * since with one P a caller without it would bypass the elided lock. */
static void len_on_g0(void *c) { rt_chan_len(c); }
static void close_on_g0(void *c) { rt_chan_close(c); }

static int chan_len_on_g0(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_systemstack(len_on_g0, rt_chan_new(sizeof(int), 1));
	return 0;
}

static int chan_close_on_g0(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_systemstack(close_on_g0, rt_chan_new(sizeof(int), 1));
	return 0;
}

Test(chan, len_and_close_outside_a_goroutine_are_fatal, .timeout = 60)
{
	const char *const procs[][2] = { { "FPRT_MAXPROCS=1", NULL }, { "FPRT_MAXPROCS=2", NULL } };
	for (int i = 0; i < 2; i++) {
		struct child_result r = run_child(chan_len_on_g0, procs[i]);
		cr_assert_eq(r.status, 2, "%s: status %d, stderr:\n%s", procs[i][0], r.status, r.err);
		cr_assert(strstr(r.err, "fatal error: rt_chan_len called outside a goroutine"),
			  "%s: stderr:\n%s", procs[i][0], r.err);
		child_result_free(&r);
		r = run_child(chan_close_on_g0, procs[i]);
		cr_assert_eq(r.status, 2, "%s: status %d, stderr:\n%s", procs[i][0], r.status, r.err);
		cr_assert(strstr(r.err, "fatal error: rt_chan_close called outside a goroutine"),
			  "%s: stderr:\n%s", procs[i][0], r.err);
		child_result_free(&r);
	}
}

/* Internal (runtime/src/rt.h): the goroutine enters a syscall and its M gives
 * up the P, as the runtime's own syscall wrappers do around the call. */
void rt_entersyscall(void);

static int chan_in_syscall(int argc, char **argv)
{
	(void)argc; (void)argv;
	rt_chan *c = rt_chan_new(sizeof(int), 1);
	rt_entersyscall();
	rt_chan_len(c);
	return 0;
}

/* With one P, a goroutine whose M has no P must not touch a channel: the
 * elided lock is sound only for the P's owner. */
Test(chan_one_p, operation_without_a_p_is_fatal, .timeout = 60)
{
	const char *const env[] = { "FPRT_MAXPROCS=1", NULL };
	struct child_result r = run_child(chan_in_syscall, env);
	cr_assert_eq(r.status, 2, "status %d, stderr:\n%s", r.status, r.err);
	cr_assert(strstr(r.err, "fatal error: rt_chan_len on channel") &&
		  strstr(r.err, "in a syscall (M"), "stderr:\n%s", r.err);
	child_result_free(&r);
}
