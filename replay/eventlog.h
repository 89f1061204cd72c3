/*
 * eventlog.h — the record/replay event log: what entered the VM from outside.
 *
 * A recording's events.lz4 is one standard LZ4 frame whose content is a
 * header ("RRVMEVT\n", format version) followed by typed, varint-encoded
 * events (replay/FORMAT.md has the byte-level layout). The recorder appends
 * events with a replay_log_writer; the replayer reads them back in order with
 * a replay_log_reader. Both are opaque contexts with create/free, like the
 * LZ4F contexts they wrap.
 *
 * Adding an event type: a row in REPLAY_EVENT_TYPES, a member in the union of
 * struct replay_event and a row in the field table in replay/eventlog.c; the
 * encoder, decoder and text form are driven by that table. Bump
 * REPLAY_LOG_VERSION with every change to the format, a new type included
 * (an old reader then names the version instead of an unknown type).
 */
#ifndef RRVM_REPLAY_EVENTLOG_H
#define RRVM_REPLAY_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REPLAY_LOG_MAGIC        "RRVMEVT\n"     /* 8 bytes, no terminator counted */
#define REPLAY_LOG_MAGIC_LEN    8
#define REPLAY_LOG_VERSION      2
#define REPLAY_LOG_VERSION_MIN  1               /* the oldest this rrvm reads */

#define REPLAY_SERIAL_IN_MAX    4096            /* bytes per SERIAL_IN event */
#define REPLAY_PAGES_MAX        (1u << 20)      /* pages per POLL_ASYNC event */

#define REPLAY_WUR __attribute__((warn_unused_result))

/* X(NAME, type byte, text name). Type bytes are part of the format: never
 * renumber, only append. */
#define REPLAY_EVENT_TYPES(X)                   \
	X(CLOCK,      1, "clock")               \
	X(SERIAL_IN,  2, "serial_in")           \
	X(POLL_SYNC,  3, "poll_sync")           \
	X(POLL_ASYNC, 4, "poll_async")          \
	X(INJECT,     5, "inject")              \
	X(CHECKSUM,   6, "checksum")            \
	X(END,        7, "end")                 \
	X(POLL_REGS,  8, "poll_regs")

enum replay_event_type {
#define REPLAY_X_(name, code, text) REPLAY_EV_##name = code,
	REPLAY_EVENT_TYPES(REPLAY_X_)
#undef REPLAY_X_
};

enum replay_clock_kind {
	REPLAY_CLOCK_MONOTONIC = 0,     /* same numbering as enum vmm_clock_kind */
	REPLAY_CLOCK_REALTIME = 1,
};

/*
 * One event. Only the union member named by type is meaningful. Pointers
 * (serial_in.data, poll_async.pages) are borrowed: on append the writer
 * copies what it needs before returning; on read they point into storage the
 * reader owns until its next call.
 */
struct replay_event {
	enum replay_event_type type;
	union {
		struct {
			uint8_t kind;           /* enum replay_clock_kind */
			uint64_t value;         /* ns */
		} clock;
		struct {
			uint32_t len;           /* 1..REPLAY_SERIAL_IN_MAX */
			const uint8_t *data;
		} serial_in;
		struct {
			uint64_t exits;
		} poll_sync;
		struct {
			uint64_t exits;
			uint64_t rip;
			uint64_t regs_hash;
			uint64_t mem_hash;
			uint32_t npages;        /* 0..REPLAY_PAGES_MAX */
			const uint64_t *pages;  /* guest page frame numbers, strictly ascending */
		} poll_async;
		struct {
			uint64_t exits;         /* synchronous exits before the injection */
			uint8_t vector;
		} inject;
		struct {
			uint64_t exits;
			uint64_t sum;
		} checksum;
		/* Version 2: the general registers at the POLL_ASYNC that
		 * follows (in struct vmm_regs order, rax..r15). Not part of
		 * the fingerprint (regs_hash is): the replayer uses them to
		 * estimate how far the point is (replay/stride.c). */
		struct {
			uint64_t gpr[16];
		} poll_regs;
		struct {
			uint64_t exits;
			uint8_t reason;
			uint32_t status;
			uint64_t state_hash;
		} end;
	};
};

