/*
 * indexer.c — `rrvm index`: replay a recording once with an observer and
 * write DIR/trace.db.
 *
 * The database is written to DIR/trace.db.partial and renamed over
 * DIR/trace.db only after it is finished and fsynced, then the directory
 * is fsynced: whatever kills the indexer (SIGKILL, a full disk, a replay
 * that diverges), DIR/trace.db is either the previous complete database
 * or the new complete one, never a prefix.
 *
 * Positions. With raw units to count with (tracedb_index_options.units),
 * the replay runs freely up to the boundary where the search for each
 * asynchronous point of the log would begin (replay_stop_before_search),
 * then steps raw units from there, counting, until the points and
 * injections logged before the next exit are behind it; so each of them
 * gets its position EXITS+STEPS as goto reaches it. An interval that
 * cannot be counted (user mode on a host that cannot step it, more than
 * units_max units) is run through freely and its rows say why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracedb/internal.h"

#define PROGRESS_EVERY 4096     /* steps between progress callbacks */

struct indexer {
	struct tracedb_obs *obs;
	struct replay *r;
	const struct tracedb_index_options *opt;
	uint64_t total, steps;
	/* Counting raw units from the boundary after exit E (n done so far;
	 * regs where the current one started). why: the reason positions of
	 * the interval are not known, or NULL. */
	void *uh;
	bool counting;
	uint64_t E, n;
	struct vmm_regs unit_regs;
	const char *why;
	char whybuf[200];
	struct tracedb_index_stats *st;
	bool at_boundary;               /* no step since the last synchronous exit (or the start) */
};

static int m_irq_pending(void *ctx)
{
	struct indexer *ix = ctx;
	return vmm_irq_pending(replay_vm(ix->r));
}

static int m_cpl(void *ctx)
{
	struct indexer *ix = ctx;
	return vmm_cpl(replay_vm(ix->r));
}

static bool m_guest_if(void *ctx)
{
	struct indexer *ix = ctx;
	return vmm_guest_if(replay_vm(ix->r));
}

static int m_where(void *ctx, bool unit_start, struct replay_pos *p, const char **why)
{
	struct indexer *ix = ctx;
	struct vmm *vm = replay_vm(ix->r);
	struct vmm_regs r;

	/* The start of the unit being stepped is E+n wherever the unit ends
	 * (an entry whose handler could not be found runs on to the next
	 * exit); a state now is known only before the next exit. */
	if (!ix->counting || (!unit_start && vmm_exits(vm) != ix->E)) {
		*why = !ix->uh ? NULL : ix->why ? ix->why : "not counted: not reached by stepping "
			"from the boundary of its exit";
		return -1;
	}
	*p = (struct replay_pos){ ix->E, ix->n };
	/* Within a unit the state is its start until the unit's work is done
	 * (a search hit before the instruction ran), then its end. */
	if (!unit_start && (vmm_get_regs(vm, &r) || memcmp(&r, &ix->unit_regs, sizeof(r))))
		p->steps++;
	return 0;
}

static void on_step(void *ctx, struct vmm *vm, const struct vmm_event *ev)
{
	struct indexer *ix = ctx;

	(void)vm;
	ix->at_boundary = replay_event_is_sync(ev);
	tracedb_obs_step(ix->obs, ev);
	if (tracedb_obs_error(ix->obs))
		replay_interrupt(ix->r);        /* no point replaying further */
	if (++ix->steps % PROGRESS_EVERY == 0 && ix->opt->progress)
		ix->opt->progress(ix->opt->ctx, ev->exits, ix->total);
}

static void on_log(void *ctx, const struct replay_event *ev, uint64_t exits)
{
	struct indexer *ix = ctx;

	tracedb_obs_log(ix->obs, ev, exits);
}

static void on_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct indexer *ix = ctx;

	/* Output comes before the replay is open enough to observe (never in
	 * practice: the guest has not run yet). */
	if (ix->obs)
		tracedb_obs_output(ix->obs, stream, buf, len);
}

