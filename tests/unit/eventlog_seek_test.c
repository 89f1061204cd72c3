/*
 * eventlog_seek_test.c — the event log read from saved positions.
 *
 * A log of a few thousand events in many blocks is read once, noting the
 * position before each event; then readers seek to positions in random
 * order (backwards, forwards, after a final status) and must return the
 * same events from there and the same final status. The same for a frame
 * of linked blocks (what rrvm wrote before, read again from the start), a
 * frame without block checksums (the lz4 program's default), a truncated
 * log, and positions the file does not have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/eventlog.h"
#include "tests/unit/tap.h"

#define NEV 3000

static char tmpdir[64];

struct reading {
	size_t n;
	char (*text)[160];              /* each event's text form */
	struct replay_log_pos *pos;     /* where each event starts; pos[n]: the final status */
	enum replay_log_status final;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* A stream like a recorder's, with the odd big event; flushed every
 * `flush` events so the frame has many blocks. */
static int write_log(const char *path, size_t flush, int do_close)
{
	struct replay_log_writer *w = replay_log_writer_create();
	uint64_t s = 42, exits = 0, pages[300];
	uint8_t bytes[100];
	int rc = w ? replay_log_writer_open(w, path) : -ENOMEM;

	for (size_t i = 0; !rc && i < NEV; i++) {
		struct replay_event ev = { .type = REPLAY_EV_CLOCK };
		uint64_t k = rnd(&s) % 10;

		exits += rnd(&s) % 50;
		if (i == NEV - 1) {
			ev.type = REPLAY_EV_END;
			ev.end.exits = exits;
			ev.end.state_hash = rnd(&s);
		} else if (k < 4) {
			ev.clock.kind = k & 1;
			ev.clock.value = rnd(&s) >> (k * 8);
		} else if (k < 6) {
			ev.type = REPLAY_EV_POLL_SYNC;
			ev.poll_sync.exits = exits;
		} else if (k == 6) {
			ev.type = REPLAY_EV_POLL_ASYNC;
			ev.poll_async = (typeof(ev.poll_async)){ exits, rnd(&s), rnd(&s), rnd(&s),
								 (uint32_t)(rnd(&s) % 300), pages };
			for (uint32_t j = 0; j < ev.poll_async.npages; j++)
				pages[j] = j * 3 + 1;
		} else if (k == 7) {
			ev.type = REPLAY_EV_SERIAL_IN;
			ev.serial_in.len = 1 + (uint32_t)(rnd(&s) % sizeof(bytes));
			ev.serial_in.data = bytes;
			memset(bytes, (int)i, sizeof(bytes));
		} else if (k == 8) {
			ev.type = REPLAY_EV_INJECT;
			ev.inject.exits = exits;
			ev.inject.vector = 0x20;
		} else {
			ev.type = REPLAY_EV_CHECKSUM;
			ev.checksum.exits = exits;
			ev.checksum.sum = rnd(&s);
		}
		rc = replay_log_append(w, &ev);
		if (!rc && flush && i % flush == flush - 1)
			rc = replay_log_flush(w);
	}
	if (!rc)
		rc = do_close ? replay_log_close(w) : replay_log_flush(w);
	replay_log_writer_free(w);
	return rc;
}

static void read_all(struct replay_log_reader *r, struct reading *out)
{
	struct replay_event ev;

	out->n = 0;
	out->text = calloc(NEV + 1, sizeof(*out->text));
	out->pos = calloc(NEV + 1, sizeof(*out->pos));
	for (;;) {
		replay_log_reader_tell(r, &out->pos[out->n]);
		out->final = replay_log_next(r, &ev);
		if (out->final != REPLAY_LOG_EVENT || out->n == NEV)
			break;
		replay_event_format(out->text[out->n++], sizeof(out->text[0]), &ev);
	}
}

/* Seek to event i and read on: the same events and final status? */
static int same_from(struct replay_log_reader *r, const struct reading *want, size_t i)
{
	struct replay_event ev;
	char text[160];
	enum replay_log_status st;

	if (replay_log_reader_seek(r, &want->pos[i]))
		return diag("seek to event %zu failed: %s", i, replay_log_reader_error(r)), 0;
	for (size_t j = i; j < want->n; j++) {
		if ((st = replay_log_next(r, &ev)) != REPLAY_LOG_EVENT)
			return diag("from %zu: event %zu: %s", i, j, replay_log_reader_error(r)), 0;
		replay_event_format(text, sizeof(text), &ev);
		if (strcmp(text, want->text[j]) != 0)
			return diag("from %zu: event %zu is '%s', want '%s'", i, j, text,
				    want->text[j]), 0;
	}
	st = replay_log_next(r, &ev);
	if (st != want->final)
		return diag("from %zu: ends %s, want %s (%s)", i, replay_log_status_name(st),
			    replay_log_status_name(want->final), replay_log_reader_error(r)), 0;
	return 1;
}

static void check_file(const char *what, const char *path, enum replay_log_status final)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct reading want;
	uint64_t s = 7;
	size_t tried = 0, good = 0;

	ok(r && replay_log_reader_open(r, path) == 0, "%s: open", what);
	read_all(r, &want);
	is_int(want.final, final, "%s: read once to the end: %zu events, %s", what, want.n,
	       replay_log_status_name(want.final));
	/* The ends, then random positions in random order (after a final
	 * status, backwards and forwards). */
	good += same_from(r, &want, want.n), tried++;
	good += same_from(r, &want, 0), tried++;
	good += same_from(r, &want, want.n - 1), tried++;
	for (int k = 0; k < 60; k++, tried++)
		good += same_from(r, &want, rnd(&s) % (want.n + 1));
	is_int(good, tried, "%s: %zu seeks to saved positions each read the same events on", what,
	       tried);
	/* Another reader of the same file takes the same positions. */
	{
		struct replay_log_reader *r2 = replay_log_reader_create();

		ok(r2 && replay_log_reader_open(r2, path) == 0 &&
		   same_from(r2, &want, want.n / 2), "%s: a second reader seeks to a position "
		   "the first one saved", what);
		replay_log_reader_free(r2);
	}
	replay_log_reader_free(r);
	free(want.text);
	free(want.pos);
}

