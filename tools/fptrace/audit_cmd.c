/*
 * audit_cmd.c — `fptrace audit [FILE... | -p PID | -i in.fpt] [--system]
 * [--format text|json] [--top N] [--all]`.
 *
 * Exit status: 0 every object was audited; 1 at least one could not be (not
 * ELF, another architecture, truncated, a library not found, an unreadable
 * recording): one line each on stderr, the others are still audited and
 * printed; 2 usage.
 */
#include "audit.h"
#include "analyze.h"
#include "help.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AUDIT_OK = 0, AUDIT_ERROR = 1, AUDIT_USAGE = 2 };

struct audit_opts {
	const char *in;
	int pid, system;
	struct fpt_audit_print_opts print;
};

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "fptrace audit: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'fptrace audit --help')\n");
	return AUDIT_USAGE;
}

static int parse_positive(const char *s, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct audit_opts *o, int *first)
{
	enum { OPT_SYSTEM = 256, OPT_FORMAT, OPT_TOP, OPT_ALL };
	static const struct option longopts[] = {
		{ "system", no_argument, NULL, OPT_SYSTEM },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	long v;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:p:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fpt_help_command(stdout, "audit");
			return -1;
		case 'p':
			if (parse_positive(optarg, 0x7fffffff, &v))
				return usage("-p wants a process id, not '%s'", optarg);
			o->pid = (int)v;
			break;
		case 'i': o->in = optarg; break;
		case OPT_SYSTEM: o->system = 1; break;
		case OPT_ALL: o->print.all_functions = 1; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return usage("--format wants text or json, not '%s'", optarg);
			o->print.json = !strcmp(optarg, "json");
			break;
		case OPT_TOP:
			if (parse_positive(optarg, 1000000, &v))
				return usage("--top wants a positive number, not '%s'", optarg);
			o->print.top = (unsigned)v;
			break;
		case ':': return usage("option '%s' needs a value", argv[optind - 1]);
		default: return usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	*first = optind;
	int sources = (optind < argc) + (o->pid != 0) + (o->in != NULL) + o->system;
	if (sources == 0)
		return usage("nothing to audit: name files, -p PID, -i FILE or --system%s", "");
	if (sources > 1)
		return usage("give one of FILE..., -p PID, -i FILE or --system%s", "");
	return 0;
}

/* The files a recording mapped: its executable mappings' paths. */
static int add_recording(struct fpt_audit_targets *t, struct fpt_arena *arena,
			 const struct fpt_analysis *a)
{
	for (size_t i = 0; i < a->profile.nmappings; i++) {
		const char *p = a->profile.mappings[i].path;
		if (p && p[0] == '/' && fpt_audit_add_path(t, arena, p, NULL) != 0)
			return -1;
	}
	return 0;
}

int fpt_audit_main(int argc, char **argv)
{
	struct audit_opts o = { .print = { .top = 20 } };
	int first = 0, rc = parse(argc, argv, &o, &first);
	if (rc)
		return rc < 0 ? AUDIT_OK : rc;

	char err[512];
	struct fpt_decoder_cs *dec = fpt_audit_decoder_new(err, sizeof err);
	if (!dec) {
		fprintf(stderr, "fptrace audit: %s\n", err);
		return AUDIT_ERROR;
	}
	if (o.system) {
		rc = fpt_audit_system(stdout, dec, &o.print, isatty(2));
		fpt_audit_decoder_free(dec);
		return rc;
	}

	struct fpt_arena arena = { 0 };
	struct fpt_audit_targets t = { 0 };
	struct fpt_analysis a;
	int have_analysis = 0, status = AUDIT_OK;
	rc = 0;
	for (int i = first; i < argc && rc == 0; i++)
		rc = fpt_audit_add_with_deps(&t, &arena, argv[i]);
	if (o.pid && fpt_audit_add_pid(&t, &arena, o.pid, err, sizeof err) != 0) {
		fprintf(stderr, "fptrace audit: %s\n", err);
		status = AUDIT_ERROR;
	}
	if (o.in) {
		struct fpt_analysis_opts ao = { .backends = FPT_BACKEND_LIBDW,
						.kinds = FPT_KIND_CPU | FPT_KIND_WALL };
		if (fpt_analyze(o.in, &ao, &a, err, sizeof err) != 0) {
			fprintf(stderr, "fptrace audit: %s\n", err);
			status = AUDIT_ERROR;
		} else {
			have_analysis = 1;
			rc = add_recording(&t, &arena, &a);
		}
	}
	if (rc) {
		fprintf(stderr, "fptrace audit: out of memory\n");
		status = AUDIT_ERROR;
	}

	struct fpt_audit_module *mods = calloc(t.n + 1, sizeof *mods);
	if (o.print.json)
		printf("{\"modules\":[");
	for (size_t i = 0; mods && i < t.n; i++) {
		struct fpt_audit_module *m = &mods[i];
		m->path = t.v[i].path;
		m->needed_by = t.v[i].needed_by;
		if (t.v[i].error[0])
			snprintf(m->error, sizeof m->error, "%s", t.v[i].error);
		else
			fpt_audit_module(dec, m->path, &arena, 1, m);
		if (m->error[0]) {
			fprintf(stderr, "fptrace audit: %s: %s\n", m->path, m->error);
			status = AUDIT_ERROR;
		}
		fpt_audit_print_module(stdout, m, &o.print, i == 0);
	}
	if (o.print.json)
		printf("]");
	if (have_analysis && mods)
		fpt_audit_print_profile(stdout, &a, mods, t.n, &o.print);
	if (o.print.json)
		printf("}\n");
	if (!mods) {
		fprintf(stderr, "fptrace audit: out of memory for %zu modules\n", t.n);
		status = AUDIT_ERROR;
	}
	if (have_analysis)
		fpt_analysis_free(&a);
	free(mods);
	fpt_audit_targets_free(&t);
	fpt_arena_free(&arena);
	fpt_audit_decoder_free(dec);
	return status;
}
