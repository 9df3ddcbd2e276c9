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
 * Runs with FPRT_MAXPROCS=1 (Go: -cpu 1).  Within one run a figure is the
 * minimum ns/op over BATCHES batches of ~BATCH_NS.  Against Go, one run says
 * little on a shared VM (Go's own figures move 1.5-2x between runs), so the
 * comparison is made of PAIRS paired runs that alternate which side goes first:
 * each pair is one run of this program's fprt side (a child process: rt_main
 * runs once per process) and one `go test -bench -count 1` of bench/peers/go.
 * The table gives the median of each side, the median of the per-pair ratios
 * and their range.  `-` when go is not installed or the peer did not run.
 *
 *   runtime [--tsv] [--no-peers] [--pairs N] [NAME...]
 *   --tsv:      NAME<TAB>NS_PER_OP<TAB>PEER_NS_PER_OP per line (medians)
 *   --no-peers: only fprt, one run, in this process
 *   --pairs N:  paired runs against Go (default 5, at least 1)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fprt.h"

#define BATCHES 5
#define BATCH_NS 100e6
#define MAX_PAIRS 50

struct bench {
	const char *name;
	const char *goname;             /* Benchmark<goname> in bench/peers/go */
	void (*run)(long n);            /* n operations, inside a goroutine */
	double ns;                      /* this process's run (--no-peers) */
	bool skip;
	/* paired runs: fprt[i] and go[i] of pair i (-1: that side did not run) */
	double fprt[MAX_PAIRS], go[MAX_PAIRS];
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
	{ .name = "gosched", .goname = "Gosched", .run = b_gosched },
	{ .name = "chan-pingpong", .goname = "ChanPingPong", .run = b_pingpong },
	{ .name = "spawn", .goname = "Spawn", .run = b_spawn },
	{ .name = "systemstack", .goname = "Systemstack", .run = b_systemstack },
	{ .name = "stack-grow-64k", .goname = "StackGrow64k", .run = b_grow },
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

static struct bench *find_bench(const char *name, bool go)
{
	for (size_t i = 0; i < NBENCH; i++)
		if (strcmp(go ? benches[i].goname : benches[i].name, name) == 0)
			return &benches[i];
	return NULL;
}

/* One `go test -bench` run; fills go[pair].  0, or -1 if go did not run. */
static int run_go_once(int pair)
{
	char dir[4096], cmd[8192];
	peers_dir(dir, sizeof dir);
	/* GOCACHE/GOPATH default under HOME, which CI may not have writable */
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && GOCACHE=${GOCACHE:-/tmp/fptrace-gocache} "
		 "GOPATH=${GOPATH:-/tmp/fptrace-gopath} GOFLAGS=-mod=mod "
		 "go test -run '^$' -bench . -cpu 1 -benchtime 300ms -count 1 2>/dev/null", dir);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[512], name[128];
	double ns;
	long iters;
	int got = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Benchmark%127s %ld %lf ns/op", name, &iters, &ns) != 3)
			continue;
		char *dash = strrchr(name, '-');       /* -cpu suffix, if any */
		if (dash)
			*dash = 0;
		struct bench *b = find_bench(name, true);
		if (b) {
			b->go[pair] = ns;
			got++;
		}
	}
	return pclose(f) == 0 && got ? 0 : -1;
}

