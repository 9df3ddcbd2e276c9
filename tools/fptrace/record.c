/*
 * record.c — choose how to sample a program and run it.
 *
 * A program linked with the fprt runtime profiles itself: the runtime knows
 * its goroutines, g0 and signal stacks, so its samples carry exact regions and
 * multi-segment snapshots, and it can take wall samples of parked goroutines.
 * fptrace tells it where to write through the environment (FPTRACE_OUT,
 * FPTRACE_HZ, FPTRACE_SNAPSHOT_MAX).  Any other program, or --perf, is sampled
 * from outside with perf_event_open.  Either way the file ends with an END
 * record that fptrace writes from the wait status, after cutting away a
 * record the program may have been killed in the middle of.
 */
#include "record.h"
#include "fpt_launch.h"
#include "perf_record.h"
#include "fpu_record.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The symbol an fprt runtime with the profiler defines. */
#define FPRT_PROFILER_SYMBOL "rt_prof_start"

static int elf_has_symbol(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; data && i < n; i++) {
			GElf_Sym sym;
			const char *s;
			if (gelf_getsym(data, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
			    (s = elf_strptr(elf, sh.sh_link, sym.st_name)) && strcmp(s, name) == 0)
				return 1;
		}
	}
	return 0;
}

int fpt_is_fprt_program(const char *cmd)
{
	char path[4096];
	int found = 0;

	if (fpt_launch_which(cmd, path, sizeof path) != 0 || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	char why[200];
	int fd = fpu_open_regular(path, NULL, why, sizeof why);   /* a FIFO never blocks */
	if (fd < 0)
		return 0;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf) {
		found = elf_has_symbol(elf, FPRT_PROFILER_SYMBOL);
		elf_end(elf);
	}
	close(fd);
	return found;
}

static void set_env_number(const char *name, unsigned long v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lu", v);
	setenv(name, buf, 1);
}

/* What the runtime's writer reported on the status pipe (one line: the path,
 * the error, the samples lost), without its newline; "" if nothing. */
static void read_writer_status(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t got;
	while (n + 1 < len && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * In-process mode: the runtime writes the file; we add how the program ended.
 * A write error in the runtime (a full disk) comes back on a pipe whose write
 * end the child inherits as FPTRACE_STATUS_FD; it makes the recording fail.
 */
static int record_in_process(char *const argv[], const struct fpt_record_cmd *c,
			     int *wstatus, char *err, size_t errlen)
{
	int statusfd[2];
	char status[512];
	struct fpt_launch l;

	unlink(c->out_path);
	setenv("FPTRACE_OUT", c->out_path, 1);
	set_env_number("FPTRACE_HZ", c->hz);
	set_env_number("FPTRACE_SNAPSHOT_MAX", c->snapshot_max);
	if (pipe2(statusfd, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	set_env_number("FPTRACE_STATUS_FD", (unsigned long)statusfd[1]);
	int rc = fpt_launch_fork(&l, argv, 0, statusfd[1], err, errlen);
	close(statusfd[1]);
	if (rc == 0 && (rc = fpt_launch_exec(&l, argv, wstatus, err, errlen)) == 0 &&
	    fpt_launch_wait(&l, wstatus, 0) != 1) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		rc = -1;
	}
	read_writer_status(statusfd[0], status, sizeof status);
	close(statusfd[0]);
	if (rc != 0) {
		unlink(c->out_path);
		return -1;
	}
	struct fpu_rec_end end = fpt_launch_end_record(*wstatus);
	int repaired = fpu_rec_repair(c->out_path, &end, err, errlen);
	if (status[0]) {   /* the runtime's error first: it is the cause */
		snprintf(err, errlen, "%s", status);
		return -1;
	}
	return repaired != 0 ? -1 : 0;
}

/* Samples in a finished file (for the summary line). */
static uint64_t count_samples(const char *path)
{
	struct fpu_reader r;
	struct fpu_record rec;
	uint64_t n = 0;
	if (fpu_reader_open(&r, path) != 0)
		return 0;
	while (fpu_reader_next(&r, &rec) > 0)
		n += rec.type == FPU_REC_SAMPLE;
	fpu_reader_close(&r);
	return n;
}

int fpt_record(char *const argv[], const struct fpt_record_cmd *c, int *wstatus,
	       uint64_t *samples, char *err, size_t errlen)
{
	int rc;

	struct fpt_record_opts o = { .hz = c->hz, .snapshot_max = c->snapshot_max,
				     .out_path = c->out_path, .status_line = 1,
				     .event = c->event, .period = c->period,
				     .duration_ns = c->duration_ns, .no_inherit = c->no_inherit };
	/* -e and -c name perf events: the in-process profiler has its own timers */
	int in_process = !c->nattach && !c->force_perf && !c->event && !c->period &&
			 !c->no_inherit &&
			 fpt_is_fprt_program(argv[0]);
	if (c->nattach) {
		rc = fpt_perf_attach(c->attach_pids, c->nattach, &o, err, errlen);
		*wstatus = 0;
	} else if (in_process) {
		rc = record_in_process(argv, c, wstatus, err, errlen);
	} else {
		rc = fpt_perf_record(argv, &o, wstatus, err, errlen);
	}
	*samples = rc == 0 ? count_samples(c->out_path) : 0;
	return rc;
}