/* "clock", "poll_async", ...; NULL for a type that does not exist. */
const char *replay_event_type_name(unsigned type);
/* The type whose text name is name (length len), or 0 if none. */
unsigned replay_event_type_from_name(const char *name, size_t len);

/*
 * Check one event on its own: known type, clock kind 0 or 1, serial length
 * 1..4096 with data, page count within bounds and strictly ascending. Returns
 * 0 or -EINVAL with a message in msg (if msg is not NULL).
 */
int replay_event_validate(const struct replay_event *ev, char *msg, size_t msglen) REPLAY_WUR;

/* Field-by-field equality, following the pointers. */
int replay_event_equal(const struct replay_event *a, const struct replay_event *b);

/* ---- text form (one event per line, used by tests/tools/logtool) ------- */

/*
 * The text form of ev without a newline, e.g.
 *   poll_async exits=123 rip=0xffffffff81000000 regs=0x1f mem=0x2e pages=3,17,18
 *   serial_in data="ls\n\x00"
 * replay_event_print writes it to f (returns 0 or -EIO); replay_event_format
 * writes it to buf like snprintf (always terminated, returns the full length).
 */
int replay_event_print(FILE *f, const struct replay_event *ev) REPLAY_WUR;
size_t replay_event_format(char *buf, size_t size, const struct replay_event *ev);

/* Storage for the variable-length parts of parsed events. Zero it before
 * first use; free it with replay_event_storage_free. */
struct replay_event_storage {
	uint8_t *bytes;
	uint64_t *pages;
	size_t pages_cap;
};
void replay_event_storage_free(struct replay_event_storage *s);

/*
 * Parse one line of the text form (fields in any order, each exactly once;
 * numbers decimal or 0x hex). Returns 0 with ev filled (pointers into s,
 * valid until the next parse with s), 1 for a blank or '#' comment line, or
 * -EINVAL / -ENOMEM with a message naming the column that is wrong.
 */
int replay_event_parse(const char *line, struct replay_event *ev,
		       struct replay_event_storage *s, char *msg, size_t msglen) REPLAY_WUR;

/* ---- writer ------------------------------------------------------------ */

struct replay_log_writer;

/* NULL when out of memory. */
struct replay_log_writer *replay_log_writer_create(void) REPLAY_WUR;
/* Closes the file if still open, without ending the frame (as a crash would). */
void replay_log_writer_free(struct replay_log_writer *w);

/* Create or truncate path and start a log. 0 or -errno. */
int replay_log_writer_open(struct replay_log_writer *w, const char *path) REPLAY_WUR;

/*
 * Append one event. Cheap: it is encoded into a memory buffer and reaches the
 * file a 64 KiB block at a time, or at the next flush. Returns 0; -EINVAL for
 * an event that fails replay_event_validate, whose exits is below the previous
 * one, or that follows END (nothing is written, the writer stays usable);
 * -errno after a write error (sticky: every later call returns it).
 */
int replay_log_append(struct replay_log_writer *w, const struct replay_event *ev) REPLAY_WUR;

/* Force every event appended so far into complete blocks in the file. After
 * it returns 0, a reader sees all of them even if this process is killed. */
int replay_log_flush(struct replay_log_writer *w) REPLAY_WUR;

/* End the frame (content checksum), fsync and close. 0 or -errno. The writer
 * may then be freed or opened again. */
int replay_log_close(struct replay_log_writer *w) REPLAY_WUR;

/* The last error, naming the path ("" if none). */
const char *replay_log_writer_error(const struct replay_log_writer *w);
uint64_t replay_log_writer_events(const struct replay_log_writer *w);
/* Uncompressed bytes appended (header included) and compressed bytes written. */
uint64_t replay_log_writer_bytes(const struct replay_log_writer *w);
uint64_t replay_log_writer_file_bytes(const struct replay_log_writer *w);

