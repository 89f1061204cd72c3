/*
 * cmd_capture.c — `rrvm capture`: record a flaky guest many times, keep the
 * recordings of the runs that failed, and report like a test runner (a
 * summary, an exit status, optionally JUnit XML for CI dashboards).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/guest.h"

#define MAX_RUNS 100000

static void usage(void)
{
	printf("Usage: rrvm capture --runs N [--until-fail] -o OUTDIR [OPTIONS] KERNEL [-- ARGS...]\n"
	       "Record KERNEL up to N times (each run is 'rrvm record' into OUTDIR/run-NNNN) and\n"
	       "keep the recordings of the runs that failed; passing runs are deleted unless\n"
	       "--keep-passing. Each run's serial output is in its directory (serial.log).\n\n"
	       "Options:\n"
	       "  -n, --runs N           how many runs (default 10)\n"
	       "      --until-fail       stop after the first failing run\n"
	       "  -o, --output OUTDIR    where the recordings go (created if needed)\n"
	       "      --chaos[=SEED]     chaos mode; run K uses seed SEED+K (default seed 1)\n"
	       "      --pass-status LIST guest exit statuses that count as a pass (default 0,1)\n"
	       "      --keep-passing     keep the recordings of passing runs too\n"
	       "      --junit FILE       write a JUnit XML report\n"
	       CLI_GUEST_OPTS_HELP
	       "\nExit status: 0 when every run passed, 1 when a failure was captured, 2 usage,\n"
	       "6 when a recording could not be written (disk full, directory removed).\n");
}

struct run_output {
	char path[4200];
	FILE *f;
};

static void write_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct run_output *out = ctx;

	if (stream != VMM_OUT_SERIAL)
		return;
	if (!out->f)
		out->f = fopen(out->path, "w");
	if (out->f)
		fwrite(buf, 1, len, out->f);
}

static bool status_passes(const char *list, int status)
{
	const char *p = list;

	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			return false;
		if (v == status)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return false;
}

/* A passing run leaves nothing: its serial log, then the recording. */
static void remove_run(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/serial.log", dir);
	unlink(path);
	replay_recording_remove(dir);
}

/* What a failing run said: its first line that looks like a failure
 * (panic, fail, assert, exception), else its last line. */
static void last_line(const char *path, char *buf, size_t len)
{
	static const char *const words[] = { "PANIC", "panic", "FAIL", "fail", "assert", "EXCEPTION" };
	FILE *f = fopen(path, "r");
	char line[512];
	bool found = false;

	snprintf(buf, len, "(no output)");
	if (!f)
		return;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		snprintf(buf, len, "%.255s", line);
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			found = found || strstr(line, words[i]);
	}
	fclose(f);
}

static void xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

