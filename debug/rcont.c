/*
 * rcont.c — gdb's reverse-continue (bc) on a replay, on the timeline's
 * checkpoints and moves (timeline.c).
 *
 * reverse-continue: replay the interval from the latest checkpoint
 *   before here up to here, continuing through breakpoints and noting
 *   each hit (the n-th continue, or the j-th unit after boundary E);
 *   go again to the last. No hit: the interval before, and so on; none
 *   since the start: a replaylog:begin stop at the start. A write
 *   watchpoint's hit is the write that changed the watched value, and
 *   the stop is before that write (going backwards it is undone): a
 *   continue stops after it (wp.c: the n-th write to a protected page
 *   that changed the value, a deterministic point), so one reverse step
 *   from there; a unit that changed it is noted as the point before.
 * A Ctrl-C ends it where the replay then is (SIGINT).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

/* One breakpoint hit noted on the way: the n-th continue from the
 * checkpoint, or (phase 2) the j-th raw unit after boundary E. */
struct hit {
	int phase;
	uint64_t n;
	struct gdb_stop stop;
};

static bool is_hit(const struct gdb_stop *s)
{
	return s->kind == GDB_STOP_SWBREAK || s->kind == GDB_STOP_HWBREAK ||
	       s->kind == GDB_STOP_WATCH || s->kind == GDB_STOP_AWATCH ||
	       s->kind == GDB_STOP_RWATCH;
}

/* Phase 1: continue from checkpoint i (restored) until exit E; returns the
 * number of continues made, hits noted in *last. */
static int phase1(struct debug *d, uint64_t E, uint64_t *conts, struct hit *last, bool *found,
		  struct gdb_stop *stop)
{
	struct vmm_regs r;
	int rc = debug_tl_regs(d, &r);

	*conts = 0;
	if (rc)
		return rc;
	/* The checkpoint itself on a breakpoint: a hit (the first continue
	 * steps over it without a word). */
	if (debug_bp_at(d, r.rip)) {
		*last = (struct hit){ 1, 0, { .kind = GDB_STOP_HWBREAK, .signal = GDB_SIGTRAP } };
		*found = true;
	}
	while (vmm_exits(d->vm) < E && !d->at_end) {
		d->stop_at = E;
		rc = debug_replay_resume(d, GDB_RESUME_CONTINUE, stop);
		d->stop_at = UINT64_MAX;
		++*conts;
		if (rc || debug_tl_aborted(d, stop))
			return rc;
		if (is_hit(stop) && vmm_exits(d->vm) < E + 1) {
			*last = (struct hit){ 1, *conts, *stop };
			*found = true;
		}
	}
	return 0;
}

/* Has the run reached (E, R)? Hits at it do not count (they are "here"). */
static int reached(struct debug *d, uint64_t E, const struct vmm_regs *R, bool *yes)
{
	struct vmm_regs r;
	int rc = debug_tl_regs(d, &r);

	*yes = !rc && vmm_exits(d->vm) == E && debug_tl_regs_eq(&r, R);
	return rc;
}

/* The point one raw unit before here. A write to a protected page ends
 * the unit that made it (vmm/protect.c), so from a watchpoint's stop this
 * is the point before the write. Not a reverse-stepi: that one goes back
 * one of gdb's steps, which run interrupts through. */
static int unit_back(struct debug *d, struct gdb_stop *stop)
{
	struct replay_pos p;
	int rc = debug_tl_position(d, &p);

	if (rc)
		return rc;
	if (p.steps == 0)       /* never after a write: a write is no exit */
		return debug_tl_reverse_step(d, stop);
	p.steps--;
	return debug_tl_move(d, p, stop);
}