/* The interval of exit E cannot be counted (from unit n on): its rows say why. */
static void give_up(struct indexer *ix, const char *fmt, unsigned long long a)
{
	snprintf(ix->whybuf, sizeof(ix->whybuf), fmt, a);
	ix->why = ix->whybuf;
	ix->counting = false;
	ix->st->units_given_up++;
}

/*
 * Step raw units from the boundary after exit E (where the replay
 * stands) while asynchronous points or injections logged before the next
 * exit are ahead. 0 and the replay goes on; 1 it stopped (*res); -errno.
 */
static int count_interval(struct indexer *ix, struct replay_result *res)
{
	struct vmm *vm = replay_vm(ix->r);
	uint64_t max = ix->opt->units_max ? ix->opt->units_max : TRACEDB_UNITS_MAX;
	int rc = 0;

	ix->E = vmm_exits(vm);
	ix->n = 0;
	ix->why = NULL;
	ix->counting = true;
	ix->st->unit_intervals++;
	/* Counted from anywhere else, S would be a guess. */
	if (!ix->at_boundary)
		give_up(ix, "not counted: the replay stopped for its search away from the "
			"boundary of this exit", 0);
	while (ix->counting && vmm_exits(vm) == ix->E && replay_async_ahead(ix->r)) {
		if (ix->n >= max) {
			give_up(ix, "not counted: more than %llu raw units after the boundary of "
				"this exit", (unsigned long long)max);
			break;
		}
		rc = vmm_get_regs(vm, &ix->unit_regs);
		if (rc) {
			rc = rc < 0 ? rc : -EIO;
			break;
		}
		rc = ix->opt->units->step(ix->uh, res);
		if (rc == -EOPNOTSUPP) {
			give_up(ix, "not counted: the guest went to user mode (CPL3) %llu raw units "
				"after the boundary of this exit, which this host cannot single-step",
				(unsigned long long)ix->n);
			rc = 0;
			break;
		}
		if (rc)
			break;
		ix->n++;
		ix->st->units++;
	}
	ix->counting = false;
	/* The units single-step: the replay runs freely again. */
	if (rc != 1 && replay_set_debug(ix->r, &(struct vmm_debug){ 0 }) && !rc)
		rc = -EIO;
	return rc;
}

/* Replay to the end, counting the units to every asynchronous point. */
static int run_counting(struct indexer *ix, struct replay_result *res)
{
	for (;;) {
		int rc;

		replay_stop_before_search(ix->r, true);
		if (replay_run(ix->r, res))
			return -EIO;
		if (res->stop != REPLAY_STOP_POSITION)
			return 0;
		rc = count_interval(ix, res);
		if (rc == 1)
			return 0;
		if (rc)
			return rc;
		if (!ix->why)
			continue;
		/* Given up: on freely to the next boundary, where a search
		 * may be stopped for again. */
		replay_stop_before_search(ix->r, false);
		replay_stop_at(ix->r, ix->E + 1);
		if (replay_run(ix->r, res))
			return -EIO;
		ix->why = NULL;
		if (res->stop != REPLAY_STOP_POSITION)
			return 0;
	}
}

/* The manifest's "key: value" lines as recording rows, values decoded. */
static int put_line(void *ctx, const char *key, const char *value, unsigned lineno,
		    struct vmm_error *err)
{
	struct tracedb_writer *w = ctx;
	int rc = tracedb_put_recording(w, key, value);

	(void)lineno;
	if (rc)
		vmm_error_set(err, "%s", tracedb_writer_error(w));
	return rc;
}

static int put_manifest(struct tracedb_writer *w, const char *dir, struct tracedb_error *err)
{
	struct vmm_error verr = { "" };
	int rc = replay_manifest_each(dir, put_line, w, &verr);

	if (rc)
		tracedb_error_set(err, "%s", verr.msg);
	return rc;
}

