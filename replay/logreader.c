/*
 * logreader.c — reads events.lz4 back, one event at a time, in bounded memory.
 *
 * The reader walks the LZ4 frame's blocks itself and hands LZ4F one whole
 * block (with its checksum) per call. That way every decompressed byte the
 * event decoder sees has passed its block checksum, and the two ways a file
 * can go wrong are told apart reliably: a file that stops before a block (or
 * the frame header, or the end mark) is complete is a prefix of a valid log —
 * TRUNCATED — while a complete block that fails its checksum, bad framing or
 * a bad event is CORRUPT. (LZ4F by itself streams an uncompressed block out
 * before checking its checksum, which would let damaged bytes reach the
 * decoder.)
 *
 * Walking the blocks also lets the reader come back to a saved position:
 * it remembers at which file offset each block it holds in memory starts
 * and which decompressed offset that block begins at. In a frame of
 * independent blocks, seeking is reading on from that block, behind a
 * frame header made up for the purpose (the file's own one announces a
 * content checksum, which only a read of the whole stream can check). A
 * frame of linked blocks is read again from its start.
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/eventlog_codec.h"

#define READ_CHUNK      (64 * 1024)
#define LZ4_MAGIC       0x184D2204u

enum frame_stage { FR_HEADER, FR_BLOCKS, FR_DONE };

/* A block whose decompressed bytes are (or begin) in the buffer. */
struct block_mark {
	uint64_t file_off, d_start;
};

struct replay_log_reader {
	int fd;
	char *name;
	LZ4F_dctx *dctx;
	/* compressed input: in[in_pos..in_len) is unread; in[0] is at file offset in_off */
	uint8_t *in;
	size_t in_cap, in_pos, in_len;
	uint64_t in_off;
	int eof;
	enum frame_stage stage;
	size_t max_block;
	int block_crc, content_crc, linked;
	unsigned block_size_id;         /* 4..7, from the frame header */
	int resumed;                    /* reading from a seek: no content checksum */
	struct block_mark *marks;       /* ascending; marks[0] holds d[d_pos] or is before it */
	size_t nmarks, marks_cap;
	int skipping;                   /* after a seek: drop bytes up to skip_to */
	uint64_t skip_to, skip_block_file_off, skip_block_d_off;
	/* decompressed: d[d_pos..d_len) is not yet decoded; d[0] is at offset d_off */
	uint8_t *d;
	size_t d_cap, d_pos, d_len;
	uint64_t d_off;
	int header_done;
	struct replay_codec codec;
	struct replay_decode_scratch scratch;
	uint64_t events;
	int done;               /* status is final */
	enum replay_log_status status;
	char msg[640];
};

