/*
 * tracedb_query_test.c — reading a trace database, no KVM: the table, CSV
 * and JSON output byte for byte, the streaming table past its sizing
 * sample, query plans as a tree, SQL errors with SQLite's message (syntax,
 * unknown table, a write to the read-only database, a runtime error), a
 * failing output stream, and tracedb_open's checks on a recording
 * directory (no trace.db, a stale one, a foreign one, the current one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "tracedb/internal.h"

static char tmpdir[] = "/tmp/tracedb_query_test.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A small finished database at path, tied to the manifest sha given. */
static int make_db(const char *path, const char *manifest_sha)
{
	struct tracedb_writer *w;
	struct tracedb_error err;
	struct tracedb_exit e1 = { .position = 1, .kind = TRACEDB_EXIT_PIO_OUT, .addr = 0x3f8,
				   .size = 1, .value = 65, .rip = 0x100, .symbol = "a b" };
	struct tracedb_exit e2 = { .position = 2, .kind = TRACEDB_EXIT_HLT, .rip = 0x200 };
	int rc = tracedb_writer_create(path, &w, &err);

	if (rc) {
		diag("%s", err.msg);
		return rc;
	}
	if (!(rc = tracedb_put_exit(w, &e1)) && !(rc = tracedb_put_exit(w, &e2)) &&
	    !(rc = tracedb_put_serial(w, 2, 1, "com1", "say \"hi\", ok", 12)) &&
	    (!manifest_sha || !(rc = tracedb_put_recording(w, TRACEDB_KEY_MANIFEST_SHA, manifest_sha))))
		rc = tracedb_writer_finish(w, &err);
	tracedb_writer_free(w);
	return rc;
}

/* Run sql in fmt (or explain it when fmt < 0); the output in a static buffer. */
static char *outbuf;
static const char *run(struct tracedb *db, const char *sql, int fmt, int *rc,
		       struct tracedb_error *err)
{
	size_t len = 0;
	FILE *f;

	free(outbuf);
	outbuf = NULL;
	f = open_memstream(&outbuf, &len);
	if (!f)
		return "";
	*rc = fmt < 0 ? tracedb_explain(db, sql, f, err)
		      : tracedb_query(db, sql, (enum tracedb_format)fmt, f, err);
	fclose(f);
	return outbuf;
}

