/*
 * manifest.c — DIR/manifest, the recording's description: a text file of
 * "key: value" lines that people can read and scripts can grep.
 *
 * It is written twice: when recording starts (result "running", so that a
 * recorder killed by SIGKILL leaves a manifest that says so) and when it
 * ends. Each write goes to a temporary file that is renamed into place, so
 * a reader never sees half a manifest.
 *
 * Text values come from the user (the kernel path, the command line) and
 * may hold any byte but NUL. Format 2 escapes them (replay/FORMAT.md,
 * "The manifest") so that every value reads back exactly and no value can
 * end its line or start another; format 1 wrote them raw, and is still
 * read, raw. A value that does not fit its field is refused, never cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "replay/replay.h"

#define MAGIC_KEY "rrvm-recording"
/* A manifest is a few hundred bytes, a few KiB with a long command line
 * escaped; anything much larger is not one. */
#define MANIFEST_MAX (1u << 20)

/* ---- escaping (format 2) ------------------------------------------------ */

static void put_escaped(FILE *f, const char *key, const char *v)
{
	size_t n = strlen(v);

	fprintf(f, "%s: ", key);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f || (c == ' ' && (i == 0 || i == n - 1)))
			/* Spaces at either end too: readers and editors trim them. */
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('\n', f);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode v in place; -1 with *bad at the offending byte offset. */
static int unescape(char *v, size_t *bad)
{
	char *w = v;

	for (char *r = v; *r; r++) {
		unsigned char c = (unsigned char)*r;

		if (c < 0x20 || c == 0x7f) {
			*bad = (size_t)(r - v);
			return -1;
		}
		if (c != '\\') {
			*w++ = (char)c;
			continue;
		}
		*bad = (size_t)(r - v);
		switch (*++r) {
		case '\\': *w++ = '\\'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'x': {
			int hi = r[1] ? hexval(r[1]) : -1, lo = hi >= 0 && r[2] ? hexval(r[2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi << 4 | lo);
			r += 2;
			break;
		}
		default:
			return -1;
		}
	}
	*w = '\0';
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

int replay_manifest_write(const char *dir, const struct replay_manifest *m, struct vmm_error *err)
{
	char path[4096], tmp[4096];
	FILE *f;
	int fd, e;

	if (snprintf(path, sizeof(path), "%s/manifest", dir) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.manifest.tmp", dir) >= (int)sizeof(tmp)) {
		vmm_error_set(err, "%.64s...: the directory path is too long", dir);
		return -ENAMETOOLONG;
	}
	/* O_NOFOLLOW: a symlink planted in the directory must not redirect
	 * the write somewhere else. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		e = errno;
		vmm_error_set(err, "%s: %s", tmp, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	fprintf(f, MAGIC_KEY ": %d\n", REPLAY_FORMAT_VERSION);
	put_escaped(f, "rrvm-version", m->rrvm_version);
	fprintf(f, "event-log-version: %d\n", m->log_version);
	put_escaped(f, "kernel", m->kernel);
	put_escaped(f, "kernel-sha256", m->kernel_sha256);
	put_escaped(f, "cmdline", m->cmdline);
	fprintf(f, "mem: %" PRIu64 "\n", m->mem_size);
	put_escaped(f, "cpuid-policy", m->cpuid_policy);
	if (m->chaos)
		fprintf(f, "chaos-seed: %" PRIu64 "\n", m->chaos_seed);
	else
		fprintf(f, "chaos-seed: none\n");
	fprintf(f, "poll-latency-ns: %" PRIu64 "\n", m->poll_latency_ns);
	put_escaped(f, "result", m->result);
	fprintf(f, "exit-status: %d\n", m->exit_status);
	fprintf(f, "exit-value: %" PRIu32 "\n", m->exit_value);
	fprintf(f, "exits: %" PRIu64 "\n", m->exits);
	fprintf(f, "events: %" PRIu64 "\n", m->events);
	fprintf(f, "state-hash: 0x%016" PRIx64 "\n", m->state_hash);
	/* A full disk shows here (stdio buffered the text) or at fsync. */
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		e = errno ? errno : EIO;
		vmm_error_set(err, "%s: %s", tmp, strerror(e));
		fclose(f);
		unlink(tmp);
		return -e;
	}
	if (fclose(f) != 0) {
		e = errno;
		vmm_error_set(err, "%s: %s", tmp, strerror(e));
		unlink(tmp);
		return -e;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		vmm_error_set(err, "%s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

int replay_manifest_each(const char *dir, replay_manifest_line_fn fn, void *ctx,
			 struct vmm_error *err)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int fd, rc = 0, version = 0;
	FILE *f;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/manifest", dir) >= (int)sizeof(path)) {
		vmm_error_set(err, "%.64s...: the directory path is too long", dir);
		return -ENAMETOOLONG;
	}
	fd = vmm_open_regular(path, O_RDONLY, err);
	if (fd < 0) {
		if (fd == -ENOENT)
			vmm_error_set(err, "%s: %s (is this an rrvm recording directory?)", path,
				      strerror(ENOENT));
		return fd;
	}
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)MANIFEST_MAX) {
		vmm_error_set(err, "%s: %lld bytes is too large for a manifest", path,
			      (long long)st.st_size);
		close(fd);
		return -EINVAL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		rc = -errno;
		vmm_error_set(err, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		char *colon, *val;
		size_t bad;

		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n != strlen(line)) {
			vmm_error_set(err, "%s:%u: a NUL byte in the line", path, lineno);
			rc = -EINVAL;
			break;
		}
		if (!*line)
			continue;
		colon = strchr(line, ':');
		if (!colon) {
			vmm_error_set(err, "%s:%u: not a 'key: value' line", path, lineno);
			rc = -EINVAL;
			break;
		}
		*colon = '\0';
		val = colon + 1;
		while (*val == ' ')
			val++;
		if (!version) {
			char *end;
			long v;

			if (strcmp(line, MAGIC_KEY) != 0) {
				vmm_error_set(err, "%s: not an rrvm manifest (first key '%.64s')", path,
					      line);
				rc = -EINVAL;
				break;
			}
			errno = 0;
			v = strtol(val, &end, 10);
			if (errno || end == val || *end || v < REPLAY_FORMAT_VERSION_MIN ||
			    v > REPLAY_FORMAT_VERSION) {
				vmm_error_set(err, "%s: recording format version '%.64s' is not supported "
					      "(this rrvm reads versions %d to %d)", path, val,
					      REPLAY_FORMAT_VERSION_MIN, REPLAY_FORMAT_VERSION);
				rc = -EINVAL;
				break;
			}
			version = (int)v;
		} else if (version >= 2 && unescape(val, &bad)) {
			vmm_error_set(err, "%s:%u: %s: bad escape or control byte at byte %zu of the "
				      "value", path, lineno, line, bad);
			rc = -EINVAL;
			break;
		}
		rc = fn(ctx, line, val, lineno, err);
	}
	if (!rc && ferror(f)) {
		vmm_error_set(err, "%s: read error after line %u", path, lineno);
		rc = -EIO;
	}
	if (!rc && !version) {
		vmm_error_set(err, "%s: empty file, not an rrvm manifest", path);
		rc = -EINVAL;
	}
	free(line);
	fclose(f);
	return rc;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 0);
	return errno || end == v || *end || *v == '-' ? -1 : 0;
}

