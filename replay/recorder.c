/*
 * recorder.c — recording a guest: hooks on vmm's live driver that log every
 * input at the point it enters the machine.
 *
 *   clock read      -> CLOCK (the value the device got)
 *   poll at an exit -> POLL_SYNC (the exit count)
 *   poll at a kick  -> POLL_REGS (the general registers in clear, a hint)
 *                      and POLL_ASYNC (exit count, rip, state fingerprint)
 *   serial input    -> SERIAL_IN (the bytes the UART took)
 *   injection       -> INJECT (checked by replay)
 *   every 1024 exits-> CHECKSUM (running checksum of synchronous exits)
 *   the end         -> END (how it stopped and the final state hash)
 *
 * The log is flushed at least every FLUSH_NS of host time, and before the
 * recorder sleeps longer than that in a halted guest, so a recorder killed
 * outright leaves a log whose prefix replays and holds every input that
 * reached the guest more than FLUSH_NS before the kill.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "replay/replay.h"

#define FLUSH_NS 50000000ull

struct replay_recorder {
	char *dir;
	struct replay_log_writer *log;
	struct replay_manifest manifest;
	struct vmm *vm;
	struct vmm_live *live;
	uint64_t *dirty;
	size_t dirty_words;
	uint64_t *pages;
	uint64_t checksum;
	uint64_t last_flush;
	bool unflushed;                 /* events logged since the last flush */
	int error;                      /* first log error: stops the run */
	struct vmm_error err;
	int dir_fd;                     /* holds the flock on the directory */
	bool made_dir;                  /* mkdir was ours */
	unsigned made;                  /* MADE_* files this recorder created */
};

enum { MADE_KERNEL = 1, MADE_MANIFEST = 2, MADE_LOG = 4 };

static int log_event(struct replay_recorder *rec, const struct replay_event *ev)
{
	int rc;

	if (rec->error)
		return rec->error;
	rc = replay_log_append(rec->log, ev);
	rec->unflushed = true;
	if (rc) {
		rec->error = rc;
		vmm_error_set(&rec->err, "%s", replay_log_writer_error(rec->log));
	}
	return rc;
}

static void flush(struct replay_recorder *rec, uint64_t now)
{
	if (rec->error)
		return;
	rec->last_flush = now;
	rec->unflushed = false;
	if (replay_log_flush(rec->log)) {
		rec->error = -EIO;
		vmm_error_set(&rec->err, "%s", replay_log_writer_error(rec->log));
	}
}

static void maybe_flush(struct replay_recorder *rec)
{
	uint64_t now = vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC);

	if (now - rec->last_flush >= FLUSH_NS)
		flush(rec, now);
}

/* The guest halted: if the sleep may outlast the flush interval, flush
 * now. An idle guest (waiting for input) would otherwise keep its last
 * events in memory for as long as it waits. */
static void idle(void *ctx, uint64_t wake_ns)
{
	struct replay_recorder *rec = ctx;
	uint64_t now = vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC);

	if (rec->unflushed && wake_ns >= rec->last_flush + FLUSH_NS)
		flush(rec, now);
}

static uint64_t record_clock(void *ctx, enum vmm_clock_kind kind)
{
	struct replay_recorder *rec = ctx;
	uint64_t v = vmm_live_clock(rec->live, kind);
	struct replay_event ev = { .type = REPLAY_EV_CLOCK };

	ev.clock.kind = (uint8_t)kind;
	ev.clock.value = v;
	(void)log_event(rec, &ev);
	return v;
}