static void test_formats(struct tracedb *db)
{
	struct tracedb_error err = { "" };
	const char *out;
	int rc;

	out = run(db, "SELECT position, kind, port, symbol FROM exits ORDER BY position",
		  TRACEDB_FORMAT_TABLE, &rc, &err);
	is_int(rc, 0, "table query runs");
	is_str(out, "position  kind     port  symbol\n"
		    "--------  -------  ----  ------\n"
		    "       1  pio_out  1016  a b\n"
		    "       2  hlt            \n",
	       "table: aligned, numbers right, NULL empty");

	out = run(db, "SELECT position, kind, symbol, port FROM exits ORDER BY position",
		  TRACEDB_FORMAT_CSV, &rc, &err);
	is_str(out, "position,kind,symbol,port\n1,pio_out,\"a b\",1016\n2,hlt,,\n",
	       "csv: header, quoted space, NULL empty, LF");
	out = run(db, "SELECT text, '' AS empty, 1.5 AS r, x'00ff' AS b FROM serial", TRACEDB_FORMAT_CSV,
		  &rc, &err);
	is_str(out, "text,empty,r,b\n\"say \"\"hi\"\", ok\",\"\",1.5,\"X'00ff'\"\n",
	       "csv: quotes doubled, empty string quoted, real, blob (quoted for its ')");

	out = run(db, "SELECT 1 AS a, 'x\"y' || char(10) AS b, NULL AS c, 2.5 AS d", TRACEDB_FORMAT_JSON,
		  &rc, &err);
	is_str(out, "[\n{\"a\":1,\"b\":\"x\\\"y\\n\",\"c\":null,\"d\":2.5}\n]\n",
	       "json: numbers, escaped strings, null");
	out = run(db, "SELECT * FROM exits WHERE 0", TRACEDB_FORMAT_JSON, &rc, &err);
	is_str(out, "[]\n", "json: an empty result is []");
	out = run(db, "SELECT * FROM exits WHERE 0", TRACEDB_FORMAT_CSV, &rc, &err);
	ok(rc == 0 && !*out, "csv: an empty result prints nothing, as sqlite3 does");
	out = run(db, "SELECT * FROM exits WHERE 0", TRACEDB_FORMAT_TABLE, &rc, &err);
	ok(strncmp(out, "position  kind", 14) == 0 && strchr(out, '\n') &&
	   strchr(strchr(out, '\n') + 1, '\n') && !strchr(strchr(strchr(out, '\n') + 1, '\n') + 1, '\n'),
	   "table: an empty result is the header and the rule");
	out = run(db, "SELECT 1 AS x; SELECT 2 AS y;", TRACEDB_FORMAT_CSV, &rc, &err);
	is_str(out, "x\n1\ny\n2\n", "several statements run in turn");
	out = run(db, "  -- nothing but a comment\n", TRACEDB_FORMAT_TABLE, &rc, &err);
	ok(rc == 0 && !*out, "a comment alone prints nothing");

	out = run(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2500) "
		      "SELECT x FROM c", TRACEDB_FORMAT_TABLE, &rc, &err);
	{
		int lines = 0;
		const char *last = out;
		for (const char *p = out; *p; p++)
			if (*p == '\n') {
				lines++;
				if (p[1])
					last = p + 1;
			}
		is_int(lines, 2502, "a long table streams every row once (header, rule, 2500 rows)");
		is_str(last, "2500\n", "the last row");
	}
}

static void test_errors(struct tracedb *db)
{
	struct tracedb_error err = { "" };
	const char *out;
	FILE *full;
	int rc;

	run(db, "SELEC 1", TRACEDB_FORMAT_TABLE, &rc, &err);
	is_int(rc, -EINVAL, "syntax error: -EINVAL");
	ok(strstr(err.msg, "near \"SELEC\": syntax error") != NULL, "SQLite's message: %s", err.msg);
	run(db, "SELECT * FROM nope", TRACEDB_FORMAT_CSV, &rc, &err);
	ok(rc == -EINVAL && strstr(err.msg, "no such table: nope"), "unknown table: %s", err.msg);
	run(db, "DELETE FROM exits", TRACEDB_FORMAT_TABLE, &rc, &err);
	ok(rc == -EINVAL && strstr(err.msg, "readonly"), "the database is read-only: %s", err.msg);
	run(db, "SELECT abs(-9223372036854775808)", TRACEDB_FORMAT_JSON, &rc, &err);
	ok(rc == -EINVAL && strstr(err.msg, "overflow"), "a runtime error: %s", err.msg);
	out = run(db, "SELECT 7 AS n; SELEC 2", TRACEDB_FORMAT_CSV, &rc, &err);
	ok(rc == -EINVAL && strcmp(out, "n\n7\n") == 0,
	   "statements before the bad one ran, none after");
	run(db, "SELEC", -1, &rc, &err);
	ok(rc == -EINVAL && strstr(err.msg, "syntax error"), "explain of bad SQL: %s", err.msg);

	full = fopen("/dev/full", "w");
	if (full) {
		rc = tracedb_query(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
				       "WHERE x < 100000) SELECT x FROM c", TRACEDB_FORMAT_CSV, full, &err);
		is_int(rc, -EIO, "an output that cannot be written: -EIO (%s)", err.msg);
		fclose(full);
	}
}

