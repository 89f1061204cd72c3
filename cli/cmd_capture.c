/*
 * cmd_capture.c — `rrvm capture`: record a flaky guest many times (several
 * at once), keep the recordings of the runs that failed, and report like
 * a test runner: a line per run in run order, an exit status, JUnit XML
 * and JSON for CI, and for every kept failure a report.html, linked from
 * summary.html. The scheduling is in capture_jobs.c, the files in
 * capture_out.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/capture.h"
#include "replay/replay.h"

#define MAX_RUNS 100000
#define MAX_JOBS 256

static void usage(void)
{
	printf("Usage: rrvm capture --runs N [--until-fail] -o OUTDIR [OPTIONS] KERNEL [-- ARGS...]\n"
	       "Record KERNEL up to N times (each run is 'rrvm record' into OUTDIR/run-NNNN),\n"
	       "several at once, and keep the recordings of the runs that failed; passing runs\n"
	       "are deleted unless --keep-passing. Each run's serial output is in its directory\n"
	       "(serial.log); each kept failure gets a report.html (indexed into trace.db first),\n"
	       "linked from summary.html beside the JUnit file (or in OUTDIR).\n\n"
	       "Options:\n"
	       "  -n, --runs N           how many runs (default 10)\n"
	       "  -j, --jobs N           runs at once (default: the number of online CPUs)\n"
	       "      --until-fail       stop at the first failing run; with --jobs the failure\n"
	       "                         kept is the first by run number, as if run one by one\n"
	       "  -o, --output OUTDIR    where the recordings go (created if needed)\n"
	       "      --chaos[=SEED]     chaos mode; run K uses seed SEED+K-1 (default seed 1)\n"
	       "      --pass-status LIST guest exit statuses that count as a pass (default 0,1)\n"
	       "      --keep-passing     keep the recordings of passing runs too\n"
	       "      --junit FILE       write a JUnit XML report\n"
	       "      --json FILE        write one JSON document (its JSON Schema is\n"
	       "                         installed as PREFIX/share/rrvm/capture.schema.json)\n"
	       "      --no-report        no trace.db, report.html or summary.html\n"
	       CLI_GUEST_OPTS_HELP
	       "\nRun lines go to stdout in run order; on a terminal a progress line (runs done,\n"
	       "failures, runs per second, time left) is drawn on stderr.\n"
	       "Exit status: 0 when every run passed, 1 when a failure was captured, 2 usage,\n"
	       "6 when a recording could not be written (disk full, directory removed), 130\n"
	       "interrupted; rrvm's own failure to record gives that run's status.\n");
}

/* A list of statuses separated by commas; false if it is not one. */
static bool pass_list_valid(const char *p)
{
	while (*p) {
		char *end;
		strtol(p, &end, 10);
		if (end == p || (*end && *end != ','))
			return false;
		p = *end ? end + 1 : end;
	}
	return true;
}

