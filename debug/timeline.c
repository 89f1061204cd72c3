/*
 * timeline.c — checkpoints of a replay and positions on them: `monitor
 * checkpoints|checkpoint|goto|position`, `rrvm replay --goto`, pt-diff's
 * visits, and the moves that gdb's reverse-stepi (rstep.c) and
 * reverse-continue (rcont.c) are made of, after rr's ReplayTimeline.
 *
 * A checkpoint is a machine snapshot (pages in one content-addressed page
 * store, so pages equal across checkpoints are held once) plus the
 * replayer's state. The forward replay for gdb takes one automatically
 * every DEBUG_CKPT_SPACING exits (replay.c's run() stops there by
 * position); the start of the recording is the first.
 *
 * Positions (replay.h): EXITS[+STEPS], the boundary right after exit
 * EXITS (where replay_stop_at stops, with the exit finished:
 * vmm_finish_exit) and STEPS raw units after it (debug_replay_step_raw:
 * an instruction, an interrupt's entry, a HLT to its exit). Totally
 * ordered, printed by replay_pos_format only (monitor position/
 * checkpoints/goto, pt-diff, --goto, the replay's divergence messages,
 * the trace database's pos column, which debug/units.c counts). A point
 * the user stops at is named lazily: count the raw units from its
 * boundary's checkpoint (debug_tl_position, cached for the state it was
 * computed at). No step of this host stops at a boundary itself: a step
 * over an exiting instruction ends after the next instruction, so a
 * boundary is reached only by goto or a stop by position.
 *
 *   goto P: from the latest checkpoint at or before P (or from here when
 *     that is nearer), replay to boundary EXITS, then STEPS raw units. On
 *     any failure (P past the end, steps that do not exist, a truncated
 *     recording) back to where it was (a snapshot taken first).
 * A Ctrl-C ends any of these where the replay then is (SIGINT).
 *
 * Memory: the timeline holds the page store (pages and index), each
 * checkpoint's own bytes (snapshot state, its part of the page maps,
 * replayer state) and reverse-stepi's chains and index (rstep.c),
 * debug_tl_bytes(). Past --checkpoint-memory
 * (DEBUG_CHECKPOINT_MEMORY_DEFAULT, 512 MiB: race.elf's whole replay
 * takes about 1.2 MiB, paging.elf's 2.7 MiB; a guest that rewrites its
 * RAM fast fills it in a few hundred checkpoints) the chains' snapshots
 * go first (outside a reverse operation, which walks them), then
 * checkpoints are given up by tlpolicy.c: the one whose neighbours' gap is smallest relative to its
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

int debug_tl_regs(struct debug *d, struct vmm_regs *r)
{
	int rc = vmm_get_regs(d->vm, r);

	return rc ? (rc < 0 ? rc : -EIO) : 0;
}

void debug_tl_ckpt_free(struct debug_ckpt *c)
{
	vmm_snapshot_free(c->snap);
	free(c->rstate);
	c->snap = NULL;
	c->rstate = NULL;
}

void debug_tl_free(struct debug *d)
{
	struct debug_timeline *tl = &d->tl;

	for (size_t i = 0; i < tl->n; i++)
		debug_tl_ckpt_free(&tl->c[i]);
	debug_tl_chain_drop(d);
	free(tl->c);
	if (tl->ps)
		vmm_pagestore_free(tl->ps);
	memset(tl, 0, sizeof(*tl));
}

long debug_tl_index(struct debug *d, uint64_t id)
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
	return st.bytes + sum + debug_tl_chain_bytes(d);
}

/* Give up checkpoints (tlpolicy.c) until the timeline fits its limit. The
 * start and the one a reverse operation works from stay. */
void debug_tl_enforce(struct debug *d)
{
	struct debug_timeline *tl = &d->tl;

	/* Reverse-stepi's chains go first: they only make the next steps
	 * of a run cheaper, and are walked again when needed. */
	if (tl->limit && !tl->busy && debug_tl_bytes(d) > tl->limit && debug_tl_chain_release(d) &&
	    d->verbose)
		debug_msg(d, "gdb: reverse-stepi's snapshots given up (memory limit)");
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
			/* The start and the pinned one are what a replay from
			 * the beginning and the reverse operation stand on. */
			VMM_CHECK(d->vm, v < (long)tl->n && (v < 0 || !keep[v]), "checkpoint %ld of %zu "
				  "chosen to give up, which must stay (pinned id %" PRIu64 ")", v, tl->n,
				  tl->pin);
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
		debug_tl_ckpt_free(&tl->c[v]);
		memmove(&tl->c[v], &tl->c[v + 1], (tl->n - (size_t)v - 1) * sizeof(*tl->c));
		tl->n--;
		tl->evicted++;
	}
}

