/*
 * units.c — raw units of a replay outside gdb, for the trace database:
 * `rrvm index` counts, from the boundary after an exit, the units to each
 * asynchronous point of the recording, so that the position it stores is
 * the one `monitor goto` and `rrvm replay --goto` reach (replay.h,
 * "positions"). A unit here is the one goto and debug_tl_position step
 * (the timeline's raw chain step: debug_replay_step_raw over nothing at
 * rip), not a second definition: the same code steps it.
 *
 * The core made here serves no gdb and takes no checkpoints beyond the
 * start's; the replay stays its caller's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debug/internal.h"

/* The core's messages (the end of the recording, a replay that cannot go
 * on) are for a gdb user; the indexer reports the replay's own result. */
static void quiet_log(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int debug_units_open(struct replay *r, const char *dir, struct debug **out)
{
	struct debug_replay_config c = {
		.r = r, .dir = dir, .quiet = true, .log = quiet_log, .units_only = true,
	};
	int rc = debug_create_replay(&c, out);

	if (!rc)
		(*out)->tl.spacing = 0;         /* no automatic checkpoints */
	return rc;
}

void debug_units_close(struct debug *d)
{
	if (!d)
		return;
	d->r = NULL;            /* the caller's */
	debug_destroy(d);
}

/* Would this unit run guest user mode: the guest is at CPL3, or the unit
 * is an iretq whose frame returns there? */
static bool enters_user(struct debug *d, const struct debug_insn *in)
{
	uint64_t cs;

	if (vmm_cpl(d->vm) == 3)
		return true;
	if (!debug_insn_is_iretq(in->bytes, in->len))
		return false;
	return debug_read_mem_virt(d, in->regs.rsp + 8, &cs, 8) == 0 && (cs & 3) == 3;
}

int debug_units_step(struct debug *d, struct replay_result *res)
{
	struct gdb_stop stop;
	struct debug_insn in;
	/* One read of the registers and the instruction serves the question
	 * below and the step (a unit should cost its KVM_RUN and little
	 * more: rrvm index steps hundreds of thousands). */
	int rc = debug_insn_read(d, &in);

	if (rc)
		return rc;
	/* This host cannot single-step guest user mode (PLATFORM.md): the
	 * trap would go to the guest, and the replay would diverge. */
	if (!d->cpl3_traps && enters_user(d, &in))
		return -EOPNOTSUPP;
	rc = debug_replay_step_raw_from(d, &in, in.regs.rip, &stop);
	if (rc)
		return rc;
	/* A unit ends at a debug stop, or by position after a HLT's exit. */
	if (stop.kind == GDB_STOP_SIGNAL && stop.signal == GDB_SIGTRAP &&
	    (d->last.stop == REPLAY_STOP_DEBUG || d->last.stop == REPLAY_STOP_POSITION))
		return 0;
	*res = d->last;
	return 1;
}
