/*
 * replayer_test.c — the replayer's logic against a scripted machine, no KVM.
 *
 * The fake machine and its recorder (tests/unit/replay_fake.h) write real
 * event logs; the replayer, driving the same fake through its seam
 * (replay/internal.h), has to reproduce them, find every asynchronous
 * point, notice every kind of damage and divergence, and come back exactly
 * from a saved state: save at many points, run to the end, restore
 * (machine copy + replayer state), run again, and compare the machine
 * operations the replayer made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/child_run.h"
#include "tests/unit/replay_fake.h"
#include "tests/unit/tap.h"

/* ---- replaying ------------------------------------------------------------ */

static struct replay *open_fake(const char *path, struct fake *f, uint64_t end_at,
				struct vmm_error *err)
{
	struct replay *r = replay_alloc("fake", NULL);

	fake_init(f, end_at);
	if (!r)
		return NULL;
	f->clock = replay_clock_read;
	f->clock_ctx = r;
	if (replay_attach(r, &fake_ops, f, 1, path, err)) {
		replay_close(r);
		return NULL;
	}
	return r;
}

/* How many operations of each kind (OP_*) the last replay_file made. */
static uint64_t last_ops[OP_HASH + 1];

static enum replay_stop replay_file(const char *path, uint64_t end_at, uint64_t flaw_at,
				    struct replay_result *res, struct replay_stats *st)
{
	struct fake f;
	struct vmm_error err = { "" };
	struct replay *r = open_fake(path, &f, end_at, &err);

	if (!r) {
		snprintf(res->msg, sizeof(res->msg), "open: %s", err.msg);
		return res->stop = REPLAY_STOP_ERROR;
	}
	f.flaw_at = flaw_at;
	if (replay_run(r, res))
		res->stop = REPLAY_STOP_ERROR;
	if (st)
		replay_get_stats(r, st);
	replay_close(r);
	memset(last_ops, 0, sizeof(last_ops));
	for (size_t i = 0; i < f.nops; i++)
		last_ops[f.ops[i].what]++;
	free(f.ops);
	return res->stop;
}

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

#define END_AT 150000                   /* instructions: about 6500 exits */

static void test_exact(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct rec rc = { 0 };
		struct replay_result res;
		struct replay_stats st;
		int rec_rc = record(tmp("a.lz4"), END_AT, seed, &rc, 1);

		ok(rec_rc == 0, "seed %llu: recorded %llu events, "
		   "%llu asynchronous points, %llu kicks right after an injection",
		   (unsigned long long)seed, (unsigned long long)rc.nevents,
		   (unsigned long long)rc.async_points, (unsigned long long)rc.kicked_injections);
		replay_file(tmp("a.lz4"), END_AT, 0, &res, &st);
		ok(res.stop == REPLAY_STOP_END && res.exit_status == 7 && res.events == rc.nevents,
		   "seed %llu: replays to the end, status 7, every event: %s",
		   (unsigned long long)seed, res.msg);
		ok(st.async_points == rc.async_points && st.bp_hits > st.async_points,
		   "seed %llu: found all %llu asynchronous points in %llu breakpoint hits",
		   (unsigned long long)seed, (unsigned long long)st.async_points,
		   (unsigned long long)st.bp_hits);
		/* The search's cost per hit (the replayer's only per-hit
		 * ioctls on KVM): one register read, and at most two debug
		 * writes (disarm with single-step, re-arm; arming and
		 * disarming around a point count within them). */
		ok(last_ops[OP_REGS] == st.bp_hits && last_ops[OP_DEBUG] <= 2 * st.bp_hits,
		   "seed %llu: %llu register reads and %llu debug writes for %llu hits",
		   (unsigned long long)seed, (unsigned long long)last_ops[OP_REGS],
		   (unsigned long long)last_ops[OP_DEBUG], (unsigned long long)st.bp_hits);
		if (seed == 1)
			ok(rc.kicked_injections > 0 && rc.async_points > 50 && rc.halts > 50,
			   "the recording has kicks right after injections, many points, and "
			   "%llu halts that waited for the timer", (unsigned long long)rc.halts);
	}
}

