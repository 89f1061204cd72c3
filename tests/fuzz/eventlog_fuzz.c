/*
 * eventlog_fuzz.c — libFuzzer target for the event log reader.
 *
 * The first input byte picks what the rest is:
 *   even: a whole events.lz4 file, to exercise the LZ4 framing layer;
 *   odd:  a decompressed event stream, wrapped here in a valid LZ4 frame so
 *         that the fuzzer reaches the event decoder past the checksums.
 * Every event the reader returns must survive the text form (format, parse,
 * compare) and, in the second mode, re-encoding with the writer and reading
 * back must give the same events. In the first mode the reader then seeks
 * back to positions it noted (replay_log_reader_tell) and must read the same
 * events on from there. Any crash, sanitizer report or abort() is a
 * bug. Built by `make fuzz`.
 *
 * One reader and one writer (and the writer's file) serve every input, as
 * replay_log_reader_open_fd and replay_log_writer_open allow: each carries
 * about 200 KiB of buffers, which ASan would otherwise map, fault in and
 * unmap for every input, many times the cost of the input itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay/eventlog.h"

static int memfd_of(const uint8_t *buf, size_t n)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (n && write(fd, buf, n) != (ssize_t)n)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static struct replay_log_reader *reader;
static struct replay_log_writer *writer;
static char writer_path[64];

static void remove_writer_file(void)
{
	unlink(writer_path);
}

/* The shared reader and writer, made at the first input. tmpfs for the
 * writer's file where there is one: the writer fsyncs, which a disk makes
 * slow. */
static void setup(void)
{
	int fd;

	if (reader)
		return;
	reader = replay_log_reader_create();
	writer = replay_log_writer_create();
	if (!reader || !writer)
		abort();
	snprintf(writer_path, sizeof(writer_path), "%s/eventlog_fuzz.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	fd = mkstemp(writer_path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(remove_writer_file);
}

/* Checks the text round trip; returns a hash of the text form. */
static uint64_t check_text(const struct replay_event *ev, struct replay_event_storage *st)
{
	uint64_t h = 14695981039346656037ULL;
	size_t len = replay_event_format(NULL, 0, ev);
	char *buf = malloc(len + 1), msg[256];
	struct replay_event back;

	if (!buf)
		abort();
	replay_event_format(buf, len + 1, ev);
	if (replay_event_parse(buf, &back, st, msg, sizeof(msg)) != 0 ||
	    !replay_event_equal(ev, &back))
		abort();
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)buf[i]) * 1099511628211ULL;
	free(buf);
	return h;
}

struct outcome {
	enum replay_log_status st;
	unsigned long n;
	uint64_t hash;          /* of every event's text form */
	unsigned last_type;
};

/* Read fd to the end; if w is given, append every event to it. */
static struct outcome read_all(int fd, struct replay_log_writer *w)
{
	struct outcome o = { 0 };
	struct replay_log_reader *r = reader;
	struct replay_event_storage s = { 0 };
	struct replay_event ev;

	if (fd < 0 || replay_log_reader_open_fd(r, fd, "fuzz") != 0)
		abort();
	while ((o.st = replay_log_next(r, &ev)) == REPLAY_LOG_EVENT) {
		o.hash = o.hash * 31 + check_text(&ev, &s);
		o.last_type = ev.type;
		if (w && replay_log_append(w, &ev) != 0)
			abort();        /* the reader accepted it, so the writer must */
		o.n++;
	}
	replay_event_storage_free(&s);
	return o;
}

/* Read a whole file noting the position before every event, then seek
 * to a few of them and read on: the same events, and the same end (but a
 * reader that resumed inside the frame cannot check the content checksum). */
static void check_seek(const uint8_t *buf, size_t n)
{
	struct replay_log_reader *r = reader;
	struct replay_log_pos *pos = NULL;
	uint64_t *hash = NULL;
	struct replay_event_storage s = { 0 };
	struct replay_event ev;
	enum replay_log_status end;
	size_t k = 0, cap = 0;

	if (replay_log_reader_open_fd(r, memfd_of(buf, n), "fuzz") != 0)
		abort();
	for (;;) {
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			pos = realloc(pos, cap * sizeof(*pos));
			hash = realloc(hash, cap * sizeof(*hash));
			if (!pos || !hash)
				abort();
		}
		replay_log_reader_tell(r, &pos[k]);
		if ((end = replay_log_next(r, &ev)) != REPLAY_LOG_EVENT)
			break;
		hash[k++] = check_text(&ev, &s);
	}
	for (size_t at = 0; at <= k; at += k / 3 + 1) {
		enum replay_log_status st;
		size_t i = at;

		if (replay_log_reader_seek(r, &pos[at]) != 0)
			abort();
		while ((st = replay_log_next(r, &ev)) == REPLAY_LOG_EVENT)
			if (i >= k || check_text(&ev, &s) != hash[i++])
				abort();
		if (i != k || (st != end && !(end == REPLAY_LOG_CORRUPT && st == REPLAY_LOG_END_OF_LOG)))
			abort();
	}
	replay_event_storage_free(&s);
	free(pos);
	free(hash);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	LZ4F_preferences_t p = { 0 };
	struct outcome a, b;
	uint8_t *frame;
	size_t cap, len;

	if (size == 0)
		return 0;
	setup();
	if (!(data[0] & 1)) {
		read_all(memfd_of(data + 1, size - 1), NULL);
		check_seek(data + 1, size - 1);
		return 0;
	}
	p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	p.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
	cap = LZ4F_compressFrameBound(size - 1, &p);
	frame = malloc(cap);
	if (!frame)
		abort();
	len = LZ4F_compressFrame(frame, cap, data + 1, size - 1, &p);
	if (LZ4F_isError(len))
		abort();
	if (replay_log_writer_open(writer, writer_path) != 0)
		abort();
	a = read_all(memfd_of(frame, len), writer);
	if (a.st == REPLAY_LOG_ERROR || a.st == REPLAY_LOG_TRUNCATED)
		abort();        /* a complete frame is never a truncated log */
	if (replay_log_close(writer) != 0)
		abort();
	b = read_all(open(writer_path, O_RDONLY), NULL);
	/* The same events come back, and the re-written log is complete exactly
	 * when the events read ended with END. */
	if (b.n != a.n || b.hash != a.hash ||
	    (b.st == REPLAY_LOG_END_OF_LOG) != (a.n && a.last_type == REPLAY_EV_END)) {
		fprintf(stderr, "eventlog_fuzz: re-read differs: %lu events (status %d, hash %llx) "
			"written, %lu (status %d, hash %llx) read back: %s\n", a.n, (int)a.st,
			(unsigned long long)a.hash, b.n, (int)b.st, (unsigned long long)b.hash,
			replay_log_reader_error(reader));
		abort();
	}
	free(frame);
	return 0;
}