static bool status_in(const char *p, int status)
{
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			return false;
		if (v == status)
			return true;
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

enum capture_verdict capture_verdict(const struct capture_config *c, int status, bool recorded)
{
	if (!recorded)
		return CAPTURE_ERROR;   /* rrvm itself failed: no recording */
	if (status == REPLAY_EXIT_INCOMPLETE)
		return CAPTURE_ERROR;   /* the recording could not be written whole */
	return status_in(c->pass_list, status) ? CAPTURE_PASS : CAPTURE_FAIL;
}

static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

static int parse_options(struct capture_config *c, int argc, char **argv)
{
	enum { OPT_UNTIL = 2000, OPT_CHAOS, OPT_PASS, OPT_KEEP, OPT_JUNIT, OPT_JSON, OPT_NOREPORT };
	static const struct option longopts[] = {
		{ "runs", required_argument, 0, 'n' },
		{ "jobs", required_argument, 0, 'j' },
		{ "until-fail", no_argument, 0, OPT_UNTIL },
		{ "output", required_argument, 0, 'o' },
		{ "chaos", optional_argument, 0, OPT_CHAOS },
		{ "pass-status", required_argument, 0, OPT_PASS },
		{ "keep-passing", no_argument, 0, OPT_KEEP },
		{ "junit", required_argument, 0, OPT_JUNIT },
		{ "json", required_argument, 0, OPT_JSON },
		{ "no-report", no_argument, 0, OPT_NOREPORT },
		CLI_GUEST_LONGOPTS, { 0, 0, 0, 0 }
	};
	char *end;
	long v;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+n:j:o:qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage();
			return -1;
		case 'n':
			c->runs = strtol(optarg, &end, 10);
			if (*end || end == optarg || c->runs < 1 || c->runs > MAX_RUNS)
				return cli_usage_error("capture", "--runs %s: give 1 to %d", optarg, MAX_RUNS);
			continue;
		case 'j':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > MAX_JOBS)
				return cli_usage_error("capture", "--jobs %s: give 1 to %d", optarg, MAX_JOBS);
			c->jobs = (int)v;
			continue;
		case OPT_UNTIL: c->until_fail = true; continue;
		case 'o': c->outdir = optarg; continue;
		case OPT_KEEP: c->keep_passing = true; continue;
		case OPT_JUNIT: c->junit = optarg; continue;
		case OPT_JSON: c->json = optarg; continue;
		case OPT_NOREPORT: c->report = false; continue;
		case OPT_PASS:
			if (!pass_list_valid(optarg))
				return cli_usage_error("capture", "--pass-status %s: give statuses "
						       "separated by commas (e.g. 0,1)", optarg);
			c->pass_list = optarg;
			continue;
		case OPT_CHAOS:
			c->chaos = true;
			if (optarg) {
				errno = 0;
				c->seed = strtoull(optarg, &end, 10);
				if (*end || end == optarg || errno || *optarg == '-')
					return cli_usage_error("capture", "--chaos=%s: not a number", optarg);
			}
			continue;
		case '?':
			return cli_usage_error("capture", "bad option");
		}
		rc = cli_guest_opt(&c->guest, ch, optarg);
		if (rc)
			return rc;
	}
	if (!c->outdir)
		return cli_usage_error("capture", "missing -o OUTDIR");
	rc = cli_guest_operands(&c->guest, "capture", argc, argv, optind);
	if (rc)
		return rc;
	if (c->guest.gdb)
		return cli_usage_error("capture", "--gdb does not go with capture");
	return 0;
}

int cli_cmd_capture(int argc, char **argv)
{
	struct capture_config c = {
		.pass_list = "0,1", .seed = 1, .runs = 10, .jobs = default_jobs(), .report = true,
	};
	long done = 0, failed = 0;
	int rc;

	cli_guest_opts_init(&c.guest);
	rc = parse_options(&c, argc, argv);
	if (rc)
		goto out;
	if (mkdir(c.outdir, 0755) < 0 && errno != EEXIST) {
		cli_msg("%s: %s", c.outdir, strerror(errno));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	c.run = calloc((size_t)c.runs, sizeof(*c.run));
	if (!c.run) {
		rc = 1;
		goto out;
	}
	for (long i = 0; i < c.runs; i++) {
		struct capture_run *r = &c.run[i];
		r->number = (int)i + 1;
		r->seed = c.seed + (uint64_t)i;
		r->fd = -1;
		snprintf(r->name, sizeof(r->name), "run-%04d", r->number);
		if (asprintf(&r->dir, "%s/%s", c.outdir, r->name) < 0) {
			r->dir = NULL;
			rc = 1;
			goto out;
		}
	}
	c.guest.quiet = true;
	if (c.jobs > c.runs)
		c.jobs = (int)c.runs;
	c.progress = isatty(STDERR_FILENO);
	rc = capture_jobs_record(&c);
	if (rc) {
		cli_msg("capture: %s", strerror(-rc));
		rc = 1;
		goto out;
	}
	for (long i = 0; i < c.limit; i++) {
		done += c.run[i].state == CAPTURE_DONE;
		failed += c.run[i].state == CAPTURE_DONE && c.run[i].verdict == CAPTURE_FAIL;
	}
	printf("%ld runs, %ld passed, %ld failed\n", done, done - failed, failed);
	fflush(stdout);
	if (c.report && failed && !c.interrupted)
		capture_jobs_report(&c);
	for (long i = 0; i < c.limit; i++)
		if (*c.run[i].report_error)
			cli_msg("%s: no report: %s", c.run[i].name, c.run[i].report_error);
	rc = c.interrupted ? 130 : c.error_status ? c.error_status : failed ? 1 : 0;
	if (capture_write_junit(&c) || capture_write_json(&c, rc) ||
	    (c.report && capture_write_summary(&c)))
		rc = rc ? rc : CLI_EXIT_USAGE;
out:
	for (long i = 0; c.run && i < c.runs; i++) {
		free(c.run[i].dir);
		free(c.run[i].report);
	}
	free(c.run);
	cli_guest_opts_free(&c.guest);
	return rc < 0 ? 0 : rc;
}
