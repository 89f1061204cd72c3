/*
 * capture_out.c — what `rrvm capture` leaves for CI and people: JUnit XML,
 * one JSON document (schema: doc/capture.schema.json), summary.html
 * linking each kept failure's report.html, and the reports themselves.
 * Every file is written whole or not at all (cli_outfile).
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/capture.h"
#include "config.h"
#include "tracedb/tracedb.h"

static void xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* The runs that count: done, below the limit. */
static bool counts(const struct capture_config *c, long i)
{
	return i < c->limit && c->run[i].state == CAPTURE_DONE;
}

static void tally(const struct capture_config *c, long *done, long *failed)
{
	*done = *failed = 0;
	for (long i = 0; i < c->runs; i++) {
		if (!counts(c, i))
			continue;
		(*done)++;
		*failed += c->run[i].verdict == CAPTURE_FAIL;
	}
}

/* path relative to directory from (both must exist), else path itself. */
static void relative(const char *from, const char *path, char *buf, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX], copy[PATH_MAX], name[PATH_MAX];
	size_t common = 0, n = 0;

	snprintf(buf, len, "%s", path);
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(name, sizeof(name), "%s", basename(copy));
	snprintf(copy, sizeof(copy), "%s", path);
	if (!realpath(from, a) || !realpath(dirname(copy), b) || strlen(a) + 2 > sizeof(a) ||
	    strlen(b) + 2 > sizeof(b))
		return;
	strcat(a, "/");
	strcat(b, "/");
	for (size_t i = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			common = i + 1;
	buf[0] = '\0';
	for (const char *p = a + common; *p; p++)
		if (*p == '/')
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "../");
	snprintf(buf + n, n < len ? len - n : 0, "%s%s", b + common, name);
}

void capture_summary_path(const struct capture_config *c, char *buf, size_t len)
{
	char copy[4096];

	if (c->junit) {
		snprintf(copy, sizeof(copy), "%s", c->junit);
		snprintf(buf, len, "%s/summary.html", dirname(copy));
	} else {
		snprintf(buf, len, "%s/summary.html", c->outdir);
	}
}

int capture_write_junit(const struct capture_config *c)
{
	struct cli_outfile o;
	long done, failed;

	if (!c->junit)
		return 0;
	if (cli_outfile_open(&o, c->junit))
		return CLI_EXIT_USAGE;
	tally(c, &done, &failed);
	fprintf(o.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"rrvm capture ");
	xml_escaped(o.f, c->guest.kernel);
	fprintf(o.f, "\" tests=\"%ld\" failures=\"%ld\" errors=\"0\" time=\"%.3f\">\n", done, failed,
		c->wall_secs);
	for (long i = 0; i < c->runs; i++) {
		const struct capture_run *r = &c->run[i];
		if (!counts(c, i))
			continue;
		fprintf(o.f, "  <testcase classname=\"rrvm.capture\" name=\"%s\" time=\"%.3f\"", r->name,
			r->secs);
		if (r->verdict != CAPTURE_FAIL) {
			fprintf(o.f, "/>\n");
			continue;
		}
		fprintf(o.f, ">\n    <failure message=\"");
		xml_escaped(o.f, r->msg);
		fprintf(o.f, "\" type=\"status %d\">recording: ", r->status);
		xml_escaped(o.f, r->dir);
		if (r->report) {
			fputs("\nreport: ", o.f);
			xml_escaped(o.f, r->report);
		}
		fprintf(o.f, "</failure>\n  </testcase>\n");
	}
	fprintf(o.f, "</testsuite>\n");
	return cli_outfile_commit(&o) ? CLI_EXIT_USAGE : 0;
}

static void json_opt_string(FILE *f, const char *s)
{
	if (s && *s)
		json_string(f, s);
	else
		fputs("null", f);
}

