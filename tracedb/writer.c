/*
 * writer.c — the insertion layer of the trace database: one prepared
 * statement per table, rows appended inside a transaction that is
 * committed every TRACEDB_BATCH_ROWS rows, indexes and views built once at
 * the end.
 *
 * Speed comes from what the file is: a scratch file until finished (the
 * indexer renames it into place only when complete), so it needs no
 * rollback journal and no fsync per commit — a crash simply leaves an
 * incomplete scratch file that nobody will read. Durability is bought
 * once, in tracedb_writer_finish, with one fsync before the rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "tracedb/internal.h"

#define TRACEDB_STR_(x) #x
#define TRACEDB_STR(x) TRACEDB_STR_(x)

enum stmt_id {
	ST_EXIT, ST_INTERRUPT, ST_SERIAL, ST_ANNOTATION, ST_CLOCK, ST_SERIAL_INPUT, ST_EVENT,
	ST_SYMBOL, ST_RECORDING, ST_COUNT
};

static const struct {
	const char *table;
	const char *sql;
} stmt_sql[ST_COUNT] = {
	[ST_EXIT] = { "exits", "INSERT INTO exits(position, kind, port, address, size, value, rip, "
			       "symbol) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" },
	[ST_INTERRUPT] = { "interrupts",
			   "INSERT INTO interrupts(position, vector, irq, rip, symbol, cpl, deferred, "
			   "raised_position, clock_ns, source, pin, pos, pos_note) "
			   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" },
	[ST_SERIAL] = { "serial", "INSERT INTO serial(position, start_position, stream, text) "
				  "VALUES (?, ?, ?, ?)" },
	[ST_ANNOTATION] = { "annotations", "INSERT INTO annotations(position, text) VALUES (?, ?)" },
	[ST_CLOCK] = { "clock_reads",
		       "INSERT INTO clock_reads(position, clock, value_ns, pos, pos_note) "
		       "VALUES (?, ?, ?, ?, ?)" },
	[ST_SERIAL_INPUT] = { "serial_input", "INSERT INTO serial_input(position, data, text, pos, "
					      "pos_note) VALUES (?, ?, ?, ?, ?)" },
	[ST_EVENT] = { "events", "INSERT INTO events(seq, position, type, detail, pos, pos_note) "
				 "VALUES (?, ?, ?, ?, ?, ?)" },
	[ST_SYMBOL] = { "symbols", "INSERT INTO symbols(name, address, size, type, global) "
				   "VALUES (?, ?, ?, ?, ?)" },
	[ST_RECORDING] = { "recording",
			   "INSERT OR REPLACE INTO recording(key, value) VALUES (?, ?)" },
};

/* Exits are most of the rows: they go in groups of EXIT_GROUP per INSERT
 * statement, which roughly halves SQLite's per-row cost. */
#define EXIT_GROUP 64

struct tracedb_writer {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *exit_group;
	struct tracedb_exit exits[EXIT_GROUP];
	unsigned nexits;
	uint32_t batch_rows;
	bool in_txn, finished;
	int error;                      /* sticky -errno */
	char msg[768];
	struct tracedb_writer_stats stats;
};

/* An SQLite failure: sticky, the writer is done. */
static int fail(struct tracedb_writer *w, int rc, const char *what)
{
	if (w->error)
		return w->error;
	w->error = rc;
	snprintf(w->msg, sizeof(w->msg), "%s: %s: %s", w->path, what,
		 w->db && rc != -ENOMEM ? sqlite3_errmsg(w->db) : strerror(-rc));
	return rc;
}

/* A row the caller should not have given: refused, nothing written, the
 * writer stays usable. */
static int reject(struct tracedb_writer *w, const char *what)
{
	snprintf(w->msg, sizeof(w->msg), "%s: %s", w->path, what);
	return -EINVAL;
}

