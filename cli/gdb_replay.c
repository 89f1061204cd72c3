/*
 * gdb_replay.c — `rrvm replay --gdb`: gdb's target on a recording, forward.
 *
 * gdb breaks, steps and continues through the replayed execution, which
 * stays exactly the recorded one: nothing gdb does may change what the
 * guest sees. So
 *   - breakpoints are debug registers, Z0 included (an int3 in guest memory
 *     would change the page fingerprints the replayer matches, and the
 *     guest could read it); the replayer keeps DR3, gdb gets DR0-DR2, and
 *     a fourth gets E28;
 *   - register and memory writes are refused (E95, with a message on
 *     rrvm's standard error);
 *   - a single step executes exactly one instruction of the recording;
 *     when the recording injected an interrupt at that point the step
 *     ends at the handler's first instruction (the replayer runs that
 *     entry to a breakpoint there: see replay_set_handler_lookup), unlike
 *     the live target, which holds interrupts while stepping; a HLT runs
 *     to its exit (see step());
 *   - watchpoints the debug registers cannot catch (this backend) make
 *     continue a loop of such steps, comparing the watched bytes.
 * At the end of the recording gdb gets a replaylog:end stop ("No more
 * reverse-execution history."), and again for every later resume. A replay
 * that diverges or finds the log damaged cannot go on: gdb is told the
 * target died (SIGABRT) and rrvm exits as a plain replay would. Reverse
 * execution is not offered yet.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/gdb_common.h"

#define REPLAY_HW_SLOTS 3
#define HLT 0xf4

struct replay_target {
	struct cli_gdb g;
	struct replay *r;
	bool at_end;                    /* the recording's end was reached */
	bool failed;                    /* diverged or damaged: cannot go on */
	bool have_result;
	struct replay_result last;      /* of the last replay_run */
};

static int rp_read_regs(void *ctx, struct gdb_x86_regs *regs)
{
	return cli_gdb_read_regs(&((struct replay_target *)ctx)->g, regs);
}

static int rp_write_regs(void *ctx, const struct gdb_x86_regs *regs)
{
	return cli_gdb_write_regs(&((struct replay_target *)ctx)->g, regs);
}

static int rp_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return cli_gdb_read_mem(&((struct replay_target *)ctx)->g, addr, buf, len);
}

static int rp_write_mem(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return cli_gdb_write_mem(&((struct replay_target *)ctx)->g, addr, buf, len);
}

static int rp_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			char *msg, size_t msg_size)
{
	return cli_gdb_insert_bp(&((struct replay_target *)ctx)->g, type, addr, kind, msg, msg_size);
}

static int rp_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			char *msg, size_t msg_size)
{
	return cli_gdb_remove_bp(&((struct replay_target *)ctx)->g, type, addr, kind, msg, msg_size);
}

static int rp_monitor(void *ctx, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	return cli_gdb_monitor(&((struct replay_target *)ctx)->g, cmd, out, out_ctx);
}

static void rp_position(void *ctx, struct introspect_out *o)
{
	struct replay_target *t = ctx;
	const struct replay_manifest *m = replay_manifest(t->r);

	introspect_printf(o, "replay: exit %" PRIu64 " of %" PRIu64 ", events consumed %" PRIu64
			  " of %" PRIu64 "%s\n", vmm_exits(replay_vm(t->r)), m->exits,
			  t->have_result ? t->last.events : 0, m->events,
			  t->at_end ? " (end of the recording)" : "");
}

static int handler_of(void *ctx, int vector, uint64_t *addr)
{
	return cli_gdb_handler_of(&((struct replay_target *)ctx)->g, vector, addr);
}

static int set_debug(struct replay_target *t, uint64_t skip_at, bool single_step)
{
	struct vmm_debug d;
	int rc;

	cli_gdb_debug(&t->g, skip_at, single_step, &d);
	rc = replay_set_debug(t->r, &d);
	if (rc)
		cli_msg("gdb: setting the debug registers of the replay: %s", strerror(-rc));
	return rc;
}