int capture_write_json(const struct capture_config *c, int exit_status)
{
	struct cli_outfile o;
	long done, failed;
	bool first = true;

	if (!c->json)
		return 0;
	if (cli_outfile_open(&o, c->json))
		return CLI_EXIT_USAGE;
	tally(c, &done, &failed);
	fprintf(o.f, "{\n  \"schema\": \"rrvm-capture/1\",\n  \"rrvm_version\": \"%s\",\n  \"kernel\": ",
		PACKAGE_VERSION);
	json_string(o.f, c->guest.kernel);
	fputs(",\n  \"cmdline\": ", o.f);
	json_string(o.f, c->guest.cmdline);
	fputs(",\n  \"output_dir\": ", o.f);
	json_string(o.f, c->outdir);
	fprintf(o.f, ",\n  \"runs_requested\": %ld,\n  \"jobs\": %d,\n  \"until_fail\": %s,\n"
		"  \"chaos\": %s,\n  \"pass_status\": ", c->runs, c->jobs,
		c->until_fail ? "true" : "false", c->chaos ? "true" : "false");
	json_string(o.f, c->pass_list);
	fprintf(o.f, ",\n  \"interrupted\": %s,\n  \"wall_seconds\": %.3f,\n  \"runs\": [",
		c->interrupted ? "true" : "false", c->wall_secs);
	for (long i = 0; i < c->runs; i++) {
		const struct capture_run *r = &c->run[i];
		if (!counts(c, i))
			continue;
		fprintf(o.f, "%s\n    {\"run\": %d, \"name\": \"%s\", \"seed\": ", first ? "" : ",",
			r->number, r->name);
		first = false;
		if (c->chaos)
			fprintf(o.f, "%" PRIu64, r->seed);
		else
			fputs("null", o.f);
		fprintf(o.f, ", \"status\": %d, \"result\": \"%s\", \"duration_seconds\": %.3f, "
			"\"recording\": ", r->status, r->verdict == CAPTURE_FAIL ? "fail" : "pass", r->secs);
		json_opt_string(o.f, r->kept ? r->dir : NULL);
		fputs(", \"report\": ", o.f);
		json_opt_string(o.f, r->report);
		fputs(", \"failure_line\": ", o.f);
		json_opt_string(o.f, r->verdict == CAPTURE_FAIL ? r->msg : NULL);
		fputc('}', o.f);
	}
	fprintf(o.f, "\n  ],\n  \"summary\": {\"runs\": %ld, \"passed\": %ld, \"failed\": %ld, "
		"\"failing_seeds\": [", done, done - failed, failed);
	first = true;
	for (long i = 0; i < c->runs; i++)
		if (counts(c, i) && c->run[i].verdict == CAPTURE_FAIL && c->chaos) {
			fprintf(o.f, "%s%" PRIu64, first ? "" : ", ", c->run[i].seed);
			first = false;
		}
	fputs("], \"kept\": [", o.f);
	first = true;
	for (long i = 0; i < c->runs; i++)
		if (counts(c, i) && c->run[i].kept) {
			fputs(first ? "" : ", ", o.f);
			json_string(o.f, c->run[i].dir);
			first = false;
		}
	fputs("], \"discarded\": [", o.f);
	first = true;
	for (long i = 0; i < c->runs; i++)
		if (c->run[i].state == CAPTURE_DISCARDED) {
			fprintf(o.f, "%s%d", first ? "" : ", ", c->run[i].number);
			first = false;
		}
	fprintf(o.f, "]},\n  \"exit_status\": %d\n}\n", exit_status);
	return cli_outfile_commit(&o) ? CLI_EXIT_USAGE : 0;
}

