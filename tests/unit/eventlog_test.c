/*
 * eventlog_test.c — unit tests of the event log (replay/eventlog.h).
 *
 * Round trips (every type at its edge values, a long random stream, the text
 * form), damage (truncation at every byte, single-bit and whole-byte flips
 * at every byte, hand-made bad streams), the writer's failure paths (bad
 * events, ENOSPC, EFBIG, SIGKILL after a flush) and the real lz4 and logtool
 * programs on our files. Also prints the encoder's throughput.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replay/eventlog.h"
#include "tests/unit/tap.h"

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* ---- event lists with their own copies of bytes and pages ---------------- */

struct evlist {
	struct replay_event *ev;
	size_t n, cap;
};

static void add(struct evlist *l, const struct replay_event *ev)
{
	struct replay_event *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->ev = realloc(l->ev, l->cap * sizeof(*l->ev));
		if (!l->ev)
			abort();
	}
	e = &l->ev[l->n++];
	*e = *ev;
	if (ev->type == REPLAY_EV_SERIAL_IN && ev->serial_in.len) {
		uint8_t *b = malloc(ev->serial_in.len);

		memcpy(b, ev->serial_in.data, ev->serial_in.len);
		e->serial_in.data = b;
	}
	if (ev->type == REPLAY_EV_POLL_ASYNC)
		e->poll_async.pages = NULL;
	if (ev->type == REPLAY_EV_POLL_ASYNC && ev->poll_async.npages) {
		uint64_t *p = malloc(ev->poll_async.npages * sizeof(*p));

		memcpy(p, ev->poll_async.pages, ev->poll_async.npages * sizeof(*p));
		e->poll_async.pages = p;
	}
}

static void evlist_free(struct evlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->ev[i].type == REPLAY_EV_SERIAL_IN)
			free((void *)l->ev[i].serial_in.data);
		if (l->ev[i].type == REPLAY_EV_POLL_ASYNC)
			free((void *)l->ev[i].poll_async.pages);
	}
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A random but valid stream of n events, then END. */
static void random_stream(struct evlist *l, uint64_t seed, size_t n)
{
	uint64_t s = seed | 1, exits = 0, pages[64];
	uint8_t bytes[REPLAY_SERIAL_IN_MAX];
	struct replay_event ev;

	for (size_t i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		exits += rnd(&s) % 3 == 0 ? rnd(&s) % 1000 : 0;
		switch (rnd(&s) % 6) {
		case 0:
			ev.type = REPLAY_EV_CLOCK;
			ev.clock.kind = rnd(&s) & 1;
			ev.clock.value = rnd(&s) % 4 ? rnd(&s) % 100000000 : rnd(&s);
			break;
		case 1:
			ev.type = REPLAY_EV_SERIAL_IN;
			ev.serial_in.len = 1 + rnd(&s) % (rnd(&s) % 8 ? 16 : REPLAY_SERIAL_IN_MAX);
			for (uint32_t j = 0; j < ev.serial_in.len; j++)
				bytes[j] = (uint8_t)rnd(&s);
			ev.serial_in.data = bytes;
			break;
		case 2:
			ev.type = REPLAY_EV_POLL_SYNC;
			ev.poll_sync.exits = exits;
			break;
		case 3:
			ev.type = REPLAY_EV_POLL_ASYNC;
			ev.poll_async.exits = exits;
			ev.poll_async.rip = rnd(&s);
			ev.poll_async.regs_hash = rnd(&s);
			ev.poll_async.mem_hash = rnd(&s);
			ev.poll_async.npages = rnd(&s) % 64;
			pages[0] = rnd(&s) % (1u << 20);
			for (uint32_t j = 1; j < ev.poll_async.npages; j++)
				pages[j] = pages[j - 1] + 1 + rnd(&s) % 300;
			ev.poll_async.pages = pages;
			break;
		case 4:
			ev.type = REPLAY_EV_INJECT;
			ev.inject.exits = exits;
			ev.inject.vector = (uint8_t)rnd(&s);
			break;
		default:
			ev.type = REPLAY_EV_CHECKSUM;
			ev.checksum.exits = exits;
			ev.checksum.sum = rnd(&s);
			break;
		}
		add(l, &ev);
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = REPLAY_EV_END;
	ev.end.exits = exits;
	ev.end.status = 0x21;
	ev.end.state_hash = rnd(&s);
	add(l, &ev);
}

/* Write l to path, flushing every flush_every events (0: never). */
static int write_log(const char *path, const struct evlist *l, size_t flush_every, int do_close)
{
	struct replay_log_writer *w = replay_log_writer_create();
	int err = w ? replay_log_writer_open(w, path) : -ENOMEM;

	for (size_t i = 0; !err && i < l->n; i++) {
		err = replay_log_append(w, &l->ev[i]);
		if (!err && flush_every && (i + 1) % flush_every == 0)
			err = replay_log_flush(w);
	}
	if (!err)
		err = do_close ? replay_log_close(w) : replay_log_flush(w);
	if (err)
		diag("write_log %s: %s", path, w ? replay_log_writer_error(w) : "no memory");
	replay_log_writer_free(w);
	return err;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	*n = fread(buf, 1, (size_t)len, f);
	fclose(f);
	return buf;
}

struct readres {
	enum replay_log_status st;
	size_t n;               /* events returned */
	size_t good;            /* leading events equal to the expected ones */
	char msg[640];
};

/* Read a log from an open fd, comparing with want (may be NULL). */
static struct readres read_fd(int fd, const struct evlist *want)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct readres res = { .st = REPLAY_LOG_ERROR };
	struct replay_event ev;

	if (!r || replay_log_reader_open_fd(r, fd, "mem") < 0) {
		replay_log_reader_free(r);
		return res;
	}
	while ((res.st = replay_log_next(r, &ev)) == REPLAY_LOG_EVENT) {
		if (res.good == res.n && want && res.n < want->n && replay_event_equal(&ev, &want->ev[res.n]))
			res.good++;
		res.n++;
	}
	snprintf(res.msg, sizeof(res.msg), "%s", replay_log_reader_error(r));
	replay_log_reader_free(r);
	return res;
}

