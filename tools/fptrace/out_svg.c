/*
 * out_svg.c — a self-contained SVG flame graph of the profile.
 *
 * The stacks are merged into a tree (root at the bottom, width by samples,
 * children ordered by name like flamegraph.pl).  What a frame-pointer checker
 * adds: a frame where FP and DWARF part because of a defect (fpt_stack.mark)
 * is its own node, so that its box is exactly as wide as the samples that
 * disagree there, drawn in the colour of its class and outlined.  A defect is
 * never elided however few samples it has: it keeps a minimum width and a
 * marker in the lane above the frames points at it.  Benign classes (the leaf
 * window, DWARF failures) are counted in the legend but not painted: their
 * samples are ordinary frames.
 *
 * The static picture is complete without scripting (native <title> tooltips,
 * names cut to fit at write time); the inline script (out_svg_script.c) adds
 * click-to-zoom, search (Ctrl-F), a details line, a "defects only" highlight
 * and the icicle view.
 * Everything from the profile is escaped and non-XML characters replaced, so
 * the file is always well-formed whatever the symbol names contain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out_svg_script.h"
#include "profile.h"

#define SVG_W      1200
#define PAD        10
#define FRAME_H    16
#define FONT_SIZE  12
#define CHAR_W     (FONT_SIZE * 0.6)  /* advance of the monospace font */
#define BOTTOM     28                 /* details line */
#define LANE_H     14                 /* the defect markers above the frames */
#define DEFECT_MIN_W 4.0              /* a one-sample defect is still visible */
#define ROOT       UINT32_MAX         /* frame index of the "all" node */

/* ---- text: escaping and fitting ------------------------------------------ */

/*
 * Length of the valid UTF-8 sequence at s that encodes a character XML
 * allows, or 0.  Anything else (stray bytes from a mangled symbol table,
 * control characters) is written as a replacement, never copied.
 */
static size_t xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return s[0] >= 0x20 ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/* Number of characters xml_put would write for s (invalid bytes count 1). */
static size_t text_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *u = (const unsigned char *)s; *u; n++) {
		size_t len = xml_char_len(u);

		u += len ? len : 1;
	}
	return n;
}

/* Write at most max characters of s, escaped for text and attribute values. */
static void xml_put(FILE *out, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t n = 0; *u && n < max; n++) {
		size_t len = xml_char_len(u);

		switch (len ? *u : 0) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case 0: fputc(*u < 0x20 ? ' ' : '?', out); break;
		default: fwrite(u, 1, len, out);
		}
		u += len ? len : 1;
	}
}

/*
 * The label of a box w pixels wide: the name, or its start and "..", or
 * nothing when not even three characters fit.  Returns whether it was cut.
 */
