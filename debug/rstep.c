/*
 * rstep.c — gdb's reverse-stepi (bs) on a replay, on the timeline's
 * checkpoints and moves (timeline.c).
 *
 * reverse-stepi: the point P with stepi(P) == here. gdb's steps run the
 *   interrupts they meet through, and with them whatever other threads
 *   the guest switched to, so the step that came here may have started
 *   exits back: count gdb's steps to here from boundary E, E-1, ...
 *   (OUTER_TRIES), skipping boundaries inside a handler (interrupts
 *   off there, on here) and chains that pass by, then from boundaries
 *   further back that look like this thread's (interrupts on, the stack
 *   pointer within STACK_NEAR); at or one step after a boundary, from
 *   the boundary before (gdb's steps, else raw units). Where no chain
 *   comes here (here is inside a handler no step of the user's ran
 *   through), the raw unit before. Then go again and take one fewer.
 *   The chain's snapshots (every DEBUG_CHAIN_EVERY steps) and where the
 *   last reverse-stepi ended make the next one of a run cheap. Nothing
 *   found: an error, and the replay stays where it was.
 * A Ctrl-C ends it where the replay then is (SIGINT).
 *
 * A reverse-stepi also keeps a checkpoint at the boundaries it counted
 * from, so that the next one (reverse steps come in runs) starts there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"


void debug_tl_chain_drop(struct debug *d)
{
	for (size_t i = 0; i < d->tl.nchain; i++)
		debug_tl_ckpt_free(&d->tl.chain[i].c);
	d->tl.nchain = 0;
	d->tl.chain_valid = false;
	d->tl.rs_valid = false;
}

/* Snapshots of the chain from boundary e are kept from now on. */
static void chain_begin(struct debug *d, uint64_t e, bool raw)
{
	if (d->tl.chain_valid && d->tl.chain_e == e && d->tl.chain_raw == raw)
		return;
	debug_tl_chain_drop(d);
	d->tl.chain_valid = true;
	d->tl.chain_e = e;
	d->tl.chain_raw = raw;
}

/* At step k of the chain: keep a snapshot every DEBUG_CHAIN_EVERY steps. */
static void chain_note(struct debug *d, uint64_t k)
{
	struct debug_timeline *tl = &d->tl;

	if (!tl->chain_valid || k % DEBUG_CHAIN_EVERY || tl->nchain == DEBUG_CHAIN_MAX || d->at_end ||
	    (tl->nchain && tl->chain[tl->nchain - 1].k >= k))
		return;
	if (debug_tl_snap(d, REPLAY_POS_AT(vmm_exits(d->vm)), &tl->chain[tl->nchain].c) == 0)
		tl->chain[tl->nchain++].k = k;
}

/* Boundary e lies in an interrupt handler (interrupts off) that a step
 * of code running with interrupts on (R) ran through: gdb's steps from it
 * would stop inside the handler, where the user's step never stood. */
#define RFLAGS_IF (1ull << 9)
static bool in_handler_of(struct debug *d, const struct vmm_regs *R)
{
	struct vmm_regs r;

	return debug_tl_regs(d, &r) == 0 && !(r.rflags & RFLAGS_IF) && (R->rflags & RFLAGS_IF);
}

/*
 * From the boundary after exit e (checkpoint id), how many steps of the
 * chain reach (E, R)? *n, or -ENOENT when the chain passes by (or takes
 * more than max); -EAGAIN when outer and e is in a handler (in_handler_of).
 * Aborts (Ctrl-C) come back in *stop with 0.
 */
int debug_tl_count_steps(struct debug *d, uint64_t id, uint64_t e, uint64_t E,
		       const struct vmm_regs *R, bool raw, bool outer, uint64_t max, uint64_t *n,
		       struct gdb_stop *stop)
{
	int rc = debug_tl_to_boundary(d, id, e, stop);