static int reverse_continue(struct debug *d, struct gdb_stop *stop)
{
	struct vmm_regs R;
	uint64_t E = vmm_exits(d->vm);
	long i;
	int rc;

	rc = debug_tl_regs(d, &R);
	if (rc)
		return rc;
	for (i = (long)d->tl.n - 1; i >= 0; i--) {
		const struct debug_ckpt *c = &d->tl.c[i];

		if (c->exits < E || (c->exits == E && c->boundary && !debug_tl_regs_eq(&c->regs, &R)))
			break;
	}
	while (i >= 0) {
		/* A copy: the list moves as checkpoints come and go on the
		 * way; pinned, this one stays. */
		struct debug_ckpt c = d->tl.c[i];
		struct hit last = { 0 };
		bool found = false, yes = false;
		uint64_t conts = 0, j = 0;

		d->tl.pin = c.id;
		rc = debug_tl_restore(d, &c);
		if (rc)
			return rc;
		/* Phase 1: continues, up to boundary E (the point itself when
		 * here is in a later interval than c's). */
		if (c.exits < E) {
			rc = phase1(d, E, &conts, &last, &found, stop);
			if (rc || debug_tl_aborted(d, stop))
				return rc;
		}
		/* Phase 2: units from there to here, a breakpoint at rip a hit,
		 * and a unit that changed a watched value (wp.c). */
		debug_soft_snapshot(d);
		for (;;) {
			struct vmm_regs r;

			rc = reached(d, E, &R, &yes);
			if (rc || yes)
				break;
			if (vmm_exits(d->vm) > E || d->at_end) {
				snprintf(d->why, sizeof(d->why), "cannot find exit %" PRIu64
					 " rip 0x%" PRIx64 " in the replay", E, R.rip);
				return -EIO;
			}
			rc = debug_tl_regs(d, &r);
			if (rc)
				return rc;
			/* Here is never c: c was chosen strictly before it. */
			if (debug_bp_at(d, r.rip)) {
				last = (struct hit){ 2, j,
					{ .kind = GDB_STOP_HWBREAK, .signal = GDB_SIGTRAP } };
				found = true;
			}
			rc = debug_replay_step_raw(d, r.rip, stop);
			if (rc || debug_tl_aborted(d, stop))
				return rc;
			if (debug_soft_check(d, stop)) {
				last = (struct hit){ 2, j, *stop };     /* before the write */
				found = true;
			}
			j++;
		}
		if (rc)
			return rc;
		if (!found) {
			/* Nothing in [c, here): here becomes c, on to the interval before. */
			E = c.exits;
			R = c.regs;
			i = debug_tl_index(d, c.id) - 1;
			continue;
		}
		rc = debug_tl_restore(d, &c);
		if (rc)
			return rc;
		if (last.phase == 1) {
			for (uint64_t k = 0; k < last.n && !rc; k++) {
				d->stop_at = E;
				rc = debug_replay_resume(d, GDB_RESUME_CONTINUE, stop);
				d->stop_at = UINT64_MAX;
				if (!rc && debug_tl_aborted(d, stop))
					return 0;
			}
			/* A continue stops after the write that changed a watched
			 * value; going backwards the write is undone: the point
			 * before it, as rr and gdb's own recorder stop. */
			if (!rc && last.stop.kind == GDB_STOP_WATCH) {
				rc = unit_back(d, stop);
				if (rc || debug_tl_aborted(d, stop))
					return rc;
			}
		} else {
			if (c.exits < E)
				rc = phase1(d, E, &conts, &(struct hit){ 0 }, &yes, stop);
			for (uint64_t k = 0; k < last.n && !rc && !debug_tl_aborted(d, stop); k++) {
				struct vmm_regs r;

				rc = debug_tl_regs(d, &r);
				if (!rc)
					rc = debug_replay_step_raw(d, r.rip, stop);
			}
			if (!rc && debug_tl_aborted(d, stop))
				return 0;
			/* The same units from the same checkpoint as the pass
			 * that noted the hit: the same exit. */
			VMM_CHECK(d->vm, rc || vmm_exits(d->vm) == E, "the hit %" PRIu64 " units after "
				  "exit %" PRIu64 " replayed to exit %" PRIu64, last.n, E, vmm_exits(d->vm));
			if (!rc)
				debug_tl_here_is(d, (struct replay_pos){ E, last.n });
		}
		if (!rc)
			*stop = last.stop;
		return rc;
	}
	rc = debug_tl_restore(d, &d->tl.c[0]);
	if (!rc)
		debug_tl_at_begin(d, stop);
	return rc;
}

int debug_tl_reverse_continue(struct debug *d, struct gdb_stop *stop)
{
	int rc;

	if (d->failed || !d->tl.n) {
		snprintf(d->why, sizeof(d->why), "no checkpoints: cannot go back");
		return -EIO;
	}
	d->tl.busy = true;
	rc = reverse_continue(d, stop);
	d->tl.busy = false;
	d->tl.pin = 0;
	debug_tl_enforce(d);
	return rc;
}
