/*
 * timeline.c — checkpoints of a replay and time travel on them: `monitor
 * checkpoints|checkpoint|goto|position`, `rrvm replay --goto`, pt-diff's
 * visits, and gdb's reverse-stepi (bs) and reverse-continue (bc), after
 * rr's ReplayTimeline.
 *
 * A checkpoint is a machine snapshot (pages in one content-addressed page
 * store, so pages equal across checkpoints are held once) plus the
 * replayer's state. The forward replay for gdb takes one automatically
 * every DEBUG_CKPT_SPACING exits (replay.c's run() stops there by
 * position); the start of the recording is the first.
 *
 * Positions (replay.h): EXITS[+STEPS], the boundary right after exit
 * EXITS (where replay_stop_at stops) and STEPS raw units after it
 * (debug_replay_step_raw: an instruction, an interrupt's entry, a HLT to
 * its exit). Totally ordered, printed by replay_pos_format only (monitor
 * position/checkpoints/goto, pt-diff, --goto, the replay's divergence
 * messages; the trace database's position column is the EXITS). A point
 * the user stops at is named lazily: count the raw units from its
 * boundary's checkpoint (debug_tl_position, cached for the state it was
 * computed at). No step of this host stops at a boundary itself: a step
 * over an exiting instruction ends after the next instruction, so a
 * boundary is reached only by goto or a stop by position.
 *
 *   reverse-stepi: the point P with stepi(P) == here. gdb's steps run the
 *     interrupts they meet through, and with them whatever other threads
 *     the guest switched to, so the step that came here may have started
 *     exits back: count gdb's steps to here from boundary E, E-1, ...
 *     (OUTER_TRIES), skipping boundaries inside a handler (interrupts
 *     off there, on here) and chains that pass by, then from boundaries
 *     further back that look like this thread's (interrupts on, the stack
 *     pointer within STACK_NEAR); at or one step after a boundary, from
 *     the boundary before (gdb's steps, else raw units). Where no chain
 *     comes here (here is inside a handler no step of the user's ran
 *     through), the raw unit before. Then go again and take one fewer.
 *     The chain's snapshots (every DEBUG_CHAIN_EVERY steps) and where the
 *     last reverse-stepi ended make the next one of a run cheap. Nothing
 *     found: an error, and the replay stays where it was.
 *   reverse-continue: replay the interval from the latest checkpoint
 *     before here up to here, continuing through breakpoints and noting
 *     each hit (the n-th continue, or the j-th unit after boundary E);
 *     go again to the last. No hit: the interval before, and so on; none
 *     since the start: a replaylog:begin stop at the start. A write
 *     watchpoint's hit is the write that changed the watched value, and
 *     the stop is before that write (going backwards it is undone): a
 *     continue stops after it (wp.c: the n-th write to a protected page
 *     that changed the value, a deterministic point), so one reverse step
 *     from there; a unit that changed it is noted as the point before.
 *   goto P: from the latest checkpoint at or before P (or from here when
 *     that is nearer), replay to boundary EXITS, then STEPS raw units. On
 *     any failure (P past the end, steps that do not exist, a truncated
 *     recording) back to where it was (a snapshot taken first).
 * A Ctrl-C ends any of these where the replay then is (SIGINT).
 *
 * A reverse-stepi also keeps a checkpoint at the boundaries it counted
 * from, so that the next one (reverse steps come in runs) starts there.
 *
 * Memory: the timeline holds the page store (pages and index) and each
 * checkpoint's own bytes (snapshot state, its part of the page maps,
 * replayer state), debug_tl_bytes(). Past --checkpoint-memory
 * (DEBUG_CHECKPOINT_MEMORY_DEFAULT, 512 MiB: race.elf's whole replay
 * takes about 1.2 MiB, paging.elf's 2.7 MiB; a guest that rewrites its
 * RAM fast fills it in a few hundred checkpoints) checkpoints are given up
 * by tlpolicy.c: the one whose neighbours' gap is smallest relative to its
 * distance from here, which keeps them dense near here and geometrically
 * thinner away (O(log L), as rr keeps them); never the start, nor the one
 * a reverse operation works from (pinned). A page goes with the last
 * snapshot that references it (the store counts references). What the
 * machine's current base map holds is counted too, so a limit below the
 * start plus the latest checkpoint cannot be met: said once.
 *
 * Spacing, measured on race.elf (about 1500 exits, 0.6 ms of replay per
 * exit; a checkpoint is an incremental snapshot, about 0.1 ms, and 13-16
 * KiB of replayer state): every 10 exits, 151 checkpoints hold 2.2 MB of
 * pages and 2.4 MB of state, reverse-stepi near the end 2 ms; every 50, 31
 * hold 0.65 + 0.49 MB, 3 ms; every 200, 8 hold 0.23 + 0.12 MB, 10 ms; no
 * automatic ones, 2.2-2.6 s (a replay from the start). The forward replay
 * under gdb costs the same in all four (within the noise). 50 it is.
 * tests/bench/reverse_bench.sh measures the rest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

/* A reverse-continue notes at most this many hits per interval (the last
 * ones are what it needs: a ring). */