	*n = 0;
	if (rc || stop->signal == GDB_SIGINT)
		return rc;
	if (outer && R && in_handler_of(d, R))
		return -EAGAIN;
	/* Reverse steps come in runs: the next ones start here. */
	if (!debug_tl_boundary_at(d, e) && !d->at_end && debug_tl_take(d) == 0 && d->verbose)
		debug_msg(d, "gdb: checkpoint at exit %" PRIu64 " for reverse steps", e);
	if (max == UINT64_MAX)
		chain_begin(d, e, raw);
	/* A step on another chain (a handler run through until this thread
	 * comes back) stops at the boundary after E. */
	d->stop_at = E + 1;
	for (;;) {
		struct vmm_regs r;

		rc = debug_tl_regs(d, &r);
		if (rc)
			break;
		if (R ? vmm_exits(d->vm) == E && debug_tl_regs_eq(&r, R) : vmm_exits(d->vm) >= E && *n)
			break;
		if (vmm_exits(d->vm) > E || d->at_end || *n >= max) {
			rc = -ENOENT;
			break;
		}
		rc = debug_tl_step(d, raw, stop);
		if (rc || debug_tl_aborted(d, stop)) {
			rc = rc ? rc : (d->last.stop == REPLAY_STOP_INTERRUPTED ? 0 : -ENOENT);
			break;
		}
		++*n;
		if (max == UINT64_MAX)
			chain_note(d, *n);
	}
	d->stop_at = UINT64_MAX;
	return rc;
}

/* To step n of the chain from boundary e: from the nearest snapshot of
 * the chain before it, or from the checkpoint id. */
static int steps_from(struct debug *d, uint64_t id, uint64_t e, bool raw, uint64_t n,
		      struct gdb_stop *stop)
{
	struct debug_timeline *tl = &d->tl;
	uint64_t k = 0;
	int rc = 0;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (tl->chain_valid && tl->chain_e == e && tl->chain_raw == raw) {
		for (size_t i = tl->nchain; i > 0; i--)
			if (tl->chain[i - 1].k <= n) {
				k = tl->chain[i - 1].k;
				rc = debug_tl_restore(d, &tl->chain[i - 1].c);
				break;
			}
	}
	if (!k)
		rc = debug_tl_to_boundary(d, id, e, stop);
	for (; !rc && stop->signal != GDB_SIGINT && k < n; k++)
		rc = debug_tl_step(d, raw, stop);
	if (!rc && !debug_tl_aborted(d, stop))
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return rc;
}


static bool at_start(struct debug *d, uint64_t E, const struct vmm_regs *R)
{
	return d->tl.n && E == d->tl.c[0].exits && debug_tl_regs_eq(R, &d->tl.c[0].regs);
}

/* Boundaries tried back from here for one outside a handler; then among
 * SCAN_BACK more, OUTER_FAR that look like R's thread (stack pointer
 * within STACK_NEAR). */
#define OUTER_TRIES 8
#define SCAN_BACK 1024
#define OUTER_FAR 16
#define STACK_NEAR 8192

/* A reverse-stepi ended at step k of the chain from boundary e. */
static int reverse_stepped(struct debug *d, uint64_t e, bool raw, uint64_t k,
			   const struct gdb_stop *stop)
{
	if (debug_tl_aborted(d, stop))
		return 0;
	if (raw)
		debug_tl_here_is(d, (struct replay_pos){ e, k });
	d->tl.rs_valid = debug_tl_regs(d, &d->tl.rs_regs) == 0;
	d->tl.rs_exits = vmm_exits(d->vm);
	d->tl.rs_n = k;
	return 0;
}

/* Step back to the step of a chain from boundary e-1 that reaches (E, R)
 * (R NULL: the step that crosses into exit E); -ENOENT if none does. The
 * pin goes back to the checkpoint of e. */
static int before_boundary(struct debug *d, uint64_t e, uint64_t E, const struct vmm_regs *R,
			   struct gdb_stop *stop)
{
	long j = debug_tl_ckpt_for_boundary(d, e - 1);
	uint64_t pin = d->tl.pin, m;
	int rc = -ENOENT;

