/*
 * bench/runtime.c — fprt runtime primitives, side by side with Go.
 *
 *   gosched         two goroutines yielding to each other on one P (ns per
 *                   iteration of both, like Go's loop of runtime.Gosched)
 *   chan-pingpong   one unbuffered channel round trip
 *   spawn           rt_go + run + join (wait group)
 *   systemstack     rt_systemstack(empty) (Go peer: a no-op cgo call)
 *   stack-grow-64k  a new goroutine grows its stack from 16 KiB to 64 KiB by
 *                   copying (two moves), then exits
 *
 * Runs with FPRT_MAXPROCS=1 (Go: -cpu 1).  Each figure is the minimum ns/op
 * over BATCHES batches of ~BATCH_NS (least disturbed by a loaded machine).
 * The Go figures come from `go test -bench` in bench/peers/go, run by this
 * program; `-` when go is not installed or the peer did not run.
 *
 *   runtime [--tsv] [--no-peers] [NAME...]
 *   --tsv: NAME<TAB>NS_PER_OP<TAB>PEER_NS_PER_OP per line
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"

#define BATCHES 5
#define BATCH_NS 100e6

struct bench {
	const char *name;
	const char *goname;             /* Benchmark<goname> in bench/peers/go */
	void (*run)(long n);            /* n operations, inside a goroutine */
	double ns, peer;
	bool skip;
};

/* ---- the operations ---------------------------------------------------- */

static rt_waitgroup wg;

static void yield_n(void *p)
{
	for (long i = (long)p; i > 0; i--)
		rt_gosched();
	rt_wg_done(&wg);
}

static void b_gosched(long n)
{
	rt_wg_add(&wg, 1);
	rt_go(yield_n, (void *)n);
	for (long i = 0; i < n; i++)
		rt_gosched();
	rt_wg_wait(&wg);
}

static rt_chan *ping, *pong;

static void ponger(void *p)
{
	(void)p;
	long v;
	while (rt_chan_recv(ping, &v)) {
		v++;
		rt_chan_send(pong, &v);
	}
	rt_wg_done(&wg);
}

static void b_pingpong(long n)
{
	ping = rt_chan_new(sizeof(long), 0);
	pong = rt_chan_new(sizeof(long), 0);
	rt_wg_add(&wg, 1);
	rt_go(ponger, NULL);
	for (long i = 0; i < n; i++) {
		long v = i;
		rt_chan_send(ping, &v);
		rt_chan_recv(pong, &v);
	}
	rt_chan_close(ping);
	rt_wg_wait(&wg);
	rt_chan_free(ping);
	rt_chan_free(pong);
}

static void done(void *p) { (void)p; rt_wg_done(&wg); }

static void b_spawn(long n)
{
	for (long i = 0; i < n; i++) {
		rt_wg_add(&wg, 1);
		rt_go(done, NULL);
		rt_wg_wait(&wg);
	}
}

static volatile long sink;
static void empty(void *p) { sink += (long)p; }

static void b_systemstack(long n)
{
	for (long i = 0; i < n; i++)
		rt_systemstack(empty, NULL);
}

__attribute__((noinline)) static unsigned grow(int n)
{
	volatile unsigned char buf[512];
	RT_STACK_CHECK(1024);
	buf[n % 512] = (unsigned char)n;
	return n ? grow(n - 1) + buf[n % 512] : buf[0];
}

static void grower(void *p)
{
	(void)p;
	grow(90);               /* ~560 bytes a frame: past 32 KiB, within 64 KiB */
	rt_wg_done(&wg);
}

static void b_grow(long n)
{
	for (long i = 0; i < n; i++) {
		rt_wg_add(&wg, 1);
		rt_go(grower, NULL);
		rt_wg_wait(&wg);
	}
}

static struct bench benches[] = {
	{ "gosched", "Gosched", b_gosched, 0, -1, false },
	{ "chan-pingpong", "ChanPingPong", b_pingpong, 0, -1, false },
	{ "spawn", "Spawn", b_spawn, 0, -1, false },
	{ "systemstack", "Systemstack", b_systemstack, 0, -1, false },
	{ "stack-grow-64k", "StackGrow64k", b_grow, 0, -1, false },
};
#define NBENCH (sizeof benches / sizeof benches[0])

