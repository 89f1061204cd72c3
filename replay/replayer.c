/*
 * replayer.c — re-executing a recording.
 *
 * The replayer drives the same machine the recorder did, with no host
 * input at all: the clock returns the logged values in order, serial input
 * comes from SERIAL_IN events, and the machine is polled exactly where the
 * recording polled it:
 *   POLL_SYNC  — right after synchronous exit N;
 *   POLL_ASYNC — after exit N, at the first instruction boundary whose
 *                state matches the logged fingerprint, found with a
 *                hardware breakpoint at the logged rip (one debug register,
 *                the fourth, is the replayer's; see DESIGN.md).
 * Everything else is recomputed and checked: injected vectors (INJECT),
 * the running checksum of synchronous exits (CHECKSUM) and the end (END:
 * exit count, reason, status, final state hash). The first mismatch stops
 * the replay with a message that says where.
 *
 * A halted guest is not waited for: the next poll is taken at once, so an
 * idle guest replays faster than it ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

#define SEARCH_SLOT 3
#define DR6_BS (1ull << 14)     /* single-step trap */

struct replay {
	char *dir;
	struct replay_manifest manifest;
	struct vmm *vm;
	struct replay_log_reader *log;

	/* The next events, copied out of the reader: the replayer must see one
	 * event past an INJECT to arm a search before the injecting entry. */
	struct lookahead {
		struct replay_event ev;
		enum replay_log_status status;
		uint8_t bytes[REPLAY_SERIAL_IN_MAX];
		uint64_t *pages;
	} q[2];
	unsigned qhead, qn;             /* a ring: q[(qhead + i) % 2] is the i-th next */
	enum replay_log_status next_status;     /* of q[0], or of the log if qn == 0 */
	uint64_t events;

	uint64_t *dirty;
	size_t dirty_words;
	uint64_t *pages;
	uint64_t checksum;
	uint64_t last_clock[2];

	bool stopped;                   /* a stop was decided inside a callback */
	struct replay_result pending;
	atomic_bool interrupt;

	struct replay_observer observer;
	int (*symbolize)(void *ctx, uint64_t addr, char *buf, size_t len);
	void *symbolize_ctx;
	uint64_t stop_at;
	struct vmm_debug user_dbg;
	struct vmm_debug applied;
	bool applied_valid;
	bool searching, stepping_over;
	/* Injection is allowed only on entries the recording could have
	 * injected on without logging a point: after a synchronous exit or a
	 * poll. Never after a breakpoint or single-step exit of our own. */
	bool may_inject;
	uint64_t search_rip, search_hits;
	/* The debugger's single steps into interrupt handlers. */
	int (*handler_lookup)(void *ctx, int vector, uint64_t *addr);
	void *handler_ctx;
	int handler_slot;               /* this entry's handler breakpoint, or -1 */
	/* A vector injected on an entry that a kick cut short: KVM may still
	 * hold it, to deliver at the next entry. */
	int queued_vector;
	struct replay_stats stats;
};

