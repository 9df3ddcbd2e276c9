/*
 * perf_record.h — sample any program with perf_event_open, the way
 * `perf record --call-graph fp` and `perf record --call-graph dwarf` do, both in
 * the same sample, and write the samples to a .fpt file (fpu_record.h).
 *
 * Each sample carries the kernel's frame-pointer callchain (user part only:
 * exactly what `perf --call-graph fp` sees), the user registers and a dump of
 * the user stack from sp up (what `perf --call-graph dwarf` unwinds), so that
 * `fptrace check` can compare the two on the same sample.
 *
 * Events: one sampling event per CPU (cpu-clock unless o->event names another),
 * attached to the child with inherit (like perf record), so every thread of
 * the program and every process it starts is sampled (o->no_inherit: its
 * first thread alone); enabled at exec; user space only.
 *
 * What the file holds.  One section (docs/FORMAT.md: PROCESS, then its
 * records) per process with samples: the one started, with every thread of
 * its process and of the processes it forks that run the same image, and
 * each program its children exec (a wrapper script that starts the
 * workload; perf_exec.h), the most sampled first.  END's how is the started
 * program's fate when its section comes first, else unknown (the first is
 * not our child).  Beyond 64 exec'd programs, samples are counted as
 * "foreign".  File mappings come from the kernel's MMAP2 records (only the
 * executable ones, with build-id when the kernel gives it); any executable
 * file mapping that was already there when the program started and that the
 * kernel did not report is added from /proc/PID/maps read just after exec,
 * right after PROCESS (a file cut short keeps what its samples need).
 * Records are decoded in time order across the per-CPU ring buffers (a
 * child's FORK before its exec and samples); a reader should still read all
 * mappings first.
 *
 * The file: header, PROCESS (first record), then MAPPING / THREAD / SAMPLE /
 * DROPS records (then more sections), then END (last): exited with status N, or killed by signal N,
 * with the totals.  A program that crashes or is killed keeps its samples.
 */
#ifndef FPT_PERF_RECORD_H
#define FPT_PERF_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fpt_record_opts {
	unsigned hz;             /* sampling frequency; 0: 997 */
	uint32_t snapshot_max;   /* user stack bytes per sample; 0: 32768.  Rounded
				    down to a multiple of 8 and capped at 65528 (the
				    kernel's limit; the kernel may also shrink a dump
				    so that the sample fits in 64 KiB) */
	const char *out_path;    /* the .fpt file to write (created or truncated) */
	int status_line;         /* live status (samples, rate, lost) on stderr,
				    only when stderr is a terminal */
	const char *event;       /* -e: fpt_perf_event.h's names; NULL: cpu-clock */
	uint64_t period;         /* -c: sample every period events (ns for the
				    clocks) instead of hz times a second; 0: hz */
	int no_inherit;          /* sample the started task alone: not its threads,
				    nor the processes it starts */
	uint64_t duration_ns;    /* fpt_perf_attach: stop after this long; 0: at
				    SIGINT, SIGTERM, SIGHUP or the process's end */
};

/*
 * Run argv[0] (searched in PATH like execvp) with argv, its stdin, stdout and
 * stderr untouched, under sampling, and write o->out_path.
 *
 * Returns 0 when the program ran (whatever its exit status) and the file was
 * written completely; *wstatus (if not NULL) then holds its wait status
 * (WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG).  The caller decides what
 * exit status to give: the usual convention is the program's own exit status,
 * or 128 + signal when it was killed.
 *
 * Returns -1 with a one-line reason in err (and nothing printed) when the
 * output file cannot be created, the program cannot be executed
 * ("CMD: No such file or directory", "CMD: Permission denied"), sampling is
 * not permitted ("... kernel.perf_event_paranoid is 3 ..."), or the file could
 * not be written.  When the program could not be started no file is left
 * behind, and no child is left running or unreaped.  If writing fails while
 * the program runs, the program is left to finish, then -1 is returned.
 *
 * SIGINT, SIGTERM and SIGHUP sent to fptrace (by kill, not by the terminal,
 * which signals the program directly) are forwarded to the program; the file
 * is completed with END when the program ends.  The previous dispositions are
 * restored on return.
 */
int fpt_perf_record(char *const argv[], const struct fpt_record_opts *o, int *wstatus,
		    char *err, size_t errlen);

/*
 * Sample processes pids[0, npids), which run already, with all their threads
 * (and the threads and processes they create from now on), into
 * o->out_path, until SIGINT, SIGTERM or SIGHUP reaches fptrace,
 * o->duration_ns has passed, or they all ended; then stop sampling and leave
 * them running untouched, as `perf record -p` does.  Their mappings come from
 * /proc/PID/maps at attach time, then from the kernel's MMAP2 records.  Each
 * process is one PROCESS section of the file (docs/FORMAT.md), the most
 * sampled first.  END says FPU_END_HOW_UNKNOWN (they are not our children).
 * 0, or -1 with a one-line reason in err ("-p 123: no such process", the
 * perf_event_open errors of fpt_perf_record).
 */
#define FPT_ATTACH_MAX 16
int fpt_perf_attach(const uint32_t *pids, size_t npids, const struct fpt_record_opts *o,
		    char *err, size_t errlen);

/*
 * The actual values used for o's defaults and limits: the sampling frequency
 * and the stack dump size requested from the kernel.
 */
unsigned fpt_perf_hz(const struct fpt_record_opts *o);
uint32_t fpt_perf_stack_size(const struct fpt_record_opts *o);

#endif
