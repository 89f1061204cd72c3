/*
 * observe.c — the replay observer of the indexer: turns machine steps, log
 * events and guest output into rows of the trace database.
 *
 * What the replayer reports, in order, for one pass of its loop: the log
 * events it consumes (a POLL, then the CLOCK the poll reads, SERIAL_IN it
 * feeds), then one machine step (with the INJECT it checked just before).
 * Guest output arrives during a step, before that step is reported, so
 * lines and annotations are held until the step gives their position.
 *
 * Interrupts. The row for an injection is written at the step whose entry
 * injected it. Where it landed is where the guest was before that entry:
 * the previous step's rip (for an asynchronous point that is the exact
 * instruction; after a port or MMIO exit it is the I/O instruction, which
 * KVM completes on that same entry). The interrupt "was raised" at the
 * first point where the PIC had it pending: a poll (timers, serial input)
 * or a synchronous exit (e.g. the UART's transmit-empty interrupt). It is
 * "deferred" when the guest went on to at least one more exit or poll
 * point without taking it — interrupts disabled (IF=0), in practice —
 * instead of taking it on the first entry after it was raised.
 *
 * Full positions (pos). Everything at a synchronous exit is at that
 * exit's boundary. An injection right after one is too; so is a clock
 * value a device model read while serving exit N (consumed while the
 * count is still N - 1: its pos is N). An asynchronous poll, what it read
 * and an injection after it are where the indexer's count of raw units
 * says (tracedb_machine.where), or unknown with the reason.
 *
 * The replay gives no callback between a poll and the next entry, so an
 * interrupt seen pending after step n, with a poll before step n, is
 * attributed to that poll when the guest could not take interrupts on
 * entering step n (IF=0 then); otherwise it was raised by exit n itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracedb/internal.h"

#define LINE_MAX_BYTES 4096     /* longer output lines are split */
#define STREAMS 2               /* com1, debugcon */

static const char *const stream_names[STREAMS] = { "com1", "debugcon" };

struct outline {
	uint8_t buf[LINE_MAX_BYTES];
	size_t len;
	uint64_t start;
	bool have_start;
};

/* A finished line or annotation waiting for its position. */
struct held {
	int stream;             /* 0, 1, or -1 for an annotation */
	char *text;
	size_t len;
	uint64_t start;
	bool have_start;
};

struct raised {
	bool valid;
	uint64_t position;      /* where it became pending */
	uint64_t step;          /* the last step after which it could have been taken */
	bool have_clock;
	uint64_t clock;
};

struct tracedb_obs {
	struct tracedb_writer *w;
	const struct introspect_symtab *syms;
	struct tracedb_machine m;
	int error;

	uint64_t cache_lo, cache_hi;    /* the last address looked up: [lo, hi) */
	const char *cache_name;

	uint64_t steps, prev_rip;
	bool prev_if;
	bool prev_sync;                 /* the last step was a synchronous exit (or none yet) */
	uint64_t prev_sync_exits;
	struct tracedb_pos poll_at;     /* the full position of the last poll */
	bool poll_since_step;           /* a poll came after the last step */
	uint64_t poll_pos;
	bool poll_clock_wanted, have_poll_clock;
	uint64_t poll_clock;
	int cpl;                        /* at the last poll or pending point */
	bool cpl_valid;
	struct raised vec[256];
	unsigned nraised;

	uint64_t seq;
	struct outline line[STREAMS];
	struct held *held;
	size_t nheld, capheld;
	struct tracedb_obs_counts counts;
	char detail[256];
};

int tracedb_obs_create(struct tracedb_writer *w, const struct introspect_symtab *syms,
		       const struct tracedb_machine *m, struct tracedb_obs **out)
{
	struct tracedb_obs *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->w = w;
	o->syms = syms;
	o->m = *m;
	o->prev_sync = true;            /* the start is the boundary of exit 0 */
	*out = o;
	return 0;
}

void tracedb_obs_free(struct tracedb_obs *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nheld; i++)
		free(o->held[i].text);
	free(o->held);
	free(o);
}

