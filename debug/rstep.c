/*
 * rstep.c — gdb's reverse-stepi (bs) on a replay: the point P whose stepi
 * comes here, found exactly, on the timeline's checkpoints and moves
 * (timeline.c).
 *
 * A stepi on a replay (replay.c) executes one instruction of the stepped
 * code; where the recording injected an interrupt at that point the
 * handler runs first, and with it whatever other guest threads it
 * switched to, until the stepped code is back at that instruction, which
 * is then executed (up to STEP_HANDLER_MAX injections in a row). So a
 * user stepping forward stands at P, before the injection, and lands at X
 * after P's instruction. The inverse, exact rather than searched for:
 *   - P' = the raw unit before X. X is at position (E, k), counted in raw
 *     units from boundary E; P' is (E, k-1), or for X at or one unit
 *     after its boundary the unit of E-1 that crosses into exit E (a
 *     step over an exiting instruction ends after the next one on this
 *     host: nothing but a HLT's unit lands on a boundary). Deterministic.
 *   - Was P' the return of a handler injected at P? The handler gave
 *     the interrupted code its registers back, so P has P''s registers.
 *     The replay's injections are indexed as the replay makes them (an
 *     observer: the exit count, and the hash of the registers after the
 *     step before, which a poll does not change). The latest ones before
 *     P' with P''s hash are candidates; walking the raw units of the
 *     candidate's exit interval gives the injection's position. A
 *     candidate Q is taken only if a forward stepi from Q reaches X
 *     exactly (exit count and registers): that check, not a likeness,
 *     decides. Then again from Q (injections back to back at one point:
 *     the step from the first runs them all).
 *   - Otherwise P' is the answer: also where X is a handler's first
 *     instruction, which no stepi of the user's lands on.
 * The search this replaced counted gdb's steps from boundaries that
 * looked like the stepped thread's (interrupts on, the stack near); where
 * a chain through P' came here it took P', the point after the handler,
 * and the next reverse-stepi went into the handler: 1000 steps back and
 * forth landed elsewhere in about one run of four (tests/data/rstep-race,
 * 7th hit of account_transfer_fast, is one), and some took minutes.
 *
 * Cost: the walk that names X's position (once per exit interval: the
 * walks keep a snapshot every DEBUG_CHAIN_EVERY units, DEBUG_CHAINS
 * intervals at a time), a restore and at most DEBUG_CHAIN_EVERY units to
 * reach P', an index lookup; a candidate adds a walk of its interval and
 * one forward stepi. Where the step ends is remembered as a position, so
 * the next reverse-stepi of a run counts nothing. Nothing found or a
 * failure on the way: an error, and the replay stays where it was. A
 * Ctrl-C ends it where the replay then is (SIGINT).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"
#include "replay/replay.h"

/* Candidate injections tried for one point, latest first. */
#define RSTEP_TRIES 4
/* Injections back to back at one point that one stepi runs through
 * (replay.c's STEP_HANDLER_MAX). */
#define RSTEP_NEST 64

/* The registers before an injection, as the index and the chains keep them. */
static uint64_t key_of(const struct vmm_regs *r)
{
	return replay_fp_regs(r);
}

/* ---- the index of injections ------------------------------------------------ */

static void inj_note(struct debug *d, uint64_t exits, uint64_t key)
{
	struct debug_timeline *tl = &d->tl;
	size_t at = tl->ninj;

	/* Replays of the same stretch make the same injections again. */
	while (at > 0 && tl->inj[at - 1].exits > exits)
		at--;
	for (size_t i = at; i > 0 && tl->inj[i - 1].exits == exits; i--)
		if (tl->inj[i - 1].key == key)
			return;
	if (tl->ninj == tl->capinj) {
		size_t cap = tl->capinj ? tl->capinj * 2 : 256;
		struct debug_inj *n = realloc(tl->inj, cap * sizeof(*n));

		if (!n)
			return;         /* reverse-stepi then takes the point after its handler */
		tl->inj = n;
		tl->capinj = cap;
	}
	memmove(&tl->inj[at + 1], &tl->inj[at], (tl->ninj - at) * sizeof(*tl->inj));
	tl->inj[at] = (struct debug_inj){ exits, key };
	tl->ninj++;
}

/* Every machine step of the replay: the registers before an injection
 * are those after the step before it (a poll changes no register), with
 * its exit finished (vmm_finish_exit): an injection right after a port IN
 * comes from the boundary that holds the IN's value and rip past it,
 * which is what reverse-stepi compares with. */
