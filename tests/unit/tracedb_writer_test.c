/*
 * tracedb_writer_test.c — the trace database's schema and insertion layer
 * on temporary files, no KVM: every table's columns as written, the
 * grouped exit inserts (full groups, a partial one, batches), the schema
 * version and application id of a finished file, what tracedb_check_file
 * says about missing, foreign, unfinished and old files, and the failure
 * paths (a directory that does not exist, a duplicate position, bad
 * kinds, rows after finish).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/unit/tap.h"
#include "tracedb/tracedb.h"

#define TRACEDB_STR_(x) #x
#define TRACEDB_STR(x) TRACEDB_STR_(x)

static char tmpdir[] = "/tmp/tracedb_writer_test.XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* One integer (or -999 for NULL / no row) from a query on path. */
static long long q_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	else if (!st)
		diag("query failed: %s: %s", sql, db ? sqlite3_errmsg(db) : "no db");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char q_buf[512];
static const char *q_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(q_buf, sizeof(q_buf), "(none)");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(q_buf, sizeof(q_buf), "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return q_buf;
}

static void exec_rw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		diag("exec failed: %s: %s", sql, db ? sqlite3_errmsg(db) : "no db");
	sqlite3_close(db);
}

static void test_rows(void)
{
	char path[512];
	struct tracedb_writer *w;
	struct tracedb_error err = { "" };
	struct tracedb_writer_stats st;
	static const uint8_t input[] = { 'l', 's', '\n', 0x01, 0xff };
	int rc;

	path_of(path, sizeof(path), "rows.db");
	rc = tracedb_writer_create(path, &w, &err);
	is_int(rc, 0, "create a writer (%s)", err.msg);
	if (rc)
		return;
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_FOREIGN,
	   "an unfinished database is not taken for a trace database");

	/* 3 full groups of 64 and a partial group of 5, in position order. */
	for (uint64_t i = 1; i <= 64 * 3 + 5; i++) {
		struct tracedb_exit e = { .position = i, .kind = TRACEDB_EXIT_PIO_OUT, .addr = 0x3f8,
					  .size = 1, .value = i & 0xff, .rip = 0x100000 + i,
					  .symbol = i % 2 ? "odd_fn" : NULL };
		if (tracedb_put_exit(w, &e))
			break;
	}
	{
		struct tracedb_exit mmio = { .position = 1000, .kind = TRACEDB_EXIT_MMIO_WRITE,
					     .addr = 0xfee00000, .size = 4, .value = 7, .rip = 1 };
		struct tracedb_exit hlt = { .position = 1001, .kind = TRACEDB_EXIT_HLT,
					    .rip = 0xffffffff81000000ull };
		struct tracedb_exit dx = { .position = 1002, .kind = TRACEDB_EXIT_DEBUG_EXIT, .value = 3,
					   .rip = 2 };
		struct tracedb_exit in = { .position = 1003, .kind = TRACEDB_EXIT_PIO_IN, .addr = 0x3fd,
					   .size = 1, .value = 0x60, .rip = 3 };
		struct tracedb_interrupt i1 = { .position = 10, .vector = 0x20, .rip = 0x1234,
						.symbol = "fn", .cpl = 0, .raised_position = 9,
						.have_clock = true, .clock_ns = 5000,
						.pos = { .known = true, .exits = 10, .steps = 1872 } };
		struct tracedb_interrupt i2 = { .position = 11, .vector = 0x2f, .rip = 5, .cpl = -1,
						.deferred = true, .raised_position = 8,
						.pos = { .why = "not counted: a test" } };
		struct tracedb_interrupt i3 = { .position = 12, .vector = 0x30, .rip = 6, .cpl = 3,
						.raised_position = 12 };
		struct tracedb_interrupt i4 = { .position = 13, .vector = 0x1f, .rip = 7, .cpl = 7,
						.raised_position = 13 };

		ok(!tracedb_put_exit(w, &mmio) && !tracedb_put_exit(w, &hlt) &&
		   !tracedb_put_exit(w, &dx) && !tracedb_put_exit(w, &in), "exits of every kind");
		ok(!tracedb_put_interrupt(w, &i1) && !tracedb_put_interrupt(w, &i2) &&
		   !tracedb_put_interrupt(w, &i3) && !tracedb_put_interrupt(w, &i4), "interrupts");
	}
	ok(!tracedb_put_serial(w, 40, 30, "com1", "hello, world", 12) &&
	   !tracedb_put_serial(w, 41, 41, "debugcon", "", 0), "serial lines");
	ok(!tracedb_put_annotation(w, 50, "lock taken", 10), "an annotation");
	ok(!tracedb_put_clock(w, 7, NULL, 0, 123456789) && !tracedb_put_clock(w, 7, NULL, 1, 42), "clock reads");
	ok(!tracedb_put_serial_input(w, 8, NULL, input, sizeof(input)), "serial input");
	ok(!tracedb_put_event(w, 0, 7, NULL, "clock", "clock kind=monotonic value=123456789"), "an event");
	{
		struct tracedb_pos at = { .known = true, .exits = 7, .steps = 3 }, no = { 0 };

		ok(!tracedb_put_event(w, 1, 7, &at, "poll_async", "poll_async exits=7") &&
		   !tracedb_put_event(w, 2, 7, &no, "poll_async", "poll_async exits=7"),
		   "events with a full position, and with none");
	}
	ok(!tracedb_put_symbol(w, "kmain", 0x100000, 0x40, "func", true), "a symbol");
	ok(!tracedb_put_recording(w, "exits", "1003") && !tracedb_put_recording(w, "exits", "1004"),
	   "recording rows (a key written twice keeps the last value)");
	rc = tracedb_writer_finish(w, &err);
	is_int(rc, 0, "finish (%s)", err.msg);
	tracedb_writer_get_stats(w, &st);
	is_int(st.rows, 64 * 3 + 5 + 4 + 4 + 2 + 1 + 2 + 1 + 1 + 2 + 1 + 2 + 2, "stats count every row");
	ok(st.batches >= 1, "at least one batch committed");
	tracedb_writer_free(w);

	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_CURRENT, "finished file is current (%s)",
	   err.msg);
	is_int(q_int(path, "PRAGMA user_version"), TRACEDB_SCHEMA_VERSION, "user_version");
	is_int(q_int(path, "PRAGMA application_id"), TRACEDB_APPLICATION_ID, "application_id");
	is_str(q_text(path, "SELECT value FROM recording WHERE key = 'tracedb-schema'"),
	       TRACEDB_STR(TRACEDB_SCHEMA_VERSION),
	       "schema version in the recording table");
	is_str(q_text(path, "SELECT value FROM recording WHERE key = 'exits'"), "1004",
	       "recording key replaced");

	is_int(q_int(path, "SELECT count(*) FROM exits WHERE kind = 'pio_out'"), 64 * 3 + 5,
	       "every grouped exit row is there");
	is_int(q_int(path, "SELECT sum(position) FROM exits WHERE kind = 'pio_out'"),
	       (64 * 3 + 5) * (64 * 3 + 6) / 2, "with its own position");
	is_int(q_int(path, "SELECT count(*) FROM exits WHERE kind = 'pio_out' AND value = position & 255 "
			   "AND rip = 0x100000 + position AND port = 0x3f8 AND address IS NULL AND size = 1"),
	       64 * 3 + 5, "and its own columns");
	is_int(q_int(path, "SELECT count(*) FROM exits WHERE symbol = 'odd_fn'"), 99, "symbols kept");
	is_int(q_int(path, "SELECT count(*) FROM exits WHERE symbol IS NULL AND kind = 'pio_out'"), 98,
	       "NULL symbols stored as NULL");
	is_int(q_int(path, "SELECT address FROM exits WHERE kind = 'mmio_write'"), 0xfee00000,
	       "mmio address");
	is_int(q_int(path, "SELECT port IS NULL FROM exits WHERE kind = 'mmio_write'"), 1,
	       "mmio has no port");
	is_int(q_int(path, "SELECT (port IS NULL) + (address IS NULL) + size FROM exits WHERE kind = 'hlt'"),
	       2, "hlt: no port, no address, size 0");
	is_str(q_text(path, "SELECT printf('%x', rip) FROM exits WHERE kind = 'hlt'"),
	       "ffffffff81000000", "a high address reads back through printf('%%x')");
	is_int(q_int(path, "SELECT value FROM exits WHERE kind = 'debug_exit'"), 3, "debug_exit value");
	is_int(q_int(path, "SELECT value FROM exits WHERE kind = 'pio_in'"), 0x60, "pio_in value");

	is_int(q_int(path, "SELECT irq FROM interrupts WHERE vector = 0x20"), 0, "vector 0x20 is irq 0");
	is_int(q_int(path, "SELECT irq FROM interrupts WHERE vector = 0x2f"), 15, "0x2f is irq 15");
	is_int(q_int(path, "SELECT irq FROM interrupts WHERE vector = 0x30"), -999, "0x30: no irq");
	is_int(q_int(path, "SELECT irq FROM interrupts WHERE vector = 0x1f"), -999, "0x1f: no irq");
	is_int(q_int(path, "SELECT cpl FROM interrupts WHERE vector = 0x2f"), -999, "unknown cpl NULL");
	is_int(q_int(path, "SELECT cpl FROM interrupts WHERE vector = 0x1f"), -999, "cpl 7 is NULL");
	is_int(q_int(path, "SELECT cpl FROM interrupts WHERE vector = 0x30"), 3, "cpl 3");
	is_int(q_int(path, "SELECT clock_ns FROM interrupts WHERE vector = 0x20"), 5000, "clock_ns");
	is_int(q_int(path, "SELECT clock_ns FROM interrupts WHERE vector = 0x2f"), -999,
	       "no clock: NULL");
	is_int(q_int(path, "SELECT deferred * 100 + raised_position FROM interrupts WHERE vector = 0x2f"),
	       108, "deferred and raised_position");
	is_str(q_text(path, "SELECT symbol FROM interrupts WHERE vector = 0x20"), "fn",
	       "interrupt symbol");

	is_str(q_text(path, "SELECT text FROM serial WHERE stream = 'com1'"), "hello, world",
	       "serial text");
	is_int(q_int(path, "SELECT start_position * 1000 + position FROM serial WHERE stream = 'com1'"),
	       30040, "serial positions");
	is_str(q_text(path, "SELECT text FROM serial WHERE stream = 'debugcon'"), "",
	       "an empty line is kept");
	is_str(q_text(path, "SELECT text FROM annotations"), "lock taken", "annotation");
	is_str(q_text(path, "SELECT group_concat(clock || '=' || value_ns) FROM clock_reads"),
	       "monotonic=123456789,realtime=42", "clock kinds by name");
	is_str(q_text(path, "SELECT text FROM serial_input"), "ls\\n\\x01\\xff",
	       "serial input text escaped");
	is_str(q_text(path, "SELECT hex(data) FROM serial_input"), "6C730A01FF",
	       "serial input bytes kept as a BLOB");
	is_str(q_text(path, "SELECT type || ' ' || detail FROM events WHERE seq = 0"),
	       "clock clock kind=monotonic value=123456789", "event");
	is_str(q_text(path, "SELECT name || ' ' || size || ' ' || type || ' ' || global FROM symbols "
			    "WHERE address = 0x100000"), "kmain 64 func 1", "symbol row");
	/* Full positions (pos): as replay_pos_format writes them. */
	is_str(q_text(path, "SELECT pos FROM exits WHERE position = 1003"), "1003",
	       "an exit's pos is its count");
	is_str(q_text(path, "SELECT pos || '|' || ifnull(pos_note, 'null') FROM interrupts WHERE "
			    "position = 10"), "10+1872|null", "an interrupt's counted pos, no note");
	is_str(q_text(path, "SELECT ifnull(pos, 'null') || '|' || pos_note FROM interrupts WHERE "
			    "position = 11"), "null|not counted: a test", "not counted: NULL pos, why");
	is_str(q_text(path, "SELECT ifnull(pos, 'null') || '|' || pos_note FROM interrupts WHERE "
			    "position = 12"), "null|" TRACEDB_POS_NOT_COUNTED, "the default reason");
	is_str(q_text(path, "SELECT group_concat(pos) FROM clock_reads"), "7,7",
	       "a clock read with no pos given: its boundary");
	is_str(q_text(path, "SELECT group_concat(ifnull(pos, 'null'), ' ') FROM events"), "7 7+3 null",
	       "events: boundary, counted, not counted");
	is_str(q_text(path, "SELECT pos FROM serial WHERE stream = 'com1'"), "40", "a line's pos");
	is_str(q_text(path, "SELECT pos FROM annotations"), "50", "an annotation's pos");
	is_str(q_text(path, "SELECT group_concat(pos) FROM timeline WHERE position BETWEEN 10 AND 11 "
			    "AND source = 'interrupt'"),
	       "10+1872", "the timeline carries pos");

	/* Indexes and views exist. */
	is_int(q_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
			   "('exits_port', 'exits_address', 'exits_symbol', 'interrupts_vector', "
			   "'interrupts_symbol', 'interrupts_position', 'annotations_position')"), 7,
	       "indexes built");
	is_int(q_int(path, "SELECT accesses FROM io_per_port WHERE port = 0x3f8"), 64 * 3 + 5,
	       "io_per_port view");
	is_int(q_int(path, "SELECT reads FROM io_per_port WHERE port = 0x3fd"), 1, "io_per_port reads");
	is_int(q_int(path, "SELECT interrupts FROM interrupts_per_symbol WHERE symbol = 'fn'"), 1,
	       "interrupts_per_symbol view");
	/* Last exit 1003: positions 4..1003, i.e. 194 + 4 exits, 4 interrupts,
	 * 2 lines and 1 annotation. */
	is_int(q_int(path, "SELECT count(*) FROM last_events"), 194 + 4 + 4 + 2 + 1,
	       "last_events: everything within the last 1000 exits");
	is_str(q_text(path, "SELECT detail FROM timeline WHERE position = 1 AND source = 'exit'"),
	       "pio_out port 0x3f8 value 0x1", "timeline detail of an exit");
	is_str(q_text(path, "SELECT source FROM timeline WHERE position = 11 ORDER BY ord DESC LIMIT 1"),
	       "interrupt", "interrupts sort after the exit at the same position");
}