static void test_explain(struct tracedb *db)
{
	struct tracedb_error err = { "" };
	const char *out;
	int rc;

	out = run(db, "SELECT position FROM exits WHERE port = 0x3f8 AND kind = 'pio_out'", -1, &rc,
		  &err);
	is_int(rc, 0, "explain runs");
	ok(strncmp(out, "QUERY PLAN\n`--", 14) == 0, "a tree");
	ok(strstr(out, "exits_port") != NULL, "the port query uses exits_port");
	out = run(db, "SELECT * FROM exits e JOIN symbols s ON s.address = e.rip ORDER BY e.symbol; "
		      "SELECT 1", -1, &rc, &err);
	ok(rc == 0 && strstr(out, "|--") && strstr(out, "`--"), "branches drawn");
	{
		int plans = 0;
		for (const char *p = out; (p = strstr(p, "QUERY PLAN")); p++)
			plans++;
		is_int(plans, 2, "one plan per statement");
	}
}

static void test_open(void)
{
	char dir[600], db_path[700], manifest[700], sha[65];
	struct tracedb_error err = { "" };
	struct tracedb *db = NULL;
	int rc;

	snprintf(dir, sizeof(dir), "%s/rec", tmpdir);
	snprintf(db_path, sizeof(db_path), "%s/trace.db", dir);
	snprintf(manifest, sizeof(manifest), "%s/manifest", dir);
	if (mkdir(dir, 0755) < 0) {
		ok(0, "mkdir %s", dir);
		return;
	}
	rc = tracedb_open(dir, &db, &err);
	ok(rc < 0 && db == NULL, "no manifest, no trace.db: refused (%s)", err.msg);
	write_file(manifest, "rrvm-recording: 1\nexits: 2\n");
	rc = tracedb_open(dir, &db, &err);
	is_int(rc, -ENOENT, "no trace.db: -ENOENT");
	ok(strstr(err.msg, "run 'rrvm index") != NULL, "with the hint: %s", err.msg);

	write_file(db_path, "not sqlite at all, but long enough to be read as a header....\n");
	rc = tracedb_open(dir, &db, &err);
	is_int(rc, -EPROTO, "a foreign trace.db: -EPROTO");
	ok(strstr(err.msg, "--force") != NULL, "the message says how to replace it: %s", err.msg);

	if (tracedb_manifest_sha256(dir, sha, &err) != 0) {
		ok(0, "hash the manifest: %s", err.msg);
		return;
	}
	is_int(make_db(db_path, sha), 0, "a trace.db for this manifest");
	rc = tracedb_open(dir, &db, &err);
	is_int(rc, 0, "opens (%s)", err.msg);
	tracedb_close(db);
	db = NULL;

	write_file(manifest, "rrvm-recording: 1\nexits: 3\n");
	rc = tracedb_open(dir, &db, &err);
	is_int(rc, -ESTALE, "the recording changed: -ESTALE");
	ok(strstr(err.msg, "another recording") && strstr(err.msg, "rrvm index"),
	   "says so and how to fix it: %s", err.msg);
	rc = tracedb_open_file(db_path, &db, &err);
	is_int(rc, 0, "the file itself still opens (no manifest check)");
	tracedb_close(db);
	db = NULL;

	is_int(make_db(db_path, NULL), 0, "a trace.db with no manifest hash");
	rc = tracedb_open(dir, &db, &err);
	ok(rc == -ESTALE && strstr(err.msg, "unknown"), "is not taken as current: %s", err.msg);
}

int main(void)
{
	char path[600];
	struct tracedb_error err = { "" };
	struct tracedb *db = NULL;

	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/q.db", tmpdir);
	if (make_db(path, "0") == 0 && tracedb_open_file(path, &db, &err) == 0) {
		test_formats(db);
		test_errors(db);
		test_explain(db);
		tracedb_close(db);
	} else {
		ok(0, "make and open a database: %s", err.msg);
	}
	test_open();
	free(outbuf);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		diag("could not remove %s", tmpdir);
	return tap_done();
}