#define HITS_MAX 1024

static bool regs_eq(const struct vmm_regs *a, const struct vmm_regs *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int get_regs(struct debug *d, struct vmm_regs *r)
{
	int rc = vmm_get_regs(d->vm, r);

	return rc ? (rc < 0 ? rc : -EIO) : 0;
}

static void ckpt_free(struct debug_ckpt *c)
{
	vmm_snapshot_free(c->snap);
	free(c->rstate);
	c->snap = NULL;
	c->rstate = NULL;
}

static void chain_drop(struct debug *d);

void debug_tl_free(struct debug *d)
{
	struct debug_timeline *tl = &d->tl;

	for (size_t i = 0; i < tl->n; i++)
		ckpt_free(&tl->c[i]);
	chain_drop(d);
	free(tl->c);
	if (tl->ps)
		vmm_pagestore_free(tl->ps);
	memset(tl, 0, sizeof(*tl));
}

static long idx_of(struct debug *d, uint64_t id)
{
	for (size_t i = 0; i < d->tl.n; i++)
		if (d->tl.c[i].id == id)
			return (long)i;
	return -1;
}

uint64_t debug_tl_bytes(struct debug *d)
{
	struct vmm_pagestore_stats st;
	uint64_t sum = 0;

	if (!d->tl.ps)
		return 0;
	vmm_pagestore_stats(d->tl.ps, &st);
	for (size_t i = 0; i < d->tl.n; i++)
		sum += d->tl.c[i].cost;
	return st.bytes + sum;
}

/* Give up checkpoints (tlpolicy.c) until the timeline fits its limit. The
 * start and the one a reverse operation works from stay. */
static void enforce(struct debug *d)
{
	struct debug_timeline *tl = &d->tl;

	while (tl->limit && tl->n > 1 && debug_tl_bytes(d) > tl->limit) {
		uint64_t *ex = malloc(tl->n * sizeof(*ex));
		bool *keep = malloc(tl->n * sizeof(*keep));
		long v = -1;

		if (ex && keep) {
			for (size_t i = 0; i < tl->n; i++) {
				ex[i] = tl->c[i].exits;
				keep[i] = i == 0 || (tl->pin && tl->c[i].id == tl->pin);
			}
			v = debug_tl_victim(ex, keep, tl->n, vmm_exits(d->vm));
		}
		free(ex);
		free(keep);
		if (v < 0) {
			if (!tl->told_limit)
				debug_msg(d, "gdb: --checkpoint-memory %" PRIu64 " is less than the start "
					  "and the checkpoint in use hold (%" PRIu64 " bytes)", tl->limit,
					  debug_tl_bytes(d));
			tl->told_limit = true;
			return;
		}
		if (d->verbose)
			debug_msg(d, "gdb: checkpoint at exit %" PRIu64 " given up (memory limit)",
				  tl->c[v].exits);
		ckpt_free(&tl->c[v]);
		memmove(&tl->c[v], &tl->c[v + 1], (tl->n - (size_t)v - 1) * sizeof(*tl->c));
		tl->n--;
		tl->evicted++;
	}
}

/* A snapshot of the machine and the replayer as they are now, at pos. */
static int snap_here(struct debug *d, struct replay_pos pos, struct debug_ckpt *c)
{
	struct vmm_error err = { "" };
	struct vmm_snapshot_info in;
	char ps[REPLAY_POS_STRLEN];
	int rc;

	*c = (struct debug_ckpt){ .exits = pos.exits, .boundary = pos.steps == 0, .pos = pos };
	/* After the end record the replayer wants no more events: a replay
	 * from there could not go on (the end is reached from before it). */
	if (d->at_end)
		return -ERANGE;
	rc = get_regs(d, &c->regs);
	if (rc)
		return rc;
	c->rstate_len = replay_state_size(d->r);
	c->rstate = malloc(c->rstate_len);
	if (!c->rstate)
		return -ENOMEM;
	rc = replay_state_save(d->r, c->rstate, c->rstate_len, &err);
	if (!rc)
		rc = vmm_snapshot_save(d->vm, d->tl.ps, &c->snap, &err);
	if (rc) {
		debug_msg(d, "gdb: cannot take a checkpoint at position %s: %s",
			  replay_pos_format(pos, ps), err.msg[0] ? err.msg : strerror(-rc));
		ckpt_free(c);
		return rc;
	}
	vmm_snapshot_info(c->snap, &in);
	c->cost = in.state_bytes + c->rstate_len;
	c->id = ++d->tl.next_id;
	return 0;
}

/* A checkpoint of the machine as it is now, at pos, into the list. */
static int take_at(struct debug *d, struct replay_pos pos)
{
	struct debug_timeline *tl = &d->tl;
	struct debug_ckpt c;
	size_t at;
	int rc;

	if (!tl->ps)
		return -EINVAL;
	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 16;
		struct debug_ckpt *nc = realloc(tl->c, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		tl->c = nc;
		tl->cap = cap;
	}
	rc = snap_here(d, pos, &c);
	if (rc)
		return rc;
	for (at = tl->n; at > 0; at--)
		if (replay_pos_cmp(tl->c[at - 1].pos, pos) <= 0)
			break;
	memmove(&tl->c[at + 1], &tl->c[at], (tl->n - at) * sizeof(*tl->c));
	tl->c[at] = c;
	tl->n++;
	enforce(d);
	return 0;
}

/* A boundary checkpoint here (the replay stands right after its exit). */
static int take(struct debug *d)
{
	return take_at(d, REPLAY_POS_AT(vmm_exits(d->vm)));
}

int debug_tl_init(struct debug *d)
{
	int rc = vmm_pagestore_new(&d->tl.ps);

	if (rc)
		return rc;
	d->tl.spacing = DEBUG_CKPT_SPACING;
	d->tl.limit = d->ckpt_limit ? d->ckpt_limit : DEBUG_CKPT_MEMORY_DEFAULT;
	return take(d);
}

/* The boundary checkpoint at exits, if any. */
static const struct debug_ckpt *boundary_at(struct debug *d, uint64_t exits)
{
	for (size_t i = 0; i < d->tl.n; i++)
		if (d->tl.c[i].exits == exits && d->tl.c[i].boundary)
			return &d->tl.c[i];
	return NULL;
}

uint64_t debug_tl_next_auto(struct debug *d)
{
	uint64_t sp = d->tl.spacing, e = vmm_exits(d->vm);

	if (!sp || !d->tl.ps)
		return UINT64_MAX;
	return (e / sp + 1) * sp;
}

void debug_tl_auto(struct debug *d)
{
	if (boundary_at(d, vmm_exits(d->vm)))
		return;
	if (take(d) && !d->tl.told_full) {
		d->tl.told_full = true;
		debug_msg(d, "gdb: automatic checkpoints stop here");
		d->tl.spacing = 0;
	}
}

/* Put the machine and the replayer back to checkpoint c. */
static int restore(struct debug *d, const struct debug_ckpt *c)
{
	struct vmm_error err = { "" };
	int rc;

	/* What the replay prints up to the furthest point reached was printed. */
	if (vmm_exits(d->vm) > d->tl.high)
		d->tl.high = vmm_exits(d->vm);
	vmm_mute_output_below(d->vm, d->tl.high);
	rc = vmm_snapshot_restore(d->vm, c->snap, NULL, &err);

	if (!rc)
		rc = replay_state_restore(d->r, c->rstate, c->rstate_len, &err);
	if (rc) {
		snprintf(d->why, sizeof(d->why), "restoring the checkpoint at exit %" PRIu64 ": %s",
			 c->exits, err.msg[0] ? err.msg : strerror(-rc));
		debug_msg(d, "gdb: %s", d->why);
		d->failed = true;
		return rc;
	}
	d->at_end = false;
	return 0;
}

/* The latest checkpoint from which the boundary after exit e is reached by
 * running forward (index), or -1. */
static long ckpt_for_boundary(struct debug *d, uint64_t e)
{
	for (size_t i = d->tl.n; i > 0; i--) {
		const struct debug_ckpt *c = &d->tl.c[i - 1];

		if (c->exits < e || (c->exits == e && c->boundary))
			return (long)(i - 1);
	}
	return -1;
}

/* The latest checkpoint at or before position p (index), or -1. */
static long ckpt_before(struct debug *d, struct replay_pos p)
{
	for (size_t i = d->tl.n; i > 0; i--)
		if (replay_pos_cmp(d->tl.c[i - 1].pos, p) <= 0)
			return (long)(i - 1);
	return -1;
}

/* A stop that ends the walk: Ctrl-C, a failure. (The end of the recording
 * does not: the last exit is a point like any other.) */
static bool stop_is_abort(struct debug *d, const struct gdb_stop *stop)
{
	return d->last.stop == REPLAY_STOP_INTERRUPTED || stop->kind == GDB_STOP_KILLED;
}

/* Run from here to the boundary after exit e, breakpoints off. */
static int run_plain(struct debug *d, uint64_t e, struct gdb_stop *stop)
{
	struct vmm_debug none = { 0 };
	int rc;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	rc = replay_set_debug(d->r, &none);
	if (rc)
		return rc;
	/* Automatic checkpoints on the way, as in a forward continue. */
	for (;;) {
		uint64_t ck = debug_tl_next_auto(d);

		replay_stop_at(d->r, ck < e ? ck : e);
		atomic_store(&d->running, true);
		rc = replay_run(d->r, &d->last);
		atomic_store(&d->running, false);
		if (rc)
			return -EIO;
		d->have_result = true;
		if (d->last.stop == REPLAY_STOP_DEBUG && debug_wp_event(&d->last.ev))
			continue;       /* a write to a watched page: on */
		if (d->last.stop != REPLAY_STOP_POSITION || vmm_exits(d->vm) != ck)
			break;
		debug_tl_auto(d);
		if (ck >= e)
			break;
	}
	if ((d->last.stop == REPLAY_STOP_POSITION || d->last.stop == REPLAY_STOP_END ||
	     d->last.stop == REPLAY_STOP_TRUNCATED) && vmm_exits(d->vm) == e) {
		/* The recording's last exit ends it: that is its boundary. */
		d->at_end = d->last.stop != REPLAY_STOP_POSITION;
		return 0;
	}
	if (d->last.stop == REPLAY_STOP_INTERRUPTED) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
		return 0;
	}
	snprintf(d->why, sizeof(d->why), "the replay did not reach exit %" PRIu64 ": %.180s", e,
		 d->last.msg);
	if (d->last.stop == REPLAY_STOP_END || d->last.stop == REPLAY_STOP_TRUNCATED)
		d->at_end = true;
	return -EIO;
}