static void test_failures(void)
{
	char path[512];
	struct tracedb_writer *w;
	struct tracedb_error err = { "" };
	struct tracedb_exit e = { .position = 5, .kind = TRACEDB_EXIT_HLT };
	struct tracedb_exit bad = { .position = 6, .kind = (enum tracedb_exit_kind)99 };
	int rc;

	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", tmpdir);
	rc = tracedb_writer_create(path, &w, &err);
	ok(rc < 0, "create in a missing directory fails (%d)", rc);
	ok(strstr(err.msg, "no/such/dir/x.db") != NULL, "message names the file: %s", err.msg);

	path_of(path, sizeof(path), "dup.db");
	rc = tracedb_writer_create(path, &w, &err);
	is_int(rc, 0, "create");
	if (rc)
		return;
	is_int(tracedb_put_exit(w, &bad), -EINVAL, "an unknown exit kind is refused");
	ok(strstr(tracedb_writer_error(w), "unknown kind") != NULL, "and named: %s",
	   tracedb_writer_error(w));
	is_int(tracedb_put_exit(w, &e), 0, "the writer stays usable after a refused row");
	is_int(tracedb_writer_finish(w, &err), 0, "and finishes (%s)", err.msg);
	tracedb_writer_free(w);
	is_int(q_int(path, "SELECT count(*) FROM exits"), 1, "with only the good row");

	rc = tracedb_writer_create(path, &w, &err);
	is_int(rc, 0, "create again over the old file");
	if (rc)
		return;
	is_int(tracedb_put_clock(w, 1, NULL, 2, 0), -EINVAL, "an unknown clock is refused");
	tracedb_writer_free(w);

	rc = tracedb_writer_create(path, &w, &err);
	if (rc)
		return;
	ok(!tracedb_put_exit(w, &e), "first exit at position 5 (held)");
	ok(!tracedb_put_exit(w, &e), "second exit at position 5 (held)");
	rc = tracedb_writer_finish(w, &err);
	ok(rc < 0, "the duplicate is reported by finish (%d)", rc);
	ok(strstr(err.msg, "exits") && strstr(err.msg, "UNIQUE"), "message names table and cause: %s",
	   err.msg);
	ok(tracedb_put_exit(w, &e) < 0, "the error is sticky");
	tracedb_writer_free(w);
	ok(tracedb_check_file(path, &err) != TRACEDB_FILE_CURRENT,
	   "a database that failed to finish is not current");

	rc = tracedb_writer_create(path, &w, &err);
	if (rc)
		return;
	is_int(tracedb_writer_finish(w, &err), 0, "an empty database finishes");
	is_int(tracedb_put_exit(w, &e), -EINVAL, "rows after finish are refused");
	tracedb_writer_free(w);
	is_int(q_int(path, "SELECT count(*) FROM exits"), 0, "empty exits table");
}