static enum replay_log_status finish(struct replay_log_reader *r, enum replay_log_status st,
				     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum replay_log_status finish(struct replay_log_reader *r, enum replay_log_status st,
				     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->done = 1;
	r->status = st;
	return st;
}

static uint64_t file_pos(const struct replay_log_reader *r)
{
	return r->in_off + r->in_pos;
}

static enum replay_log_status truncated(struct replay_log_reader *r, const char *where)
{
	return finish(r, REPLAY_LOG_TRUNCATED,
		      "%s: truncated: the file ends at byte %llu inside %s; %llu events "
		      "(%llu decompressed bytes) decoded", r->name,
		      (unsigned long long)(r->in_off + r->in_len), where,
		      (unsigned long long)r->events,
		      (unsigned long long)(r->d_off + r->d_pos));
}

struct replay_log_reader *replay_log_reader_create(void)
{
	struct replay_log_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->in_cap = READ_CHUNK;
	r->d_cap = 2 * READ_CHUNK;
	r->in = malloc(r->in_cap);
	r->d = malloc(r->d_cap);
	if (!r->in || !r->d ||
	    LZ4F_isError(LZ4F_createDecompressionContext(&r->dctx, LZ4F_VERSION))) {
		replay_log_reader_free(r);
		return NULL;
	}
	return r;
}

void replay_log_reader_free(struct replay_log_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	LZ4F_freeDecompressionContext(r->dctx);
	free(r->scratch.pages);
	free(r->marks);
	free(r->name);
	free(r->in);
	free(r->d);
	free(r);
}

/* A new LZ4F context for a new frame header. LZ4F_resetDecompressionContext
 * keeps the content size of a frame that declared one and ended early, and
 * a later frame without one then fails at its end mark (frameSize_wrong):
 * found by the eventlog fuzzer reusing a reader. */
static int fresh_dctx(struct replay_log_reader *r)
{
	LZ4F_freeDecompressionContext(r->dctx);
	r->dctx = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&r->dctx, LZ4F_VERSION))) {
		r->dctx = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Back to the start of the frame (the file offset is the caller's). */
static void rewind_state(struct replay_log_reader *r)
{
	if (r->dctx)
		LZ4F_resetDecompressionContext(r->dctx);
	r->in_pos = r->in_len = 0;
	r->in_off = 0;
	r->eof = 0;
	r->stage = FR_HEADER;
	r->resumed = 0;
	r->nmarks = 0;
	r->skipping = 0;
	r->d_pos = r->d_len = 0;
	r->d_off = 0;
	r->header_done = 0;
	memset(&r->codec, 0, sizeof(r->codec));
	r->events = 0;
	r->done = 0;
	r->msg[0] = 0;
}

int replay_log_reader_open_fd(struct replay_log_reader *r, int fd, const char *name)
{
	char *nm = strdup(name);

	if (!nm || fresh_dctx(r)) {
		free(nm);
		close(fd);
		return -ENOMEM;
	}
	if (r->fd >= 0)
		close(r->fd);
	free(r->name);
	r->name = nm;
	r->fd = fd;
	rewind_state(r);
	return 0;
}

int replay_log_reader_open(struct replay_log_reader *r, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		snprintf(r->msg, sizeof(r->msg), "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	return replay_log_reader_open_fd(r, fd, path);
}

/* Make n unread input bytes available: 1 when they are, 0 when the file ends
 * first, -1 when reading failed (status set). */
static int input_ensure(struct replay_log_reader *r, size_t n)
{
	while (r->in_len - r->in_pos < n) {
		ssize_t k;

		if (r->eof)
			return 0;
		if (r->in_pos + n > r->in_cap) {
			memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
			r->in_off += r->in_pos;
			r->in_len -= r->in_pos;
			r->in_pos = 0;
		}
		if (n > r->in_cap) {
			uint8_t *ni = realloc(r->in, n);

			if (!ni) {
				finish(r, REPLAY_LOG_ERROR, "%s: out of memory", r->name);
				return -1;
			}
			r->in = ni;
			r->in_cap = n;
		}
		k = read(r->fd, r->in + r->in_len, r->in_cap - r->in_len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			finish(r, REPLAY_LOG_ERROR, "%s: read at byte %llu: %s", r->name,
			       (unsigned long long)(r->in_off + r->in_len), strerror(errno));
			return -1;
		}
		if (k == 0)
			r->eof = 1;
		r->in_len += (size_t)k;
	}
	return 1;
}

/* Forget the blocks wholly before the buffer's first byte. */
static void marks_prune(struct replay_log_reader *r)
{
	size_t i = 0;

	while (i + 1 < r->nmarks && r->marks[i + 1].d_start <= r->d_off)
		i++;
	if (i > 0) {
		memmove(r->marks, r->marks + i, (r->nmarks - i) * sizeof(*r->marks));
		r->nmarks -= i;
	}
}

/* Note that the block at file offset file_off is about to be decompressed. */
static int mark_block(struct replay_log_reader *r, uint64_t file_off)
{
	if (r->nmarks == r->marks_cap) {
		size_t cap = r->marks_cap ? 2 * r->marks_cap : 8;
		struct block_mark *nm = realloc(r->marks, cap * sizeof(*nm));

		if (!nm) {
			finish(r, REPLAY_LOG_ERROR, "%s: out of memory", r->name);
			return -1;
		}
		r->marks = nm;
		r->marks_cap = cap;
	}
	r->marks[r->nmarks++] = (struct block_mark){ file_off, r->d_off + r->d_len };
	return 0;
}

/* Room for n more decompressed bytes. */
static int d_reserve(struct replay_log_reader *r, size_t n)
{
	if (r->d_cap - r->d_len >= n)
		return 0;
	memmove(r->d, r->d + r->d_pos, r->d_len - r->d_pos);
	r->d_off += r->d_pos;
	r->d_len -= r->d_pos;
	r->d_pos = 0;
	marks_prune(r);
	if (r->d_cap - r->d_len < n) {
		size_t cap = r->d_len + n;
		uint8_t *nd;

		cap += cap / 2;
		nd = realloc(r->d, cap);
		if (!nd) {
			finish(r, REPLAY_LOG_ERROR, "%s: out of memory", r->name);
			return -1;
		}
		r->d = nd;
		r->d_cap = cap;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Give LZ4F exactly n input bytes (a header, a block or the end mark).
 * Returns LZ4F's hint (0: frame complete) or -1 with status set. */
static long feed(struct replay_log_reader *r, size_t n, const char *what)
{
	size_t src = n, dst;
	size_t ret;

	if (!r->dctx) {
		finish(r, REPLAY_LOG_ERROR, "%s: out of memory (LZ4 context)", r->name);
		return -1;
	}
	if (d_reserve(r, r->max_block ? r->max_block : 1) < 0)
		return -1;
	dst = r->d_cap - r->d_len;
	ret = LZ4F_decompress(r->dctx, r->d + r->d_len, &dst, r->in + r->in_pos, &src, NULL);
	if (LZ4F_isError(ret)) {
		finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt LZ4 %s at file offset %llu "
		       "(decompressed offset %llu): %s", r->name, what,
		       (unsigned long long)file_pos(r), (unsigned long long)(r->d_off + r->d_len),
		       LZ4F_getErrorName(ret));
		return -1;
	}
	if (src != n) {
		finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt LZ4 %s at file offset %llu: "
		       "%zu of %zu bytes consumed", r->name, what,
		       (unsigned long long)file_pos(r), src, n);
		return -1;
	}
	r->in_pos += n;
	r->d_len += dst;
	return (long)(ret > 1 ? 1 : ret);
}

static enum replay_log_status frame_header(struct replay_log_reader *r)
{
	static const uint8_t magic[4] = { 0x04, 0x22, 0x4d, 0x18 };
	size_t avail, hs;
	int rc = input_ensure(r, 5);

	if (rc < 0)
		return r->status;
	avail = r->in_len - r->in_pos;
	if (memcmp(r->in + r->in_pos, magic, avail < 4 ? avail : 4) != 0)
		return finish(r, REPLAY_LOG_CORRUPT,
			      "%s: corrupt: not an LZ4 frame (file offset 0 holds %02x %02x %02x %02x, "
			      "expected LZ4 frame magic 04 22 4d 18)", r->name,
			      r->in[r->in_pos], avail > 1 ? r->in[r->in_pos + 1] : 0,
			      avail > 2 ? r->in[r->in_pos + 2] : 0, avail > 3 ? r->in[r->in_pos + 3] : 0);
	if (rc == 0)
		return truncated(r, "the LZ4 frame header");
	hs = LZ4F_headerSize(r->in + r->in_pos, avail);
	if (LZ4F_isError(hs))
		return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt LZ4 frame header: %s",
			      r->name, LZ4F_getErrorName(hs));
	if ((rc = input_ensure(r, hs)) <= 0)
		return rc < 0 ? r->status : truncated(r, "the LZ4 frame header");
	r->block_crc = !!(r->in[r->in_pos + 4] & 0x10);
	r->content_crc = !!(r->in[r->in_pos + 4] & 0x04);
	r->linked = !(r->in[r->in_pos + 4] & 0x20);
	if (feed(r, hs, "frame header") < 0)
		return r->status;
	/* LZ4F accepted the header, so the block size id is 4..7. */
	r->block_size_id = (r->in[r->in_pos - hs + 5] >> 4) & 7;
	r->max_block = (size_t)1 << (8 + 2 * r->block_size_id);
	r->stage = FR_BLOCKS;
	return REPLAY_LOG_EVENT;
}

/* Decompress the next unit of the frame. REPLAY_LOG_EVENT means progress. */
static enum replay_log_status frame_step(struct replay_log_reader *r)
{
	uint32_t size;
	size_t need;
	long hint;
	int rc;

	if (r->stage == FR_HEADER)
		return frame_header(r);
	if ((rc = input_ensure(r, 4)) <= 0)
		return rc < 0 ? r->status : truncated(r, "the LZ4 frame (before a block header)");
	size = le32(r->in + r->in_pos);
	if (size == 0) {
		need = 4 + (r->content_crc ? 4 : 0);
	} else {
		if ((size & 0x7fffffffu) > r->max_block)
			return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt LZ4 block at file offset "
				      "%llu: size %u exceeds the frame's maximum %zu", r->name,
				      (unsigned long long)file_pos(r), size & 0x7fffffffu,
				      r->max_block);
		need = 4 + (size & 0x7fffffffu) + (r->block_crc ? 4 : 0);
	}
	if ((rc = input_ensure(r, need)) <= 0)
		return rc < 0 ? r->status : truncated(r, size ? "an LZ4 block" : "the LZ4 end mark");
	if (size != 0 && mark_block(r, file_pos(r)) < 0)
		return r->status;
	/* A resumed frame was announced without a content checksum: LZ4F
	 * gets the end mark alone, and the checksum is stepped over. */
	hint = feed(r, size == 0 && r->resumed ? 4 : need, size ? "block" : "end mark");
	if (hint < 0)
		return r->status;
	if (size == 0 && r->resumed)
		r->in_pos += need - 4;
	if ((hint == 0) != (size == 0))
		return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt LZ4 frame at file offset %llu: "
			      "frame end and end mark disagree", r->name,
			      (unsigned long long)(file_pos(r) - need));
	if (size == 0) {
		r->stage = FR_DONE;
		if ((rc = input_ensure(r, 1)) != 0)
			return rc < 0 ? r->status :
			       finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt: trailing data after the "
				      "LZ4 frame at file offset %llu", r->name,
				      (unsigned long long)file_pos(r));
	}
	return REPLAY_LOG_EVENT;
}

