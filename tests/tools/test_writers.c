/*
 * The output writers (folded, pprof, SVG) on a small hand-built profile whose
 * every value is known: shared prefixes, one stack marked fp-leak, one
 * leaf-window stack that folds into the same line as a clean one, names that
 * need sanitizing or XML escaping, and a system-library frame.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ci_skip.h"
#include "scratch.h"
#include "profile.h"
#include "profile.pb-c.h"

enum { F_MAIN, F_TPL, F_ODD, F_MEMCPY, F_HELPER, NFRAMES };

static struct fpt_mapping maps[] = {
	{ 0x7f0000000000, 0x7f0000200000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6",
	  "deadbeef" },
	{ 0x400000, 0x401000, 0, "/tmp/demo", "0123abcd" },
};

static struct fpt_frame frames[NFRAMES] = {
	[F_MAIN] = { "main", "/tmp/demo", "demo.c", 10, 1, 0x400100, 0 },
	[F_TPL] = { "tpl<A&B>::run", "/tmp/demo", "demo.cc", 20, 1, 0x400200, 0 },
	[F_ODD] = { "leaf;odd\nname", "/tmp/demo", "", 0, 1, 0x400300, 0 },
	[F_MEMCPY] = { "memcpy", "/usr/lib/x86_64-linux-gnu/libc.so.6", "", 0, 0,
		       0x7f0000001234, 1 },
	[F_HELPER] = { "helper", "/tmp/demo", "demo.c", 30, 1, 0x400400, 0 },
};

/* Leaf first. */
static uint32_t st_a[] = { F_TPL, F_MAIN };
static uint32_t st_b[] = { F_MEMCPY, F_TPL, F_MAIN };
static uint32_t st_c[] = { F_ODD, F_HELPER, F_MAIN };
static uint32_t st_d[] = { F_HELPER, F_MAIN };

#define MS 1000000ull
static struct fpt_stack stacks[] = {
	{ st_a, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 3, 3 * MS, 0 },
	{ st_b, 3, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 2, 2 * MS, 0 },
	{ st_c, 3, FPU_SAMPLE_CPU, FPU_CLASS_FP_LEAK, 1, 1, 1 * MS, 0 },
	{ st_d, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 4, 4 * MS, 0 },
	{ st_d, 2, FPU_SAMPLE_CPU, FPU_CLASS_LEAF_WINDOW, 0, 1, 0, 0 },  /* no weight */
};

static const struct fpt_profile prof = {
	maps, 2, frames, NFRAMES, stacks, 5, 11, MS, "/tmp/demo", 5000 * MS,
};

static const struct fpt_profile empty = { .exe = "/bin/true", .period_ns = MS };

/* The text a writer puts on a FILE, via a memory stream. */
typedef int (*file_writer)(FILE *, const struct fpt_profile *, char *, size_t);

static int svg_untitled(FILE *f, const struct fpt_profile *p, char *err, size_t len)
{
	return fpt_write_svg(f, p, "test <graph>", err, len);
}

static char *write_to_string(file_writer w, const struct fpt_profile *p)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(w(f, p, err, sizeof(err)), 0, "writer failed: %s", err);
	fclose(f);
	return buf;
}

static int have_tool(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* The output of a shell command, or NULL if it failed. */
static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char *buf = calloc(1, 1 << 20);
	size_t len = 0, n;

	cr_assert(f && buf);
	while ((n = fread(buf + len, 1, (1 << 20) - 1 - len, f)) > 0)
		len += n;
	int st = pclose(f);

	if (st != 0) {
		cr_log_error("`%s` exited %d:\n%s", cmd, st, buf);
		free(buf);
		return NULL;
	}
	return buf;
}