static int exec(struct tracedb_writer *w, const char *sql, const char *what)
{
	char *emsg = NULL;
	int rc = sqlite3_exec(w->db, sql, NULL, NULL, &emsg);

	if (rc != SQLITE_OK) {
		if (!w->error) {
			w->error = rc == SQLITE_FULL ? -ENOSPC : rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
			snprintf(w->msg, sizeof(w->msg), "%s: %s: %s", w->path, what,
				 emsg ? emsg : sqlite3_errstr(rc));
		}
		sqlite3_free(emsg);
		return w->error;
	}
	return 0;
}

int tracedb_writer_create(const char *path, struct tracedb_writer **out, struct tracedb_error *err)
{
	struct tracedb_writer *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w || !(w->path = strdup(path))) {
		free(w);
		tracedb_error_set(err, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		tracedb_error_set(err, "%s: cannot replace: %s", path, strerror(errno));
		goto fail_noclose;
	}
	/* NOFOLLOW: a symlink planted as the scratch file must not redirect
	 * the write (sqlite then refuses to open it). */
	rc = sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(w, -EIO, "cannot create the database");
		goto fail;
	}
	/* A scratch file until finished: see the top of this file. Memory is
	 * bounded by TRACEDB_WRITER_CACHE_KIB whatever the number of rows: the
	 * page cache is that big, and building an index sorts in at most that
	 * much memory and spills the rest to a temporary file. temp_store must
	 * stay FILE: with MEMORY the sorter's "files" live in RAM and the index
	 * build of a 10 M-exit recording took 600 MB. */
	if ((rc = exec(w, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
			  "PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = FILE;"
			  "PRAGMA cache_size = -" TRACEDB_STR(TRACEDB_WRITER_CACHE_KIB) ";",
			  "setting up")) ||
	    (rc = exec(w, tracedb_schema_tables, "creating the tables")))
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(w->db, stmt_sql[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &w->st[i], NULL) != SQLITE_OK) {
			rc = fail(w, -EIO, stmt_sql[i].table);
			goto fail;
		}
	}
	{
		char sql[128 + EXIT_GROUP * 32] = "INSERT INTO exits(position, kind, port, address, size, "
						  "value, rip, symbol) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
		for (int i = 1; i < EXIT_GROUP; i++)
			strcat(sql, ", (?, ?, ?, ?, ?, ?, ?, ?)");
		if (sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &w->exit_group,
				       NULL) != SQLITE_OK) {
			rc = fail(w, -EIO, "exits");
			goto fail;
		}
	}
	if ((rc = exec(w, "BEGIN", "starting a transaction")))
		goto fail;
	w->in_txn = true;
	*out = w;
	return 0;
fail:
	tracedb_error_set(err, "%s", w->msg);
	tracedb_writer_free(w);
	unlink(path);
	return rc;
fail_noclose:
	free(w->path);
	free(w);
	return rc;
}

/* Count rows; end the batch when it is full. */
static int count_rows(struct tracedb_writer *w, unsigned rows)
{
	w->stats.rows += rows;
	w->batch_rows += rows;
	if (w->batch_rows >= TRACEDB_BATCH_ROWS) {
		w->batch_rows = 0;
		w->stats.batches++;
		return exec(w, "COMMIT; BEGIN", "committing a batch");
	}
	return 0;
}

static int run(struct tracedb_writer *w, sqlite3_stmt *st, const char *table, unsigned rows)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		char what[96];
		snprintf(what, sizeof(what), "inserting into %s", table);
		return fail(w, rc == SQLITE_FULL ? -ENOSPC : -EIO, what);
	}
	return count_rows(w, rows);
}

/* Run a bound single-row statement. */
static int step(struct tracedb_writer *w, enum stmt_id id, uint64_t t0)
{
	int rc = run(w, w->st[id], stmt_sql[id].table, 1);

	w->stats.insert_ns += tracedb_now_ns() - t0;
	return rc;
}

