/*
 * help.c — what `fptrace --help`, `fptrace help CMD` and `fptrace CMD --help`
 * print: every option of a command with its default and meaning.  The texts
 * live here, apart from the option parser, so main.c stays about parsing; the
 * man page (docs/fptrace.1) says the same at greater length, and
 * tests/integration/fptrace_help.sh holds the two to the parser.
 */
#include "help.h"

#include <string.h>

#ifndef FPTRACE_VERSION
#error "FPTRACE_VERSION is defined by the Makefile (VERSION)"
#endif

const char fpt_version[] = FPTRACE_VERSION;

static const char overview[] =
	"usage: fptrace COMMAND [OPTIONS] [-- CMD ARGS]\n"
	"\n"
	"Sample a program, unwind every sample both with frame pointers and with DWARF,\n"
	"and report the profile and every place where the frame-pointer chain is wrong.\n"
	"\n"
	"commands:\n"
	"  record   run CMD and write its samples to a .fpt file\n"
	"  report   the profile of a .fpt or perf.data file: text, folded, pprof, svg, json,\n"
	"           speedscope\n"
	"  check    cross-check frame pointers against DWARF; exit 3 on defects\n"
	"  run      record, then check, then the top of the report\n"
	"  audit    which functions of a program and its libraries break frame pointers\n"
	"  help     fptrace help COMMAND: that command's options\n"
	"\n"
	"  fptrace COMMAND --help   the options of COMMAND, with their defaults\n"
	"  fptrace --version        the version\n"
	"\n"
	"exit status: 0 clean, 1 error (bad input, I/O), 2 usage, 3 frame-pointer defects\n"
	"found (check and run), 4 no defects but CMD failed (run); record exits with\n"
	"CMD's own status.  The manual: man fptrace.\n";

/* Options that record and run share. */
#define RECORD_OPTIONS \
	"  -F HZ                samples per second of CPU time, 1 to 100000 (default 997).\n" \
	"                       fprt programs also take wall samples of goroutines that\n" \
	"                       are off CPU, at FPTRACE_WALL_HZ (default 97).\n" \
	"  -o FILE              where the samples go (default fptrace.fpt).\n" \
	"  --perf               sample with perf_event_open even an fprt program, which\n" \
	"                       otherwise profiles itself in process.\n" \
	"  -e EVENT             the sampling event, with perf_event_open (default\n" \
	"                       cpu-clock): cpu-clock, task-clock, or a hardware event\n" \
	"                       (cycles, instructions, branch-misses, ...) where the\n" \
	"                       machine has a PMU (a VM may have none: then it says so).\n" \
	"  -c PERIOD            a sample every PERIOD events (nanoseconds for the\n" \
	"                       clocks) instead of -F per second (default: -F).\n" \
	"  --no-inherit         sample CMD's first thread alone, not its other threads\n" \
	"                       nor the programs it starts.  By default they are\n" \
	"                       followed, and a program CMD starts (sh -c 'prog; x')\n" \
	"                       that takes more samples than CMD is what is recorded.\n" \
	"  --snapshot-max BYTES the stack copied with each sample, 64 to 65528 (default\n" \
	"                       65528, the kernel's limit).  DWARF cannot unwind past\n" \
	"                       it: a short copy gives dwarf-fail, never a defect.\n"

/* Options that check and run share. */
#define CHECK_OPTIONS \
	"  --backend B          the DWARF unwinder: libdw, libunwind or both (default\n" \
	"                       libdw).  With both, a sample is a defect only if both\n" \
	"                       backends call it one.\n" \
	"  --kind K             the samples checked: cpu, wall or all (default all).\n" \
	"  --max-defects N      defect samples in the code under test allowed before\n" \
	"                       exit status 3 (default 0).\n" \
	"  --strict             defects whose culprit is in a system library (/lib,\n" \
	"                       /usr/lib, ...) count too; by default they are listed\n" \
	"                       apart and do not fail the check.\n" \
	"  --all-sites          list every defect site of a module built without frame\n" \
	"                       pointers (most of its functions that call keep no\n" \
	"                       frame record, as fptrace audit decides); by default\n" \
	"                       such a module with two or more sites is one line: how\n" \
	"                       many of its functions break the chain, its sites and\n" \
	"                       its samples.\n"

/* report's and check's --pid. */
#define PID_OPTION \
	"  --pid PID[,PID...]   those processes' samples alone (default: every process\n" \
	"                       of a .fpt file; of a perf.data file, the most sampled\n" \
	"                       one).  A pid not in FILE: one line naming the file's\n" \
	"                       processes, exit 1.\n"