int cli_cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "runs", required_argument, 0, 'n' },
		{ "until-fail", no_argument, 0, 'U' },
		{ "output", required_argument, 0, 'o' },
		{ "chaos", optional_argument, 0, 'C' },
		{ "pass-status", required_argument, 0, 'P' },
		{ "keep-passing", no_argument, 0, 'K' },
		{ "junit", required_argument, 0, 'J' },
		CLI_GUEST_LONGOPTS, { 0, 0, 0, 0 }
	};
	struct cli_guest_opts o;
	const char *outdir = NULL, *junit = NULL, *pass_list = "0,1";
	bool until_fail = false, keep = false, chaos = false;
	uint64_t seed = 1;
	long runs = 10;
	int c, rc, done = 0, failed = 0;
	char *end;
	FILE *xml = NULL;
	char (*names)[64] = NULL, (*msgs)[256] = NULL;
	double *secs = NULL;

	cli_guest_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'n':
			runs = strtol(optarg, &end, 10);
			if (*end || runs < 1 || runs > MAX_RUNS)
				return cli_usage_error("capture", "--runs %s: give 1 to %d", optarg, MAX_RUNS);
			continue;
		case 'U': until_fail = true; continue;
		case 'o': outdir = optarg; continue;
		case 'K': keep = true; continue;
		case 'J': junit = optarg; continue;
		case 'P':
			pass_list = optarg;
			continue;
		case 'C':
			chaos = true;
			if (optarg) {
				seed = strtoull(optarg, &end, 10);
				if (*end || end == optarg)
					return cli_usage_error("capture", "--chaos=%s: not a number", optarg);
			}
			continue;
		case '?':
			return cli_usage_error("capture", "bad option");
		}
		rc = cli_guest_opt(&o, c, optarg);
		if (rc)
			return rc;
	}
	if (!outdir)
		return cli_usage_error("capture", "missing -o OUTDIR");
	rc = cli_guest_operands(&o, "capture", argc, argv, optind);
	if (rc)
		return rc;
	if (o.gdb) {
		rc = cli_usage_error("capture", "--gdb does not go with capture");
		goto out;
	}
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		cli_msg("%s: %s", outdir, strerror(errno));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	names = calloc((size_t)runs, sizeof(*names));
	msgs = calloc((size_t)runs, sizeof(*msgs));
	secs = calloc((size_t)runs, sizeof(*secs));
	if (!names || !msgs || !secs) {
		rc = 1;
		goto out;
	}
	o.quiet = true;
	for (long i = 0; i < runs; i++) {
		struct run_output ro_out = { .f = NULL };
		struct replay_record_options ro = { .chaos = chaos, .chaos_seed = seed + (uint64_t)i };
		struct replay_manifest m = { .events = 0 };
		char dir[4096];
		uint64_t t0 = vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC);
		int in_fd, status;
		bool pass;

		snprintf(dir, sizeof(dir), "%s/run-%04ld", outdir, i + 1);
		snprintf(names[i], sizeof(names[i]), "run-%04ld", i + 1);
		snprintf(ro_out.path, sizeof(ro_out.path), "%s/serial.log", dir);
		ro.dir = dir;
		ro.output = (struct vmm_output){ write_output, &ro_out };
		/* Every run reads the same input from the start. */
		in_fd = o.serial_in ? cli_guest_open_input(&o) : -1;
		if (o.serial_in && in_fd < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		status = cli_record_run(&o, &ro, in_fd, &m);
		if (in_fd >= 0)
			close(in_fd);
		if (ro_out.f)
			fclose(ro_out.f);
		secs[i] = (double)(vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC) - t0) / 1e9;
		done++;
		if (status == REPLAY_EXIT_INCOMPLETE) {
			/* Never a pass, whatever --pass-status says: the disk is
			 * full or the directory went away, so stop here. */
			printf("%s: ERROR (status %d): the recording could not be written\n"
			       "%d runs, %d failed, stopped by the error\n", names[i], status, done,
			       failed);
			rc = status;
			goto out;
		}
		if (!m.events) {        /* rrvm itself failed: no recording */
			rc = status;
			goto out;
		}
		pass = status_passes(pass_list, status);
		if (!pass) {
			failed++;
			last_line(ro_out.path, msgs[i], sizeof(msgs[i]));
			printf("%s: FAIL (status %d): %s\n  recording: %s\n", names[i], status, msgs[i], dir);
		} else {
			printf("%s: pass (status %d)\n", names[i], status);
			if (!keep)
				remove_run(dir);
		}
		fflush(stdout);
		if (!pass && until_fail)
			break;
	}
	printf("%d runs, %d passed, %d failed\n", done, done - failed, failed);
	if (junit) {
		xml = fopen(junit, "w");
		if (!xml) {
			cli_msg("--junit %s: %s", junit, strerror(errno));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		fprintf(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			     "<testsuite name=\"rrvm capture ");
		xml_escaped(xml, o.kernel);
		fprintf(xml, "\" tests=\"%d\" failures=\"%d\">\n", done, failed);
		for (int i = 0; i < done; i++) {
			fprintf(xml, "  <testcase classname=\"rrvm.capture\" name=\"%s\" time=\"%.3f\"",
				names[i], secs[i]);
			if (!*msgs[i]) {
				fprintf(xml, "/>\n");
				continue;
			}
			fprintf(xml, ">\n    <failure message=\"");
			xml_escaped(xml, msgs[i]);
			fprintf(xml, "\">recording: %s/%s</failure>\n  </testcase>\n", outdir, names[i]);
		}
		fprintf(xml, "</testsuite>\n");
		fclose(xml);
	}
	rc = failed ? 1 : 0;
out:
	free(names);
	free(msgs);
	free(secs);
	cli_guest_opts_free(&o);
	return rc;
}
