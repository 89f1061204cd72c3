/*
 * replayopen.c — opening a recording for replay on a real machine.
 *
 * replay_open reads and checks the manifest and the kernel copy, creates
 * the vmm machine with the replay's clock, and attaches the replayer to it
 * through the machine operations below: the thin layer that binds the
 * seam of internal.h to vmm. replay_alloc and replay_attach are the parts
 * a unit test uses with a fake machine instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "replay/internal.h"

/* ---- the machine operations on a vmm ------------------------------------ */

static int m_step(void *m, struct vmm_event *ev, struct vmm_error *err)
{
	return vmm_step(m, ev, err);
}

static uint64_t m_exits(void *m)
{
	return vmm_exits(m);
}

static void m_set_inject_mode(void *m, enum vmm_inject_mode mode)
{
	vmm_set_inject_mode(m, mode);
}

static bool m_can_inject(void *m)
{
	return vmm_can_inject(m);
}

static int m_irq_pending(void *m)
{
	return vmm_irq_pending(m);
}

static bool m_guest_if(void *m)
{
	return vmm_guest_if(m);
}

static int m_set_debug(void *m, const struct vmm_debug *dbg)
{
	return vmm_set_debug(m, dbg);
}

static int m_get_regs(void *m, struct vmm_regs *regs)
{
	return vmm_get_regs(m, regs);
}

static int m_dirty_collect(void *m, uint64_t *acc)
{
	return vmm_dirty_collect(m, acc);
}

static int m_fp_rest(void *m, const uint64_t *dirty, size_t words, uint64_t *pages,
		     uint32_t max, uint32_t *npages, uint64_t *hash)
{
	return replay_fp_rest(m, dirty, words, pages, max, npages, hash);
}

static void m_poll_devices(void *m)
{
	vmm_poll_devices(m);
}

static size_t m_serial_rx_push(void *m, const uint8_t *buf, size_t n)
{
	return vmm_serial_rx_push(m, buf, n);
}

static int m_state_hash(void *m, uint64_t *hash)
{
	return vmm_state_hash(m, hash);
}

static void m_kick(void *m)
{
	vmm_kick(m);
}

static bool m_take_kick(void *m)
{
	return vmm_take_kick(m);
}

/* Snapshots go into the store of the machine's last snapshot when it has
 * one (the debugger's checkpoints), so that a save reads only the pages
 * written since; else into a store of their own, which the machine then
 * keeps (its base) for the next. */
static int m_snap_save(void *m, void **snap, struct vmm_error *err)
{
	struct vmm_pagestore *ps = vmm_snapshot_store(m), *own = NULL;
	struct vmm_snapshot *s;
	int rc;

	if (!ps) {
		rc = vmm_pagestore_new(&own);
		if (rc) {
			vmm_error_set(err, "out of memory");
			return rc;
		}
		ps = own;
	}
	rc = vmm_snapshot_save(m, ps, &s, err);
	if (own)
		vmm_pagestore_free(own);        /* the snapshot and the machine hold it */
	if (!rc)
		*snap = s;
	return rc;
}

static int m_snap_restore(void *m, const void *snap, struct vmm_error *err)
{
	return vmm_snapshot_restore(m, snap, NULL, err);
}

static void m_snap_free(void *m, void *snap)
{
	(void)m;
	vmm_snapshot_free(snap);
}

static int m_kick_at(void *m, uint64_t deadline_ns)
{
	return vmm_kick_at(m, deadline_ns);
}

static uint64_t m_set_mute(void *m, uint64_t below)
{
	uint64_t was = vmm_muted_below(m);

	vmm_mute_output_below(m, below);
	return was;
}

static int m_finish_exit(void *m, struct vmm_error *err)
{
	return vmm_finish_exit(m, err);
}

static const struct replay_machine_ops vmm_machine = {
	.step = m_step, .exits = m_exits, .set_inject_mode = m_set_inject_mode,
	.can_inject = m_can_inject, .irq_pending = m_irq_pending, .guest_if = m_guest_if,
	.set_debug = m_set_debug, .get_regs = m_get_regs, .dirty_collect = m_dirty_collect,
	.fp_rest = m_fp_rest, .poll_devices = m_poll_devices, .serial_rx_push = m_serial_rx_push,
	.state_hash = m_state_hash, .kick = m_kick, .take_kick = m_take_kick,
	.snap_save = m_snap_save, .snap_restore = m_snap_restore, .snap_free = m_snap_free,
	.kick_at = m_kick_at, .set_mute = m_set_mute, .finish_exit = m_finish_exit,
};

/* ---- the replayer, machine-independent ----------------------------------- */

