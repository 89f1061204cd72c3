/*
 * tracedb.h — the trace database: an SQLite index of a recording
 * (DIR/trace.db) and the queries over it.
 *
 * Three layers, usable on their own:
 *   - the writer: the schema and the insertion layer (prepared statements,
 *     one transaction per batch, indexes and views built at the end). It
 *     knows nothing about KVM or recordings and is unit-tested on a
 *     temporary file;
 *   - the indexer: replays a recording once (replay_open + an observer)
 *     and feeds every exit, interrupt, output line, annotation and logged
 *     input to a writer, into DIR/trace.db.partial, renamed to
 *     DIR/trace.db only when complete;
 *   - the reader: opens a trace.db read-only after checking that it is an
 *     rrvm trace database of this schema version made from this recording,
 *     and runs SQL with table, CSV, JSON or query-plan output.
 *
 * The schema is documented in README.md (section "Trace database").
 * Integers are stored as SQLite's signed 64-bit INTEGER: an address at or
 * above 2^63 reads back negative (printf('%x', rip) shows it as unsigned).
 */
#ifndef RRVM_TRACEDB_H
#define RRVM_TRACEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRACEDB_WUR __attribute__((warn_unused_result))

/* Bump with every change to the schema (tables, columns, meanings);
 * stored in PRAGMA user_version and in recording('tracedb-schema'). */
#define TRACEDB_SCHEMA_VERSION 3
/* PRAGMA application_id of every rrvm trace database: "rrvd". */
#define TRACEDB_APPLICATION_ID 0x72727664
#define TRACEDB_FILE "trace.db"
#define TRACEDB_PARTIAL_FILE "trace.db.partial"
/* The PIC vectors whose irq column is vector - TRACEDB_PIC_BASE. The
 * samples (and most PC kernels) program the 8259 pair to 0x20-0x2f. */
#define TRACEDB_PIC_BASE 0x20

/* A message for the user naming the file, table or value that is wrong. */
struct tracedb_error {
	char msg[768];
};

/* ---- writer: schema and insertion --------------------------------------- */

/* X(NAME, text in the exits.kind column). */
#define TRACEDB_EXIT_KINDS(X)                                                   \
	X(PIO_IN, "pio_in") X(PIO_OUT, "pio_out") X(MMIO_READ, "mmio_read")      \
	X(MMIO_WRITE, "mmio_write") X(HLT, "hlt") X(HYPERCALL, "hypercall")      \
	X(DEBUG_EXIT, "debug_exit") X(MSR_READ, "msr_read") X(MSR_WRITE, "msr_write")

enum tracedb_exit_kind {
#define TRACEDB_X_(name, text) TRACEDB_EXIT_##name,
	TRACEDB_EXIT_KINDS(TRACEDB_X_)
#undef TRACEDB_X_
	TRACEDB_EXIT_NKINDS
};
/* "pio_in", ...; NULL for a kind that does not exist. */
const char *tracedb_exit_kind_name(unsigned kind);

/* One guest-visible synchronous exit (a row of `exits`). */
struct tracedb_exit {
	uint64_t position;              /* the exit count, this exit included (1-based) */
	enum tracedb_exit_kind kind;
	uint64_t addr;                  /* port (pio_*), guest-physical address (mmio_*), MSR (msr_*) */
	uint32_t size;                  /* bytes accessed; 0 for hlt and debug_exit */
	uint64_t value;                 /* written, or returned to the guest; debug_exit: the value */
	uint64_t rip;
	const char *symbol;             /* function containing rip, or NULL */
};

/*
 * The full position of a row (replay.h, "positions": EXITS[+STEPS], the
 * raw units after the boundary of exit EXITS), stored as text in `pos`.
 * Unknown where the units to an asynchronous point were not counted:
 * `pos` is NULL and `pos_note` says why (why; NULL: TRACEDB_POS_NOT_COUNTED).
 */
struct tracedb_pos {
	bool known;
	uint64_t exits, steps;
	const char *why;
};
#define TRACEDB_POS_NOT_COUNTED \
	"not counted: indexed with --no-steps (or by rrvm capture or report); rrvm index DIR counts it"