/* One fprt run in a child process (this program, --tsv --no-peers); fills fprt[pair]. */
static int run_fprt_once(int pair, const char *self)
{
	char cmd[8192];
	int len = snprintf(cmd, sizeof cmd, "'%s' --tsv --no-peers", self);
	for (size_t i = 0; i < NBENCH && len < (int)sizeof cmd - 64; i++)
		if (!benches[i].skip)
			len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %s", benches[i].name);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[512], name[128];
	double ns;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%127[^\t]\t%lf", name, &ns) == 2) {
			struct bench *b = find_bench(name, false);
			if (b)
				b->fprt[pair] = ns;
		}
	int st = pclose(f);
	if (st != 0) {
		fprintf(stderr, "runtime: the fprt run of pair %d failed (status %d)\n", pair, st);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median, min and max of v[0..n) that are >= 0; the count of those. */
static int summarize(const double *v, int n, double *med, double *lo, double *hi)
{
	double s[MAX_PAIRS];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (v[i] >= 0)
			s[k++] = v[i];
	if (!k)
		return 0;
	qsort(s, (size_t)k, sizeof s[0], cmp_double);
	*med = k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
	*lo = s[0];
	*hi = s[k - 1];
	return k;
}

static void print_paired(int pairs, bool tsv)
{
	if (!tsv) {
		printf("%d paired runs, alternating which side goes first; medians, ratio range min-max\n",
		       pairs);
		printf("%-16s %12s %12s %8s %13s\n", "benchmark", "fprt ns/op", "go ns/op",
		       "fprt/go", "ratio range");
	}
	for (size_t i = 0; i < NBENCH; i++) {
		struct bench *b = &benches[i];
		if (b->skip)
			continue;
		double ratio[MAX_PAIRS], fm = -1, gm = -1, rm = -1, lo = 0, hi = 0, x, y;
		for (int p = 0; p < pairs; p++)
			ratio[p] = b->fprt[p] >= 0 && b->go[p] > 0 ? b->fprt[p] / b->go[p] : -1;
		summarize(b->fprt, pairs, &fm, &x, &y);
		summarize(b->go, pairs, &gm, &x, &y);
		int nr = summarize(ratio, pairs, &rm, &lo, &hi);
		char g[32] = "-", r[32] = "-", range[48] = "-";
		if (nr) {
			snprintf(g, sizeof g, "%.1f", gm);
			snprintf(r, sizeof r, "%.2f", rm);
			snprintf(range, sizeof range, "%.2f-%.2f", lo, hi);
		}
		if (tsv)
			printf("%s\t%.1f\t%s\n", b->name, fm, g);
		else
			printf("%-16s %12.1f %12s %8s %13s\n", b->name, fm, g, r, range);
	}
}

static int run_pairs(int pairs, bool tsv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		perror("runtime: readlink /proc/self/exe");
		return 1;
	}
	self[n] = 0;
	bool have_go = system("command -v go >/dev/null 2>&1") == 0;
	if (!have_go)
		fprintf(stderr, "runtime: go not found: fprt figures only\n");
	for (size_t i = 0; i < NBENCH; i++)
		for (int p = 0; p < MAX_PAIRS; p++)
			benches[i].fprt[p] = benches[i].go[p] = -1;
	for (int p = 0; p < pairs; p++) {
		/* Alternate the order, so a drift in the machine's load over the
		 * run does not always favour the same side. */
		if (p % 2 && have_go && run_go_once(p) < 0)
			fprintf(stderr, "runtime: go test failed in pair %d\n", p);
		if (run_fprt_once(p, self) < 0)
			return 1;
		if (!(p % 2) && have_go && run_go_once(p) < 0)
			fprintf(stderr, "runtime: go test failed in pair %d\n", p);
	}
	print_paired(pairs, tsv);
	return 0;
}

#define USAGE "usage: runtime [--tsv] [--no-peers] [--pairs N] [NAME...]"

int main(int argc, char **argv)
{
	bool tsv = false, peers = true, only = false;
	int pairs = 5;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tsv") == 0) {
			tsv = true;
		} else if (strcmp(argv[i], "--no-peers") == 0) {
			peers = false;
		} else if (strcmp(argv[i], "--pairs") == 0) {
			char *end = NULL;
			long v = i + 1 < argc ? strtol(argv[++i], &end, 10) : 0;
			if (!end || *end || v < 1 || v > MAX_PAIRS) {
				fprintf(stderr, "runtime: --pairs wants 1..%d, got '%s'\n", MAX_PAIRS,
					i < argc ? argv[i] : "");
				return 2;
			}
			pairs = (int)v;
		} else if (argv[i][0] != '-') {
			if (!only)
				for (size_t k = 0; k < NBENCH; k++)
					benches[k].skip = true;
			only = true;
			struct bench *b = find_bench(argv[i], false);
			if (!b) {
				fprintf(stderr, "runtime: no benchmark %s\n", argv[i]);
				return 2;
			}
			b->skip = false;
		} else {
			fprintf(stderr, "runtime: unknown option %s\n" USAGE "\n", argv[i]);
			return 2;
		}
	}
	if (peers)
		return run_pairs(pairs, tsv);
	setenv("FPRT_MAXPROCS", "1", 1);
	int rc = rt_main(benchmain, argc, argv);
	if (rc)
		return rc;
	if (!tsv)
		printf("%-16s %12s\n", "benchmark", "fprt ns/op");
	for (size_t i = 0; i < NBENCH; i++) {
		struct bench *b = &benches[i];
		if (b->skip)
			continue;
		if (tsv)
			printf("%s\t%.1f\t-\n", b->name, b->ns);
		else
			printf("%-16s %12.1f\n", b->name, b->ns);
	}
	return 0;
}