static const char record_help[] =
	"usage: fptrace record [-F HZ | -c PERIOD] [-e EVENT] [-o FILE] [--perf]\n"
	"                      [--snapshot-max BYTES] -- CMD ARGS\n"
	"       fptrace record -p PID[,PID...] [--duration SECONDS] [-F HZ | -c PERIOD]\n"
	"                      [-e EVENT] [-o FILE] [--snapshot-max BYTES]\n"
	"\n"
	"Runs CMD with its stdin, stdout and stderr untouched and writes its samples,\n"
	"mappings and threads to FILE.  A program linked with the fprt runtime profiles\n"
	"itself (CPU timers per thread, and wall samples of parked goroutines); any other\n"
	"program is sampled with perf_event_open: the kernel's frame-pointer callchain,\n"
	"the user registers and a copy of the user stack in every sample.  A program that\n"
	"crashes or is killed keeps its samples.\n"
	"\n"
	"options:\n"
	RECORD_OPTIONS
	"  -p PID[,PID...]      sample those running processes instead (up to 16), all\n"
	"                       their threads, with perf_event_open; they run on\n"
	"                       untouched when fptrace stops (default: run CMD).  Each\n"
	"                       process is a section of FILE (report --pid).\n"
	"  --duration SECONDS   with -p: stop after that long (default: at Ctrl-C,\n"
	"                       SIGTERM or SIGHUP, or when every process has ended).\n"
	"\n"
	"exit status: CMD's own, as time(1) gives it: its exit status, or 128+N when\n"
	"signal N killed it (the last line on stderr says how it ended); 1 CMD could not\n"
	"be started or FILE not written, 2 usage.\n";

static const char report_help[] =
	"usage: fptrace report [-i FILE] [--format F] [-o OUT] [--kind K] [--backend B] [--top N]\n"
	"                      [--pid PID[,PID...]]\n"
	"\n"
	"The profile of a recording.  Each sample's stack is its DWARF stack when DWARF\n"
	"unwound it, else its frame-pointer chain.\n"
	"\n"
	"options:\n"
	"  -i FILE              a .fpt file or a perf.data file (default fptrace.fpt).\n"
	"  --format F           text (default): functions by self time, with total time\n"
	"                       and sample counts, one table per kind of sample;\n"
	"                       folded: 'root;...;leaf count' lines for flamegraph.pl;\n"
	"                       pprof: a gzipped profile.proto for go tool pprof, samples\n"
	"                       where FP and DWARF disagree labelled fp_class;\n"
	"                       svg: a flame graph, defects marked, benign classes not\n"
	"                       painted, with search, zoom, icicle and defects-only views;\n"
	"                       json: the function table;\n"
	"                       speedscope: speedscope's file format, one profile per\n"
	"                       kind of sample, weights in nanoseconds.\n"
	"  -o OUT               where the report goes (default standard output; pprof:\n"
	"                       profile.pb.gz).\n"
	"  --kind K             cpu (time on a CPU), wall (goroutine time off CPU) or all\n"
	"                       (default all).  The text report gives each kind its own\n"
	"                       table; folded and svg add up the samples of every kind\n"
	"                       selected, so take --kind cpu for a CPU flame graph.\n"
	"  --backend B          the DWARF unwinder: libdw or libunwind (default libdw).\n"
	"  --top N              functions per table, text and json (default 20).\n"
	PID_OPTION
	"\n"
	"Time is weighed as pprof weighs it: a CPU sample stands for the timer periods it\n"
	"covers, a wall sample for its wall interval.\n"
	"\n"
	"exit status: 0 written, 1 FILE unreadable or damaged (the message names the\n"
	"offset), a --pid not in FILE, or OUT not written, 2 usage.\n";

