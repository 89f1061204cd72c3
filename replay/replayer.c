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
 *                the fourth, is the replayer's; see DESIGN.md). Where a
 *                register counts the passes of a loop, most of the hits
 *                are skipped by free-running from a snapshot
 *                (fastsearch.c, which has the design and the figures).
 * Everything else is recomputed and checked: injected vectors (INJECT),
 * the running checksum of synchronous exits (CHECKSUM) and the end (END:
 * exit count, reason, status, final state hash). The first mismatch stops
 * the replay with a message that says where.
 *
 * A halted guest is not waited for: the next poll is taken at once, so an
 * idle guest replays faster than it ran.
 *
 * The machine is reached through r->mops (internal.h), the queue of events
 * read ahead through lookahead.c; opening a recording is replayopen.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "replay/internal.h"

#define SEARCH_SLOT REPLAY_SEARCH_SLOT
#define DR6_BS (1ull << 14)     /* single-step trap */

static uint64_t now_exits(struct replay *r)
{
	return r->mops->exits(r->mctx);
}

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

int replay_set_observer(struct replay *r, const struct replay_observer *o)
{
	if (o && (r->observer.on_step || r->observer.on_log))
		return -EBUSY;
	r->observer = o ? *o : (struct replay_observer){ 0 };
	return 0;
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
	uint64_t exits = now_exits(r);

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
	char pos[REPLAY_POS_STRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r->mops->get_regs(r->mctx, &regs))
		regs.rip = 0;
	if (r->symbolize) {
		char name[128];
		if (r->symbolize(r->symbolize_ctx, regs.rip, name, sizeof(name)) == 0)
			snprintf(sym, sizeof(sym), " in %s", name);
	}
	stop(r, REPLAY_STOP_DIVERGED, "replay diverged at exit %s (rip 0x%" PRIx64 "%s): %s",
	     replay_pos_format(REPLAY_POS_AT(now_exits(r)), pos), regs.rip, sym, what);
}

void replay_check_context(void *ctx, FILE *f)
{
	static const char *const phases[] = { [REPLAY_FAST_OFF] = "off",
					      [REPLAY_FAST_LEARN] = "learn",
					      [REPLAY_FAST_RUN] = "run",
					      [REPLAY_FAST_APPROACH] = "approach" };
	struct replay *r = ctx;
	char next[256];

	replay_q_describe_next(r, next, sizeof(next));
	fprintf(f, "rrvm: the replay of %s: at exit %" PRIu64 ", %" PRIu64 " events consumed, "
		"next '%s'\n", r->dir, now_exits(r), r->events, next);
	fprintf(f, "  searching=%d rip=0x%" PRIx64 " hits=%" PRIu64 " stepping-over=%d "
		"may-inject=%d queued-vector=%d fast=%s%s\n", r->searching, r->search_rip,
		r->search_hits, r->stepping_over, r->may_inject, r->queued_vector,
		(unsigned)r->fast.phase < 4 ? phases[r->fast.phase] : "?",
		r->fast.live ? " (snapshot held)" : "");
}

uint64_t replay_clock_read(void *ctx, enum vmm_clock_kind kind)
{
	struct replay *r = ctx;
	const struct replay_event *e;
	unsigned k = kind == VMM_CLOCK_REALTIME;
	char next[256];

	/* A free-running stretch that may be rolled back (fastsearch.c)
	 * takes nothing from the log. */
	if (r->stopped || r->fast.probing)
		return r->last_clock[k];
	e = replay_q_peek(r);
	if (!e) {
		stop_for_log(r, "a clock value");
		return r->last_clock[k];
	}
	if (e->type != REPLAY_EV_CLOCK || e->clock.kind != k) {
		replay_q_describe_next(r, next, sizeof(next));
		diverge(r, "a device read the %s clock, but the recording has '%s' next",
			k ? "realtime" : "monotonic", next);
		return r->last_clock[k];
	}
	r->last_clock[k] = e->clock.value;
	replay_q_consume(r);
	return r->last_clock[k];
}