static int ready(struct tracedb_writer *w)
{
	if (w->error)
		return w->error;
	if (w->finished)
		return reject(w, "rows added after the database was finished");
	return 0;
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len)
{
	if (s)
		sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Bind one exit to columns base+1 .. base+8. */
static void bind_exit(sqlite3_stmt *st, int base, const struct tracedb_exit *e)
{
	bind_u64(st, base + 1, e->position);
	sqlite3_bind_text(st, base + 2, tracedb_exit_kind_name(e->kind), -1, SQLITE_STATIC);
	if (e->kind == TRACEDB_EXIT_PIO_IN || e->kind == TRACEDB_EXIT_PIO_OUT) {
		bind_u64(st, base + 3, e->addr);
		sqlite3_bind_null(st, base + 4);
	} else if (e->kind == TRACEDB_EXIT_MMIO_READ || e->kind == TRACEDB_EXIT_MMIO_WRITE ||
		   e->kind == TRACEDB_EXIT_MSR_READ || e->kind == TRACEDB_EXIT_MSR_WRITE) {
		sqlite3_bind_null(st, base + 3);
		bind_u64(st, base + 4, e->addr);
	} else {
		sqlite3_bind_null(st, base + 3);
		sqlite3_bind_null(st, base + 4);
	}
	sqlite3_bind_int(st, base + 5, (int)e->size);
	bind_u64(st, base + 6, e->value);
	bind_u64(st, base + 7, e->rip);
	bind_text(st, base + 8, e->symbol, e->symbol ? strlen(e->symbol) : 0);
}

/* pos and pos_note at columns i and i + 1: the position as replay_pos_format
 * writes it, or NULL and why it is not known. NULL p: the boundary of
 * exit `position`. */
static void bind_pos(sqlite3_stmt *st, int i, uint64_t position, const struct tracedb_pos *p)
{
	struct tracedb_pos at = { .known = true, .exits = position };
	char buf[REPLAY_POS_STRLEN];

	if (!p)
		p = &at;
	if (p->known) {
		replay_pos_format((struct replay_pos){ p->exits, p->steps }, buf);
		sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_null(st, i + 1);
	} else {
		sqlite3_bind_null(st, i);
		sqlite3_bind_text(st, i + 1, p->why ? p->why : TRACEDB_POS_NOT_COUNTED, -1,
				  SQLITE_TRANSIENT);
	}
}

/* Insert the held exits: a full group at once, a partial one row by row. */
static int flush_exits(struct tracedb_writer *w)
{
	unsigned n = w->nexits;
	int rc = 0;

	w->nexits = 0;
	if (n == EXIT_GROUP) {
		for (unsigned i = 0; i < n; i++)
			bind_exit(w->exit_group, (int)i * 8, &w->exits[i]);
		return run(w, w->exit_group, "exits", n);
	}
	for (unsigned i = 0; i < n && !rc; i++) {
		bind_exit(w->st[ST_EXIT], 0, &w->exits[i]);
		rc = run(w, w->st[ST_EXIT], "exits", 1);
	}
	return rc;
}

int tracedb_put_exit(struct tracedb_writer *w, const struct tracedb_exit *e)
{
	uint64_t t0 = tracedb_now_ns();
	int rc = ready(w);

	if (rc)
		return rc;
	if (!tracedb_exit_kind_name(e->kind))
		return reject(w, "an exit of an unknown kind");
	w->exits[w->nexits++] = *e;
	if (w->nexits == EXIT_GROUP)
		rc = flush_exits(w);
	w->stats.insert_ns += tracedb_now_ns() - t0;
	return rc;
}

const char *tracedb_irq_source_name(unsigned source)
{
	static const char *const names[] = {
		[VMM_IRQ_SRC_PIC] = "pic", [VMM_IRQ_SRC_IOAPIC] = "ioapic",
		[VMM_IRQ_SRC_LAPIC_TIMER] = "lapic-timer", [VMM_IRQ_SRC_SELF_IPI] = "self-ipi",
		[VMM_IRQ_SRC_LINT] = "lint", [VMM_IRQ_SRC_APIC_ERROR] = "apic-error",
		[VMM_IRQ_SRC_NMI] = "nmi",
	};
	return source < sizeof(names) / sizeof(names[0]) ? names[source] : NULL;
}

/* The ISA IRQ behind an interrupt: for the 8259 (or an unknown source)
 * its vector less the usual ICW2 base; for the I/O APIC the ISA line wired
 * to the pin (the MADT: IRQ 0 on pin 2, IRQ n on pin n); else -1. */
static int irq_of(const struct tracedb_interrupt *i)
{
	if (i->source == VMM_IRQ_SRC_NONE || i->source == VMM_IRQ_SRC_PIC)
		return i->vector >= TRACEDB_PIC_BASE && i->vector < TRACEDB_PIC_BASE + 16
		       ? i->vector - TRACEDB_PIC_BASE : -1;
	if (i->source == VMM_IRQ_SRC_IOAPIC)
		return i->detail == 2 ? 0 : i->detail > 0 && i->detail < 16 ? (int)i->detail : -1;
	return -1;
}

int tracedb_put_interrupt(struct tracedb_writer *w, const struct tracedb_interrupt *i)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_INTERRUPT];
	int rc = ready(w);
	int irq;

	if (rc)
		return rc;
	bind_u64(st, 1, i->position);
	sqlite3_bind_int(st, 2, i->vector);
	irq = irq_of(i);
	if (irq >= 0)
		sqlite3_bind_int(st, 3, irq);
	else
		sqlite3_bind_null(st, 3);
	if (tracedb_irq_source_name(i->source))
		sqlite3_bind_text(st, 10, tracedb_irq_source_name(i->source), -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	if (i->source == VMM_IRQ_SRC_IOAPIC || i->source == VMM_IRQ_SRC_LINT)
		sqlite3_bind_int(st, 11, (int)i->detail);
	else
		sqlite3_bind_null(st, 11);
	bind_u64(st, 4, i->rip);
	bind_text(st, 5, i->symbol, i->symbol ? strlen(i->symbol) : 0);
	if (i->cpl >= 0 && i->cpl <= 3)
		sqlite3_bind_int(st, 6, i->cpl);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, i->deferred);
	bind_u64(st, 8, i->raised_position);
	if (i->have_clock)
		bind_u64(st, 9, i->clock_ns);
	else
		sqlite3_bind_null(st, 9);
	bind_pos(st, 12, i->position, &i->pos);
	return step(w, ST_INTERRUPT, t0);
}

