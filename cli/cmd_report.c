/*
 * cmd_report.c — `rrvm report DIR`: write DIR/report.html (or -o FILE)
 * for any recording, indexing it first when DIR/trace.db is missing or
 * stale (the same indexer as `rrvm index`).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tracedb/tracedb.h"

static void usage(void)
{
	printf("Usage: rrvm report [OPTIONS] DIR\n"
	       "Write DIR/report.html: one self-contained page (no network, no external files)\n"
	       "with what ran and how it ended (kernel, SHA-256, command line, chaos seed, exit\n"
	       "status, the last serial lines with the failure line marked), a timeline of the\n"
	       "whole recording, and the commands to replay it, debug it in gdb and query it.\n"
	       "It is made from DIR/trace.db; a recording not indexed yet (or indexed from\n"
	       "another manifest) is indexed first, as 'rrvm index DIR' does.\n\n"
	       "Options:\n"
	       "  -o, --output FILE  write the page to FILE instead of DIR/report.html\n"
	       "      --max-marks N  marks in a timeline lane before it groups them (default %d)\n"
	       "  -q, --quiet        no messages\n"
	       "  -h, --help         show this help and exit\n\n"
	       "Exit status: 0 written; 1 the database or the host failed; 2 usage errors or a\n"
	       "missing or damaged recording; 3 the replay diverged while indexing.\n",
	       TRACEDB_REPORT_MAX_MARKS);
}

/* Index dir unless its trace.db is current; an exit status or 0. */
static int ensure_index(const char *dir, bool quiet)
{
	struct tracedb_index_options io = { 0 };
	struct tracedb_index_stats st;
	struct tracedb_error err = { "" };
	struct tracedb *db = NULL;
	int rc = tracedb_open(dir, &db, &err);

	tracedb_close(db);
	if (rc == 0)
		return 0;
	if (rc != -ENOENT && rc != -ESTALE) {
		cli_msg("report: %s", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (!quiet)
		cli_msg("report: indexing %s first", dir);
	rc = tracedb_index(dir, &io, &st, &err);
	if (rc) {
		cli_msg("report: %s", err.msg);
		if (rc == -EBADMSG)
			return 3;
		return rc == -EEXIST || rc == -ENOENT || rc == -EINVAL ? CLI_EXIT_USAGE : 1;
	}
	return 0;
}

int cli_cmd_report(int argc, char **argv)
{
	enum { OPT_MAX_MARKS = 1000 };
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' },
		{ "max-marks", required_argument, 0, OPT_MAX_MARKS },
		{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct tracedb_report_options ro = { 0 };
	struct tracedb_error err = { "" };
	struct tracedb *db = NULL;
	struct cli_outfile out;
	const char *output = NULL;
	char path[4200];
	bool quiet = false;
	char *end;
	long v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_MAX_MARKS:
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 10000000)
				return cli_usage_error("report", "--max-marks %s: give 1 to 10000000", optarg);
			ro.max_marks = (unsigned)v;
			break;
		default:
			return cli_usage_error("report", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("report", optind >= argc ? "missing DIR" : "too many arguments");
	ro.dir = argv[optind];
	rc = ensure_index(ro.dir, quiet);
	if (rc)
		return rc;
	if (tracedb_open(ro.dir, &db, &err)) {
		cli_msg("report: %s", err.msg);
		return 1;
	}
	if (!output) {
		snprintf(path, sizeof(path), "%s/report.html", ro.dir);
		output = path;
	}
	if (cli_outfile_open(&out, output)) {
		tracedb_close(db);
		return 1;
	}
	rc = tracedb_report_write(db, &ro, out.f, &err);
	tracedb_close(db);
	if (rc) {
		cli_outfile_abort(&out);
		cli_msg("%s", err.msg);
		return 1;
	}
	if (cli_outfile_commit(&out))
		return 1;
	if (!quiet)
		cli_msg("wrote %s", output);
	return 0;
}
