/*
 * internal.h — what the files of tracedb/ share and nobody else sees: the
 * schema text, the manifest fingerprint that ties a trace.db to its
 * recording, and small helpers.
 */
#ifndef RRVM_TRACEDB_INTERNAL_H
#define RRVM_TRACEDB_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "introspect/introspect.h"
#include "replay/replay.h"
#include "tracedb/tracedb.h"

/* The tables, created empty by tracedb_writer_create. */
extern const char tracedb_schema_tables[];
/* Indexes and views, built by tracedb_writer_finish after the bulk insert
 * (building an index once is far cheaper than updating it per row). */
extern const char tracedb_schema_finish[];

/* recording-table keys the reader checks. */
#define TRACEDB_KEY_SCHEMA "tracedb-schema"
#define TRACEDB_KEY_MANIFEST_SHA "manifest-sha256"

/* SHA-256 (hex) of dir/manifest as it is now: a trace.db records the one
 * it was indexed from, and the reader refuses a trace.db whose recording
 * has changed since. 0 or -errno with a message. */
int tracedb_manifest_sha256(const char *dir, char hex[65], struct tracedb_error *err);

/* vmm's one error-setting helper (struct tracedb_error starts with msg). */
#define tracedb_error_set(err, ...) vmm_msg_set((char *)(void *)(err), sizeof((err)->msg), __VA_ARGS__)
_Static_assert(offsetof(struct tracedb_error, msg) == 0, "tracedb_error_set passes the struct as its msg");

/* Guest bytes as readable text: printable ASCII as is, \n \r \t as
 * those escapes, anything else as \xNN. out needs room for 4 * len bytes;
 * returns the length written (no terminator). */
size_t tracedb_escape(const uint8_t *in, size_t len, char *out);

/* Monotonic host time in ns, for the statistics only. */
uint64_t tracedb_now_ns(void);

/* ---- the replay observer (observe.c) --------------------------------------
 * Turns what a replay shows (machine steps, log events, guest output) into
 * rows. What it needs to ask the machine goes through these two calls, so
 * that the unit tests can drive it with made-up steps and no KVM. */
struct tracedb_machine {
	int (*irq_pending)(void *ctx);  /* vmm_irq_pending: vector or -1 */
	int (*cpl)(void *ctx);          /* vmm_cpl: 0-3 or -errno */
	bool (*guest_if)(void *ctx);    /* vmm_guest_if: RFLAGS.IF at the last exit */
	void *ctx;
	/* The full position of the machine's state now (unit_start: of the
	 * state the raw unit being stepped started from), where the indexer
	 * counts units: 0, or -1 with *why (NULL: not counted at all). NULL:
	 * never counted. */
	int (*where)(void *ctx, bool unit_start, struct replay_pos *p, const char **why);
};

struct tracedb_obs_counts {
	uint64_t exits, interrupts, serial_lines, annotations, clock_reads, serial_inputs, events;
	uint64_t last_position;
};

struct tracedb_obs;
/* syms may be NULL (no symbol columns). 0 or -ENOMEM. */
int tracedb_obs_create(struct tracedb_writer *w, const struct introspect_symtab *syms,
		       const struct tracedb_machine *m, struct tracedb_obs **out);
void tracedb_obs_free(struct tracedb_obs *o);
/* The three things a replay reports, in the order it reports them. */
void tracedb_obs_step(struct tracedb_obs *o, const struct vmm_event *ev);
void tracedb_obs_log(struct tracedb_obs *o, const struct replay_event *ev, uint64_t exits);
void tracedb_obs_output(struct tracedb_obs *o, enum vmm_output_stream stream, const uint8_t *buf,
			size_t len);
/* Write what is still buffered (a last line without its newline). */
int tracedb_obs_finish(struct tracedb_obs *o);
/* The first error (the writer's or the observer's own), 0 if none. */
int tracedb_obs_error(const struct tracedb_obs *o);
void tracedb_obs_get_counts(const struct tracedb_obs *o, struct tracedb_obs_counts *c);

/* ---- the HTML report (report.c, report_svg.c) -------------------------- */

/* Text as HTML (element content and attribute values alike). */
void tracedb_html(FILE *out, const char *s);
/* The SVG timeline of the recording, as an <svg> element, with a table of
 * its lanes. 0 or -EINVAL with SQLite's message. */
int tracedb_report_timeline(void *sqlite, unsigned max_marks, FILE *out, struct tracedb_error *err);

#endif