static enum replay_log_status corrupt_decode(struct replay_log_reader *r, enum replay_codec_rc rc,
					     const char *msg)
{
	if (rc == REPLAY_DEC_NOMEM)
		return finish(r, REPLAY_LOG_ERROR, "%s: out of memory decoding offset %llu",
			      r->name, (unsigned long long)(r->d_off + r->d_pos));
	return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt event log: %s", r->name, msg);
}

enum replay_log_status replay_log_next(struct replay_log_reader *r, struct replay_event *ev)
{
	char msg[256];

	if (r->done)
		return r->status;
	if (r->fd < 0)
		return finish(r, REPLAY_LOG_ERROR, "read: the log reader is not open");
	if (r->skipping) {
		enum replay_log_status st;

		while (r->d_off + r->d_len < r->skip_to && r->stage != FR_DONE)
			if ((st = frame_step(r)) != REPLAY_LOG_EVENT)
				return st;
		if (r->d_off + r->d_len < r->skip_to)
			return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt: the frame ends at "
				      "decompressed offset %llu, before the position sought (%llu)",
				      r->name, (unsigned long long)(r->d_off + r->d_len),
				      (unsigned long long)r->skip_to);
		r->d_pos = (size_t)(r->skip_to - r->d_off);
		r->skipping = 0;
	}
	for (;;) {
		size_t avail = r->d_len - r->d_pos, used, want;
		uint64_t off = r->d_off + r->d_pos;
		enum replay_codec_rc rc = REPLAY_DEC_MORE;
		enum replay_log_status st;

		if (!r->header_done && avail > 0) {
			rc = replay_codec_decode_header(r->d + r->d_pos, avail, off, &used,
							msg, sizeof(msg));
			if (rc == REPLAY_DEC_OK) {
				r->d_pos += used;
				r->header_done = 1;
				continue;
			}
		} else if (avail > 0) {
			rc = replay_codec_decode(&r->codec, r->d + r->d_pos, avail, off, ev,
						 &r->scratch, &used, msg, sizeof(msg));
			if (rc == REPLAY_DEC_OK) {
				r->d_pos += used;
				r->events++;
				return REPLAY_LOG_EVENT;
			}
		}
		if (rc != REPLAY_DEC_MORE)
			return corrupt_decode(r, rc, msg);
		if (r->stage == FR_DONE) {
			if (!r->header_done)
				return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt event log: the "
					      "frame ends at offset %llu inside the log header",
					      r->name, (unsigned long long)r->d_len);
			if (avail > 0)
				return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt event log: the "
					      "frame ends inside the event at offset %llu",
					      r->name, (unsigned long long)off);
			if (!r->codec.ended)
				return finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt event log: the "
					      "frame ends at offset %llu without an END event",
					      r->name, (unsigned long long)off);
			return finish(r, REPLAY_LOG_END_OF_LOG, "%s: end of log after %llu events",
				      r->name, (unsigned long long)r->events);
		}
		/* Double what is buffered before decoding again, so an event
		 * spanning many blocks is parsed O(1) times on average. */
		want = avail < REPLAY_EVENT_MAX_ENCODED ? 2 * avail + 1 : avail + 1;
		while (r->d_len - r->d_pos < want && r->stage != FR_DONE)
			if ((st = frame_step(r)) != REPLAY_LOG_EVENT)
				return st;
	}
}

