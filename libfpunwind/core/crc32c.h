/* crc32c.h — the two CRC-32C implementations behind fpu_crc32c (fpu_record.h),
 * exposed so the tests can check each against known vectors.  Not installed. */
#ifndef FPU_CRC32C_H
#define FPU_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t fpu_crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* Only on a CPU with SSE4.2 (fpu_crc32c_has_hw): SIGILL otherwise. */
uint32_t fpu_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int fpu_crc32c_has_hw(void);

#endif
