/*
 * replay.c — the debugger core's half for a recording (`rrvm replay
 * --gdb`), forward.
 *
 * gdb breaks, steps and continues through the replayed execution, which
 * stays exactly the recorded one: nothing gdb does may change what the
 * guest sees. So
 *   - breakpoints are debug registers, Z0 included (an int3 in guest memory
 *     would change the page fingerprints the replayer matches, and the
 *     guest could read it); the replayer keeps REPLAY_SEARCH_SLOT, gdb
 *     gets the others, and one more is refused with the reason;
 *   - register and memory writes are refused;
 *   - a single step executes one instruction of the recording. Where the
 *     recording injected an interrupt at that point, the replayer runs
 *     the entry to a breakpoint at the handler (replay_set_handler_lookup);
 *     the step then lets the handler run to its return to the stepped
 *     instruction and steps that, so that stepi, next and step end where
 *     they would on a live guest, which holds interrupts while stepping;
 *     a HLT runs to its exit (see step());
 *   - watchpoints the debug registers cannot catch (this backend) are kept
 *     by write-protecting their pages (wp.c): the replayer reports each
 *     write there as a debug stop that is no position of the recording,
 *     and run() compares and goes on; where a page cannot be protected,
 *     continue is a loop of single steps, comparing the watched bytes
 *     (those steps do stop in handlers, which may write them).
 * At the end of the recording gdb gets a replaylog:end stop ("No more
 * reverse-execution history."), and again for every later resume. A replay
 * that diverges or finds the log damaged cannot go on: gdb is told the
 * target died (SIGABRT) and rrvm exits as a plain replay would. gdb's
 * `run` (extended-remote) opens the recording again, at its start.
 * Checkpoints and reverse execution: timeline.c, which drives the
 * forward steps and continues here (debug_replay_step, ..._continue).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

/* How many interrupts in a row one step lets run through before giving up
 * (a guest that is interrupted again at every return). */
#define STEP_HANDLER_MAX 64

int debug_replay_goto(struct debug *d, const char *pos)
{
	char buf[1024];
	struct introspect_out o;
	int rc;

	introspect_out_buffer(&o, buf, sizeof(buf));
	rc = debug_tl_go(d, pos, &o);
	for (char *line = buf, *nl; rc && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		else
			*nl = 0;
		debug_msg(d, "--goto: %s", line);
	}
	if (rc == -EINVAL || rc == -ERANGE || !rc)
		return rc;
	return -EIO;
}

int debug_replay_describe(struct debug *d, char *buf, size_t len)
{
	char ps[REPLAY_POS_STRLEN];
	struct replay_pos p;
	struct vmm_regs r;
	uint64_t h;
	int rc = debug_tl_position(d, &p);

	if (!rc)
		rc = vmm_get_regs(d->vm, &r);
	if (!rc)
		rc = vmm_state_hash(d->vm, &h);
	if (rc)
		return rc < 0 ? rc : -EIO;
	snprintf(buf, len, "position %s: rip 0x%" PRIx64 ", state hash 0x%016" PRIx64,
		 replay_pos_format(p, ps), r.rip, h);
	return 0;
}

void debug_replay_position(struct debug *d, struct introspect_out *o)
{
	const struct replay_manifest *m = replay_manifest(d->r);
	char ps[REPLAY_POS_STRLEN], es[REPLAY_POS_STRLEN];
	struct replay_pos p;
	int rc = debug_tl_position(d, &p);

	debug_stopped(d);
	if (rc)
		p = REPLAY_POS_AT(vmm_exits(d->vm));
	introspect_printf(o, "replay: position %s%s of %s, events consumed %" PRIu64 " of %" PRIu64
			  "%s\n", replay_pos_format(p, ps), rc ? "+? (the steps after the exit "
			  "could not be counted)" : "", strcmp(m->result, "running") ?
			  replay_pos_format(REPLAY_POS_AT(m->exits), es) : "? (a truncated recording)",
			  d->have_result ? d->last.events : 0, m->events,
			  d->at_end ? " (end of the recording)" : "");
}

static int set_dbg(struct debug *d, const struct vmm_debug *dbg)
{
	int rc = replay_set_debug(d->r, dbg);

	if (rc)
		debug_msg(d, "gdb: setting the debug registers of the replay: %s", strerror(-rc));
	return rc;
}