static const char check_help[] =
	"usage: fptrace check [-i FILE] [--backend B] [--format F] [--kind K]\n"
	"                     [--max-defects N] [--strict] [--top N] [--all-sites]\n"
	"                     [--pid PID[,PID...]]\n"
	"\n"
	"Unwinds every sample again with DWARF from its registers and stack copy,\n"
	"compares that stack with the frame-pointer chain and gives each sample a class\n"
	"(match, leaf-window, fp-skips, fp-truncated, fp-leak, fp-stale, fp-diverge,\n"
	"dwarf-fail; man fptrace defines each).  Every defect is blamed on the frame\n"
	"that broke the chain, in the code under test or in a system library.\n"
	"\n"
	"options:\n"
	"  -i FILE              a .fpt file or a perf.data file recorded with\n"
	"                       --call-graph dwarf (default fptrace.fpt).\n"
	CHECK_OPTIONS
	"  --format F           text (default) or json.  json carries the verdict, the\n"
	"                       exit status and its reason, the class counts and every\n"
	"                       defect site.\n"
	"  --top N              defect sites listed per section, most samples first\n"
	"                       (default 20); the top 3 of the code under test show\n"
	"                       their frame-pointer and DWARF chains side by side.\n"
	"                       A module built without frame pointers is one line\n"
	"                       ahead of them (--all-sites).\n"
	PID_OPTION
	"\n"
	"With fewer than 100 samples, the verdict says how few it rests on.\n"
	"\n"
	"exit status: 0 no more defects than --max-defects, 1 FILE unreadable, a --pid\n"
	"not in FILE, or the samples cannot be judged: most have no stack copy (perf\n"
	"record --call-graph fp), or fewer than half could be unwound with DWARF and no\n"
	"defect was found; 2 usage, 3 frame-pointer defects found.\n";

static const char run_help[] =
	"usage: fptrace run [record options] [check options] -- CMD ARGS\n"
	"\n"
	"fptrace record, then fptrace check on the recording, then the top 10 functions\n"
	"of each kind of sample.  CMD's stdout stays its own: the check and the profile\n"
	"go to stderr (or --output-report), and the last line says how CMD ended.\n"
	"\n"
	"record options:\n"
	RECORD_OPTIONS
	"\n"
	"check options:\n"
	CHECK_OPTIONS
	"  --top N              defect sites listed per section (default 20).\n"
	"\n"
	"output options:\n"
	"  --output-report FILE where the check and the profile go (default standard\n"
	"                       error, so that CMD's standard output stays CMD's).\n"
	"\n"
	"exit status: 3 frame-pointer defects found (whatever CMD did); else 4 when CMD\n"
	"exited non-zero or was killed; else that of check: 0 clean, 1 error or cannot\n"
	"judge; 2 usage.  With fewer than 100 samples, run suggests a higher -F or a\n"
	"longer run.\n";

static const char audit_help[] =
	"usage: fptrace audit [FILE... | -p PID | -i in.fpt|perf.data] [--system]\n"
	"                     [--format text|json] [--top N] [--all]\n"
	"\n"
	"A static verdict per function of a program and of every shared object it loads:\n"
	"frame, leaf, no-frame (calls without a frame record: hides its caller),\n"
	"clobbers-rbp (writes rbp as a general register) or unknown, from the CFI and\n"
	"the instructions (Capstone), with the instruction that decided it.\n"
	"\n"
	"options:\n"
	"  FILE...              the objects, and the shared objects they need, resolved\n"
	"                       as ld.so resolves them.\n"
	"  -p PID               the executable mappings of a live process.\n"
	"  -i FILE              the mappings of a recording (.fpt or perf.data); the\n"
	"                       verdicts are then weighed by its samples: which breaking\n"
	"                       functions are on how many stacks, and which callers they\n"
	"                       hide.\n"
	"  --system             every shared object in the system library directories,\n"
	"                       ranked by the share of functions that break unwinding,\n"
	"                       with the Debian package that owns each.\n"
	"  --format F           text (default) or json (every function of every object).\n"
	"  --top N              breaking functions listed per object (default 20).\n"
	"  --all                list every function, not only the breaking ones.\n"
	"\n"
	"exit status: 0 every object was audited, 1 at least one could not be (one line\n"
	"each on stderr; the others are still audited), 2 usage.\n";

static const char help_help[] =
	"usage: fptrace help [COMMAND]\n"
	"\n"
	"Without COMMAND, the commands; with one, its options, defaults and exit status\n"
	"(the same as fptrace COMMAND --help).\n";

struct command_help {
	const char *name;
	const char *text;
};

static const struct command_help commands[] = {
	{ "record", record_help },
	{ "report", report_help },
	{ "check", check_help },
	{ "run", run_help },
	{ "audit", audit_help },
	{ "help", help_help },
};

void fpt_help_overview(FILE *out)
{
	fputs(overview, out);
}

int fpt_help_command(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, cmd)) {
			fputs(commands[i].text, out);
			return 0;
		}
	return -1;
}
