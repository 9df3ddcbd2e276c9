/* fuzz_in.h — take typed values from a libFuzzer input, zeros once it runs out. */
#ifndef FUZZ_IN_H
#define FUZZ_IN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fin_bytes(struct fin *in, unsigned k)
{
	uint64_t v = 0;
	unsigned take = in->n < k ? (unsigned)in->n : k;

	memcpy(&v, in->p, take);
	in->p += take;
	in->n -= take;
	return v;
}

static inline uint8_t fin_u8(struct fin *in) { return (uint8_t)fin_bytes(in, 1); }
static inline uint16_t fin_u16(struct fin *in) { return (uint16_t)fin_bytes(in, 2); }
static inline uint32_t fin_u32(struct fin *in) { return (uint32_t)fin_bytes(in, 4); }
static inline uint64_t fin_u64(struct fin *in) { return fin_bytes(in, 8); }
/* A value in [0, n) (n > 0). */
static inline unsigned fin_below(struct fin *in, unsigned n) { return fin_u8(in) % n; }

#endif
