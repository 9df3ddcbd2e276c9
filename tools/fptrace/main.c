/*
 * fptrace — sample a program, cross-check every sample's frame-pointer chain
 * against DWARF unwinding of the same registers and stack, report profiles and
 * frame-pointer defects.
 *
 * Exit status: 0 clean, 1 error (bad input, I/O), 2 usage, 3 defects found;
 * record passes on the program's status (128+N when signal N killed it), and
 * run exits 4 when it found no defects but the program failed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "analyze.h"
#include "audit.h"
#include "check.h"
#include "help.h"
#include "profile.h"
#include "record.h"
#include "fpt_perf_event.h"
#include "report.h"
#include "perfdata.h"

enum { EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_DEFECTS = 3, EXIT_PROGRAM_FAILED = 4 };

/*
 * Every option of every command; each command accepts its own subset, listed
 * as a string of these ids.  Long-only options get letters that are not in the
 * short option string, so they cannot be typed as short options.
 */
enum opt {
	OPT_HZ = 'F', OPT_OUT = 'o', OPT_IN = 'i', OPT_HELP = 'h',
	OPT_PERF = 'P', OPT_SNAPSHOT = 'S', OPT_FORMAT = 'f', OPT_KIND = 'k',
	OPT_BACKEND = 'b', OPT_TOP = 't', OPT_MAX_DEFECTS = 'm', OPT_STRICT = 's',
	OPT_OUTPUT_REPORT = 'R', OPT_EVENT = 'e', OPT_PERIOD = 'c', OPT_PID = 'p',
	OPT_DURATION = 'D', OPT_NO_INHERIT = 'N', OPT_ALL_SITES = 'A', OPT_SELECT_PID = 'I',
};

struct options {
	struct fpt_record_cmd rec;
	const char *in, *out, *format;
	const char *report_path;   /* run --output-report: the report there, not stderr */
	struct fpt_analysis_opts an;
	uint32_t pids[FPT_PIDS_MAX];   /* report/check --pid: an.pids */
	struct fpt_check_opts chk;
	unsigned top;
};

/* One line: what was wrong, and where the options are explained. */
static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "fptrace%s%s: ", cmd[0] ? " " : "", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'fptrace %s%s--help')\n", cmd, cmd[0] ? " " : "");
	return EXIT_USAGE;
}

static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* "PID[,PID...]" (perf's --pid and -p) into pids, without repeats: how many,
 * or 0 when arg is not such a list (or has more than max). */
static size_t parse_pid_list(const char *arg, uint32_t *pids, size_t max)
{
	char buf[1024];
	size_t n = 0;
	if (strlen(arg) >= sizeof buf)
		return 0;
	memcpy(buf, arg, strlen(arg) + 1);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long long v;
		if (parse_number(tok, INT_MAX, &v) || v == 0)
			return 0;
		int seen = 0;
		for (size_t i = 0; i < n; i++)
			seen |= pids[i] == v;
		if (seen)
			continue;
		if (n == max)
			return 0;
		pids[n++] = (uint32_t)v;
	}
	/* "1,,2", ",1", "1,": an empty element is a mistake, not nothing */
	if (arg[0] == ',' || strstr(arg, ",,") || (arg[0] && arg[strlen(arg) - 1] == ','))
		return 0;
	return n;
}

static int parse_kind(const char *s, unsigned *kinds)
{
	if (!strcmp(s, "cpu"))
		*kinds = FPT_KIND_CPU;
	else if (!strcmp(s, "wall"))
		*kinds = FPT_KIND_WALL;
	else if (!strcmp(s, "all"))
		*kinds = FPT_KIND_CPU | FPT_KIND_WALL;
	else
		return -1;
	return 0;
}

static int parse_backend(const char *s, unsigned *backends)
{
	if (!strcmp(s, "libdw"))
		*backends = FPT_BACKEND_LIBDW;
	else if (!strcmp(s, "libunwind"))
		*backends = FPT_BACKEND_LIBUNWIND;
	else if (!strcmp(s, "both"))
		*backends = FPT_BACKEND_LIBDW | FPT_BACKEND_LIBUNWIND;
	else
		return -1;
	return 0;
}