/* The debugger's step on an entry that injects: no single step (KVM would
 * leave TF in the interrupt frame), a breakpoint at the handler instead, in
 * a debugger slot: free, or borrowed, as no instruction runs before it. */
static void step_into_handler(struct replay *r, struct vmm_debug *d, int vector)
{
	uint64_t addr;

	d->single_step = false;
	if (!r->handler_lookup || r->handler_lookup(r->handler_ctx, vector, &addr))
		return;
	r->handler_slot = vmm_debug_step_to_handler(d, addr, SEARCH_SLOT);
}

/*
 * The search costs four vCPU ioctls per breakpoint hit that is not the
 * point: KVM_RUN to the hit, one KVM_SET_GUEST_DEBUG that disarms the
 * breakpoint and sets single-step, KVM_RUN for the step, one that re-arms
 * it (the registers come from the synced kvm_run, vmm_get_regs). Nothing
 * shorter works on the paravirtual backend (measured on compute): RFLAGS.RF
 * set through the synced registers is ignored (the breakpoint fires again
 * with no progress), and a single step with the breakpoint still armed
 * stops on the breakpoint (DR6.B3, not BS) before the instruction runs. So
 * the guest must be stopped once past the rip with the breakpoint off.
 */
static int apply_debug(struct replay *r)
{
	struct vmm_debug d = r->user_dbg;
	int rc;

	r->handler_slot = -1;
	if (r->searching && !r->stepping_over && !replay_fast_running(r)) {
		d.hw[SEARCH_SLOT].enabled = true;
		d.hw[SEARCH_SLOT].addr = r->search_rip;
		d.hw[SEARCH_SLOT].type = 0;
		d.hw[SEARCH_SLOT].len = 1;
	}
	if (r->stepping_over)
		d.single_step = true;
	else if (d.single_step && r->queued_vector >= 0)
		step_into_handler(r, &d, r->queued_vector);
	else if (d.single_step && r->mops->can_inject(r->mctx))
		step_into_handler(r, &d, r->mops->irq_pending(r->mctx));
	if (r->applied_valid && memcmp(&d, &r->applied, sizeof(d)) == 0)
		return 0;
	rc = r->mops->set_debug(r->mctx, &d);
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
	int rc = r->mops->dirty_collect(r->mctx, r->dirty);

	if (rc) {
		stop(r, REPLAY_STOP_ERROR, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		return;
	}
	memset(r->dirty, 0, r->dirty_words * sizeof(uint64_t));
	r->may_inject = true;
	r->mops->poll_devices(r->mctx);
	while (!r->stopped && (e = replay_q_peek(r)) && e->type == REPLAY_EV_SERIAL_IN) {
		size_t took = r->mops->serial_rx_push(r->mctx, e->serial_in.data, e->serial_in.len);
		if (took != e->serial_in.len) {
			diverge(r, "the recording fed %" PRIu32 " serial bytes here, the UART took %zu",
				e->serial_in.len, took);
			return;
		}
		replay_q_consume(r);
	}
}

/* A breakpoint hit at the searched rip: is this the recorded point? */
static bool fingerprint_matches(struct replay *r, const struct replay_event *e)
{
	struct vmm_regs regs;
	uint32_t n = 0;
	uint64_t hash;

	if (r->mops->get_regs(r->mctx, &regs) || replay_fp_regs(&regs) != e->poll_async.regs_hash)
		return false;
	r->stats.fp_full_checks++;
	if (r->mops->dirty_collect(r->mctx, r->dirty))
		return false;
	if (r->mops->fp_rest(r->mctx, r->dirty, r->dirty_words, r->pages, REPLAY_PAGES_MAX, &n, &hash))
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
	replay_fast_begin(r);
}

static void search_end(struct replay *r)
{
	replay_fast_end(r);
	r->searching = r->stepping_over = false;
	r->stats.async_points++;
	if (r->search_hits > r->stats.bp_hits_max)
		r->stats.bp_hits_max = r->search_hits;
	/* The count depends on the host's timing once the fast search skips
	 * hits: it must not stay in the replayer's saved state. */
	r->search_hits = 0;
}

/* After END the frame must end cleanly: end mark, content checksum right,
 * nothing after it (FORMAT.md). A frame cut after END is truncated, any
 * other damage there is corruption: either way the recording is not a
 * complete one, although every event replayed. */
static bool log_ends_cleanly(struct replay *r)
{
	if (replay_q_peek(r) == NULL && r->next_status == REPLAY_LOG_END_OF_LOG)
		return true;
	if (r->next_status == REPLAY_LOG_TRUNCATED)
		stop(r, REPLAY_STOP_TRUNCATED, "the recording is truncated after its end record: "
		     "replayed its %" PRIu64 " events, up to exit %" PRIu64 ", but %s",
		     r->events, now_exits(r), replay_log_reader_error(r->log));
	else
		stop(r, REPLAY_STOP_CORRUPT, "%s/events.lz4 is damaged after its end record: %s",
		     r->dir, r->next_status == REPLAY_LOG_EVENT ? "an event follows it"
							: replay_log_reader_error(r->log));
	return false;
}

/* The guest stopped for good: the recording must say the same. */
static void finish(struct replay *r, enum vmm_stop_reason reason, uint32_t value)
{
	const struct replay_event *e = replay_q_peek(r);
	char next[256];
	uint64_t hash = 0;

	if (!e) {
		stop_for_log(r, "the end record");
		return;
	}
	if (e->type != REPLAY_EV_END) {
		replay_q_describe_next(r, next, sizeof(next));
		diverge(r, "the guest stopped (%s) but the recording goes on with '%s'",
			vmm_stop_reason_name(reason), next);
		return;
	}
	if (e->end.reason != reason || e->end.status != value || e->end.exits != now_exits(r)) {
		diverge(r, "the guest stopped (%s, value %" PRIu32 ") at exit %" PRIu64 "; the "
			"recording stopped (%s, value %" PRIu32 ") at exit %" PRIu64,
			vmm_stop_reason_name(reason), value, now_exits(r),
			vmm_stop_reason_name(e->end.reason), e->end.status, e->end.exits);
		return;
	}
	if (r->mops->state_hash(r->mctx, &hash) == 0 && hash != e->end.state_hash) {
		diverge(r, "final guest state differs: hash 0x%016" PRIx64 ", recorded 0x%016" PRIx64,
			hash, e->end.state_hash);
		return;
	}
	replay_q_consume(r);
	if (!log_ends_cleanly(r))
		return;
	stop(r, REPLAY_STOP_END, "replayed %" PRIu64 " events, %" PRIu64 " exits; final state "
	     "matches (0x%016" PRIx64 ")", r->events, now_exits(r), hash);
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

	replay_q_consume(r);
	if (!log_ends_cleanly(r))
		return;
	stop(r, REPLAY_STOP_END, "replayed %" PRIu64 " events up to exit %" PRIu64 ", where the "
	     "recording was stopped (%s); the final state is not compared", r->events,
	     now_exits(r), vmm_stop_reason_name(reason));
	r->pending.exit_status = vmm_exit_status(reason, value);
}

static void after_step(struct replay *r, const struct vmm_event *ev)
{
	const struct replay_event *e;
	char next[256];

	if (ev->injected >= 0) {
		e = replay_q_peek(r);
		if (!e) {
			stop_for_log(r, "an injection record");
			return;
		}
		if (e->type != REPLAY_EV_INJECT || e->inject.vector != ev->injected ||
		    e->inject.exits != replay_inject_exits(ev)) {
			replay_q_describe_next(r, next, sizeof(next));
			diverge(r, "replay injected vector 0x%x after exit %" PRIu64 ", the recording "
				"has '%s'", ev->injected, replay_inject_exits(ev), next);
			return;
		}
		replay_q_consume(r);
	} else if ((e = replay_q_peek(r)) && e->type == REPLAY_EV_INJECT &&
		   e->inject.exits < replay_inject_exits(ev)) {
		diverge(r, "the recording injected vector 0x%x after exit %" PRIu64 "; replay did "
			"not", e->inject.vector, e->inject.exits);
		return;
	}
	if (replay_event_is_sync(ev)) {
		r->checksum = replay_checksum_add(r->checksum, ev);
		e = replay_q_peek(r);
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
			replay_q_consume(r);
		} else if (ev->exits % REPLAY_CHECKSUM_EVERY == 0 && (!e || e->type != REPLAY_EV_END)) {
			/* The recorder logs one here: a log without it lost events. */
			if (!e) {
				stop_for_log(r, "a checksum");
				return;
			}
			replay_q_describe_next(r, next, sizeof(next));
			diverge(r, "the recording has no checksum of exit %" PRIu64 " but '%s'",
				ev->exits, next);
		}
	}
}

