/*
 * query.c — reading a trace database: opening it read-only after checking
 * that it is current, and running SQL with table, CSV or JSON output, or
 * the query plan.
 *
 * CSV follows the sqlite3 program's rules byte for byte (quote a field
 * that is empty or holds a space, a control character, a quote, a comma or
 * a non-ASCII byte; LF line ends; no header for an empty result), so
 * scripts and tests can compare `rrvm query --csv` with
 * `sqlite3 -csv -header` directly. The table form
 * sizes its columns from the first TABLE_SAMPLE rows and then streams, so
 * a query over millions of exits does not hold them all in memory.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "tracedb/internal.h"

#define TABLE_SAMPLE 1000

struct tracedb {
	sqlite3 *db;
};

static int open_checked(const char *path, struct tracedb **out, struct tracedb_error *err)
{
	struct tracedb *t;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		tracedb_error_set(err, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		tracedb_error_set(err, "%s: %s", path, sqlite3_errmsg(t->db));
		tracedb_close(t);
		return -EIO;
	}
	*out = t;
	return 0;
}

int tracedb_open_file(const char *path, struct tracedb **out, struct tracedb_error *err)
{
	struct tracedb_error why;

	*out = NULL;
	switch (tracedb_check_file(path, &why)) {
	case TRACEDB_FILE_CURRENT:
		return open_checked(path, out, err);
	case TRACEDB_FILE_MISSING:
		tracedb_error_set(err, "%s", why.msg);
		return -ENOENT;
	case TRACEDB_FILE_OLD:
		tracedb_error_set(err, "%s", why.msg);
		return -ESTALE;
	case TRACEDB_FILE_FOREIGN:
		break;
	}
	tracedb_error_set(err, "%s", why.msg);
	return -EPROTO;
}

/* The manifest hash a trace.db was indexed from; "" if it has none. */
static void indexed_manifest(struct tracedb *t, char out[65])
{
	sqlite3_stmt *st = NULL;

	out[0] = 0;
	if (sqlite3_prepare_v2(t->db, "SELECT value FROM recording WHERE key = '"
			       TRACEDB_KEY_MANIFEST_SHA "'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int tracedb_open(const char *dir, struct tracedb **out, struct tracedb_error *err)
{
	char path[4096], now[65], then[65];
	struct tracedb_error why;
	int rc;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/" TRACEDB_FILE, dir);
	rc = tracedb_open_file(path, out, &why);
	if (rc == -ENOENT) {
		tracedb_error_set(err, "%s has no trace database (%s): run 'rrvm index %s' first", dir,
				  path, dir);
		return rc;
	}
	if (rc == -ESTALE) {
		tracedb_error_set(err, "%s: run 'rrvm index %s' to rebuild it", why.msg, dir);
		return rc;
	}
	if (rc == -EPROTO) {
		tracedb_error_set(err, "%s; 'rrvm index --force %s' replaces it", why.msg, dir);
		return rc;
	}
	if (rc) {
		tracedb_error_set(err, "%s", why.msg);
		return rc;
	}
	rc = tracedb_manifest_sha256(dir, now, &why);
	if (rc) {
		tracedb_error_set(err, "cannot tell whether %s is current: %s", path, why.msg);
		goto fail;
	}
	indexed_manifest(*out, then);
	if (strcmp(now, then) != 0) {
		tracedb_error_set(err, "%s was indexed from another recording than %s/manifest "
				  "describes (manifest SHA-256 %.16s..., indexed from %.16s...): run "
				  "'rrvm index %s' to rebuild it", path, dir, now,
				  then[0] ? then : "unknown", dir);
		rc = -ESTALE;
		goto fail;
	}
	return 0;
fail:
	tracedb_close(*out);
	*out = NULL;
	return rc;
}

void tracedb_close(struct tracedb *t)
{
	if (!t)
		return;
	sqlite3_close(t->db);
	free(t);
}

void *tracedb_handle(struct tracedb *t)
{
	return t->db;
}

/* ---- output formats ------------------------------------------------------- */

static bool csv_needs_quote(const char *z)
{
	if (!*z)
		return true;
	for (const unsigned char *p = (const unsigned char *)z; *p; p++)
		if (*p <= 0x20 || *p == '"' || *p == '\'' || *p == ',' || *p >= 0x7f)
			return true;
	return false;
}

static void csv_field(FILE *out, const char *z, bool last)
{
	if (z && csv_needs_quote(z)) {
		fputc('"', out);
		for (; *z; z++) {
			if (*z == '"')
				fputc('"', out);
			fputc(*z, out);
		}
		fputc('"', out);
	} else if (z) {
		fputs(z, out);
	}
	fputs(last ? "\n" : ",", out);
}

static void json_string(FILE *out, const char *z)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)z; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* A column value as text (NULL for SQL NULL); BLOBs as X'hex'. The result
 * is valid until the next step or the next call for the same column. */
static const char *value_text(sqlite3_stmt *st, int i, char **blobbuf)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
		const uint8_t *b = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		char *s = realloc(*blobbuf, (size_t)n * 2 + 4);

		if (!s)
			return "X''";
		*blobbuf = s;
		s[0] = 'X';
		s[1] = '\'';
		for (int k = 0; k < n; k++)
			sprintf(s + 2 + 2 * k, "%02x", b[k]);
		s[2 + 2 * n] = '\'';
		s[3 + 2 * n] = 0;
		return s;
	}
	return (const char *)sqlite3_column_text(st, i);
}

