/*
 * cmd_index.c — `rrvm index DIR`: replay a recording once and write
 * DIR/trace.db, with a progress bar when stderr is a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tracedb/tracedb.h"

#define PROGRESS_MIN_NS 100000000ull    /* redraw at most 10 times a second */
#define BAR_WIDTH 30

struct progress {
	uint64_t start_ns, last_ns;
	bool drawn;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	printf("Usage: rrvm index [OPTIONS] DIR\n"
	       "Replay the recording in DIR once and write DIR/trace.db, an SQLite database of\n"
	       "its exits, interrupts, serial output, annotations, logged inputs and the\n"
	       "kernel's symbols (schema in README.md; query it with 'rrvm query' or sqlite3).\n"
	       "The database is built in DIR/trace.db.partial and renamed into place when\n"
	       "complete, so an interrupted index never leaves a trace.db that looks whole.\n"
	       "An existing trace.db of an older schema or of another recording is rebuilt.\n\n"
	       "Options:\n"
	       "  -f, --force     also replace a DIR/trace.db that is not an rrvm trace database\n"
	       "      --stats     print insertion statistics (rows, rates, bytes per row)\n"
	       "      --no-steps  do not count the raw units to asynchronous points: their\n"
	       "                  rows get a NULL pos (faster on guests that run long\n"
	       "                  stretches without exits; see README, Positions)\n"
	       "      --max-steps N  give up counting after N raw units from one exit (default\n"
	       "                  1000000); those rows get a NULL pos and say so\n"
	       "  -q, --quiet     no progress bar and no summary\n"
	       "  -h, --help      show this help and exit\n\n"
	       "A progress bar (position, rate, time left) is drawn on stderr when it is a\n"
	       "terminal. Exit status: 0 done; 1 the database or the host failed; 2 usage\n"
	       "errors, a missing or damaged recording, or a foreign DIR/trace.db; 3 the\n"
	       "replay diverged from the recording (nothing is written).\n");
}

static void draw(void *ctx, uint64_t pos, uint64_t total)
{
	struct progress *p = ctx;
	uint64_t now = now_ns();
	double secs, rate, frac;
	int fill;

	if (now - p->last_ns < PROGRESS_MIN_NS && pos < total)
		return;
	p->last_ns = now;
	secs = (double)(now - p->start_ns) / 1e9;
	rate = secs > 0 ? (double)pos / secs : 0;
	frac = total ? (double)pos / (double)total : 0;
	if (frac > 1)
		frac = 1;
	if (!total) {
		/* A recording cut short has no total in its manifest. */
		fprintf(stderr, "\r%" PRIu64 " exits, %.0f exits/s ", pos, rate);
		p->drawn = true;
		return;
	}
	fill = (int)(frac * BAR_WIDTH);
	fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " exits %3d%% %.0f exits/s", fill,
		"##############################", BAR_WIDTH - fill, "", pos, total,
		(int)(frac * 100), rate);
	if (rate > 0 && total > pos)
		fprintf(stderr, " %.0fs left ", (double)(total - pos) / rate);
	else
		fputs("          ", stderr);
	p->drawn = true;
}

int cli_cmd_index(int argc, char **argv)
{
	enum { OPT_STATS = 1000, OPT_NO_STEPS, OPT_MAX_STEPS };
	static const struct option longopts[] = {
		{ "force", no_argument, 0, 'f' }, { "stats", no_argument, 0, OPT_STATS },
		{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' },
		{ "no-steps", no_argument, 0, OPT_NO_STEPS },
		{ "max-steps", required_argument, 0, OPT_MAX_STEPS }, { 0, 0, 0, 0 }
	};
	struct tracedb_index_options opt = { .units = &cli_index_units };
	struct tracedb_index_stats st;
	struct tracedb_error err = { "" };
	struct progress prog = { 0 };
	bool quiet = false, stats = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'f':
			opt.force = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_NO_STEPS:
			opt.units = NULL;
			break;
		case OPT_MAX_STEPS: {
			char *end;

			errno = 0;
			opt.units_max = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || !opt.units_max)
				return cli_usage_error("index", "--max-steps: '%s' is not a number of "
						       "raw units (1 or more)", optarg);
			break;
		}
		default:
			return cli_usage_error("index", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("index", optind >= argc ? "missing DIR" : "too many arguments");
	if (!quiet && isatty(STDERR_FILENO)) {
		prog.start_ns = now_ns();
		opt.progress = draw;
		opt.ctx = &prog;
	}
	rc = tracedb_index(argv[optind], &opt, &st, &err);
	if (prog.drawn)
		fputs("\r\033[K", stderr);
	if (rc) {
		cli_msg("index: %s", err.msg);
		if (rc == -EBADMSG)
			return 3;       /* as rrvm replay: the replay diverged */
		return rc == -EEXIST || rc == -ENOENT || rc == -EINVAL ? CLI_EXIT_USAGE : 1;
	}
	if (!quiet) {
		if (st.replaced)
			cli_msg("replaced the old trace database: %s", st.replaced_why);
		if (st.truncated)
			cli_msg("the recording is truncated: indexed up to its last event");
		cli_msg("indexed %" PRIu64 " exits, %" PRIu64 " interrupts, %" PRIu64 " serial lines, %"
			PRIu64 " annotations, %" PRIu64 " logged events into %s/" TRACEDB_FILE
			" (%.1f MB) in %.2f s", st.exits, st.interrupts, st.serial_lines, st.annotations,
			st.events, argv[optind], (double)st.db_bytes / 1e6, (double)st.total_ns / 1e9);
	}
	if (stats) {
		double ins = (double)st.writer.insert_ns / 1e9, all = (double)st.total_ns / 1e9;
		fprintf(stderr, "stats: rows=%" PRIu64 " exits=%" PRIu64 " insert_s=%.3f finish_s=%.3f "
			"total_s=%.3f db_bytes=%" PRIu64 " insert_rows_per_s=%.0f bytes_per_row=%.1f "
			"overall_rows_per_s=%.0f units=%" PRIu64 " unit_intervals=%" PRIu64
			" units_given_up=%" PRIu64 "\n", st.writer.rows, st.exits, ins,
			(double)st.writer.finish_ns / 1e9, all, st.db_bytes,
			ins > 0 ? (double)st.writer.rows / ins : 0,
			st.writer.rows ? (double)st.db_bytes / (double)st.writer.rows : 0,
			all > 0 ? (double)st.writer.rows / all : 0, st.units, st.unit_intervals,
			st.units_given_up);
	}
	return 0;
}