static int put_fitted(FILE *out, const char *name, double w)
{
	double room = (w - 6) / CHAR_W;
	size_t fit = room > 0 ? (size_t)room : 0;
	size_t len = text_chars(name);

	if (fit < 3)
		return len > 0;
	if (len <= fit) {
		xml_put(out, name, len);
		return 0;
	}
	xml_put(out, name, fit - 2);
	fputs("..", out);
	return 1;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- colours --------------------------------------------------------------- */

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * One hue per function name, the same in every graph, so that two flame
 * graphs can be compared by eye: warm for the program, grey-blue for system
 * libraries (usually not what one is looking for).
 */
static const char *frame_colour(const struct fpt_frame *f, char buf[24])
{
	uint32_t h = fnv1a(f->function);
	unsigned v1 = h & 0xff, v2 = (h >> 8) & 0xff, v3 = (h >> 16) & 0xff;

	if (f->system)
		snprintf(buf, 24, "rgb(%u,%u,%u)", 140 + v1 * 40 / 255,
			 155 + v1 * 40 / 255, 190 + v2 * 40 / 255);
	else
		snprintf(buf, 24, "rgb(%u,%u,%u)", 205 + v1 * 50 / 255,
			 v2 * 230 / 255, v3 * 55 / 255);
	return buf;
}

/*
 * The one place that decides what the graph paints: a class is a defect when
 * the comparator calls it malignant.  Every benign class, present or added
 * later, is then drawn as the ordinary frames it is in.
 */
static int painted_as_defect(uint32_t cls)
{
	return cls < FPU_CLASS_COUNT && fpu_class_is_malignant((enum fpu_class)cls);
}

/*
 * Defects stand apart from both palettes: saturated cool colours, one per
 * class; a defect class without its own colour gets the fallback.
 */
static const char *const defect_colour[FPU_CLASS_COUNT] = {
	[FPU_CLASS_FP_SKIPS] = "rgb(166,77,255)",
	[FPU_CLASS_FP_TRUNCATED] = "rgb(0,179,199)",
	[FPU_CLASS_FP_LEAK] = "rgb(224,25,156)",
	[FPU_CLASS_FP_STALE] = "rgb(47,181,74)",
	[FPU_CLASS_FP_DIVERGE] = "rgb(70,130,255)",
	[FPU_CLASS_FP_CLOBBERED] = "rgb(255,140,0)",
};

static const char *class_colour(uint32_t cls)
{
	return cls < FPU_CLASS_COUNT && defect_colour[cls] ? defect_colour[cls] : "rgb(255,40,40)";
}

/* ---- the tree -------------------------------------------------------------- */

/* One step of a root-first path: a frame, and its class + 1 if it is the mark. */
struct step {
	uint32_t frame, mcls;
};

struct path {
	struct step *steps;
	uint32_t n;
	uint64_t samples;
};

struct node {
	uint32_t frame, mcls, parent, depth;
	uint64_t samples;
	uint64_t child_off;   /* layout: samples of the children placed so far */
	uint64_t off;         /* samples left of this node, from the root's edge */
	int visible;
	int defect_below;     /* this node or one above it is a defect */
};

static int cmp_step(const struct fpt_profile *p, const struct step *a, const struct step *b)
{
	const struct fpt_frame *fa = &p->frames[a->frame], *fb = &p->frames[b->frame];
	int c = strcmp(fa->function, fb->function);

	if (!c)
		c = strcmp(fa->module, fb->module);
	if (!c)
		c = a->frame < b->frame ? -1 : a->frame > b->frame;
	if (!c)
		c = a->mcls < b->mcls ? -1 : a->mcls > b->mcls;
	return c;
}

static int cmp_path(const void *a, const void *b, void *ctx)
{
	const struct path *pa = a, *pb = b;

	for (uint32_t i = 0; i < pa->n && i < pb->n; i++) {
		int c = cmp_step(ctx, &pa->steps[i], &pb->steps[i]);

		if (c)
			return c;
	}
	return pa->n < pb->n ? -1 : pa->n > pb->n;
}

struct tree {
	struct node *nodes;   /* pre-order: a parent before its children,
				 siblings in name order */
	size_t n;
	uint32_t max_depth;   /* of the visible nodes */
	uint32_t ndefects;    /* defect nodes (each gets a marker) */
	uint64_t total;
	uint64_t by_class[FPU_CLASS_COUNT];
};

/*
 * Sorting the root-first paths puts every shared prefix next to itself, so
 * the tree is built in one pass by comparing each path with the previous
 * one, and nodes come out in pre-order (no per-node child lists or hashing).
 */
static int build_tree(const struct fpt_profile *p, struct tree *t)
{
	struct path *paths = calloc(p->nstacks + 1, sizeof(*paths));
	size_t npaths = 0, nsteps = 0, maxlen = 0;
	int rc = -1;

	for (size_t i = 0; i < p->nstacks; i++)
		nsteps += p->stacks[i].depth;
	struct step *steps = malloc((nsteps + 1) * sizeof(*steps));
	uint32_t *cur = NULL;

	t->nodes = calloc(nsteps + 1, sizeof(*t->nodes));
	if (!paths || !steps || !t->nodes)
		goto out;
	nsteps = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fpt_stack *st = &p->stacks[i];

		t->total += st->samples;
		if (st->cls != FPU_CLASS_MATCH && st->cls < FPU_CLASS_COUNT)
			t->by_class[st->cls] += st->samples;
		if (!st->samples)
			continue;
		struct path *pa = &paths[npaths++];

		pa->steps = &steps[nsteps];
		pa->n = st->depth;
		pa->samples = st->samples;
		for (uint32_t d = 0; d < st->depth; d++) {
			uint32_t fi = st->depth - 1 - d;   /* frames are leaf first */

			pa->steps[d].frame = st->frames[fi];
			pa->steps[d].mcls = st->mark >= 0 && (uint32_t)st->mark == fi &&
					    painted_as_defect(st->cls) ? st->cls + 1 : 0;
		}
		nsteps += st->depth;
		if (st->depth > maxlen)
			maxlen = st->depth;
	}
	qsort_r(paths, npaths, sizeof(*paths), cmp_path, (void *)p);

	cur = malloc((maxlen + 1) * sizeof(*cur));   /* node of each depth */
	if (!cur)
		goto out;
	t->nodes[0] = (struct node){ .frame = ROOT, .samples = t->total, .visible = 1 };
	t->n = 1;
	cur[0] = 0;
	for (size_t i = 0; i < npaths; i++) {
		const struct path *pa = &paths[i], *prev = i ? &paths[i - 1] : NULL;
		uint32_t common = 0;

		while (prev && common < pa->n && common < prev->n &&
		       pa->steps[common].frame == prev->steps[common].frame &&
		       pa->steps[common].mcls == prev->steps[common].mcls)
			common++;
		for (uint32_t d = 0; d < pa->n; d++) {
			if (d >= common) {
				t->nodes[t->n] = (struct node){
					.frame = pa->steps[d].frame, .mcls = pa->steps[d].mcls,
					.parent = cur[d], .depth = d + 1,
				};
				cur[d + 1] = (uint32_t)t->n++;
			}
			t->nodes[cur[d + 1]].samples += pa->samples;
		}
	}
	rc = 0;
out:
	free(cur);
	free(steps);
	free(paths);
	return rc;
}

