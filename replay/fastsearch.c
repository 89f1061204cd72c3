/*
 * fastsearch.c — finding an asynchronous point in fewer breakpoint hits:
 * free-run most of the way under a host timer, search only the end.
 *
 * The plain search (replayer.c) stops at every execution of the recorded
 * rip, four vCPU ioctls each: on compute, ~160 hits per timer interrupt.
 * Here, after three plain hits, the registers that change by a constant
 * step between consecutive hits (stride.c) and the registers the
 * recording logged at the point (POLL_REGS) give the number of passes
 * still to go. What was learnt is kept per rip (struct replay_fast_loop:
 * the counter register, its step, the time per pass): the next point at
 * a rip seen before reads the counter at its first hit and needs no
 * learning hits. The replayer then
 *   1. saves the machine and its own state at this hit (a snapshot, the
 *      same machinery as the debugger's checkpoints);
 *   2. free-runs with the search breakpoint off, stopped by the host kick
 *      timer after the time all but a margin of the remaining passes take
 *      at this loop's rate;
 *   3. arms the breakpoint again: its next hit tells exactly how many
 *      passes are left (the counter's value at the rip itself). Far: go
 *      to 2. Near: plain hits from here. Behind (the stretch overshot):
 *      restore the snapshot and free-run a shorter stretch (a rollback).
 * While a snapshot is held nothing the guest does may leave the machine:
 * output is muted and clock reads return the last value without taking
 * one from the log; a synchronous exit, HLT or anything else but the
 * kick or our breakpoint means the guest went past the point, and is
 * rolled back the same way before the replayer sees it. A counter that
 * stops counting (the value the point needs is reached, or passed,
 * without the fingerprint matching), repeated overshoots, or a user kick
 * roll back to the snapshot for good and the plain search goes on from
 * there: the estimate only ever chooses which hits are skipped, the full
 * fingerprint decides every injection, and whenever a skip may have gone
 * wrong the replay returns to a state it saw itself.
 *
 * Measured (tests/bench/record_replay.sh; README.md has the table): race
 * about 4 hits per point instead of 9 before the loop cache (17 plain),
 * about 30 ioctls per point instead of 50 (80 plain), compute 6 hits
 * instead of 10, 0.02-0.08 rollbacks per point; lfsr (no counter) its
 * plain 107 hits. Choices, each measured on compute and race: three
 * learning hits, not two (two left race with a third of the estimates);
 * the rate follows faster measurements at once and slower ones slowly
 * (following each measurement made 0.6 rollbacks per point under load),
 * measured in the thread's CPU time less the entry (FAST_ENTRY_NS), so that
 * a stretch the host preempted does not pass for a slow loop; the margin
 * (margin()) of the kick's jitter plus a sixth of the passes, a twelfth
 * for short stretches (3 + 1/8 of the passes left ~4 hits after the
 * stretch on race, whose passes take ~50 us and land where aimed).
 *
 * Off when the recording has no POLL_REGS (log version 1), when the
 * debugger has breakpoints, watchpoints (debug registers or write-protected
 * pages) or a step set (its stops must not be run over), on a machine
 * without snapshots (the unit tests' fake), and on request
 * (replay_options.plain_search).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay/internal.h"

/* Passes to go below which the plain hits (four vCPU ioctls each) are
 * cheaper than a snapshot (four to seven, and the page copies) and a
 * stretch. */
#define FAST_MIN_LEFT 6
/* The fewest passes worth a stretch: a stretch costs three ioctls (the
 * breakpoint off, the run, the breakpoint on) besides the hit ending it,
 * a pass skipped saves four. */
#define FAST_MIN_RUN 2.0
/* Passes further than this are not believed (a register that merely
 * moves, not a loop counter of this window). */
#define FAST_MAX_LEFT (1 << 24)
/* Stretches at one point before the hits go on alone (a loop much slower
 * than the rate measured on another may take several to learn). */