/* The stream of src recompressed as a frame with the given block mode and
 * block checksum, cut into blocks of about 700 bytes. */
static void recompress(const char *src, const char *dst, LZ4F_blockMode_t mode, int block_crc)
{
	int in = open(src, O_RDONLY);
	static uint8_t raw[1 << 22], stream[1 << 23], out[1 << 23];
	ssize_t n = in >= 0 ? read(in, raw, sizeof(raw)) : -1;
	size_t sn = sizeof(stream), rn = (size_t)(n > 0 ? n : 0), on = 0;
	LZ4F_dctx *d;
	LZ4F_cctx *c;
	LZ4F_preferences_t p = { 0 };
	FILE *f;

	if (in >= 0)
		close(in);
	LZ4F_createDecompressionContext(&d, LZ4F_VERSION);
	LZ4F_decompress(d, stream, &sn, raw, &rn, NULL);
	LZ4F_freeDecompressionContext(d);
	p.frameInfo.blockMode = mode;
	p.frameInfo.blockChecksumFlag = block_crc ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
	p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	LZ4F_createCompressionContext(&c, LZ4F_VERSION);
	on += LZ4F_compressBegin(c, out, sizeof(out), &p);
	for (size_t off = 0; off < sn; off += 700) {
		size_t len = sn - off < 700 ? sn - off : 700;
		on += LZ4F_compressUpdate(c, out + on, sizeof(out) - on, stream + off, len, NULL);
		on += LZ4F_flush(c, out + on, sizeof(out) - on, NULL);
	}
	on += LZ4F_compressEnd(c, out + on, sizeof(out) - on, NULL);
	LZ4F_freeCompressionContext(c);
	f = fopen(dst, "wb");
	ok(f && fwrite(out, 1, on, f) == on && fclose(f) == 0, "recompressed %zu stream bytes "
	   "(%s blocks, block checksums %s) into %zu bytes", sn,
	   mode == LZ4F_blockLinked ? "linked" : "independent", block_crc ? "on" : "off", on);
}

static void test_bad_positions(const char *path)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct replay_log_pos pos;
	struct replay_event ev;

	ok(r && replay_log_reader_open(r, path) == 0, "bad positions: open");
	for (int i = 0; i < 100; i++)
		if (replay_log_next(r, &ev) != REPLAY_LOG_EVENT)
			break;
	replay_log_reader_tell(r, &pos);
	pos.d_off = pos.block_d_off + (1u << 20);
	ok(replay_log_reader_seek(r, &pos) == -EINVAL &&
	   replay_log_next(r, &ev) == REPLAY_LOG_CORRUPT, "an offset past its block is refused: %s",
	   replay_log_reader_error(r));
	replay_log_reader_tell(r, &pos);
	pos.events += 5;
	pos.block_file_off = 0;
	ok(replay_log_reader_seek(r, &pos) == -EINVAL, "an event count that does not match the "
	   "offset is refused when read again: %s", replay_log_reader_error(r));
	memset(&pos, 0, sizeof(pos));
	ok(replay_log_reader_seek(r, &pos) == 0 && replay_log_next(r, &ev) == REPLAY_LOG_EVENT,
	   "and the start of the log still reads");
	replay_log_reader_free(r);
}

static void test_pipe(void)
{
	struct replay_log_reader *r = replay_log_reader_create();
	struct replay_log_pos pos = { 0 };
	int p[2];

	ok(pipe(p) == 0 && replay_log_reader_open_fd(r, p[0], "pipe") == 0, "a pipe");
	close(p[1]);
	is_int(replay_log_reader_seek(r, &pos), -ESPIPE, "cannot seek: -ESPIPE");
	replay_log_reader_free(r);
}

int main(void)
{
	char path[128], linked[128], nocrc[128], cut[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eventlog_seek.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/log.lz4", tmpdir);
	snprintf(linked, sizeof(linked), "%s/linked.lz4", tmpdir);
	snprintf(nocrc, sizeof(nocrc), "%s/nocrc.lz4", tmpdir);
	snprintf(cut, sizeof(cut), "%s/cut.lz4", tmpdir);
	is_int(write_log(path, 37, 1), 0, "write %d events, flushed every 37", NEV);
	check_file("independent blocks (rrvm's writer)", path, REPLAY_LOG_END_OF_LOG);
	recompress(path, linked, LZ4F_blockLinked, 1);
	check_file("linked blocks (logs of older rrvm)", linked, REPLAY_LOG_END_OF_LOG);
	recompress(path, nocrc, LZ4F_blockIndependent, 0);
	check_file("no block checksums (the lz4 program's default)", nocrc, REPLAY_LOG_END_OF_LOG);
	is_int(write_log(cut, 37, 0), 0, "write the same log, flushed but not closed");
	check_file("a truncated log", cut, REPLAY_LOG_TRUNCATED);
	test_bad_positions(path);
	test_pipe();
	unlink(path);
	unlink(linked);
	unlink(nocrc);
	unlink(cut);
	rmdir(tmpdir);
	return tap_done();
}