/* One option's value into o; 0, or a usage exit status. */
static int apply_option(const char *cmd, int c, const char *arg, struct options *o)
{
	unsigned long long v;

	switch (c) {
	case OPT_HZ:
		if (parse_number(arg, 100000, &v) || v == 0)
			return usage_error(cmd, "-F wants a rate in Hz from 1 to 100000, not '%s'", arg);
		o->rec.hz = (unsigned)v;
		return 0;
	case OPT_SNAPSHOT:
		if (parse_number(arg, 65528, &v) || v < 64)
			return usage_error(cmd, "--snapshot-max wants 64 to 65528 bytes, not '%s'", arg);
		o->rec.snapshot_max = (uint32_t)(v & ~7ull);
		return 0;
	case OPT_PERF: o->rec.force_perf = 1; return 0;
	case OPT_NO_INHERIT: o->rec.no_inherit = 1; return 0;
	case OPT_EVENT:
		if (!fpt_perf_event_find(arg)) {
			char names[256], msg[400];
			fpt_perf_event_names(names, sizeof names);
			snprintf(msg, sizeof msg, "-e %s: no such event (there are %s)", arg, names);
			return usage_error(cmd, "%s", msg);
		}
		o->rec.event = arg;
		return 0;
	case OPT_PID:
		o->rec.nattach = parse_pid_list(arg, o->rec.attach_pids, FPT_ATTACH_MAX);
		if (!o->rec.nattach)
			return usage_error(cmd, "-p wants process ids, PID[,PID...] (at most 16), "
					   "not '%s'", arg);
		return 0;
	case OPT_SELECT_PID:
		o->an.npids = parse_pid_list(arg, o->pids, FPT_PIDS_MAX);
		o->an.pids = o->pids;
		if (!o->an.npids)
			return usage_error(cmd, "--pid wants process ids, PID[,PID...] (at most 64), "
					   "not '%s'", arg);
		return 0;
	case OPT_DURATION: {
		char *end;
		double secs = strtod(arg, &end);
		if (end == arg || *end || !(secs > 0) || secs > 1e6)
			return usage_error(cmd, "--duration wants seconds, more than 0, not '%s'", arg);
		o->rec.duration_ns = (uint64_t)(secs * 1e9);
		return 0;
	}
	case OPT_PERIOD:
		if (parse_number(arg, 1ull << 62, &v) || v == 0)
			return usage_error(cmd, "-c wants a positive number of events, not '%s'", arg);
		o->rec.period = v;
		return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_OUTPUT_REPORT: o->report_path = arg; return 0;
	case OPT_IN: o->in = arg; return 0;
	case OPT_FORMAT: o->format = arg; return 0;
	case OPT_STRICT: o->chk.strict = 1; return 0;
	case OPT_ALL_SITES: o->chk.all_sites = 1; return 0;
	case OPT_KIND:
		if (parse_kind(arg, &o->an.kinds))
			return usage_error(cmd, "--kind wants cpu, wall or all, not '%s'", arg);
		return 0;
	case OPT_BACKEND:
		if (parse_backend(arg, &o->an.backends))
			return usage_error(cmd, "--backend wants libdw, libunwind or both, not '%s'", arg);
		return 0;
	case OPT_TOP:
		if (parse_number(arg, 100000, &v) || v == 0)
			return usage_error(cmd, "--top wants a positive number, not '%s'", arg);
		o->top = (unsigned)v;
		return 0;
	case OPT_MAX_DEFECTS:
		if (parse_number(arg, ULLONG_MAX, &v))
			return usage_error(cmd, "--max-defects wants a number, not '%s'", arg);
		o->chk.max_defects = v;
		return 0;
	}
	return usage_error(cmd, "unknown option%s", "");
}

/*
 * Parse argv for command cmd, accepting only the options in `allowed`
 * (getopt_long letters/ids).  Returns 0, or an exit status to return at once.
 */