/* One injected interrupt (a row of `interrupts`). */
struct tracedb_interrupt {
	uint64_t position;              /* synchronous exits before the injection */
	uint8_t vector;
	uint64_t rip;                   /* where it landed (see README) */
	const char *symbol;             /* function containing rip, or NULL */
	int cpl;                        /* privilege level it interrupted, -1 unknown */
	bool deferred;                  /* not taken at the first entry after it was raised */
	uint64_t raised_position;       /* the point where it became pending */
	bool have_clock;
	uint64_t clock_ns;              /* the guest clock last read when it became pending */
	unsigned source;                /* enum vmm_irq_source; 0 (unknown): irq by PIC vector */
	unsigned detail;                /* I/O APIC pin, LINT number */
	struct tracedb_pos pos;         /* the state before the entry that injected it */
};
/* The interrupts.source text for enum vmm_irq_source, NULL for none. */
const char *tracedb_irq_source_name(unsigned source);

struct tracedb_writer;

/*
 * Create a new database at path (an existing file there is replaced) with
 * the tables but no indexes, and open the first batch transaction. The
 * file is written without journal or fsync until tracedb_writer_finish: it
 * is a scratch file until then (the indexer renames it when complete).
 * Returns 0 or -errno with a message in err.
 */
int tracedb_writer_create(const char *path, struct tracedb_writer **out,
			  struct tracedb_error *err) TRACEDB_WUR;

/*
 * Append rows. Each returns 0; -EINVAL for a row that cannot be stored (an
 * unknown exit kind or clock) or that comes after finish, with nothing
 * written and the writer still usable; or -errno after an SQLite error
 * (sticky: every later call returns it). tracedb_writer_error says what
 * failed. Strings are
 * copied before the call returns, except an exit's symbol: exits are held
 * in groups of 64 rows per INSERT, so e->symbol must stay valid until
 * tracedb_writer_finish or _free (names from a loaded symbol table do), and
 * an error in an exit row (a duplicate position) may be reported by a later
 * put or by finish. Text is stored as given: the indexer escapes the
 * guest's bytes (serial, annotations) into printable ASCII.
 */
int tracedb_put_exit(struct tracedb_writer *w, const struct tracedb_exit *e) TRACEDB_WUR;
int tracedb_put_interrupt(struct tracedb_writer *w, const struct tracedb_interrupt *i) TRACEDB_WUR;
/* A finished output line: stream "com1" or "debugcon"; position where it
 * completed (the exit that wrote its last byte), start where it began. */
int tracedb_put_serial(struct tracedb_writer *w, uint64_t position, uint64_t start,
		       const char *stream, const char *text, size_t len) TRACEDB_WUR;
int tracedb_put_annotation(struct tracedb_writer *w, uint64_t position, const char *text,
			   size_t len) TRACEDB_WUR;
/* clock: 0 monotonic, 1 realtime (enum replay_clock_kind). pos: the full
 * position of these three (NULL: the boundary of exit `position`). */
int tracedb_put_clock(struct tracedb_writer *w, uint64_t position, const struct tracedb_pos *pos,
		      unsigned clock, uint64_t value_ns) TRACEDB_WUR;
int tracedb_put_serial_input(struct tracedb_writer *w, uint64_t position,
			     const struct tracedb_pos *pos, const uint8_t *data,
			     size_t len) TRACEDB_WUR;
/* One logged event: its index in the log, the position when the replay
 * consumed it, its type name and its text form. */
int tracedb_put_event(struct tracedb_writer *w, uint64_t seq, uint64_t position,
		      const struct tracedb_pos *pos, const char *type, const char *detail) TRACEDB_WUR;
/* type: "func", "object", "notype" or "other". */
int tracedb_put_symbol(struct tracedb_writer *w, const char *name, uint64_t address, uint64_t size,
		       const char *type, bool global) TRACEDB_WUR;
int tracedb_put_recording(struct tracedb_writer *w, const char *key, const char *value) TRACEDB_WUR;

/*
 * Commit the last batch, build the indexes and views, ANALYZE, record the
 * schema version (user_version, application_id and the recording row
 * 'tracedb-schema'), close the database and fsync the file. Returns 0 or
 * -errno with a message. The writer must still be freed.
 */
int tracedb_writer_finish(struct tracedb_writer *w, struct tracedb_error *err) TRACEDB_WUR;
/* Close (without finishing: the file stays incomplete) and free. */
void tracedb_writer_free(struct tracedb_writer *w);
/* The first error, naming what failed ("" if none). */
const char *tracedb_writer_error(const struct tracedb_writer *w);