static struct readres read_mem(const uint8_t *buf, size_t len, const struct evlist *want)
{
	int fd = memfd_create("eventlog", MFD_CLOEXEC);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		struct readres res = { .st = REPLAY_LOG_ERROR };

		snprintf(res.msg, sizeof(res.msg), "memfd: %s", strerror(errno));
		return res;
	}
	return read_fd(fd, want);
}

static struct readres read_path(const char *path, const struct evlist *want)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		struct readres res = { .st = REPLAY_LOG_ERROR };

		return res;
	}
	return read_fd(fd, want);
}

/* ---- tests -------------------------------------------------------------- */

static void test_names(void)
{
	int good = 1;

	for (unsigned t = 0; t < 300; t++) {
		const char *nm = replay_event_type_name(t);

		if (nm && replay_event_type_from_name(nm, strlen(nm)) != t)
			good = 0;
	}
	ok(good, "event type names map back to their types");
	is_str(replay_event_type_name(REPLAY_EV_POLL_ASYNC), "poll_async", "poll_async name");
	ok(replay_event_type_name(0) == NULL && replay_event_type_name(200) == NULL,
	   "no name for types 0 and 200");
	is_str(replay_log_status_name(REPLAY_LOG_TRUNCATED), "truncated", "status name");
}

static void edge_events(struct evlist *l, uint64_t *big, uint32_t nbig)
{
	static uint8_t serial[REPLAY_SERIAL_IN_MAX], one[1];
	static uint64_t two[2] = { 0, UINT64_MAX }, single[1] = { 7 };
	struct replay_event ev;

	for (size_t i = 0; i < sizeof(serial); i++)
		serial[i] = (uint8_t)(i * 7);
#define EV(...) do { memset(&ev, 0, sizeof(ev)); ev = (struct replay_event)__VA_ARGS__; add(l, &ev); } while (0)
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 0, 0 } });
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 0, UINT64_MAX } });
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 0, 0 } });
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 1, UINT64_MAX } });
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 1, 1 } });
	EV({ .type = REPLAY_EV_CLOCK, .clock = { 1, 1ULL << 63 } });
	EV({ .type = REPLAY_EV_SERIAL_IN, .serial_in = { 1, one } });
	EV({ .type = REPLAY_EV_SERIAL_IN, .serial_in = { REPLAY_SERIAL_IN_MAX, serial } });
	EV({ .type = REPLAY_EV_POLL_SYNC, .poll_sync = { 0 } });
	EV({ .type = REPLAY_EV_POLL_SYNC, .poll_sync = { 0 } });
	EV({ .type = REPLAY_EV_POLL_ASYNC, .poll_async = { 0, 0, 0, 0, 0, NULL } });
	EV({ .type = REPLAY_EV_POLL_ASYNC, .poll_async = { 1, UINT64_MAX, UINT64_MAX, UINT64_MAX, 1, single } });
	EV({ .type = REPLAY_EV_POLL_ASYNC, .poll_async = { 1, 0xffffffff81000000, 1, 2, 2, two } });
	EV({ .type = REPLAY_EV_POLL_ASYNC, .poll_async = { 1000, 0x1000, 3, 4, nbig, big } });
	EV({ .type = REPLAY_EV_INJECT, .inject = { 1000, 0 } });
	EV({ .type = REPLAY_EV_INJECT, .inject = { 1000, 255 } });
	EV({ .type = REPLAY_EV_CHECKSUM, .checksum = { 1000, 0 } });
	EV({ .type = REPLAY_EV_CHECKSUM, .checksum = { UINT64_MAX - 1, UINT64_MAX } });
	EV({ .type = REPLAY_EV_END, .end = { UINT64_MAX, 255, UINT32_MAX, UINT64_MAX } });
#undef EV
}

