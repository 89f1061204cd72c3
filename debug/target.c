/*
 * target.c — the one gdb target of rrvm (struct gdb_target_ops), for a
 * live machine and for a replay alike. Registers, memory, breakpoints and
 * monitor commands are the same code on both; resume, Ctrl-C, position,
 * restart (gdb's `run`) and detach go to the machine's half (live.c,
 * replay.c). Also: creating the core, serving gdb, and how it ended.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"

void debug_msg(struct debug *d, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (d->log)
		d->log(d->log_ctx, buf);
	else
		fprintf(stderr, "rrvm: %s\n", buf);
}

void debug_stopped(struct debug *d)
{
	introspect_view_refresh(d->view);
}

int debug_handler_of(struct debug *d, int vector, uint64_t *addr)
{
	return introspect_view_handler(d->view, vector, addr);
}

/* The replayer's lookup for steps whose entry injects an interrupt. */
static int replay_handler_of(void *ctx, int vector, uint64_t *addr)
{
	return debug_handler_of(ctx, vector, addr);
}

int debug_attach_machine(struct debug *d, struct vmm *vm)
{
	d->vm = vm;
	d->view = introspect_view_new(vm, d->exec_file);
	if (!d->view)
		return -ENOMEM;
	vmm_protect_set_translate(vm, debug_wp_translate, d);
	if (d->is_replay)
		replay_set_handler_lookup(d->r, replay_handler_of, d);
	return 0;
}

void debug_detach_machine(struct debug *d)
{
	debug_remove_all(d);
	if (d->vm)
		vmm_protect_set_translate(d->vm, NULL, NULL);
	if (d->is_replay && d->r)
		replay_set_handler_lookup(d->r, NULL, NULL);
	introspect_view_free(d->view);
	d->view = NULL;
}

/* ---- the gdb target ------------------------------------------------------ */

static int t_read_regs(void *ctx, struct gdb_x86_regs *regs)
{
	return debug_read_regs(ctx, regs);
}

static int t_write_regs(void *ctx, const struct gdb_x86_regs *regs)
{
	struct debug *d = ctx;
	int rc = debug_write_regs(d, regs, d->why, sizeof(d->why));

	if (rc && d->why[0])
		debug_msg(d, "gdb: %s", d->why);
	return rc;
}

static int t_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return debug_read_mem(ctx, addr, buf, len);
}

static int t_write_mem(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return debug_write_mem(ctx, addr, buf, len);
}

static int t_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		       char *msg, size_t msg_size)
{
	return debug_insert_bp(ctx, type, addr, kind, msg, msg_size);
}

static int t_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		       char *msg, size_t msg_size)
{
	return debug_remove_bp(ctx, type, addr, kind, msg, msg_size);
}

static int t_resume(void *ctx, enum gdb_resume how, struct gdb_stop *stop)
{
	struct debug *d = ctx;

	if (debug_refusal(d))
		return -EOPNOTSUPP;
	return d->is_replay ? debug_replay_resume(d, how, stop) : debug_live_resume(d, how, stop);
}

static void t_interrupt(void *ctx)
{
	struct debug *d = ctx;

	if (d->is_replay) {
		debug_replay_interrupt(d);
	} else {
		atomic_store(&d->stop_req, true);
		debug_live_interrupt(d);
	}
}

static int t_monitor(void *ctx, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	return debug_monitor(ctx, cmd, out, out_ctx);
}

static void t_kill(void *ctx)
{
}

static void t_detach(void *ctx)
{
	struct debug *d = ctx;

	d->detached = true;
	if (d->is_replay)
		debug_replay_detach(d);
	else
		debug_live_detach(d);
}

static int t_restart(void *ctx, struct gdb_stop *stop)
{
	struct debug *d = ctx;
	int rc = d->is_replay ? debug_replay_restart(d, stop) : debug_live_restart(d, stop);

	if (rc && !d->why[0])
		snprintf(d->why, sizeof(d->why), "the guest could not be started again (%s)",
			 strerror(-rc));
	return rc;
}

/* The reason is taken (cleared) when read. */
static const char *t_last_error(void *ctx)
{
	struct debug *d = ctx;

	if (!d->why[0])
		return NULL;
	memcpy(d->why_taken, d->why, sizeof(d->why_taken));
	d->why[0] = '\0';
	return d->why_taken;
}

static const struct gdb_target_ops debug_ops = {
	.read_regs = t_read_regs,
	.write_regs = t_write_regs,
	.read_mem = t_read_mem,
	.write_mem = t_write_mem,
	.insert_bp = t_insert_bp,
	.remove_bp = t_remove_bp,
	.resume = t_resume,
	.interrupt = t_interrupt,
	.monitor = t_monitor,
	.kill = t_kill,
	.detach = t_detach,
	.restart = t_restart,
	.last_error = t_last_error,
};

/* ---- creating ------------------------------------------------------------- */

static int create(bool is_replay, const char *exec_file, debug_log_fn log, void *log_ctx,
		  const char *addr, bool quiet, bool verbose, struct debug **out)
{
	struct debug *d = calloc(1, sizeof(*d));
	char *real;

	if (!d)
		return -ENOMEM;
	real = realpath(exec_file, NULL);
	d->exec_file = real ? real : strdup(exec_file);
	if (!d->exec_file) {
		free(d);
		return -ENOMEM;
	}
	d->is_replay = is_replay;
	d->log = log;
	d->log_ctx = log_ctx;
	d->addr = addr;
	d->quiet = quiet;
	d->verbose = verbose;
	d->queued_vector = -1;
	/* Ask the host rather than assume (each probed once per process):
	 * hardware KVM traps at CPL3 too, and catches data accesses in kernel
	 * mode. */
	d->cpl3_traps = vmm_host_can(VMM_HOST_DEBUG_CPL3);
	d->data_traps = vmm_host_can(VMM_HOST_DATA_BP_CPL0);
	*out = d;
	return 0;
}