static void check(struct tracedb_obs *o, int rc)
{
	if (rc && !o->error)
		o->error = rc;
}

/* The function that holds rip (introspect_symtab_holder), remembered
 * with the range it covers: most rows come from the same function. */
static const char *symbol_at(struct tracedb_obs *o, uint64_t rip)
{
	const struct introspect_sym *s;
	uint64_t off;

	if (!o->syms)
		return NULL;
	if (rip >= o->cache_lo && rip < o->cache_hi)
		return o->cache_name;
	s = introspect_symtab_holder(o->syms, rip, &off);
	if (!s)
		return NULL;
	/* Only the one address is known to map to s (a nested symbol may
	 * start right after it): cache it alone. */
	o->cache_lo = rip;
	o->cache_hi = rip + 1;
	o->cache_name = s->name;
	return s->name;
}

/* Where the machine is (unit_start: where the unit being stepped began),
 * from the indexer's count. */
static void where(struct tracedb_obs *o, bool unit_start, struct tracedb_pos *p)
{
	struct replay_pos rp;
	const char *why = NULL;

	if (o->m.where && o->m.where(o->m.ctx, unit_start, &rp, &why) == 0)
		*p = (struct tracedb_pos){ .known = true, .exits = rp.exits, .steps = rp.steps };
	else
		*p = (struct tracedb_pos){ .known = false, .exits = p->exits, .why = why };
}

/* An injection at exit count `exits` happened on an entry: the state
 * before it is the boundary when nothing ran since that exit. */
static void inject_pos(struct tracedb_obs *o, uint64_t exits, struct tracedb_pos *p)
{
	if (o->prev_sync && o->prev_sync_exits == exits)
		*p = (struct tracedb_pos){ .known = true, .exits = exits };
	else
		where(o, true, p);
}

static void put_interrupt(struct tracedb_obs *o, const struct vmm_event *ev)
{
	struct tracedb_interrupt row = { 0 };
	struct raised *r = &o->vec[(uint8_t)ev->injected];

	row.position = replay_inject_exits(ev);
	row.vector = (uint8_t)ev->injected;
	row.rip = o->prev_rip;
	row.symbol = symbol_at(o, row.rip);
	row.cpl = o->cpl_valid ? o->cpl : -1;
	row.source = ev->injected_source;
	row.detail = ev->injected_detail;
	inject_pos(o, row.position, &row.pos);
	if (r->valid) {
		row.raised_position = r->position;
		row.deferred = r->step + 1 < o->steps;
		row.have_clock = r->have_clock;
		row.clock_ns = r->clock;
		r->valid = false;
		o->nraised--;
	} else if (o->poll_since_step) {
		row.raised_position = o->poll_pos;
		row.have_clock = o->have_poll_clock;
		row.clock_ns = o->poll_clock;
	} else {
		row.raised_position = row.position;
	}
	check(o, tracedb_put_interrupt(o->w, &row));
	o->counts.interrupts++;
}

static void put_exit(struct tracedb_obs *o, const struct vmm_event *ev)
{
	struct tracedb_exit row = { .position = ev->exits, .rip = ev->rip };

	switch (ev->kind) {
	case VMM_EV_IO:
		if (ev->u.io.msr)
			row.kind = ev->u.io.write ? TRACEDB_EXIT_MSR_WRITE : TRACEDB_EXIT_MSR_READ;
		else if (ev->u.io.mmio)
			row.kind = ev->u.io.write ? TRACEDB_EXIT_MMIO_WRITE : TRACEDB_EXIT_MMIO_READ;
		else
			row.kind = ev->u.io.write ? TRACEDB_EXIT_PIO_OUT : TRACEDB_EXIT_PIO_IN;
		row.addr = ev->u.io.addr;
		row.size = ev->u.io.size;
		row.value = ev->u.io.value;
		break;
	case VMM_EV_HLT:
		row.kind = TRACEDB_EXIT_HLT;
		break;
	default:
		row.kind = TRACEDB_EXIT_DEBUG_EXIT;
		row.value = ev->u.exit_value;
		break;
	}
	row.symbol = symbol_at(o, row.rip);
	check(o, tracedb_put_exit(o->w, &row));
	o->counts.exits++;
}