const char *replay_log_reader_error(const struct replay_log_reader *r)
{
	return r->msg;
}

uint64_t replay_log_reader_events(const struct replay_log_reader *r)
{
	return r->events;
}

uint64_t replay_log_reader_offset(const struct replay_log_reader *r)
{
	return r->d_off + r->d_pos;
}

uint64_t replay_log_reader_file_offset(const struct replay_log_reader *r)
{
	return file_pos(r);
}

void replay_log_reader_tell(const struct replay_log_reader *r, struct replay_log_pos *pos)
{
	uint64_t off = r->skipping ? r->skip_to : r->d_off + r->d_pos;
	size_t i = r->nmarks;

	memset(pos, 0, sizeof(*pos));
	while (i > 0 && r->marks[i - 1].d_start > off)
		i--;
	if (r->skipping) {
		/* Sought but not read yet: still where the seek put it. */
		pos->block_file_off = r->skip_block_file_off;
		pos->block_d_off = r->skip_block_d_off;
	} else if (i > 0) {
		pos->block_file_off = r->marks[i - 1].file_off;
		pos->block_d_off = r->marks[i - 1].d_start;
	}
	pos->d_off = off;
	pos->events = r->events;
	pos->exits = r->codec.exits;
	pos->clock[0] = r->codec.clock[0];
	pos->clock[1] = r->codec.clock[1];
	pos->header_done = (uint8_t)r->header_done;
	pos->ended = (uint8_t)r->codec.ended;
}