/* The number (1-based) of the first event of a type in a log. */
static uint64_t first_of(const char *path, enum replay_event_type type, unsigned nth)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct replay_event ev;
	uint64_t n = 0, found = 0;

	if (r && replay_log_reader_open(r, path) == 0)
		while (replay_log_next(r, &ev) == REPLAY_LOG_EVENT) {
			n++;
			if (ev.type == type && ++found == nth)
				break;
		}
	replay_log_reader_free(r);
	return found == nth ? n : 0;
}

static void expect(const char *path, enum replay_stop want, const char *msg_has,
		   const char *what)
{
	struct replay_result res;

	replay_file(path, END_AT, 0, &res, NULL);
	ok(res.stop == want && strstr(res.msg, msg_has), "%s: %s at exit %llu: %s", what,
	   replay_stop_name(res.stop), (unsigned long long)res.exits, res.msg);
}

static void test_divergence(void)
{
	struct rec rc = { 0 };
	struct replay_result res;
	static const struct {
		enum replay_event_type type;
		unsigned nth;
		const char *msg, *what;
	} drops[] = {
		{ REPLAY_EV_INJECT, 3, "replay injected vector 0x20", "an INJECT left out" },
		{ REPLAY_EV_POLL_SYNC, 10, "diverged", "a POLL_SYNC left out" },
		{ REPLAY_EV_POLL_ASYNC, 10, "diverged", "a POLL_ASYNC left out" },
		{ REPLAY_EV_SERIAL_IN, 2, "diverged", "serial input left out" },
		{ REPLAY_EV_CHECKSUM, 2, "no checksum of exit 2048", "a CHECKSUM left out" },
		{ REPLAY_EV_CLOCK, 50, "clock", "a clock value left out" },
	};

	ok(record(tmp("d.lz4"), END_AT, 5, &rc, 1) == 0, "record for the divergence tests");
	replay_file(tmp("d.lz4"), END_AT, 1500, &res, NULL);
	ok(res.stop == REPLAY_STOP_DIVERGED && res.exits == 2048 && strstr(res.msg, "checksum"),
	   "a machine whose OUT values differ from exit 1500 on: caught by the checksum at "
	   "exit 2048: %s", res.msg);
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		struct rec bad = { 0 };

		bad.drop_event = first_of(tmp("d.lz4"), drops[i].type, drops[i].nth);
		ok(bad.drop_event && record(tmp("bad.lz4"), END_AT, 5, &bad, 1) == 0,
		   "%s: recorded without event %llu", drops[i].what,
		   (unsigned long long)bad.drop_event);
		expect(tmp("bad.lz4"), REPLAY_STOP_DIVERGED, drops[i].msg, drops[i].what);
	}
	{
		struct rec bad = { 0 };

		bad.bump_clock = 40;
		ok(record(tmp("bad.lz4"), END_AT, 5, &bad, 1) == 0,
		   "record a guest that saw a clock value other than the logged one");
		expect(tmp("bad.lz4"), REPLAY_STOP_DIVERGED, "diverged", "a wrong clock value");
	}
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n = -1;

	if (f && fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (f)
		fclose(f);
	return n;
}

static void patch(const char *path, long off, const char *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || pwrite(fd, bytes, n, off) != (ssize_t)n)
		diag("patching %s failed", path);
	if (fd >= 0)
		close(fd);
}