static void put_held(struct tracedb_obs *o, const struct held *h, uint64_t position)
{
	uint64_t start = h->have_start ? h->start : position;

	if (h->stream < 0) {
		check(o, tracedb_put_annotation(o->w, position, h->text, h->len));
		o->counts.annotations++;
	} else {
		check(o, tracedb_put_serial(o->w, position, start, stream_names[h->stream], h->text,
					    h->len));
		o->counts.serial_lines++;
	}
}

/* Everything held gets this position; lines in progress get their start. */
static void flush_held(struct tracedb_obs *o, uint64_t position)
{
	for (size_t i = 0; i < o->nheld; i++) {
		put_held(o, &o->held[i], position);
		free(o->held[i].text);
	}
	o->nheld = 0;
	for (int s = 0; s < STREAMS; s++)
		if (o->line[s].len > 0 && !o->line[s].have_start) {
			o->line[s].start = position;
			o->line[s].have_start = true;
		}
}

static void hold(struct tracedb_obs *o, int stream, const uint8_t *buf, size_t len, uint64_t start,
		 bool have_start)
{
	struct held *h;

	if (o->nheld == o->capheld) {
		size_t cap = o->capheld ? o->capheld * 2 : 8;
		struct held *n = realloc(o->held, cap * sizeof(*n));
		if (!n) {
			check(o, -ENOMEM);
			return;
		}
		o->held = n;
		o->capheld = cap;
	}
	h = &o->held[o->nheld];
	h->text = malloc(len * 4 + 1);
	if (!h->text) {
		check(o, -ENOMEM);
		return;
	}
	h->len = tracedb_escape(buf, len, h->text);
	h->stream = stream;
	h->start = start;
	h->have_start = have_start;
	o->nheld++;
}

static void end_line(struct tracedb_obs *o, int s)
{
	struct outline *l = &o->line[s];
	size_t len = l->len;

	if (len > 0 && l->buf[len - 1] == '\r')
		len--;          /* CRLF line ends: the CR is not part of the text */
	hold(o, s, l->buf, len, l->start, l->have_start);
	l->len = 0;
	l->have_start = false;
}

void tracedb_obs_output(struct tracedb_obs *o, enum vmm_output_stream stream, const uint8_t *buf,
			size_t len)
{
	int s;

	if (stream == VMM_OUT_ANNOTATION) {
		hold(o, -1, buf, len, 0, false);
		return;
	}
	s = stream == VMM_OUT_SERIAL ? 0 : 1;
	for (size_t i = 0; i < len; i++) {
		struct outline *l = &o->line[s];

		if (buf[i] == '\n') {
			end_line(o, s);
			continue;
		}
		l->buf[l->len++] = buf[i];
		if (l->len == LINE_MAX_BYTES)
			end_line(o, s);
	}
}

/* After step n: note interrupts the PIC holds that the guest has not taken. */
static void note_pending(struct tracedb_obs *o, const struct vmm_event *ev)
{
	int v = o->m.irq_pending(o->m.ctx);
	struct raised *r;

	if (v < 0) {
		if (o->nraised) {
			memset(o->vec, 0, sizeof(o->vec));
			o->nraised = 0;
		}
		o->cpl_valid = false;
		return;
	}
	r = &o->vec[(uint8_t)v];
	if (!r->valid) {
		r->valid = true;
		o->nraised++;
		if (o->poll_since_step && !o->prev_if) {
			/* Raised by the poll before this step, held by IF=0. */
			r->position = o->poll_pos;
			r->step = o->steps - 1;
			r->have_clock = o->have_poll_clock;
			r->clock = o->poll_clock;
		} else {
			r->position = ev->exits;
			r->step = o->steps;
			r->have_clock = false;
		}
	}
	/* It may be injected on the next entry: know the CPL there. */
	o->cpl = o->m.cpl(o->m.ctx);
	o->cpl_valid = o->cpl >= 0;
}