int capture_write_summary(const struct capture_config *c)
{
	struct cli_outfile o;
	char path[4200], dir[4200], copy[4200], href[4200];
	long done, failed;

	capture_summary_path(c, path, sizeof(path));
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(copy));
	if (cli_outfile_open(&o, path))
		return CLI_EXIT_USAGE;
	tally(c, &done, &failed);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>rrvm capture: ", o.f);
	xml_escaped(o.f, c->guest.kernel);
	fprintf(o.f, "</title>\n<style>body{font-family:sans-serif;margin:1.5em}"
		"td,th{border:1px solid #ddd;padding:2px 8px}table{border-collapse:collapse}"
		".fail{color:#900;font-weight:bold}code{font-family:monospace}</style></head>\n"
		"<body>\n<h1>rrvm capture: ");
	xml_escaped(o.f, c->guest.kernel);
	fprintf(o.f, "</h1>\n<p id=\"totals\">%ld runs, %ld passed, %ld failed%s (%d at a time, "
		"%.1f s).</p>\n<table id=\"runs\"><tr><th>run</th><th>seed</th><th>status</th>"
		"<th>result</th><th>seconds</th><th>report</th><th>failure line</th></tr>\n", done,
		done - failed, failed, c->interrupted ? "; interrupted" : "", c->jobs, c->wall_secs);
	for (long i = 0; i < c->runs; i++) {
		const struct capture_run *r = &c->run[i];
		if (!counts(c, i))
			continue;
		fprintf(o.f, "<tr class=\"%s\"><td>%s</td><td>", r->verdict == CAPTURE_FAIL ? "fail" : "pass",
			r->name);
		if (c->chaos)
			fprintf(o.f, "%" PRIu64, r->seed);
		fprintf(o.f, "</td><td>%d</td><td>%s</td><td>%.2f</td><td>", r->status,
			r->verdict == CAPTURE_FAIL ? "FAIL" : "pass", r->secs);
		if (r->report) {
			relative(dir, r->report, href, sizeof(href));
			fputs("<a class=\"report\" href=\"", o.f);
			xml_escaped(o.f, href);
			fputs("\">report.html</a>", o.f);
		} else if (*r->report_error) {
			fputs("no report: ", o.f);
			xml_escaped(o.f, r->report_error);
		}
		fputs("</td><td><code>", o.f);
		if (r->verdict == CAPTURE_FAIL)
			xml_escaped(o.f, r->msg);
		fputs("</code></td></tr>\n", o.f);
	}
	fputs("</table>\n</body></html>\n", o.f);
	return cli_outfile_commit(&o) ? CLI_EXIT_USAGE : 0;
}

int capture_write_report(const struct capture_config *c, const struct capture_run *r, char *why,
			 size_t whylen)
{
	struct tracedb *db = NULL;
	struct tracedb_error err = { "" };
	struct tracedb_report_capture cap = { 0 };
	struct tracedb_report_options ro = { .dir = r->dir, .capture = &cap };
	struct cli_outfile o;
	char path[4200], summary[4200], href[4200], (*texts)[96] = NULL;
	const char **failing = NULL;
	long done, failed;
	int rc = -1;

	tally(c, &done, &failed);
	cap.runs = (unsigned long)done;
	cap.failures = (unsigned long)failed;
	texts = calloc((size_t)c->runs, sizeof(*texts));
	failing = calloc((size_t)c->runs, sizeof(*failing));
	if (!texts || !failing) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (long i = 0; i < c->runs; i++) {
		if (!counts(c, i) || c->run[i].verdict != CAPTURE_FAIL)
			continue;
		if (c->chaos)
			snprintf(texts[cap.nfailing], sizeof(texts[0]), "%s (seed %" PRIu64 "): status %d",
				 c->run[i].name, c->run[i].seed, c->run[i].status);
		else
			snprintf(texts[cap.nfailing], sizeof(texts[0]), "%s: status %d", c->run[i].name,
				 c->run[i].status);
		failing[cap.nfailing] = texts[cap.nfailing];
		cap.nfailing++;
	}
	cap.failing = failing;
	capture_summary_path(c, summary, sizeof(summary));
	relative(r->dir, summary, href, sizeof(href));
	cap.summary_href = href;
	if (tracedb_open(r->dir, &db, &err)) {
		snprintf(why, whylen, "%.250s", err.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/report.html", r->dir);
	if (cli_outfile_open(&o, path)) {
		snprintf(why, whylen, "cannot write %.200s", path);
		goto out;
	}
	if (tracedb_report_write(db, &ro, o.f, &err)) {
		cli_outfile_abort(&o);
		snprintf(why, whylen, "%.250s", err.msg);
		goto out;
	}
	if (cli_outfile_commit(&o)) {
		snprintf(why, whylen, "cannot write %.200s", path);
		goto out;
	}
	rc = 0;
out:
	tracedb_close(db);
	free(texts);
	free(failing);
	return rc;
}
