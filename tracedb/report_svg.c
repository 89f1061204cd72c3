/*
 * report_svg.c — the timeline of report.html: an SVG drawn from trace.db,
 * position (exit count) on the horizontal axis, one lane per interrupt
 * vector, per busy I/O port (the rest in one lane), MMIO and HLT, then the
 * serial lines, annotations, asynchronous injection points and the
 * failure. Every mark carries its position, rip and function (data-*
 * attributes for the page's script, a <title> for hovering).
 *
 * A lane with more than max_marks items is drawn as buckets instead (one
 * mark per stretch of TRACEDB_REPORT_BUCKETS-th of the recording that
 * holds any, with data-count): a million-exit recording still gives a page
 * of a few thousand elements. Each lane is one SQL query returning
 * (position, rip, symbol, text); the bucketed form groups that query.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "tracedb/internal.h"

#define TL_LEFT 200             /* label column, px */
#define TL_WIDTH 1000           /* plot width, px */
#define TL_LANE 18              /* lane pitch, px */
#define TL_TOP 26               /* room for the axis */
#define MAX_PORT_LANES 12

struct lane {
	char kind[16];          /* data-lane: irq, exit, serial, annotation, async, failure */
	char label[96];
	char attr[64];          /* more data-* for the lane's marks */
	char sql[768];          /* SELECT p, r, s, t */
};

struct tl {
	sqlite3 *db;
	FILE *out;
	struct tracedb_error *err;
	uint64_t maxpos;
	unsigned max_marks;
	sqlite3_stmt *sym;      /* function containing a rip */
	struct lane *lanes;
	size_t nlanes, cap;
};

static int sql_fail(struct tl *t, const char *what)
{
	tracedb_error_set(t->err, "report: %s: %s", what, sqlite3_errmsg(t->db));
	return -EINVAL;
}