static void temp_path(char *path, size_t len, const char *suffix)
{
	snprintf(path, len, "/tmp/fpt-writers-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	strncat(path, suffix, len - strlen(path) - 1);
}

/* ---- folded ---------------------------------------------------------------- */

Test(folded, exact_text)
{
	char *text = write_to_string(fpt_write_folded, &prof);

	cr_assert_str_eq(text,
			 "main;helper 5\n"
			 "main;helper;leaf:odd name 1\n"
			 "main;tpl<A&B>::run 3\n"
			 "main;tpl<A&B>::run;memcpy 2\n");
	free(text);
}

Test(folded, empty_profile)
{
	char *text = write_to_string(fpt_write_folded, &empty);

	cr_assert_str_eq(text, "");
	free(text);
}

Test(folded, write_error)
{
	FILE *f = fopen("/dev/full", "w");
	char err[256] = "";

	if (!f)
		fpt_skip_test("no /dev/full");
	cr_assert_eq(fpt_write_folded(f, &prof, err, sizeof(err)), -1);
	cr_assert(strstr(err, "write error"), "%s", err);
	fclose(f);
}

/* ---- pprof ----------------------------------------------------------------- */

static Perftools__Profiles__Profile *read_pprof(const char *path)
{
	/* gzread passes plain files through: check that it is gzip first. */
	unsigned char magic[2] = { 0 };
	FILE *raw = fopen(path, "rb");

	cr_assert_not_null(raw, "cannot open %s", path);
	cr_assert_eq(fread(magic, 1, 2, raw), 2);
	fclose(raw);
	cr_assert(magic[0] == 0x1f && magic[1] == 0x8b, "%s is not gzipped", path);

	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 20, len = 0;
	uint8_t *buf = malloc(cap);
	int n;

	cr_assert(gz && buf, "cannot open %s", path);
	while ((n = gzread(gz, buf + len, (unsigned)(cap - len))) > 0)
		len += (size_t)n;
	cr_assert_eq(n, 0, "gunzip failed");
	gzclose(gz);
	Perftools__Profiles__Profile *pb = perftools__profiles__profile__unpack(NULL, len, buf);

	free(buf);
	cr_assert_not_null(pb, "not a profile.proto message");
	return pb;
}

static const char *str(const Perftools__Profiles__Profile *pb, int64_t i)
{
	cr_assert(i >= 0 && (size_t)i < pb->n_string_table, "string index %lld", (long long)i);
	return pb->string_table[i];
}

static const Perftools__Profiles__Location *location(const Perftools__Profiles__Profile *pb,
						      uint64_t id)
{
	for (size_t i = 0; i < pb->n_location; i++)
		if (pb->location[i]->id == id)
			return pb->location[i];
	cr_assert_fail("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Function *function(const Perftools__Profiles__Profile *pb,
						      uint64_t id)
{
	for (size_t i = 0; i < pb->n_function; i++)
		if (pb->function[i]->id == id)
			return pb->function[i];
	cr_assert_fail("no function %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Mapping *mapping(const Perftools__Profiles__Profile *pb,
						    uint64_t id)
{
	for (size_t i = 0; i < pb->n_mapping; i++)
		if (pb->mapping[i]->id == id)
			return pb->mapping[i];
	cr_assert_fail("no mapping %llu", (unsigned long long)id);
	return NULL;
}

/* The function name of location id, through Location -> Line -> Function. */
static const char *location_name(const Perftools__Profiles__Profile *pb, uint64_t id)
{
	const Perftools__Profiles__Location *loc = location(pb, id);

	cr_assert_eq(loc->n_line, 1);
	return str(pb, function(pb, loc->line[0]->function_id)->name);
}

static const char *label(const Perftools__Profiles__Profile *pb,
			 const Perftools__Profiles__Sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_label; i++)
		if (strcmp(str(pb, s->label[i]->key), key) == 0)
			return str(pb, s->label[i]->str);
	return NULL;
}

Test(pprof, roundtrip)
{
	char path[64], err[256] = "";

	temp_path(path, sizeof(path), ".pb.gz");
	cr_assert_eq(fpt_write_pprof(path, &prof, err, sizeof(err)), 0, "%s", err);
	Perftools__Profiles__Profile *pb = read_pprof(path);

	cr_assert_str_eq(pb->string_table[0], "");
	cr_assert_eq(pb->n_sample_type, 2);
	cr_assert_str_eq(str(pb, pb->sample_type[0]->type), "samples");
	cr_assert_str_eq(str(pb, pb->sample_type[0]->unit), "count");
	cr_assert_str_eq(str(pb, pb->sample_type[1]->type), "cpu");
	cr_assert_str_eq(str(pb, pb->sample_type[1]->unit), "nanoseconds");
	cr_assert_str_eq(str(pb, pb->default_sample_type), "cpu");
	cr_assert_eq(pb->period, (int64_t)MS);
	cr_assert_eq(pb->duration_nanos, (int64_t)(5000 * MS));

	/* The main binary comes first, whatever the input order. */
	cr_assert_eq(pb->n_mapping, 2);
	cr_assert_str_eq(str(pb, pb->mapping[0]->filename), "/tmp/demo");
	cr_assert_str_eq(str(pb, pb->mapping[0]->build_id), "0123abcd");
	cr_assert(pb->mapping[0]->has_functions && pb->mapping[0]->has_line_numbers);

	cr_assert_eq(pb->n_sample, 5);
	uint64_t total = 0, weight = 0;

	for (size_t i = 0; i < pb->n_sample; i++) {
		const Perftools__Profiles__Sample *s = pb->sample[i];
		const struct fpt_stack *st = &stacks[i];

		cr_assert_eq(s->n_value, 2);
		cr_assert_eq(s->value[0], (int64_t)st->samples);
		total += (uint64_t)s->value[0];
		weight += (uint64_t)s->value[1];
		cr_assert_eq(s->n_location_id, st->depth);
		for (uint32_t d = 0; d < st->depth; d++)
			cr_assert_str_eq(location_name(pb, s->location_id[d]),
					 frames[st->frames[d]].function, "sample %zu depth %u", i, d);
		const char *cls = label(pb, s, "fp_class");

		if (st->cls == FPU_CLASS_MATCH)
			cr_assert_null(cls, "sample %zu has fp_class %s", i, cls);
		else
			cr_assert_str_eq(cls, fpu_class_name(st->cls));
		cr_assert_null(label(pb, s, "kind"), "kind only on mixed profiles");
	}
	cr_assert_eq(total, 11);
	cr_assert_eq(weight, 11 * MS, "a stack without weight counts its periods");

	/* memcpy: in libc's mapping with its address and build id. */
	const Perftools__Profiles__Location *mc = location(pb, pb->sample[1]->location_id[0]);
	const Perftools__Profiles__Mapping *libc = mapping(pb, mc->mapping_id);

	cr_assert_eq(mc->address, 0x7f0000001234);
	cr_assert_str_eq(str(pb, libc->filename), maps[0].path);
	cr_assert_str_eq(str(pb, libc->build_id), "deadbeef");
	cr_assert(mc->address >= libc->memory_start && mc->address < libc->memory_limit);
	cr_assert_eq(libc->file_offset, 0x28000);

	/* main: line and file through the function. */
	const Perftools__Profiles__Location *mn = location(pb, pb->sample[0]->location_id[1]);

	cr_assert_eq(mn->line[0]->line, 10);
	cr_assert_str_eq(str(pb, function(pb, mn->line[0]->function_id)->filename), "demo.c");
	cr_assert_eq(pb->n_function, NFRAMES);

	perftools__profiles__profile__free_unpacked(pb, NULL);
	unlink(path);
}

/*
 * Wall-only profiles measure wall time; mixed ones carry cpu and wall time as
 * sample types of their own (each sample's time in its kind's column, 0 in
 * the other) and label each sample's kind.
 */
Test(pprof, sample_kinds)
{
	struct fpt_stack st[2] = { stacks[0], stacks[1] };
	struct fpt_profile p = prof;
	char path[64], err[256] = "";

	p.stacks = st;
	p.nstacks = 2;
	st[0].kind = st[1].kind = FPU_SAMPLE_WALL;
	temp_path(path, sizeof(path), ".pb.gz");
	cr_assert_eq(fpt_write_pprof(path, &p, err, sizeof(err)), 0, "%s", err);
	Perftools__Profiles__Profile *pb = read_pprof(path);

	cr_assert_str_eq(str(pb, pb->sample_type[1]->type), "wall");
	cr_assert_str_eq(str(pb, pb->default_sample_type), "wall");
	cr_assert_null(label(pb, pb->sample[0], "kind"));
	perftools__profiles__profile__free_unpacked(pb, NULL);

	st[0].kind = FPU_SAMPLE_CPU;
	cr_assert_eq(fpt_write_pprof(path, &p, err, sizeof(err)), 0, "%s", err);
	pb = read_pprof(path);
	cr_assert_eq(pb->n_sample_type, 3);
	cr_assert_str_eq(str(pb, pb->sample_type[1]->type), "cpu");
	cr_assert_str_eq(str(pb, pb->sample_type[2]->type), "wall");
	cr_assert_str_eq(str(pb, pb->sample_type[2]->unit), "nanoseconds");
	cr_assert_str_eq(str(pb, pb->default_sample_type), "cpu");
	cr_assert_eq(pb->sample[0]->n_value, 3);
	cr_assert_eq(pb->sample[0]->value[1], (int64_t)st[0].weight_ns);
	cr_assert_eq(pb->sample[0]->value[2], 0);
	cr_assert_eq(pb->sample[1]->value[1], 0);
	cr_assert_eq(pb->sample[1]->value[2], (int64_t)st[1].weight_ns);
	cr_assert_str_eq(label(pb, pb->sample[0], "kind"), "cpu");
	cr_assert_str_eq(label(pb, pb->sample[1], "kind"), "wall");
	perftools__profiles__profile__free_unpacked(pb, NULL);
	unlink(path);
}

Test(pprof, go_tool_pprof_reads_it)
{
	char path[64], err[256] = "", cmd[256];

	if (!have_tool("go"))
		fpt_skip_test("go not on PATH: go tool pprof cannot read the profile");
	temp_path(path, sizeof(path), ".pb.gz");
	cr_assert_eq(fpt_write_pprof(path, &prof, err, sizeof(err)), 0, "%s", err);

	snprintf(cmd, sizeof(cmd), "go tool pprof -raw %s 2>&1", path);
	char *out = run(cmd);

	cr_assert_not_null(out);
	cr_assert(strstr(out, "tpl<A&B>::run"), "%s", out);
	cr_assert(strstr(out, "memcpy"), "%s", out);
	cr_assert(strstr(out, "samples/count cpu/nanoseconds"), "%s", out);
	cr_assert(strstr(out, "fp_class:[fp-leak]"), "%s", out);
	free(out);

	/* The label selects the defect: only the fp-leak stack is left. */
	snprintf(cmd, sizeof(cmd),
		 "go tool pprof -traces -sample_index=samples -tagfocus=fp_class=fp-leak %s 2>&1",
		 path);
	out = run(cmd);
	cr_assert_not_null(out);
	cr_assert(strstr(out, "helper"), "%s", out);
	cr_assert_null(strstr(out, "memcpy"), "%s", out);
	free(out);
	unlink(path);
}

Test(pprof, unwritable_path)
{
	char err[256] = "";
	const char *path = "/nonexistent-fpt-dir/profile.pb.gz";

	cr_assert_eq(fpt_write_pprof(path, &prof, err, sizeof(err)), -1);
	cr_assert(strstr(err, path), "error does not name the path: %s", err);
	cr_assert_null(strchr(err, '\n'));
}

Test(pprof, empty_profile)
{
	char path[64], err[256] = "";

	temp_path(path, sizeof(path), ".pb.gz");
	cr_assert_eq(fpt_write_pprof(path, &empty, err, sizeof(err)), 0, "%s", err);
	Perftools__Profiles__Profile *pb = read_pprof(path);

	cr_assert_eq(pb->n_sample, 0);
	cr_assert_str_eq(pb->string_table[0], "");
	cr_assert_eq(pb->n_sample_type, 2);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	unlink(path);
}

/* ---- speedscope ---------------------------------------------------------- */

static int speedscope_named(FILE *f, const struct fpt_profile *p, char *err, size_t len)
{
	return fpt_write_speedscope(f, p, "test \"run\"", err, len);
}

/*
 * Validate json against speedscope's published schema (vendored from its npm
 * package) with Debian's python3-jsonschema: /usr/bin/python3, since a python
 * earlier on PATH (pyenv) lacks Debian's modules.
 */
static void assert_speedscope_schema(const char *json)
{
	char path[64], cmd[512];

	temp_path(path, sizeof(path), ".json");
	fpt_write_text(path, json);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json, sys, jsonschema; "
		 "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "
		 "%s tests/data/speedscope/file-format-schema.json 2>&1", path);
	char *out = run(cmd);

	cr_assert_not_null(out, "the speedscope file does not validate (see the log)");
	free(out);
	unlink(path);
}

Test(speedscope, validates_and_weighs)
{
	char *json = write_to_string(speedscope_named, &prof);

	assert_speedscope_schema(json);
	cr_assert(strstr(json, "\"name\":\"test \\\"run\\\"\""), "file name: %s", json);
	cr_assert(strstr(json, "{\"name\":\"tpl<A&B>::run\",\"file\":\"demo.cc\",\"line\":20}"));
	cr_assert(strstr(json, "{\"name\":\"memcpy\",\"file\":"
			       "\"/usr/lib/x86_64-linux-gnu/libc.so.6\"}"), "module as file");
	/* Root first; the weightless leaf-window sample weighs one period. */
	cr_assert(strstr(json, "\"samples\":[\n[0,1],\n[0,1,3],\n[0,4,2],\n[0,4],\n[0,4]],"
			       "\"weights\":[3000000,2000000,1000000,4000000,1000000],"
			       "\"endValue\":11000000}"), "samples: %s", json);
	cr_assert_null(strstr(json, "wall"), "a wall profile without wall samples");
	free(json);
}

/* CPU and wall samples are two profiles; an empty recording is still a file. */
Test(speedscope, kinds_and_empty)
{
	static uint32_t st_w[] = { F_HELPER, F_MAIN };
	static struct fpt_stack st[] = {
		{ st_w, 2, FPU_SAMPLE_WALL, FPU_CLASS_MATCH, -1, 2, 20 * MS, 0 },
		{ st_w, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 1, 1 * MS, 0 },
	};
	struct fpt_profile p = prof;

	p.stacks = st;
	p.nstacks = 2;
	p.total_samples = 3;
	char *json = write_to_string(speedscope_named, &p);

	assert_speedscope_schema(json);
	char *cpu = strstr(json, "\"name\":\"cpu: test");
	char *wall = strstr(json, "\"name\":\"wall (off-CPU): test");

	cr_assert(cpu && wall && cpu < wall, "cpu, then wall: %s", json);
	cr_assert(strstr(wall, "\"weights\":[20000000],\"endValue\":20000000"));
	free(json);
	json = write_to_string(speedscope_named, &empty);
	assert_speedscope_schema(json);
	cr_assert(strstr(json, "\"samples\":[],\"weights\":[],\"endValue\":0"), "%s", json);
	free(json);
}

/* ---- svg ------------------------------------------------------------------- */

static void assert_well_formed(const char *svg)
{
	char path[64], cmd[128];

	if (!have_tool("xmllint"))
		fpt_skip_test("xmllint not on PATH: the SVG's well-formedness cannot be checked");
	temp_path(path, sizeof(path), ".svg");
	fpt_write_text(path, svg);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s 2>&1", path);
	char *out = run(cmd);

	cr_assert_not_null(out, "xmllint rejects the SVG");
	free(out);
	unlink(path);
}

/* The width of the box whose <title> starts with title. */
static double frame_width(const char *svg, const char *title)
{
	char key[256];

	snprintf(key, sizeof(key), "<title>%s", title);
	const char *t = strstr(svg, key);

	cr_assert_not_null(t, "no frame titled %s", title);
	cr_assert_null(strstr(t + 1, key), "two frames titled %s", title);
	const char *w = strstr(t, "width=\"");

	cr_assert_not_null(w);
	return strtod(w + 7, NULL);
}

Test(svg, flame_graph)
{
	char *svg = write_to_string(svg_untitled, &prof);

	assert_well_formed(svg);
	cr_assert(strstr(svg, "test &lt;graph&gt; \xe2\x80\x94 /tmp/demo \xe2\x80\x94 11 samples"),
		  "title");
	/* Legend: the classes present, with counts. */
	cr_assert(strstr(svg, ">fp-leak 1 (9.1%)<"), "legend lacks fp-leak");
	/* The benign leaf window is counted, not painted. */
	cr_assert(strstr(svg, ">benign, not painted: leaf-window 1 (9.1%)<"),
		  "legend lacks leaf-window");
	cr_assert_null(strstr(svg, "part here: leaf-window"), "leaf-window is painted");
	cr_assert_null(strstr(svg, ">fp-stale"), "legend shows an absent class");
	/* Escaped names, never raw. */
	cr_assert(strstr(svg, "tpl&lt;A&amp;B&gt;::run"));
	cr_assert_null(strstr(svg, "tpl<A"));
	cr_assert_null(strstr(svg, "leaf;odd\n"));
	/* Widths by samples: the fp-leak helper frame is its own box; the
	 * leaf-window sample is one with the clean helper samples. */
	double all = frame_width(svg, "all \xe2\x80\x94 11 samples");
	double tpl = frame_width(svg, "tpl&lt;A&amp;B&gt;::run (demo) \xe2\x80\x94 5 samples");
	double helper = frame_width(svg, "helper (demo) \xe2\x80\x94 5 samples");
	double leak = frame_width(svg, "helper (demo) \xe2\x80\x94 1 sample, 9.09%; "
				  "FP and DWARF part here: fp-leak");

	cr_assert_float_eq(tpl / all, 5.0 / 11, 1e-3);
	cr_assert_float_eq(helper / all, 5.0 / 11, 1e-3);
	cr_assert_float_eq(leak / all, 1.0 / 11, 1e-3);
	cr_assert(strstr(svg, "memcpy (libc.so.6)"));
	free(svg);
}

Test(svg, tiny_frames_elided)
{
	static uint32_t big[] = { F_HELPER, F_MAIN }, tiny[] = { F_MEMCPY, F_MAIN };
	static struct fpt_stack st[] = {
		{ big, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 5000, 0, 0 },
		{ tiny, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 1, 0, 0 },
	};
	struct fpt_profile p = prof;

	p.stacks = st;
	p.nstacks = 2;
	p.total_samples = 5001;
	char *svg = write_to_string(svg_untitled, &p);

	cr_assert(strstr(svg, "<title>helper"));
	cr_assert_null(strstr(svg, "<title>memcpy"), "a 0.02%% frame is drawn");
	cr_assert(strstr(svg, "FP and DWARF agree on every sample"));
	free(svg);
}

/*
 * One fp-leak sample in 5001: under the 0.1% cut that hides slivers, yet it
 * is drawn, at least 4 px wide, with the frames below it, and a marker in the
 * lane above points at it.
 */
Test(svg, lone_defect_stands_out)
{
	static uint32_t big[] = { F_HELPER, F_MAIN }, tiny[] = { F_ODD, F_TPL, F_MAIN };
	static struct fpt_stack st[] = {
		{ big, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 5000, 0, 0 },
		{ tiny, 3, FPU_SAMPLE_CPU, FPU_CLASS_FP_LEAK, 1, 1, 0, 0 },
	};
	struct fpt_profile p = prof;

	p.stacks = st;
	p.nstacks = 2;
	p.total_samples = 5001;
	char *svg = write_to_string(svg_untitled, &p);

	assert_well_formed(svg);
	double w = frame_width(svg, "tpl&lt;A&amp;B&gt;::run (demo) \xe2\x80\x94 1 sample, 0.02%; "
			       "FP and DWARF part here: fp-leak");
	cr_assert_geq(w, 4.0, "the lone defect is %.2f px wide", w);
	cr_assert_null(strstr(svg, "<title>leaf;odd"), "the clean frame above it is drawn");
	const char *mk = strstr(svg, "<g class=\"mk\"");
	cr_assert_not_null(mk, "no marker");
	cr_assert(strstr(mk, "<title>fp-leak at tpl&lt;A&amp;B&gt;::run \xe2\x80\x94 1 sample<"),
		  "marker title");
	cr_assert_null(strstr(mk + 1, "<g class=\"mk\""), "more than one marker");
	cr_assert(strstr(svg, "id=\"defects\""), "no defects-only toggle");
	free(svg);
}

/* Benign classes only: nothing painted, no marker, no defects-only toggle. */
Test(svg, benign_not_painted)
{
	static uint32_t st_leaf[] = { F_HELPER, F_MAIN };
	static struct fpt_stack st[] = {
		{ st_leaf, 2, FPU_SAMPLE_CPU, FPU_CLASS_LEAF_WINDOW, 0, 90, 0, 0 },
		{ st_leaf, 2, FPU_SAMPLE_CPU, FPU_CLASS_DWARF_FAIL, 1, 5, 0, 0 },
		{ st_leaf, 2, FPU_SAMPLE_CPU, FPU_CLASS_MATCH, -1, 5, 0, 0 },
	};
	struct fpt_profile p = prof;

	p.stacks = st;
	p.nstacks = 3;
	p.total_samples = 100;
	char *svg = write_to_string(svg_untitled, &p);

	cr_assert_null(strstr(svg, "class=\"m\"/><text"), "a frame is painted as a defect");
	cr_assert_null(strstr(svg, "<g class=\"mk\""), "a benign class has a marker");
	cr_assert_null(strstr(svg, "id=\"defects\""), "defects-only toggle without defects");
	frame_width(svg, "helper (demo) \xe2\x80\x94 100 samples");   /* one box */
	free(svg);
}

Test(svg, empty_profile)
{
	char *svg = write_to_string(svg_untitled, &empty);

	assert_well_formed(svg);
	cr_assert(strstr(svg, "no samples"));
	free(svg);
}