static void on_step(void *ctx, struct vmm *vm, const struct vmm_event *ev)
{
	struct debug *d = ctx;
	struct vmm_error err = { "" };
	struct vmm_regs r;

	if (ev->injected >= 0 && d->tl.obs_valid)
		inj_note(d, replay_inject_exits(ev), d->tl.obs_key);
	d->tl.obs_valid = vmm_finish_exit(vm, &err) == 0 && vmm_get_regs(vm, &r) == 0;
	if (d->tl.obs_valid)
		d->tl.obs_key = key_of(&r);
}

int debug_tl_watch(struct debug *d)
{
	int rc = replay_set_observer(d->r, &(struct replay_observer){ .ctx = d, .on_step = on_step });

	if (!rc)
		debug_tl_restored(d, NULL);
	return rc;
}

void debug_tl_restored(struct debug *d, const struct vmm_regs *r)
{
	struct vmm_regs now;

	d->tl.obs_valid = r || vmm_get_regs(d->vm, &now) == 0;
	d->tl.obs_key = key_of(r ? r : &now);
}

/* ---- chains: raw units from a boundary --------------------------------------- */

static void chain_free(struct debug_chain *c)
{
	for (size_t i = 0; i < c->nsnap; i++)
		debug_tl_ckpt_free(&c->snap[i].c);
	memset(c, 0, sizeof(*c));
}

uint64_t debug_tl_chain_bytes(const struct debug *d)
{
	uint64_t sum = d->tl.capinj * sizeof(*d->tl.inj);

	if (d->tl.chains)
		for (size_t i = 0; i < DEBUG_CHAINS; i++)
			for (size_t j = 0; j < d->tl.chains[i].nsnap; j++)
				sum += d->tl.chains[i].snap[j].c.cost;
	return sum;
}

bool debug_tl_chain_release(struct debug *d)
{
	bool held = false;

	if (d->tl.chains)
		for (size_t i = 0; i < DEBUG_CHAINS; i++) {
			held |= d->tl.chains[i].valid;
			chain_free(&d->tl.chains[i]);
		}
	return held;
}

void debug_tl_chain_drop(struct debug *d)
{
	if (d->tl.chains)
		for (size_t i = 0; i < DEBUG_CHAINS; i++)
			chain_free(&d->tl.chains[i]);
	free(d->tl.chains);
	d->tl.chains = NULL;
	free(d->tl.inj);
	d->tl.inj = NULL;
	d->tl.ninj = d->tl.capinj = 0;
}

/* The chain from boundary e: the one kept, or the least recently used
 * one given up for it. */
static struct debug_chain *chain_of(struct debug *d, uint64_t e)
{
	struct debug_chain *c = NULL;

	if (!d->tl.chains && !(d->tl.chains = calloc(DEBUG_CHAINS, sizeof(*d->tl.chains))))
		return NULL;
	for (size_t i = 0; i < DEBUG_CHAINS; i++) {
		struct debug_chain *x = &d->tl.chains[i];

		if (x->valid && x->e == e) {
			c = x;
			break;
		}
		if (!c || !x->valid || (c->valid && x->stamp < c->stamp))
			c = x;
	}
	if (!c->valid || c->e != e) {
		chain_free(c);
		c->valid = true;
		c->e = e;
	}
	c->stamp = ++d->tl.chain_clock;
	return c;
}

static void chain_snap(struct debug *d, struct debug_chain *c, uint64_t k)
{
	if (k == 0 || k % DEBUG_CHAIN_EVERY || c->nsnap == DEBUG_CHAIN_MAX || d->at_end ||
	    (c->nsnap && c->snap[c->nsnap - 1].k >= k))
		return;
	if (debug_tl_snap(d, (struct replay_pos){ c->e, k }, &c->snap[c->nsnap].c) == 0)
		c->snap[c->nsnap++].k = k;
}

/* To the boundary after exit e (its unit 0), from the latest checkpoint
 * that reaches it; one is kept there for the walks that follow. */