static int set_debug(struct debug *d, uint64_t skip_at, bool single_step)
{
	struct vmm_debug dbg;

	debug_regs_for(d, skip_at, single_step, &dbg);
	return set_dbg(d, &dbg);
}

/* One replay_run, stopping at d->stop_at; a run that is not a single step
 * also stops at the timeline's next automatic checkpoint, takes it there
 * and goes on (the checkpoint is not a stop for gdb). */
static int run(struct debug *d, bool stepping, struct gdb_stop *stop)
{
	struct replay_result *res = &d->last;

	for (;;) {
		uint64_t ck = stepping ? UINT64_MAX : debug_tl_next_auto(d);
		uint64_t at = ck < d->stop_at ? ck : d->stop_at;

		replay_stop_at(d->r, at);
		atomic_store(&d->running, true);
		if (replay_run(d->r, res)) {
			atomic_store(&d->running, false);
			return -EIO;
		}
		atomic_store(&d->running, false);
		d->have_result = true;
		/* A write to a protected page (wp.c). KVM has done the writing
		 * instruction (rip is past it) and will not report the single
		 * step over it (its MMIO completion skips the trap): a step
		 * ends here, and its caller compares. A continue stops if a
		 * watched value changed, else goes on. */
		if (res->stop == REPLAY_STOP_DEBUG && debug_wp_event(&res->ev)) {
			if (stepping) {
				*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
				return 0;
			}
			if (debug_soft_check(d, stop))
				return 0;
			continue;
		}
		if (res->stop != REPLAY_STOP_POSITION || vmm_exits(d->vm) != ck)
			break;
		debug_tl_auto(d);
		if (ck >= d->stop_at)
			break;
	}
	switch (res->stop) {
	case REPLAY_STOP_DEBUG:
		if (!debug_explain(d, &res->ev, stepping, stop))
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		break;
	case REPLAY_STOP_INTERRUPTED:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
		break;
	case REPLAY_STOP_POSITION:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		break;
	case REPLAY_STOP_END:
	case REPLAY_STOP_TRUNCATED:
		/* Once per arrival of gdb's: a reverse-continue passes the end
		 * on its way back without a word. */
		if (!d->tl.busy)
			debug_msg(d, "gdb: %s: %s", res->stop == REPLAY_STOP_END ?
				  "end of the recording" : "the recording is truncated", res->msg);
		d->at_end = true;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_END, .signal = GDB_SIGTRAP };
		break;
	default:
		debug_msg(d, "gdb: the replay cannot go on: %s", res->msg);
		d->failed = true;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = DEBUG_SIGABRT };
		break;
	}
	return 0;
}

static bool plain_step(const struct gdb_stop *stop)
{
	return stop->kind == GDB_STOP_SIGNAL && stop->signal == GDB_SIGTRAP;
}

int debug_insn_read(struct debug *d, struct debug_insn *in)
{
	int rc = vmm_get_regs(d->vm, &in->regs);

	if (rc)
		return rc < 0 ? rc : -EIO;
	/* One read of the instruction for every question about it (each
	 * read walks the page tables; a raw unit should cost its KVM_RUN and
	 * little more: the trace database steps hundreds of thousands). An
	 * instruction at the end of a mapping reads its first byte alone. */
	in->len = 2;
	if (debug_read_mem_virt(d, in->regs.rip, in->bytes, 2) == 0)
		return 0;
	in->bytes[1] = 0;
	in->len = 1;
	if (debug_read_mem_virt(d, in->regs.rip, in->bytes, 1))
		in->bytes[0] = 0, in->len = 0;
	return 0;
}

/*
 * One instruction of the replay; breakpoints at skip_at are left out. A
 * HLT is not single-stepped: on this project's KVM backend the single step
 * over HLT reports no HLT exit (that exit comes late, after the next
 * instruction), and the replay would miss the recorded exit and diverge.
 * So a HLT runs, without the step, to its exit (replay_stop_at).
 */
int debug_replay_step_raw(struct debug *d, uint64_t skip_at, struct gdb_stop *stop)
{
	struct debug_insn in;
	int rc = debug_insn_read(d, &in);

	return rc ? rc : debug_replay_step_raw_from(d, &in, skip_at, stop);
}

int debug_replay_step_raw_from(struct debug *d, const struct debug_insn *in, uint64_t skip_at,
			       struct gdb_stop *stop)
{
	int rc;