static void on_hlt(struct replay *r, const struct vmm_event *ev)
{
	const struct replay_event *e;
	char next[256];

	if (!r->mops->guest_if(r->mctx) && r->mops->irq_pending(r->mctx) < 0) {
		finish(r, VMM_STOP_HALTED, 0);
		return;
	}
	/* An interrupt already pending wakes the guest at once; otherwise the
	 * recorder polled the halted guest (or was stopped there). */
	if (r->mops->irq_pending(r->mctx) >= 0)
		return;
	e = replay_q_peek(r);
	if (!e) {
		stop_for_log(r, "a poll");
		return;
	}
	if ((e->type == REPLAY_EV_POLL_SYNC && e->poll_sync.exits == ev->exits) ||
	    e->type == REPLAY_EV_END)
		return;
	replay_q_describe_next(r, next, sizeof(next));
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
	const struct replay_event *e = replay_q_peek(r);
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
			replay_q_consume(r);
			search_end(r);
			do_poll(r);
		} else if (!replay_fast_hit(r)) {
			r->stepping_over = true;
		}
		if (!user)
			return;
	}
	stop(r, REPLAY_STOP_DEBUG, "debug stop at rip 0x%" PRIx64, ev->u.debug.pc);
}

/* replay_stop_before_search: stop here, once. */
static bool stop_for_search(struct replay *r)
{
	if (!r->stop_before_search)
		return false;
	r->stop_before_search = false;
	/* A position stop like replay_stop_at's: at the finished exit, where
	 * goto's EXITS+0 is (from an unfinished IN the first step would end
	 * where the point already is, one unit late). */
	if (r->mops->finish_exit) {
		struct vmm_error err = { "" };

		if (r->mops->finish_exit(r->mctx, &err)) {
			stop(r, REPLAY_STOP_ERROR, "%s", err.msg);
			return true;
		}
	}
	stop(r, REPLAY_STOP_POSITION, "at exit %" PRIu64 ", before the search for an asynchronous "
	     "point", now_exits(r));
	return true;
}