int debug_create_live(const struct debug_live_config *c, struct debug **out)
{
	struct debug *d;
	int rc = create(false, c->kernel, c->log, c->log_ctx, c->addr, c->quiet, c->verbose, &d);

	if (rc)
		return rc;
	d->hw_slots = DEBUG_HW_SLOTS;
	d->sw_in_memory = true;
	d->live = c->live;
	d->reboot = c->reboot;
	d->reboot_ctx = c->reboot_ctx;
	rc = debug_attach_machine(d, c->vm);
	if (rc) {
		debug_destroy(d);
		return rc;
	}
	/* The guest waits for gdb: its clock waits too. */
	vmm_live_clock_hold(d->live);
	*out = d;
	return 0;
}

int debug_create_replay(const struct debug_replay_config *c, struct debug **out)
{
	struct debug *d;
	char kernel[4096];
	int rc;

	snprintf(kernel, sizeof(kernel), "%s/kernel", c->dir);
	rc = create(true, kernel, c->log, c->log_ctx, c->addr, c->quiet, c->verbose, &d);
	if (rc)
		return rc;
	/* The replayer keeps one debug register for finding interrupt points. */
	d->hw_slots = REPLAY_SEARCH_SLOT;
	d->read_only = true;
	d->r = c->r;
	d->ropts = c->ropts;
	d->stop_at = UINT64_MAX;
	d->ckpt_limit = c->checkpoint_memory;
	d->units_only = c->units_only;
	d->dir = strdup(c->dir);
	rc = d->dir ? debug_attach_machine(d, replay_vm(c->r)) : -ENOMEM;
	if (!rc)
		rc = debug_tl_init(d);
	if (rc) {
		d->r = NULL;    /* still the caller's */
		debug_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

void debug_destroy(struct debug *d)
{
	if (!d)
		return;
	if (d->view)
		debug_detach_machine(d);
	debug_tl_free(d);
	if (d->r)
		replay_close(d->r);
	free(d->dir);
	free(d->exec_file);
	free(d);
}

/* ---- serving -------------------------------------------------------------- */

static void log_stub(void *ctx, enum gdb_log_level level, const char *msg)
{
	struct debug *d = ctx;

	if (!d->quiet || level != GDB_LOG_INFO)
		debug_msg(d, "%s", msg);
}

/* Tell the user how to connect (the stub has said where it listens). */
static void announce(struct debug *d, struct gdb_server *srv)
{
	const char *addr = d->addr, *colon = strrchr(addr, ':');
	int port = gdb_server_port(srv);
	char where[600];

	if (strncmp(addr, "unix:", 5) == 0 || port < 0)
		snprintf(where, sizeof(where), "%s", strncmp(addr, "unix:", 5) ? addr : addr + 5);
	else if (!colon || colon == addr)
		snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	else
		snprintf(where, sizeof(where), "%.*s:%d", (int)(colon - addr), addr, port);
	debug_msg(d, "gdb: the guest waits before its first instruction; connect with: gdb %s -ex "
		  "'target remote %s'", d->exec_file, where);
}

enum debug_end debug_serve(struct debug *d)
{
	struct gdb_target target = { &debug_ops, d, d->is_replay ? GDB_TARGET_CAN_REVERSE : 0,
				     d->exec_file };
	struct gdb_server_options so = { .log = log_stub, .log_ctx = d };
	struct gdb_server *srv = gdb_server_create(&target, &so);
	int rc;

	if (!srv) {
		debug_msg(d, "gdb: cannot create the server: %s", strerror(errno));
		return DEBUG_END_FAILED;
	}
	rc = gdb_server_listen(srv, d->addr);
	if (rc) {
		debug_msg(d, "gdb: cannot listen on %s: %s", d->addr, strerror(-rc));
		gdb_server_destroy(srv);
		return DEBUG_END_BAD_ADDR;
	}
	if (!d->quiet)
		announce(d, srv);
	rc = gdb_server_serve(srv);
	gdb_server_destroy(srv);
	switch (rc) {
	case GDB_SERVE_EXITED:
		return DEBUG_END_FINISHED;
	case GDB_SERVE_KILLED:
		d->killed = true;
		if (!d->quiet)
			debug_msg(d, "gdb killed the %s", d->is_replay ? "replay" : "guest");
		return DEBUG_END_KILLED;
	case GDB_SERVE_DETACHED:
		/* The guest runs on to its normal end. */
		rc = d->is_replay ? debug_replay_finish(d) : debug_live_finish(d);
		return rc ? DEBUG_END_FAILED : DEBUG_END_FINISHED;
	default:
		debug_msg(d, "gdb: serving on %s failed: %s", d->addr, strerror(rc < 0 ? -rc : EIO));
		return DEBUG_END_FAILED;
	}
}

bool debug_interrupt(struct debug *d)
{
	if (!atomic_load(&d->running))
		return false;
	if (d->is_replay)
		replay_interrupt(d->r);
	else
		vmm_live_request_stop(d->live);
	return true;
}

struct vmm *debug_vm(struct debug *d)
{
	return d->vm;
}

struct vmm_live *debug_live(struct debug *d)
{
	return d->live;
}

struct replay *debug_replay(struct debug *d)
{
	return d->r;
}