	if (in->bytes[0] != DEBUG_HLT) {
		struct vmm_debug dbg;

		debug_regs_for(d, skip_at, true, &dbg);
		debug_step_stops_after_iretq(d, &in->regs, in->bytes, &dbg);
		rc = set_dbg(d, &dbg);
		return rc ? rc : run(d, true, stop);
	}
	uint64_t saved = d->stop_at;

	d->stop_at = vmm_exits(d->vm) + 1 < saved ? vmm_exits(d->vm) + 1 : saved;
	rc = set_debug(d, skip_at, false);
	if (!rc)
		rc = run(d, true, stop);
	d->stop_at = saved;
	return rc;
}

/* Did the step just taken end at an interrupt handler's first instruction
 * (the recording injected on its entry)? */
static bool entered_handler(struct debug *d, const struct gdb_stop *stop)
{
	return plain_step(stop) && d->last.stop == REPLAY_STOP_DEBUG && d->last.ev.injected >= 0;
}

/*
 * Let the interrupt handler the step entered run until it returns to
 * (rip, rsp), the stepped instruction, not executed yet: a breakpoint
 * there (in a free debugger slot, else borrowing slot 0 for the while),
 * continuing until it hits with the stack pointer back. Stops for gdb on
 * the way (a breakpoint in the handler, the end) are returned in *stop
 * with *back false.
 */
static int run_handler(struct debug *d, uint64_t rip, uint64_t rsp, struct gdb_stop *stop,
		       bool *back)
{
	struct vmm_debug dbg;
	int slot = 0, rc;

	*back = false;
	debug_regs_for(d, UINT64_MAX, false, &dbg);
	for (unsigned i = 0; i < d->hw_slots; i++)
		if (!dbg.hw[i].enabled) {
			slot = (int)i;
			break;
		}
	dbg.hw[slot].enabled = true;
	dbg.hw[slot].addr = rip;
	dbg.hw[slot].type = 0;
	dbg.hw[slot].len = 1;
	for (;;) {
		struct vmm_regs r;

		rc = set_dbg(d, &dbg);
		if (!rc)
			rc = run(d, false, stop);
		if (rc)
			return rc;
		if (d->last.stop != REPLAY_STOP_DEBUG || debug_wp_event(&d->last.ev) ||
		    !(d->last.ev.u.debug.dr6 & (1ull << slot)))
			return 0;       /* something else stopped it: gdb's */
		rc = vmm_get_regs(d->vm, &r);
		if (rc)
			return rc < 0 ? rc : -EIO;
		if (r.rsp == rsp) {
			*back = true;
			return 0;
		}
		/* rip reached on a deeper stack (the handler ran it): on, over it. */
		rc = debug_replay_step_raw(d, rip, stop);
		if (rc || !plain_step(stop))
			return rc;
	}
}

/* The debugger's single step: one instruction of the stepped code, with
 * interrupts the recording delivered at that point run through. */
int debug_replay_step(struct debug *d, uint64_t skip_at, struct gdb_stop *stop)
{
	struct vmm_regs r0;
	int rc = vmm_get_regs(d->vm, &r0);

	if (rc)
		return rc < 0 ? rc : -EIO;
	for (int i = 0; i < STEP_HANDLER_MAX; i++) {
		bool back;

		rc = debug_replay_step_raw(d, skip_at, stop);
		if (rc || !entered_handler(d, stop))
			return rc;
		rc = run_handler(d, r0.rip, r0.rsp, stop, &back);
		if (rc || !back)
			return rc;
	}
	return 0;               /* interrupted at every try: stop in the handler */
}

