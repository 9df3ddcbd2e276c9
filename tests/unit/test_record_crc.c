/*
 * CRC-32C: both implementations against published vectors (RFC 3720 B.4 and
 * the classic "123456789"), against a bitwise reference over random buffers
 * at every alignment, and chained calls equal to one call.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fpu_record.h"
#include "../../libfpunwind/core/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* The definition, one bit at a time: slow and obviously right. */
static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void check_impl(crc_fn fn, const char *name)
{
	static uint8_t zeros[32], ones[32], inc[32], dec[32];
	struct { const void *p; size_t n; uint32_t want; } v[] = {
		{ "123456789", 9, 0xE3069283u },
		{ "", 0, 0 },
		{ "a", 1, 0xC1D04330u },
		{ zeros, 32, 0x8A9136AAu },
		{ ones, 32, 0x62A8AB43u },
		{ inc, 32, 0x46DD794Eu },
		{ dec, 32, 0x113FDB5Cu },
	};
	memset(ones, 0xff, sizeof ones);
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		cr_expect_eq(fn(0, v[i].p, v[i].n), v[i].want, "%s vector %zu: %08x != %08x",
			     name, i, fn(0, v[i].p, v[i].n), v[i].want);
}

static void check_random(crc_fn fn, const char *name)
{
	static uint8_t buf[4096 + 16], large[65536 + 16];

	srand(7);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof large; i++)
		large[i] = (uint8_t)rand();
	/* Every start alignment and lengths around the 8-byte steps. */
	for (size_t start = 0; start < 16; start++)
		for (size_t n = 0; n < 80; n++)
			cr_assert_eq(fn(0, buf + start, n), crc_bitwise(0, buf + start, n),
				     "%s start %zu len %zu", name, start, n);
	/* Around the sizes where the instruction path runs 3 lanes (3 x 256 and
	 * 3 x 4096 bytes) and combines them. */
	static const size_t big[] = { 767, 768, 769, 3 * 256 + 255, 1543, 12287, 12288,
				      12289, 12288 + 768 + 5, 4 * 12288 + 100, 65536 };
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
		for (size_t start = 0; start < 2; start++)
			cr_assert_eq(fn(0, large + start, big[i]),
				     crc_bitwise(0, large + start, big[i]), "%s len %zu", name,
				     big[i]);
	/* Chaining: any split gives the CRC of the whole. */
	for (size_t cut = 0; cut < 100; cut += 7)
		cr_assert_eq(fn(fn(0, buf, cut), buf + cut, 1000 - cut), fn(0, buf, 1000),
			     "%s split at %zu", name, cut);
}

Test(crc32c, table_path_vectors) { check_impl(fpu_crc32c_sw, "table"); }
Test(crc32c, table_path_random) { check_random(fpu_crc32c_sw, "table"); }
Test(crc32c, dispatch_vectors) { check_impl(fpu_crc32c, "dispatch"); }

/*
 * On arm64 fpu_crc32c_hw is the table path under the same name (crc32c.c), so
 * these tests check that entry point there and skip only on an x86 CPU
 * without SSE4.2.
 */
Test(crc32c, sse42_path_vectors)
{
#if defined(__x86_64__)
	if (!fpu_crc32c_has_hw())
		cr_skip_test("no SSE4.2 on this CPU");
#else
	cr_assert_eq(fpu_crc32c_has_hw(), 0);
#endif
	check_impl(fpu_crc32c_hw, "sse4.2");
}

Test(crc32c, sse42_path_random)
{
#if defined(__x86_64__)
	if (!fpu_crc32c_has_hw())
		cr_skip_test("no SSE4.2 on this CPU");
#endif
	check_random(fpu_crc32c_hw, "sse4.2");
}