/* A frame header like the file's but for independent blocks and without
 * the content checksum, made by LZ4F itself (it carries a checksum byte). */
static int resume_header(struct replay_log_reader *r)
{
	LZ4F_preferences_t p;
	LZ4F_cctx *c;
	uint8_t hdr[LZ4F_HEADER_SIZE_MAX];
	size_t n, src, dst = 0, ret;

	memset(&p, 0, sizeof(p));
	p.frameInfo.blockSizeID = (LZ4F_blockSizeID_t)r->block_size_id;
	p.frameInfo.blockMode = LZ4F_blockIndependent;
	p.frameInfo.blockChecksumFlag = r->block_crc ? LZ4F_blockChecksumEnabled
						     : LZ4F_noBlockChecksum;
	p.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
	/* The header does not depend on autoFlush, but without it LZ4F
	 * callocs a whole block (4 MiB for a 4 MiB-block frame) per seek. */
	p.autoFlush = 1;
	if (LZ4F_isError(LZ4F_createCompressionContext(&c, LZ4F_VERSION)))
		return -ENOMEM;
	n = LZ4F_compressBegin(c, hdr, sizeof(hdr), &p);
	LZ4F_freeCompressionContext(c);
	if (LZ4F_isError(n))
		return -EINVAL;
	if (fresh_dctx(r))
		return -ENOMEM;
	src = n;
	ret = LZ4F_decompress(r->dctx, r->d, &dst, hdr, &src, NULL);
	return LZ4F_isError(ret) || src != n ? -EINVAL : 0;
}