static void test_damage(void)
{
	struct rec rc = { 0 };
	const char *good = tmp("g.lz4"), *bad = tmp("bad.lz4");
	char cmd[512];
	long n;

	ok(record(good, END_AT, 6, &rc, 1) == 0, "record for the damage tests");
	n = file_size(good);
	snprintf(cmd, sizeof(cmd), "cp %s %s", good, bad);
	ok(system(cmd) == 0 && truncate(bad, n - 8) == 0, "cut off the end mark and content "
	   "checksum (8 bytes)");
	expect(bad, REPLAY_STOP_TRUNCATED, "truncated after its end record",
	       "a frame without its end mark");
	ok(system(cmd) == 0, "a copy");
	{
		char last;
		int fd = open(bad, O_RDONLY);

		ok(fd >= 0 && pread(fd, &last, 1, n - 1) == 1, "read the content checksum");
		if (fd >= 0)
			close(fd);
		last ^= 0x5a;
		patch(bad, n - 1, &last, 1);
	}
	expect(bad, REPLAY_STOP_CORRUPT, "contentChecksum", "a wrong content checksum");
	ok(system(cmd) == 0, "a copy");
	patch(bad, n, "junk", 4);
	expect(bad, REPLAY_STOP_CORRUPT, "trailing data", "junk after the frame");
	ok(system(cmd) == 0 && truncate(bad, n / 2) == 0, "cut the log in half");
	expect(bad, REPLAY_STOP_TRUNCATED, "truncated", "half a log");
	ok(system(cmd) == 0, "a copy");
	patch(bad, n / 2, "\xff\xff", 2);
	expect(bad, REPLAY_STOP_CORRUPT, "damaged", "two bytes overwritten in the middle");
	ok(record(bad, END_AT, 6, &(struct rec){ 0 }, 0) == 0,
	   "record the same, flushed but never closed");
	expect(bad, REPLAY_STOP_TRUNCATED, "truncated after its end record",
	       "a log whose recorder died after END");
}

/* Run r to its end; the operations made from ops[from] on go to *out. */
static void run_to_end(struct replay *r, struct fake *f, size_t from, struct replay_result *res,
		       struct op **out, size_t *nout)
{
	if (replay_run(r, res))
		res->stop = REPLAY_STOP_ERROR;
	*nout = f->nops - from;
	*out = malloc((*nout + 1) * sizeof(**out));
	memcpy(*out, f->ops + from, *nout * sizeof(**out));
}

static int same_run(const struct replay_result *a, const struct op *oa, size_t na,
		    const struct replay_result *b, const struct op *ob, size_t nb)
{
	if (a->stop != REPLAY_STOP_END || b->stop != REPLAY_STOP_END)
		return diag("stops: %s (%s) / %s (%s)", replay_stop_name(a->stop), a->msg,
			    replay_stop_name(b->stop), b->msg), 0;
	if (a->state_hash != b->state_hash || a->exits != b->exits || a->events != b->events)
		return diag("ends differ: %s / %s", a->msg, b->msg), 0;
	/* The settings made before the first entry take effect together at
	 * it, in whatever order they were made: compare from there. */
	while (na > 0 && oa->what != OP_STEP)
		oa++, na--;
	while (nb > 0 && ob->what != OP_STEP)
		ob++, nb--;
	for (size_t i = 0; i < na && i < nb; i++)
		if (oa[i].what != ob[i].what || oa[i].a != ob[i].a || oa[i].b != ob[i].b ||
		    oa[i].c != ob[i].c)
			return diag("operation %zu of %zu differs: %d %llx / %d %llx", i, na,
				    oa[i].what, (unsigned long long)oa[i].a, ob[i].what,
				    (unsigned long long)ob[i].a), 0;
	return na == nb || (diag("%zu / %zu operations", na, nb), 0);
}

/*
 * Stop at exit `at` (and, with steps > 0, single-step that many times
 * further, which lands inside fingerprint searches), save the machine and
 * the replayer's state, run to the end; restore both and run to the end
 * again, in the same replayer and in a fresh one: the same operations.
 */