int tracedb_put_serial(struct tracedb_writer *w, uint64_t position, uint64_t start,
		       const char *stream, const char *text, size_t len)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_SERIAL];
	int rc = ready(w);

	if (rc)
		return rc;
	bind_u64(st, 1, position);
	bind_u64(st, 2, start);
	sqlite3_bind_text(st, 3, stream, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, text, (int)len, SQLITE_STATIC);
	return step(w, ST_SERIAL, t0);
}

int tracedb_put_annotation(struct tracedb_writer *w, uint64_t position, const char *text, size_t len)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_ANNOTATION];
	int rc = ready(w);

	if (rc)
		return rc;
	bind_u64(st, 1, position);
	sqlite3_bind_text(st, 2, text, (int)len, SQLITE_STATIC);
	return step(w, ST_ANNOTATION, t0);
}

int tracedb_put_clock(struct tracedb_writer *w, uint64_t position, const struct tracedb_pos *pos,
		      unsigned clock, uint64_t value_ns)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_CLOCK];
	int rc = ready(w);

	if (rc)
		return rc;
	if (clock > 1)
		return reject(w, "a clock read of an unknown clock");
	bind_u64(st, 1, position);
	sqlite3_bind_text(st, 2, clock ? "realtime" : "monotonic", -1, SQLITE_STATIC);
	bind_u64(st, 3, value_ns);
	bind_pos(st, 4, position, pos);
	return step(w, ST_CLOCK, t0);
}