	for (int t = 0; j >= 0 && t < 2; t++) {
		bool raw = R ? t == 1 : t == 0;

		d->tl.pin = d->tl.c[j].id;
		rc = debug_tl_count_steps(d, d->tl.pin, e - 1, E, R, raw, false, UINT64_MAX, &m, stop);
		if (!rc && stop->signal == GDB_SIGINT)
			return 0;
		if (!rc && m > 0) {
			rc = steps_from(d, d->tl.pin, e - 1, raw, m - 1, stop);
			return rc ? rc : reverse_stepped(d, e - 1, raw, m - 1, stop);
		}
		if (rc && rc != -ENOENT)
			return rc;
		rc = -ENOENT;
		j = debug_tl_ckpt_for_boundary(d, e - 1);
	}
	d->tl.pin = pin;
	return rc;
}

/* Try gdb's steps from boundary e to (E, R); *done when that settled the
 * reverse step (found, failed or interrupted). */
static int step_back_from(struct debug *d, uint64_t e, uint64_t E, const struct vmm_regs *R,
			  struct gdb_stop *stop, bool *done)
{
	long i = debug_tl_ckpt_for_boundary(d, e);
	uint64_t n;
	int rc;

	*done = false;
	if (i < 0)
		return -ENOENT;
	d->tl.pin = d->tl.c[i].id;
	rc = debug_tl_count_steps(d, d->tl.pin, e, E, R, false, true, UINT64_MAX, &n, stop);
	if (!rc && stop->signal == GDB_SIGINT) {
		*done = true;
		return 0;
	}
	if (rc && rc != -ENOENT && rc != -EAGAIN) {
		*done = true;
		return rc;
	}
	if (!rc && n <= 1 && e > 0) {
		/* Here is boundary e or one step after it. No step of
		 * this host stops at a boundary (a step over an exiting
		 * instruction ends after the next one): the step that
		 * came here started before it, on a chain from e-1 (gdb's
		 * steps, else raw units, which also enter a thread an
		 * interrupt switched to). At the boundary itself, the
		 * step before is the exiting instruction. */
		rc = before_boundary(d, e, E, n ? R : NULL, stop);
		*done = rc != -ENOENT || n == 0;
		if (*done)
			return rc;
		rc = debug_tl_count_steps(d, d->tl.pin, e, E, R, false, false, UINT64_MAX, &n, stop);
		if (rc || stop->signal == GDB_SIGINT) {
			*done = true;
			return rc;
		}
	}
	if (!rc && n > 0) {
		*done = true;
		rc = steps_from(d, d->tl.pin, e, false, n - 1, stop);
		return rc ? rc : reverse_stepped(d, e, false, n - 1, stop);
	}
	return -ENOENT;
}

/* The boundaries E-1 back to E-SCAN_BACK where a step of R's thread may
 * have started: interrupts on, the stack pointer near R's (threads have
 * stacks of their own), latest first, at most max. One forward replay. */
static size_t same_thread_boundaries(struct debug *d, uint64_t E, const struct vmm_regs *R,
				     uint64_t *out, size_t max)
{
	uint64_t from = E > SCAN_BACK ? E - SCAN_BACK : 0, *cand;
	long i = debug_tl_ckpt_for_boundary(d, from);
	struct gdb_stop stop;
	size_t n = 0, k = 0;

	if (i < 0 || E < 2 || !(cand = calloc(SCAN_BACK + 1, sizeof(*cand))))
		return 0;
	if (debug_tl_to_boundary(d, d->tl.c[i].id, from, &stop) == 0) {
		for (uint64_t e = from; e < E - 1; e++) {
			struct vmm_regs r;

			if (e > from && (debug_tl_run_plain(d, e, &stop) || stop.signal == GDB_SIGINT))
				break;
			if (debug_tl_regs(d, &r))
				break;
			if ((r.rflags & RFLAGS_IF) && r.rsp + STACK_NEAR > R->rsp &&
			    r.rsp < R->rsp + STACK_NEAR)
				cand[n++] = e;
		}
	}
	while (n > 0 && k < max)
		out[k++] = cand[--n];
	free(cand);
	return k;
}