/* Linked blocks: read again from the start up to pos. */
static int seek_by_rereading(struct replay_log_reader *r, const struct replay_log_pos *pos)
{
	struct replay_event ev;

	if (lseek(r->fd, 0, SEEK_SET) < 0)
		return -errno;
	rewind_state(r);
	while (r->events < pos->events)
		if (replay_log_next(r, &ev) != REPLAY_LOG_EVENT)
			return -EINVAL;
	if ((pos->events > 0 || pos->header_done) && r->d_off + r->d_pos != pos->d_off) {
		finish(r, REPLAY_LOG_CORRUPT, "%s: corrupt: event %llu starts at decompressed "
		       "offset %llu, not at the position sought (%llu)", r->name,
		       (unsigned long long)pos->events, (unsigned long long)(r->d_off + r->d_pos),
		       (unsigned long long)pos->d_off);
		return -EINVAL;
	}
	return 0;
}

int replay_log_reader_seek(struct replay_log_reader *r, const struct replay_log_pos *pos)
{
	int rc;

	if (r->fd < 0)
		return -EBADF;
	if (pos->block_file_off == 0 || r->linked || r->stage == FR_HEADER)
		return seek_by_rereading(r, pos);
	if (pos->d_off < pos->block_d_off || pos->d_off - pos->block_d_off > r->max_block) {
		finish(r, REPLAY_LOG_CORRUPT, "%s: no such position: decompressed offset %llu in "
		       "the block at %llu", r->name, (unsigned long long)pos->d_off,
		       (unsigned long long)pos->block_d_off);
		return -EINVAL;
	}
	if (lseek(r->fd, (off_t)pos->block_file_off, SEEK_SET) < 0)
		return -errno;
	rc = resume_header(r);
	if (rc) {
		finish(r, REPLAY_LOG_ERROR, "%s: cannot resume the LZ4 frame: %s", r->name,
		       strerror(-rc));
		return rc;
	}
	r->in_pos = r->in_len = 0;
	r->in_off = pos->block_file_off;
	r->eof = 0;
	r->stage = FR_BLOCKS;
	r->resumed = 1;
	r->nmarks = 0;
	r->d_pos = r->d_len = 0;
	r->d_off = pos->block_d_off;
	r->header_done = pos->header_done;
	r->codec.exits = pos->exits;
	r->codec.clock[0] = pos->clock[0];
	r->codec.clock[1] = pos->clock[1];
	r->codec.ended = pos->ended;
	r->events = pos->events;
	r->skipping = 1;
	r->skip_to = pos->d_off;
	r->skip_block_file_off = pos->block_file_off;
	r->skip_block_d_off = pos->block_d_off;
	r->done = 0;
	r->msg[0] = 0;
	return 0;
}