/* From checkpoint id to the boundary after exit e, breakpoints off. */
static int to_boundary(struct debug *d, uint64_t id, uint64_t e, struct gdb_stop *stop)
{
	long i = idx_of(d, id);
	struct debug_ckpt c;
	int rc;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (i < 0)
		return -ENOENT;
	c = d->tl.c[i];
	rc = restore(d, &c);
	if (rc || c.exits == e)
		return rc;
	return run_plain(d, e, stop);
}

/* One step of the chain: gdb's stepi (raw: one unit), over breakpoints. */
static int chain_step(struct debug *d, bool raw, struct gdb_stop *stop)
{
	struct vmm_regs r;
	int rc = get_regs(d, &r);

	if (rc)
		return rc;
	return raw ? debug_replay_step_raw(d, r.rip, stop) : debug_replay_step(d, r.rip, stop);
}

static void chain_drop(struct debug *d)
{
	for (size_t i = 0; i < d->tl.nchain; i++)
		ckpt_free(&d->tl.chain[i].c);
	d->tl.nchain = 0;
	d->tl.chain_valid = false;
	d->tl.rs_valid = false;
}

/* Snapshots of the chain from boundary e are kept from now on. */
static void chain_begin(struct debug *d, uint64_t e, bool raw)
{
	if (d->tl.chain_valid && d->tl.chain_e == e && d->tl.chain_raw == raw)
		return;
	chain_drop(d);
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
	if (snap_here(d, REPLAY_POS_AT(vmm_exits(d->vm)), &tl->chain[tl->nchain].c) == 0)
		tl->chain[tl->nchain++].k = k;
}