struct tracedb_writer_stats {
	uint64_t rows;                  /* rows inserted, all tables */
	uint64_t insert_ns;             /* time spent in the put functions and commits */
	uint64_t finish_ns;             /* indexes, views, ANALYZE, fsync */
	uint64_t batches;               /* transactions committed */
};
void tracedb_writer_get_stats(const struct tracedb_writer *w, struct tracedb_writer_stats *st);

/* Rows per transaction: large enough that commits cost nothing, small
 * enough to keep SQLite's dirty page cache bounded. */
#define TRACEDB_BATCH_ROWS 50000

/* SQLite's page cache while writing, in KiB; an index build may sort in as
 * much again. The writer's memory is bounded by about twice this plus a few
 * MB, whatever the number of rows (tests/unit/tracedb_memory_test.c). */
#define TRACEDB_WRITER_CACHE_KIB 32768

/* ---- indexer: a recording -> DIR/trace.db -------------------------------- */

struct tracedb_index_options {
	/* Called every few thousand steps with the exit count reached and the
	 * manifest's total (0 when unknown); may be NULL. */
	void (*progress)(void *ctx, uint64_t position, uint64_t total);
	void *ctx;
	/* Replace DIR/trace.db even when it is not an rrvm trace database. */
	bool force;
	/* Raw units of the replay, to count the exact position of every
	 * asynchronous point (the debugger core's: debug_units_* in debug/,
	 * handed in by cli/ so that tracedb does not depend on debug/). NULL:
	 * not counted, those rows get a NULL pos (TRACEDB_POS_NOT_COUNTED). */
	const struct tracedb_units *units;
	/* Units counted from one boundary before giving up there (0:
	 * TRACEDB_UNITS_MAX). */
	uint64_t units_max;
};

/* Opaque to tracedb: what the caller's units need. */
struct replay;
struct replay_result;
struct tracedb_units {
	/* Start counting on the open replay r of dir: 0 and *h, or -errno. */
	int (*open)(struct replay *r, const char *dir, void **h);
	/* One raw unit: 0; 1 the replay stopped instead (*res says how);
	 * -EOPNOTSUPP the guest is in user mode, which the host cannot
	 * step; another -errno. */
	int (*step)(void *h, struct replay_result *res);
	void (*close)(void *h);
};
/* Units from one boundary to its asynchronous points before giving up (as
 * `monitor position` does: about 10-20 s of stepping here). */
#define TRACEDB_UNITS_MAX 1000000

struct tracedb_index_stats {
	uint64_t exits, interrupts, serial_lines, annotations, clock_reads, serial_inputs, events,
		symbols;
	/* Raw units stepped to count positions; boundaries counted from;
	 * of those, intervals given up (user mode, units_max). */
	uint64_t units, unit_intervals, units_given_up;
	struct tracedb_writer_stats writer;
	uint64_t total_ns;              /* the whole run, replay included */
	uint64_t db_bytes;              /* size of the finished trace.db */
	bool truncated;                 /* the recording ended early; indexed up to there */
	bool replaced;                  /* an older trace.db was replaced */
	char replaced_why[768];         /* ... and why it was not current */
};

/*
 * Replay the recording in dir once and write dir/trace.db. The database is
 * built in dir/trace.db.partial (removed first if a previous run left one)
 * and renamed over dir/trace.db only once finished and fsynced, so an
 * interrupted run never leaves a trace.db that looks complete. An existing
 * trace.db of another schema version or of another recording is replaced
 * (st->replaced); a file that is not an rrvm trace database is refused
 * unless o->force. A replay that diverges (-EBADMSG) or hits a damaged
 * log (-EINVAL) is an error; a truncated recording is indexed up to its
 * end (st->truncated). Returns 0 or -errno with a message in err: also
 * -EEXIST for a foreign trace.db, -EBUSY when another tracedb_index holds
 * the recording (a lock on dir), -EIO for host or database failures.
 */
int tracedb_index(const char *dir, const struct tracedb_index_options *o,
		  struct tracedb_index_stats *st, struct tracedb_error *err) TRACEDB_WUR;

/* ---- reader ----------------------------------------------------------------- */