int debug_replay_resume(struct debug *d, enum gdb_resume how, struct gdb_stop *stop)
{
	bool soft = debug_soft_watching(d);
	struct vmm_regs r;
	int rc;

	if (d->failed) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = DEBUG_SIGABRT };
		return 0;
	}
	if (how == GDB_RESUME_REVERSE_STEP || how == GDB_RESUME_REVERSE_CONTINUE) {
		rc = how == GDB_RESUME_REVERSE_STEP ? debug_tl_reverse_step(d, stop)
						    : debug_tl_reverse_continue(d, stop);
		debug_stopped(d);
		return rc;
	}
	if (d->at_end) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_END, .signal = GDB_SIGTRAP };
		return 0;
	}
	rc = vmm_get_regs(d->vm, &r);
	if (rc)
		return rc < 0 ? rc : -EIO;
	debug_soft_snapshot(d);
	/* Protected pages follow the table (a restart leaves a new machine). */
	if (debug_wp_sync(d, d->why, sizeof(d->why)))
		return -EIO;
	if (d->verbose && how == GDB_RESUME_CONTINUE)
		debug_msg(d, "gdb: continue from rip 0x%" PRIx64 " at exit %" PRIu64, r.rip,
			  vmm_exits(d->vm));
	if (how == GDB_RESUME_STEP || debug_bp_at(d, r.rip)) {
		/* KVM reports a hardware breakpoint again at once when resumed
		 * on it: a continue steps over the ones at rip first. */
		rc = how == GDB_RESUME_STEP ? debug_replay_step(d, r.rip, stop) : debug_replay_step_raw(d, r.rip, stop);
		if (!rc && plain_step(stop))
			debug_soft_check(d, stop);
		if (rc || how == GDB_RESUME_STEP || !plain_step(stop))
			goto out;
	}
	if (!soft) {
		rc = set_debug(d, UINT64_MAX, false);
		if (!rc)
			rc = run(d, false, stop);
		goto out;
	}
	/* Watchpoints the debug registers cannot catch: step and compare
	 * (a Ctrl-C ends the step it comes in: replay_interrupt). */
	do
		rc = debug_replay_step_raw(d, UINT64_MAX, stop);
	while (!rc && plain_step(stop) && !debug_soft_check(d, stop));
out:
	debug_stopped(d);
	return rc;
}

void debug_replay_interrupt(struct debug *d)
{
	replay_interrupt(d->r);
}

void debug_replay_drop_interrupt(struct debug *d)
{
	struct replay_result res;

	/* replay_run looks at a pending interrupt, then at the exit count to
	 * stop at, before it runs anything: with that count here it returns
	 * at once either way, having taken the interrupt if there was one.
	 * (The kick that came with it only makes the next KVM_RUN return
	 * early, which the replayer absorbs.) */
	replay_stop_at(d->r, vmm_exits(d->vm));
	if (replay_run(d->r, &res))
		debug_msg(d, "gdb: dropping a late Ctrl-C failed; the next resume may stop at once");
	replay_stop_at(d->r, UINT64_MAX);
}

void debug_replay_detach(struct debug *d)
{
	debug_remove_all(d);
	if (set_debug(d, UINT64_MAX, false))
		debug_msg(d, "gdb: the replay may still stop at old breakpoints");
}

int debug_replay_restart(struct debug *d, struct gdb_stop *stop)
{
	struct replay *r;
	struct vmm_error err = { "" };
	int rc = replay_open(d->dir, d->ropts, &r, &err);

	if (rc) {
		snprintf(d->why, sizeof(d->why), "%s", err.msg);
		return rc;
	}
	debug_detach_machine(d);
	replay_close(d->r);
	d->r = r;
	if (debug_attach_machine(d, replay_vm(r))) {
		snprintf(d->why, sizeof(d->why), "out of memory");
		return -ENOMEM;
	}
	d->at_end = d->failed = d->have_result = false;
	memset(&d->last, 0, sizeof(d->last));
	debug_tl_free(d);
	rc = debug_tl_init(d);
	if (rc)
		debug_msg(d, "gdb: no checkpoints (reverse execution) after the restart: %s",
			  strerror(-rc));
	if (!d->quiet)
		debug_msg(d, "gdb: the replay starts again from the beginning of %s", d->dir);
	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return 0;
}

int debug_replay_finish(struct debug *d)
{
	int rc;

	if (d->at_end || d->failed)
		return 0;
	replay_stop_at(d->r, UINT64_MAX);
	atomic_store(&d->running, true);
	do {
		rc = replay_run(d->r, &d->last);
	} while (!rc && d->last.stop == REPLAY_STOP_DEBUG);
	atomic_store(&d->running, false);
	d->have_result = !rc;
	return rc;
}

void debug_replay_result(struct debug *d, struct replay_result *res)
{
	if (d->killed || !d->have_result) {
		memset(res, 0, sizeof(*res));
		res->stop = REPLAY_STOP_INTERRUPTED;
		snprintf(res->msg, sizeof(res->msg), "gdb killed the replay at exit %" PRIu64,
			 vmm_exits(d->vm));
		return;
	}
	*res = d->last;
}