/*
 * Place the nodes (offsets in samples) and hide those under 0.1% of the total
 * together with everything above them: they would be slivers that cost file
 * size and say nothing; their samples stay in the parent's width.  A defect
 * and the path to it are never hidden: one fp-leak sample is what the graph
 * is read for.
 */
static void layout(struct tree *t)
{
	for (size_t i = t->n; i-- > 1;) {   /* pre-order: children after parents */
		struct node *nd = &t->nodes[i];

		nd->defect_below |= nd->mcls != 0;
		t->nodes[nd->parent].defect_below |= nd->defect_below;
		t->ndefects += nd->mcls != 0;
	}
	for (size_t i = 1; i < t->n; i++) {
		struct node *nd = &t->nodes[i], *par = &t->nodes[nd->parent];

		nd->off = par->off + par->child_off;
		par->child_off += nd->samples;
		nd->visible = par->visible &&
			      (nd->samples * 1000 >= t->total || nd->defect_below);
		if (nd->visible && nd->depth > t->max_depth)
			t->max_depth = nd->depth;
	}
}

/* ---- output ---------------------------------------------------------------- */

/*
 * The legend under the title: one swatch per defect class present, then the
 * benign classes as plain counts (they are not painted), wrapped onto more
 * lines when they do not fit.  With out NULL only measures.  Returns the
 * number of lines.
 */
static int put_legend(FILE *out, const struct tree *t)
{
	const double indent = PAD + 19 * CHAR_W + 8;   /* after the heading */
	double x = indent;
	int ndefect = 0, nbenign = 0, line = 0;

	/* Defect classes first: they are what the graph is read for. */
	for (int i = 0; i < 2 * FPU_CLASS_COUNT; i++) {
		int c = i % FPU_CLASS_COUNT, defect = i < FPU_CLASS_COUNT;

		if (!t->by_class[c] || painted_as_defect((uint32_t)c) != defect)
			continue;
		if (!ndefect && !nbenign && out)
			fputs("<text x=\"10\" y=\"48\">FP/DWARF disagree:</text>\n", out);
		char label[128];
		int n = snprintf(label, sizeof(label), "%s%s %llu (%.1f%%)",
				 !defect && !nbenign ? "benign, not painted: " : "",
				 fpu_class_name((enum fpu_class)c),
				 (unsigned long long)t->by_class[c],
				 100.0 * (double)t->by_class[c] / (double)t->total);
		double w = (defect ? 16 : 0) + n * CHAR_W + 14;

		ndefect += defect;
		nbenign += !defect;
		if (x + w > SVG_W - PAD && x > indent) {
			x = indent;
			line++;
		}
		if (out && defect)
			fprintf(out, "<g class=\"legend\"><rect x=\"%.1f\" y=\"%d\" width=\"12\" "
				"height=\"12\" fill=\"%s\" class=\"m\"/><text x=\"%.1f\" y=\"%d\">%s"
				"</text></g>\n", x, 38 + 18 * line, class_colour((uint32_t)c),
				x + 16, 48 + 18 * line, label);
		else if (out)
			fprintf(out, "<text class=\"benign\" x=\"%.1f\" y=\"%d\">%s</text>\n", x,
				48 + 18 * line, label);
		x += w;
	}
	if (!ndefect && !nbenign && out)
		fprintf(out, "<text x=\"10\" y=\"48\">%s</text>\n",
			t->total ? "FP and DWARF agree on every sample" : "no samples");
	return line + 1;
}