static int parse(int argc, char **argv, const char *cmd, const char *allowed,
		 struct options *o, int *first_arg)
{
	static const struct option longopts[] = {
		{ "perf", no_argument, NULL, OPT_PERF },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "no-inherit", no_argument, NULL, OPT_NO_INHERIT },
		{ "snapshot-max", required_argument, NULL, OPT_SNAPSHOT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "max-defects", required_argument, NULL, OPT_MAX_DEFECTS },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "output-report", required_argument, NULL, OPT_OUTPUT_REPORT },
		{ "all-sites", no_argument, NULL, OPT_ALL_SITES },
		{ "pid", required_argument, NULL, OPT_SELECT_PID },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0, 0, 0, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:F:o:i:he:c:p:", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fpt_help_command(stdout, cmd);
			return -1;
		}
		if (c == '?')
			return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if (!strchr(allowed, c))
			return usage_error(cmd, "option '%s' does not apply to this command",
					   argv[optind - 1]);
		int rc = apply_option(cmd, c, optarg, o);
		if (rc)
			return rc;
	}
	*first_arg = optind;
	return 0;
}

static const char REC_OPTS[] = "FoPSecpDN";
static const char REPORT_OPTS[] = "iofkbtI";
static const char CHECK_OPTS[] = "ifkbtmsAI";
static const char RUN_OPTS[] = "FoPSecNkbtmsRA";

static void describe_status(const char *cmd, int wstatus, uint64_t samples, const char *out)
{
	if (WIFEXITED(wstatus))
		fprintf(stderr, "fptrace: %s exited with status %d; %llu samples in %s\n", cmd,
			WEXITSTATUS(wstatus), (unsigned long long)samples, out);
	else if (WIFSIGNALED(wstatus))
		fprintf(stderr, "fptrace: %s was killed by signal %d (%s); %llu samples kept in %s\n",
			cmd, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
			(unsigned long long)samples, out);
}

/* Did the program fail: a non-zero exit status, or killed by a signal? */
static int program_failed(int wstatus)
{
	return !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;
}

/*
 * The program's fate as an exit status, as time(1), perf stat and the shell
 * give it: its own status, or 128+N when signal N killed it.
 */
static int program_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return EXIT_ERROR;
}

/* Record argv into o->out: 0, or EXIT_ERROR when it could not be recorded. */
static int record_program(const char *cmd, char **argv, struct options *o, int *wstatus,
			  uint64_t *samples)
{
	char err[512];

	o->rec.out_path = o->out;
	if (fpt_record(argv, &o->rec, wstatus, samples, err, sizeof err) != 0) {
		fprintf(stderr, "fptrace %s: %s\n", cmd, err);
		return EXIT_ERROR;
	}
	return 0;
}

static int cmd_record(char **argv, struct options *o)
{
	int wstatus = 0;
	uint64_t samples = 0;
	int rc = record_program("record", argv, o, &wstatus, &samples);
	if (rc)
		return rc;
	if (o->rec.nattach) {
		char list[200] = "";
		size_t len = 0;
		for (size_t i = 0; i < o->rec.nattach && len < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%u",
						i ? ", " : "", o->rec.attach_pids[i]);
		fprintf(stderr, "fptrace: detached from process%s %s; %llu samples in %s\n",
			o->rec.nattach > 1 ? "es" : "", list, (unsigned long long)samples, o->out);
		return 0;
	}
	describe_status(argv[0], wstatus, samples, o->out);
	return program_exit_status(wstatus);
}

static int load(const char *cmd, const struct options *o, struct fpt_analysis *a)
{
	char err[512];
	if (fpt_analyze(o->in, &o->an, a, err, sizeof err) != 0) {
		fprintf(stderr, "fptrace %s: %s\n", cmd, err);
		return EXIT_ERROR;
	}
	return 0;
}