static int checkpoint_at(const char *path, uint64_t at, int steps, int *was_searching)
{
	struct fake f, f2;
	struct fake_cpu snap;
	struct vmm_error err = { "" };
	struct replay *r = open_fake(path, &f, END_AT, &err), *r2 = NULL;
	struct replay_result res, a, b, c;
	struct op *oa = NULL, *ob = NULL, *oc = NULL;
	size_t na = 0, nb = 0, nc = 0, len;
	uint8_t *state = NULL;
	int good = 0;

	if (!r)
		return diag("open: %s", err.msg), 0;
	replay_stop_at(r, at);
	if (replay_run(r, &res) || res.stop != REPLAY_STOP_POSITION) {
		diag("to exit %llu: %s", (unsigned long long)at, res.msg);
		goto out;
	}
	if (steps) {
		struct vmm_debug d = { .single_step = true };

		if (replay_set_debug(r, &d))
			goto out;
		for (int i = 0; i < steps; i++)
			if (replay_run(r, &res) || res.stop != REPLAY_STOP_DEBUG)
				goto out;
		*was_searching |= r->searching;
	}
	len = replay_state_size(r);
	state = malloc(len);
	if (replay_state_save(r, state, len, &err))
		goto out;
	snap = f.cpu;
	na = f.nops;
	/* The debugger lets go: its settings are not part of the state. */
	if (steps && replay_set_debug(r, &(struct vmm_debug){ 0 }))
		goto out;
	run_to_end(r, &f, na, &a, &oa, &na);
	f.cpu = snap;
	if (replay_state_restore(r, state, len, &err)) {
		diag("restore: %s", err.msg);
		goto out;
	}
	run_to_end(r, &f, f.nops, &b, &ob, &nb);
	r2 = open_fake(path, &f2, END_AT, &err);
	if (!r2)
		goto out;
	f2.cpu = snap;
	if (replay_state_restore(r2, state, len, &err)) {
		diag("restore in a fresh replay: %s", err.msg);
		goto out;
	}
	run_to_end(r2, &f2, f2.nops, &c, &oc, &nc);
	good = same_run(&a, oa, na, &b, ob, nb) && same_run(&a, oa, na, &c, oc, nc);
	if (!good)
		diag("checkpoint at exit %llu, %d steps on", (unsigned long long)at, steps);
out:
	free(oa);
	free(ob);
	free(oc);
	free(state);
	replay_close(r);
	replay_close(r2);
	free(f.ops);
	if (r2)
		free(f2.ops);
	return good;
}

static void test_state(void)
{
	struct rec rc = { 0 };
	struct replay_result res;
	const char *path = tmp("s.lz4");
	uint64_t total;
	int good = 0, tried = 0, searching = 0;
	struct fake f;
	struct vmm_error err = { "" };
	struct replay *r;

	ok(record(path, END_AT, 7, &rc, 1) == 0, "record for the state tests");
	replay_file(path, END_AT, 0, &res, NULL);
	total = res.exits;
	for (uint64_t at = 1; at < total; at += total / 23 + 1, tried++)
		good += checkpoint_at(path, at, 0, &searching);
	is_int(good, tried, "saved at %d exit counts: restored, the replay makes the same "
	       "operations to the same end (same replayer, fresh replayer)", tried);
	good = tried = 0;
	for (uint64_t at = 3; at < total; at += total / 11 + 1)
		for (int steps = 1; steps <= 41; steps += 8, tried++)
			good += checkpoint_at(path, at, steps, &searching);
	is_int(good, tried, "the same at %d points reached by single steps", tried);
	ok(searching, "some of them were inside a fingerprint search");

	r = open_fake(path, &f, END_AT, &err);
	if (r) {
		size_t len = replay_state_size(r);
		uint8_t *st = malloc(len);

		memset(st, 0x55, len);
		ok(replay_state_restore(r, st, len, &err) == -EINVAL &&
		   strstr(err.msg, "not a state of this replay"), "bytes that are not a state "
		   "are refused: %s", err.msg);
		ok(replay_state_restore(r, st, 10, &err) == -EINVAL && strstr(err.msg, "too short"),
		   "and 10 bytes: %s", err.msg);

		ok(replay_state_save(r, st, len - 1, &err) == -ENOSPC, "a short buffer: %s",
		   err.msg);
		ok(replay_state_save(r, st, len, &err) == 0 &&
		   replay_state_restore(r, st, len - 8, &err) == -EINVAL, "a cut state is refused");
		free(st);
	}
	replay_close(r);
	free(f.ops);
}