static int run(struct replay_target *t, bool stepping, struct gdb_stop *stop)
{
	struct replay_result *res = &t->last;

	atomic_store(&t->g.running, true);
	if (replay_run(t->r, res)) {
		atomic_store(&t->g.running, false);
		return -EIO;
	}
	atomic_store(&t->g.running, false);
	t->have_result = true;
	switch (res->stop) {
	case REPLAY_STOP_DEBUG:
		if (!cli_gdb_explain_debug(&t->g, &res->ev, stepping, stop))
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
		cli_msg("gdb: %s: %s", res->stop == REPLAY_STOP_END ? "end of the recording"
			: "the recording is truncated", res->msg);
		t->at_end = true;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_END, .signal = GDB_SIGTRAP };
		break;
	default:
		cli_msg("gdb: the replay cannot go on: %s", res->msg);
		t->failed = true;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = CLI_GDB_SIGABRT };
		break;
	}
	return 0;
}

static bool plain_step(const struct gdb_stop *stop)
{
	return stop->kind == GDB_STOP_SIGNAL && stop->signal == GDB_SIGTRAP;
}

/*
 * One instruction of the replay; breakpoints at skip_at are left out. A
 * HLT is not single-stepped: on this project's KVM backend the single step
 * over HLT reports no HLT exit (that exit comes late, after the next
 * instruction), and the replay would miss the recorded exit and diverge.
 * So a HLT runs, without the step, to its exit (replay_stop_at).
 */
static int step(struct replay_target *t, uint64_t skip_at, struct gdb_stop *stop)
{
	struct vmm *vm = replay_vm(t->r);
	struct vmm_regs r;
	uint8_t op = 0;
	int rc = vmm_get_regs(vm, &r);

	if (rc)
		return rc < 0 ? rc : -EIO;
	if (cli_gdb_read_mem_virt(&t->g, r.rip, &op, 1) || op != HLT) {
		rc = set_debug(t, skip_at, true);
		return rc ? rc : run(t, true, stop);
	}
	replay_stop_at(t->r, vmm_exits(vm) + 1);
	rc = set_debug(t, skip_at, false);
	if (!rc)
		rc = run(t, true, stop);
	replay_stop_at(t->r, UINT64_MAX);
	return rc;
}

static int rp_resume(void *ctx, enum gdb_resume how, struct gdb_stop *stop)
{
	struct replay_target *t = ctx;
	bool soft = cli_gdb_soft_watching(&t->g);
	struct vmm_regs r;
	int rc;

	if (t->failed) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_KILLED, .signal = CLI_GDB_SIGABRT };
		return 0;
	}
	if (how != GDB_RESUME_CONTINUE && how != GDB_RESUME_STEP)
		return -EOPNOTSUPP;
	if (t->at_end) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_REPLAY_END, .signal = GDB_SIGTRAP };
		return 0;
	}
	rc = vmm_get_regs(replay_vm(t->r), &r);
	if (rc)
		return rc < 0 ? rc : -EIO;
	cli_gdb_soft_snapshot(&t->g);
	if (t->g.verbose && how == GDB_RESUME_CONTINUE)
		cli_msg("gdb: continue from rip 0x%" PRIx64 " at exit %" PRIu64, r.rip,
			vmm_exits(replay_vm(t->r)));
	if (how == GDB_RESUME_STEP || cli_gdb_bp_at(&t->g, r.rip)) {
		/* KVM reports a hardware breakpoint again at once when resumed
		 * on it: a continue steps over the ones at rip first. */
		rc = step(t, r.rip, stop);
		if (!rc && plain_step(stop))
			cli_gdb_soft_check(&t->g, stop);
		if (rc || how == GDB_RESUME_STEP || !plain_step(stop))
			goto out;
	}
	if (!soft) {
		rc = set_debug(t, UINT64_MAX, false);
		if (!rc)
			rc = run(t, false, stop);
		goto out;
	}
	/* Watchpoints the debug registers cannot catch: step and compare. */
	do
		rc = step(t, UINT64_MAX, stop);
	while (!rc && plain_step(stop) && !cli_gdb_soft_check(&t->g, stop));