struct replay *replay_alloc(const char *dir, const struct replay_options *o)
{
	struct replay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->dir = strdup(dir);
	if (!r->dir || replay_q_init(r)) {
		replay_close(r);
		return NULL;
	}
	if (o) {
		r->symbolize = o->symbolize;
		r->symbolize_ctx = o->symbolize_ctx;
		r->fast.disabled = o->plain_search;
	}
	r->may_inject = true;
	r->stop_at = UINT64_MAX;
	r->handler_slot = -1;
	r->queued_vector = -1;
	return r;
}

int replay_attach(struct replay *r, const struct replay_machine_ops *ops, void *m,
		  size_t dirty_words, const char *logpath, struct vmm_error *err)
{
	int fd, rc;

	r->mops = ops;
	r->mctx = m;
	r->dirty_words = dirty_words;
	r->dirty = calloc(dirty_words ? dirty_words : 1, sizeof(uint64_t));
	r->pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
	r->log = replay_log_reader_create();
	if (!r->dirty || !r->pages || !r->log) {
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	/* A FIFO or a device in its place is refused, not blocked on. */
	fd = vmm_open_regular(logpath, O_RDONLY, err);
	if (fd < 0)
		return fd;
	rc = replay_log_reader_open_fd(r->log, fd, logpath);
	if (rc) {
		vmm_error_set(err, "%s: %s", logpath, strerror(-rc));
		return rc;
	}
	/* Read the first event now, so a damaged log is refused before the
	 * guest runs at all. */
	if (!replay_q_peek(r) && r->next_status != REPLAY_LOG_TRUNCATED) {
		vmm_error_set(err, "%s/events.lz4: %s", r->dir, replay_log_reader_error(r->log));
		return -EINVAL;
	}
	return 0;
}

static int check_kernel(const char *path, const char *want, struct vmm_error *err)
{
	uint8_t *buf;
	size_t len;
	char got[65];
	int rc = vmm_read_file(path, &buf, &len, err);

	if (rc)
		return rc;
	replay_sha256(buf, len, got);
	free(buf);
	if (strcmp(got, want) != 0) {
		vmm_error_set(err, "%s does not match the recording: SHA-256 %s, manifest says %s",
			      path, got, want);
		return -EINVAL;
	}
	return 0;
}

int replay_open(const char *dir, const struct replay_options *o, struct replay **out,
		struct vmm_error *err)
{
	struct replay *r = replay_alloc(dir, o);
	char path[4096], logpath[4096];
	struct vmm_config cfg = { 0 };
	int rc;

	*out = NULL;
	if (!r) {
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	rc = replay_manifest_read(dir, &r->manifest, err);
	if (rc)
		goto fail;
	if (r->manifest.format_version < REPLAY_MACHINE_VERSION_MIN) {
		vmm_error_set(err, "%s/manifest: recording format %d, made by rrvm %s on an older machine "
			      "model (no local APIC or ACPI tables, boot information at a fixed address, "
			      "MXCSR not fingerprinted): this rrvm cannot replay it exactly; replay it "
			      "with rrvm %s", dir, r->manifest.format_version, r->manifest.rrvm_version,
			      r->manifest.rrvm_version);
		rc = -EPROTO;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/kernel", dir);
	rc = check_kernel(path, r->manifest.kernel_sha256, err);
	if (rc)
		goto fail;
	cfg.mem_size = r->manifest.mem_size;
	cfg.kernel_path = path;
	cfg.cmdline = r->manifest.cmdline;
	cfg.trace_io = o && o->trace_io;
	cfg.clock = (struct vmm_clock){ replay_clock_read, r };
	if (o)
		cfg.output = o->output;
	rc = vmm_create(&cfg, &r->vm, err);
	if (rc)
		goto fail;
	snprintf(logpath, sizeof(logpath), "%s/events.lz4", dir);
	rc = replay_attach(r, &vmm_machine, r->vm, vmm_dirty_words(r->vm), logpath, err);
	if (rc)
		goto fail;
	/* Others (introspection at a gdb stop) may read the dirty log too:
	 * see every bit they take. */
	rc = vmm_dirty_track(r->vm, r->dirty);
	if (rc) {
		vmm_error_set(err, "no room to track dirty pages");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	replay_close(r);
	return rc;
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	if (r->mops)
		replay_fast_free(r);
	if (r->vm && r->dirty)
		vmm_dirty_untrack(r->vm, r->dirty);
	vmm_destroy(r->vm);
	if (r->log)
		replay_log_reader_free(r->log);
	free(r->dirty);
	free(r->pages);
	replay_q_free(r);
	free(r->dir);
	free(r);
}