static void test_check_file(void)
{
	char path[512], other[512];
	struct tracedb_error err = { "" };
	struct tracedb_writer *w;
	struct tracedb *db = NULL;
	FILE *f;

	path_of(path, sizeof(path), "missing.db");
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_MISSING, "missing file: %s", err.msg);
	is_int(tracedb_open_file(path, &db, &err), -ENOENT, "open a missing file: -ENOENT");

	path_of(path, sizeof(path), "text.db");
	f = fopen(path, "w");
	if (f) {
		fputs("this is not a database, just text long enough to look like something\n", f);
		fclose(f);
	}
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_FOREIGN, "a text file is foreign: %s",
	   err.msg);
	is_int(tracedb_open_file(path, &db, &err), -EPROTO, "open it: -EPROTO");

	path_of(path, sizeof(path), "other.db");
	exec_rw(path, "CREATE TABLE t(x); PRAGMA application_id = 42; PRAGMA user_version = 1");
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_FOREIGN, "another SQLite file is foreign");
	ok(strstr(err.msg, "application_id 0x0000002a") != NULL, "named by its id: %s", err.msg);

	ok(tracedb_check_file(tmpdir, &err) == TRACEDB_FILE_FOREIGN, "a directory is not a database");

	path_of(path, sizeof(path), "old.db");
	if (tracedb_writer_create(path, &w, &err) == 0) {
		ok(tracedb_writer_finish(w, &err) == 0, "a current database");
		tracedb_writer_free(w);
	}
	exec_rw(path, "PRAGMA user_version = 0");
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_OLD, "user_version 0: old");
	ok(strstr(err.msg, "schema version 0") != NULL, "message names the version: %s", err.msg);
	is_int(tracedb_open_file(path, &db, &err), -ESTALE, "open an old file: -ESTALE");
	exec_rw(path, "PRAGMA user_version = 99");
	ok(tracedb_check_file(path, &err) == TRACEDB_FILE_OLD, "user_version 99: not current either");

	/* The writer replaces whatever is at its path. */
	path_of(other, sizeof(other), "text.db");
	if (tracedb_writer_create(other, &w, &err) == 0) {
		ok(tracedb_writer_finish(w, &err) == 0, "write over a text file");
		tracedb_writer_free(w);
	}
	ok(tracedb_check_file(other, &err) == TRACEDB_FILE_CURRENT, "now it is a trace database");
	ok(db == NULL, "failed opens leave no handle");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	test_rows();
	test_failures();
	test_check_file();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
