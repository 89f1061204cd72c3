/*
 * pack.c — a recording as one file, for CI artifacts and mail: an LZ4
 * frame (the `lz4` program can test and open it) around a tiny archive of
 * the recording's manifest, kernel and events.lz4, each with its size and
 * SHA-256 (FORMAT.md, "Packed recordings").
 *
 * Unpacking trusts nothing in the file: names come from a fixed list and
 * are opened with O_EXCL|O_NOFOLLOW inside the caller's private directory,
 * sizes are bounded and counted as the bytes arrive (nothing is allocated
 * from a declared size), every file's SHA-256 must match, and the archive
 * must end exactly where the frame ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/replay.h"

#define PACK_MAGIC "RRVMPACK"
#define PACK_END "RRVMEND\n"
#define CHUNK 65536

static const char *const pack_files[] = { "manifest", "kernel", "events.lz4" };
#define NFILES (sizeof(pack_files) / sizeof(pack_files[0]))

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- packing ------------------------------------------------------------- */

struct packer {
	LZ4F_cctx *cctx;
	FILE *f;
	uint8_t *out;
	size_t cap;
	const char *path;
	struct vmm_error *err;
};

static int emit(struct packer *p, size_t n)
{
	if (LZ4F_isError(n)) {
		vmm_error_set(p->err, "%s: lz4: %s", p->path, LZ4F_getErrorName(n));
		return -EIO;
	}
	if (n && fwrite(p->out, 1, n, p->f) != n) {
		vmm_error_set(p->err, "%s: %s", p->path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int feed(struct packer *p, const void *data, size_t len)
{
	const uint8_t *d = data;

	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;
		int rc = emit(p, LZ4F_compressUpdate(p->cctx, p->out, p->cap, d, n, NULL));
		if (rc)
			return rc;
		d += n;
		len -= n;
	}
	return 0;
}

int replay_pack(const char *dir, const char *path, struct vmm_error *err)
{
	LZ4F_preferences_t prefs = { .frameInfo = { .blockSizeID = LZ4F_max64KB,
						    .contentChecksumFlag = LZ4F_contentChecksumEnabled } };
	struct packer p = { .path = path, .err = err };
	char tmp[4200], file[4200], hex[65];
	uint8_t hdr[16], *data = NULL;
	size_t len;
	int rc = -EIO;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	p.cap = LZ4F_compressBound(CHUNK, &prefs);
	if (p.cap < LZ4F_HEADER_SIZE_MAX)
		p.cap = LZ4F_HEADER_SIZE_MAX;
	p.out = malloc(p.cap);
	if (!p.out || LZ4F_isError(LZ4F_createCompressionContext(&p.cctx, LZ4F_VERSION))) {
		vmm_error_set(err, "pack: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	p.f = fopen(tmp, "wx");
	if (!p.f) {
		vmm_error_set(err, "%s: %s", tmp, strerror(errno));
		rc = -errno;
		goto out;
	}
	memcpy(hdr, PACK_MAGIC, 8);
	put_le(hdr + 8, REPLAY_PACK_VERSION, 4);
	put_le(hdr + 12, NFILES, 4);
	rc = emit(&p, LZ4F_compressBegin(p.cctx, p.out, p.cap, &prefs));
	if (!rc)
		rc = feed(&p, hdr, sizeof(hdr));
	for (size_t i = 0; !rc && i < NFILES; i++) {
		uint8_t eh[2 + 8];
		size_t nl = strlen(pack_files[i]);

		snprintf(file, sizeof(file), "%s/%s", dir, pack_files[i]);
		rc = vmm_read_file(file, &data, &len, err);
		if (rc)
			break;
		if (len > REPLAY_PACK_MAX_FILE) {
			vmm_error_set(err, "%s: %zu bytes, more than a pack holds", file, len);
			rc = -EFBIG;
			break;
		}
		replay_sha256(data, len, hex);
		put_le(eh, nl, 2);
		rc = feed(&p, eh, 2);
		if (!rc)
			rc = feed(&p, pack_files[i], nl);
		put_le(eh, len, 8);
		if (!rc)
			rc = feed(&p, eh, 8);
		if (!rc)
			rc = feed(&p, hex, 64);
		if (!rc)
			rc = feed(&p, data, len);
		free(data);
		data = NULL;
	}
	if (!rc)
		rc = feed(&p, PACK_END, 8);
	if (!rc)
		rc = emit(&p, LZ4F_compressEnd(p.cctx, p.out, p.cap, NULL));
	if (!rc && (fflush(p.f) || fsync(fileno(p.f)) < 0)) {
		vmm_error_set(err, "%s: %s", tmp, strerror(errno));
		rc = -EIO;
	}
	if (fclose(p.f) && !rc) {
		vmm_error_set(err, "%s: %s", tmp, strerror(errno));
		rc = -EIO;
	}
	p.f = NULL;
	if (!rc && rename(tmp, path) < 0) {
		vmm_error_set(err, "%s: %s", path, strerror(errno));
		rc = -errno;
	}
	if (rc)
		unlink(tmp);
out:
	LZ4F_freeCompressionContext(p.cctx);
	free(p.out);
	return rc;
}

/* ---- unpacking ----------------------------------------------------------- */

struct unpacker {
	LZ4F_dctx *dctx;
	FILE *f;
	const char *path;
	uint8_t in[CHUNK], out[CHUNK];
	size_t in_pos, in_len, out_pos, out_len;
	bool frame_done;
	uint64_t offset;                /* bytes of the archive consumed */
	struct vmm_error *err;
};

/* Decompress more; 0, -EIO, or -EBADMSG for a damaged or cut frame. */
static int refill(struct unpacker *u)
{
	while (u->out_pos == u->out_len) {
		size_t dst = sizeof(u->out), src, ret;

		if (u->frame_done)
			return 0;
		if (u->in_pos == u->in_len) {
			u->in_len = fread(u->in, 1, sizeof(u->in), u->f);
			u->in_pos = 0;
			if (!u->in_len) {
				vmm_error_set(u->err, "%s: %s at archive byte %llu", u->path,
					      ferror(u->f) ? strerror(errno) : "the file ends before its LZ4 frame",
					      (unsigned long long)u->offset);
				return ferror(u->f) ? -EIO : -EBADMSG;
			}
		}
		src = u->in_len - u->in_pos;
		ret = LZ4F_decompress(u->dctx, u->out, &dst, u->in + u->in_pos, &src, NULL);
		if (LZ4F_isError(ret)) {
			vmm_error_set(u->err, "%s: not a packed recording or damaged (lz4: %s)", u->path,
				      LZ4F_getErrorName(ret));
			return -EBADMSG;
		}
		u->in_pos += src;
		u->out_pos = 0;
		u->out_len = dst;
		u->frame_done = ret == 0;
	}
	return 0;
}

/* Exactly n bytes of the archive into buf (NULL: pass them to sink). */
static int take(struct unpacker *u, void *buf, uint64_t n, int fd, struct replay_sha256_ctx *sha)
{
	uint8_t *b = buf;

	while (n) {
		size_t k;
		int rc = refill(u);

		if (rc)
			return rc;
		if (u->out_pos == u->out_len) {
			vmm_error_set(u->err, "%s: the archive ends early, at byte %llu", u->path,
				      (unsigned long long)u->offset);
			return -EBADMSG;
		}
		k = u->out_len - u->out_pos;
		if (k > n)
			k = (size_t)n;
		if (b) {
			memcpy(b, u->out + u->out_pos, k);
			b += k;
		} else {
			replay_sha256_update(sha, u->out + u->out_pos, k);
			if (write(fd, u->out + u->out_pos, k) != (ssize_t)k) {
				vmm_error_set(u->err, "unpacking %s: %s", u->path, strerror(errno));
				return -EIO;
			}
		}
		u->out_pos += k;
		u->offset += k;
		n -= k;
	}
	return 0;
}

static int unpack_entry(struct unpacker *u, int dirfd, bool *seen)
{
	uint8_t eh[8];
	char name[64], want[65], got[65];
	struct replay_sha256_ctx sha;
	uint64_t size, nl;
	size_t idx = NFILES;
	int rc, fd;

	rc = take(u, eh, 2, -1, NULL);
	if (rc)
		return rc;
	nl = get_le(eh, 2);
	if (nl == 0 || nl >= sizeof(name)) {
		vmm_error_set(u->err, "%s: a file name of %llu bytes at archive byte %llu: refused",
			      u->path, (unsigned long long)nl, (unsigned long long)u->offset);
		return -EBADMSG;
	}
	rc = take(u, name, nl, -1, NULL);
	if (rc)
		return rc;
	name[nl] = '\0';
	for (size_t i = 0; i < NFILES; i++)
		if (strlen(name) == nl && strcmp(name, pack_files[i]) == 0)
			idx = i;
	if (idx == NFILES || seen[idx]) {
		char shown[256];
		size_t j = 0;
		for (size_t i = 0; i < nl && j + 5 < sizeof(shown); i++)
			j += (size_t)snprintf(shown + j, sizeof(shown) - j,
					      name[i] > 0x20 && name[i] < 0x7f ? "%c" : "\\x%02x",
					      (unsigned char)name[i]);
		vmm_error_set(u->err, "%s: refused file '%s': %s", u->path, shown,
			      idx == NFILES ? "a packed recording holds only manifest, kernel and "
					      "events.lz4, by plain name" : "it appears twice");
		return -EBADMSG;
	}
	seen[idx] = true;
	rc = take(u, eh, 8, -1, NULL);
	if (!rc)
		rc = take(u, want, 64, -1, NULL);
	if (rc)
		return rc;
	want[64] = '\0';
	size = get_le(eh, 8);
	if (size > REPLAY_PACK_MAX_FILE) {
		vmm_error_set(u->err, "%s: %s says %llu bytes, more than %llu: refused", u->path, name,
			      (unsigned long long)size, (unsigned long long)REPLAY_PACK_MAX_FILE);
		return -EFBIG;
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		vmm_error_set(u->err, "unpacking %s: %s: %s", u->path, name, strerror(errno));
		return -errno;
	}
	replay_sha256_init(&sha);
	rc = take(u, NULL, size, fd, &sha);
	if (close(fd) < 0 && !rc) {
		vmm_error_set(u->err, "unpacking %s: %s: %s", u->path, name, strerror(errno));
		rc = -EIO;
	}
	if (rc)
		return rc;
	replay_sha256_final(&sha, got);
	if (strcmp(got, want) != 0) {
		vmm_error_set(u->err, "%s: %s does not match its SHA-256 (packed %.64s, contents %s)",
			      u->path, name, want, got);
		return -EBADMSG;
	}
	return 0;
}

int replay_unpack(const char *path, const char *dest, struct vmm_error *err)
{
	struct unpacker *u = calloc(1, sizeof(*u));
	bool seen[NFILES] = { false };
	uint8_t hdr[16], end[8];
	int dirfd = -1, rc = -EBADMSG;

	if (!u) {
		vmm_error_set(err, "unpack: out of memory");
		return -ENOMEM;
	}
	u->path = path;
	u->err = err;
	u->f = fopen(path, "rb");
	if (!u->f) {
		vmm_error_set(err, "%s: %s", path, strerror(errno));
		rc = -errno;
		goto out;
	}
	dirfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || LZ4F_isError(LZ4F_createDecompressionContext(&u->dctx, LZ4F_VERSION))) {
		vmm_error_set(err, "%s: %s", dest, strerror(errno));
		rc = -EIO;
		goto out;
	}
	rc = take(u, hdr, sizeof(hdr), -1, NULL);
	if (rc)
		goto out;
	if (memcmp(hdr, PACK_MAGIC, 8) != 0) {
		vmm_error_set(err, "%s: not a packed recording (no " PACK_MAGIC " header)", path);
		rc = -EBADMSG;
		goto out;
	}
	if (get_le(hdr + 8, 4) != REPLAY_PACK_VERSION || get_le(hdr + 12, 4) != NFILES) {
		vmm_error_set(err, "%s: pack format version %llu with %llu files; this rrvm reads "
			      "version %d with %zu", path, (unsigned long long)get_le(hdr + 8, 4),
			      (unsigned long long)get_le(hdr + 12, 4), REPLAY_PACK_VERSION, NFILES);
		rc = -EPROTO;
		goto out;
	}
	for (size_t i = 0; !rc && i < NFILES; i++)
		rc = unpack_entry(u, dirfd, seen);
	if (!rc)
		rc = take(u, end, sizeof(end), -1, NULL);
	if (!rc && memcmp(end, PACK_END, 8) != 0) {
		vmm_error_set(err, "%s: no end mark after the last file (archive byte %llu)", path,
			      (unsigned long long)u->offset);
		rc = -EBADMSG;
	}
	/* Nothing may follow: not in the archive, not after the frame. */
	if (!rc)
		rc = refill(u);
	if (!rc && (u->out_pos != u->out_len || !u->frame_done)) {
		vmm_error_set(err, "%s: data after the end mark: refused", path);
		rc = -EBADMSG;
	}
	if (!rc && (u->in_pos != u->in_len || fgetc(u->f) != EOF)) {
		vmm_error_set(err, "%s: bytes after the LZ4 frame: refused", path);
		rc = -EBADMSG;
	}
out:
	if (rc && dirfd >= 0)
		for (size_t i = 0; i < NFILES; i++)
			unlinkat(dirfd, pack_files[i], 0);
	if (dirfd >= 0)
		close(dirfd);
	if (u->f)
		fclose(u->f);
	LZ4F_freeDecompressionContext(u->dctx);
	free(u);
	return rc;
}