enum {
	K_MAGIC, K_LOGV, K_RRVM, K_KERNEL, K_SHA, K_CMDLINE, K_MEM, K_CPUID, K_CHAOS, K_LATENCY,
	K_RESULT, K_STATUS, K_VALUE, K_EXITS, K_EVENTS, K_HASH, K_COUNT
};
static const char *const key_names[K_COUNT] = {
	MAGIC_KEY, "event-log-version", "rrvm-version", "kernel", "kernel-sha256", "cmdline",
	"mem", "cpuid-policy", "chaos-seed", "poll-latency-ns", "result", "exit-status",
	"exit-value", "exits", "events", "state-hash",
};

struct reader {
	struct replay_manifest *m;
	const char *path;
	unsigned seen;                  /* bit per key */
};

static int text(struct reader *rd, unsigned lineno, const char *key, const char *v, char *dst,
		size_t size, struct vmm_error *err)
{
	size_t n = strlen(v);

	if (n >= size) {
		vmm_error_set(err, "%s:%u: %s of %zu bytes is longer than rrvm allows (%zu)", rd->path,
			      lineno, key, n, size - 1);
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int number(struct reader *rd, unsigned lineno, const char *key, const char *v,
		  uint64_t max, uint64_t *out, struct vmm_error *err)
{
	if (parse_u64(v, out)) {
		vmm_error_set(err, "%s:%u: %s '%.64s' is not a number", rd->path, lineno, key, v);
		return -EINVAL;
	}
	if (*out > max) {
		vmm_error_set(err, "%s:%u: %s %s is out of range (at most %" PRIu64 ")", rd->path,
			      lineno, key, v, max);
		return -EINVAL;
	}
	return 0;
}

static int read_line(void *ctx, const char *key, const char *v, unsigned lineno,
		     struct vmm_error *err)
{
	struct reader *rd = ctx;
	struct replay_manifest *m = rd->m;
	uint64_t x = 0;
	int k, rc = 0;

	for (k = 0; k < K_COUNT && strcmp(key, key_names[k]) != 0; k++)
		;
	if (k == K_COUNT)
		return 0;       /* unknown keys are for newer readers; ignore them */
	if (rd->seen & (1u << k)) {
		vmm_error_set(err, "%s:%u: a second '%s' line", rd->path, lineno, key);
		return -EINVAL;
	}
	rd->seen |= 1u << k;
	switch (k) {
	case K_MAGIC:
		m->format_version = atoi(v);    /* checked by replay_manifest_each */
		break;
	case K_LOGV:
		if (parse_u64(v, &x) || x < REPLAY_LOG_VERSION_MIN || x > REPLAY_LOG_VERSION) {
			vmm_error_set(err, "%s: event log version '%.64s' is not supported (this rrvm "
				      "reads versions %d to %d)", rd->path, v, REPLAY_LOG_VERSION_MIN,
				      REPLAY_LOG_VERSION);
			return -EINVAL;
		}
		m->log_version = (int)x;
		break;
	case K_RRVM:
		return text(rd, lineno, key, v, m->rrvm_version, sizeof(m->rrvm_version), err);
	case K_KERNEL:
		return text(rd, lineno, key, v, m->kernel, sizeof(m->kernel), err);
	case K_SHA:
		if (strlen(v) != 64 || strspn(v, "0123456789abcdef") != 64) {
			vmm_error_set(err, "%s:%u: kernel-sha256 '%.80s' is not a SHA-256 digest",
				      rd->path, lineno, v);
			return -EINVAL;
		}
		memcpy(m->kernel_sha256, v, 65);
		break;
	case K_CMDLINE:
		return text(rd, lineno, key, v, m->cmdline, sizeof(m->cmdline), err);
	case K_MEM:
		return number(rd, lineno, key, v, UINT64_MAX, &m->mem_size, err);
	case K_CPUID:
		return text(rd, lineno, key, v, m->cpuid_policy, sizeof(m->cpuid_policy), err);
	case K_CHAOS:
		m->chaos = strcmp(v, "none") != 0;
		if (m->chaos)
			rc = number(rd, lineno, key, v, UINT64_MAX, &m->chaos_seed, err);
		break;
	case K_LATENCY:
		rc = number(rd, lineno, key, v, UINT64_MAX, &m->poll_latency_ns, err);
		break;
	case K_RESULT:
		return text(rd, lineno, key, v, m->result, sizeof(m->result), err);
	case K_STATUS:
		rc = number(rd, lineno, key, v, 255, &x, err);
		m->exit_status = (int)x;
		break;
	case K_VALUE:
		rc = number(rd, lineno, key, v, UINT32_MAX, &x, err);
		m->exit_value = (uint32_t)x;
		break;
	case K_EXITS:
		return number(rd, lineno, key, v, UINT64_MAX, &m->exits, err);
	case K_EVENTS:
		return number(rd, lineno, key, v, UINT64_MAX, &m->events, err);
	case K_HASH:
		return number(rd, lineno, key, v, UINT64_MAX, &m->state_hash, err);
	}
	return rc;
}

int replay_manifest_read(const char *dir, struct replay_manifest *m, struct vmm_error *err)
{
	char path[4096];
	struct reader rd = { .m = m, .path = path };
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	rc = replay_manifest_each(dir, read_line, &rd, err);
	if (rc)
		return rc;
	for (int k = 0; k < K_COUNT; k++) {
		if ((k == K_MAGIC || k == K_LOGV || k == K_SHA || k == K_MEM) &&
		    !(rd.seen & (1u << k))) {
			vmm_error_set(err, "%s: incomplete manifest (missing %s)", path, key_names[k]);
			return -EINVAL;
		}
	}
	return 0;
}