/* Where a node's box is drawn, in the flame (root at the bottom) view. */
struct box {
	double x, y, w;
};

static struct box box_of(const struct tree *t, const struct node *nd, double height)
{
	double scale = (SVG_W - 2 * PAD) / (double)t->total;

	return (struct box){ .x = PAD + (double)nd->off * scale,
			     .y = height - BOTTOM - (nd->depth + 1) * FRAME_H,
			     .w = (double)nd->samples * scale };
}

static const char *frame_name(const struct fpt_frame *f)
{
	return !f ? "all" : f->function[0] ? f->function : "[unknown]";
}

/*
 * A frame: <g class="f"> with its tooltip, box and label.  A defect also has
 * the class "d" and a minimum width (data-min, kept by the zoom), the frames
 * below it the class "p", so the "defects only" view can keep them lit.
 */
static void put_frame(FILE *out, const struct fpt_profile *p, const struct tree *t,
		      const struct node *nd, double height)
{
	struct box b = box_of(t, nd, height);
	const struct fpt_frame *f = nd->frame == ROOT ? NULL : &p->frames[nd->frame];
	const char *name = frame_name(f);
	char buf[24];
	const char *fill = nd->mcls ? class_colour(nd->mcls - 1) :
			   f ? frame_colour(f, buf) : "rgb(220,220,220)";

	fprintf(out, "<g class=\"f%s\"", nd->mcls ? " d" : nd->defect_below ? " p" : "");
	if (nd->mcls)
		fprintf(out, " data-min=\"%.1f\"", DEFECT_MIN_W);
	if (text_chars(name) > (b.w - 6) / CHAR_W) {   /* cut below: keep it whole */
		fputs(" data-n=\"", out);
		xml_put(out, name, SIZE_MAX);
		fputc('"', out);
	}
	fputs("><title>", out);
	xml_put(out, name, SIZE_MAX);
	if (f && f->module[0]) {
		fputs(" (", out);
		xml_put(out, basename_of(f->module), SIZE_MAX);
		fputc(')', out);
	}
	fprintf(out, " \xe2\x80\x94 %llu sample%s, %.2f%%", (unsigned long long)nd->samples,
		nd->samples == 1 ? "" : "s", 100.0 * (double)nd->samples / (double)t->total);
	if (nd->mcls)
		fprintf(out, "; FP and DWARF part here: %s",
			fpu_class_name((enum fpu_class)(nd->mcls - 1)));
	fputs("</title>", out);

	fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"%s/>",
		b.x, b.y, nd->mcls && b.w < DEFECT_MIN_W ? DEFECT_MIN_W : b.w, FRAME_H - 1, fill,
		nd->mcls ? " class=\"m\"" : "");
	fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", b.x + 3, b.y + FRAME_H - 4.5);
	put_fitted(out, name, b.w);
	fputs("</text></g>\n", out);
}

/*
 * A marker for the defect frame that is the nth frame drawn: a triangle in
 * the lane above the frames, and a line down to the frame, in the class's
 * colour.  The script moves it with the frame (zoom, icicle view).
 */
static void put_marker(FILE *out, const struct fpt_profile *p, const struct tree *t,
		       const struct node *nd, size_t nth, double height, double lane_y)
{
	struct box b = box_of(t, nd, height);
	double cx = b.x + (b.w < DEFECT_MIN_W ? DEFECT_MIN_W : b.w) / 2;
	const char *colour = class_colour(nd->mcls - 1);

	fprintf(out, "<g class=\"mk\" data-f=\"%zu\"><title>%s at ", nth,
		fpu_class_name((enum fpu_class)(nd->mcls - 1)));
	xml_put(out, frame_name(&p->frames[nd->frame]), SIZE_MAX);
	fprintf(out, " \xe2\x80\x94 %llu sample%s</title>", (unsigned long long)nd->samples,
		nd->samples == 1 ? "" : "s");
	fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"1\" stroke-dasharray=\"2,2\"/>", cx, lane_y + LANE_H - 3, cx,
		b.y + FRAME_H - 1, colour);
	fprintf(out, "<path transform=\"translate(%.2f,0)\" d=\"M-5,%.1f L5,%.1f L0,%.1f Z\" "
		"fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"/></g>\n", cx, lane_y + 1,
		lane_y + 1, lane_y + LANE_H - 3, colour);
}