const char *replay_stop_name(enum replay_stop s)
{
	static const char *const names[] = {
		[REPLAY_STOP_END] = "end", [REPLAY_STOP_DIVERGED] = "diverged",
		[REPLAY_STOP_TRUNCATED] = "truncated", [REPLAY_STOP_CORRUPT] = "corrupt",
		[REPLAY_STOP_DEBUG] = "debug", [REPLAY_STOP_INTERRUPTED] = "interrupted",
		[REPLAY_STOP_POSITION] = "position",
		[REPLAY_STOP_ERROR] = "error",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static struct lookahead *slot_at(struct replay *r, unsigned i)
{
	return &r->q[(r->qhead + i) % 2];
}

/* Make the i-th next event valid (reading the log as needed); a final
 * status repeats. */
static struct lookahead *fill(struct replay *r, unsigned i)
{
	while (r->qn <= i) {
		struct lookahead *slot = slot_at(r, r->qn);

		if (r->qn > 0 && slot_at(r, r->qn - 1)->status != REPLAY_LOG_EVENT) {
			slot->status = slot_at(r, r->qn - 1)->status;
		} else {
			slot->status = replay_log_next(r->log, &slot->ev);
			/* Own the variable-length parts: the reader reuses them. */
			if (slot->status == REPLAY_LOG_EVENT && slot->ev.type == REPLAY_EV_SERIAL_IN) {
				memcpy(slot->bytes, slot->ev.serial_in.data, slot->ev.serial_in.len);
				slot->ev.serial_in.data = slot->bytes;
			} else if (slot->status == REPLAY_LOG_EVENT &&
				   slot->ev.type == REPLAY_EV_POLL_ASYNC) {
				if (slot->ev.poll_async.npages)
					memcpy(slot->pages, slot->ev.poll_async.pages,
					       slot->ev.poll_async.npages * sizeof(uint64_t));
				slot->ev.poll_async.pages = slot->pages;
			}
		}
		r->qn++;
	}
	return slot_at(r, i);
}

static const struct replay_event *peek_at(struct replay *r, unsigned i)
{
	struct lookahead *slot = fill(r, i);

	if (i == 0)
		r->next_status = slot->status;
	return slot->status == REPLAY_LOG_EVENT ? &slot->ev : NULL;
}

static const struct replay_event *peek(struct replay *r)
{
	return peek_at(r, 0);
}

void replay_set_observer(struct replay *r, const struct replay_observer *o)
{
	r->observer = o ? *o : (struct replay_observer){ 0 };
}

static void consume(struct replay *r)
{
	struct lookahead *first = fill(r, 0);

	if (r->observer.on_log && first->status == REPLAY_LOG_EVENT)
		r->observer.on_log(r->observer.ctx, &first->ev, vmm_exits(r->vm));
	r->qhead = (r->qhead + 1) % 2;
	r->qn--;
	r->events++;
}

/* What the log holds next, in words, for messages. */
static void describe_next(struct replay *r, char *buf, size_t len)
{
	const struct replay_event *e = peek(r);

	if (e)
		replay_event_format(buf, len, e);
	else
		snprintf(buf, len, "%s", replay_log_status_name(r->next_status));
}

static void stop(struct replay *r, enum replay_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void stop(struct replay *r, enum replay_stop why, const char *fmt, ...)
{
	va_list ap;

	if (r->stopped)
		return;         /* the first reason is the one that matters */
	r->stopped = true;
	r->pending.stop = why;
	va_start(ap, fmt);
	vsnprintf(r->pending.msg, sizeof(r->pending.msg), fmt, ap);
	va_end(ap);
}

/* The log has no next event: truncated, corrupt, or ended too soon. */
static void stop_for_log(struct replay *r, const char *needed)
{
	uint64_t exits = vmm_exits(r->vm);

	switch (r->next_status) {
	case REPLAY_LOG_TRUNCATED:
		stop(r, REPLAY_STOP_TRUNCATED, "the recording is truncated (the recorder did not "
		     "finish): replayed its %" PRIu64 " events, up to exit %" PRIu64 "; %s",
		     r->events, exits, replay_log_reader_error(r->log));
		break;
	case REPLAY_LOG_CORRUPT:
	case REPLAY_LOG_ERROR:
		stop(r, REPLAY_STOP_CORRUPT, "%s/events.lz4 is damaged: %s", r->dir,
		     replay_log_reader_error(r->log));
		break;
	default:
		stop(r, REPLAY_STOP_DIVERGED, "at exit %" PRIu64 " the replay needs %s, but the "
		     "recording has ended", exits, needed);
		break;
	}
}

static void diverge(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverge(struct replay *r, const char *fmt, ...)
{
	char what[512], sym[160] = "";
	struct vmm_regs regs;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (vmm_get_regs(r->vm, &regs))
		regs.rip = 0;
	if (r->symbolize) {
		char name[128];
		if (r->symbolize(r->symbolize_ctx, regs.rip, name, sizeof(name)) == 0)
			snprintf(sym, sizeof(sym), " in %s", name);
	}
	stop(r, REPLAY_STOP_DIVERGED, "replay diverged at exit %" PRIu64 " (rip 0x%" PRIx64 "%s): %s",
	     vmm_exits(r->vm), regs.rip, sym, what);
}

static uint64_t replay_clock(void *ctx, enum vmm_clock_kind kind)
{
	struct replay *r = ctx;
	const struct replay_event *e;
	unsigned k = kind == VMM_CLOCK_REALTIME;
	char next[256];

	if (r->stopped)
		return r->last_clock[k];
	e = peek(r);
	if (!e) {
		stop_for_log(r, "a clock value");
		return r->last_clock[k];
	}
	if (e->type != REPLAY_EV_CLOCK || e->clock.kind != k) {
		describe_next(r, next, sizeof(next));
		diverge(r, "a device read the %s clock, but the recording has '%s' next",
			k ? "realtime" : "monotonic", next);
		return r->last_clock[k];
	}
	r->last_clock[k] = e->clock.value;
	consume(r);
	return r->last_clock[k];
}

/* The debugger's step on an entry that injects: no single step (KVM would
 * leave TF in the interrupt frame), a breakpoint at the handler instead, in
 * a debugger slot: free, or borrowed, as no instruction runs before it. */
static void step_into_handler(struct replay *r, struct vmm_debug *d, int vector)
{
	uint64_t addr;
	int k = 0;

	d->single_step = false;
	if (!r->handler_lookup || r->handler_lookup(r->handler_ctx, vector, &addr))
		return;
	for (int i = 0; i < 4; i++)
		if (i != SEARCH_SLOT && !d->hw[i].enabled) {
			k = i;
			break;
		}
	d->hw[k].enabled = true;
	d->hw[k].addr = addr;
	d->hw[k].type = 0;
	d->hw[k].len = 1;
	r->handler_slot = k;
}

static int apply_debug(struct replay *r)
{
	struct vmm_debug d = r->user_dbg;
	int rc;

	r->handler_slot = -1;
	if (r->searching && !r->stepping_over) {
		d.hw[SEARCH_SLOT].enabled = true;
		d.hw[SEARCH_SLOT].addr = r->search_rip;
		d.hw[SEARCH_SLOT].type = 0;
		d.hw[SEARCH_SLOT].len = 1;
	}
	if (r->stepping_over)
		d.single_step = true;
	else if (d.single_step && r->queued_vector >= 0)
		step_into_handler(r, &d, r->queued_vector);
	else if (d.single_step && vmm_can_inject(r->vm))
		step_into_handler(r, &d, vmm_irq_pending(r->vm));
	if (r->applied_valid && memcmp(&d, &r->applied, sizeof(d)) == 0)
		return 0;
	rc = vmm_set_debug(r->vm, &d);
	if (rc)
		return rc;
	r->applied = d;
	r->applied_valid = true;
	return 0;
}

void replay_set_handler_lookup(struct replay *r,
			       int (*lookup)(void *ctx, int vector, uint64_t *addr), void *ctx)
{
	r->handler_lookup = lookup;
	r->handler_ctx = ctx;
}

int replay_set_debug(struct replay *r, const struct vmm_debug *dbg)
{
	if (dbg->hw[SEARCH_SLOT].enabled)
		return -ENOSPC;         /* the replayer's own slot */
	r->user_dbg = *dbg;
	return apply_debug(r);
}

/* The machine polls its devices where the recording did. */
static void do_poll(struct replay *r)
{
	const struct replay_event *e;
	int rc = vmm_dirty_collect(r->vm, r->dirty);

	if (rc) {
		stop(r, REPLAY_STOP_ERROR, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		return;
	}
	memset(r->dirty, 0, r->dirty_words * sizeof(uint64_t));
	r->may_inject = true;
	vmm_poll_devices(r->vm);
	while (!r->stopped && (e = peek(r)) && e->type == REPLAY_EV_SERIAL_IN) {
		size_t took = vmm_serial_rx_push(r->vm, e->serial_in.data, e->serial_in.len);
		if (took != e->serial_in.len) {
			diverge(r, "the recording fed %" PRIu32 " serial bytes here, the UART took %zu",
				e->serial_in.len, took);
			return;
		}
		consume(r);
	}
}

/* A breakpoint hit at the searched rip: is this the recorded point? */
static bool fingerprint_matches(struct replay *r, const struct replay_event *e)
{
	struct vmm_regs regs;
	uint32_t n = 0;
	uint64_t hash;

	if (vmm_get_regs(r->vm, &regs) || replay_fp_regs(&regs) != e->poll_async.regs_hash)
		return false;
	r->stats.fp_full_checks++;
	if (vmm_dirty_collect(r->vm, r->dirty))
		return false;
	if (replay_fp_rest(r->vm, r->dirty, r->dirty_words, r->pages, REPLAY_PAGES_MAX, &n, &hash))
		return false;
	return hash == e->poll_async.mem_hash && n == e->poll_async.npages &&
	       memcmp(r->pages, e->poll_async.pages, n * sizeof(uint64_t)) == 0;
}

static void search_begin(struct replay *r, const struct replay_event *e)
{
	r->searching = true;
	r->stepping_over = false;
	r->search_rip = e->poll_async.rip;
	r->search_hits = 0;
}

static void search_end(struct replay *r)
{
	r->searching = r->stepping_over = false;
	r->stats.async_points++;
	if (r->search_hits > r->stats.bp_hits_max)
		r->stats.bp_hits_max = r->search_hits;
}

/* The guest stopped for good: the recording must say the same. */
static void finish(struct replay *r, enum vmm_stop_reason reason, uint32_t value)
{
	const struct replay_event *e = peek(r);
	char next[256];
	uint64_t hash = 0;

	if (!e) {
		stop_for_log(r, "the end record");
		return;
	}
	if (e->type != REPLAY_EV_END) {
		describe_next(r, next, sizeof(next));
		diverge(r, "the guest stopped (%s) but the recording goes on with '%s'",
			vmm_stop_reason_name(reason), next);
		return;
	}
	if (e->end.reason != reason || e->end.status != value || e->end.exits != vmm_exits(r->vm)) {
		diverge(r, "the guest stopped (%s, value %" PRIu32 ") at exit %" PRIu64 "; the "
			"recording stopped (%s, value %" PRIu32 ") at exit %" PRIu64,
			vmm_stop_reason_name(reason), value, vmm_exits(r->vm),
			vmm_stop_reason_name(e->end.reason), e->end.status, e->end.exits);
		return;
	}
	if (vmm_state_hash(r->vm, &hash) == 0 && hash != e->end.state_hash) {
		diverge(r, "final guest state differs: hash 0x%016" PRIx64 ", recorded 0x%016" PRIx64,
			hash, e->end.state_hash);
		return;
	}
	consume(r);
	stop(r, REPLAY_STOP_END, "replayed %" PRIu64 " events, %" PRIu64 " exits; final state "
	     "matches (0x%016" PRIx64 ")", r->events, vmm_exits(r->vm), hash);
	r->pending.exit_status = vmm_exit_status(reason, value);
	r->pending.state_hash = hash;
}

/* A recording that was cut short (timeout, Ctrl-C) ends wherever the guest
 * was when it was stopped: replay stops after the same exit. */
static bool stopped_from_outside(uint8_t reason)
{
	return reason == VMM_STOP_TIMEOUT || reason == VMM_STOP_REQUESTED || reason == VMM_STOP_HOOK;
}

static void finish_cut(struct replay *r, const struct replay_event *e)
{
	uint8_t reason = e->end.reason;
	uint32_t value = e->end.status;

	consume(r);
	stop(r, REPLAY_STOP_END, "replayed %" PRIu64 " events up to exit %" PRIu64 ", where the "
	     "recording was stopped (%s); the final state is not compared", r->events,
	     vmm_exits(r->vm), vmm_stop_reason_name(reason));
	r->pending.exit_status = vmm_exit_status(reason, value);
}

static void after_step(struct replay *r, const struct vmm_event *ev)
{
	const struct replay_event *e;
	char next[256];

	if (ev->injected >= 0) {
		e = peek(r);
		if (!e) {
			stop_for_log(r, "an injection record");
			return;
		}
		if (e->type != REPLAY_EV_INJECT || e->inject.vector != ev->injected ||
		    e->inject.exits != replay_inject_exits(ev)) {
			describe_next(r, next, sizeof(next));
			diverge(r, "replay injected vector 0x%x after exit %" PRIu64 ", the recording "
				"has '%s'", ev->injected, replay_inject_exits(ev), next);
			return;
		}
		consume(r);
	} else if ((e = peek(r)) && e->type == REPLAY_EV_INJECT &&
		   e->inject.exits < replay_inject_exits(ev)) {
		diverge(r, "the recording injected vector 0x%x after exit %" PRIu64 "; replay did "
			"not", e->inject.vector, e->inject.exits);
		return;
	}
	if (replay_event_is_sync(ev)) {
		r->checksum = replay_checksum_add(r->checksum, ev);
		e = peek(r);
		if (e && e->type == REPLAY_EV_CHECKSUM && e->checksum.exits == ev->exits) {
			if (e->checksum.sum != r->checksum) {
				diverge(r, "the exits up to here differ from the recording's (checksum "
					"0x%016" PRIx64 ", recorded 0x%016" PRIx64 "; last exit: %s 0x%" PRIx64
					" value 0x%" PRIx64 ")", r->checksum, e->checksum.sum,
					ev->kind == VMM_EV_IO ? (ev->u.io.write ? "write" : "read") : "exit",
					ev->kind == VMM_EV_IO ? ev->u.io.addr : 0,
					ev->kind == VMM_EV_IO ? ev->u.io.value : 0);
				return;
			}
			consume(r);
		}
	}
}

static void on_hlt(struct replay *r, const struct vmm_event *ev)
{
	const struct replay_event *e;
	char next[256];

	if (!vmm_guest_if(r->vm) && vmm_irq_pending(r->vm) < 0) {
		finish(r, VMM_STOP_HALTED, 0);
		return;
	}
	/* An interrupt already pending wakes the guest at once; otherwise the
	 * recorder polled the halted guest (or was stopped there). */
	if (vmm_irq_pending(r->vm) >= 0)
		return;
	e = peek(r);
	if (!e) {
		stop_for_log(r, "a poll");
		return;
	}
	if ((e->type == REPLAY_EV_POLL_SYNC && e->poll_sync.exits == ev->exits) ||
	    e->type == REPLAY_EV_END)
		return;
	describe_next(r, next, sizeof(next));
	diverge(r, "the guest halted, but the recording has '%s' next", next);
}

/* Was this debug exit asked for by the debugger (replay_set_debug): one of
 * its breakpoints or watchpoints (DR6.B0-B2), or its single step (DR6.BS)? */
static bool user_debug_hit(const struct replay *r, const struct vmm_event *ev)
{
	uint64_t dr6 = ev->u.debug.dr6;

	if (r->user_dbg.single_step && (dr6 & DR6_BS))
		return true;
	for (int i = 0; i < 4; i++)
		if (i != SEARCH_SLOT && r->user_dbg.hw[i].enabled && (dr6 & (1ull << i)))
			return true;
	return false;
}

/*
 * A debug exit is the replayer's own (its search breakpoint, its step over
 * it), the debugger's, or both at once: a user step can land on the
 * searched rip, a user breakpoint can sit there. The replayer's part is
 * done first, so that the recorded point is never missed; then the
 * debugger gets its stop. A search hit with no progress (the breakpoint
 * fired before the stepped instruction ran) is not the user's step.
 */
static void on_debug(struct replay *r, const struct vmm_event *ev)
{
	const struct replay_event *e = peek(r);
	bool user = user_debug_hit(r, ev);

	if (r->stepping_over) {
		r->stepping_over = false;
		if (!user)
			return;
	} else if (r->searching && ev->u.debug.pc == r->search_rip && e &&
		   e->type == REPLAY_EV_POLL_ASYNC) {
		r->stats.bp_hits++;
		r->search_hits++;
		if (fingerprint_matches(r, e)) {
			consume(r);
			search_end(r);
			do_poll(r);
		} else {
			r->stepping_over = true;
		}
		if (!user)
			return;
	}
	stop(r, REPLAY_STOP_DEBUG, "debug stop at rip 0x%" PRIx64, ev->u.debug.pc);
}

int replay_run(struct replay *r, struct replay_result *res)
{
	struct vmm_error err = { "" };
	struct vmm_event ev;
	int rc;

	memset(&r->pending, 0, sizeof(r->pending));
	r->stopped = false;
	while (!r->stopped) {
		const struct replay_event *e;

		if (atomic_exchange(&r->interrupt, false)) {
			stop(r, REPLAY_STOP_INTERRUPTED, "interrupted at exit %" PRIu64, vmm_exits(r->vm));
			break;
		}
		if (vmm_exits(r->vm) >= r->stop_at) {
			r->stop_at = UINT64_MAX;
			stop(r, REPLAY_STOP_POSITION, "at exit %" PRIu64, vmm_exits(r->vm));
			break;
		}
		e = peek(r);
		if (!e) {
			stop_for_log(r, "its next event");
			break;
		}
		if (e->type == REPLAY_EV_POLL_SYNC || e->type == REPLAY_EV_POLL_ASYNC) {
			uint64_t at = e->type == REPLAY_EV_POLL_SYNC ? e->poll_sync.exits
								      : e->poll_async.exits;
			if (vmm_exits(r->vm) > at) {
				diverge(r, "the recording polled the devices after exit %" PRIu64
					", which replay has passed%s", at,
					r->searching ? " without finding the recorded state" : "");
				break;
			}
			if (vmm_exits(r->vm) == at && e->type == REPLAY_EV_POLL_SYNC) {
				consume(r);
				do_poll(r);
				continue;
			}
			if (vmm_exits(r->vm) == at && !r->searching)
				search_begin(r, e);
		} else if (e->type == REPLAY_EV_INJECT && !r->searching) {
			/* The recording may have been kicked right after this
			 * injection: arm the search before the entry that injects. */
			const struct replay_event *after = peek_at(r, 1);
			if (after && after->type == REPLAY_EV_POLL_ASYNC &&
			    after->poll_async.exits == vmm_exits(r->vm))
				search_begin(r, after);
		} else if (e->type == REPLAY_EV_END && stopped_from_outside(e->end.reason) &&
			   vmm_exits(r->vm) >= e->end.exits) {
			finish_cut(r, e);
			break;
		}
		/* The injection mode first: apply_debug asks whether this
		 * entry injects. */
		vmm_set_inject_mode(r->vm, r->may_inject ? VMM_INJECT_NOW_ONLY : VMM_INJECT_HOLD);
		rc = apply_debug(r);
		if (rc) {
			stop(r, REPLAY_STOP_ERROR, "KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
			break;
		}
		rc = vmm_step(r->vm, &ev, &err);
		if (rc) {
			stop(r, REPLAY_STOP_ERROR, "%s", err.msg);
			break;
		}
		if (ev.kind != VMM_EV_KICK)
			r->queued_vector = -1;
		else if (ev.injected >= 0)
			r->queued_vector = ev.injected;
		/* The handler breakpoint ends the debugger's step. */
		if (r->handler_slot >= 0 && ev.kind == VMM_EV_DEBUG &&
		    (ev.u.debug.dr6 & (1ull << r->handler_slot)))
			ev.u.debug.dr6 = (ev.u.debug.dr6 & ~(1ull << r->handler_slot)) | DR6_BS;
		r->may_inject = replay_event_is_sync(&ev);
		r->pending.ev = ev;
		if (r->stopped)
			break;          /* a clock read inside the step diverged */
		after_step(r, &ev);
		if (r->stopped)
			break;
		if (r->observer.on_step)
			r->observer.on_step(r->observer.ctx, r->vm, &ev);
		switch (ev.kind) {
		case VMM_EV_IO:
		case VMM_EV_IRQ_WINDOW:
			break;
		case VMM_EV_KICK:
			/* replay_interrupt's kick: clear it, or every later
			 * KVM_RUN of a replay that goes on returns at once. */
			vmm_take_kick(r->vm);
			break;
		case VMM_EV_HLT:
			on_hlt(r, &ev);
			break;
		case VMM_EV_DEBUG:
			on_debug(r, &ev);
			break;
		case VMM_EV_GUEST_EXIT:
			finish(r, VMM_STOP_GUEST_EXIT, ev.u.exit_value);
			break;
		case VMM_EV_SHUTDOWN:
			finish(r, VMM_STOP_SHUTDOWN, 0);
			break;
		case VMM_EV_ERROR:
			finish(r, VMM_STOP_ERROR, 0);
			break;
		}
	}
	*res = r->pending;
	res->exits = vmm_exits(r->vm);
	res->events = r->events;
	return 0;
}

void replay_stop_at(struct replay *r, uint64_t exits)
{
	r->stop_at = exits;
}

void replay_interrupt(struct replay *r)
{
	atomic_store(&r->interrupt, true);
	vmm_kick(r->vm);
}

void replay_get_stats(const struct replay *r, struct replay_stats *st)
{
	*st = r->stats;
}

struct vmm *replay_vm(struct replay *r)
{
	return r->vm;
}

const struct replay_manifest *replay_manifest(const struct replay *r)
{
	return &r->manifest;
}

static int check_kernel(const char *path, const char *want, struct vmm_error *err)
{
	uint8_t *buf;
	size_t len;
	char got[65];
	int rc = vmm_read_file(path, &buf, &len, err);

	if (rc)
		return rc;
	replay_sha256(buf, len, got);
	free(buf);
	if (strcmp(got, want) != 0) {
		vmm_error_set(err, "%s does not match the recording: SHA-256 %s, manifest says %s",
			      path, got, want);
		return -EINVAL;
	}
	return 0;
}

int replay_open(const char *dir, const struct replay_options *o, struct replay **out,
		struct vmm_error *err)
{
	struct replay *r = calloc(1, sizeof(*r));
	char path[4096];
	struct vmm_config cfg = { 0 };
	int rc;

	*out = NULL;
	if (!r) {
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	r->dir = strdup(dir);
	rc = replay_manifest_read(dir, &r->manifest, err);
	if (rc)
		goto fail;
	snprintf(path, sizeof(path), "%s/kernel", dir);
	rc = check_kernel(path, r->manifest.kernel_sha256, err);
	if (rc)
		goto fail;
	r->log = replay_log_reader_create();
	if (!r->log) {
		rc = -ENOMEM;
		vmm_error_set(err, "out of memory");
		goto fail;
	}
	{
		char logpath[4096];
		snprintf(logpath, sizeof(logpath), "%s/events.lz4", dir);
		/* A FIFO or a device in its place is refused, not blocked on. */
		int fd = vmm_open_regular(logpath, O_RDONLY, err);

		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		rc = replay_log_reader_open_fd(r->log, fd, logpath);
		if (rc) {
			vmm_error_set(err, "%s: %s", logpath, strerror(-rc));
			goto fail;
		}
	}
	cfg.mem_size = r->manifest.mem_size;
	cfg.kernel_path = path;
	cfg.cmdline = r->manifest.cmdline;
	cfg.trace_io = o && o->trace_io;
	cfg.clock = (struct vmm_clock){ replay_clock, r };
	if (o) {
		cfg.output = o->output;
		r->symbolize = o->symbolize;
		r->symbolize_ctx = o->symbolize_ctx;
	}
	rc = vmm_create(&cfg, &r->vm, err);
	if (rc)
		goto fail;
	r->dirty_words = vmm_dirty_words(r->vm);
	r->dirty = calloc(r->dirty_words, sizeof(uint64_t));
	r->pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
	r->q[0].pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
	r->q[1].pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
	if (!r->dirty || !r->pages || !r->q[0].pages || !r->q[1].pages) {
		rc = -ENOMEM;
		vmm_error_set(err, "out of memory");
		goto fail;
	}
	/* Others (introspection at a gdb stop) may read the dirty log too:
	 * see every bit they take. */
	rc = vmm_dirty_track(r->vm, r->dirty);
	if (rc) {
		vmm_error_set(err, "no room to track dirty pages");
		goto fail;
	}
	/* Read the first event now, so a damaged log is refused before the
	 * guest runs at all. */
	if (!peek(r) && r->next_status != REPLAY_LOG_TRUNCATED) {
		vmm_error_set(err, "%s/events.lz4: %s", dir, replay_log_reader_error(r->log));
		rc = -EINVAL;
		goto fail;
	}
	r->may_inject = true;
	r->stop_at = UINT64_MAX;
	r->handler_slot = -1;
	r->queued_vector = -1;
	*out = r;
	return 0;
fail:
	replay_close(r);
	return rc;
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	if (r->vm && r->dirty)
		vmm_dirty_untrack(r->vm, r->dirty);
	vmm_destroy(r->vm);
	if (r->log)
		replay_log_reader_free(r->log);
	free(r->dirty);
	free(r->pages);
	free(r->q[0].pages);
	free(r->q[1].pages);
	free(r->dir);
	free(r);
}
