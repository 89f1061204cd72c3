/*
 * tracedb_report_test.c — report.html from a made-up trace database, no
 * KVM and no browser: one timeline mark per interrupt with its position,
 * rip and function; a lane past max_marks grouped into buckets whose
 * counts add up; the failure line marked; hostile guest text (markup,
 * quotes) escaped everywhere it appears; nothing that loads from outside;
 * "1 recording" alone and the capture's numbers when given; the failure
 * line test shared with capture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "tracedb/internal.h"

static char tmpdir[] = "/tmp/tracedb_report_test.XXXXXX";

#define NIRQ 500
#define NOUT 5000

static int make_db(const char *path)
{
	static const char hostile[] = "PANIC: <script>alert(1)</script> & \"quoted\" 'x'";
	struct tracedb_writer *w;
	struct tracedb_error err;
	uint64_t pos = 0;
	int rc = tracedb_writer_create(path, &w, &err);

	if (rc) {
		diag("%s", err.msg);
		return rc;
	}
	for (int i = 0; !rc && i < NOUT; i++) {
		struct tracedb_exit e = { .position = ++pos, .kind = TRACEDB_EXIT_PIO_OUT,
					  .addr = 0x80, .size = 1, .value = (uint64_t)i,
					  .rip = 0x1000, .symbol = "io_loop" };
		rc = tracedb_put_exit(w, &e);
		if (!rc && i % (NOUT / NIRQ) == 0) {
			struct tracedb_interrupt in = { .position = pos, .vector = 0x20,
							.rip = 0x2000 + (uint64_t)i, .symbol = "worker<1>",
							.cpl = 0, .raised_position = pos };
			rc = tracedb_put_interrupt(w, &in);
		}
	}
	if (!rc) {
		struct tracedb_exit e = { .position = ++pos, .kind = TRACEDB_EXIT_DEBUG_EXIT,
					  .addr = 0xf4, .value = 3, .rip = 0x3000, .symbol = "kexit" };
		rc = tracedb_put_exit(w, &e);
	}
	if (!rc)
		rc = tracedb_put_serial(w, 10, 1, "com1", "booting", 7);
	if (!rc)
		rc = tracedb_put_serial(w, pos - 1, pos - 2, "com1", hostile, strlen(hostile));
	if (!rc)
		rc = tracedb_put_annotation(w, 20, "phase <1>", 9);
	if (!rc)
		rc = tracedb_put_symbol(w, "kexit", 0x3000, 0x10, "func", true);
	if (!rc)
		rc = tracedb_put_recording(w, "kernel", "k<b>.elf");
	if (!rc)
		rc = tracedb_put_recording(w, "exit-status", "7");
	if (!rc)
		rc = tracedb_put_recording(w, "chaos-seed", "42");
	if (!rc)
		rc = tracedb_writer_finish(w, &err);
	tracedb_writer_free(w);
	return rc;
}

static char *report(struct tracedb *db, const struct tracedb_report_options *o, int *rc)
{
	struct tracedb_error err = { "" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = tracedb_report_write(db, o, f, &err);
	fclose(f);
	if (*rc)
		diag("%s", err.msg);
	return buf;
}

/* Marks of a lane ("data-lane=\"irq\"") and the sum of their counts. */
static void count_marks(const char *page, const char *lane, int *marks, long *items)
{
	char key[64];
	const char *p = page;

	snprintf(key, sizeof(key), "<rect class=\"mk");
	*marks = 0;
	*items = 0;
	while ((p = strstr(p, key))) {
		const char *end = strchr(p, '>');
		char tag[2048];
		size_t n = end ? (size_t)(end - p) : 0;

		if (n >= sizeof(tag))
			n = sizeof(tag) - 1;
		memcpy(tag, p, n);
		tag[n] = '\0';
		p += 5;
		if (!strstr(tag, lane))
			continue;
		(*marks)++;
		{
			const char *c = strstr(tag, "data-count=\"");
			*items += c ? atol(c + 12) : 1;
		}
	}
}

