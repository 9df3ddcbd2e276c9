/*
 * bench/prof/prof.h — the pieces of build/bench/prof (main.c says what it
 * measures): running a child and reading its recording (util.c), the workload
 * under each configuration and its overheads (overhead.c), the handler
 * measured directly (handler.c), the cross-check and perf's bytes per sample
 * (crosscheck.c).
 */
#ifndef BENCH_PROF_H
#define BENCH_PROF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_AUTO_ROUNDS 25
#define MIN_ROUNDS 5
#define ROUNDS_BUDGET 60.0      /* seconds for the overhead rounds, by default */
#define DEF_UNITS 40000L        /* ~0.45 s of CPU time (2 goroutines) */
#define XC_FACTOR 6             /* the cross-check recording: 6x the work */
#define XC_TINY_UNITS 2000L
#define XC_REPS 5
#define MAX_ROUNDS 101
#define HANDLER_DEPTH 10
#define HANDLER_BATCH 200
#define HANDLER_BATCHES 30
#define HANDLER_REPS 3

extern char tmpdir[PATH_MAX];
extern char cpuwork[PATH_MAX], fptrace[PATH_MAX], self[PATH_MAX];
extern int verbose;          /* progress on stderr (when it is a terminal) */

/* ---- util.c ---- */
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void progress(const char *fmt, ...);
double now_s(void);
double sqrt_(double x);
double vmin(const double *v, int n);
double vmax(const double *v, int n);
double vmedian(const double *v, int n);
double median_se(const double *v, int n);
const char *pct(double v, char *buf, size_t len);

struct child {
	double wall, cpu;            /* seconds */
	int status;                  /* wait status */
	char out[8192];              /* stdout (and stderr if asked), truncated */
};

/*
 * Runs argv with env ("NAME=VALUE" strings, NULL-terminated, may be NULL) added
 * to this environment minus every FPTRACE_* variable; captures stdout (and
 * stderr with merge_stderr).  Wall time is fork to reap; CPU time is the
 * child's user+sys from wait4 (its threads included).  -1 if it could not run.
 */
int run_child(char *const argv[], const char *const env[], int merge_stderr,
	      struct child *c);
const char *describe_status(int st, char *buf, size_t len);

struct fpt_stats {
	uint64_t cpu, wall, drops;       /* samples */
	uint32_t cpu_source;             /* SAMPLING's, 0 if the file has none */
	uint64_t bytes;                  /* file size */
	uint64_t cpu_rec_bytes;          /* CPU sample records, headers included */
	uint64_t snap_bytes;             /* stack bytes in CPU samples */
};
void read_fpt(const char *path, struct fpt_stats *st);

/* ---- overhead.c ---- */
enum { C_BASE, C_FP997, C_FP9973, C_SNAP997, C_SNAP9973, C_TIMER997, C_PBASE, C_PCAP,
       C_PNOCAP, NCONF };

#define PARKED 10000

struct conf {
	const char *name;
	unsigned hz;                 /* 0: unprofiled */
	long snap;                   /* FPTRACE_SNAPSHOT_MAX */
	int base;                    /* the unprofiled configuration it is paired with */
	long parked;                 /* cpuwork -p */
	const char *wall_cap;        /* FPTRACE_WALL_CAP, NULL: the default */
	const char *mode;            /* FPRT_PROF_MODE, NULL: the default */
	double cpu[MAX_ROUNDS], wall[MAX_ROUNDS], samples[MAX_ROUNDS], wallsamples[MAX_ROUNDS];
	double writer[MAX_ROUNDS];   /* the writer thread's CPU seconds */
	double rate[MAX_ROUNDS];     /* CPU samples per CPU second */
	double bps[MAX_ROUNDS];      /* .fpt bytes per CPU sample */
	double ocpu[MAX_ROUNDS], owall[MAX_ROUNDS];   /* overhead against the same round */
	struct fpt_stats last;
	/* results: "min" compares the minima, "med" is the median of the paired
	 * (same round) overheads, se its standard error */
	double cpu_min, cpu_med, wall_min, wall_med;
	double ovh_cpu_min, ovh_cpu_med, ovh_wall_min, ovh_wall_med, se_cpu, se_wall;
	double samp_med, eff_hz, ns_per_sample;
	double ovh_cpu_lo, ovh_cpu_hi;   /* range of the paired overheads */
	double writer_med, wallsamp_med;
	double rate_lo, rate_hi;         /* range of the rounds' rates */
	double bps_med, bps_lo, bps_hi;  /* of the rounds' bytes per CPU sample */
};
extern struct conf confs[NCONF];
extern char checksum[64];
extern int nprocs;

void workload_args(long units, char *nbuf, size_t nlen, char *gbuf, size_t glen,
		   char *argv[]);
void run_workload(long units, unsigned hz, long snap, const char *out,
		  struct child *c, int check_sum, const struct conf *cf);
int measure_overheads(int max_rounds, double budget, long units);
void print_rates(double cost_fp, double cost_snap);

/* ---- handler.c ---- */
struct handler_result {
	double noop_ns, prof_ns;
	struct fpt_stats st;
	int ok;
};
int handler_main(int argc, char **argv);
void measure_handler(long snap, struct handler_result *h);

/* ---- crosscheck.c ---- */
struct xc_result {
	double wall, cpu;            /* best of XC_REPS, seconds */
	uint64_t samples;            /* as check counted them */
};

struct xc {
	const char *backend;
	struct xc_result big, tiny;
	double net_wall, net_cpu, gross_wall;     /* samples per second */
};

void measure_crosscheck(long units, struct xc xc[2], struct fpt_stats *bigst);

struct perf_result {
	int ok;
	char note[256];
	uint64_t samples, bytes;
};

void measure_perf(long units, struct perf_result *pr);

#endif