/* A snapshot of the machine and the replayer as they are now, at pos. */
int debug_tl_snap(struct debug *d, struct replay_pos pos, struct debug_ckpt *c)
{
	struct vmm_error err = { "" };
	struct vmm_snapshot_info in;
	char ps[REPLAY_POS_STRLEN];
	int rc;

	*c = (struct debug_ckpt){ .exits = pos.exits, .boundary = pos.steps == 0, .pos = pos };
	/* Every checkpoint is found by its position, and restoring it must
	 * put the machine there. */
	VMM_CHECK(d->vm, pos.exits == vmm_exits(d->vm), "a checkpoint named position %" PRIu64 "+%"
		  PRIu64 " taken at exit %" PRIu64, pos.exits, pos.steps, vmm_exits(d->vm));
	/* After the end record the replayer wants no more events: a replay
	 * from there could not go on (the end is reached from before it). */
	if (d->at_end)
		return -ERANGE;
	rc = debug_tl_regs(d, &c->regs);
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
		debug_tl_ckpt_free(c);
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
	rc = debug_tl_snap(d, pos, &c);
	if (rc)
		return rc;
	for (at = tl->n; at > 0; at--)
		if (replay_pos_cmp(tl->c[at - 1].pos, pos) <= 0)
			break;
	memmove(&tl->c[at + 1], &tl->c[at], (tl->n - at) * sizeof(*tl->c));
	tl->c[at] = c;
	tl->n++;
	debug_tl_enforce(d);
	return 0;
}

/* A boundary checkpoint here (the replay stands right after its exit). */
int debug_tl_take(struct debug *d)
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
	/* The indexer's unit counting goes forward only, and the replay's
	 * observer is the indexer's. */
	if (!d->units_only && (rc = debug_tl_watch(d)))
		return rc;
	return debug_tl_take(d);
}

/* The boundary checkpoint at exits, if any. */
const struct debug_ckpt *debug_tl_boundary_at(struct debug *d, uint64_t exits)
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
	if (debug_tl_boundary_at(d, vmm_exits(d->vm)))
		return;
	if (debug_tl_take(d) && !d->tl.told_full) {
		d->tl.told_full = true;
		debug_msg(d, "gdb: automatic checkpoints stop here");
		d->tl.spacing = 0;
	}
}

/* Put the machine and the replayer back to checkpoint c. */
int debug_tl_restore(struct debug *d, const struct debug_ckpt *c)
{
	struct vmm_error err = { "" };
	struct vmm_regs now;
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
	/* The machine stands where the checkpoint was taken: its exit count
	 * and its registers (read then and now; the reverse-stepi index
	 * wants them anyway). */
	rc = debug_tl_regs(d, &now);
	VMM_CHECK(d->vm, vmm_exits(d->vm) == c->exits && (rc || debug_tl_regs_eq(&now, &c->regs)),
		  "the checkpoint of exit %" PRIu64 " (rip 0x%" PRIx64 " rsp 0x%" PRIx64 ") restored "
		  "to exit %" PRIu64 " rip 0x%" PRIx64 " rsp 0x%" PRIx64, c->exits, c->regs.rip,
		  c->regs.rsp, vmm_exits(d->vm), rc ? 0 : now.rip, rc ? 0 : now.rsp);
	d->at_end = false;
	debug_tl_restored(d, rc ? NULL : &now);
	return 0;
}

/* The latest checkpoint from which the boundary after exit e is reached by
 * running forward (index), or -1. */
long debug_tl_ckpt_for_boundary(struct debug *d, uint64_t e)
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
bool debug_tl_aborted(struct debug *d, const struct gdb_stop *stop)
{
	return d->last.stop == REPLAY_STOP_INTERRUPTED || stop->kind == GDB_STOP_KILLED;
}

/* Run from here to the boundary after exit e, breakpoints off. */
int debug_tl_run_plain(struct debug *d, uint64_t e, struct gdb_stop *stop)
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
int debug_tl_to_boundary(struct debug *d, uint64_t id, uint64_t e, struct gdb_stop *stop)
{
	long i = debug_tl_index(d, id);
	struct debug_ckpt c;
	int rc;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (i < 0)
		return -ENOENT;
	c = d->tl.c[i];
	rc = debug_tl_restore(d, &c);
	if (rc || c.exits == e)
		return rc;
	return debug_tl_run_plain(d, e, stop);
}

/* One step of the chain: gdb's stepi (raw: one unit), over breakpoints. */
int debug_tl_step(struct debug *d, bool raw, struct gdb_stop *stop)
{
	struct vmm_regs r;
	int rc = debug_tl_regs(d, &r);

	if (rc)
		return rc;
	return raw ? debug_replay_step_raw(d, r.rip, stop) : debug_replay_step(d, r.rip, stop);
}
/* Remember that the replay stands at position p (its state now). */
void debug_tl_here_is(struct debug *d, struct replay_pos p)
{
	d->tl.here_valid = debug_tl_regs(d, &d->tl.here_regs) == 0;
	d->tl.here_exits = vmm_exits(d->vm);
	d->tl.here = p;
}

