/*
 * tracedb_bench.c — the trace database's insertion layer on its own: N
 * synthetic exit rows (the mix a port-I/O-heavy guest produces: four ports,
 * reads and writes, a handful of functions) plus an interrupt every 1000
 * exits, through tracedb_writer, into a temporary file. Prints rows per
 * second for the inserts alone and with the final index build, and the
 * bytes per row of the finished file. No KVM involved.
 *
 * Usage: tracedb_bench [ROWS] [DIR]   (default 2000000 rows, $TMPDIR or /tmp)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracedb/tracedb.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared, loaded machine the wall clock
 * also counts the time other processes had the CPU. */
static double cpu(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

int main(int argc, char **argv)
{
	static const char *const funcs[] = { "io_round", "kmain", "serial_putc", "pic_eoi" };
	static const uint16_t ports[] = { 0x80, 0x3ff, 0x3ff, 0x84 };
	uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct tracedb_writer *w;
	struct tracedb_error err;
	struct stat sb;
	char path[4096];
	double t0, t1, t2, c0, c1, c2;
	uint64_t n = 0;

	snprintf(path, sizeof(path), "%s/tracedb_bench.%d.db", dir, (int)getpid());
	if (tracedb_writer_create(path, &w, &err)) {
		fprintf(stderr, "tracedb_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now();
	c0 = cpu();
	for (uint64_t i = 1; i <= rows; i++, n++) {
		struct tracedb_exit e = {
			.position = i, .kind = (i & 3) == 2 ? TRACEDB_EXIT_PIO_IN : TRACEDB_EXIT_PIO_OUT,
			.addr = ports[i & 3], .size = (i & 3) == 3 ? 4 : 1, .value = i & 0xff,
			.rip = 0x100400 + (i & 3) * 5, .symbol = funcs[(i >> 12) & 3],
		};
		if (tracedb_put_exit(w, &e))
			goto fail;
		if (i % 1000 == 0) {
			struct tracedb_interrupt irq = {
				.position = i, .vector = 0x20, .rip = e.rip, .symbol = e.symbol,
				.cpl = 0, .raised_position = i, .have_clock = true, .clock_ns = i * 1000,
			};
			if (tracedb_put_interrupt(w, &irq))
				goto fail;
			n++;
		}
	}
	t1 = now();
	c1 = cpu();
	if (tracedb_writer_finish(w, &err)) {
		fprintf(stderr, "tracedb_bench: %s\n", err.msg);
		goto out;
	}
	t2 = now();
	c2 = cpu();
	if (stat(path, &sb) < 0)
		sb.st_size = 0;
	printf("synthetic insert: %" PRIu64 " rows (%" PRIu64 " exits + interrupts), %.1f bytes per "
	       "row (%.1f MB)\n", n, rows, (double)sb.st_size / (double)n, (double)sb.st_size / 1e6);
	printf("  inserting:       %.2f s wall, %.2f s CPU: %.0f rows/s wall, %.0f rows/s CPU\n",
	       t1 - t0, c1 - c0, (double)n / (t1 - t0), (double)n / (c1 - c0));
	printf("  indexes, ANALYZE, fsync: %.2f s wall, %.2f s CPU\n", t2 - t1, c2 - c1);
	printf("  overall:         %.0f rows/s wall, %.0f rows/s CPU\n", (double)n / (t2 - t0),
	       (double)n / (c2 - c0));
	printf("  target 500000 rows/s inserting: %s (wall), %s (CPU)\n",
	       (double)n / (t1 - t0) >= 500000 ? "met" : "NOT met",
	       (double)n / (c1 - c0) >= 500000 ? "met" : "NOT met");
	tracedb_writer_free(w);
	unlink(path);
	return 0;
fail:
	fprintf(stderr, "tracedb_bench: %s\n", tracedb_writer_error(w));
out:
	tracedb_writer_free(w);
	unlink(path);
	return 1;
}