/* The buttons of the title line, right-aligned: Search, Icicle, Defects only. */
static void put_buttons(FILE *out, const struct tree *t)
{
	fprintf(out, "<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\" "
		"text-anchor=\"end\">Search</text>\n", SVG_W - PAD);
	fprintf(out, "<text id=\"invert\" class=\"button\" x=\"%.0f\" y=\"24\" "
		"text-anchor=\"end\">Icicle</text>\n", SVG_W - PAD - 8 * CHAR_W);
	if (t->ndefects)
		fprintf(out, "<text id=\"defects\" class=\"button\" x=\"%.0f\" y=\"24\" "
			"text-anchor=\"end\">Defects only</text>\n", SVG_W - PAD - 16 * CHAR_W);
}

int fpt_write_svg(FILE *out, const struct fpt_profile *p, const char *title,
		  char *err, size_t errlen)
{
	struct tree t = { 0 };

	if (build_tree(p, &t) != 0) {
		free(t.nodes);
		snprintf(err, errlen, "svg: out of memory");
		return -1;
	}
	layout(&t);
	/* Title, legend lines, the marker lane when there are defects, the frames. */
	double lane_y = 46 + 18 * put_legend(NULL, &t) - 8;
	uint32_t rows = t.total ? t.max_depth + 1 : 0;
	double height = lane_y + (t.ndefects ? LANE_H : 0) + 8 + rows * FRAME_H + BOTTOM;
	double yroot = height - BOTTOM - FRAME_H, ytop = height - BOTTOM - rows * FRAME_H;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%.0f\" viewBox=\"0 0 %d %.0f\" data-w=\"%d\" data-pad=\"%d\" "
		"data-cw=\"%.2f\" data-ytop=\"%.1f\" data-yroot=\"%.1f\" data-fh=\"%d\">\n",
		SVG_W, height, SVG_W, height, SVG_W, PAD, CHAR_W, ytop, yroot, FRAME_H);
	fprintf(out, "<style><![CDATA[\n"
		"text { font-family: monospace; font-size: %dpx; fill: #000; }\n"
		"text.title { font-size: 16px; }\n"
		"text.benign { fill: #555; }\n"
		"g.f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }\n"
		"rect.m { stroke: #000; stroke-width: 1.5; }\n"
		"g.mk { cursor: pointer; }\n"
		"g.mk line { pointer-events: none; }\n"   /* never in the way of a frame */
		"text.button { fill: #235; cursor: pointer; text-decoration: underline; }\n"
		"svg.defects g.f:not(.d):not(.p) { opacity: 0.2; }\n"
		"]]></style>\n", FONT_SIZE);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" fill=\"#fbfbf6\"/>\n",
		SVG_W, height);

	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\">", SVG_W / 2);
	if (!title || !*title)
		title = "Flame graph";
	xml_put(out, title, SIZE_MAX);
	if (p->exe && *p->exe && !strstr(title, p->exe)) {   /* a command line names it */
		fputs(" \xe2\x80\x94 ", out);
		xml_put(out, p->exe, SIZE_MAX);
	}
	fprintf(out, " \xe2\x80\x94 %llu samples</text>\n", (unsigned long long)t.total);
	fputs("<text id=\"reset\" class=\"button\" x=\"10\" y=\"24\" style=\"display:none\">"
	      "Reset zoom</text>\n", out);
	put_buttons(out, &t);
	fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%.0f\" text-anchor=\"end\"> </text>\n",
		SVG_W - PAD, height - 10);
	put_legend(out, &t);

	size_t drawn = 0;
	for (size_t i = 0; t.total && i < t.n; i++)
		if (t.nodes[i].visible)
			put_frame(out, p, &t, &t.nodes[i], height);
	/* Markers after the frames, so they are drawn over them. */
	for (size_t i = 0; t.total && i < t.n; i++) {
		if (!t.nodes[i].visible)
			continue;
		if (t.nodes[i].mcls)
			put_marker(out, p, &t, &t.nodes[i], drawn, height, lane_y);
		drawn++;
	}
	fprintf(out, "<text id=\"details\" x=\"10\" y=\"%.0f\"> </text>\n", height - 10);
	fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n</svg>\n",
		fpt_svg_script);
	free(t.nodes);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "svg: write error: %s", strerror(errno));
		return -1;
	}
	return 0;
}