struct table {
	int ncol;
	size_t *width;
	bool *right;                    /* numeric column: right-aligned */
	char **cells;                   /* buffered rows, ncol each; NULL = SQL NULL */
	size_t nrows, cap;
	bool flushed;
};

static void table_line(FILE *out, const struct table *t, char *const *cells)
{
	for (int i = 0; i < t->ncol; i++) {
		const char *s = cells[i] ? cells[i] : "";
		size_t w = t->width[i], n = strlen(s);
		bool last = i == t->ncol - 1;

		if (t->right[i])
			fprintf(out, "%*s%s", (int)(w > n ? w - n : 0), "", s);
		else if (last)
			fputs(s, out);
		else
			fprintf(out, "%s%*s", s, (int)(w > n ? w - n : 0), "");
		fputs(last ? "\n" : "  ", out);
	}
}

static void table_flush(FILE *out, struct table *t, sqlite3_stmt *st)
{
	if (!t->flushed) {
		char **head = calloc((size_t)t->ncol, sizeof(char *));

		if (!head)
			return;
		for (int i = 0; i < t->ncol; i++)
			head[i] = (char *)sqlite3_column_name(st, i);
		/* Headers line up with the data: right-aligned over numbers. */
		table_line(out, t, head);
		free(head);
		for (int i = 0; i < t->ncol; i++) {
			for (size_t k = 0; k < t->width[i]; k++)
				fputc('-', out);
			fputs(i == t->ncol - 1 ? "\n" : "  ", out);
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		table_line(out, t, t->cells + r * (size_t)t->ncol);
		for (int i = 0; i < t->ncol; i++)
			free(t->cells[r * (size_t)t->ncol + i]);
	}
	t->nrows = 0;
	t->flushed = true;
}

static int table_row(FILE *out, struct table *t, sqlite3_stmt *st, char **blobbuf)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * (size_t)t->ncol * sizeof(char *));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	row = t->cells + t->nrows * (size_t)t->ncol;
	for (int i = 0; i < t->ncol; i++) {
		const char *v = value_text(st, i, blobbuf);
		int type = sqlite3_column_type(st, i);

		row[i] = v ? strdup(v) : NULL;
		if (v && !row[i]) {
			for (int k = 0; k < i; k++)
				free(row[k]);
			return -ENOMEM;
		}
		if (!t->flushed) {
			size_t n = v ? strlen(v) : 0;
			if (n > t->width[i])
				t->width[i] = n;
			if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
				t->right[i] = true;
			else if (type != SQLITE_NULL)
				t->right[i] = false;
		}
	}
	t->nrows++;
	if (t->nrows >= (t->flushed ? 1 : TABLE_SAMPLE))
		table_flush(out, t, st);
	return 0;
}

static void table_free(struct table *t)
{
	for (size_t r = 0; r < t->nrows * (size_t)t->ncol; r++)
		free(t->cells[r]);
	free(t->cells);
	free(t->width);
	free(t->right);
}

static int sql_error(sqlite3 *db, const char *what, struct tracedb_error *err)
{
	tracedb_error_set(err, "%s%s", what, sqlite3_errmsg(db));
	return -EINVAL;
}

/* Run one prepared statement, printing its rows. */
static int run_statement(sqlite3 *db, sqlite3_stmt *st, enum tracedb_format fmt, FILE *out,
			 struct tracedb_error *err)
{
	int ncol = sqlite3_column_count(st), rc, ret = 0;
	struct table t = { .ncol = ncol };
	char *blobbuf = NULL;
	uint64_t rows = 0;