/* A log of linked blocks, as rrvm wrote before independent blocks: it
 * replays, and a checkpoint in it restores (by reading it again). */
static void test_linked(void)
{
	char cmd[512];
	int searching = 0;
	struct replay_result res;

	snprintf(cmd, sizeof(cmd), "lz4 -dc %s | lz4 -q -BD -B4 -BX -f - %s", tmp("s.lz4"),
		 tmp("linked.lz4"));
	if (system(cmd) != 0) {
		ok(0, "lz4 recompresses the log with linked blocks: %s", cmd);
		return;
	}
	replay_file(tmp("linked.lz4"), END_AT, 0, &res, NULL);
	ok(res.stop == REPLAY_STOP_END, "a log of linked blocks replays: %s", res.msg);
	ok(checkpoint_at(tmp("linked.lz4"), 3000, 5, &searching),
	   "a checkpoint in a log of linked blocks restores");
}

static uint64_t mix64(uint64_t x)
{
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

/* The fast search's estimator (replay/stride.c) on register arrays. */
static void test_stride(void)
{
	uint64_t obs[3][REPLAY_GPRS], t[REPLAY_GPRS];
	unsigned reg = 99;
	int64_t step = 0, left = 0;

	for (unsigned k = 0; k < 3; k++)
		for (unsigned j = 0; j < REPLAY_GPRS; j++)
			obs[k][j] = mix64(k * 31 + j + 1);      /* no steps */
	memcpy(t, obs[2], sizeof(t));
	t[0] ^= 0x5555;
	ok(!replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left),
	   "registers that do not count: no estimate");

	obs[0][2] = 10, obs[1][2] = 11, obs[2][2] = 12, t[2] = 50;     /* rcx: i++ */
	ok(replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left) &&
	   reg == 2 && step == 1 && left == 38, "a counter of step 1: rcx, 38 passes to go "
	   "(reg %u step %lld left %lld)", reg, (long long)step, (long long)left);
	ok(!replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 37, &reg, &step, &left),
	   "farther than the bound: no estimate");

	obs[0][4] = 1000, obs[1][4] = 992, obs[2][4] = 984, t[4] = 904;  /* rsi: p -= 8 */
	ok(replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left) &&
	   reg == 4 && step == -8 && left == 10, "a pointer stepping down by 8 is nearer: rsi, 10 "
	   "to go (reg %u step %lld left %lld)", reg, (long long)step, (long long)left);
	t[4] = 908;
	ok(replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left) &&
	   reg == 2 && left == 38, "a target off the pointer's steps: that register is no estimate");

	obs[2][2] = 13;         /* 10, 11, 13: not a constant step */
	ok(!replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left),
	   "a step that changes between the hits: no estimate");
	ok(replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 2, t, 1000, &reg, &step, &left) &&
	   reg == 2 && left == 39, "with two hits the first step is believed (39 to go from 11)");

	obs[2][2] = 12, t[2] = 5;       /* the counter passed the target's value */
	ok(!replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left),
	   "a counter that says the point is behind: no estimate");

	obs[0][2] = UINT64_MAX - 1, obs[1][2] = UINT64_MAX, obs[2][2] = 0, t[2] = 7;
	ok(replay_stride_learn((const uint64_t(*)[REPLAY_GPRS])obs, 3, t, 1000, &reg, &step, &left) &&
	   reg == 2 && left == 7, "a counter wrapping past 2^64 counts on");

	ok(replay_stride_remaining(obs[2], t, 2, 1, &left) && left == 7, "remaining: 7 of step 1");
	ok(!replay_stride_remaining(obs[2], t, 2, 2, &left), "remaining: 7 is no whole number of 2");
	ok(replay_stride_remaining(obs[2], t, 2, -1, &left) && left == -7,
	   "remaining: negative when the step goes the other way");
	t[2] = (uint64_t)INT64_MIN;
	ok(!replay_stride_remaining(obs[2], t, 2, -1, &left), "remaining: INT64_MIN / -1 refused");
	ok(!replay_stride_remaining(obs[2], t, 2, 0, &left), "remaining: step 0 refused");
}