void debug_tl_at_begin(struct debug *d, struct gdb_stop *stop)
{
	*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_BEGIN, .signal = GDB_SIGTRAP };
	if (!d->quiet)
		debug_msg(d, "gdb: the start of the recording: no more reverse-execution history");
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
	int rc = debug_tl_regs(d, &R);

	if (rc)
		return rc;
	if (d->tl.here_valid && d->tl.here_exits == E && debug_tl_regs_eq(&R, &d->tl.here_regs)) {
		*p = d->tl.here;
		return 0;
	}
	/* Right after a stop by position (a goto, the end, the start). */
	if (d->at_end || vmm_exits(d->vm) == 0 ||
	    (d->have_result && d->last.stop == REPLAY_STOP_POSITION && d->last.exits == E)) {
		const struct debug_ckpt *b = debug_tl_boundary_at(d, E);

		if (d->at_end || !b || debug_tl_regs_eq(&b->regs, &R)) {
			*p = REPLAY_POS_AT(E);
			debug_tl_here_is(d, *p);
			return 0;
		}
	}
	if (d->failed)
		return -EIO;
	rc = debug_tl_count_units(d, E, &R, POSITION_STEPS_MAX, &n, &stop);
	if (!rc && stop.signal == GDB_SIGINT)
		rc = -EINTR;
	if (rc)
		return rc;
	*p = (struct replay_pos){ E, n };
	debug_tl_here_is(d, *p);
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
	return debug_tl_snap(d, p, c);
}

void debug_tl_unmark(struct debug_ckpt *c)
{
	debug_tl_ckpt_free(c);
}

int debug_tl_return(struct debug *d, struct debug_ckpt *c)
{
	struct gdb_stop stop;
	int rc = c->snap ? debug_tl_restore(d, c) : debug_tl_move(d, c->pos, &stop);

	if (!rc)
		debug_tl_here_is(d, c->pos);
	debug_stopped(d);
	return rc;
}

/* Go to position `to` (in the recording); -ENOENT when there is no such
 * unit after the boundary (d->why says why). */
int debug_tl_move(struct debug *d, struct replay_pos to, struct gdb_stop *stop)
{
	long i = ckpt_before(d, to);
	uint64_t k = to.steps, n;
	int rc;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	/* Forward from here when that is nearer than any checkpoint. */
	if (vmm_exits(d->vm) < to.exits && !d->at_end &&
	    (i < 0 || d->tl.c[i].exits <= vmm_exits(d->vm))) {
		rc = debug_tl_run_plain(d, to.exits, stop);
	} else if (i >= 0) {
		struct debug_ckpt c = d->tl.c[i];

		d->tl.pin = c.id;
		rc = debug_tl_restore(d, &c);
		if (!rc && c.exits < to.exits)
			rc = debug_tl_run_plain(d, to.exits, stop);
		else
			k = to.steps - c.pos.steps;
	} else {
		rc = -ENOENT;
	}
	for (n = 0; !rc && stop->signal != GDB_SIGINT && n < k; n++) {
		char ps[REPLAY_POS_STRLEN];

		if (d->at_end) {
			snprintf(d->why, sizeof(d->why), "position %s does not exist: the recording "
				 "ends at exit %" PRIu64, replay_pos_format(to, ps), to.exits);
			rc = -ERANGE;
			break;
		}
		rc = debug_tl_step(d, true, stop);
		if (!rc && debug_tl_aborted(d, stop) && stop->signal != GDB_SIGINT)
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
		debug_tl_here_is(d, to);
	else if (!rc && n > 0 && vmm_exits(d->vm) == to.exits)
		debug_tl_here_is(d, (struct replay_pos){ to.exits, to.steps - k + n - 1 });	/* Ctrl-C */
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
	rc = debug_tl_move(d, to, &stop);
	debug_monitor_watch(d, false);
	debug_stopped(d);
	if (!rc && stop.signal == GDB_SIGINT) {
		debug_tl_unmark(&back);
		return -EINTR;
	}
	/* A move that succeeded and was not interrupted stands at exit
	 * to.exits and noted the position (debug_tl_here_is). */
	if (!rc) {
		rc = debug_tl_position(d, &now);
		VMM_CHECK(d->vm, vmm_exits(d->vm) == to.exits && (rc || replay_pos_cmp(now, to) == 0),
			  "goto %s arrived at exit %" PRIu64 ", position %s", ps, vmm_exits(d->vm),
			  rc ? "unknown" : replay_pos_format(now, es));
	}
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