	if (fmt == TRACEDB_FORMAT_TABLE && ncol > 0) {
		t.width = calloc((size_t)ncol, sizeof(size_t));
		t.right = calloc((size_t)ncol, sizeof(bool));
		if (!t.width || !t.right) {
			table_free(&t);
			tracedb_error_set(err, "out of memory");
			return -ENOMEM;
		}
		for (int i = 0; i < ncol; i++)
			t.width[i] = strlen(sqlite3_column_name(st, i));
	}
	if (fmt == TRACEDB_FORMAT_JSON && ncol > 0)
		fputc('[', out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fmt == TRACEDB_FORMAT_TABLE) {
			if (table_row(out, &t, st, &blobbuf)) {
				tracedb_error_set(err, "out of memory after %llu rows",
						  (unsigned long long)rows);
				ret = -ENOMEM;
				break;
			}
		} else if (fmt == TRACEDB_FORMAT_CSV) {
			/* Like sqlite3: the header comes with the first row, so
			 * an empty result prints nothing at all. */
			for (int i = 0; i < ncol && rows == 0; i++)
				csv_field(out, sqlite3_column_name(st, i), i == ncol - 1);
			for (int i = 0; i < ncol; i++)
				csv_field(out, value_text(st, i, &blobbuf), i == ncol - 1);
		} else {
			fputs(rows ? ",\n{" : "\n{", out);
			for (int i = 0; i < ncol; i++) {
				int type = sqlite3_column_type(st, i);
				double d;

				json_string(out, sqlite3_column_name(st, i));
				fputc(':', out);
				if (type == SQLITE_NULL)
					fputs("null", out);
				else if (type == SQLITE_INTEGER)
					fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i));
				else if (type == SQLITE_FLOAT && isfinite(d = sqlite3_column_double(st, i)))
					fputs((const char *)sqlite3_column_text(st, i), out);
				else if (type == SQLITE_FLOAT)
					fputs("null", out);
				else
					json_string(out, value_text(st, i, &blobbuf));
				if (i < ncol - 1)
					fputc(',', out);
			}
			fputc('}', out);
		}
		rows++;
	}
	if (rc != SQLITE_DONE && ret == 0)
		ret = sql_error(db, "", err);
	if (fmt == TRACEDB_FORMAT_TABLE && ncol > 0 && (t.nrows > 0 || !t.flushed))
		table_flush(out, &t, st);
	if (fmt == TRACEDB_FORMAT_JSON && ncol > 0)
		fputs(rows ? "\n]\n" : "]\n", out);
	table_free(&t);
	free(blobbuf);
	return ret;
}

int tracedb_query(struct tracedb *t, const char *sql, enum tracedb_format fmt, FILE *out,
		  struct tracedb_error *err)
{
	const char *tail = sql;
	int rc = 0;

	while (rc == 0 && tail && *tail) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(t->db, tail, -1, &st, &tail) != SQLITE_OK)
			return sql_error(t->db, "", err);
		if (!st)
			break;  /* only whitespace or comments left */
		rc = run_statement(t->db, st, fmt, out, err);
		sqlite3_finalize(st);
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
		tracedb_error_set(err, "writing the result: %s", strerror(errno));
		rc = -EIO;
	}
	return rc;
}

/* ---- query plans ------------------------------------------------------------ */

struct plan_row {
	int id, parent;
	char *detail;
};

static void plan_print(FILE *out, const struct plan_row *rows, size_t n, int parent,
		       const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		size_t next = i + 1;
		char sub[256];

		if (rows[i].parent != parent)
			continue;
		while (next < n && rows[next].parent != parent)
			next++;
		fprintf(out, "%s%s%s\n", prefix, next < n ? "|--" : "`--", rows[i].detail);
		snprintf(sub, sizeof(sub), "%s%s", prefix, next < n ? "|  " : "   ");
		plan_print(out, rows, n, rows[i].id, sub);
	}
}

static int explain_one(sqlite3 *db, const char *sql, int len, FILE *out, struct tracedb_error *err)
{
	char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %.*s", len, sql);
	sqlite3_stmt *st = NULL;
	struct plan_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!q) {
		tracedb_error_set(err, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		rc = sql_error(db, "", err);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct plan_row *r = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(*rows));
			if (!r) {
				rc = SQLITE_NOMEM;
				break;
			}
			rows = r;
		}
		rows[n].id = sqlite3_column_int(st, 0);
		rows[n].parent = sqlite3_column_int(st, 1);
		rows[n].detail = strdup(sqlite3_column_text(st, 3) ?
					(const char *)sqlite3_column_text(st, 3) : "");
		if (!rows[n].detail) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_NOMEM ? (tracedb_error_set(err, "out of memory"), -ENOMEM)
					: sql_error(db, "", err);
		goto out;
	}
	rc = 0;
	fputs("QUERY PLAN\n", out);
	plan_print(out, rows, n, 0, "");
out:
	for (size_t i = 0; i < n; i++)
		free(rows[i].detail);
	free(rows);
	sqlite3_finalize(st);
	sqlite3_free(q);
	return rc;
}

int tracedb_explain(struct tracedb *t, const char *sql, FILE *out, struct tracedb_error *err)
{
	const char *tail = sql;
	int rc = 0;

	/* Split the text into statements by preparing each, then ask for the
	 * plan of exactly that text. */
	while (rc == 0 && tail && *tail) {
		sqlite3_stmt *st = NULL;
		const char *start = tail;

		if (sqlite3_prepare_v2(t->db, tail, -1, &st, &tail) != SQLITE_OK)
			return sql_error(t->db, "", err);
		if (!st)
			break;
		sqlite3_finalize(st);
		rc = explain_one(t->db, start, (int)(tail - start), out, err);
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
		tracedb_error_set(err, "writing the plan: %s", strerror(errno));
		rc = -EIO;
	}
	return rc;
}