static void test_round_trip(void)
{
	struct evlist l = { 0 };
	uint32_t nbig = REPLAY_PAGES_MAX;
	uint64_t *big = malloc(nbig * sizeof(*big)), s = 42;
	struct readres res;
	int text_ok = 1;
	char *buf = malloc(1 << 16), msg[256];
	struct replay_event_storage st = { 0 };
	struct replay_event back;

	/* Gaps up to 2^27 make 4-byte varints: a 4 MiB event over many blocks. */
	big[0] = 5;
	for (uint32_t i = 1; i < nbig; i++)
		big[i] = big[i - 1] + 1 + rnd(&s) % (1u << 27);
	edge_events(&l, big, nbig);
	ok(write_log(tmp("edge.lz4"), &l, 0, 1) == 0, "write every event type at its edge values");
	res = read_path(tmp("edge.lz4"), &l);
	is_int(res.st, REPLAY_LOG_END_OF_LOG, "edge values: read to the end (%s)", res.msg);
	is_int(res.n, l.n, "edge values: %zu events back", l.n);
	is_int(res.good, l.n, "edge values: every event equal");

	for (size_t i = 0; i < l.n; i++) {
		struct replay_event ev = l.ev[i];

		if (ev.type == REPLAY_EV_POLL_ASYNC && ev.poll_async.npages > 1000)
			ev.poll_async.npages = 1000;
		replay_event_format(buf, 1 << 16, &ev);
		if (replay_event_parse(buf, &back, &st, msg, sizeof(msg)) != 0 ||
		    !replay_event_equal(&ev, &back)) {
			diag("text round trip failed: %s (%s)", buf, msg);
			text_ok = 0;
		}
	}
	ok(text_ok, "text form: format then parse gives every edge event back");
	replay_event_storage_free(&st);
	evlist_free(&l);
	free(big);
	free(buf);
}

static void test_random_stream(void)
{
	struct evlist l = { 0 };
	struct readres res;

	random_stream(&l, 7, 200000);
	ok(write_log(tmp("random.lz4"), &l, 0, 1) == 0, "write a random stream of %zu events", l.n);
	res = read_path(tmp("random.lz4"), &l);
	is_int(res.st, REPLAY_LOG_END_OF_LOG, "random stream: read to the end (%s)", res.msg);
	is_int(res.good, l.n, "random stream: all %zu events equal", l.n);
	evlist_free(&l);
}

/* Offsets of the 4th byte of each block size field (its top bit says
 * "stored uncompressed") in one of our frames. */
static void block_flag_offsets(const uint8_t *f, size_t n, uint8_t *is_flag)
{
	size_t off = 7;         /* magic, FLG, BD, HC: our writer sets no optional fields */

	while (off + 4 <= n) {
		uint32_t sz = f[off] | f[off + 1] << 8 | f[off + 2] << 16 | (uint32_t)f[off + 3] << 24;

		is_flag[off + 3] = 1;
		if (sz == 0)
			break;
		off += 4 + (sz & 0x7fffffff) + 4;
	}
}

static void damage_tests(const char *what, const struct evlist *l, size_t flush_every)
{
	const char *path = tmp("damage.lz4");
	size_t n, bad_trunc = 0, bad_flip = 0, flag_wrong = 0, flips = 0;
	uint8_t *file, *copy, *is_flag;
	struct readres res;

	if (write_log(path, l, flush_every, 1) != 0 || !(file = slurp(path, &n))) {
		ok(0, "%s: write the log", what);
		return;
	}
	ok((file[4] & 0x09) == 0, "%s: frame header has no optional fields", what);
	res = read_mem(file, n, l);
	is_int(res.st, REPLAY_LOG_END_OF_LOG, "%s: the whole file (%zu bytes) reads to the end", what, n);

	for (size_t len = 0; len < n; len++) {
		res = read_mem(file, len, l);
		if (res.st != REPLAY_LOG_TRUNCATED || res.good != res.n) {
			if (bad_trunc++ < 5)
				diag("prefix of %zu bytes: %s, %zu events, %zu good: %s", len,
				     replay_log_status_name(res.st), res.n, res.good, res.msg);
		}
	}
	ok(bad_trunc == 0, "%s: each of the %zu proper prefixes gives TRUNCATED and only right events",
	   what, n);

	copy = malloc(n);
	is_flag = calloc(n, 1);
	block_flag_offsets(file, n, is_flag);
	for (size_t off = 0; off < n; off++) {
		for (int k = 0; k < 9; k++) {
			uint8_t mask = k < 8 ? (uint8_t)(1u << k) : 0xff;
			int known_blind = is_flag[off] && mask == 0x80;

			memcpy(copy, file, n);
			copy[off] ^= mask;
			res = read_mem(copy, n, l);
			flips++;
			if (res.st != REPLAY_LOG_CORRUPT && res.st != REPLAY_LOG_TRUNCATED) {
				bad_flip++;
				diag("flip 0x%02x at %zu: %s", mask, off, replay_log_status_name(res.st));
			} else if (res.good != res.n && !known_blind) {
				bad_flip++;
				diag("flip 0x%02x at %zu: %zu events, only %zu right: %s", mask, off,
				     res.n, res.good, res.msg);
			} else if (res.good != res.n) {
				flag_wrong++;
			}
		}
	}
	ok(bad_flip == 0, "%s: %zu flips (8 single bits and 0xff at every byte): all CORRUPT or "
	   "TRUNCATED, no wrong event", what, flips);
	/* Flipping a block's "uncompressed" bit keeps its checksum valid (it
	 * covers the stored bytes); only the content checksum at the end of the
	 * frame catches it, after the garbage may have decoded as events. */
	diag("%s: %zu flips of a block's uncompressed flag decoded wrong events before CORRUPT",
	     what, flag_wrong);
	free(is_flag);
	free(copy);
	free(file);
}