static int chain_start(struct debug *d, uint64_t e, struct gdb_stop *stop)
{
	long i = debug_tl_ckpt_for_boundary(d, e);
	int rc;

	if (i < 0) {
		snprintf(d->why, sizeof(d->why), "no checkpoint before exit %" PRIu64, e);
		return -ENOENT;
	}
	d->tl.pin = d->tl.c[i].id;
	rc = debug_tl_to_boundary(d, d->tl.pin, e, stop);
	if (!rc && stop->signal != GDB_SIGINT && !debug_tl_boundary_at(d, e) && !d->at_end &&
	    debug_tl_take(d) == 0 && d->verbose)
		debug_msg(d, "gdb: checkpoint at exit %" PRIu64 " for reverse steps", e);
	return rc;
}

static bool is_sigint(const struct gdb_stop *stop)
{
	return stop->kind == GDB_STOP_SIGNAL && stop->signal == GDB_SIGINT;
}

/* What a walk looks for. */
struct goal {
	uint64_t k;                     /* unit k (UINT64_MAX: not this) */
	const struct vmm_regs *R;       /* the point (e, R) */
	bool cross;                     /* the unit that crosses into exit e+1 */
	bool inj;                       /* an injection with registers hashing to key */
	uint64_t key;
	uint64_t max;                   /* give up after so many units */
};

/*
 * Walk the raw units from boundary e to the goal, noting snapshots and
 * injections on the way: from the boundary for a point by its registers
 * (the first unit with them names it), else from the chain's latest
 * snapshot at or before the unit (injections before it were noted when
 * it was taken). *n: the unit it stands at (for cross and inj, the count
 * of units walked up to and with that one). -ENOENT when the goal is not
 * in the interval. A Ctrl-C: 0 with the SIGINT stop.
 */
static int walk(struct debug *d, uint64_t e, const struct goal *g, uint64_t *n,
		struct gdb_stop *stop)
{
	struct debug_chain *c = chain_of(d, e);
	uint64_t k = 0, lim = g->k != UINT64_MAX ? g->k : g->R ? 0 : UINT64_MAX;
	int rc = 0;

	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	if (!c)
		return -ENOMEM;
	if (g->cross && !g->inj && c->len)
		return (*n = c->len), 0;        /* known: the caller goes to a unit */
	for (size_t i = c->nsnap; i > 0 && lim; i--)
		if (c->snap[i - 1].k <= lim) {
			k = c->snap[i - 1].k;
			rc = debug_tl_restore(d, &c->snap[i - 1].c);
			break;
		}
	if (!k)
		rc = chain_start(d, e, stop);
	/* Unit k of the interval after exit e: the walk counts from there. */
	VMM_CHECK(d->vm, rc || is_sigint(stop) || vmm_exits(d->vm) == e, "a walk of the units after "
		  "exit %" PRIu64 " starts at unit %" PRIu64 " of exit %" PRIu64, e, k, vmm_exits(d->vm));
	while (!rc && stop->signal != GDB_SIGINT) {
		struct vmm_regs r;

		rc = debug_tl_regs(d, &r);
		if (rc)
			break;
		if (vmm_exits(d->vm) > e) {
			if (!c->len)
				c->len = k;
			if (!g->cross)
				rc = -ENOENT;
			break;
		}
		if (g->k != UINT64_MAX ? k == g->k : g->R && debug_tl_regs_eq(&r, g->R))
			break;
		if (d->at_end || k >= g->max) {
			rc = -ENOENT;
			break;
		}
		chain_snap(d, c, k);
		rc = debug_tl_step(d, true, stop);
		if (rc || debug_tl_aborted(d, stop))
			break;
		if (d->last.stop == REPLAY_STOP_DEBUG && d->last.ev.injected >= 0 && k >= c->hi) {
			uint64_t key = key_of(&r);

			if (c->ninj < DEBUG_CHAIN_INJ) {
				c->inj[c->ninj].k = k;
				c->inj[c->ninj++].key = key;
			}
			if (g->inj && key == g->key) {
				c->hi = ++k;
				break;
			}
		}
		if (++k > c->hi)
			c->hi = k;
	}
	if (!rc && debug_tl_aborted(d, stop) && stop->signal != GDB_SIGINT)
		rc = -EIO;
	*n = k;
	return rc;
}

