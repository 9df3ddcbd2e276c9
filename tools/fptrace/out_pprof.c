/*
 * out_pprof.c — the profile as a gzipped perftools.profiles.Profile (see
 * profile.proto), the format of `go tool pprof`, Google Cloud Profiler,
 * Pyroscope and speedscope.
 *
 * The mapping from fpt_profile is direct: one Mapping per fpt_mapping, one
 * Location (with one Line) per interned frame, one Function per distinct
 * (name, source file) so that pprof aggregates a function's lines together,
 * one Sample per merged stack.  Each Sample has the sample count and the time
 * it stands for, and, when FP and DWARF disagreed on it, a string label
 * fp_class=<class> so that `-tagfocus=fp_class=fp-leak` (or `-tagshow`,
 * `-tags`) isolates the defects in any pprof view.
 *
 * CPU time and wall time (a goroutine's time off CPU) are different
 * quantities, so each is a sample type of its own, as Go's profiles carry
 * several (the heap profile's alloc_space and inuse_space): samples/count,
 * cpu/nanoseconds, wall/nanoseconds, the last two only when the recording has
 * samples of that kind.  A CPU sample is 0 in the wall column and the other
 * way round; `-sample_index=wall` shows where goroutines waited and the
 * default, cpu, adds no waiting to the CPU time.  With both kinds, a label
 * kind=cpu|wall lets `-tagfocus=kind=wall` split the sample counts too.
 *
 * Samples an fprt program took of its own goroutines carry a numeric label
 * goroutine=<id> (a Go program sampled from outside cannot name its
 * goroutine: README).
 *
 * All messages are allocated from one arena freed at the end: the writer
 * either produces the whole file or nothing (a partial file is removed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "profile.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__Mapping PbMapping;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;

/* ---- arena: every allocation freed at once --------------------------------- */

struct arena {
	void **blocks;
	size_t n, cap;
	int oom;
};

static void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		void **b = realloc(a->blocks, cap * sizeof(*b));

		if (!b) {
			a->oom = 1;
			return NULL;
		}
		a->blocks = b;
		a->cap = cap;
	}
	/* calloc(0) may return NULL: always ask for at least one element. */
	void *p = calloc(n ? n : 1, size);

	if (!p)
		a->oom = 1;
	else
		a->blocks[a->n++] = p;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

/* ---- interning: strings -> string_table indexes, functions -> ids ------------ */

/*
 * Open addressing over indexes (0 = empty slot, else index + 1).  Both tables
 * are sized once for their worst case (every frame distinct), so they never
 * grow and stay at most half full.
 */
struct table {
	uint32_t *slot;
	size_t mask;
};

static int table_init(struct arena *a, struct table *t, size_t max_entries)
{
	size_t size = 16;

	while (size < 2 * max_entries + 2)
		size *= 2;
	t->slot = arena_calloc(a, size, sizeof(*t->slot));
	t->mask = size - 1;
	return t->slot ? 0 : -1;
}

