/*
 * report.c — report.html: what a person picking up a captured failure
 * looks at first, written from trace.db alone. It says what failed (the
 * kernel and its SHA-256, command line, chaos seed, exit status, the last
 * serial lines with the failure line marked), draws the whole recording as
 * a timeline (report_svg.c), gives the exact commands to replay it, open
 * it in gdb at the failure and query it, and says how often it failed.
 *
 * The page is one file that works from disk with no network: the style
 * and the small script (click or hover a mark to see its position, rip and
 * function; report.html#pos=N opens with the first mark at position N
 * shown) are inline, the fonts are the browser's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

#include "tracedb/internal.h"

#define SERIAL_TAIL 40          /* last lines shown */
#define SERIAL_CONTEXT 3        /* lines around an earlier failure line */

static const char *const failure_words[] = {
	"PANIC", "panic", "Kernel panic", "FAIL", "fail", "assert", "ASSERT", "EXCEPTION",
	"BUG:", "Oops",
};

bool tracedb_report_is_failure_line(const char *line)
{
	for (size_t i = 0; i < sizeof(failure_words) / sizeof(failure_words[0]); i++)
		if (strstr(line, failure_words[i]))
			return true;
	return false;
}

/* rrvm_failure(text): the same test in SQL. */
static void sql_failure(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *s = sqlite3_value_text(argv[0]);

	(void)argc;
	sqlite3_result_int(ctx, s && tracedb_report_is_failure_line((const char *)s));
}

void tracedb_html(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, out);
		}
	}
}

/* A word for a POSIX shell, in single quotes when it needs them. */
static void shell_word(FILE *out, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./+:=@%,") ==
	    strlen(s)) {
		tracedb_html(out, s);
		return;
	}
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			tracedb_html(out, (char[]){ *s, 0 });
	}
	fputc('\'', out);
}