/* To unit k after boundary e. */
static int walk_to(struct debug *d, struct replay_pos p, struct gdb_stop *stop)
{
	uint64_t n;
	int rc = walk(d, p.exits, &(struct goal){ .k = p.steps, .max = UINT64_MAX }, &n, stop);

	if (!rc && stop->signal != GDB_SIGINT) {
		/* A walk that ended well ended at its goal: the position
		 * noted here is what every later reverse step counts from. */
		VMM_CHECK(d->vm, n == p.steps && vmm_exits(d->vm) == p.exits, "a walk to %" PRIu64 "+%"
			  PRIu64 " ended at unit %" PRIu64 " with exit count %" PRIu64, p.exits, p.steps,
			  n, vmm_exits(d->vm));
		debug_tl_here_is(d, p);
	}
	return rc;
}

int debug_tl_count_units(struct debug *d, uint64_t E, const struct vmm_regs *R, uint64_t max,
			 uint64_t *n, struct gdb_stop *stop)
{
	int rc = walk(d, E, &(struct goal){ .k = UINT64_MAX, .R = R, .max = max }, n, stop);

	d->tl.pin = 0;
	return rc;
}

/* ---- the step before -------------------------------------------------------------- */

/* The raw unit before X = (E, k), R its registers: *p. The replay stands
 * anywhere after it. */
static int unit_before(struct debug *d, struct replay_pos X, const struct vmm_regs *R,
		       struct replay_pos *p, struct gdb_stop *stop)
{
	struct vmm_regs r;
	uint64_t m;
	int rc;

	if (X.steps >= 2 || X.exits == 0) {
		*p = (struct replay_pos){ X.exits, X.steps - 1 };
		return 0;
	}
	/* The unit of E-1 that crosses into exit E: a HLT's ends at the
	 * boundary, any other after the instruction after the exit. */
	rc = walk(d, X.exits - 1, &(struct goal){ .k = UINT64_MAX, .cross = true,
						  .max = UINT64_MAX }, &m, stop);
	if (rc || is_sigint(stop))
		return rc;
	/* Exit X.exits happened, so some unit after exit X.exits-1 led to
	 * it: a walk that found none miscounted. */
	VMM_CHECK(d->vm, m > 0, "no unit after exit %" PRIu64 " reaches exit %" PRIu64,
		  X.exits - 1, X.exits);
	*p = (struct replay_pos){ X.exits - 1, m - 1 };
	if (X.steps == 0)
		return 0;
	rc = walk_to(d, *p, stop);
	if (!rc && !is_sigint(stop))
		rc = debug_tl_step(d, true, stop);
	if (rc || is_sigint(stop))
		return rc;
	rc = debug_tl_regs(d, &r);
	if (!rc && !(vmm_exits(d->vm) == X.exits && debug_tl_regs_eq(&r, R)))
		*p = REPLAY_POS_AT(X.exits);    /* it lands on the boundary: a HLT */
	return rc;
}

/* The latest injection noted in c before unit lim with registers hashing
 * to key, or UINT64_MAX. */
static uint64_t noted(const struct debug_chain *c, uint64_t key, uint64_t lim)
{
	for (size_t j = c->ninj; j > 0; j--)
		if (c->inj[j - 1].key == key && c->inj[j - 1].k < lim)
			return c->inj[j - 1].k;
	return UINT64_MAX;
}

/* gdb's stepi from here, up to exit E at most, with none of gdb's
 * breakpoints and watchpoints (a handler it runs through may hit them):
 * the step itself, not where gdb would stop in it. */
static int stepi_unstopped(struct debug *d, uint64_t E, struct gdb_stop *stop)
{
	struct debug_hw hw[DEBUG_HW_SLOTS];
	struct debug_soft soft[DEBUG_SOFT_WATCHES];
	int rc;

	memcpy(hw, d->hw, sizeof(hw));
	memcpy(soft, d->soft, sizeof(soft));
	for (size_t i = 0; i < DEBUG_HW_SLOTS; i++)
		d->hw[i].used = false;
	for (size_t i = 0; i < DEBUG_SOFT_WATCHES; i++)
		d->soft[i].used = false;
	d->stop_at = E + 1;
	rc = debug_tl_step(d, false, stop);
	d->stop_at = UINT64_MAX;
	memcpy(d->hw, hw, sizeof(hw));
	memcpy(d->soft, soft, sizeof(soft));
	return rc;
}

/*
 * The injection whose handler returned to A = (pa, RA): of the latest
 * with A's rip and rsp before it, the first whose stepi reaches (E, R):
 * *q and true in *found. The replay stands anywhere after.
 */
