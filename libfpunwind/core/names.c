/* names.c — stable names for end reasons and region kinds (reports, JSON). */
#include "fpunwind.h"

static const char *const end_names[FPU_END_COUNT] = {
	[FPU_END_CLEAN] = "clean",
	[FPU_END_REGION_TOP] = "region-top",
	[FPU_END_OUT_OF_BOUNDS] = "out-of-bounds",
	[FPU_END_NOT_INCREASING] = "not-increasing",
	[FPU_END_MISALIGNED] = "misaligned",
	[FPU_END_ILLEGAL_TRANSITION] = "illegal-transition",
	[FPU_END_STALE] = "stale",
	[FPU_END_DEPTH] = "depth-limit",
	[FPU_END_NO_REGIONS] = "no-regions",
};

static const char *const kind_names[FPU_REGION_KIND_COUNT] = {
	[FPU_REGION_NONE] = "none",
	[FPU_REGION_THREAD] = "thread",
	[FPU_REGION_GOROUTINE] = "goroutine",
	[FPU_REGION_G0] = "g0",
	[FPU_REGION_SIGNAL] = "signal",
	[FPU_REGION_COROUTINE] = "coroutine",
};

const char *fpu_end_name(enum fpu_end e)
{
	return (unsigned)e < FPU_END_COUNT ? end_names[e] : "unknown";
}

const char *fpu_region_kind_name(enum fpu_region_kind k)
{
	return (unsigned)k < FPU_REGION_KIND_COUNT ? kind_names[k] : "unknown";
}
