/*
 * live.c — the debugger core's half for a live guest (`rrvm run --gdb`).
 *
 * The guest waits before its first instruction until gdb connects, as with
 * `qemu -s -S`. continue runs the live driver (host time and input as
 * usual) with gdb's debug registers set, until a debug exit, one of our
 * int3s (on this backend an internal-error exit at its address), Ctrl-C
 * (vmm_live_request_stop), or the guest's end.
 *
 * Time (debug.h): while gdb holds the guest its clock is held
 * (vmm_live_clock_hold). A step runs the vCPU directly (step_vcpu) and
 * advances the held clock by DEBUG_STEP_NS per instruction: a stepi holds
 * interrupts, as QEMU does, so that `stepi` and `next` stay in the code
 * being stepped; watchpoints the debug registers cannot catch are kept by
 * write-protecting their pages (wp.c: continue compares at each write
 * there), and where a page cannot be protected they make
 * continue a loop of such steps with interrupts delivered when the
 * stepped time reaches a timer's deadline. Without that, host time would
 * run on while each instruction takes a round trip to rrvm, a 1 kHz timer
 * would fire every few instructions, and the guest would do nothing but
 * take timer interrupts.
 *
 * Halt (vmm_halt_state): a guest that gdb stopped while halted stays
 * halted until an interrupt comes, as on hardware and under QEMU. A step
 * of a halted guest ends its halt: stepped time jumps to the next timer
 * deadline (with no timer armed, the step waits in host time for serial
 * input), and the step ends at the handler's first instruction.
 *
 * A guest that crashes (triple fault, KVM internal error) is reported as a
 * SIGSEGV or SIGILL stop, so gdb can look at the state it died in; the
 * next resume reports it dead and rrvm exits with the crash status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

void debug_live_position(struct debug *d, struct introspect_out *o)
{
	introspect_printf(o, "live guest: %" PRIu64 " synchronous exits since reset%s\n",
			  vmm_exits(d->vm),
			  vmm_halt_state(d->vm) != VMM_HALT_RUNNING ? " (halted)" : "");
}

/* The guest stopped for good: tell gdb how. */
static void ended(struct debug *d, const struct vmm_live_result *res, struct gdb_stop *stop)
{
	d->end = *res;
	d->ended = true;
	switch (res->reason) {
	case VMM_STOP_SHUTDOWN:
	case VMM_STOP_ERROR:
		/* Stop, not exit: the state it died in is worth a look. */
		d->crash_signal = res->reason == VMM_STOP_SHUTDOWN ? DEBUG_SIGSEGV : DEBUG_SIGILL;
		debug_msg(d, "gdb: the guest crashed (%s) at rip=0x%" PRIx64 "; it cannot run on",
			  res->reason == VMM_STOP_SHUTDOWN ? "triple fault" : res->ev.u.error.what,
			  res->ev.rip);
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = d->crash_signal };
		break;
	default:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_EXITED,
					   .status = vmm_exit_status(res->reason, res->exit_value) };
		break;
	}
}

/* What a return of the live driver (or of a step) means for gdb. */
static void live_stopped(struct debug *d, const struct vmm_live_result *res, bool stepping,
			 struct gdb_stop *stop)
{
	struct vmm_error err = { "" };

	/* A stop right after a port exit shows the finished exit (the IN's
	 * value in RAX), not the state KVM completes at the next entry. */
	if (vmm_finish_exit(d->vm, &err))
		debug_msg(d, "gdb: %s", err.msg);
	switch (res->reason) {
	case VMM_STOP_DEBUG:
		if (!debug_explain(d, &res->ev, stepping, stop))
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return;
	case VMM_STOP_REQUESTED:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
		return;
	case VMM_STOP_HOOK:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return;
	case VMM_STOP_ERROR:
		/* This backend cannot execute int3 at CPL0: the internal error
		 * at one of ours is the breakpoint. */
		if (debug_sw_hit(d, res->ev.rip)) {
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SWBREAK, .signal = GDB_SIGTRAP };
			return;
		}
		break;
	default:
		break;
	}
	ended(d, res, stop);
}