static int before_poll(void *ctx, struct vmm *vm, bool async)
{
	struct replay_recorder *rec = ctx;
	struct replay_event ev;
	int rc;

	/* The fingerprint's memory part is "pages written since the previous
	 * poll": collect at every poll so both sides agree on the window. */
	rc = vmm_dirty_collect(vm, rec->dirty);
	if (rc) {
		vmm_error_set(&rec->err, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		return rec->error = rc;
	}
	if (!async) {
		ev = (struct replay_event){ .type = REPLAY_EV_POLL_SYNC };
		ev.poll_sync.exits = vmm_exits(vm);
	} else {
		struct vmm_regs regs;
		uint32_t n = 0;

		ev = (struct replay_event){ .type = REPLAY_EV_POLL_ASYNC };
		rc = vmm_get_regs(vm, &regs);
		if (!rc)
			rc = replay_fp_rest(vm, rec->dirty, rec->dirty_words, rec->pages,
					    REPLAY_PAGES_MAX, &n, &ev.poll_async.mem_hash);
		if (rc) {
			vmm_error_set(&rec->err, "fingerprinting the guest at exit %llu: %s",
				      (unsigned long long)vmm_exits(vm), strerror(-rc));
			return rec->error = rc;
		}
		/* The registers in clear, for the replayer's estimate of how
		 * far the point is (replay/stride.c); the hash still decides. */
		{
			struct replay_event hint = { .type = REPLAY_EV_POLL_REGS };
			replay_stride_regs(&regs, hint.poll_regs.gpr);
			rc = log_event(rec, &hint);
			if (rc)
				return rc;
		}
		ev.poll_async.exits = vmm_exits(vm);
		ev.poll_async.rip = regs.rip;
		ev.poll_async.regs_hash = replay_fp_regs(&regs);
		ev.poll_async.npages = n;
		ev.poll_async.pages = rec->pages;
	}
	memset(rec->dirty, 0, rec->dirty_words * sizeof(uint64_t));
	rc = log_event(rec, &ev);
	maybe_flush(rec);
	return rc;
}

static int serial_in(void *ctx, const uint8_t *buf, size_t n)
{
	struct replay_recorder *rec = ctx;

	while (n > 0) {
		struct replay_event ev = { .type = REPLAY_EV_SERIAL_IN };
		size_t chunk = n < REPLAY_SERIAL_IN_MAX ? n : REPLAY_SERIAL_IN_MAX;
		int rc;

		ev.serial_in.len = (uint32_t)chunk;
		ev.serial_in.data = buf;
		rc = log_event(rec, &ev);
		if (rc)
			return rc;
		buf += chunk;
		n -= chunk;
	}
	return 0;
}

static int on_event(void *ctx, struct vmm *vm, const struct vmm_event *ev)
{
	struct replay_recorder *rec = ctx;
	int rc = 0;

	(void)vm;
	if (ev->injected >= 0) {
		struct replay_event e = { .type = REPLAY_EV_INJECT };
		e.inject.exits = replay_inject_exits(ev);
		e.inject.vector = (uint8_t)ev->injected;
		rc = log_event(rec, &e);
	}
	if (replay_event_is_sync(ev)) {
		rec->checksum = replay_checksum_add(rec->checksum, ev);
		if (ev->exits % REPLAY_CHECKSUM_EVERY == 0) {
			struct replay_event e = { .type = REPLAY_EV_CHECKSUM };
			e.checksum.exits = ev->exits;
			e.checksum.sum = rec->checksum;
			rc = log_event(rec, &e);
		}
	}
	if (ev->kind == VMM_EV_HLT)
		maybe_flush(rec);
	return rc ? rc : rec->error;
}

struct vmm_live_hooks replay_recorder_hooks(struct replay_recorder *rec)
{
	return (struct vmm_live_hooks){ .ctx = rec, .before_poll = before_poll,
					.serial_in = serial_in, .on_event = on_event, .idle = idle };
}

void replay_recorder_attach(struct replay_recorder *rec, struct vmm_live *live)
{
	rec->live = live;
	vmm_set_clock(rec->vm, (struct vmm_clock){ record_clock, rec });
}

/* write(2) until done: a short write (a disk filling up) is followed by
 * the call that reports why. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int copy_kernel(struct replay_recorder *rec, const char *src, const char *dst,
		       char sha[65], struct vmm_error *err)
{
	uint8_t *buf;
	size_t len;
	int out, rc;

	rc = vmm_read_file(src, &buf, &len, err);
	if (rc)
		return rc;
	replay_sha256(buf, len, sha);
	/* The directory was empty when claimed: O_EXCL and O_NOFOLLOW make
	 * sure this writes a new file of ours and nothing a link points to. */
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = -errno;
		vmm_error_set(err, "%s: %s", dst, strerror(-rc));
		free(buf);
		return rc;
	}
	rec->made |= MADE_KERNEL;
	rc = write_all(out, buf, len);
	if (!rc && fsync(out) < 0)
		rc = -errno;
	if (close(out) < 0 && !rc)
		rc = -errno;
	if (rc)
		vmm_error_set(err, "%s: %s", dst, strerror(-rc));
	free(buf);
	return rc;
}

void replay_recording_remove(const char *dir)
{
	static const char *const files[] = { "kernel", "manifest", ".manifest.tmp", "events.lz4",
					     "trace.db", "trace.db.partial" };
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Undo what a failed start created, and only that. */
static void remove_made(struct replay_recorder *rec)
{
	static const struct { unsigned bit; const char *name; } files[] = {
		{ MADE_KERNEL, "kernel" }, { MADE_MANIFEST, "manifest" },
		{ MADE_MANIFEST, ".manifest.tmp" }, { MADE_LOG, "events.lz4" },
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!(rec->made & files[i].bit))
			continue;
		snprintf(path, sizeof(path), "%s/%s", rec->dir, files[i].name);
		unlink(path);
	}
	rec->made = 0;
	if (rec->made_dir)
		rmdir(rec->dir);
}

