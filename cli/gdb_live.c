/*
 * gdb_live.c — `rrvm run --gdb`: gdb's target on a live guest.
 *
 * The guest waits before its first instruction until gdb connects, as with
 * `qemu -s -S`. continue runs the live driver (host time and input as
 * usual) with gdb's debug registers set, until a debug exit, one of our
 * int3s (on this backend an internal-error exit at its address), Ctrl-C
 * (vmm_live_request_stop), or the guest's end. A single step runs the vCPU
 * directly (step_vcpu) with interrupt injection held, as QEMU does, so
 * that `stepi` and `next` stay in the code being stepped instead of
 * wandering into the timer handler; a step over HLT waits for the
 * interrupt that ends it. Watchpoints the debug registers cannot catch
 * make continue a loop of such steps with interrupts delivered, comparing
 * the watched bytes after each one.
 *
 * A guest that crashes (triple fault, KVM internal error) is reported as a
 * SIGSEGV or SIGILL stop, so gdb can look at the state it died in; the
 * next resume reports it dead and rrvm exits with the crash status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/gdb_common.h"

#define HLT 0xf4
#define DR6_BS (1ull << 14)
#define WAIT_SLICE_NS 10000000ull       /* how often a wait looks at Ctrl-C */

struct live_target {
	struct cli_gdb g;
	struct vmm *vm;
	struct vmm_live *live;
	bool ended;                     /* exited, or crashed and reported */
	int crash_signal;
	struct vmm_live_result end;     /* how it ended */
	/* gdb's Ctrl-C, for the stepping loops here; the live driver has its
	 * own flag (vmm_live_request_stop), set first. */
	atomic_bool stop_req;
	/* A vector injected on an entry that a kick cut short: KVM may still
	 * hold it, to deliver at the next entry (-1: none). */
	int queued_vector;
};

static int live_read_regs(void *ctx, struct gdb_x86_regs *regs)
{
	return cli_gdb_read_regs(&((struct live_target *)ctx)->g, regs);
}

static int live_write_regs(void *ctx, const struct gdb_x86_regs *regs)
{
	return cli_gdb_write_regs(&((struct live_target *)ctx)->g, regs);
}

static int live_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return cli_gdb_read_mem(&((struct live_target *)ctx)->g, addr, buf, len);
}

static int live_write_mem(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return cli_gdb_write_mem(&((struct live_target *)ctx)->g, addr, buf, len);
}

static int live_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			  char *msg, size_t msg_size)
{
	return cli_gdb_insert_bp(&((struct live_target *)ctx)->g, type, addr, kind, msg, msg_size);
}

static int live_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			  char *msg, size_t msg_size)
{
	return cli_gdb_remove_bp(&((struct live_target *)ctx)->g, type, addr, kind, msg, msg_size);
}

static int live_monitor(void *ctx, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	return cli_gdb_monitor(&((struct live_target *)ctx)->g, cmd, out, out_ctx);
}

static void live_position(void *ctx, struct introspect_out *o)
{
	struct live_target *t = ctx;

	introspect_printf(o, "live guest: %" PRIu64 " synchronous exits since reset\n",
			  vmm_exits(t->vm));
}

/* The guest stopped for good: tell gdb how. */
static void ended(struct live_target *t, const struct vmm_live_result *res, struct gdb_stop *stop)
{
	t->end = *res;
	t->ended = true;
	switch (res->reason) {
	case VMM_STOP_SHUTDOWN:
	case VMM_STOP_ERROR:
		/* Stop, not exit: the state it died in is worth a look. */
		t->crash_signal = res->reason == VMM_STOP_SHUTDOWN ? CLI_GDB_SIGSEGV : CLI_GDB_SIGILL;
		cli_msg("gdb: the guest crashed (%s) at rip=0x%" PRIx64 "; it cannot run on",
			res->reason == VMM_STOP_SHUTDOWN ? "triple fault" : res->ev.u.error.what,
			res->ev.rip);
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = t->crash_signal };
		break;
	default:
		*stop = (struct gdb_stop){ .kind = GDB_STOP_EXITED,
					   .status = vmm_exit_status(res->reason, res->exit_value) };
		break;
	}
}

/* What a return of the live driver means for gdb. */
static void live_stopped(struct live_target *t, const struct vmm_live_result *res, bool stepping,
			 struct gdb_stop *stop)
{
	switch (res->reason) {
	case VMM_STOP_DEBUG:
		if (!cli_gdb_explain_debug(&t->g, &res->ev, stepping, stop))
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
		if (cli_gdb_sw_hit(&t->g, res->ev.rip)) {
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SWBREAK, .signal = GDB_SIGTRAP };
			return;
		}
		break;
	default:
		break;
	}
	ended(t, res, stop);
}