out:
	cli_gdb_stopped(&t->g);
	return rc;
}

static void rp_interrupt(void *ctx)
{
	replay_interrupt(((struct replay_target *)ctx)->r);
}

static void rp_kill(void *ctx)
{
}

static void rp_detach(void *ctx)
{
	struct replay_target *t = ctx;

	cli_gdb_remove_all(&t->g);
	if (set_debug(t, UINT64_MAX, false))
		cli_msg("gdb: the replay may still stop at old breakpoints");
}

static const struct gdb_target_ops replay_ops = {
	.read_regs = rp_read_regs,
	.write_regs = rp_write_regs,
	.read_mem = rp_read_mem,
	.write_mem = rp_write_mem,
	.insert_bp = rp_insert_bp,
	.remove_bp = rp_remove_bp,
	.resume = rp_resume,
	.interrupt = rp_interrupt,
	.monitor = rp_monitor,
	.kill = rp_kill,
	.detach = rp_detach,
};

/* SIGINT/SIGTERM to rrvm: stop a running replay; while gdb holds it, end. */
static void on_signal(void *ctx)
{
	struct replay_target *t = ctx;

	if (atomic_load(&t->g.running))
		replay_interrupt(t->r);
	else
		_exit(130);
}

int cli_gdb_replay(struct replay *r, const char *dir, const char *addr, bool quiet,
		   bool verbose, struct replay_result *res)
{
	struct replay_target *t = calloc(1, sizeof(*t));
	char kernel[4096], *exec_path;
	struct gdb_target target = { &replay_ops, t, 0, NULL };
	bool bad_addr;
	int rc, status = 0;

	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	exec_path = realpath(kernel, NULL);
	target.exec_file = exec_path ? exec_path : kernel;
	if (!t || cli_gdb_init(&t->g, replay_vm(r), target.exec_file, REPLAY_HW_SLOTS, false, true)) {
		cli_msg("gdb: out of memory");
		free(t);
		free(exec_path);
		return 1;
	}
	t->r = r;
	t->g.verbose = verbose;
	t->g.recording_dir = dir;
	t->g.position = rp_position;
	t->g.position_ctx = t;
	replay_set_handler_lookup(r, handler_of, t);
	cli_on_interrupt(on_signal, t);
	rc = cli_gdb_serve(&target, addr, quiet, &bad_addr);
	memset(res, 0, sizeof(*res));
	switch (rc) {
	case GDB_SERVE_EXITED:
		*res = t->last;
		break;
	case GDB_SERVE_KILLED:
		res->stop = REPLAY_STOP_INTERRUPTED;
		snprintf(res->msg, sizeof(res->msg), "gdb killed the replay at exit %" PRIu64,
			 vmm_exits(replay_vm(r)));
		break;
	case GDB_SERVE_DETACHED:
		if (t->at_end) {
			*res = t->last;
			break;
		}
		/* The replay runs on to the end of the recording. */
		atomic_store(&t->g.running, true);
		do {
			rc = replay_run(r, res);
		} while (!rc && res->stop == REPLAY_STOP_DEBUG);
		atomic_store(&t->g.running, false);
		if (rc)
			status = 1;
		break;
	default:
		status = bad_addr ? CLI_EXIT_USAGE : 1;
		break;
	}
	cli_on_interrupt(NULL, NULL);
	replay_set_handler_lookup(r, NULL, NULL);
	cli_gdb_fini(&t->g);
	free(t);
	free(exec_path);
	return status;
}
