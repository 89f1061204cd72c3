/*
 * logwriter.c — writes events.lz4: encoded events wrapped in one LZ4 frame.
 *
 * Appending only encodes into a staging buffer. The staged bytes go to LZ4F
 * 64 KiB at a time, and LZ4F emits a block (written with write(2) at once)
 * whenever it has a full one, so a busy recorder makes one system call per
 * 64 KiB of events. flush() pushes LZ4F's partial block out too: after it, the
 * file is a prefix of a valid log that holds every event appended so far,
 * which is what a recorder killed by SIGKILL leaves behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/eventlog_codec.h"

#define FEED_SIZE (64 * 1024)           /* = the block size: one block per feed */

struct replay_log_writer {
	int fd;
	char *path;
	LZ4F_cctx *cctx;
	LZ4F_preferences_t prefs;
	struct replay_codec codec;
	uint8_t *stage;
	size_t stage_len, stage_cap;
	uint8_t *out;
	size_t out_cap;
	uint64_t events, bytes, file_bytes;
	int err;                /* sticky -errno after a failed write */
	char msg[512];
};

static int werr(struct replay_log_writer *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int werr(struct replay_log_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return err;
}

struct replay_log_writer *replay_log_writer_create(void)
{
	struct replay_log_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = -1;
	w->prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	/* Independent blocks: a reader can start at any block (seek). */
	w->prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	w->prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	w->prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
	w->out_cap = LZ4F_compressBound(FEED_SIZE, &w->prefs);
	if (w->out_cap < LZ4F_HEADER_SIZE_MAX)
		w->out_cap = LZ4F_HEADER_SIZE_MAX;
	w->stage_cap = 2 * FEED_SIZE;
	w->out = malloc(w->out_cap);
	w->stage = malloc(w->stage_cap);
	if (!w->out || !w->stage ||
	    LZ4F_isError(LZ4F_createCompressionContext(&w->cctx, LZ4F_VERSION))) {
		replay_log_writer_free(w);
		return NULL;
	}
	return w;
}

void replay_log_writer_free(struct replay_log_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	LZ4F_freeCompressionContext(w->cctx);
	free(w->path);
	free(w->stage);
	free(w->out);
	free(w);
}

static int write_all(struct replay_log_writer *w, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;

			w->err = -e;
			return werr(w, -e, "%s: write at byte %llu: %s", w->path,
				    (unsigned long long)w->file_bytes, strerror(e));
		}
		p += k;
		n -= (size_t)k;
		w->file_bytes += (uint64_t)k;
	}
	return 0;
}

/* The result of an LZ4F call: bytes in w->out to write, or an error. */
static int lz4_out(struct replay_log_writer *w, size_t ret, const char *what)
{
	if (LZ4F_isError(ret)) {
		w->err = -EIO;
		return werr(w, -EIO, "%s: LZ4 %s failed: %s", w->path, what,
			    LZ4F_getErrorName(ret));
	}
	return write_all(w, w->out, ret);
}

/* Hand every staged byte to LZ4F, writing whatever blocks come out. */
static int pump(struct replay_log_writer *w)
{
	size_t off = 0;
	int err;

	while (off < w->stage_len) {
		size_t n = w->stage_len - off < FEED_SIZE ? w->stage_len - off : FEED_SIZE;

		err = lz4_out(w, LZ4F_compressUpdate(w->cctx, w->out, w->out_cap,
						     w->stage + off, n, NULL), "compress");
		if (err)
			return err;
		off += n;
	}
	w->stage_len = 0;
	return 0;
}

int replay_log_writer_open(struct replay_log_writer *w, const char *path)
{
	int err;

	if (w->fd >= 0)
		return werr(w, -EBUSY, "%s: writer already open on %s", path, w->path);
	free(w->path);
	w->path = strdup(path);
	if (!w->path)
		return werr(w, -ENOMEM, "%s: out of memory", path);
	memset(&w->codec, 0, sizeof(w->codec));
	w->events = w->bytes = w->file_bytes = 0;
	w->stage_len = 0;
	w->err = 0;
	w->msg[0] = 0;
	/* O_NOFOLLOW: a symlink put in place of the log must not redirect
	 * the write (a recording directory may be shared). */
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (w->fd < 0)
		return werr(w, -errno, "%s: cannot create: %s", path, strerror(errno));
	/* The frame header goes out at once so that an unwritable file is
	 * reported by open, not at the first flush. */
	err = lz4_out(w, LZ4F_compressBegin(w->cctx, w->out, w->out_cap, &w->prefs), "begin");
	if (err)
		return err;
	w->stage_len = replay_codec_header(w->stage);
	w->bytes = w->stage_len;
	return 0;
}

int replay_log_append(struct replay_log_writer *w, const struct replay_event *ev)
{
	size_t need;
	int err;

	if (w->fd < 0)
		return werr(w, -EBADF, "append: the log writer is not open");
	if (w->err)
		return w->err;
	err = replay_codec_check(&w->codec, ev, w->msg, sizeof(w->msg));
	if (err)
		return err;
	need = replay_codec_encoded_max(ev);
	if (w->stage_len + need > w->stage_cap) {
		if ((err = pump(w)))
			return err;
		if (need > w->stage_cap) {
			uint8_t *ns = realloc(w->stage, need);

			if (!ns)
				return werr(w, -ENOMEM, "%s: out of memory for a %zu-byte event",
					    w->path, need);
			w->stage = ns;
			w->stage_cap = need;
		}
	}
	need = replay_codec_encode(&w->codec, ev, w->stage + w->stage_len);
	w->stage_len += need;
	w->bytes += need;
	w->events++;
	if (w->stage_len >= FEED_SIZE)
		return pump(w);
	return 0;
}

int replay_log_flush(struct replay_log_writer *w)
{
	int err;

	if (w->fd < 0)
		return werr(w, -EBADF, "flush: the log writer is not open");
	if (w->err)
		return w->err;
	if ((err = pump(w)))
		return err;
	return lz4_out(w, LZ4F_flush(w->cctx, w->out, w->out_cap, NULL), "flush");
}

int replay_log_close(struct replay_log_writer *w)
{
	int err = w->err;

	if (w->fd < 0)
		return werr(w, -EBADF, "close: the log writer is not open");
	if (!err)
		err = pump(w);
	if (!err)
		err = lz4_out(w, LZ4F_compressEnd(w->cctx, w->out, w->out_cap, NULL), "end");
	/* Devices such as /dev/null cannot be synced; that is no failure. */
	if (!err && fsync(w->fd) < 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
		err = werr(w, -errno, "%s: fsync: %s", w->path, strerror(errno));
	if (close(w->fd) < 0 && !err)
		err = werr(w, -errno, "%s: close: %s", w->path, strerror(errno));
	w->fd = -1;
	return err;
}

const char *replay_log_writer_error(const struct replay_log_writer *w)
{
	return w->msg;
}

uint64_t replay_log_writer_events(const struct replay_log_writer *w)
{
	return w->events;
}

uint64_t replay_log_writer_bytes(const struct replay_log_writer *w)
{
	return w->bytes;
}

uint64_t replay_log_writer_file_bytes(const struct replay_log_writer *w)
{
	return w->file_bytes;
}