/* Boundary e lies in an interrupt handler (interrupts off) that a step
 * of code running with interrupts on (R) ran through: gdb's steps from it
 * would stop inside the handler, where the user's step never stood. */
#define RFLAGS_IF (1ull << 9)
static bool in_handler_of(struct debug *d, const struct vmm_regs *R)
{
	struct vmm_regs r;

	return get_regs(d, &r) == 0 && !(r.rflags & RFLAGS_IF) && (R->rflags & RFLAGS_IF);
}

/*
 * From the boundary after exit e (checkpoint id), how many steps of the
 * chain reach (E, R)? *n, or -ENOENT when the chain passes by (or takes
 * more than max); -EAGAIN when outer and e is in a handler (in_handler_of).
 * Aborts (Ctrl-C) come back in *stop with 0.
 */
static int count_steps(struct debug *d, uint64_t id, uint64_t e, uint64_t E,
		       const struct vmm_regs *R, bool raw, bool outer, uint64_t max, uint64_t *n,
		       struct gdb_stop *stop)
{
	int rc = to_boundary(d, id, e, stop);

	*n = 0;
	if (rc || stop->signal == GDB_SIGINT)
		return rc;
	if (outer && R && in_handler_of(d, R))
		return -EAGAIN;
	/* Reverse steps come in runs: the next ones start here. */
	if (!boundary_at(d, e) && !d->at_end && take(d) == 0 && d->verbose)
		debug_msg(d, "gdb: checkpoint at exit %" PRIu64 " for reverse steps", e);
	if (max == UINT64_MAX)
		chain_begin(d, e, raw);
	/* A step on another chain (a handler run through until this thread
	 * comes back) stops at the boundary after E. */
	d->stop_at = E + 1;
	for (;;) {
		struct vmm_regs r;

		rc = get_regs(d, &r);
		if (rc)
			break;
		if (R ? vmm_exits(d->vm) == E && regs_eq(&r, R) : vmm_exits(d->vm) >= E && *n)
			break;
		if (vmm_exits(d->vm) > E || d->at_end || *n >= max) {
			rc = -ENOENT;
			break;
		}
		rc = chain_step(d, raw, stop);
		if (rc || stop_is_abort(d, stop)) {
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
				rc = restore(d, &tl->chain[i - 1].c);
				break;
			}
	}
	if (!k)
		rc = to_boundary(d, id, e, stop);
	for (; !rc && stop->signal != GDB_SIGINT && k < n; k++)
		rc = chain_step(d, raw, stop);
	if (!rc && !stop_is_abort(d, stop))
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return rc;
}