#define FAST_MAX_RUNS 16
/* Overshoots at one point before the plain search takes over. */
#define FAST_MAX_ROLLBACKS 3
/* A first guess of host time per pass before one was measured: short,
 * since undershooting costs a stretch, overshooting a rollback. */
#define FAST_GUESS_NS 1000
/* Passes a stretch must advance for its rate to be believed (a short
 * stretch is mostly its entry and kick). */
#define FAST_MIN_MEASURE 8
/* Host time from arming the kick to the guest running: the KVM_RUN entry.
 * A stretch of d ns runs about (d - FAST_ENTRY_NS) ns of passes (fitted to
 * 1,900 stretches on compute.elf here: 7.1 us; without it the short
 * stretches fell short and the rate learnt from them made the long ones
 * overshoot, 0.95 rollbacks per point instead of 0.04). */
#define FAST_ENTRY_NS 7000u
/* The kick's jitter: the last stretch aims at least this far (and half
 * a pass) short of the point (the short stretches' spread: 0.65 passes of
 * 5 us on compute, three standard deviations). */
#define FAST_JITTER_NS 10000.0
/* ... and a sixth of the passes short (the long ones' spread: 12% on a
 * loaded host), a twelfth for FAST_SHORT passes or fewer (their spread is
 * the jitter's: race.elf's stretches of 2-12 passes of ~50 us land on the
 * pass aimed at; a twelfth lets the last stretch end inside the pass that
 * reaches the point, one hit and step-over fewer: 0.4 hits per point less
 * on race, rollbacks unchanged at 0.02 per point). */
#define FAST_MARGIN_DIV 6
#define FAST_SHORT 12

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t host_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static bool user_debug_active(const struct replay *r)
{
	const struct vmm_debug *d = &r->user_dbg;

	if (d->single_step || d->sw_breakpoints)
		return true;
	for (int i = 0; i < 4; i++)
		if (d->hw[i].enabled)
			return true;
	/* Write watchpoints kept by write-protected pages (vmm/protect.c):
	 * their writes stop the guest, and a stretch would roll them back. */
	return r->vm && vmm_protected_pages(r->vm, NULL) > 0;
}

static struct replay_fast_loop *loop_slot(struct replay_fast *f, uint64_t rip)
{
	return &f->loops[(rip * 0x9e3779b97f4a7c15ull >> 32) % REPLAY_FAST_LOOPS];
}

void replay_fast_begin(struct replay *r)
{
	struct replay_fast *f = &r->fast;
	const uint64_t *target = replay_q_regs(r);
	struct replay_fast_loop *l = loop_slot(f, r->search_rip);

	f->phase = REPLAY_FAST_OFF;
	f->nobs = 0;
	f->rollbacks_here = 0;
	f->runs_here = 0;
	f->loop = l->rip == r->search_rip ? l : NULL;
	if (f->disabled || !target || !r->mops->snap_save || user_debug_active(r))
		return;
	memcpy(f->target, target, sizeof(f->target));
	f->phase = REPLAY_FAST_LEARN;
}

/* Give up the snapshot and what it held back. */
static void release(struct replay *r)
{
	struct replay_fast *f = &r->fast;

	if (!f->live)
		return;
	r->mops->snap_free(r->mctx, f->snap);
	f->snap = NULL;
	r->mops->set_mute(r->mctx, f->saved_mute);
	f->probing = false;
	f->live = false;
}

void replay_fast_end(struct replay *r)
{
	release(r);
	r->fast.phase = REPLAY_FAST_OFF;
}

void replay_fast_free(struct replay *r)
{
	replay_fast_end(r);
	free(r->fast.rstate);
	r->fast.rstate = NULL;
}

/* Host time per pass: this loop's when measured, else the last loop's. */
static double per_pass(const struct replay_fast *f)
{
	if (f->loop && f->loop->ns_per_pass > 0)
		return f->loop->ns_per_pass;
	return f->ns_per_pass > 0 ? f->ns_per_pass : FAST_GUESS_NS;
}