/* ---- broken invariants (REPLAY_CHECK) ------------------------------------------ */

/* A check that fails in a replay stopped at exit 100: the child prints
 * its line, the parent wants it in the report, with the replay's place. */
/* The children's replay of the recording at path, or NULL (said). */
static struct replay *child_open(void *path, struct fake *f)
{
	struct vmm_error err = { "" };
	struct replay *r = open_fake(path, f, END_AT, &err);

	if (!r)
		printf("open: %s\n", err.msg);
	return r;
}

static void check_fails(void *path)
{
	struct fake f;
	struct replay_result res;
	struct replay *r = child_open(path, &f);

	if (!r)
		return;
	replay_stop_at(r, 100);
	if (replay_run(r, &res) || res.stop != REPLAY_STOP_POSITION) {
		printf("run: %s\n", res.msg);
		return;
	}
	printf("LINE %d\n", __LINE__ + 1);
	REPLAY_CHECK(r, res.exits != 100, "stopped at exit %" PRIu64, res.exits);
}

/* A machine that breaks vmm_step's contract (one OUT counted twice): the
 * replayer's own check stops it there, before it compares anything. */
static void machine_miscounts(void *path)
{
	struct fake f;
	struct replay_result res;
	struct replay *r = child_open(path, &f);

	if (!r)
		return;
	f.miscount_at = 200;
	if (replay_run(r, &res))
		printf("replay_run failed\n");
	printf("went on: %s\n", res.msg);
}

static void test_check(void)
{
	struct rec rc = { 0 };
	struct child_out o;
	char want[256];
	const char *line;

	ok(record(tmp("check.lz4"), END_AT, 1, &rc, 1) == 0, "recorded a log for the checks");
	if (child_run(check_fails, (void *)tmp("check.lz4"), &o)) {
		ok(0, "fork a child");
		return;
	}
	line = strstr(o.out, "LINE ");
	snprintf(want, sizeof(want), "rrvm: internal error at tests/unit/replayer_test.c:%d in "
		 "check_fails: res.exits != 100: stopped at exit 100\n", line ? atoi(line + 5) : -1);
	ok(child_aborted(&o) && line && strstr(o.err, want), "REPLAY_CHECK: a failed check aborts "
	   "with the place, the condition and the values (status 0x%x)", o.status);
	ok(strstr(o.err, "rrvm: no machine at hand here") &&
	   strstr(o.err, "rrvm: the replay of fake: at exit 100, ") && strstr(o.err, " next '") &&
	   strstr(o.err, "  searching=0 "), "it says the fake has no vCPU state, then where the "
	   "replay is: exit, events, the next event, the search");
	if (!ok(child_run(machine_miscounts, (void *)tmp("check.lz4"), &o) == 0 && child_aborted(&o) &&
		strstr(o.err, "in replay_run: ev.exits == before + replay_event_is_sync(&ev)") &&
		strstr(o.err, ": a step from exit 199 ended in event kind 0 with exit count 201 "
		       "(the machine says 201)") && !strstr(o.out, "went on"),
		"a machine that counts one exit twice stops the replay at that step"))
		diag("stdout: %s\nstderr: %s", o.out, o.err);
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/replayer_test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_exact();
	test_divergence();
	test_damage();
	test_state();
	test_linked();
	test_stride();
	test_check();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return tap_done();
}