/* Remember that the replay stands at position p (its state now). */
static void here_is(struct debug *d, struct replay_pos p)
{
	d->tl.here_valid = get_regs(d, &d->tl.here_regs) == 0;
	d->tl.here_exits = vmm_exits(d->vm);
	d->tl.here = p;
}

static void at_begin(struct debug *d, struct gdb_stop *stop)
{
	*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_BEGIN, .signal = GDB_SIGTRAP };
	if (!d->quiet)
		debug_msg(d, "gdb: the start of the recording: no more reverse-execution history");
}

static bool at_start(struct debug *d, uint64_t E, const struct vmm_regs *R)
{
	return d->tl.n && E == d->tl.c[0].exits && regs_eq(R, &d->tl.c[0].regs);
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
	if (stop_is_abort(d, stop))
		return 0;
	if (raw)
		here_is(d, (struct replay_pos){ e, k });
	d->tl.rs_valid = get_regs(d, &d->tl.rs_regs) == 0;
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
	long j = ckpt_for_boundary(d, e - 1);
	uint64_t pin = d->tl.pin, m;
	int rc = -ENOENT;

	for (int t = 0; j >= 0 && t < 2; t++) {
		bool raw = R ? t == 1 : t == 0;

		d->tl.pin = d->tl.c[j].id;
		rc = count_steps(d, d->tl.pin, e - 1, E, R, raw, false, UINT64_MAX, &m, stop);
		if (!rc && stop->signal == GDB_SIGINT)
			return 0;
		if (!rc && m > 0) {
			rc = steps_from(d, d->tl.pin, e - 1, raw, m - 1, stop);
			return rc ? rc : reverse_stepped(d, e - 1, raw, m - 1, stop);
		}
		if (rc && rc != -ENOENT)
			return rc;
		rc = -ENOENT;
		j = ckpt_for_boundary(d, e - 1);
	}
	d->tl.pin = pin;
	return rc;
}

/* Try gdb's steps from boundary e to (E, R); *done when that settled the
 * reverse step (found, failed or interrupted). */
static int step_back_from(struct debug *d, uint64_t e, uint64_t E, const struct vmm_regs *R,
			  struct gdb_stop *stop, bool *done)
{
	long i = ckpt_for_boundary(d, e);
	uint64_t n;
	int rc;

	*done = false;
	if (i < 0)
		return -ENOENT;
	d->tl.pin = d->tl.c[i].id;
	rc = count_steps(d, d->tl.pin, e, E, R, false, true, UINT64_MAX, &n, stop);
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
		rc = count_steps(d, d->tl.pin, e, E, R, false, false, UINT64_MAX, &n, stop);
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
	long i = ckpt_for_boundary(d, from);
	struct gdb_stop stop;
	size_t n = 0, k = 0;