static int put_symbols(struct tracedb_writer *w, const struct introspect_symtab *syms,
		       uint64_t *count)
{
	static const char *const types[] = {
		[INTROSPECT_SYM_NOTYPE] = "notype", [INTROSPECT_SYM_OBJECT] = "object",
		[INTROSPECT_SYM_FUNC] = "func", [INTROSPECT_SYM_OTHER] = "other",
	};
	size_t n = syms ? introspect_symtab_count(syms) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct introspect_sym *s = introspect_symtab_get(syms, i);
		const char *type = (unsigned)s->type <= INTROSPECT_SYM_OTHER ? types[s->type] : "other";
		int rc = tracedb_put_symbol(w, s->name, s->addr, s->size, type, s->global);
		if (rc)
			return rc;
	}
	*count = n;
	return 0;
}

/* What is at DIR/trace.db now, and may we replace it? */
static int check_existing(const char *dir, const char *path, const struct tracedb_index_options *o,
			  struct tracedb_index_stats *st, struct tracedb_error *err)
{
	struct tracedb_error why;
	struct tracedb *db;
	int rc;

	switch (tracedb_check_file(path, &why)) {
	case TRACEDB_FILE_MISSING:
		return 0;
	case TRACEDB_FILE_OLD:
		st->replaced = true;
		snprintf(st->replaced_why, sizeof(st->replaced_why), "%s", why.msg);
		return 0;
	case TRACEDB_FILE_FOREIGN:
		if (o->force) {
			st->replaced = true;
			snprintf(st->replaced_why, sizeof(st->replaced_why), "%s", why.msg);
			return 0;
		}
		tracedb_error_set(err, "%s; not replacing it (--force replaces it)", why.msg);
		return -EEXIST;
	case TRACEDB_FILE_CURRENT:
		break;
	}
	rc = tracedb_open(dir, &db, &why);
	tracedb_close(db);
	if (rc == -ESTALE) {
		st->replaced = true;
		snprintf(st->replaced_why, sizeof(st->replaced_why), "%s", why.msg);
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int tracedb_index(const char *dir, const struct tracedb_index_options *o,
		  struct tracedb_index_stats *st, struct tracedb_error *err)
{
	static const struct tracedb_index_options no_options;
	struct indexer ix = { .opt = o ? o : &no_options, .st = st, .at_boundary = true };
	struct tracedb_writer *w = NULL;
	struct introspect_symtab *syms = NULL;
	struct replay_options ropt = { .output = { on_output, &ix } };
	struct replay_result res;
	struct vmm_error verr = { "" };
	struct tracedb_obs_counts counts;
	char path[4096], partial[4096], kpath[4096], sha[65], symerr[256] = "";
	uint64_t t0 = tracedb_now_ns();
	struct stat sb;
	int rc, lock;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/" TRACEDB_FILE, dir);
	snprintf(partial, sizeof(partial), "%s/" TRACEDB_PARTIAL_FILE, dir);
	snprintf(kpath, sizeof(kpath), "%s/kernel", dir);
	/* One indexer per recording: a second would remove the first's
	 * partial file, and the first would rename the second's. */
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0) {
		tracedb_error_set(err, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		tracedb_error_set(err, "%s: %s", dir, rc == -EBUSY ? "another rrvm index is running on "
				  "this recording, or rrvm record is still writing it" : strerror(-rc));
		close(lock);
		return rc;
	}
	rc = check_existing(dir, path, ix.opt, st, err);
	if (rc)
		goto out;
	if (replay_open(dir, &ropt, &ix.r, &verr)) {
		tracedb_error_set(err, "%s", verr.msg);
		rc = -EINVAL;
		goto out;
	}
	ix.total = replay_manifest(ix.r)->exits;
	rc = tracedb_manifest_sha256(dir, sha, err);
	if (rc)
		goto out;
	/* A kernel without symbols is indexed all the same, with NULL symbols. */
	if (introspect_symtab_load_file(kpath, &syms, symerr, sizeof(symerr)))
		syms = NULL;
	rc = tracedb_writer_create(partial, &w, err);
	if (rc)
		goto out;
	{
		struct tracedb_machine m = { m_irq_pending, m_cpl, m_guest_if, &ix, m_where };
		if (tracedb_obs_create(w, syms, &m, &ix.obs)) {
			rc = -ENOMEM;
			tracedb_error_set(err, "out of memory");
			goto out;
		}
	}
	if ((rc = put_manifest(w, dir, err)))
		goto out;
	if ((rc = tracedb_put_recording(w, TRACEDB_KEY_MANIFEST_SHA, sha)) ||
	    (rc = tracedb_put_recording(w, "symbols", syms ? "kernel" : symerr)) ||
	    (rc = put_symbols(w, syms, &st->symbols))) {
		tracedb_error_set(err, "%s", tracedb_writer_error(w));
		goto out;
	}
	if ((rc = replay_set_observer(ix.r, &(struct replay_observer){ &ix, on_step, on_log }))) {
		tracedb_error_set(err, "%s: the replay is watched already: %s", dir, strerror(-rc));
		goto out;
	}
	if (ix.opt->units && (rc = ix.opt->units->open(ix.r, dir, &ix.uh))) {
		tracedb_error_set(err, "%s: cannot step the replay to count positions: %s", dir,
				  strerror(-rc));
		goto out;
	}
	rc = ix.uh ? run_counting(&ix, &res) : replay_run(ix.r, &res) ? -EIO : 0;
	if (rc) {
		tracedb_error_set(err, "%s: replay failed: %s", dir, res.msg[0] ? res.msg : strerror(-rc));
		rc = -EIO;
		goto out;
	}
	if ((rc = tracedb_obs_finish(ix.obs))) {
		tracedb_error_set(err, "%s", tracedb_writer_error(w)[0] ? tracedb_writer_error(w)
									 : strerror(-rc));
		goto out;
	}
	if (res.stop != REPLAY_STOP_END && res.stop != REPLAY_STOP_TRUNCATED) {
		tracedb_error_set(err, "%s: the replay stopped (%s) at exit %llu: %s; no trace.db "
				  "written", dir, replay_stop_name(res.stop),
				  (unsigned long long)res.exits, res.msg);
		rc = res.stop == REPLAY_STOP_DIVERGED ? -EBADMSG
		     : res.stop == REPLAY_STOP_ERROR ? -EIO : -EINVAL;
		goto out;
	}
	st->truncated = res.stop == REPLAY_STOP_TRUNCATED;
	if ((rc = tracedb_put_recording(w, "indexed-stop", replay_stop_name(res.stop))) ||
	    (rc = tracedb_put_recording(w, "indexed-result", res.msg))) {
		tracedb_error_set(err, "%s", tracedb_writer_error(w));
		goto out;
	}
	if (ix.opt->progress)
		ix.opt->progress(ix.opt->ctx, res.exits, ix.total);
	rc = tracedb_writer_finish(w, err);
	if (rc)
		goto out;
	if (rename(partial, path) < 0) {
		rc = -errno;
		tracedb_error_set(err, "renaming %s to %s: %s", partial, path, strerror(errno));
		goto out;
	}
	rc = sync_dir(dir);
	if (rc) {
		tracedb_error_set(err, "%s: fsync: %s", dir, strerror(-rc));
		goto out;
	}
	tracedb_obs_get_counts(ix.obs, &counts);
	st->exits = counts.exits;
	st->interrupts = counts.interrupts;
	st->serial_lines = counts.serial_lines;
	st->annotations = counts.annotations;
	st->clock_reads = counts.clock_reads;
	st->serial_inputs = counts.serial_inputs;
	st->events = counts.events;
	tracedb_writer_get_stats(w, &st->writer);
	if (stat(path, &sb) == 0)
		st->db_bytes = (uint64_t)sb.st_size;
out:
	if (rc)
		unlink(partial);
	tracedb_writer_free(w);
	tracedb_obs_free(ix.obs);
	if (ix.uh)
		ix.opt->units->close(ix.uh);
	replay_close(ix.r);
	introspect_symtab_free(syms);
	close(lock);            /* releases the lock */
	st->total_ns = tracedb_now_ns() - t0;
	return rc;
}
