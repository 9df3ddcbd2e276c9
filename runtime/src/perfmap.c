/*
 * perfmap.c — telling Linux perf about the code fprt generates (export.c).
 *
 * FPRT_PERFMAP=1  each thunk is appended to /tmp/perf-PID.map as
 *                 "START SIZE name" (hex, no 0x) when it is created: perf
 *                 report/script name pcs in anonymous executable memory from
 *                 it, and fptrace does too (perf-integration/src/perfmap_names.c).
 * FPRT_JITDUMP=1  the jitdump format of perf (tools/perf/Documentation/
 *                 jitdump-specification.txt) in $FPRT_JITDUMP_DIR/jit-PID.dump
 *                 (default /tmp): a header, then per thunk a
 *                 JIT_CODE_UNWINDING_INFO (its .eh_frame and .eh_frame_hdr,
 *                 laid out for the ELF perf inject writes: right after the
 *                 code, whose size is a multiple of 16) and a JIT_CODE_LOAD with the code bytes.  The file's
 *                 first page is mapped PROT_EXEC once: the marker that makes
 *                 `perf record -k mono` note the file, so that
 *                 `perf inject --jit` turns each load into a jitted-PID-N.so.
 * Timestamps are CLOCK_MONOTONIC: record with -k mono (--clockid monotonic).
 * Any other value than 0 or 1 is a fatal error, like every FPRT_ variable.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

#define JIT_MAGIC 0x4A695444u
#define JIT_CODE_LOAD 0
#define JIT_CODE_UNWINDING_INFO 4

static bool inited;
static int mapfd = -1, dumpfd = -1;
static uint64_t code_index;

static bool flag(const char *name)
{
	const char *v = getenv(name);
	if (!v || !v[0] || strcmp(v, "0") == 0)
		return false;
	if (strcmp(v, "1") != 0)
		rt_fatal("%s=\"%s\": want 0 or 1", name, v);
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;          /* a profiling aid: never fatal */
		p += w;
		n -= (size_t)w;
	}
}

static void open_jitdump(void)
{
	const char *dir = getenv("FPRT_JITDUMP_DIR");
	char path[512];
	snprintf(path, sizeof path, "%s/jit-%d.dump", dir && dir[0] ? dir : "/tmp", (int)getpid());
	dumpfd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
	if (dumpfd < 0)
		rt_fatal("FPRT_JITDUMP: cannot create %s", path);
	struct {
		uint32_t magic, version, total_size, elf_mach, pad1, pid;
		uint64_t timestamp, flags;
	} h = { JIT_MAGIC, 1, 40, EM_X86_64, 0, (uint32_t)getpid(), now_ns(), 0 };
	_Static_assert(sizeof h == 40, "jitdump header");
	write_all(dumpfd, &h, sizeof h);
	/* the marker: perf record sees this mmap of jit-PID.dump */
	long pg = sysconf(_SC_PAGESIZE);
	if (mmap(NULL, (size_t)pg, PROT_READ | PROT_EXEC, MAP_PRIVATE, dumpfd, 0) == MAP_FAILED)
		rt_fatal("FPRT_JITDUMP: cannot map %s", path);
}

static void init(void)
{
	inited = true;
	if (flag("FPRT_PERFMAP")) {
		char path[64];
		snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
		mapfd = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
		if (mapfd < 0)
			rt_fatal("FPRT_PERFMAP: cannot open %s", path);
	}
	if (flag("FPRT_JITDUMP"))
		open_jitdump();
}

struct prefix { uint32_t id, total_size; uint64_t timestamp; };

static void jit_unwinding(uintptr_t code, size_t size)
{
	uint8_t buf[256];
	struct { struct prefix p; uint64_t unwinding_size, eh_frame_hdr_size, mapped_size; } r;
	size_t fde_off;
	uint8_t *eh = buf + sizeof r;
	size_t ehlen = rt_export_ehframe(eh, code, (int64_t)size, &fde_off);
	/* .eh_frame_hdr right after: version, eh_frame_ptr pcrel sdata4,
	 * fde_count udata4, table datarel sdata4 */
	uint8_t *hdr = eh + ehlen;
	int32_t v[4] = {
		-(int32_t)(ehlen + 4),                 /* .eh_frame, from the field at hdr + 4 */
		1,                                     /* FDEs */
		-(int32_t)(size + ehlen),              /* the code, from hdr */
		(int32_t)fde_off - (int32_t)ehlen,     /* the FDE, from hdr */
	};
	hdr[0] = 1;
	hdr[1] = 0x1b;
	hdr[2] = 0x03;
	hdr[3] = 0x3b;
	memcpy(hdr + 4, v, sizeof v);
	size_t hdrlen = 4 + sizeof v;
	size_t total = (sizeof r + ehlen + hdrlen + 7) & ~(size_t)7;
	memset(hdr + hdrlen, 0, total - (sizeof r + ehlen + hdrlen));
	r = (__typeof__(r)){ { JIT_CODE_UNWINDING_INFO, (uint32_t)total, now_ns() },
			 ehlen + hdrlen, hdrlen, 0 };
	memcpy(buf, &r, sizeof r);
	write_all(dumpfd, buf, total);
}

static void jit_load(uintptr_t code, size_t size, const char *name)
{
	struct {
		struct prefix p;
		uint32_t pid, tid;
		uint64_t vma, code_addr, code_size, code_index;
	} r;
	size_t namelen = strlen(name) + 1;
	uint8_t buf[sizeof r + 256 + 64];
	if (namelen > 256)
		namelen = 256;
	r = (__typeof__(r)){ { JIT_CODE_LOAD, (uint32_t)(sizeof r + namelen + size), now_ns() },
			 (uint32_t)getpid(), (uint32_t)syscall(SYS_gettid),
			 code, code, size, code_index++ };
	memcpy(buf, &r, sizeof r);
	memcpy(buf + sizeof r, name, namelen - 1);
	buf[sizeof r + namelen - 1] = 0;
	memcpy(buf + sizeof r + namelen, (const void *)code, size);
	write_all(dumpfd, buf, sizeof r + namelen + size);
}

void rt_perfmap_add(uintptr_t code, size_t size, const char *name)
{
	if (!inited)
		init();
	if (mapfd >= 0) {
		char line[256];
		int n = snprintf(line, sizeof line, "%lx %zx %s\n", (unsigned long)code, size, name);
		write_all(mapfd, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
	}
	if (dumpfd >= 0) {
		jit_unwinding(code, size);
		jit_load(code, size, name);
	}
}