static uint64_t hash_bytes(const void *data, size_t len, uint64_t h)
{
	const unsigned char *s = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;        /* FNV-1a */
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ull

struct builder {
	struct arena arena;
	char **strs;
	size_t nstrs, maxstrs;
	struct table strtab;
	PbFunction **funcs;
	size_t nfuncs;
	struct table functab;
};

/* The string_table index of s; strings must outlive the builder. */
static int64_t intern(struct builder *b, const char *s)
{
	size_t i = hash_bytes(s, strlen(s), HASH_SEED) & b->strtab.mask;

	for (; b->strtab.slot[i]; i = (i + 1) & b->strtab.mask)
		if (strcmp(b->strs[b->strtab.slot[i] - 1], s) == 0)
			return b->strtab.slot[i] - 1;
	if (b->nstrs == b->maxstrs) {   /* the bound in build() was wrong */
		b->arena.oom = 1;
		return 0;
	}
	/* protobuf-c wants char *; it never writes through it. */
	b->strs[b->nstrs] = (char *)s;
	b->strtab.slot[i] = (uint32_t)++b->nstrs;
	return (int64_t)b->nstrs - 1;
}

/* The id of the Function (name, file), made on first use. */
static uint64_t function_id(struct builder *b, const struct fpt_frame *f)
{
	int64_t name = intern(b, f->function), file = intern(b, f->file);
	int64_t key[2] = { name, file };
	size_t i = hash_bytes(key, sizeof(key), HASH_SEED) & b->functab.mask;

	for (; b->functab.slot[i]; i = (i + 1) & b->functab.mask) {
		PbFunction *fn = b->funcs[b->functab.slot[i] - 1];

		if (fn->name == name && fn->filename == file)
			return fn->id;
	}
	PbFunction *fn = arena_calloc(&b->arena, 1, sizeof(*fn));

	if (!fn)
		return 0;
	perftools__profiles__function__init(fn);
	fn->id = b->nfuncs + 1;
	fn->name = fn->system_name = name;
	fn->filename = file;
	/* The representative line is not the first line of the function: pprof
	 * treats start_line as the function's, so leave it unknown. */
	b->funcs[b->nfuncs] = fn;
	b->functab.slot[i] = (uint32_t)++b->nfuncs;
	return fn->id;
}

/* ---- building the message -------------------------------------------------- */

/*
 * pprof takes mapping[0] as the main binary (the "File:" line of its reports),
 * so the mapping of the exe goes first; the others keep their order.
 */
static size_t main_mapping(const struct fpt_profile *p)
{
	const char *exe = p->exe ? p->exe : "";
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;

	for (size_t i = 0; *base && i < p->nmappings; i++) {
		const char *path = p->mappings[i].path ? p->mappings[i].path : "";
		const char *pb = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

		if (strcmp(path, exe) == 0 || strcmp(pb, base) == 0)
			return i;
	}
	return 0;
}

static uint64_t mapping_id(size_t i, size_t main)
{
	return i == main ? 1 : i < main ? i + 2 : i + 1;
}

static PbValueType *value_type(struct builder *b, const char *type, const char *unit)
{
	PbValueType *vt = arena_calloc(&b->arena, 1, sizeof(*vt));

	if (vt) {
		perftools__profiles__value_type__init(vt);
		vt->type = intern(b, type);
		vt->unit = intern(b, unit);
	}
	return vt;
}

static PbLabel *str_label(struct builder *b, const char *key, const char *value)
{
	PbLabel *l = arena_calloc(&b->arena, 1, sizeof(*l));

	if (l) {
		perftools__profiles__label__init(l);
		l->key = intern(b, key);
		l->str = intern(b, value);
	}
	return l;
}

/* goroutine=<id>, a number: `-tagfocus=goroutine=17` picks one goroutine. */
static PbLabel *goroutine_label(struct builder *b, uint64_t goid)
{
	PbLabel *l = arena_calloc(&b->arena, 1, sizeof(*l));

	if (l) {
		perftools__profiles__label__init(l);
		l->key = intern(b, "goroutine");
		l->num = (int64_t)goid;
	}
	return l;
}

static void build_mappings(struct builder *b, const struct fpt_profile *p, PbProfile *pb)
{
	size_t main = main_mapping(p);

	pb->n_mapping = p->nmappings;
	pb->mapping = arena_calloc(&b->arena, p->nmappings, sizeof(*pb->mapping));
	for (size_t i = 0; pb->mapping && i < p->nmappings; i++) {
		const struct fpt_mapping *m = &p->mappings[i];
		PbMapping *pm = arena_calloc(&b->arena, 1, sizeof(*pm));

		if (!pm)
			return;
		perftools__profiles__mapping__init(pm);
		pm->id = mapping_id(i, main);
		pm->memory_start = m->start;
		pm->memory_limit = m->limit;
		pm->file_offset = m->offset;
		pm->filename = intern(b, m->path ? m->path : "");
		pm->build_id = intern(b, m->build_id ? m->build_id : "");
		/* Say what the frames of this mapping carry, so that pprof does
		 * not try to symbolize them again from the binary. */
		for (size_t f = 0; f < p->nframes; f++) {
			const struct fpt_frame *fr = &p->frames[f];

			if (fr->mapping != (int32_t)i)
				continue;
			pm->has_functions |= fr->function[0] != '\0';
			pm->has_filenames |= fr->file[0] != '\0';
			pm->has_line_numbers |= fr->line != 0;
		}
		pb->mapping[pm->id - 1] = pm;
	}
}

/* One Location per frame: location id = frame index + 1. */
static void build_locations(struct builder *b, const struct fpt_profile *p, PbProfile *pb)
{
	size_t main = main_mapping(p);

	pb->n_location = p->nframes;
	pb->location = arena_calloc(&b->arena, p->nframes, sizeof(*pb->location));
	for (size_t i = 0; pb->location && i < p->nframes; i++) {
		const struct fpt_frame *f = &p->frames[i];
		PbLocation *loc = arena_calloc(&b->arena, 1, sizeof(*loc));
		PbLine *line = arena_calloc(&b->arena, 1, sizeof(*line));
		PbLine **lines = arena_calloc(&b->arena, 1, sizeof(*lines));

		if (!loc || !line || !lines)
			return;
		perftools__profiles__location__init(loc);
		perftools__profiles__line__init(line);
		loc->id = i + 1;
		if (f->mapping >= 0 && (size_t)f->mapping < p->nmappings)
			loc->mapping_id = mapping_id((size_t)f->mapping, main);
		loc->address = f->address;
		line->function_id = function_id(b, f);
		line->line = f->line;
		lines[0] = line;
		loc->line = lines;
		loc->n_line = 1;
		pb->location[i] = loc;
	}
	pb->function = b->funcs;
	pb->n_function = b->nfuncs;
}

/* Which column of a Sample's values holds each kind's time. */
struct columns {
	size_t n;                 /* values per sample */
	int cpu, wall;            /* column of cpu/wall nanoseconds, -1 if absent */
};

static void build_samples(struct builder *b, const struct fpt_profile *p, PbProfile *pb,
			  const struct columns *col)
{
	int mixed = col->cpu >= 0 && col->wall >= 0;

	pb->n_sample = p->nstacks;
	pb->sample = arena_calloc(&b->arena, p->nstacks, sizeof(*pb->sample));
	for (size_t i = 0; pb->sample && i < p->nstacks; i++) {
		const struct fpt_stack *st = &p->stacks[i];
		PbSample *s = arena_calloc(&b->arena, 1, sizeof(*s));
		uint64_t *locs = arena_calloc(&b->arena, st->depth, sizeof(*locs));
		int64_t *vals = arena_calloc(&b->arena, col->n, sizeof(*vals));
		PbLabel **labels = arena_calloc(&b->arena, 3, sizeof(*labels));

		if (!s || !locs || !vals || !labels)
			return;
		perftools__profiles__sample__init(s);
		for (uint32_t d = 0; d < st->depth; d++)   /* both leaf first */
			locs[d] = (uint64_t)st->frames[d] + 1;
		s->location_id = locs;
		s->n_location_id = st->depth;
		vals[0] = (int64_t)st->samples;
		/* Older recordings may lack weights: the nominal period stands in. */
		vals[st->kind == FPU_SAMPLE_WALL ? col->wall : col->cpu] =
			(int64_t)(st->weight_ns ? st->weight_ns : st->samples * p->period_ns);
		s->value = vals;
		s->n_value = col->n;
		s->label = labels;
		if (st->cls != FPU_CLASS_MATCH)
			labels[s->n_label++] = str_label(b, "fp_class",
							 fpu_class_name((enum fpu_class)st->cls));
		if (mixed)
			labels[s->n_label++] = str_label(b, "kind",
							 st->kind == FPU_SAMPLE_WALL ? "wall" : "cpu");
		if (st->goid)
			labels[s->n_label++] = goroutine_label(b, st->goid);
		for (size_t l = 0; l < s->n_label; l++)
			if (!labels[l])
				return;
		pb->sample[i] = s;
	}
}

/*
 * Fill pb from p.  Returns 0, or -1 when out of memory (the arena's flag; a
 * half-built message is never packed).
 */
static int build(struct builder *b, const struct fpt_profile *p, PbProfile *pb)
{
	/* Upper bound on distinct strings: per frame name and file, per mapping
	 * path and build id, plus the fixed ones below. */
	size_t maxstr = 2 * p->nframes + 2 * p->nmappings + 32;
	size_t ncpu = 0, nwall = 0;

	b->maxstrs = maxstr;
	b->strs = arena_calloc(&b->arena, maxstr, sizeof(*b->strs));
	b->funcs = arena_calloc(&b->arena, p->nframes, sizeof(*b->funcs));
	if (!b->strs || !b->funcs || table_init(&b->arena, &b->strtab, maxstr) ||
	    table_init(&b->arena, &b->functab, p->nframes))
		return -1;
	intern(b, "");                  /* string_table[0] must be "" */

	for (size_t i = 0; i < p->nstacks; i++) {
		if (p->stacks[i].kind == FPU_SAMPLE_WALL)
			nwall++;
		else
			ncpu++;
	}
	/* samples/count, then a time column per kind present (cpu when the
	 * profile is empty, as before there were kinds). */
	struct columns col = { .n = 1, .cpu = -1, .wall = -1 };
	if (ncpu || !nwall)
		col.cpu = (int)col.n++;
	if (nwall)
		col.wall = (int)col.n++;
	const char *time = col.cpu >= 0 ? "cpu" : "wall";
	PbValueType **types = arena_calloc(&b->arena, col.n, sizeof(*types));

	if (!types)
		return -1;
	types[0] = value_type(b, "samples", "count");
	if (col.cpu >= 0)
		types[col.cpu] = value_type(b, "cpu", "nanoseconds");
	if (col.wall >= 0)
		types[col.wall] = value_type(b, "wall", "nanoseconds");
	pb->sample_type = types;
	pb->n_sample_type = col.n;
	pb->period_type = value_type(b, time, "nanoseconds");
	pb->period = (int64_t)p->period_ns;
	pb->duration_nanos = (int64_t)p->duration_ns;
	pb->default_sample_type = intern(b, time);

	int64_t *comment = arena_calloc(&b->arena, 1, sizeof(*comment));

	if (!comment)
		return -1;
	comment[0] = intern(b, "fptrace: FP chains cross-checked with DWARF; "
			       "label fp_class marks samples where they disagree");
	pb->comment = comment;
	pb->n_comment = 1;

	build_mappings(b, p, pb);
	build_locations(b, p, pb);
	build_samples(b, p, pb, &col);
	pb->string_table = b->strs;
	pb->n_string_table = b->nstrs;
	return b->arena.oom ? -1 : 0;
}

static int write_gzip(const char *path, const uint8_t *buf, size_t len,
		      char *err, size_t errlen)
{
	gzFile gz = gzopen(path, "wb9");

	if (!gz) {
		snprintf(err, errlen, "pprof: cannot create %s: %s", path,
			 errno ? strerror(errno) : "out of memory");
		return -1;
	}
	size_t off = 0;
	int errnum = 0;

	/* gzwrite takes an unsigned length: write large profiles in pieces. */
	while (off < len) {
		unsigned chunk = len - off > (1u << 30) ? 1u << 30 : (unsigned)(len - off);
		int n = gzwrite(gz, buf + off, chunk);

		if (n <= 0) {
			const char *msg = gzerror(gz, &errnum);

			snprintf(err, errlen, "pprof: cannot write %s: %s", path,
				 errnum == Z_ERRNO ? strerror(errno) : msg);
			gzclose(gz);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	/* gzclose flushes the last block: a full disk shows up here. */
	int rc = gzclose(gz);

	if (rc != Z_OK) {
		snprintf(err, errlen, "pprof: cannot write %s: %s", path,
			 rc == Z_ERRNO ? strerror(errno) : "zlib error");
		unlink(path);
		return -1;
	}
	return 0;
}

int fpt_write_pprof(const char *path, const struct fpt_profile *p, char *err, size_t errlen)
{
	struct builder b = { 0 };
	PbProfile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	uint8_t *buf = NULL;
	int rc = -1;

	if (build(&b, p, &pb) != 0) {
		snprintf(err, errlen, "pprof: out of memory building %s", path);
		goto out;
	}
	size_t len = perftools__profiles__profile__get_packed_size(&pb);

	buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "pprof: out of memory packing %s", path);
		goto out;
	}
	perftools__profiles__profile__pack(&pb, buf);
	errno = 0;
	rc = write_gzip(path, buf, len, err, errlen);
out:
	free(buf);
	arena_free(&b.arena);
	return rc;
}