static bool dir_is_empty(int fd, bool *has_manifest)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;
	bool empty = true;

	*has_manifest = false;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return false;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		empty = false;
		*has_manifest = *has_manifest || strcmp(e->d_name, "manifest") == 0;
	}
	closedir(d);
	return empty;
}

/*
 * The directory is claimed, not just created: mkdir (or an empty directory
 * that exists), then an exclusive flock on it held until the recorder is
 * freed, and only then is it checked to be empty. Of two recorders given
 * the same directory one gets the lock and the other is refused at once;
 * a recorder that fails removes the files it created and nothing else.
 */
static int claim_dir(struct replay_recorder *rec, const char *dir, struct vmm_error *err)
{
	struct stat a, b;
	bool has_manifest;
	int e;

	if (mkdir(dir, 0755) == 0)
		rec->made_dir = true;
	else if (errno != EEXIST)
		goto sys;
	rec->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rec->dir_fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) {
			vmm_error_set(err, "%s: already exists and is not a directory (or is a symbolic "
				      "link); choose another -o", dir);
			return -EEXIST;
		}
		goto sys;
	}
	if (flock(rec->dir_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			goto sys;
		vmm_error_set(err, "%s: another rrvm is using this directory (recording into it or "
			      "indexing it); choose another -o", dir);
		return -EBUSY;
	}
	/* Locked: but is it still the directory at that path? */
	if (fstat(rec->dir_fd, &a) < 0 || stat(dir, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		vmm_error_set(err, "%s: was removed or replaced while rrvm was starting", dir);
		return -EBUSY;
	}
	if (!dir_is_empty(rec->dir_fd, &has_manifest)) {
		vmm_error_set(err, "%s: already exists and is not empty%s; choose another -o", dir,
			      has_manifest ? " (it holds a recording)" : "");
		return -EEXIST;
	}
	return 0;
sys:
	e = errno;
	vmm_error_set(err, "%s: %s", dir, strerror(e));
	return -e;
}

int replay_recorder_create(const struct replay_record_options *o, struct replay_recorder **out,
			   struct vmm **vm, struct vmm_error *err)
{
	struct replay_recorder *rec = calloc(1, sizeof(*rec));
	char path[4096];
	struct vmm_config cfg = { 0 };
	int rc;

	*out = NULL;
	*vm = NULL;
	if (!rec) {
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	rec->dir_fd = -1;
	rec->dir = strdup(o->dir);
	if (!rec->dir) {
		free(rec);
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	/* Every path in the directory must fit the buffers that name them
	 * (4096 bytes, PATH_MAX): a cut path would name another file. */
	if (strlen(o->dir) + sizeof("/.manifest.tmp") > 4096) {
		vmm_error_set(err, "the directory path is %zu bytes long; at most %zu",
			      strlen(o->dir), 4096 - sizeof("/.manifest.tmp"));
		rc = -ENAMETOOLONG;
		goto fail;
	}
	/* The manifest holds these whole, or the recording is not made. */
	if (strlen(o->kernel) > REPLAY_KERNEL_PATH_MAX) {
		vmm_error_set(err, "the kernel path is %zu bytes long; a recording holds at most %d",
			      strlen(o->kernel), REPLAY_KERNEL_PATH_MAX);
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (o->cmdline && strlen(o->cmdline) > REPLAY_CMDLINE_MAX) {
		vmm_error_set(err, "the command line is %zu bytes long; a recording holds at most %d",
			      strlen(o->cmdline), REPLAY_CMDLINE_MAX);
		rc = -E2BIG;
		goto fail;
	}
	rc = claim_dir(rec, o->dir, err);
	if (rc) {
		/* Not ours: never touch a directory another process owns. */
		rec->made_dir = false;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/kernel", o->dir);
	rc = copy_kernel(rec, o->kernel, path, rec->manifest.kernel_sha256, err);
	if (rc)
		goto fail;
	cfg.mem_size = o->mem_size;
	/* Boot the user's path (same bytes as the copy) so that errors about
	 * the image name the file the user gave. */
	cfg.kernel_path = o->kernel;
	cfg.cmdline = o->cmdline;
	cfg.trace_io = o->trace_io;
	cfg.output = o->output;
	rc = vmm_create(&cfg, vm, err);
	if (rc)
		goto fail;
	rec->vm = *vm;

	struct replay_manifest *m = &rec->manifest;
	m->format_version = REPLAY_FORMAT_VERSION;
	m->log_version = REPLAY_LOG_VERSION;
	snprintf(m->rrvm_version, sizeof(m->rrvm_version), "%s", PACKAGE_VERSION);
	snprintf(m->kernel, sizeof(m->kernel), "%s", o->kernel);
	snprintf(m->cmdline, sizeof(m->cmdline), "%s", o->cmdline ? o->cmdline : "");
	m->mem_size = vmm_mem_size(*vm);
	snprintf(m->cpuid_policy, sizeof(m->cpuid_policy),
		 "hide rdrand rdseed tsc-deadline rdpid rdtscp pmu kvm-leaves");
	m->chaos = o->chaos;
	m->chaos_seed = o->chaos_seed;
	m->poll_latency_ns = o->poll_latency_ns;
	snprintf(m->result, sizeof(m->result), "running");
	rec->made |= MADE_MANIFEST;
	rc = replay_manifest_write(o->dir, m, err);
	if (rc)
		goto fail;

	rec->dirty_words = vmm_dirty_words(*vm);
	rec->dirty = calloc(rec->dirty_words, sizeof(uint64_t));
	rec->pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
	rec->log = replay_log_writer_create();
	if (!rec->dirty || !rec->pages || !rec->log) {
		vmm_error_set(err, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = vmm_dirty_track(*vm, rec->dirty);
	if (rc) {
		vmm_error_set(err, "no room to track dirty pages");
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/events.lz4", o->dir);
	rec->made |= MADE_LOG;
	rc = replay_log_writer_open(rec->log, path);
	if (rc) {
		vmm_error_set(err, "%s", replay_log_writer_error(rec->log));
		goto fail;
	}
	rec->last_flush = vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC);
	*out = rec;
	return 0;
fail:
	/* Leave nothing behind that looks like a recording. */
	if (rec->log)
		replay_log_writer_free(rec->log);
	rec->log = NULL;
	remove_made(rec);
	replay_recorder_free(rec);
	if (*vm)
		vmm_destroy(*vm);
	*vm = NULL;
	return rc;
}

int replay_recorder_finish(struct replay_recorder *rec, const struct vmm_live_result *res,
			   struct replay_manifest *m, struct vmm_error *err)
{
	struct replay_event ev = { .type = REPLAY_EV_END };
	uint64_t hash = 0;
	int rc = 0;

	if (rec->error) {
		*err = rec->err;
		goto incomplete;
	}
	rc = vmm_state_hash(rec->vm, &hash);
	if (rc) {
		vmm_error_set(err, "hashing the final state: %s", strerror(-rc));
		return rc;
	}
	ev.end.exits = vmm_exits(rec->vm);
	ev.end.reason = (uint8_t)res->reason;
	ev.end.status = res->exit_value;
	ev.end.state_hash = hash;
	rc = log_event(rec, &ev);
	if (!rc)
		rc = replay_log_close(rec->log);
	if (rc) {
		vmm_error_set(err, "%s", replay_log_writer_error(rec->log));
		goto incomplete;
	}
	m = m ? m : &rec->manifest;
	*m = rec->manifest;
	snprintf(m->result, sizeof(m->result), "%s", vmm_stop_reason_name(res->reason));
	m->exit_status = vmm_exit_status(res->reason, res->exit_value);
	m->exit_value = res->exit_value;
	m->exits = vmm_exits(rec->vm);
	m->events = replay_log_writer_events(rec->log);
	m->state_hash = hash;
	rec->manifest = *m;
	return replay_manifest_write(rec->dir, m, err);
incomplete:
	/* Say so in the manifest if the disk still lets us; the log prefix
	 * replays either way ("running" also says it did not finish). */
	snprintf(rec->manifest.result, sizeof(rec->manifest.result), "incomplete");
	rec->manifest.exits = vmm_exits(rec->vm);
	rec->manifest.events = replay_log_writer_events(rec->log);
	{
		struct vmm_error ignored;
		if (replay_manifest_write(rec->dir, &rec->manifest, &ignored))
			rc = rc ? rc : -EIO;    /* already failing; the first error is the one */
	}
	return rec->error ? rec->error : rc;
}

void replay_recorder_free(struct replay_recorder *rec)
{
	if (!rec)
		return;
	if (rec->log)
		replay_log_writer_free(rec->log);
	free(rec->dirty);
	free(rec->pages);
	free(rec->dir);
	if (rec->dir_fd >= 0)
		close(rec->dir_fd);     /* releases the lock */
	free(rec);
}