static int write_report(const struct options *o, const struct fpt_analysis *a)
{
	const char *fmt = o->format ? o->format : "text";
	const char *path = o->out;
	char err[512] = "";
	int rc = 0;

	if (!strcmp(fmt, "pprof"))
		rc = fpt_write_pprof(path ? path : "profile.pb.gz", &a->profile, err, sizeof err);
	else {
		FILE *out = path ? fopen(path, "w") : stdout;
		if (!out) {
			fprintf(stderr, "fptrace report: %s: %s\n", path, strerror(errno));
			return EXIT_ERROR;
		}
		if (!strcmp(fmt, "folded"))
			rc = fpt_write_folded(out, &a->profile, err, sizeof err);
		else if (!strcmp(fmt, "svg"))
			rc = fpt_write_svg(out, &a->profile, a->cmdline ? a->cmdline : a->profile.exe,
					   err, sizeof err);
		else if (!strcmp(fmt, "speedscope"))
			rc = fpt_write_speedscope(out, &a->profile,
						  a->cmdline ? a->cmdline : a->profile.exe,
						  err, sizeof err);
		else if (!strcmp(fmt, "json"))
			fpt_report_json(out, a, o->top);
		else
			fpt_report_text(out, a, o->top);
		if (ferror(out) && !rc) {
			snprintf(err, sizeof err, "%s: write error", path ? path : "stdout");
			rc = -1;
		}
		if (path && fclose(out) != 0 && !rc) {
			snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	if (rc) {
		fprintf(stderr, "fptrace report: %s\n", err);
		return EXIT_ERROR;
	}
	return 0;
}

static int valid_format(const char *fmt, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(fmt, *allowed))
			return 1;
	return 0;
}

static int cmd_report(const char *cmd, struct options *o)
{
	static const char *const formats[] = { "text", "folded", "pprof", "svg", "json",
					       "speedscope", NULL };
	struct fpt_analysis a;
	int rc;

	if (o->format && !valid_format(o->format, formats))
		return usage_error(cmd, "--format wants text, folded, pprof, svg, json or speedscope, "
				   "not '%s'",
				   o->format);
	if ((rc = load(cmd, o, &a)))
		return rc;
	if (a.samples == 0)
		fprintf(stderr, "fptrace report: %s: no samples%s\n", o->in,
			a.samples_skipped ? " of that --kind" : "");
	rc = write_report(o, &a);
	fpt_analysis_free(&a);
	return rc;
}

/* A check that cannot judge: one line on stderr, and the verdict in JSON too. */
static int check_error(const char *cmd, const struct options *o, const char *reason)
{
	fprintf(stderr, "fptrace %s: %s\n", cmd, reason);
	if (o->chk.json)
		fpt_check_print_error_json(stdout, EXIT_ERROR, reason);
	return EXIT_ERROR;
}

/*
 * The verdict on an analysed file, printed to out.  Samples that cannot be
 * judged (none, or most without a stack copy: perf record --call-graph fp)
 * are an error, not a pass: a green build would lie.
 */
static int check_analysis(FILE *out, const char *cmd, const struct options *o,
			  const struct fpt_analysis *a)
{
	char reason[512];

	if (a->samples == 0) {
		snprintf(reason, sizeof reason, "%s: no samples to check", o->in);
		return check_error(cmd, o, reason);
	}
	if (fpt_check_has_stacks(a, o->in, reason, sizeof reason) != 0)
		return check_error(cmd, o, reason);
	return fpt_check_print(out, a, &o->chk);
}

static int cmd_check(const char *cmd, struct options *o)
{
	static const char *const formats[] = { "text", "json", NULL };
	struct fpt_analysis a;
	char reason[512];
	int rc;

	if (o->format && !valid_format(o->format, formats))
		return usage_error(cmd, "--format wants text or json, not '%s'", o->format);
	o->chk.json = o->format && !strcmp(o->format, "json");
	o->chk.top = o->top;
	o->an.sites_only = 1;   /* check prints sites, not the profile */
	if (fpt_analyze(o->in, &o->an, &a, reason, sizeof reason) != 0)
		return check_error(cmd, o, reason);
	rc = check_analysis(stdout, cmd, o, &a);
	fpt_analysis_free(&a);
	return rc;
}

/*
 * run: record, check, and the top of the profile.  The program keeps stdout
 * to itself (`fptrace run -- gzip -c f > f.gz` must leave gzip's bytes), so
 * the check and the profile go to stderr, or to --output-report FILE.  The
 * exit status: 3 defects; else 4 when the program failed; else the check's.
 */
static int cmd_run(char **argv, struct options *o)
{
	int wstatus = 0, rc;
	uint64_t samples = 0;
	struct fpt_analysis a;
	char err[512];
	/* Opened first: a report that cannot be written must not cost a run.
	 * Close-on-exec ("e"): the program must not inherit it. */
	FILE *report = o->report_path ? fopen(o->report_path, "we") : stderr;

	if (!report) {
		fprintf(stderr, "fptrace run: --output-report %s: %s\n", o->report_path,
			strerror(errno));
		return EXIT_ERROR;
	}
	if ((rc = record_program("run", argv, o, &wstatus, &samples))) {
		if (o->report_path)
			fclose(report);
		return rc;
	}
	o->in = o->out;
	o->chk.top = o->top;
	if (fpt_analyze(o->in, &o->an, &a, err, sizeof err) != 0) {
		rc = check_error("run", o, err);
	} else {
		rc = check_analysis(report, "run", o, &a);
		if (a.samples) {
			fprintf(report, "\n");
			fpt_report_text(report, &a, 10);
		}
		if (a.samples < FPT_CHECK_FEW_SAMPLES)
			fprintf(stderr, "fptrace run: only %llu samples: raise -F (now %u Hz) or let "
				"the program run longer\n", (unsigned long long)a.samples, o->rec.hz);
		fpt_analysis_free(&a);
	}
	if (o->report_path && (ferror(report) | fclose(report))) {   /* both, always */
		fprintf(stderr, "fptrace run: --output-report %s: write error\n", o->report_path);
		rc = rc ? rc : EXIT_ERROR;
	}
	/* Last, where it is seen: how the program ended. */
	describe_status(argv[0], wstatus, samples, o->out);
	if (rc != EXIT_DEFECTS && program_failed(wstatus))
		return EXIT_PROGRAM_FAILED;
	return rc;
}

/* fptrace help [COMMAND] */
static int cmd_help(int argc, char **argv)
{
	if (argc == 0)
		return fpt_help_overview(stdout), 0;
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))
		return fpt_help_command(stdout, "help"), 0;
	if (argc > 1)
		return usage_error("help", "one command at a time, not '%s' too", argv[1]);
	if (fpt_help_command(stdout, argv[0]) != 0)
		return usage_error("help", "unknown command '%s'", argv[0]);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.rec = { .hz = 997, .snapshot_max = 65528 },
		.in = "fptrace.fpt", .out = NULL,
		.an = { .backends = FPT_BACKEND_LIBDW, .kinds = FPT_KIND_CPU | FPT_KIND_WALL },
		.top = 20,
	};
	int first = 0, rc;

	if (argc < 2)
		return usage_error("", "no command%s", "");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return fpt_help_overview(stdout), 0;
	if (!strcmp(cmd, "--version"))
		return printf("fptrace %s\n", fpt_version), 0;
	if (!strcmp(cmd, "help"))
		return cmd_help(argc - 2, argv + 2);
	if (!strcmp(cmd, "audit"))
		return fpt_audit_main(argc - 1, argv + 1);
	const char *allowed = !strcmp(cmd, "record") ? REC_OPTS :
			      !strcmp(cmd, "report") ? REPORT_OPTS :
			      !strcmp(cmd, "check") ? CHECK_OPTS :
			      !strcmp(cmd, "run") ? RUN_OPTS : NULL;
	if (!allowed)
		return usage_error("", "unknown command '%s'", cmd);
	rc = parse(argc - 1, argv + 1, cmd, allowed, &o, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	char **rest = argv + 1 + first;
	int nrest = argc - 1 - first;

	if (!strcmp(cmd, "report") || !strcmp(cmd, "check")) {
		if (nrest)
			return usage_error(cmd, "unexpected argument '%s'", rest[0]);
		return !strcmp(cmd, "report") ? cmd_report(cmd, &o) : cmd_check(cmd, &o);
	}
	if (o.rec.duration_ns && !o.rec.nattach)
		return usage_error(cmd, "--duration goes with -p%s", "");
	if (nrest && o.rec.nattach)
		return usage_error(cmd, "-p samples running processes: no command too ('%s')",
				   rest[0]);
	if (!nrest && !o.rec.nattach)
		return usage_error(cmd, "no command to run after '--'%s", "");
	if (!o.out)
		o.out = "fptrace.fpt";
	return !strcmp(cmd, "record") ? cmd_record(rest, &o) : cmd_run(rest, &o);
}