static void set_rate(struct replay_fast *f, double ns)
{
	f->ns_per_pass = ns;
	if (f->loop)
		f->loop->ns_per_pass = ns;
}

/*
 * A measured time per pass. The guest's speed varies with the host's load
 * and a stretch's entry and kick add time that is not passes, so that a
 * measurement is as often too slow as right; a too slow rate makes the
 * next stretch overshoot (a rollback), a too fast one costs a stretch. So
 * the rate follows a faster measurement at once and a slower one only by
 * an eighth at a time.
 */
static void note_rate(struct replay_fast *f, double ns)
{
	double was = f->loop && f->loop->ns_per_pass > 0 ? f->loop->ns_per_pass : 0;

	if (was <= 0 || ns < was)
		set_rate(f, ns);
	else
		set_rate(f, was * 1.125 < ns ? was * 1.125 : ns);
}

/* Passes a stretch leaves to the hits: the kick comes some microseconds
 * late or early (its signal, the exit), and the rate is off by some
 * percent. */
static double margin(const struct replay_fast *f, int64_t left)
{
	double m = FAST_JITTER_NS / per_pass(f);

	return (m > 0.5 ? m : 0.5) + (double)left / (left > FAST_SHORT ? FAST_MARGIN_DIV : 12.0);
}

/* How long the guest ran in the last stretch: this thread's CPU time (a
 * stretch the host preempted ran for less than the kick's delay), less
 * the entry. */
static double ran_ns(const struct replay_fast *f)
{
	uint64_t ran = f->run_cpu < f->run_took ? f->run_cpu : f->run_took;

	return ran > FAST_ENTRY_NS ? (double)(ran - FAST_ENTRY_NS) : 1;
}

/* The host took the CPU away during the stretch: its few passes say
 * nothing about the loop's speed. */
static bool preempted(const struct replay_fast *f)
{
	return f->run_took > f->run_cpu + f->run_cpu / 4 + FAST_ENTRY_NS;
}

static void start_run(struct replay *r, int64_t left)
{
	struct replay_fast *f = &r->fast;
	double goal = (double)left - margin(f, left);

	f->phase = REPLAY_FAST_RUN;
	f->runs_here++;
	f->run_goal = goal > 1 ? (uint64_t)goal : 1;
	f->run_from = left;
	f->run_ns = (uint64_t)((goal > 1 ? goal : 1) * per_pass(f)) + FAST_ENTRY_NS;
	r->stepping_over = false;
}

/* Take the snapshot at this hit; false if the machine cannot. */
static bool hold(struct replay *r)
{
	struct replay_fast *f = &r->fast;
	struct vmm_error err = { "" };
	size_t need = replay_state_size(r);
	bool was = r->stepping_over;

	if (f->rstate_len < need) {
		void *p = realloc(f->rstate, need);

		if (!p)
			return false;
		f->rstate = p;
		f->rstate_len = need;
	}
	/* Saved as "at the hit, to be stepped over": what the plain search
	 * does next from here, should it take over after a restore. */
	r->stepping_over = true;
	if (replay_state_save(r, f->rstate, need, &err)) {
		r->stepping_over = was;
		return false;
	}
	r->stepping_over = was;
	if (r->mops->snap_save(r->mctx, &f->snap, &err))
		return false;
	f->snap_exits = r->mops->exits(r->mctx);
	f->live = true;
	f->probing = true;
	f->saved_mute = r->mops->set_mute(r->mctx, UINT64_MAX);
	r->stats.snapshots++;
	return true;
}

/*
 * Back to the snapshot. shorter: the stretch overshot, try a shorter one
 * from there; otherwise (or after too many) the plain search goes on from
 * the snapshot's hit. A restore that fails leaves the machine undefined:
 * the replay stops with an error.
 */