static int injected_before(struct debug *d, struct replay_pos pa, const struct vmm_regs *RA,
			   uint64_t E, const struct vmm_regs *R, struct replay_pos *q, bool *found,
			   struct gdb_stop *stop)
{
	uint64_t key = key_of(RA);
	size_t i = d->tl.ninj;
	int tries = 0, rc = 0;

	*found = false;
	while (i > 0 && d->tl.inj[i - 1].exits > pa.exits)
		i--;
	for (; i > 0 && tries < RSTEP_TRIES; i--) {
		struct debug_inj in = d->tl.inj[i - 1];
		uint64_t lim = in.exits == pa.exits ? pa.steps : UINT64_MAX, at, n;
		const struct debug_chain *c;
		struct vmm_regs r;

		if (in.key != key)
			continue;
		tries++;
		c = chain_of(d, in.exits);
		if (!c)
			return -ENOMEM;
		at = noted(c, key, lim);
		if (at == UINT64_MAX && (!c->len || c->hi < c->len) && c->hi < lim) {
			/* Not walked that far yet: on to it (or to A, or the end). */
			rc = walk(d, in.exits, &(struct goal){ .k = lim, .cross = lim == UINT64_MAX,
							       .inj = true, .key = key,
							       .max = UINT64_MAX }, &n, stop);
			if (rc == -ENOENT)
				continue;
			if (rc || is_sigint(stop))
				return rc;
			at = noted(c, key, lim);
		}
		if (at == UINT64_MAX)
			continue;
		/* The check that decides: a stepi from there comes here. */
		rc = walk_to(d, (struct replay_pos){ in.exits, at }, stop);
		if (!rc && !is_sigint(stop))
			rc = stepi_unstopped(d, E, stop);
		if (rc || is_sigint(stop))
			return rc;
		rc = debug_tl_regs(d, &r);
		if (rc)
			return rc;
		if (!debug_tl_aborted(d, stop) && vmm_exits(d->vm) == E && debug_tl_regs_eq(&r, R)) {
			*q = (struct replay_pos){ in.exits, at };
			*found = true;
			return 0;
		}
	}
	return 0;
}

/* Does the replay stand at p (the position last remembered, same state)? */
static bool stands_at(struct debug *d, struct replay_pos p)
{
	struct vmm_regs r;

	return d->tl.here_valid && replay_pos_cmp(d->tl.here, p) == 0 &&
	       vmm_exits(d->vm) == d->tl.here_exits && debug_tl_regs(d, &r) == 0 &&
	       debug_tl_regs_eq(&r, &d->tl.here_regs);
}

static int reverse_step(struct debug *d, struct gdb_stop *stop)
{
	struct vmm_regs R, RA;
	struct replay_pos X, A;
	uint64_t E = vmm_exits(d->vm);
	int rc;

	rc = debug_tl_regs(d, &R);
	if (rc)
		return rc;
	if (d->tl.n && E == d->tl.c[0].exits && debug_tl_regs_eq(&R, &d->tl.c[0].regs)) {
		rc = debug_tl_restore(d, &d->tl.c[0]);
		if (!rc)
			debug_tl_at_begin(d, stop);
		return rc;
	}
	rc = debug_tl_position(d, &X);
	if (rc == -EINTR) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
		return 0;
	}
	if (rc) {
		if (!d->why[0])
			snprintf(d->why, sizeof(d->why), "cannot find exit %" PRIu64 " rip 0x%" PRIx64
				 " in the replay", E, R.rip);
		return rc;
	}
	if (X.exits == 0 && X.steps == 0) {
		rc = debug_tl_restore(d, &d->tl.c[0]);
		if (!rc)
			debug_tl_at_begin(d, stop);
		return rc;
	}
	rc = unit_before(d, X, &R, &A, stop);
	if (!rc && !is_sigint(stop))
		rc = walk_to(d, A, stop);
	if (rc || is_sigint(stop))
		return rc;
	for (int nest = 0; nest < RSTEP_NEST; nest++) {
		struct replay_pos Q;
		bool found;

		rc = debug_tl_regs(d, &RA);
		if (!rc)
			rc = injected_before(d, A, &RA, E, &R, &Q, &found, stop);
		if (rc || is_sigint(stop))
			return rc;
		if (!found)
			break;
		A = Q;
		rc = walk_to(d, A, stop);
		if (rc || is_sigint(stop))
			return rc;
	}
	if (!stands_at(d, A))
		rc = walk_to(d, A, stop);
	if (!rc && !is_sigint(stop))
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return rc;
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