void tracedb_obs_step(struct tracedb_obs *o, const struct vmm_event *ev)
{
	if (o->error)
		return;
	o->steps++;
	if (ev->injected >= 0)
		put_interrupt(o, ev);
	if (replay_event_is_sync(ev))
		put_exit(o, ev);
	flush_held(o, ev->exits);
	o->counts.last_position = ev->exits;
	o->prev_rip = ev->rip;
	note_pending(o, ev);
	o->prev_if = o->m.guest_if(o->m.ctx);
	o->prev_sync = replay_event_is_sync(ev);
	o->prev_sync_exits = ev->exits;
	o->poll_since_step = false;
	o->poll_clock_wanted = false;
}

void tracedb_obs_log(struct tracedb_obs *o, const struct replay_event *ev, uint64_t exits)
{
	struct tracedb_pos at = { .known = true, .exits = exits };

	if (o->error)
		return;
	/* The numeric position is pos's EXITS (also where pos is unknown),
	 * whenever the replay happened to consume the event: the same rows
	 * whether or not units were counted. */
	switch (ev->type) {
	case REPLAY_EV_POLL_REGS:       /* folded into the POLL_ASYNC it precedes */
	case REPLAY_EV_POLL_ASYNC:
		where(o, false, &at);
		break;
	case REPLAY_EV_CLOCK:
	case REPLAY_EV_SERIAL_IN:
		if (o->poll_since_step)
			at = o->poll_at;
		else if (ev->type == REPLAY_EV_CLOCK)
			at.exits = exits + 1;   /* a device serving the exit in progress */
		break;
	case REPLAY_EV_INJECT:
		inject_pos(o, ev->inject.exits, &at);
		at.exits = ev->inject.exits;
		break;
	default:
		break;
	}
	exits = at.exits;
	replay_event_format(o->detail, sizeof(o->detail), ev);
	check(o, tracedb_put_event(o->w, o->seq++, exits, &at, replay_event_type_name(ev->type),
				   o->detail));
	o->counts.events++;
	switch (ev->type) {
	case REPLAY_EV_CLOCK:
		check(o, tracedb_put_clock(o->w, exits, &at, ev->clock.kind, ev->clock.value));
		o->counts.clock_reads++;
		/* A poll reads the monotonic clock once, first. */
		if (o->poll_clock_wanted && ev->clock.kind == REPLAY_CLOCK_MONOTONIC) {
			o->poll_clock_wanted = false;
			o->have_poll_clock = true;
			o->poll_clock = ev->clock.value;
		}
		break;
	case REPLAY_EV_SERIAL_IN:
		check(o, tracedb_put_serial_input(o->w, exits, &at, ev->serial_in.data,
						  ev->serial_in.len));
		o->counts.serial_inputs++;
		break;
	case REPLAY_EV_POLL_ASYNC:
		o->prev_rip = ev->poll_async.rip;
		/* fall through */
	case REPLAY_EV_POLL_SYNC:
		o->poll_since_step = true;
		o->poll_pos = exits;
		o->poll_at = at;
		o->poll_clock_wanted = true;
		o->have_poll_clock = false;
		o->cpl = o->m.cpl(o->m.ctx);
		o->cpl_valid = o->cpl >= 0;
		break;
	default:
		break;
	}
}

int tracedb_obs_finish(struct tracedb_obs *o)
{
	uint64_t pos = o->counts.last_position;

	for (int s = 0; s < STREAMS; s++)
		if (o->line[s].len > 0) {
			if (!o->line[s].have_start) {
				o->line[s].start = pos;
				o->line[s].have_start = true;
			}
			end_line(o, s);
		}
	flush_held(o, pos);
	return o->error;
}

int tracedb_obs_error(const struct tracedb_obs *o)
{
	return o->error;
}

void tracedb_obs_get_counts(const struct tracedb_obs *o, struct tracedb_obs_counts *c)
{
	*c = o->counts;
}