static void test_damage(void)
{
	struct evlist small = { 0 }, multi = { 0 };

	random_stream(&small, 99, 25);
	damage_tests("one block", &small, 0);
	random_stream(&multi, 123, 40);
	damage_tests("many blocks", &multi, 3);
	evlist_free(&small);
	evlist_free(&multi);
}

/* ---- hand-made streams ---------------------------------------------------- */

struct raw {
	uint8_t b[256];
	size_t n;
};

static void rb(struct raw *r, uint8_t v) { r->b[r->n++] = v; }

static void rv(struct raw *r, uint64_t v)
{
	do {
		rb(r, (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void rhdr(struct raw *r)
{
	memcpy(r->b, "RRVMEVT\n", 8);
	r->n = 8;
	rv(r, 1);
}

static void rend(struct raw *r)
{
	rb(r, REPLAY_EV_END);
	rv(r, 0); rv(r, 0); rv(r, 0); rv(r, 0);
}

static uint8_t *lz4_wrap(const uint8_t *src, size_t n, size_t *outn)
{
	LZ4F_preferences_t p = { 0 };
	size_t cap;
	uint8_t *out;

	p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	p.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
	cap = LZ4F_compressFrameBound(n, &p) + 64;
	out = malloc(cap);
	*outn = LZ4F_compressFrame(out, cap, src, n, &p);
	if (LZ4F_isError(*outn))
		abort();
	return out;
}

static void expect_corrupt(const struct raw *r, const char *want, const char *what)
{
	size_t n;
	uint8_t *f = lz4_wrap(r->b, r->n, &n);
	struct readres res = read_mem(f, n, NULL);

	is_int(res.st, REPLAY_LOG_CORRUPT, "%s gives CORRUPT", what);
	if (!ok(strstr(res.msg, want) != NULL, "%s: message names \"%s\"", what, want))
		diag("message: %s", res.msg);
	free(f);
}

static void test_bad_streams(void)
{
	struct raw r;
	uint8_t *f, *g;
	size_t n;
	struct readres res;

	rhdr(&r); r.b[6] = 'X'; rend(&r);
	expect_corrupt(&r, "bad magic \"RRVMEVX\\x0a\"", "bad magic");
	rhdr(&r); r.n = 8; rv(&r, 3); rend(&r);
	expect_corrupt(&r, "offset 8: event log format version 3; this rrvm reads versions 1 to 2",
		       "version 3");
	rhdr(&r); r.n = 8; rv(&r, 0); rend(&r);
	expect_corrupt(&r, "offset 8: event log format version 0; this rrvm reads versions 1 to 2",
		       "version 0");
	rhdr(&r); r.n = 8; rv(&r, 300); rend(&r);
	expect_corrupt(&r, "version 300", "version 300");
	rhdr(&r); rb(&r, 3); rv(&r, 10); rb(&r, 3); rv(&r, UINT64_MAX - 4); rend(&r);
	expect_corrupt(&r, "offset 12: poll_sync: exits decrease", "decreasing exits");
	rhdr(&r); rend(&r); rb(&r, 3); rv(&r, 0);
	expect_corrupt(&r, "offset 14: data after the END event", "event after END");
	rhdr(&r); rend(&r); rend(&r);
	expect_corrupt(&r, "offset 14: data after the END event", "second END");
	rhdr(&r); rb(&r, 3); for (int i = 0; i < 10; i++) rb(&r, 0x80); rb(&r, 1); rend(&r);
	expect_corrupt(&r, "offset 10: exits: varint longer than 10 bytes", "11-byte varint");
	rhdr(&r); rb(&r, 3); for (int i = 0; i < 9; i++) rb(&r, 0xff); rb(&r, 0x02); rend(&r);
	expect_corrupt(&r, "offset 10: exits: varint overflows 64 bits", "varint over 64 bits");
	rhdr(&r); rb(&r, 3); rb(&r, 0x85); rb(&r, 0x00); rend(&r);
	expect_corrupt(&r, "offset 10: exits: non-minimal varint", "non-minimal varint");
	rhdr(&r); rb(&r, 3); rv(&r, 1); rb(&r, 0x09); rend(&r);
	expect_corrupt(&r, "offset 11: unknown event type 0x09", "unknown type 9");
	rhdr(&r); rb(&r, 0); rend(&r);
	expect_corrupt(&r, "offset 9: unknown event type 0x00", "type 0");
	rhdr(&r); rb(&r, 1); rv(&r, 2); rv(&r, 5); rend(&r);
	expect_corrupt(&r, "offset 10: clock: kind 2 out of range", "clock kind 2");
	rhdr(&r); rb(&r, 5); rv(&r, 0); rv(&r, 256); rend(&r);
	expect_corrupt(&r, "inject: vector 256 out of range", "vector 256");
	rhdr(&r); rb(&r, 2); rv(&r, 0); rend(&r);
	expect_corrupt(&r, "serial_in: data length 0 not in 1..4096", "empty serial input");
	rhdr(&r); rb(&r, 2); rv(&r, 4097); rend(&r);
	expect_corrupt(&r, "data length 4097", "4097 bytes of serial input");
	rhdr(&r); rb(&r, 4); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, 2); rv(&r, 5); rv(&r, 0);
	rend(&r);
	expect_corrupt(&r, "offset 16: pages not strictly ascending", "repeated page");
	rhdr(&r); rb(&r, 4); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, REPLAY_PAGES_MAX + 1);
	rend(&r);
	expect_corrupt(&r, "1048577 pages, more than 1048576", "too many pages");
	rhdr(&r); rb(&r, 4); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, 0); rv(&r, 2); rv(&r, UINT64_MAX);
	rv(&r, 1); rend(&r);
	expect_corrupt(&r, "pages overflow", "page number overflow");
	rhdr(&r); rb(&r, 3); rv(&r, 1);
	expect_corrupt(&r, "frame ends at offset 11 without an END event", "no END");
	rhdr(&r); rb(&r, 6); rv(&r, 1);
	expect_corrupt(&r, "frame ends inside the event at offset 9", "frame ends inside an event");
	r.n = 0; memcpy(r.b, "RRVM", 4); r.n = 4;
	expect_corrupt(&r, "inside the log header", "frame ends inside the header");
	r.n = 0;
	expect_corrupt(&r, "inside the log header", "empty frame");

	/* Framing: trailing data, a second frame, not LZ4 at all. */
	rhdr(&r); rend(&r);
	f = lz4_wrap(r.b, r.n, &n);
	g = malloc(2 * n);
	memcpy(g, f, n);
	g[n] = 0;
	res = read_mem(g, n + 1, NULL);
	ok(res.st == REPLAY_LOG_CORRUPT && strstr(res.msg, "trailing data after the LZ4 frame at "
						  "file offset"), "a byte after the frame is CORRUPT");
	memcpy(g + n, f, n);
	res = read_mem(g, 2 * n, NULL);
	ok(res.st == REPLAY_LOG_CORRUPT && strstr(res.msg, "trailing data"),
	   "a second frame after the first is CORRUPT");
	res = read_mem((const uint8_t *)"# not a log\n", 12, NULL);
	ok(res.st == REPLAY_LOG_CORRUPT && strstr(res.msg, "not an LZ4 frame"),
	   "a text file is CORRUPT: not an LZ4 frame");
	res = read_mem((const uint8_t *)"\x50\x2a\x4d", 3, NULL);
	ok(res.st == REPLAY_LOG_CORRUPT, "3 bytes that cannot start an LZ4 frame are CORRUPT");
	res = read_mem(f, 0, NULL);
	ok(res.st == REPLAY_LOG_TRUNCATED && res.n == 0, "an empty file is TRUNCATED with 0 events");
	free(g);
	free(f);
}

static void test_writer_errors(void)
{
	struct replay_log_writer *w = replay_log_writer_create();
	struct replay_event ev = { .type = REPLAY_EV_POLL_SYNC, .poll_sync = { 10 } };
	uint64_t pages[3] = { 1, 5, 5 };
	struct evlist l = { 0 };
	struct readres res;
	int err;

	ok(replay_log_append(w, &ev) == -EBADF, "append before open fails with -EBADF");
	err = replay_log_writer_open(w, tmp("nodir/x.lz4"));
	ok(err == -ENOENT && strstr(replay_log_writer_error(w), "nodir/x.lz4"),
	   "open in a missing directory: -ENOENT naming the path (%s)", replay_log_writer_error(w));
	err = replay_log_writer_open(w, "/dev/full");
	ok(err == -ENOSPC && strstr(replay_log_writer_error(w), "/dev/full: write") &&
	   strstr(replay_log_writer_error(w), strerror(ENOSPC)),
	   "open /dev/full: -ENOSPC naming the path (%s)", replay_log_writer_error(w));
	ok(replay_log_append(w, &ev) == -ENOSPC, "the write error is sticky");
	ok(replay_log_close(w) == -ENOSPC, "close reports it too");

	ok(replay_log_writer_open(w, tmp("val.lz4")) == 0, "open a fresh log");
	ok(replay_log_append(w, &ev) == 0, "append poll_sync exits=10");
	add(&l, &ev);
	ev.poll_sync.exits = 9;
	ok(replay_log_append(w, &ev) == -EINVAL &&
	   strstr(replay_log_writer_error(w), "exits 9 is below the previous exits 10"),
	   "decreasing exits refused: %s", replay_log_writer_error(w));
	ev = (struct replay_event){ .type = REPLAY_EV_SERIAL_IN, .serial_in = { 0, (const uint8_t *)"" } };
	ok(replay_log_append(w, &ev) == -EINVAL, "empty serial input refused: %s",
	   replay_log_writer_error(w));
	ev.serial_in.len = REPLAY_SERIAL_IN_MAX + 1;
	ok(replay_log_append(w, &ev) == -EINVAL, "4097 bytes of serial input refused");
	ev = (struct replay_event){ .type = REPLAY_EV_POLL_ASYNC, .poll_async = { 10, 0, 0, 0, 3, pages } };
	ok(replay_log_append(w, &ev) == -EINVAL && strstr(replay_log_writer_error(w), "index 2"),
	   "repeated page refused: %s", replay_log_writer_error(w));
	ev = (struct replay_event){ .type = REPLAY_EV_CLOCK, .clock = { 2, 0 } };
	ok(replay_log_append(w, &ev) == -EINVAL, "clock kind 2 refused");
	ev.type = 42;
	ok(replay_log_append(w, &ev) == -EINVAL && strstr(replay_log_writer_error(w), "42"),
	   "unknown type refused: %s", replay_log_writer_error(w));
	ev = (struct replay_event){ .type = REPLAY_EV_END, .end = { 10, 0, 0, 0 } };
	ok(replay_log_append(w, &ev) == 0, "END accepted");
	add(&l, &ev);
	ev = (struct replay_event){ .type = REPLAY_EV_INJECT, .inject = { 10, 32 } };
	ok(replay_log_append(w, &ev) == -EINVAL && strstr(replay_log_writer_error(w), "after END"),
	   "an event after END refused: %s", replay_log_writer_error(w));
	ok(replay_log_close(w) == 0, "close after refused events");
	res = read_path(tmp("val.lz4"), &l);
	ok(res.st == REPLAY_LOG_END_OF_LOG && res.good == 2 && res.n == 2,
	   "refused events left no trace in the log");
	replay_log_writer_free(w);
	evlist_free(&l);
}

/* A child writes until RLIMIT_FSIZE stops it; exit 0 if the errors are right. */
static void test_efbig(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct rlimit rl = { 100000, 100000 };
		struct replay_log_writer *w = replay_log_writer_create();
		struct replay_event ev = { .type = REPLAY_EV_CHECKSUM };
		uint64_t s = 1;
		int err = 0;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		if (replay_log_writer_open(w, tmp("big.lz4")) < 0)
			_exit(10);
		for (int i = 0; i < 100000 && !err; i++) {
			ev.checksum.exits = (uint64_t)i;
			ev.checksum.sum = rnd(&s);
			err = replay_log_append(w, &ev);
		}
		if (err != -EFBIG || !strstr(replay_log_writer_error(w), "big.lz4: write at byte"))
			_exit(11);
		if (replay_log_append(w, &ev) != -EFBIG || replay_log_flush(w) != -EFBIG)
			_exit(12);
		if (replay_log_close(w) != -EFBIG)
			_exit(13);
		replay_log_writer_free(w);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a file size limit gives -EFBIG naming the path, sticky (child status %d)", status);
}

static void test_flush_and_kill(void)
{
	struct replay_log_writer *w = replay_log_writer_create();
	struct evlist l = { 0 };
	struct readres res;
	int fds[2], status;
	char c;
	pid_t pid;

	random_stream(&l, 5, 3000);
	ok(replay_log_writer_open(w, tmp("live.lz4")) == 0, "open a live log");
	for (size_t i = 0; i < 1000; i++)
		if (replay_log_append(w, &l.ev[i]) < 0)
			break;
	/* Whole 64 KiB blocks may already be out; their events must be right. */
	res = read_path(tmp("live.lz4"), &l);
	ok(res.st == REPLAY_LOG_TRUNCATED && res.good == res.n && res.n < 1000,
	   "before any flush: TRUNCATED after %zu right events", res.n);
	ok(replay_log_flush(w) == 0, "flush after 1000 events");
	res = read_path(tmp("live.lz4"), &l);
	ok(res.st == REPLAY_LOG_TRUNCATED && res.n == 1000 && res.good == 1000,
	   "while open: all 1000 flushed events, then TRUNCATED (%s)", res.msg);
	for (size_t i = 1000; i < l.n; i++)
		if (replay_log_append(w, &l.ev[i]) < 0)
			break;
	ok(replay_log_flush(w) == 0, "flush again, END included");
	res = read_path(tmp("live.lz4"), &l);
	ok(res.st == REPLAY_LOG_TRUNCATED && res.n == l.n && res.good == l.n,
	   "while open: all %zu events including END, still TRUNCATED", l.n);
	ok(replay_log_close(w) == 0, "close");
	res = read_path(tmp("live.lz4"), &l);
	ok(res.st == REPLAY_LOG_END_OF_LOG && res.good == l.n, "after close: END_OF_LOG");
	replay_log_writer_free(w);

	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		w = replay_log_writer_create();
		if (replay_log_writer_open(w, tmp("killed.lz4")) < 0)
			_exit(1);
		for (size_t i = 0; i < 1500; i++)
			if (replay_log_append(w, &l.ev[i]) < 0)
				_exit(1);
		if (replay_log_flush(w) < 0 || write(fds[1], "f", 1) != 1)
			_exit(1);
		for (size_t i = 1500; i + 1 < l.n; i++)
			if (replay_log_append(w, &l.ev[i]) < 0)
				_exit(1);
		if (write(fds[1], "a", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ok(read(fds[0], &c, 1) == 1 && read(fds[0], &c, 1) == 1, "child flushed 1500 events and "
	   "appended more");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	res = read_path(tmp("killed.lz4"), &l);
	ok(res.st == REPLAY_LOG_TRUNCATED && res.n >= 1500 && res.good == res.n,
	   "after SIGKILL: %zu right events (>= 1500 flushed), then TRUNCATED: %s", res.n, res.msg);
	close(fds[0]);
	close(fds[1]);
	evlist_free(&l);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_lz4_cli(void)
{
	struct evlist l = { 0 };
	struct readres res;
	uint8_t *raw;
	size_t n;
	struct stat sb;

	if (access("/usr/bin/lz4", X_OK) != 0) {
		diag("SKIP: /usr/bin/lz4 not found, the lz4 CLI checks did not run");
		return;
	}
	random_stream(&l, 11, 50000);
	if (write_log(tmp("cli.lz4"), &l, 777, 1) != 0)
		return;
	is_int(run("lz4 -q -t %s", tmp("cli.lz4")), 0, "lz4 -t accepts a closed log");
	is_int(run("lz4 -q -d -c %s > %s", tmp("cli.lz4"), tmp("cli.raw")), 0,
	       "lz4 -d decompresses it");
	raw = slurp(tmp("cli.raw"), &n);
	ok(raw && n > 9 && memcmp(raw, "RRVMEVT\n\x02", 9) == 0, "its output starts with the "
	   "header \"RRVMEVT\\n\" version 2");
	free(raw);
	ok(run("lz4 -q -d -c %s | lz4 -q -c > %s", tmp("cli.lz4"), tmp("cli2.lz4")) == 0 &&
	   stat(tmp("cli2.lz4"), &sb) == 0, "recompress with lz4's defaults");
	res = read_path(tmp("cli2.lz4"), &l);
	ok(res.st == REPLAY_LOG_END_OF_LOG && res.good == l.n,
	   "a log recompressed by the lz4 CLI reads the same (%s)", res.msg);
	ok(run("head -c 5000 %s > %s && lz4 -q -t %s 2>/dev/null", tmp("cli.lz4"),
	       tmp("cli3.lz4"), tmp("cli3.lz4")) != 0, "lz4 -t rejects a truncated log");
	evlist_free(&l);
}

static void test_logtool(void)
{
	const char *top = getenv("top_builddir");
	char tool[512];
	struct evlist l = { 0 };
	struct replay_event ev = { .type = REPLAY_EV_CLOCK, .clock = { 0, 1000 } };
	struct readres res;

	snprintf(tool, sizeof(tool), "%s/tests/tools/logtool", top ? top : ".");
	if (access(tool, X_OK) != 0) {
		diag("SKIP: %s not built, the logtool checks did not run", tool);
		return;
	}
	add(&l, &ev);
	random_stream(&l, 3, 300);
	if (write_log(tmp("tool.lz4"), &l, 0, 1) != 0)
		return;
	is_int(run("%s dump %s > %s", tool, tmp("tool.lz4"), tmp("tool.txt")), 0, "logtool dump");
	is_int(run("sed -i '1s/^clock kind=monotonic value=1000$/clock kind=monotonic value=1234/' %s"
		   " && %s build %s %s", tmp("tool.txt"), tool, tmp("tool.txt"), tmp("tool2.lz4")), 0,
	       "edit the first clock value with sed, logtool build");
	l.ev[0].clock.value = 1234;
	res = read_path(tmp("tool2.lz4"), &l);
	ok(res.st == REPLAY_LOG_END_OF_LOG && res.good == l.n,
	   "the rebuilt log has the new value and every other event unchanged");
	is_int(run("%s check %s > /dev/null", tool, tmp("tool2.lz4")), 0, "logtool check: complete");
	is_int(run("head -c 100 %s > %s; %s check %s > /dev/null 2>&1", tmp("tool2.lz4"),
		   tmp("tool3.lz4"), tool, tmp("tool3.lz4")), 3, "logtool check: truncated is 3");
	is_int(run("%s check %s > /dev/null 2>&1", tool, tmp("tool.txt")), 1,
	       "logtool check: corrupt is 1");
	is_int(run("echo 'clock kind=monotonic valu=5' | %s build - %s 2>/dev/null", tool,
		   tmp("tool4.lz4")), 1, "logtool build refuses a bad line");
	is_int(run("%s frob 2>/dev/null", tool), 2, "logtool usage error is 2");
	evlist_free(&l);
}

static void test_text_errors(void)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "frob x=1", "column 1: unknown event type \"frob\"" },
		{ "poll_sync", "missing field exits" },
		{ "poll_sync exits=1 exits=2", "column 19: field exits given twice" },
		{ "poll_sync exit=1", "poll_sync has no field \"exit\"" },
		{ "poll_sync exits=-1", "exits: expected a number" },
		{ "poll_sync exits=18446744073709551616", "out of range" },
		{ "inject exits=1 vector=256", "vector: 256 out of range (max 255)" },
		{ "inject exits=1 vector=1x", "unexpected \"x\"" },
		{ "serial_in data=\"abc", "unterminated string" },
		{ "serial_in data=\"\"", "length 0 not in 1..4096" },
		{ "serial_in data=\"\\q\"", "unknown escape" },
		{ "poll_async exits=1 rip=0 regs=0 mem=0 pages=5,5", "not strictly ascending" },
		{ "poll_async exits=1 rip=0 regs=0 mem=0 pages=5;6", "expected ','" },
		{ "clock kind=wallclock value=1", "kind: expected a number" },
	};
	struct replay_event_storage s = { 0 };
	struct replay_event ev;
	char msg[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = replay_event_parse(cases[i].line, &ev, &s, msg, sizeof(msg));

		if (!ok(err == -EINVAL && strstr(msg, cases[i].want), "text \"%s\" refused",
			cases[i].line))
			diag("err %d, message: %s", err, msg);
	}
	is_int(replay_event_parse("  # comment", &ev, &s, msg, sizeof(msg)), 1, "comment line");
	is_int(replay_event_parse("\n", &ev, &s, msg, sizeof(msg)), 1, "blank line");
	ok(replay_event_parse("clock value=0x10 kind=1\n", &ev, &s, msg, sizeof(msg)) == 0 &&
	   ev.clock.kind == 1 && ev.clock.value == 16, "fields in any order, hex, numeric kind");
	replay_event_storage_free(&s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A typical recording: mostly clock reads, checksums and polls. */
static void test_throughput(void)
{
	const size_t n = 2000000;
	struct replay_log_writer *w = replay_log_writer_create();
	struct replay_event ev;
	uint64_t s = 77, exits = 0, mono = 1000000, pages[8];
	struct readres res;
	double t0, t1, t2;
	int err;

	err = replay_log_writer_open(w, tmp("perf.lz4"));
	t0 = now_s();
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t r = rnd(&s) % 100;

		memset(&ev, 0, sizeof(ev));
		exits += rnd(&s) % 4;
		if (r < 45) {
			mono += 1000 + rnd(&s) % 100000;
			ev = (struct replay_event){ .type = REPLAY_EV_CLOCK, .clock = { 0, mono } };
		} else if (r < 50) {
			ev = (struct replay_event){ .type = REPLAY_EV_CLOCK,
						    .clock = { 1, 1700000000000000000ULL + mono } };
		} else if (r < 70) {
			ev = (struct replay_event){ .type = REPLAY_EV_POLL_SYNC, .poll_sync = { exits } };
		} else if (r < 80) {
			ev = (struct replay_event){ .type = REPLAY_EV_INJECT, .inject = { exits, 32 } };
		} else if (r < 95) {
			ev = (struct replay_event){ .type = REPLAY_EV_CHECKSUM,
						    .checksum = { exits, rnd(&s) } };
		} else {
			uint32_t np = 1 + rnd(&s) % 8;

			pages[0] = 0x100 + rnd(&s) % 64;
			for (uint32_t j = 1; j < np; j++)
				pages[j] = pages[j - 1] + 1 + rnd(&s) % 4;
			ev = (struct replay_event){ .type = REPLAY_EV_POLL_ASYNC, .poll_async = {
				exits, 0xffffffff81000000ULL + rnd(&s) % 65536, rnd(&s), rnd(&s),
				np, pages } };
		}
		err = replay_log_append(w, &ev);
	}
	ev = (struct replay_event){ .type = REPLAY_EV_END, .end = { exits, 0, 0, 0 } };
	if (!err)
		err = replay_log_append(w, &ev);
	if (!err)
		err = replay_log_close(w);
	t1 = now_s();
	ok(err == 0, "write %zu typical events", n);
	diag("encode: %.2f M events/s; %.2f bytes/event encoded, %.2f bytes/event in the file",
	     n / (t1 - t0) / 1e6, (double)replay_log_writer_bytes(w) / n,
	     (double)replay_log_writer_file_bytes(w) / n);
	res = read_path(tmp("perf.lz4"), NULL);
	t2 = now_s();
	ok(res.st == REPLAY_LOG_END_OF_LOG && res.n == n + 1, "read them back");
	diag("decode: %.2f M events/s", (n + 1) / (t2 - t1) / 1e6);
	replay_log_writer_free(w);
}

static void test_reader_misuse(void)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct replay_event ev;

	ok(replay_log_next(r, &ev) == REPLAY_LOG_ERROR, "next before open: ERROR");
	ok(replay_log_reader_open(r, tmp("missing.lz4")) == -ENOENT &&
	   strstr(replay_log_reader_error(r), "missing.lz4"), "open a missing file: -ENOENT "
	   "naming it (%s)", replay_log_reader_error(r));
	ok(replay_log_reader_open(r, tmp("val.lz4")) == 0 && replay_log_next(r, &ev) == REPLAY_LOG_EVENT,
	   "the same reader opens another file");
	replay_log_reader_free(r);
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eventlog_test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_names();
	test_round_trip();
	test_random_stream();
	test_damage();
	test_bad_streams();
	test_writer_errors();
	test_efbig();
	test_flush_and_kill();
	test_lz4_cli();
	test_logtool();
	test_text_errors();
	test_reader_misuse();
	test_throughput();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return tap_done();
}