	if (i < 0 || E < 2 || !(cand = calloc(SCAN_BACK + 1, sizeof(*cand))))
		return 0;
	if (to_boundary(d, d->tl.c[i].id, from, &stop) == 0) {
		for (uint64_t e = from; e < E - 1; e++) {
			struct vmm_regs r;

			if (e > from && (run_plain(d, e, &stop) || stop.signal == GDB_SIGINT))
				break;
			if (get_regs(d, &r))
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

	rc = get_regs(d, &R);
	if (rc)
		return rc;
	if (at_start(d, E, &R)) {
		rc = restore(d, &d->tl.c[0]);
		if (!rc)
			at_begin(d, stop);
		return rc;
	}
	/* The step before the last reverse-stepi's end: one fewer on its chain
	 * (not the boundary the chain starts from: see before_boundary). */
	if (d->tl.rs_valid && d->tl.rs_exits == E && regs_eq(&R, &d->tl.rs_regs) &&
	    d->tl.rs_n > 1) {
		uint64_t e = d->tl.chain_e, k = d->tl.rs_n - 1;
		bool raw = d->tl.chain_raw;
		long i = ckpt_for_boundary(d, e);

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
		long i = ckpt_for_boundary(d, e);

		if (i < 0 || (pass == 2 && E == 0))
			break;
		d->tl.pin = d->tl.c[i].id;
		rc = count_steps(d, d->tl.pin, e, E, &R, true, false, UINT64_MAX, &n, stop);
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

static int go(struct debug *d, struct replay_pos to, struct gdb_stop *stop);

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
		rc = snap_here(d, REPLAY_POS_AT(vmm_exits(d->vm)), &back);
	if (!rc) {
		rc = reverse_step(d, stop);
		if (rc && !d->failed) {
			struct gdb_stop st;

			if ((back.snap ? restore(d, &back) : go(d, back.pos, &st)) == 0)
				*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL,
							   .signal = GDB_SIGTRAP };
		}
		ckpt_free(&back);
	}
	d->tl.busy = false;
	d->tl.pin = 0;
	enforce(d);
	return rc;
}

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
	int rc = get_regs(d, &r);

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
		if (rc || stop_is_abort(d, stop))
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
	int rc = get_regs(d, &r);

	*yes = !rc && vmm_exits(d->vm) == E && regs_eq(&r, R);
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
	return go(d, p, stop);
}

static int reverse_continue(struct debug *d, struct gdb_stop *stop)
{
	struct vmm_regs R;
	uint64_t E = vmm_exits(d->vm);
	long i;
	int rc;

	rc = get_regs(d, &R);
	if (rc)
		return rc;
	for (i = (long)d->tl.n - 1; i >= 0; i--) {
		const struct debug_ckpt *c = &d->tl.c[i];

		if (c->exits < E || (c->exits == E && c->boundary && !regs_eq(&c->regs, &R)))
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
		rc = restore(d, &c);
		if (rc)
			return rc;
		/* Phase 1: continues, up to boundary E (the point itself when
		 * here is in a later interval than c's). */
		if (c.exits < E) {
			rc = phase1(d, E, &conts, &last, &found, stop);
			if (rc || stop_is_abort(d, stop))
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
			rc = get_regs(d, &r);
			if (rc)
				return rc;
			/* Here is never c: c was chosen strictly before it. */
			if (debug_bp_at(d, r.rip)) {
				last = (struct hit){ 2, j,
					{ .kind = GDB_STOP_HWBREAK, .signal = GDB_SIGTRAP } };
				found = true;
			}
			rc = debug_replay_step_raw(d, r.rip, stop);
			if (rc || stop_is_abort(d, stop))
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
			i = idx_of(d, c.id) - 1;
			continue;
		}
		rc = restore(d, &c);
		if (rc)
			return rc;
		if (last.phase == 1) {
			for (uint64_t k = 0; k < last.n && !rc; k++) {
				d->stop_at = E;
				rc = debug_replay_resume(d, GDB_RESUME_CONTINUE, stop);
				d->stop_at = UINT64_MAX;
				if (!rc && stop_is_abort(d, stop))
					return 0;
			}
			/* A continue stops after the write that changed a watched
			 * value; going backwards the write is undone: the point
			 * before it, as rr and gdb's own recorder stop. */
			if (!rc && last.stop.kind == GDB_STOP_WATCH) {
				rc = unit_back(d, stop);
				if (rc || stop_is_abort(d, stop))
					return rc;
			}
		} else {
			if (c.exits < E)
				rc = phase1(d, E, &conts, &(struct hit){ 0 }, &yes, stop);
			for (uint64_t k = 0; k < last.n && !rc && !stop_is_abort(d, stop); k++) {
				struct vmm_regs r;

				rc = get_regs(d, &r);
				if (!rc)
					rc = debug_replay_step_raw(d, r.rip, stop);
			}
			if (!rc && stop_is_abort(d, stop))
				return 0;
			if (!rc)
				here_is(d, (struct replay_pos){ E, last.n });
		}
		if (!rc)
			*stop = last.stop;
		return rc;
	}
	rc = restore(d, &d->tl.c[0]);
	if (!rc)
		at_begin(d, stop);
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
	enforce(d);
	return rc;
}

/* ---- positions and goto ------------------------------------------------------ */

/* Raw units counted to name a position before giving up (a loop without
 * exits: about 10-20 s of stepping here). */
#define POSITION_STEPS_MAX 1000000

int debug_tl_position(struct debug *d, struct replay_pos *p)
{
	struct vmm_regs R;
	struct gdb_stop stop;
	uint64_t E = vmm_exits(d->vm), n;
	long i;
	int rc = get_regs(d, &R);

	if (rc)
		return rc;
	if (d->tl.here_valid && d->tl.here_exits == E && regs_eq(&R, &d->tl.here_regs)) {
		*p = d->tl.here;
		return 0;
	}
	/* Right after a stop by position (a goto, the end, the start). */
	if (d->at_end || vmm_exits(d->vm) == 0 ||
	    (d->have_result && d->last.stop == REPLAY_STOP_POSITION && d->last.exits == E)) {
		const struct debug_ckpt *b = boundary_at(d, E);

		if (d->at_end || !b || regs_eq(&b->regs, &R)) {
			*p = REPLAY_POS_AT(E);
			here_is(d, *p);
			return 0;
		}
	}
	if (d->failed)
		return -EIO;
	i = ckpt_for_boundary(d, E);
	if (i < 0)
		return -ENOENT;
	d->tl.pin = d->tl.c[i].id;
	rc = count_steps(d, d->tl.pin, E, E, &R, true, false, POSITION_STEPS_MAX, &n, &stop);
	d->tl.pin = 0;
	if (!rc && stop.signal == GDB_SIGINT)
		rc = -EINTR;
	if (rc)
		return rc;
	*p = (struct replay_pos){ E, n };
	here_is(d, *p);
	return 0;
}

int debug_tl_mark(struct debug *d, struct debug_ckpt *c)
{
	struct replay_pos p;
	int rc = debug_tl_position(d, &p);

	if (rc)
		return rc;
	if (d->at_end) {
		*c = (struct debug_ckpt){ .exits = p.exits, .boundary = true, .pos = p };
		return 0;
	}
	return snap_here(d, p, c);
}

void debug_tl_unmark(struct debug_ckpt *c)
{
	ckpt_free(c);
}

int debug_tl_return(struct debug *d, struct debug_ckpt *c)
{
	struct gdb_stop stop;
	int rc = c->snap ? restore(d, c) : go(d, c->pos, &stop);

	if (!rc)
		here_is(d, c->pos);
	debug_stopped(d);
	return rc;
}

/* Go to position `to` (in the recording); -ENOENT when there is no such
 * unit after the boundary (d->why says why). */
static int go(struct debug *d, struct replay_pos to, struct gdb_stop *stop)
{
	long i = ckpt_before(d, to);
	uint64_t k = to.steps;
	int rc;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	/* Forward from here when that is nearer than any checkpoint. */
	if (vmm_exits(d->vm) < to.exits && !d->at_end &&
	    (i < 0 || d->tl.c[i].exits <= vmm_exits(d->vm))) {
		rc = run_plain(d, to.exits, stop);
	} else if (i >= 0) {
		struct debug_ckpt c = d->tl.c[i];

		d->tl.pin = c.id;
		rc = restore(d, &c);
		if (!rc && c.exits < to.exits)
			rc = run_plain(d, to.exits, stop);
		else
			k = to.steps - c.pos.steps;
	} else {
		rc = -ENOENT;
	}
	uint64_t n;

	for (n = 0; !rc && stop->signal != GDB_SIGINT && n < k; n++) {
		char ps[REPLAY_POS_STRLEN];

		if (d->at_end) {
			snprintf(d->why, sizeof(d->why), "position %s does not exist: the recording "
				 "ends at exit %" PRIu64, replay_pos_format(to, ps), to.exits);
			rc = -ERANGE;
			break;
		}
		rc = chain_step(d, true, stop);
		if (!rc && stop_is_abort(d, stop) && stop->signal != GDB_SIGINT)
			rc = -EIO;
		if (!rc && vmm_exits(d->vm) != to.exits) {
			snprintf(d->why, sizeof(d->why), "position %s does not exist: unit %" PRIu64
				 " after exit %" PRIu64 " already reaches exit %" PRIu64,
				 replay_pos_format(to, ps), to.steps - k + n + 1, to.exits,
				 vmm_exits(d->vm));
			rc = -ERANGE;
		}
	}
	d->tl.pin = 0;
	if (!rc && stop->signal != GDB_SIGINT && vmm_exits(d->vm) == to.exits)
		here_is(d, to);
	else if (!rc && n > 0 && vmm_exits(d->vm) == to.exits)
		here_is(d, (struct replay_pos){ to.exits, to.steps - k + n - 1 });	/* Ctrl-C */
	return rc;
}

int debug_tl_go(struct debug *d, const char *arg, struct introspect_out *o)
{
	const struct replay_manifest *m = replay_manifest(d->r);
	char ps[REPLAY_POS_STRLEN], es[REPLAY_POS_STRLEN];
	struct replay_pos to, now;
	struct debug_ckpt back;
	struct gdb_stop stop;
	int rc;

	if (replay_pos_parse(arg, &to)) {
		introspect_printf(o, "'%s' is not a position: want EXITS or EXITS+STEPS "
				  "(0 to %" PRIu64 ", as 'monitor position' prints)\n", arg, m->exits);
		return -EINVAL;
	}
	replay_pos_format(to, ps);
	replay_pos_format(REPLAY_POS_AT(m->exits), es);
	/* A recording cut short ("running") does not say where it ends: the
	 * replay finds out. */
	if (strcmp(m->result, "running") &&
	    (to.exits > m->exits || (to.exits == m->exits && to.steps))) {
		introspect_printf(o, "position %s is past the end of the recording (it ends at "
				  "exit %s)\n", ps, es);
		return -ERANGE;
	}
	if (d->failed) {
		introspect_printf(o, "the replay cannot go on\n");
		return -EIO;
	}
	d->why[0] = 0;
	rc = debug_tl_mark(d, &back);
	if (rc) {
		introspect_printf(o, "could not go to position %s: cannot note where the replay is "
				  "(%s)\n", ps, d->why[0] ? d->why : strerror(-rc));
		d->why[0] = 0;
		return rc;
	}
	if (to.steps >= DEBUG_GOTO_NOTE_STEPS)
		introspect_printf(o, "going to position %s: %" PRIu64 " units to step after exit %"
				  PRIu64 " at most (Ctrl-C stops it)\n", ps, to.steps, to.exits);
	debug_monitor_watch(d, true);
	rc = go(d, to, &stop);
	debug_monitor_watch(d, false);
	debug_stopped(d);
	if (!rc && stop.signal == GDB_SIGINT) {
		debug_tl_unmark(&back);
		return -EINTR;
	}
	if (!rc && (vmm_exits(d->vm) != to.exits || debug_tl_position(d, &now) ||
		    replay_pos_cmp(now, to)))
		rc = -EIO;
	if (rc) {
		introspect_printf(o, "could not go to position %s: %s\n", ps,
				  d->why[0] ? d->why : (rc == -EIO ? d->last.msg : strerror(-rc)));
		d->why[0] = 0;
		if (!d->failed && debug_tl_return(d, &back) == 0)
			introspect_printf(o, "still at position %s\n",
					  replay_pos_format(back.pos, ps));
		debug_tl_unmark(&back);
		return rc;
	}
	debug_tl_unmark(&back);
	return 0;
}

/* ---- monitor ---------------------------------------------------------------- */

int debug_tl_list(struct debug *d, struct introspect_out *o)
{
	struct vmm_pagestore_stats st;
	uint64_t state = 0;

	if (!d->tl.ps) {
		introspect_printf(o, "no checkpoints\n");
		return 0;
	}
	introspect_printf(o, "%zu checkpoints (automatic every %" PRIu64 " exits)\n", d->tl.n,
			  d->tl.spacing);
	for (size_t i = 0; i < d->tl.n; i++) {
		struct vmm_snapshot_info in;
		char ps[REPLAY_POS_STRLEN];

		vmm_snapshot_info(d->tl.c[i].snap, &in);
		state += d->tl.c[i].cost;
		introspect_printf(o, "  position %s rip 0x%" PRIx64 ": %" PRIu64
				  " pages stored by it, %" PRIu64 " held by it alone, %" PRIu64
				  " bytes of state\n", replay_pos_format(d->tl.c[i].pos, ps),
				  d->tl.c[i].regs.rip, in.pages_read, in.pages_unique,
				  in.state_bytes + d->tl.c[i].rstate_len);
	}
	vmm_pagestore_stats(d->tl.ps, &st);
	introspect_printf(o, "page store: %" PRIu64 " distinct pages, %" PRIu64 " bytes; "
			  "%" PRIu64 " bytes of state; %" PRIu64 " of %" PRIu64
			  " pages offered were already held\n", st.pages, st.bytes, state,
			  st.dedup_hits, st.puts);
	introspect_printf(o, "memory: %" PRIu64 " of %" PRIu64 " bytes (--checkpoint-memory); "
			  "%" PRIu64 " checkpoints given up for it\n", debug_tl_bytes(d),
			  d->tl.limit, d->tl.evicted);
	return 0;
}

int debug_tl_take_cmd(struct debug *d, struct introspect_out *o)
{
	char ps[REPLAY_POS_STRLEN];
	struct replay_pos p;
	int rc;

	if (d->failed || d->at_end) {
		introspect_printf(o, "%s: no checkpoint here\n", d->failed ? "the replay cannot go on"
				  : "the end of the recording");
		return d->failed ? -EIO : -ERANGE;
	}
	rc = debug_tl_position(d, &p);
	if (rc) {
		introspect_printf(o, "cannot tell the position here: %s\n",
				  d->why[0] ? d->why : strerror(-rc));
		return rc;
	}
	rc = take_at(d, p);
	if (!rc)
		introspect_printf(o, "checkpoint at position %s\n", replay_pos_format(p, ps));
	return rc;
}

int debug_tl_goto(struct debug *d, const char *arg, struct introspect_out *o)
{
	char ps[REPLAY_POS_STRLEN];
	struct replay_pos p;
	int rc;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	rc = debug_tl_go(d, arg, o);
	if (rc == -EINTR) {
		debug_monitor_goto_interrupted(d, arg, o);
		return 0;
	}
	if (!rc && debug_tl_position(d, &p) == 0)
		introspect_printf(o, "at position %s (gdb: 'maint flush register-cache' to see it)\n",
				  replay_pos_format(p, ps));
	return rc;
}
