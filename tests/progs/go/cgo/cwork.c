/* cwork.c — the C side of the cgo program: computes, calls back into Go. */
#include <stdint.h>
#include "_cgo_export.h"

static volatile uint64_t c_sink;

__attribute__((noinline)) static uint64_t cspin(int n)
{
	uint64_t s = 0;
	for (int i = 0; i < n; i++)
		s += (uint64_t)i ^ (s >> 3);
	return s;
}

__attribute__((noinline)) void cwork(int n)
{
	c_sink += cspin(n);
	goCallback(n);
	c_sink += cspin(n);
}
