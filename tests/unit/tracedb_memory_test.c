/*
 * tracedb_memory_test.c — the trace database writer's memory does not grow
 * with the number of rows (issue 14, item 5: `rrvm index` reached 600 MB
 * for 10 M exits because the index build sorted in memory).
 *
 * Two children write the same synthetic exit stream into temporary files,
 * one SMALL rows and one LARGE rows, each reporting its peak RSS
 * (getrusage). Peaks are compared within this run on this machine, so the
 * check holds for ASan builds too: the large run may use more only by the
 * documented bound (twice TRACEDB_WRITER_CACHE_KIB plus slack), not by
 * something proportional to its ten times more rows. No KVM involved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "tracedb/tracedb.h"

#define SMALL 300000ull
#define LARGE 3000000ull

static char tmpdir[] = "/tmp/tracedb_memory_test.XXXXXX";

/* In a sanitizer build, ASan keeps freed blocks in a quarantine (256 MB by
 * default) that grows with the number of frees and would be measured here
 * as the writer's growth; a small one leaves the writer's own memory.
 * (A hook the ASan runtime calls; unused in other builds.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=8";
}

/* Write rows exits (and an interrupt every 1000) and finish; 0 or -1. */
static int write_db(uint64_t rows)
{
	static const char *const funcs[] = { "io_round", "kmain", "serial_putc", "pic_eoi" };
	struct tracedb_writer *w;
	struct tracedb_error err;
	char path[256];
	int rc = -1;

	snprintf(path, sizeof(path), "%s/t%llu.db", tmpdir, (unsigned long long)rows);
	if (tracedb_writer_create(path, &w, &err)) {
		fprintf(stderr, "create: %s\n", err.msg);
		return -1;
	}
	for (uint64_t i = 1; i <= rows; i++) {
		struct tracedb_exit e = {
			.position = i, .kind = (i & 1) ? TRACEDB_EXIT_PIO_IN : TRACEDB_EXIT_PIO_OUT,
			.addr = 0x80 + (i & 3), .size = 1, .value = i & 0xff,
			.rip = 0x100400 + (i % 977) * 5, .symbol = funcs[(i >> 10) & 3],
		};
		if (tracedb_put_exit(w, &e))
			goto out;
		if (i % 1000 == 0) {
			struct tracedb_interrupt irq = { .position = i, .vector = 0x20, .rip = e.rip,
							 .raised_position = i };
			if (tracedb_put_interrupt(w, &irq))
				goto out;
		}
	}
	if (tracedb_writer_finish(w, &err))
		fprintf(stderr, "finish: %s\n", err.msg);
	else
		rc = 0;
out:
	if (rc)
		fprintf(stderr, "write: %s\n", tracedb_writer_error(w));
	tracedb_writer_free(w);
	unlink(path);
	return rc;
}

/* Peak RSS in KiB of a child that wrote rows, or -1. */
static long peak_kib(uint64_t rows)
{
	int pfd[2], status;
	long kib = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rusage ru;
		long v = -1;

		close(pfd[0]);
		if (write_db(rows) == 0 && getrusage(RUSAGE_SELF, &ru) == 0)
			v = ru.ru_maxrss;
		if (write(pfd[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &kib, sizeof(kib)) != sizeof(kib))
		kib = -1;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return kib;
}

int main(void)
{
	long small, large, bound = 2 * TRACEDB_WRITER_CACHE_KIB + 32768;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	small = peak_kib(SMALL);
	large = peak_kib(LARGE);
	ok(small > 0, "%llu rows written, peak RSS %ld KiB", SMALL, small);
	ok(large > 0, "%llu rows written, peak RSS %ld KiB", LARGE, large);
	ok(large > 0 && small > 0 && large - small < bound,
	   "ten times more rows cost %ld KiB more; bound %ld KiB (2 x cache + 32 MiB)",
	   large - small, bound);
	rmdir(tmpdir);
	return tap_done();
}