static void rollback(struct replay *r, bool shorter, int64_t left)
{
	struct replay_fast *f = &r->fast;
	struct vmm_error err = { "" };
	int rc;

	/* Every caller holds the snapshot: a stretch runs only with one. */
	REPLAY_CHECK(r, f->live && f->snap, "a rollback with no snapshot held (phase %d)",
		     (int)f->phase);
	r->stats.rollbacks++;
	f->rollbacks_here++;
	rc = r->mops->snap_restore(r->mctx, f->snap, &err);
	if (!rc)
		rc = replay_state_restore(r, f->rstate, replay_state_size(r), &err);
	if (rc) {
		release(r);
		f->phase = REPLAY_FAST_OFF;
		r->fast_failed = rc;
		snprintf(r->fast_error, sizeof(r->fast_error), "%s", err.msg);
		return;
	}
	/* Back at the hit where the snapshot was taken, about to step over
	 * it (hold saved it so): else the plain search would go on from a
	 * state the replay never saw. */
	REPLAY_CHECK(r, r->mops->exits(r->mctx) == f->snap_exits && r->stepping_over &&
		     r->searching, "after the rollback: exit %" PRIu64 " (the snapshot's %" PRIu64
		     "), stepping over %d, searching %d", r->mops->exits(r->mctx), f->snap_exits,
		     r->stepping_over, r->searching);
	if (shorter && f->rollbacks_here < FAST_MAX_ROLLBACKS) {
		/* It ran faster than measured. A hit behind the point says
		 * by how much; an exit does not: halve then. */
		if (left < 0)
			set_rate(f, ran_ns(f) / (double)(f->run_from - left));
		else
			set_rate(f, per_pass(f) / 2);
		start_run(r, f->snap_left);
		return;
	}
	release(r);
	f->phase = REPLAY_FAST_OFF;     /* stepping_over is set by the restore */
}

/* The counter of this point's loop is known: free-run from here if the
 * passes left are worth a snapshot. */
static bool begin_runs(struct replay *r, int64_t left)
{
	struct replay_fast *f = &r->fast;

	if (left < FAST_MIN_LEFT || (double)left - margin(f, left) < FAST_MIN_RUN || !hold(r)) {
		f->phase = REPLAY_FAST_OFF;
		return false;
	}
	f->snap_left = left;
	start_run(r, left);
	return true;
}

/* The loop through rip counts in register f->reg by f->step. */
static void remember(struct replay_fast *f, uint64_t rip)
{
	struct replay_fast_loop *l = loop_slot(f, rip);

	if (l->rip != rip || l->reg != f->reg || l->step != f->step)
		*l = (struct replay_fast_loop){ rip, f->reg, f->step, 0 };
	f->loop = l;
}