void replay_stop_before_search(struct replay *r, bool on)
{
	r->stop_before_search = on;
}

bool replay_async_ahead(struct replay *r)
{
	const struct replay_event *e;

	if (r->searching)
		return true;
	e = replay_q_peek(r);
	return e && ((e->type == REPLAY_EV_POLL_ASYNC && e->poll_async.exits == now_exits(r)) ||
		     (e->type == REPLAY_EV_INJECT && e->inject.exits == now_exits(r)));
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
		uint64_t before;
		bool allowed;

		if (atomic_exchange(&r->interrupt, false)) {
			/* Stop at a state the replay has seen, not in a
			 * stretch that may be past the point. */
			replay_fast_abandon(r);
			stop(r, REPLAY_STOP_INTERRUPTED, "interrupted at exit %" PRIu64, now_exits(r));
			break;
		}
		if (now_exits(r) >= r->stop_at) {
			r->stop_at = UINT64_MAX;
			/* The boundary after an exit is the finished exit
			 * (vmm_finish_exit), as a checkpoint there holds it. */
			if (r->mops->finish_exit && r->mops->finish_exit(r->mctx, &err)) {
				stop(r, REPLAY_STOP_ERROR, "%s", err.msg);
				break;
			}
			stop(r, REPLAY_STOP_POSITION, "at exit %" PRIu64, now_exits(r));
			break;
		}
		e = replay_q_peek(r);
		if (!e) {
			stop_for_log(r, "its next event");
			break;
		}
		if (e->type == REPLAY_EV_POLL_SYNC || e->type == REPLAY_EV_POLL_ASYNC) {
			uint64_t at = e->type == REPLAY_EV_POLL_SYNC ? e->poll_sync.exits
								      : e->poll_async.exits;
			if (now_exits(r) > at) {
				diverge(r, "the recording polled the devices after exit %" PRIu64
					", which replay has passed%s", at,
					r->searching ? " without finding the recorded state" : "");
				break;
			}
			if (now_exits(r) == at && e->type == REPLAY_EV_POLL_SYNC) {
				replay_q_consume(r);
				do_poll(r);
				continue;
			}
			if (now_exits(r) == at && !r->searching) {
				if (stop_for_search(r))
					break;
				search_begin(r, e);
			}
		} else if (e->type == REPLAY_EV_INJECT && !r->searching) {
			/* The recording may have been kicked right after this
			 * injection: arm the search before the entry that injects. */
			const struct replay_event *after = replay_q_peek_at(r, 1);
			if (after && after->type == REPLAY_EV_POLL_ASYNC &&
			    after->poll_async.exits == now_exits(r)) {
				if (stop_for_search(r))
					break;
				search_begin(r, after);
			}
		} else if (e->type == REPLAY_EV_END && stopped_from_outside(e->end.reason) &&
			   now_exits(r) >= e->end.exits) {
			finish_cut(r, e);
			break;
		}
		/* The injection mode first: apply_debug asks whether this
		 * entry injects. */
		allowed = r->may_inject;
		r->mops->set_inject_mode(r->mctx, allowed ? VMM_INJECT_NOW_ONLY : VMM_INJECT_HOLD);
		rc = apply_debug(r);
		if (rc) {
			stop(r, REPLAY_STOP_ERROR, "KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
			break;
		}
		rc = replay_fast_before_step(r);
		if (rc) {
			stop(r, REPLAY_STOP_ERROR, "arming the kick timer: %s", strerror(-rc));
			break;
		}
		before = now_exits(r);
		rc = r->mops->step(r->mctx, &ev, &err);
		if (rc) {
			stop(r, REPLAY_STOP_ERROR, "%s", err.msg);
			break;
		}
		/* The machine's side of the bargain (vmm_step): a counted exit
		 * moves the count by one and nothing else moves it, and an
		 * interrupt goes in only on an entry the replayer let inject.
		 * Every check below compares the recording with these. */
		REPLAY_CHECK(r, ev.exits == before + replay_event_is_sync(&ev) && now_exits(r) == ev.exits,
			     "a step from exit %" PRIu64 " ended in event kind %d with exit count %"
			     PRIu64 " (the machine says %" PRIu64 ")", before, (int)ev.kind, ev.exits,
			     now_exits(r));
		REPLAY_CHECK(r, ev.injected < 0 || allowed, "vector 0x%x went in after exit %" PRIu64
			     " on an entry where the replayer held injections", ev.injected, before);
		if (replay_fast_after_step(r, &ev)) {
			if (r->fast_failed)
				stop(r, REPLAY_STOP_ERROR, "restoring the search's snapshot at exit %"
				     PRIu64 ": %s", now_exits(r), r->fast_error);
			continue;
		}
		if (ev.kind != VMM_EV_KICK)
			r->queued_vector = -1;
		else if (ev.injected >= 0)
			r->queued_vector = ev.injected;
		/* The handler breakpoint ends the debugger's step. */
		vmm_debug_step_done(&ev, r->handler_slot);
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
			r->mops->take_kick(r->mctx);
			break;
		case VMM_EV_HLT:
			on_hlt(r, &ev);
			break;
		case VMM_EV_DEBUG:
			on_debug(r, &ev);
			break;
		case VMM_EV_WRITE:
			/* A page the debugger protected: its watchpoints, not a
			 * position of the recording (not counted, not checked). */
			stop(r, REPLAY_STOP_DEBUG, "write to protected page 0x%" PRIx64,
			     ev.u.write.gpa);
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
	res->exits = now_exits(r);
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
	r->mops->kick(r->mctx);
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