static int add_lane(struct tl *t, const char *kind, const char *attr, const char *sql,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int add_lane(struct tl *t, const char *kind, const char *attr, const char *sql,
		    const char *fmt, ...)
{
	struct lane *l;
	va_list ap;

	if (t->nlanes == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct lane *n = realloc(t->lanes, cap * sizeof(*n));
		if (!n) {
			tracedb_error_set(t->err, "report: out of memory");
			return -ENOMEM;
		}
		t->lanes = n;
		t->cap = cap;
	}
	l = &t->lanes[t->nlanes++];
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
	snprintf(l->attr, sizeof(l->attr), "%s", attr);
	snprintf(l->sql, sizeof(l->sql), "%s", sql);
	va_start(ap, fmt);
	vsnprintf(l->label, sizeof(l->label), fmt, ap);
	va_end(ap);
	return 0;
}

/* Lanes for the interrupt vectors and ports this recording has. */
static int plan_lanes(struct tl *t)
{
	sqlite3_stmt *st = NULL;
	char sql[768], attr[64], others[512] = "";
	size_t olen = 0;
	int rc = 0, nports = 0;

	if (sqlite3_prepare_v2(t->db, "SELECT DISTINCT vector FROM interrupts ORDER BY vector", -1,
			       &st, NULL) != SQLITE_OK)
		return sql_fail(t, "interrupts");
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		int v = sqlite3_column_int(st, 0);
		snprintf(sql, sizeof(sql), "SELECT position AS p, rip AS r, symbol AS s, NULL AS t "
			 "FROM interrupts WHERE vector = %d", v);
		snprintf(attr, sizeof(attr), " data-vector=\"%d\"", v);
		if (v >= TRACEDB_PIC_BASE && v < TRACEDB_PIC_BASE + 16)
			rc = add_lane(t, "irq", attr, sql, "interrupt %#x (IRQ %d)", v, v - TRACEDB_PIC_BASE);
		else
			rc = add_lane(t, "irq", attr, sql, "interrupt %#x", v);
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(t->db, "SELECT port, count(*) FROM exits WHERE port IS NOT NULL "
			       "GROUP BY port ORDER BY 2 DESC, 1", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(t, "exits");
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		int64_t port = sqlite3_column_int64(st, 0);
		if (nports++ < MAX_PORT_LANES) {
			snprintf(sql, sizeof(sql), "SELECT position AS p, rip AS r, symbol AS s, "
				 "kind || ' ' || printf('%%#x', value) AS t FROM exits "
				 "WHERE port = %" PRId64 " AND kind IN ('pio_in', 'pio_out')", port);
			snprintf(attr, sizeof(attr), " data-port=\"%" PRId64 "\"", port);
			rc = add_lane(t, "exit", attr, sql, "port %#" PRIx64, (uint64_t)port);
		} else if (olen + 24 < sizeof(others)) {
			olen += (size_t)snprintf(others + olen, sizeof(others) - olen, "%s%" PRId64,
						 olen ? ", " : "", port);
		}
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (olen) {
		/* The quiet ports share a lane; the bound list is short because
		 * only ports past the busiest dozen are in it. */
		snprintf(sql, sizeof(sql), "SELECT position AS p, rip AS r, symbol AS s, "
			 "printf('port %%#x ', port) || kind AS t FROM exits WHERE port IN (%s) "
			 "AND kind IN ('pio_in', 'pio_out')", others);
		rc = add_lane(t, "exit", " data-port=\"other\"", sql, "other ports (%d)",
			      nports - MAX_PORT_LANES);
	}
	if (!rc)
		rc = add_lane(t, "exit", " data-port=\"mmio\"",
			      "SELECT position AS p, rip AS r, symbol AS s, kind || printf(' %#x', address) "
			      "AS t FROM exits WHERE address IS NOT NULL", "MMIO");
	if (!rc)
		rc = add_lane(t, "exit", " data-port=\"hlt\"",
			      "SELECT position AS p, rip AS r, symbol AS s, 'hlt' AS t FROM exits "
			      "WHERE kind = 'hlt'", "HLT");
	if (!rc)
		rc = add_lane(t, "serial", "",
			      "SELECT serial.position AS p, exits.rip AS r, exits.symbol AS s, "
			      "serial.stream || ': ' || serial.text AS t FROM serial "
			      "LEFT JOIN exits ON exits.position = serial.position", "serial lines");
	if (!rc)
		rc = add_lane(t, "annotation", "",
			      "SELECT annotations.position AS p, exits.rip AS r, exits.symbol AS s, "
			      "annotations.text AS t FROM annotations "
			      "LEFT JOIN exits ON exits.position = annotations.position", "annotations");
	if (!rc)
		rc = add_lane(t, "async", "",
			      "SELECT position AS p, substr(detail, instr(detail, 'rip=') + 4) AS r, "
			      "NULL AS s, 'asynchronous poll' AS t FROM events WHERE type = 'poll_async'",
			      "async injection points");
	if (!rc)
		rc = add_lane(t, "failure", "",
			      "SELECT * FROM (SELECT serial.start_position AS p, exits.rip AS r, "
			      "exits.symbol AS s, 'failure line: ' || serial.text AS t FROM serial "
			      "LEFT JOIN exits ON exits.position = serial.start_position "
			      "WHERE rrvm_failure(serial.text) ORDER BY serial.position, serial.id LIMIT 1) "
			      "UNION ALL SELECT position, rip, symbol, "
			      "printf('isa-debug-exit value %d', value) FROM exits WHERE kind = 'debug_exit'",
			      "failure");
	return rc;
}

/* The function holding rip, from the symbols table. */
static void symbol_of(struct tl *t, uint64_t rip, char *buf, size_t len)
{
	*buf = '\0';
	if (!t->sym && sqlite3_prepare_v2(t->db, "SELECT name, address, size FROM symbols "
					  "WHERE address <= ?1 AND type = 'func' "
					  "ORDER BY address DESC LIMIT 1", -1, &t->sym, NULL) != SQLITE_OK)
		return;
	sqlite3_reset(t->sym);
	sqlite3_bind_int64(t->sym, 1, (int64_t)rip);
	if (sqlite3_step(t->sym) == SQLITE_ROW) {
		uint64_t a = (uint64_t)sqlite3_column_int64(t->sym, 1);
		uint64_t sz = (uint64_t)sqlite3_column_int64(t->sym, 2);
		if (!sz || rip < a + sz)
			snprintf(buf, len, "%s", (const char *)sqlite3_column_text(t->sym, 0));
	}
}

/* rip and function of a row: columns ri (rip, INTEGER or "0x..." text) and ri+1 (symbol). */
static bool row_rip(struct tl *t, sqlite3_stmt *st, int ri, uint64_t *rip, char *fn, size_t len)
{
	*fn = '\0';
	switch (sqlite3_column_type(st, ri)) {
	case SQLITE_INTEGER:
		*rip = (uint64_t)sqlite3_column_int64(st, ri);
		break;
	case SQLITE_TEXT:
		*rip = strtoull((const char *)sqlite3_column_text(st, ri), NULL, 0);
		break;
	default:
		return false;
	}
	if (sqlite3_column_type(st, ri + 1) == SQLITE_TEXT)
		snprintf(fn, len, "%s", (const char *)sqlite3_column_text(st, ri + 1));
	else
		symbol_of(t, *rip, fn, len);
	return true;
}

/* Darker for fuller buckets: a quarter, plus a quarter per decimal digit. */
static double opacity(uint64_t cnt)
{
	double o = 0.25;

	for (; cnt >= 10 && o < 1; cnt /= 10)
		o += 0.25;
	return o > 1 ? 1 : o;
}

static double xof(const struct tl *t, uint64_t pos)
{
	return TL_LEFT + (double)pos * TL_WIDTH / (double)t->maxpos;
}

/* One mark: position p (a bucket's first item when cnt > 0), its rip,
 * symbol and text from columns ci, ci+1, ci+2 of st. */
static void put_mark(struct tl *t, const struct lane *l, double y, uint64_t w, uint64_t bucket,
		     uint64_t cnt, uint64_t p, sqlite3_stmt *st, int ci)
{
	char fn[256];
	uint64_t rip = 0;
	bool agg = cnt > 0;
	bool have_rip = st && row_rip(t, st, ci, &rip, fn, sizeof(fn));
	const char *text = st ? (const char *)sqlite3_column_text(st, ci + 2) : NULL;
	double x = xof(t, agg ? bucket * w : p);
	double wd = agg ? (double)w * TL_WIDTH / (double)t->maxpos : 2;

	if (!have_rip)
		*fn = '\0';
	fprintf(t->out, "<rect class=\"mk%s\" data-lane=\"%s\"%s data-pos=\"%" PRIu64 "\"",
		agg ? " agg" : "", l->kind, l->attr, p);
	if (agg)
		fprintf(t->out, " data-count=\"%" PRIu64 "\" data-to=\"%" PRIu64 "\" fill-opacity=\"%.2f\"",
			cnt, bucket * w + w - 1, opacity(cnt));
	if (have_rip)
		fprintf(t->out, " data-rip=\"%#" PRIx64 "\"", rip);
	if (*fn) {
		fputs(" data-fn=\"", t->out);
		tracedb_html(t->out, fn);
		fputc('"', t->out);
	}
	if (text) {
		fputs(" data-text=\"", t->out);
		tracedb_html(t->out, text);
		fputc('"', t->out);
	}
	fprintf(t->out, " x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\"><title>", x, y + 1,
		wd < 1 ? 1 : wd, TL_LANE - 4);
	if (agg)
		fprintf(t->out, "%" PRIu64 " items at positions %" PRIu64 "..%" PRIu64 "; first at %" PRIu64,
			cnt, bucket * w, bucket * w + w - 1, p);
	else
		fprintf(t->out, "position %" PRIu64, p);
	if (have_rip)
		fprintf(t->out, ", rip %#" PRIx64, rip);
	if (*fn) {
		fputs(" in ", t->out);
		tracedb_html(t->out, fn);
	}
	if (text) {
		fputs(": ", t->out);
		tracedb_html(t->out, text);
	}
	fputs("</title></rect>\n", t->out);
}

/*
 * One lane: its label and its marks. Returns 0 or -EINVAL; counts in
 * *items and *marks. A grouped lane counts its buckets with positions
 * only (an index suffices for the exit lanes), then looks up the first
 * item of each bucket by position for its rip, function and text.
 */
static int draw_lane(struct tl *t, const struct lane *l, int idx, uint64_t *items, uint64_t *marks)
{
	char sql[1024];
	sqlite3_stmt *st = NULL, *first = NULL;
	double y = TL_TOP + idx * TL_LANE;
	uint64_t n, w;
	bool agg;
	int rc = 0;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM (%s)", l->sql);
	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(t, l->label);
	n = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	*items = n;
	*marks = 0;
	agg = n > t->max_marks;
	w = (t->maxpos + TRACEDB_REPORT_BUCKETS) / TRACEDB_REPORT_BUCKETS;
	if (!w)
		w = 1;
	fprintf(t->out, "<g class=\"lane k-%s\" data-lane=\"%s\"%s data-items=\"%" PRIu64 "\">\n"
		"<rect class=\"bg\" x=\"0\" y=\"%.0f\" width=\"%d\" height=\"%d\"/>"
		"<text class=\"lbl\" x=\"4\" y=\"%.0f\">", l->kind, l->kind, l->attr, n, y - 1,
		TL_LEFT + TL_WIDTH + 4, TL_LANE - 2, y + TL_LANE - 6);
	tracedb_html(t->out, l->label);
	fprintf(t->out, " \xc2\xb7 %" PRIu64 "%s</text>\n", n, agg ? " (grouped)" : "");
	if (agg) {
		snprintf(sql, sizeof(sql), "SELECT p / %" PRIu64 " AS b, count(*), min(p) "
			 "FROM (%s) GROUP BY b ORDER BY b", w, l->sql);
		if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
			return sql_fail(t, l->label);
		snprintf(sql, sizeof(sql), "SELECT r, s, t FROM (%s) WHERE p = ?1 LIMIT 1", l->sql);
		if (sqlite3_prepare_v2(t->db, sql, -1, &first, NULL) != SQLITE_OK) {
			sqlite3_finalize(st);
			return sql_fail(t, l->label);
		}
	} else {
		snprintf(sql, sizeof(sql), "SELECT p, r, s, t FROM (%s) ORDER BY p", l->sql);
		if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
			return sql_fail(t, l->label);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		(*marks)++;
		if (!agg) {
			put_mark(t, l, y, w, 0, 0, (uint64_t)sqlite3_column_int64(st, 0), st, 1);
			continue;
		}
		{
			uint64_t p = (uint64_t)sqlite3_column_int64(st, 2);
			bool got;

			sqlite3_reset(first);
			sqlite3_bind_int64(first, 1, (int64_t)p);
			got = sqlite3_step(first) == SQLITE_ROW;
			put_mark(t, l, y, w, (uint64_t)sqlite3_column_int64(st, 0),
				 (uint64_t)sqlite3_column_int64(st, 1), p, got ? first : NULL, 0);
		}
	}
	if (sqlite3_finalize(st) != SQLITE_OK)
		rc = sql_fail(t, l->label);
	sqlite3_finalize(first);
	fputs("</g>\n", t->out);
	return rc;
}

static void draw_axis(struct tl *t, int height)
{
	fprintf(t->out, "<g class=\"axis\">");
	for (int i = 0; i <= 10; i++) {
		uint64_t p = t->maxpos * (uint64_t)i / 10;
		double x = xof(t, p);
		fprintf(t->out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"14\" text-anchor=\"%s\">%" PRIu64 "</text>", x, TL_TOP - 4,
			x, height, x, i == 0 ? "start" : i == 10 ? "end" : "middle", p);
	}
	fprintf(t->out, "<text x=\"4\" y=\"14\">position (exits)</text></g>\n");
}

int tracedb_report_timeline(void *sqlite, unsigned max_marks, FILE *out, struct tracedb_error *err)
{
	struct tl t = { .db = sqlite, .out = out, .err = err, .max_marks = max_marks };
	sqlite3_stmt *st = NULL;
	uint64_t *items = NULL, *marks = NULL;
	int rc, height;

	if (sqlite3_prepare_v2(t.db, "SELECT max(position) FROM exits", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(&t, "exits");
	t.maxpos = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (t.maxpos < 1)
		t.maxpos = 1;
	rc = plan_lanes(&t);
	if (rc)
		goto out;
	items = calloc(t.nlanes, sizeof(*items));
	marks = calloc(t.nlanes, sizeof(*marks));
	if (!items || !marks) {
		tracedb_error_set(err, "report: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	height = TL_TOP + (int)t.nlanes * TL_LANE + 4;
	fprintf(out, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" data-max-position=\"%" PRIu64 "\">\n",
		TL_LEFT + TL_WIDTH + 8, height, TL_LEFT + TL_WIDTH + 8, height, t.maxpos);
	draw_axis(&t, height);
	for (size_t i = 0; i < t.nlanes; i++) {
		rc = draw_lane(&t, &t.lanes[i], (int)i, &items[i], &marks[i]);
		if (rc)
			goto out;
	}
	fputs("</svg>\n<table id=\"lanes\"><tr><th>lane</th><th>items</th><th>marks</th></tr>\n", out);
	for (size_t i = 0; i < t.nlanes; i++) {
		fprintf(out, "<tr data-lane=\"%s\" data-items=\"%" PRIu64 "\" data-marks=\"%" PRIu64
			"\"><td>", t.lanes[i].kind, items[i], marks[i]);
		tracedb_html(out, t.lanes[i].label);
		fprintf(out, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "%s</td></tr>\n", items[i], marks[i],
			items[i] > marks[i] ? " (grouped)" : "");
	}
	fputs("</table>\n", out);
out:
	sqlite3_finalize(t.sym);
	free(t.lanes);
	free(items);
	free(marks);
	return rc;
}