/* What a file at a trace.db path is. */
enum tracedb_file_state {
	TRACEDB_FILE_CURRENT,           /* rrvm trace database, this schema version */
	TRACEDB_FILE_MISSING,
	TRACEDB_FILE_OLD,               /* rrvm trace database, another schema version */
	TRACEDB_FILE_FOREIGN,           /* not an rrvm trace database (or not SQLite) */
};
/* Classify the file at path; err says why it is not current. */
enum tracedb_file_state tracedb_check_file(const char *path, struct tracedb_error *err);

struct tracedb;

/*
 * Open dir/trace.db read-only. Refused (with a message that says to run
 * `rrvm index DIR`) when it is missing (-ENOENT), of another schema version
 * (-ESTALE), indexed from a different recording than dir/manifest describes
 * (-ESTALE), or not an rrvm trace database (-EPROTO).
 */
int tracedb_open(const char *dir, struct tracedb **out, struct tracedb_error *err) TRACEDB_WUR;
/* Open a database file read-only, checking only the schema version. */
int tracedb_open_file(const char *path, struct tracedb **out, struct tracedb_error *err) TRACEDB_WUR;
void tracedb_close(struct tracedb *db);
/* The SQLite handle (sqlite3 *), for callers that need more. */
void *tracedb_handle(struct tracedb *db);

enum tracedb_format {
	TRACEDB_FORMAT_TABLE,           /* aligned columns with a header */
	TRACEDB_FORMAT_CSV,             /* header row, quoting and LF line ends as sqlite3 -csv */
	TRACEDB_FORMAT_JSON,            /* an array of objects per statement */
};

/*
 * Run every statement in sql and print each result to out in fmt. NULL is
 * printed as an empty field (table, CSV) or null (JSON); REAL values as
 * SQLite renders them, BLOBs as X'hex'. Returns 0; -EINVAL when SQLite
 * rejects a statement (err holds SQLite's message, nothing more of sql
 * runs); -EIO when out cannot be written.
 */
int tracedb_query(struct tracedb *db, const char *sql, enum tracedb_format fmt, FILE *out,
		  struct tracedb_error *err) TRACEDB_WUR;
/* Print the query plan (EXPLAIN QUERY PLAN) of every statement in sql as a
 * tree, the way the sqlite3 program does. Errors as tracedb_query. */
int tracedb_explain(struct tracedb *db, const char *sql, FILE *out,
		    struct tracedb_error *err) TRACEDB_WUR;

/* ---- report: one self-contained HTML page about a recording -------------- */

/* How often the failure happened, from `rrvm capture`. */
struct tracedb_report_capture {
	unsigned long runs, failures;
	/* One text per failing run ("run-0003, seed 3"), in run order. */
	const char *const *failing;
	size_t nfailing;
	const char *summary_href;       /* link back to summary.html, or NULL */
};

struct tracedb_report_options {
	const char *dir;                /* the recording, as the printed commands name it */
	const struct tracedb_report_capture *capture;   /* NULL: a lone recording */
	/* Items in one timeline lane before it draws one mark per bucket
	 * (with its count) instead of one per item; 0: the default. */
	unsigned max_marks;
};
#define TRACEDB_REPORT_MAX_MARKS 3000
/* Buckets across the timeline of an aggregated lane. */
#define TRACEDB_REPORT_BUCKETS 600

/*
 * Write report.html for the recording behind db to out: what failed (the
 * manifest's kernel, SHA-256, command line, chaos seed, result, the last
 * serial lines with the failure line marked), an SVG timeline of the whole
 * recording (lanes for interrupts by vector, exits by port, serial lines,
 * annotations, asynchronous injection points and the failure; every mark
 * carries its position, rip and function), the commands to replay, debug
 * and query it, and how often it failed. One file: no network, no
 * external script, style or font. Columns are named explicitly, so a
 * trace.db with more columns than this schema version still works.
 * Returns 0, -EINVAL after an SQLite error or -EIO when out fails, with a
 * message in err.
 */
int tracedb_report_write(struct tracedb *db, const struct tracedb_report_options *o, FILE *out,
			 struct tracedb_error *err) TRACEDB_WUR;
/* Whether a line of guest output reads as a failure (PANIC, panic, FAIL,
 * fail, assert, EXCEPTION, ...): the line the report and capture show. */
bool tracedb_report_is_failure_line(const char *line);

#endif