static int reverse_step(struct debug *d, struct gdb_stop *stop)
{
	struct vmm_regs R;
	uint64_t E = vmm_exits(d->vm), n;
	int rc;

	rc = debug_tl_regs(d, &R);
	if (rc)
		return rc;
	if (at_start(d, E, &R)) {
		rc = debug_tl_restore(d, &d->tl.c[0]);
		if (!rc)
			debug_tl_at_begin(d, stop);
		return rc;
	}
	/* The step before the last reverse-stepi's end: one fewer on its chain
	 * (not the boundary the chain starts from: see before_boundary). */
	if (d->tl.rs_valid && d->tl.rs_exits == E && debug_tl_regs_eq(&R, &d->tl.rs_regs) &&
	    d->tl.rs_n > 1) {
		uint64_t e = d->tl.chain_e, k = d->tl.rs_n - 1;
		bool raw = d->tl.chain_raw;
		long i = debug_tl_ckpt_for_boundary(d, e);

		if (i >= 0) {
			d->tl.pin = d->tl.c[i].id;
			rc = steps_from(d, d->tl.pin, e, raw, k, stop);
			return rc ? rc : reverse_stepped(d, e, raw, k, stop);
		}
	}
	/*
	 * gdb's steps from boundary E, or from an earlier one: a step runs
	 * the interrupts on its way through, and with them whatever else the
	 * guest ran before it came back (its other threads), so the step that
	 * ended here may have started many exits back. Boundaries inside a
	 * handler (in_handler_of) or on another chain (it passes by) are
	 * skipped. Then, where no chain comes here (here is inside a handler
	 * that no step of the user's ran through), raw units from E or E-1.
	 */
	for (uint64_t e = E; E - e < OUTER_TRIES; e--) {
		bool done;

		rc = step_back_from(d, e, E, &R, stop, &done);
		if (done)
			return rc;
		if (e == 0)
			break;
	}
	/* Further back, only where R's thread may have been. */
	if (E >= OUTER_TRIES) {
		uint64_t cand[OUTER_FAR];
		size_t nc = same_thread_boundaries(d, E - OUTER_TRIES + 1, &R, cand, OUTER_FAR);

		for (size_t k = 0; k < nc; k++) {
			bool done;

			rc = step_back_from(d, cand[k], E, &R, stop, &done);
			if (done)
				return rc;
		}
	}
	for (int pass = 1; pass < 3; pass++) {
		uint64_t e = pass == 2 ? (E ? E - 1 : 0) : E;
		long i = debug_tl_ckpt_for_boundary(d, e);

		if (i < 0 || (pass == 2 && E == 0))
			break;
		d->tl.pin = d->tl.c[i].id;
		rc = debug_tl_count_steps(d, d->tl.pin, e, E, &R, true, false, UINT64_MAX, &n, stop);
		if (rc == -ENOENT)
			continue;
		if (rc || stop->signal == GDB_SIGINT)
			return rc;
		if (n == 0)
			continue;       /* here is boundary e: the step before is earlier */
		rc = steps_from(d, d->tl.pin, e, true, n - 1, stop);
		return rc ? rc : reverse_stepped(d, e, true, n - 1, stop);
	}
	snprintf(d->why, sizeof(d->why), "cannot find the point before exit %" PRIu64
		 " rip 0x%" PRIx64 " in the replay", E, R.rip);
	return -EIO;
}



int debug_tl_reverse_step(struct debug *d, struct gdb_stop *stop)
{
	struct debug_ckpt back;
	int rc = 0;

	if (d->failed || !d->tl.n) {
		snprintf(d->why, sizeof(d->why), "no checkpoints: cannot go back");
		return -EIO;
	}
	d->tl.busy = true;
	/* To stay where it was when nothing is found (or a failure on the
	 * way): a snapshot, or at the end of the recording its position. */
	if (d->at_end)
		back = (struct debug_ckpt){ .pos = REPLAY_POS_AT(vmm_exits(d->vm)) };
	else
		rc = debug_tl_snap(d, REPLAY_POS_AT(vmm_exits(d->vm)), &back);
	if (!rc) {
		rc = reverse_step(d, stop);
		if (rc && !d->failed) {
			struct gdb_stop st;

			if ((back.snap ? debug_tl_restore(d, &back) : debug_tl_move(d, back.pos, &st)) == 0)
				*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL,
							   .signal = GDB_SIGTRAP };
		}
		debug_tl_ckpt_free(&back);
	}
	d->tl.busy = false;
	d->tl.pin = 0;
	debug_tl_enforce(d);
	return rc;
}