/* ---- reader ------------------------------------------------------------ */

/* X(NAME, text). What replay_log_next returns. */
#define REPLAY_LOG_STATUSES(X)                                                  \
	X(EVENT,      "event")      /* *ev holds the next event                */ \
	X(END_OF_LOG, "end of log") /* the frame ended cleanly after END       */ \
	X(TRUNCATED,  "truncated")  /* the file is a proper prefix of a log    */ \
	X(CORRUPT,    "corrupt")    /* checksum, magic, version, bad event...  */ \
	X(ERROR,      "system error") /* read(2) failed or out of memory       */

enum replay_log_status {
#define REPLAY_X_(name, text) REPLAY_LOG_##name,
	REPLAY_LOG_STATUSES(REPLAY_X_)
#undef REPLAY_X_
};

const char *replay_log_status_name(enum replay_log_status st);

struct replay_log_reader;

struct replay_log_reader *replay_log_reader_create(void) REPLAY_WUR;
void replay_log_reader_free(struct replay_log_reader *r);

/* Open path for reading. 0 or -errno. Nothing is read until replay_log_next. */
int replay_log_reader_open(struct replay_log_reader *r, const char *path) REPLAY_WUR;
/* Read from fd instead (a pipe or memfd will do); the reader closes it.
 * name is used in messages. */
int replay_log_reader_open_fd(struct replay_log_reader *r, int fd, const char *name) REPLAY_WUR;

/*
 * The next event. Anything but REPLAY_LOG_EVENT is final: every later call
 * returns the same status, and replay_log_reader_error says what happened
 * (for CORRUPT: the decompressed byte offset, or the file offset for damage
 * in the LZ4 framing, and what is wrong). Memory stays bounded by the largest
 * legal event; the file is read in chunks.
 */
enum replay_log_status replay_log_next(struct replay_log_reader *r,
				       struct replay_event *ev) REPLAY_WUR;

/*
 * A place in the log to come back to: where the next event starts and
 * what the decoder knew there. Plain data (copy it, store it) meaningful
 * only to a reader of the same file.
 */
struct replay_log_pos {
	uint64_t block_file_off;        /* the LZ4 block holding the next byte; 0: none yet */
	uint64_t block_d_off;           /* the decompressed offset where that block starts */
	uint64_t d_off;                 /* the decompressed offset of the next event */
	uint64_t events;                /* events before it */
	uint64_t exits, clock[2];       /* the decoder's previous values (deltas) */
	uint8_t header_done, ended;
};

/* The position of the next replay_log_next. Cheap (no I/O). */
void replay_log_reader_tell(const struct replay_log_reader *r, struct replay_log_pos *pos);
/*
 * Read on from pos (from replay_log_reader_tell on this file), whatever the
 * reader returned since, a final status included. In a frame of independent
 * blocks (what replay_log_writer writes) the reader goes straight to the
 * block that holds pos; in a frame of linked blocks (rrvm 0.1.0, or
 * `lz4 -BD`) each block needs the ones before it, so the reader reads the
 * log again from its start up to pos. Memory stays bounded either way.
 * A reader that resumed inside the frame checks every block checksum and
 * the end mark, but not the content checksum, which covers the whole
 * stream: a read from the start checks that. Returns 0, -ESPIPE for a
 * file that cannot seek, -EINVAL for a position this file does not have
 * (then replay_log_next reports CORRUPT), or -errno.
 */
int replay_log_reader_seek(struct replay_log_reader *r, const struct replay_log_pos *pos) REPLAY_WUR;

const char *replay_log_reader_error(const struct replay_log_reader *r);
/* Events returned so far, decompressed bytes they (and the header) span, and
 * compressed bytes of the file consumed. */
uint64_t replay_log_reader_events(const struct replay_log_reader *r);
uint64_t replay_log_reader_offset(const struct replay_log_reader *r);
uint64_t replay_log_reader_file_offset(const struct replay_log_reader *r);

#endif