bool replay_fast_hit(struct replay *r)
{
	struct replay_fast *f = &r->fast;
	struct vmm_regs regs;
	uint64_t now[REPLAY_GPRS];
	int64_t left;

	if (f->phase != REPLAY_FAST_LEARN && f->phase != REPLAY_FAST_APPROACH)
		return false;
	if (r->mops->get_regs(r->mctx, &regs)) {
		if (f->live)
			rollback(r, false, 0);
		f->phase = REPLAY_FAST_OFF;
		return f->live;
	}
	replay_stride_regs(&regs, now);
	if (f->phase == REPLAY_FAST_LEARN) {
		/* The phase ends at the REPLAY_FAST_LEARN_HITS-th hit. */
		REPLAY_CHECK(r, f->nobs < REPLAY_FAST_LEARN_HITS, "learning hit %u of %d", f->nobs + 1,
			     REPLAY_FAST_LEARN_HITS);
		memcpy(f->obs[f->nobs], now, sizeof(now));
		/* A loop seen before: its counter names the passes left at
		 * the first hit. A counter that does not fit this point
		 * (another pass of an outer loop) is learnt again. */
		if (++f->nobs == 1 && f->loop &&
		    replay_stride_remaining(now, f->target, f->loop->reg, f->loop->step, &left) &&
		    left >= 0 && left <= FAST_MAX_LEFT) {
			f->reg = f->loop->reg;
			f->step = f->loop->step;
			return begin_runs(r, left);
		}
		if (f->nobs < REPLAY_FAST_LEARN_HITS)
			return false;
		if (!replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])f->obs, f->nobs, f->target,
					 FAST_MAX_LEFT, &f->reg, &f->step, &left)) {
			f->phase = REPLAY_FAST_OFF;
			return false;
		}
		remember(f, r->search_rip);
		return begin_runs(r, left);
	}
	/* APPROACH: the counter at the rip itself says exactly where we are. */
	if (!replay_stride_remaining(now, f->target, f->reg, f->step, &left) || left <= 0) {
		/* Behind the point (an overshoot), or at the counter's value
		 * without the state (the register does not count this loop). */
		bool over = left < 0 && f->after_run;

		if (!over && f->loop)
			f->loop->rip = 0;       /* not this loop's counter after all */

		if (f->live) {
			rollback(r, over, left);
			return true;
		}
		f->phase = REPLAY_FAST_OFF;
		return false;
	}
	/* The rate: passes per ns of the timer's delay (the time the guest
	 * really ran is about that; the entry and the kick add a constant
	 * that a stretch of a few passes would take for slowness). */
	if (f->after_run && f->run_from - left >= FAST_MIN_MEASURE)
		note_rate(f, ran_ns(f) / (double)(f->run_from - left));
	else if (f->after_run && !preempted(f) && (uint64_t)(f->run_from - left) < f->run_goal / 2)
		set_rate(f, per_pass(f) * 2);   /* a slower loop than measured */
	f->after_run = false;
	if ((double)left - margin(f, left) >= FAST_MIN_RUN && f->live && f->runs_here < FAST_MAX_RUNS) {
		start_run(r, left);
		return true;
	}
	return false;
}

bool replay_fast_running(const struct replay *r)
{
	return r->fast.phase == REPLAY_FAST_RUN;
}

int replay_fast_before_step(struct replay *r)
{
	struct replay_fast *f = &r->fast;

	if (f->phase != REPLAY_FAST_RUN)
		return 0;
	/* A stretch may overshoot the point: it must have a way back. */
	REPLAY_CHECK(r, f->live, "a free-running stretch at exit %" PRIu64 " with no snapshot held",
		     r->mops->exits(r->mctx));
	f->run_cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	f->run_start = host_ns();
	r->stats.free_runs++;
	return r->mops->kick_at(r->mctx, f->run_start + f->run_ns);
}

bool replay_fast_after_step(struct replay *r, const struct vmm_event *ev)
{
	struct replay_fast *f = &r->fast;

	if (f->phase == REPLAY_FAST_RUN) {
		f->run_took = host_ns() - f->run_start;
		f->run_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - f->run_cpu0;
		(void)r->mops->kick_at(r->mctx, UINT64_MAX);
		r->mops->take_kick(r->mctx);
		if (ev->kind == VMM_EV_KICK) {
			f->phase = REPLAY_FAST_APPROACH;
			f->after_run = true;
		} else {
			/* An exit: the guest went past the point. */
			rollback(r, true, 0);
		}
		return true;
	}
	if (!f->live || ev->kind == VMM_EV_DEBUG || ev->kind == VMM_EV_KICK)
		return false;
	/* Approaching, the guest left the window without a match: the
	 * counter misled us. Back to the snapshot, plain from there. */
	rollback(r, false, 0);
	return true;
}

void replay_fast_abandon(struct replay *r)
{
	if (r->fast.live)
		rollback(r, false, 0);
	r->fast.phase = REPLAY_FAST_OFF;
}