/* A Ctrl-C taken by a stepping loop here also set the live driver's flag:
 * clear it, or the next continue would stop at once. Asking once more
 * first makes sure vmm_live_run returns at its first check, running
 * nothing. */
static void drain_stop_request(struct debug *d)
{
	struct vmm_live_result res;
	struct vmm_error err = { "" };

	vmm_live_request_stop(d->live);
	if (vmm_live_run(d->live, &res, &err) || res.reason != VMM_STOP_REQUESTED)
		debug_msg(d, "gdb: unexpected stop while clearing a Ctrl-C (%s)",
			  vmm_stop_reason_name(res.reason));
}

static bool take_stop_request(struct debug *d)
{
	if (!atomic_exchange(&d->stop_req, false))
		return false;
	drain_stop_request(d);
	return true;
}

static int set_debug(struct debug *d, uint64_t skip_at, bool single_step)
{
	struct vmm_debug dbg;
	int rc;

	debug_regs_for(d, skip_at, single_step, &dbg);
	rc = vmm_set_debug(d->vm, &dbg);
	if (rc)
		debug_msg(d, "gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
	return rc;
}

/* Track an injection that a kick may have left queued in KVM. */
static void note_queued(struct debug *d, const struct vmm_event *ev)
{
	if (ev->kind != VMM_EV_KICK)
		d->queued_vector = -1;
	else if (ev->injected >= 0)
		d->queued_vector = ev->injected;
}

/* continue: the live driver, on host time from the guest time reached. */
static int run_live(struct debug *d, struct gdb_stop *stop)
{
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	int rc;

	vmm_live_clock_release(d->live);
	for (;;) {
		rc = vmm_live_run(d->live, &res, &err);
		if (rc)
			break;
		note_queued(d, &res.ev);
		/* A write to a protected page (wp.c): a watch stop if it
		 * changed a watched value, else on. */
		if (res.reason != VMM_STOP_DEBUG || !debug_wp_event(&res.ev))
			break;
		if (debug_soft_check(d, stop)) {
			vmm_live_clock_hold(d->live);
			return 0;
		}
	}
	vmm_live_clock_hold(d->live);
	if (rc) {
		debug_msg(d, "%s", err.msg);
		return rc < 0 ? rc : -EIO;
	}
	if (res.reason == VMM_STOP_REQUESTED)
		atomic_store(&d->stop_req, false);
	live_stopped(d, &res, false, stop);
	return 0;
}

/* Devices whose deadline the stepped time has reached act now. */
static void poll_if_due(struct debug *d)
{
	if (vmm_next_deadline(d->vm) <= vmm_live_clock(d->live, VMM_CLOCK_MONOTONIC))
		vmm_poll_devices(d->vm);
}

/*
 * The guest is halted with nothing pending: in stepped time nothing else
 * happens until the next timer deadline, so go there at once. 0 when an
 * interrupt is now pending; -EAGAIN when no timer is armed (only serial
 * input, read in host time, can wake it).
 */
static int wake_in_stepped_time(struct debug *d)
{
	while (vmm_halt_state(d->vm) == VMM_HALT_WAIT) {
		uint64_t now = vmm_live_clock(d->live, VMM_CLOCK_MONOTONIC);
		uint64_t due = vmm_next_deadline(d->vm);

		if (due == UINT64_MAX)
			return -EAGAIN;
		if (due > now)
			vmm_live_clock_advance(d->live, due - now);
		vmm_poll_devices(d->vm);
	}
	return 0;
}

/*
 * One instruction straight on the vCPU, the interrupt-aware single step
 * (vmm_debug_step_to_handler, the same as the replayer's):
 * vmm_step handles port I/O and MMIO itself, and the single-step exit
 * follows once the instruction is done. With irqs, devices are polled when
 * stepped time reaches their deadline and a pending interrupt is delivered
 * as the live driver would; an entry that injects runs to a breakpoint at
 * the handler instead of single-stepping, because KVM would leave
 * RFLAGS.TF in the interrupt frame (the guest would take #DB after its
 * iretq): the step ends there. Without irqs, interrupts are held.
 * A HLT is not single-stepped: this backend then reports the step but not
 * the HLT exit, which comes late, after the next instruction; run without
 * the step, HLT is the first instruction and exits at once, and the step
 * ends with the guest halted. Breakpoints at skip_at are left out (the
 * caller steps over them).
 */
static int step_vcpu(struct debug *d, bool irqs, uint64_t skip_at, struct gdb_stop *stop)
{
	struct vmm_live_result res = { .reason = VMM_STOP_DEBUG };
	struct vmm_error err = { "" };
	struct vmm_regs r;
	uint8_t insn[2];
	bool io = false, at_hlt;
	int rc, slot;

	if (vmm_halt_state(d->vm) == VMM_HALT_WAIT && wake_in_stepped_time(d)) {
		/* No timer armed: only input can wake it, in host time. */
		struct vmm_live_result woke;

		vmm_live_clock_release(d->live);
		rc = vmm_live_wait_halted(d->live, &woke);
		vmm_live_clock_hold(d->live);
		if (rc) {
			if (woke.reason == VMM_STOP_REQUESTED)
				atomic_store(&d->stop_req, false);
			live_stopped(d, &woke, true, stop);
			return 0;
		}
	}
	if (vmm_halt_state(d->vm) == VMM_HALT_DEAD) {
		res.reason = VMM_STOP_HALTED;
		live_stopped(d, &res, true, stop);
		return 0;
	}
	if (vmm_halt_state(d->vm) == VMM_HALT_WAKE)
		irqs = true;    /* the halt ends with the interrupt */
	rc = vmm_get_regs(d->vm, &r);
	if (rc)
		return rc < 0 ? rc : -EIO;
	at_hlt = vmm_halt_state(d->vm) == VMM_HALT_RUNNING && debug_at_hlt(d, r.rip);
	for (;;) {
		struct vmm_debug dbg;
		uint64_t handler;

		slot = -1;
		if (irqs && !io)
			poll_if_due(d);
		/* After a port exit the instruction is not finished yet: no
		 * injection until its single-step exit. */
		vmm_set_inject_mode(d->vm, irqs && !io ? VMM_INJECT_NOW_ONLY : VMM_INJECT_HOLD);
		debug_regs_for(d, skip_at, !at_hlt || io, &dbg);
		if (!io && debug_read_mem_virt(d, r.rip, insn, 2) == 0)
			debug_step_stops_after_iretq(d, &r, insn, &dbg);
		if (d->queued_vector >= 0 || vmm_can_inject(d->vm)) {
			int vector = d->queued_vector >= 0 ? d->queued_vector : vmm_irq_pending(d->vm);

			if (debug_handler_of(d, vector, &handler) == 0) {
				slot = vmm_debug_step_to_handler(&dbg, handler, -1);
			} else {
				vmm_set_inject_mode(d->vm, VMM_INJECT_HOLD);
			}
		}
		rc = vmm_set_debug(d->vm, &dbg);
		if (rc) {
			debug_msg(d, "gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
			break;
		}
		rc = vmm_step(d->vm, &res.ev, &err);
		if (rc) {
			debug_msg(d, "%s", err.msg);
			break;
		}
		note_queued(d, &res.ev);
		if (res.ev.kind == VMM_EV_IO) {
			io = true;
			continue;
		}
		if (res.ev.kind == VMM_EV_KICK || res.ev.kind == VMM_EV_IRQ_WINDOW) {
			vmm_take_kick(d->vm);
			continue;
		}
		break;
	}
	vmm_set_inject_mode(d->vm, VMM_INJECT_LIVE);
	if (rc)
		return rc < 0 ? rc : -EIO;
	/* Guest time moves with the guest's progress. */
	vmm_live_clock_advance(d->live, DEBUG_STEP_NS);
	switch (res.ev.kind) {
	case VMM_EV_DEBUG:
		/* Reaching the handler ends the step, as a single step would. */
		vmm_debug_step_done(&res.ev, slot);
		break;
	case VMM_EV_WRITE:
		/* A write to a protected page (wp.c): KVM has done the
		 * instruction and will not report the single step over it
		 * (its MMIO completion skips the trap): the step ends here,
		 * and the caller compares. */
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return 0;
	case VMM_EV_HLT:
		if (vmm_halt_state(d->vm) == VMM_HALT_DEAD) {
			res.reason = VMM_STOP_HALTED;
			break;
		}
		/* The HLT is done: the guest is halted, and stays so until an
		 * interrupt (the next step or continue). */
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return 0;
	case VMM_EV_GUEST_EXIT:
		res.reason = VMM_STOP_GUEST_EXIT;
		res.exit_value = res.ev.u.exit_value;
		break;
	case VMM_EV_SHUTDOWN:
		res.reason = VMM_STOP_SHUTDOWN;
		break;
	default:
		res.reason = VMM_STOP_ERROR;
		break;
	}
	live_stopped(d, &res, true, stop);
	return 0;
}

/* Execute one instruction, over any breakpoint of ours at rip. */
static int step_one(struct debug *d, bool irqs, struct gdb_stop *stop)
{
	struct vmm_regs r;
	int rc = vmm_get_regs(d->vm, &r);

	if (rc)
		return rc < 0 ? rc : -EIO;
	if (!d->cpl3_traps && vmm_cpl(d->vm) == 3) {
		snprintf(d->why, sizeof(d->why), "the guest is in user mode (CPL3), where this host "
			 "cannot single-step (see rrvm doctor); set a breakpoint in the kernel and "
			 "continue");
		debug_msg(d, "gdb: %s", d->why);
		return -EOPNOTSUPP;
	}
	rc = debug_sw_lift(d, r.rip, true);
	if (!rc)
		rc = step_vcpu(d, irqs, r.rip, stop);
	if (debug_sw_lift(d, r.rip, false))
		debug_msg(d, "gdb: could not put back the breakpoint at 0x%" PRIx64, r.rip);
	return rc;
}

static bool plain_step(const struct gdb_stop *stop)
{
	return stop->kind == GDB_STOP_SIGNAL && stop->signal == GDB_SIGTRAP;
}

/* continue with watchpoints the debug registers cannot catch: one
 * instruction at a time, interrupts delivered in stepped time, comparing. */
static int continue_stepping(struct debug *d, struct gdb_stop *stop)
{
	int rc;

	for (;;) {
		if (take_stop_request(d)) {
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
			return 0;
		}
		rc = step_vcpu(d, true, UINT64_MAX, stop);
		if (rc || !plain_step(stop) || d->ended || debug_soft_check(d, stop))
			return rc;
	}
}

int debug_live_resume(struct debug *d, enum gdb_resume how, struct gdb_stop *stop)
{
	struct vmm_regs r;
	bool halted;
	int rc = 0;

	if (d->ended) {
		/* Only a crash is still "stopped"; its next resume is its death. */
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = d->crash_signal };
		return 0;
	}
	if (how != GDB_RESUME_CONTINUE && how != GDB_RESUME_STEP) {
		snprintf(d->why, sizeof(d->why), "reverse execution needs a recording "
			 "(rrvm record, then rrvm replay --gdb)");
		return -EOPNOTSUPP;
	}
	rc = vmm_get_regs(d->vm, &r);
	if (rc)
		return rc < 0 ? rc : -EIO;
	atomic_store(&d->running, true);
	debug_soft_snapshot(d);
	/* Protected pages follow the table (a reboot leaves a new machine). */
	if (debug_wp_sync(d, d->why, sizeof(d->why))) {
		atomic_store(&d->running, false);
		return -EIO;
	}
	halted = vmm_halt_state(d->vm) != VMM_HALT_RUNNING;
	if (d->verbose && (how == GDB_RESUME_CONTINUE || halted))
		debug_msg(d, "gdb: %s from rip 0x%" PRIx64 " at exit %" PRIu64 "%s",
			  how == GDB_RESUME_CONTINUE ? "continue" : "step", r.rip, vmm_exits(d->vm),
			  halted ? " (halted)" : "");
	/* KVM reports a hardware breakpoint again at once when resumed on it,
	 * and our int3 would be hit again: a continue steps over them first.
	 * Not when halted: the guest is not about to run rip but to wait for
	 * an interrupt, whose handler runs first. */
	if (how == GDB_RESUME_STEP || (!halted && debug_bp_at(d, r.rip))) {
		rc = step_one(d, false, stop);
		if (!rc && plain_step(stop) && !d->ended)
			debug_soft_check(d, stop);
		if (rc || how == GDB_RESUME_STEP || !plain_step(stop) || d->ended)
			goto out;
	}
	if (debug_soft_watching(d)) {
		rc = continue_stepping(d, stop);
	} else {
		rc = set_debug(d, UINT64_MAX, false);
		if (!rc)
			rc = run_live(d, stop);
	}
out:
	atomic_store(&d->running, false);
	/* Don't let the live driver's timer kick a guest that gdb holds. */
	if (vmm_kick_at(d->vm, UINT64_MAX))
		debug_msg(d, "gdb: could not disarm the kick timer");
	debug_stopped(d);
	return rc;
}

void debug_live_interrupt(struct debug *d)
{
	vmm_live_request_stop(d->live);
}

void debug_live_detach(struct debug *d)
{
	debug_remove_all(d);
	if (set_debug(d, UINT64_MAX, false))
		debug_msg(d, "gdb: the guest may still stop at old breakpoints");
}

int debug_live_restart(struct debug *d, struct gdb_stop *stop)
{
	struct vmm *vm = d->vm;
	struct vmm_live *live = d->live;
	int rc;

	if (!d->reboot) {
		snprintf(d->why, sizeof(d->why), "this guest cannot be started again");
		return -EOPNOTSUPP;
	}
	debug_detach_machine(d);
	rc = d->reboot(d->reboot_ctx, &vm, &live);
	d->live = live;
	if (rc)
		snprintf(d->why, sizeof(d->why), "booting the kernel again failed (%s)",
			 strerror(-rc));
	/* On failure the old machine is still there: keep serving it. */
	if (debug_attach_machine(d, vm)) {
		snprintf(d->why, sizeof(d->why), "out of memory");
		return -ENOMEM;
	}
	if (rc)
		return rc;
	vmm_live_clock_hold(d->live);
	d->ended = false;
	d->crash_signal = 0;
	d->queued_vector = -1;
	memset(&d->end, 0, sizeof(d->end));
	atomic_store(&d->stop_req, false);
	if (!d->quiet)
		debug_msg(d, "gdb: the guest was booted again; it waits before its first instruction");
	*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	return 0;
}

int debug_live_finish(struct debug *d)
{
	struct vmm_error err = { "" };
	int rc;

	if (d->ended)
		return 0;
	atomic_store(&d->running, true);
	vmm_live_clock_release(d->live);
	do {
		rc = vmm_live_run(d->live, &d->end, &err);
	} while (!rc && d->end.reason == VMM_STOP_DEBUG);
	atomic_store(&d->running, false);
	if (rc) {
		debug_msg(d, "%s", err.msg);
		return rc;
	}
	d->ended = true;
	return 0;
}

void debug_live_result(struct debug *d, struct vmm_live_result *res)
{
	if (d->ended && !d->killed) {
		*res = d->end;
		return;
	}
	/* Killed by gdb (or never run to an end). */
	memset(res, 0, sizeof(*res));
	res->reason = VMM_STOP_REQUESTED;
	res->ev.exits = vmm_exits(d->vm);
}