int tracedb_put_serial_input(struct tracedb_writer *w, uint64_t position,
			     const struct tracedb_pos *pos, const uint8_t *data, size_t len)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_SERIAL_INPUT];
	char *text;
	size_t tlen;
	int rc = ready(w);

	if (rc)
		return rc;
	text = malloc(len * 4 + 1);
	if (!text)
		return fail(w, -ENOMEM, "escaping serial input");
	tlen = tracedb_escape(data, len, text);
	bind_u64(st, 1, position);
	sqlite3_bind_blob(st, 2, len ? (const void *)data : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, (int)tlen, SQLITE_STATIC);
	bind_pos(st, 4, position, pos);
	rc = step(w, ST_SERIAL_INPUT, t0);
	free(text);
	return rc;
}

int tracedb_put_event(struct tracedb_writer *w, uint64_t seq, uint64_t position,
		      const struct tracedb_pos *pos, const char *type, const char *detail)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_EVENT];
	int rc = ready(w);

	if (rc)
		return rc;
	bind_u64(st, 1, seq);
	bind_u64(st, 2, position);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	bind_pos(st, 5, position, pos);
	return step(w, ST_EVENT, t0);
}

int tracedb_put_symbol(struct tracedb_writer *w, const char *name, uint64_t address, uint64_t size,
		       const char *type, bool global)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_SYMBOL];
	int rc = ready(w);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	bind_u64(st, 2, address);
	bind_u64(st, 3, size);
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, global);
	return step(w, ST_SYMBOL, t0);
}

int tracedb_put_recording(struct tracedb_writer *w, const char *key, const char *value)
{
	uint64_t t0 = tracedb_now_ns();
	sqlite3_stmt *st = w->st[ST_RECORDING];
	int rc = ready(w);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return step(w, ST_RECORDING, t0);
}

static void close_db(struct tracedb_writer *w)
{
	sqlite3_finalize(w->exit_group);
	w->exit_group = NULL;
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(w->st[i]);
		w->st[i] = NULL;
	}
	if (w->db)
		sqlite3_close(w->db);
	w->db = NULL;
}

int tracedb_writer_finish(struct tracedb_writer *w, struct tracedb_error *err)
{
	uint64_t t0 = tracedb_now_ns();
	char sql[256];
	int rc = ready(w), fd;

	if (rc)
		goto out;
	if ((rc = flush_exits(w)))
		goto out;
	snprintf(sql, sizeof(sql), "%d", TRACEDB_SCHEMA_VERSION);
	if ((rc = tracedb_put_recording(w, TRACEDB_KEY_SCHEMA, sql)) ||
	    (rc = tracedb_put_recording(w, "tracedb-rrvm-version", PACKAGE_VERSION)))
		goto out;
	w->finished = true;
	if ((rc = exec(w, "COMMIT", "committing the last batch")))
		goto out;
	w->in_txn = false;
	w->stats.batches++;
	if ((rc = exec(w, tracedb_schema_finish, "building indexes and views")) ||
	    (rc = exec(w, "PRAGMA analysis_limit = 1000; ANALYZE", "analyzing the tables")))
		goto out;
	/* Written last: a file that has them is a finished database. */
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 TRACEDB_APPLICATION_ID, TRACEDB_SCHEMA_VERSION);
	if ((rc = exec(w, sql, "writing the schema version")))
		goto out;
	close_db(w);
	fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		rc = -errno;
		snprintf(w->msg, sizeof(w->msg), "%s: fsync: %s", w->path, strerror(errno));
		w->error = rc;
	}
	if (fd >= 0)
		close(fd);
out:
	w->stats.finish_ns += tracedb_now_ns() - t0;
	if (rc)
		tracedb_error_set(err, "%s", w->msg);
	return rc;
}

void tracedb_writer_free(struct tracedb_writer *w)
{
	if (!w)
		return;
	close_db(w);
	free(w->path);
	free(w);
}

const char *tracedb_writer_error(const struct tracedb_writer *w)
{
	return w->msg;
}

void tracedb_writer_get_stats(const struct tracedb_writer *w, struct tracedb_writer_stats *st)
{
	*st = w->stats;
}