/* A Ctrl-C taken by a stepping loop here also set the live driver's flag:
 * clear it, or the next continue would stop at once. Asking once more
 * first makes sure vmm_live_run returns at its first check, running
 * nothing. */
static void drain_stop_request(struct live_target *t)
{
	struct vmm_live_result res;
	struct vmm_error err = { "" };

	vmm_live_request_stop(t->live);
	if (vmm_live_run(t->live, &res, &err) || res.reason != VMM_STOP_REQUESTED)
		cli_msg("gdb: unexpected stop while clearing a Ctrl-C (%s)",
			vmm_stop_reason_name(res.reason));
}

static int set_debug(struct live_target *t, uint64_t skip_at, bool single_step)
{
	struct vmm_debug d;
	int rc;

	cli_gdb_debug(&t->g, skip_at, single_step, &d);
	rc = vmm_set_debug(t->vm, &d);
	if (rc)
		cli_msg("gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
	return rc;
}

/* Track an injection that a kick may have left queued in KVM. */
static void note_queued(struct live_target *t, const struct vmm_event *ev)
{
	if (ev->kind != VMM_EV_KICK)
		t->queued_vector = -1;
	else if (ev->injected >= 0)
		t->queued_vector = ev->injected;
}

static int run_live(struct live_target *t, bool stepping, struct gdb_stop *stop)
{
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	int rc = vmm_live_run(t->live, &res, &err);

	if (rc) {
		cli_msg("%s", err.msg);
		return rc < 0 ? rc : -EIO;
	}
	if (res.reason == VMM_STOP_REQUESTED)
		atomic_store(&t->stop_req, false);
	note_queued(t, &res.ev);
	live_stopped(t, &res, stepping, stop);
	return 0;
}

/* Devices whose deadline has passed act now (as at the live driver's polls). */
static void poll_if_due(struct live_target *t)
{
	if (vmm_next_deadline(t->vm) <= vmm_live_clock(t->live, VMM_CLOCK_MONOTONIC))
		vmm_poll_devices(t->vm);
}

/* The guest executed HLT with interrupts on: wait until an interrupt is
 * pending (timers only: serial input is not read while stepping).
 * -EINTR when gdb asked to stop first. */
static int wait_for_irq(struct live_target *t)
{
	while (vmm_irq_pending(t->vm) < 0) {
		uint64_t now = vmm_live_clock(t->live, VMM_CLOCK_MONOTONIC);
		uint64_t due = vmm_next_deadline(t->vm), ns = WAIT_SLICE_NS;
		struct timespec ts;

		if (atomic_exchange(&t->stop_req, false)) {
			drain_stop_request(t);
			return -EINTR;
		}
		if (due <= now) {
			vmm_poll_devices(t->vm);
			continue;
		}
		if (due - now < ns)
			ns = due - now;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)ns;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* A debugger slot for the handler breakpoint: a free one, else any (no
 * instruction runs before it fires, so nothing is missed). */
static int handler_slot(const struct vmm_debug *d)
{
	for (int i = 0; i < CLI_GDB_HW_SLOTS; i++)
		if (!d->hw[i].enabled)
			return i;
	return 0;
}

/*
 * One instruction straight on the vCPU: vmm_step handles port I/O and
 * MMIO itself, and the single-step exit follows once the instruction is
 * done. With irqs, devices are polled when due and a pending interrupt is
 * delivered as the live driver would; an entry that injects runs to a
 * breakpoint at the handler instead of single-stepping, because KVM would
 * leave RFLAGS.TF in the interrupt frame (the guest would take #DB after
 * its iretq). Without irqs, interrupts are held, as QEMU holds them while
 * gdb steps, so that stepi and next stay in the code being stepped.
 * A HLT (at_hlt) is not single-stepped: this backend then reports the
 * step but not the HLT exit, which comes late, after the next instruction;
 * run without the step, HLT is the first instruction and exits at once.
 * Breakpoints at skip_at are left out (the caller steps over them).
 */
static int step_vcpu(struct live_target *t, bool irqs, bool at_hlt, uint64_t skip_at,
		     struct gdb_stop *stop)
{
	struct vmm_live_result res = { .reason = VMM_STOP_DEBUG };
	struct vmm_error err = { "" };
	bool io = false;
	int rc, slot;

	for (;;) {
		struct vmm_debug d;
		uint64_t handler;

		slot = -1;
		if (irqs && !io)
			poll_if_due(t);
		/* After a port exit the instruction is not finished yet: no
		 * injection until its single-step exit. */
		vmm_set_inject_mode(t->vm, irqs && !io ? VMM_INJECT_NOW_ONLY : VMM_INJECT_HOLD);
		cli_gdb_debug(&t->g, skip_at, !at_hlt || io, &d);
		if (t->queued_vector >= 0 || vmm_can_inject(t->vm)) {
			int vector = t->queued_vector >= 0 ? t->queued_vector : vmm_irq_pending(t->vm);

			if (cli_gdb_handler_of(&t->g, vector, &handler) == 0) {
				slot = handler_slot(&d);
				d.single_step = false;
				d.hw[slot].enabled = true;
				d.hw[slot].addr = handler;
				d.hw[slot].type = 0;
				d.hw[slot].len = 1;
			} else {
				vmm_set_inject_mode(t->vm, VMM_INJECT_HOLD);
			}
		}
		rc = vmm_set_debug(t->vm, &d);
		if (rc) {
			cli_msg("gdb: KVM_SET_GUEST_DEBUG: %s", strerror(-rc));
			break;
		}
		rc = vmm_step(t->vm, &res.ev, &err);
		if (rc) {
			cli_msg("%s", err.msg);
			break;
		}
		note_queued(t, &res.ev);
		if (res.ev.kind == VMM_EV_IO) {
			io = true;
			continue;
		}
		if (res.ev.kind == VMM_EV_KICK || res.ev.kind == VMM_EV_IRQ_WINDOW) {
			vmm_take_kick(t->vm);
			continue;
		}
		break;
	}
	vmm_set_inject_mode(t->vm, VMM_INJECT_LIVE);
	if (rc)
		return rc < 0 ? rc : -EIO;
	switch (res.ev.kind) {
	case VMM_EV_DEBUG:
		/* Reaching the handler ends the step, as a single step would. */
		if (slot >= 0 && (res.ev.u.debug.dr6 & (1ull << slot)))
			res.ev.u.debug.dr6 = (res.ev.u.debug.dr6 & ~(1ull << slot)) | DR6_BS;
		break;
	case VMM_EV_HLT:
		if (!vmm_guest_if(t->vm) && vmm_irq_pending(t->vm) < 0) {
			res.reason = VMM_STOP_HALTED;
			break;
		}
		/* HLT is done once an interrupt can wake the guest. */
		if (irqs && wait_for_irq(t)) {
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
			return 0;
		}
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
	live_stopped(t, &res, true, stop);
	return 0;
}

/* The instruction at rip is HLT? */
static bool at_hlt(struct live_target *t, uint64_t rip)
{
	uint8_t op = 0;

	return cli_gdb_read_mem_virt(&t->g, rip, &op, 1) == 0 && op == HLT;
}

/* Execute one instruction, over any breakpoint of ours at rip. A HLT is
 * stepped with interrupts on: it ends when one can wake the guest. */
static int step_one(struct live_target *t, struct gdb_stop *stop)
{
	struct vmm_regs r;
	int rc = vmm_get_regs(t->vm, &r);

	if (rc)
		return rc < 0 ? rc : -EIO;
	if (!t->g.cpl3_traps && vmm_cpl(t->vm) == 3) {
		cli_msg("gdb: the guest is in user mode (CPL3), where this host cannot single-step "
			"(see rrvm doctor); set a breakpoint in the kernel and continue");
		return -EOPNOTSUPP;
	}
	rc = cli_gdb_sw_lift(&t->g, r.rip, true);
	if (!rc) {
		bool hlt = at_hlt(t, r.rip);

		rc = step_vcpu(t, hlt, hlt, r.rip, stop);
	}
	if (cli_gdb_sw_lift(&t->g, r.rip, false))
		cli_msg("gdb: could not put back the breakpoint at 0x%" PRIx64, r.rip);
	return rc;
}

static bool plain_step(const struct gdb_stop *stop)
{
	return stop->kind == GDB_STOP_SIGNAL && stop->signal == GDB_SIGTRAP;
}

/* continue with watchpoints the debug registers cannot catch: one
 * instruction at a time, interrupts delivered as usual, comparing. */
static int continue_stepping(struct live_target *t, struct gdb_stop *stop)
{
	int rc;

	for (;;) {
		if (atomic_exchange(&t->stop_req, false)) {
			drain_stop_request(t);
			*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGINT };
			return 0;
		}
		struct vmm_regs r;

		rc = vmm_get_regs(t->vm, &r);
		if (rc)
			return rc < 0 ? rc : -EIO;
		rc = step_vcpu(t, true, at_hlt(t, r.rip), UINT64_MAX, stop);
		if (rc || !plain_step(stop) || t->ended || cli_gdb_soft_check(&t->g, stop))
			return rc;
	}
}

static int live_resume(void *ctx, enum gdb_resume how, struct gdb_stop *stop)
{
	struct live_target *t = ctx;
	struct vmm_regs r;
	int rc = 0;

	if (t->ended) {
		/* Only a crash is still "stopped"; its next resume is its death. */
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = t->crash_signal };
		return 0;
	}
	if (how != GDB_RESUME_CONTINUE && how != GDB_RESUME_STEP)
		return -EOPNOTSUPP;
	rc = vmm_get_regs(t->vm, &r);
	if (rc)
		return rc < 0 ? rc : -EIO;
	atomic_store(&t->g.running, true);
	cli_gdb_soft_snapshot(&t->g);
	if (t->g.verbose && how == GDB_RESUME_CONTINUE)
		cli_msg("gdb: continue from rip 0x%" PRIx64 " at exit %" PRIu64, r.rip,
			vmm_exits(t->vm));
	/* KVM reports a hardware breakpoint again at once when resumed on it,
	 * and our int3 would be hit again: a continue steps over them first. */
	if (how == GDB_RESUME_STEP || cli_gdb_bp_at(&t->g, r.rip)) {
		rc = step_one(t, stop);
		if (!rc && plain_step(stop) && !t->ended)
			cli_gdb_soft_check(&t->g, stop);
		if (rc || how == GDB_RESUME_STEP || !plain_step(stop) || t->ended)
			goto out;
	}
	if (cli_gdb_soft_watching(&t->g)) {
		rc = continue_stepping(t, stop);
	} else {
		rc = set_debug(t, UINT64_MAX, false);
		if (!rc)
			rc = run_live(t, false, stop);
	}
out:
	atomic_store(&t->g.running, false);
	/* Don't let the live driver's timer kick a guest that gdb holds. */
	if (vmm_kick_at(t->vm, UINT64_MAX))
		cli_msg("gdb: could not disarm the kick timer");
	cli_gdb_stopped(&t->g);
	return rc;
}

static void live_interrupt(void *ctx)
{
	struct live_target *t = ctx;

	vmm_live_request_stop(t->live);
	atomic_store(&t->stop_req, true);
}

static void live_kill(void *ctx)
{
}

static void live_detach(void *ctx)
{
	struct live_target *t = ctx;

	cli_gdb_remove_all(&t->g);
	if (set_debug(t, UINT64_MAX, false))
		cli_msg("gdb: the guest may still stop at old breakpoints");
}

static const struct gdb_target_ops live_ops = {
	.read_regs = live_read_regs,
	.write_regs = live_write_regs,
	.read_mem = live_read_mem,
	.write_mem = live_write_mem,
	.insert_bp = live_insert_bp,
	.remove_bp = live_remove_bp,
	.resume = live_resume,
	.interrupt = live_interrupt,
	.monitor = live_monitor,
	.kill = live_kill,
	.detach = live_detach,
};

/* SIGINT/SIGTERM to rrvm: stop a running guest; while gdb holds it, end. */
static void on_signal(void *ctx)
{
	struct live_target *t = ctx;

	if (atomic_load(&t->g.running))
		vmm_live_request_stop(t->live);
	else
		_exit(130);
}

int cli_gdb_live(struct vmm *vm, struct vmm_live *live, const struct cli_guest_opts *o,
		 struct vmm_live_result *res)
{
	struct live_target *t = calloc(1, sizeof(*t));
	char *exec_path = realpath(o->kernel, NULL);
	struct gdb_target target = { &live_ops, t, 0, exec_path ? exec_path : o->kernel };
	bool bad_addr;
	int rc, status = 0;

	if (!t || cli_gdb_init(&t->g, vm, target.exec_file, CLI_GDB_HW_SLOTS, true, false)) {
		cli_msg("gdb: out of memory");
		free(t);
		free(exec_path);
		return 1;
	}
	t->vm = vm;
	t->live = live;
	t->queued_vector = -1;
	t->g.verbose = o->verbose;
	t->g.position = live_position;
	t->g.position_ctx = t;
	cli_on_interrupt(on_signal, t);
	rc = cli_gdb_serve(&target, o->gdb, o->quiet, &bad_addr);
	memset(res, 0, sizeof(*res));
	switch (rc) {
	case GDB_SERVE_EXITED:
		*res = t->end;
		break;
	case GDB_SERVE_KILLED:
		if (!o->quiet)
			cli_msg("gdb killed the guest");
		res->reason = VMM_STOP_REQUESTED;
		res->ev.exits = vmm_exits(vm);
		break;
	case GDB_SERVE_DETACHED:
		if (t->ended) {
			*res = t->end;
			break;
		}
		/* The guest runs on to its normal end. */
		atomic_store(&t->g.running, true);
		{
			struct vmm_error err = { "" };
			do {
				rc = vmm_live_run(live, res, &err);
			} while (!rc && res->reason == VMM_STOP_DEBUG);
			if (rc) {
				cli_msg("%s", err.msg);
				status = 1;
			}
		}
		atomic_store(&t->g.running, false);
		break;
	default:
		status = bad_addr ? CLI_EXIT_USAGE : 1;
		break;
	}
	cli_on_interrupt(NULL, NULL);
	cli_gdb_fini(&t->g);
	free(t);
	free(exec_path);
	return status;
}