static double measure(void (*run)(long))
{
	long n = 1;
	uint64_t t;
	for (;;) {                     /* calibrate: a batch of ~BATCH_NS */
		uint64_t t0 = rt_nanotime();
		run(n);
		t = rt_nanotime() - t0;
		if (t > BATCH_NS / 10)
			break;
		n *= 4;
	}
	n = (long)((double)n * BATCH_NS / (double)t) + 1;
	double best = 1e18;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = rt_nanotime();
		run(n);
		double ns = (double)(rt_nanotime() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	return best;
}

static int benchmain(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NBENCH; i++)
		if (!benches[i].skip)
			benches[i].ns = measure(benches[i].run);
	return 0;
}

/* ---- Go peers ------------------------------------------------------------ */

static void peers_dir(char *out, size_t len)
{
	const char *env = getenv("FPRT_BENCH_PEERS");
	if (env) {
		snprintf(out, len, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = 0;
	char *slash = strrchr(self, '/');          /* BUILD/bench/runtime */
	if (slash)
		*slash = 0;
	snprintf(out, len, "%.3900s/../../bench/peers/go", self);
	if (access(out, R_OK) != 0)
		snprintf(out, len, "bench/peers/go");
}

static void run_peers(void)
{
	if (system("command -v go >/dev/null 2>&1") != 0)
		return;
	char dir[4096], cmd[8192];
	peers_dir(dir, sizeof dir);
	/* GOCACHE/GOPATH default under HOME, which CI may not have writable */
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && GOCACHE=${GOCACHE:-/tmp/fptrace-gocache} "
		 "GOPATH=${GOPATH:-/tmp/fptrace-gopath} GOFLAGS=-mod=mod "
		 "go test -run '^$' -bench . -cpu 1 -benchtime 300ms -count 3 2>/dev/null", dir);
	FILE *f = popen(cmd, "r");
	if (!f)
		return;
	char line[512], name[128];
	double ns;
	long iters;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Benchmark%127s %ld %lf ns/op", name, &iters, &ns) != 3)
			continue;
		char *dash = strrchr(name, '-');       /* -cpu suffix, if any */
		if (dash)
			*dash = 0;
		for (size_t i = 0; i < NBENCH; i++)
			if (strcmp(benches[i].goname, name) == 0 &&
			    (benches[i].peer < 0 || ns < benches[i].peer))
				benches[i].peer = ns;      /* best of -count runs */
	}
	pclose(f);
}

int main(int argc, char **argv)
{
	bool tsv = false, peers = true, only = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = true;
		} else if (strcmp(argv[i], "--no-peers") == 0) {
			peers = false;
		} else if (argv[i][0] != '-') {
			if (!only)
				for (size_t k = 0; k < NBENCH; k++)
					benches[k].skip = true;
			only = true;
			size_t k;
			for (k = 0; k < NBENCH && strcmp(benches[k].name, argv[i]) != 0; k++)
				;
			if (k == NBENCH) {
				fprintf(stderr, "runtime: no benchmark %s\n", argv[i]);
				return 2;
			}
			benches[k].skip = false;
		} else {
			fprintf(stderr, "usage: runtime [--tsv] [--no-peers] [NAME...]\n");
			return 2;
		}
	}
	setenv("FPRT_MAXPROCS", "1", 1);
	int rc = rt_main(benchmain, argc, argv);
	if (rc)
		return rc;
	if (peers)
		run_peers();
	if (!tsv)
		printf("%-16s %12s %12s %8s\n", "benchmark", "fprt ns/op", "go ns/op", "fprt/go");
	for (size_t i = 0; i < NBENCH; i++) {
		struct bench *b = &benches[i];
		if (b->skip)
			continue;
		char peer[32] = "-", ratio[32] = "-";
		if (b->peer >= 0) {
			snprintf(peer, sizeof peer, "%.1f", b->peer);
			snprintf(ratio, sizeof ratio, "%.2f", b->ns / b->peer);
		}
		if (tsv)
			printf("%s\t%.1f\t%s\n", b->name, b->ns, peer);
		else
			printf("%-16s %12.1f %12s %8s\n", b->name, b->ns, peer, ratio);
	}
	return 0;
}
