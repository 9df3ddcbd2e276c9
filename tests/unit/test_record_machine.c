/*
 * The .fpt header's machine (format 1.2): what a file says about the
 * architecture its samples' registers come from.  Written as the host's; a
 * 1.0/1.1 header (24 bytes) reads as x86-64's; any other value is read as it
 * is, for fptrace to refuse (tests/arm64/seed003.sh: the one-line error).
 */
#include <criterion/criterion.h>
#include <stdalign.h>
#include <string.h>
#include "fpu_record.h"

static alignas(8) uint8_t buf[64];

/* The header CRC as FORMAT.md defines it: bytes [0, 20) and [24, len). */
static void fix_header_crc(uint8_t *h, uint32_t len)
{
	uint32_t crc = fpu_crc32c(0, h, 20);
	crc = fpu_crc32c(crc, h + 24, len - 24);
	memcpy(h + 20, &crc, 4);
}

static uint32_t machine_of(const uint8_t *data, size_t size)
{
	struct fpu_reader rd;
	cr_assert_eq(fpu_reader_open_mem(&rd, data, size, "m.fpt"), 0, "%s",
		     fpu_reader_error(&rd));
	uint32_t m = rd.machine;
	fpu_reader_close(&rd);
	return m;
}

Test(record_machine, written_as_the_hosts)
{
	size_t n = fpu_rec_encode_file_header(buf, sizeof buf);
	cr_assert_eq(n, 32);
	cr_assert_eq(buf[10], FPU_REC_VERSION_MINOR);
	cr_assert_geq(buf[10], 2, "minor %u: the machine is new in 1.2", buf[10]);
	uint32_t m;
	memcpy(&m, buf + 24, 4);
	cr_assert_eq(m, FPU_REC_MACHINE_HOST);
	cr_assert_eq(machine_of(buf, n), FPU_REC_MACHINE_HOST);
#if defined(__aarch64__)
	cr_assert_eq(m, 183, "EM_AARCH64");
#else
	cr_assert_eq(m, 62, "EM_X86_64");
#endif
}

Test(record_machine, a_1_1_header_is_x86_64)
{
	fpu_rec_encode_file_header(buf, sizeof buf);
	buf[10] = 1;                      /* minor 1 */
	memset(buf + 24, 0, 8);
	uint32_t len = 24;
	memcpy(buf + 12, &len, 4);
	fix_header_crc(buf, len);
	cr_assert_eq(machine_of(buf, 24), FPU_REC_MACHINE_X86_64);
}

Test(record_machine, other_machines_are_read_as_they_are)
{
	size_t n = fpu_rec_encode_file_header(buf, sizeof buf);
	uint32_t arm = 40;                /* EM_ARM: fptrace does not unwind it */
	memcpy(buf + 24, &arm, 4);
	fix_header_crc(buf, (uint32_t)n);
	cr_assert_eq(machine_of(buf, n), 40);
	cr_assert_null(fpu_rec_machine_name(40));
	cr_assert_str_eq(fpu_rec_machine_name(FPU_REC_MACHINE_AARCH64), "aarch64");
	cr_assert_str_eq(fpu_rec_machine_name(FPU_REC_MACHINE_X86_64), "x86-64");
}