/* The value of a recording row ("" if absent). */
static void rec_value(sqlite3 *db, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;

	*buf = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM recording WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* One integer from a query, or def. */
static int64_t one_int(sqlite3 *db, const char *sql, int64_t def)
{
	sqlite3_stmt *st;
	int64_t v = def;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return def;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1250px}"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
	"table.facts td:first-child{color:#555;padding-right:1em}"
	"code,pre,table.facts td{font-family:monospace}"
	"pre{background:#f6f6f6;padding:.6em;overflow-x:auto}"
	"pre.serial .fail{background:#ffd7d7;color:#900;font-weight:bold}"
	"pre.serial .gap{color:#888}"
	"#timeline{border:1px solid #ccc;background:#fff}"
	"#timeline .bg{fill:#fafafa}#timeline .lane:nth-child(odd) .bg{fill:#f0f0f0}"
	"#timeline .lbl{font:11px sans-serif;fill:#333}"
	"#timeline .axis line{stroke:#ddd}#timeline .axis text{font:10px sans-serif;fill:#666}"
	"#timeline .mk{cursor:pointer}#timeline .mk:hover,#timeline .mk.sel{stroke:#000}"
	".k-irq .mk{fill:#c0392b}.k-exit .mk{fill:#2c7fb8}.k-serial .mk{fill:#31a354}"
	".k-annotation .mk{fill:#8856a7}.k-async .mk{fill:#e6850e}.k-failure .mk{fill:#000}"
	"#detail{font-family:monospace;min-height:1.4em;padding:.4em;background:#fffbe6;"
	"border:1px solid #eed}#lanes{border-collapse:collapse;font-size:.85em;margin-top:.5em}"
	"#lanes td,#lanes th{border:1px solid #ddd;padding:1px 6px}"
	".bad{color:#900;font-weight:bold}";

static const char script[] =
	"(function(){var d=document.getElementById('detail');"
	"var svg=document.getElementById('timeline');"
	"function show(ev){var m=ev.target.closest?ev.target.closest('.mk'):null;if(!m)return;"
	"var a=m.dataset,s=a.lane+': ';"
	"if(a.count)s+=a.count+' items at positions '+a.pos+'..'+a.to+', the first';"
	"else s+='position '+a.pos;"
	"if(a.rip)s+=', rip '+a.rip;if(a.fn)s+=' in '+a.fn;if(a.text)s+=' \\u2014 '+a.text;"
	"d.textContent=s;}"
	"svg.addEventListener('click',show);svg.addEventListener('mouseover',show);"
	"var h=/^#pos=(\\d+)$/.exec(location.hash),m=h&&svg.querySelector('.mk[data-pos=\"'+h[1]+'\"]');"
	"if(m){m.classList.add('sel');show({target:m});}"
	"document.getElementById('nmarks').textContent=svg.querySelectorAll('.mk').length;"
	"document.body.setAttribute('data-ready','1');})();";

static void fact(FILE *out, const char *name, const char *value)
{
	fprintf(out, "<tr><td>%s</td><td>", name);
	tracedb_html(out, *value ? value : "(unknown)");
	fputs("</td></tr>\n", out);
}

static int write_serial(sqlite3 *db, FILE *out, struct tracedb_error *err)
{
	int64_t n = one_int(db, "SELECT count(*) FROM serial", 0);
	int64_t f = one_int(db, "SELECT k FROM (SELECT row_number() OVER (ORDER BY position, id) AS k, "
			    "text FROM serial) WHERE rrvm_failure(text) ORDER BY k LIMIT 1", -1);
	sqlite3_stmt *st;
	int64_t prev = 0;
	bool first_fail = true;

	fprintf(out, "<h2>Serial output</h2>\n<p>%" PRId64 " lines", n);
	if (f > 0)
		fprintf(out, "; the failure line (line %" PRId64 ") is marked", f);
	fputs(".</p>\n<pre class=\"serial\" id=\"serial\">", out);
	if (sqlite3_prepare_v2(db, "SELECT k, position, stream, text, rrvm_failure(text) FROM "
			       "(SELECT row_number() OVER (ORDER BY position, id) AS k, position, stream, "
			       "text FROM serial) WHERE k > ?1 OR k BETWEEN ?2 AND ?3 ORDER BY k",
			       -1, &st, NULL) != SQLITE_OK) {
		tracedb_error_set(err, "report: serial: %s", sqlite3_errmsg(db));
		return -EINVAL;
	}
	sqlite3_bind_int64(st, 1, n - SERIAL_TAIL);
	sqlite3_bind_int64(st, 2, f - SERIAL_CONTEXT);
	sqlite3_bind_int64(st, 3, f + SERIAL_CONTEXT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t k = sqlite3_column_int64(st, 0);
		const char *stream = (const char *)sqlite3_column_text(st, 2);
		const char *text = (const char *)sqlite3_column_text(st, 3);
		bool bad = sqlite3_column_int(st, 4);

		if (k != prev + 1)
			fprintf(out, "<span class=\"gap\">\xe2\x80\xa6 %" PRId64 " lines \xe2\x80\xa6</span>\n",
				k - prev - 1);
		prev = k;
		fprintf(out, "<span class=\"line%s\"%s data-position=\"%" PRId64 "\">", bad ? " fail" : "",
			bad && first_fail ? " id=\"panic-line\"" : "", (int64_t)sqlite3_column_int64(st, 1));
		if (stream && strcmp(stream, "com1"))
			fprintf(out, "[%s] ", stream);
		tracedb_html(out, text ? text : "");
		fputs("</span>\n", out);
		first_fail = first_fail && !bad;
	}
	sqlite3_finalize(st);
	fputs("</pre>\n", out);
	return 0;
}

/* Where gdb should stop: a panic function if the kernel has one, else the
 * function that made the isa-debug-exit write ending the run (its rip is
 * the next instruction on some backends, which never runs). */
static void failure_break(sqlite3 *db, char *buf, size_t len)
{
	static const char *const sql[] = {
		"SELECT name FROM symbols WHERE type = 'func' AND lower(name) LIKE '%panic%' "
		"ORDER BY length(name), name LIMIT 1",
		"SELECT symbol FROM exits WHERE kind = 'debug_exit' AND symbol IS NOT NULL "
		"ORDER BY position DESC LIMIT 1",
		"SELECT printf('*%#x', rip) FROM exits WHERE kind = 'debug_exit' "
		"ORDER BY position DESC LIMIT 1",
	};
	sqlite3_stmt *st;

	*buf = '\0';
	for (size_t i = 0; !*buf && i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			continue;
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
}

static void write_commands(sqlite3 *db, const char *dir, FILE *out)
{
	char bp[256], kernel[4200], arg[300];

	failure_break(db, bp, sizeof(bp));
	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	fputs("<h2>Commands</h2>\n<p>Replay it (the same serial output and exit status, with no "
	      "access to the original kernel or clock):</p>\n<pre id=\"cmd-replay\">rrvm replay ", out);
	shell_word(out, dir);
	fputs("</pre>\n<p>Open it in gdb at the failure (the replay waits for gdb before the first "
	      "instruction):</p>\n<pre id=\"cmd-gdb\">rrvm replay --gdb=127.0.0.1:1234 ", out);
	shell_word(out, dir);
	fputs(" &amp;\ngdb ", out);
	shell_word(out, kernel);
	fputs(" -ex 'target remote 127.0.0.1:1234'", out);
	if (*bp) {
		snprintf(arg, sizeof(arg), "hbreak %s", bp);
		fputs(" -ex ", out);
		shell_word(out, arg);
		fputs(" -ex continue", out);
	}
	fputs("</pre>\n<p>Query it (<code>rrvm index</code> made its trace.db; the schema is in "
	      "README.md):</p>\n<pre id=\"cmd-query\">rrvm query ", out);
	shell_word(out, dir);
	fputs(" 'SELECT * FROM last_events'\nrrvm query ", out);
	shell_word(out, dir);
	fputs(" 'SELECT * FROM interrupts_per_symbol'\nrrvm shell ", out);
	shell_word(out, dir);
	fputs("</pre>\n", out);
}

int tracedb_report_write(struct tracedb *tdb, const struct tracedb_report_options *o, FILE *out,
			 struct tracedb_error *err)
{
	sqlite3 *db = tracedb_handle(tdb);
	char kernel[1100], sha[80], cmdline[2100], seed[40], result[64], status[32], exits[32],
		version[64];
	unsigned max_marks = o->max_marks ? o->max_marks : TRACEDB_REPORT_MAX_MARKS;
	int rc;

	if (sqlite3_create_function(db, "rrvm_failure", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				    sql_failure, NULL, NULL) != SQLITE_OK) {
		tracedb_error_set(err, "report: %s", sqlite3_errmsg(db));
		return -EINVAL;
	}
	rec_value(db, "kernel", kernel, sizeof(kernel));
	rec_value(db, "kernel-sha256", sha, sizeof(sha));
	rec_value(db, "cmdline", cmdline, sizeof(cmdline));
	rec_value(db, "chaos-seed", seed, sizeof(seed));
	rec_value(db, "result", result, sizeof(result));
	rec_value(db, "exit-status", status, sizeof(status));
	rec_value(db, "exits", exits, sizeof(exits));
	rec_value(db, "rrvm-version", version, sizeof(version));

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>rrvm: ", out);
	tracedb_html(out, kernel);
	fprintf(out, " \xe2\x80\x94 %s, status %s</title>\n<style>%s</style></head>\n<body>\n", result,
		status, style);
	fputs("<h1>rrvm report: ", out);
	tracedb_html(out, kernel);
	fprintf(out, " \xe2\x80\x94 <span class=\"%s\">%s, exit status %s</span></h1>\n",
		strcmp(status, "0") && strcmp(status, "1") ? "bad" : "ok", result, status);
	if (o->capture && o->capture->summary_href) {
		fputs("<p><a href=\"", out);
		tracedb_html(out, o->capture->summary_href);
		fputs("\">all runs of this capture</a></p>\n", out);
	}
	fprintf(out, "<h2>What %s</h2>\n<table class=\"facts\" id=\"facts\">\n",
		strcmp(status, "0") && strcmp(status, "1") ? "failed" : "ran");
	fact(out, "recording", o->dir);
	fact(out, "kernel", kernel);
	fact(out, "kernel SHA-256", sha);
	fact(out, "command line", cmdline);
	fact(out, "chaos seed", seed);
	fact(out, "result", result);
	fact(out, "exit status", status);
	fact(out, "positions (exits)", exits);
	fact(out, "recorded by rrvm", version);
	fputs("</table>\n", out);
	rc = write_serial(db, out, err);
	if (rc)
		return rc;
	fputs("<h2>Timeline</h2>\n<p>Position (synchronous exits since reset) from left to right. "
	      "Hover or click a mark for its position, rip and function; lanes with more than ", out);
	fprintf(out, "%u items show one mark per stretch of the recording, with its count. "
		"<span id=\"nmarks\"></span> marks.</p>\n<div id=\"detail\">click a mark</div>\n",
		max_marks);
	rc = tracedb_report_timeline(db, max_marks, out, err);
	if (rc)
		return rc;
	write_commands(db, o->dir, out);
	fputs("<h2>How often it failed</h2>\n<p id=\"how-often\">", out);
	if (o->capture) {
		const struct tracedb_report_capture *c = o->capture;
		fprintf(out, "%lu runs, %lu failed (%.0f%%).", c->runs, c->failures,
			c->runs ? 100.0 * (double)c->failures / (double)c->runs : 0.0);
		if (c->nfailing) {
			fputs(" Failing runs:</p>\n<ul id=\"failing\">\n", out);
			for (size_t i = 0; i < c->nfailing; i++) {
				fputs("<li>", out);
				tracedb_html(out, c->failing[i]);
				fputs("</li>\n", out);
			}
			fputs("</ul>\n", out);
		} else {
			fputs("</p>\n", out);
		}
	} else {
		fputs("1 recording (made with <code>rrvm record</code>, or picked out of a capture): "
		      "<code>rrvm capture --runs N</code> says how often a kernel fails.</p>\n", out);
	}
	fprintf(out, "<script>%s</script>\n</body></html>\n", script);
	if (ferror(out)) {
		tracedb_error_set(err, "report: write failed: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}