int main(void)
{
	char path[256];
	struct tracedb *db = NULL;
	struct tracedb_error err = { "" };
	struct tracedb_report_options o = { .dir = "rec dir" };
	const char *failing[] = { "run-0002 (seed 2): status 7", "run-0005 (seed 5): status 7" };
	struct tracedb_report_capture cap = { .runs = 9, .failures = 2, .failing = failing,
					      .nfailing = 2, .summary_href = "../summary.html" };
	char *page;
	int rc, marks;
	long items;

	ok(tracedb_report_is_failure_line("PANIC: bank total is 8056"), "a PANIC line reads as a failure");
	ok(tracedb_report_is_failure_line("assertion failed: x"), "an assertion reads as a failure");
	ok(!tracedb_report_is_failure_line("race: ok after 7500 operations"), "an ordinary line does not");

	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(path, sizeof(path), "%s/trace.db", tmpdir);
	is_int(make_db(path), 0, "a made-up trace database");
	is_int(tracedb_open_file(path, &db, &err), 0, "opened read-only");

	page = report(db, &o, &rc);
	is_int(rc, 0, "the report is written");
	count_marks(page, "data-lane=\"irq\"", &marks, &items);
	is_int(marks, NIRQ, "one interrupt mark per interrupt row");
	ok(strstr(page, "data-pos=\"1\" data-rip=\"0x2000\" data-fn=\"worker&lt;1&gt;\""),
	   "a mark carries position, rip and (escaped) function");
	count_marks(page, "data-port=\"128\"", &marks, &items);
	ok(marks < NOUT && items == NOUT, "a lane of %d exits is grouped: %d marks for %ld items", NOUT,
	   marks, items);
	ok(marks <= TRACEDB_REPORT_BUCKETS, "... at most %d buckets", TRACEDB_REPORT_BUCKETS);
	ok(strstr(page, "id=\"panic-line\" data-position=\"5000\">PANIC: &lt;script&gt;alert(1)&lt;/script&gt; "
		       "&amp; &quot;quoted&quot; &#39;x&#39;</span>"), "the failure line is marked and escaped");
	ok(!strstr(page, "<script>alert"), "guest text never becomes markup");
	ok(strstr(page, "k&lt;b&gt;.elf"), "the kernel name is escaped");
	ok(strstr(page, "<td>chaos seed</td><td>42</td>"), "the chaos seed is shown");
	ok(strstr(page, "rrvm replay 'rec dir'"), "commands quote the directory for the shell");
	ok(strstr(page, "-ex 'hbreak kexit' -ex continue"), "gdb stops in the function that ended the run");
	ok(strstr(page, "id=\"how-often\">1 recording"), "alone: 1 recording");
	ok(!strstr(page, " src=") && !strstr(page, "<link") && !strstr(page, "url("),
	   "nothing is loaded from outside the page");
	ok(strstr(page, "<title>position 20, rip 0x1000 in io_loop: phase &lt;1&gt;</title>"),
	   "an annotation's mark names its position, rip, function and text");
	free(page);

	o.max_marks = 50;
	page = report(db, &o, &rc);
	count_marks(page, "data-lane=\"irq\"", &marks, &items);
	ok(rc == 0 && strstr(page, "<rect class=\"mk agg\" data-lane=\"irq\"") && items == NIRQ,
	   "with max_marks 50 the interrupts are grouped: %d buckets, counts add up to %ld", marks, items);
	free(page);

	o.max_marks = 0;
	o.capture = &cap;
	page = report(db, &o, &rc);
	ok(rc == 0 && strstr(page, "id=\"how-often\">9 runs, 2 failed (22%)."), "from capture: runs and failures");
	ok(strstr(page, "<li>run-0005 (seed 5): status 7</li>"), "... and the failing seeds");
	ok(strstr(page, "href=\"../summary.html\""), "... and a link back to the summary");
	free(page);

	tracedb_close(db);
	unlink(path);
	rmdir(tmpdir);
	return tap_done();
}
