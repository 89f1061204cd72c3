/*
 * manifest.c — DIR/manifest, the recording's description: a text file of
 * "key: value" lines that people can read and scripts can grep.
 *
 * It is written twice: when recording starts (result "running", so that a
 * recorder killed by SIGKILL leaves a manifest that says so) and when it
 * ends. Each write goes to a temporary file that is renamed into place, so
 * a reader never sees half a manifest.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "replay/replay.h"

#define MAGIC_KEY "rrvm-recording"

int replay_manifest_write(const char *dir, const struct replay_manifest *m, struct vmm_error *err)
{
	char path[4096], tmp[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/manifest", dir);
	snprintf(tmp, sizeof(tmp), "%s/.manifest.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		vmm_error_set(err, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	fprintf(f, MAGIC_KEY ": %d\n", m->format_version);
	fprintf(f, "rrvm-version: %s\n", m->rrvm_version);
	fprintf(f, "event-log-version: %d\n", m->log_version);
	fprintf(f, "kernel: %s\n", m->kernel);
	fprintf(f, "kernel-sha256: %s\n", m->kernel_sha256);
	fprintf(f, "cmdline: %s\n", m->cmdline);
	fprintf(f, "mem: %" PRIu64 "\n", m->mem_size);
	fprintf(f, "cpuid-policy: %s\n", m->cpuid_policy);
	if (m->chaos)
		fprintf(f, "chaos-seed: %" PRIu64 "\n", m->chaos_seed);
	else
		fprintf(f, "chaos-seed: none\n");
	fprintf(f, "poll-latency-ns: %" PRIu64 "\n", m->poll_latency_ns);
	fprintf(f, "result: %s\n", m->result);
	fprintf(f, "exit-status: %d\n", m->exit_status);
	fprintf(f, "exit-value: %" PRIu32 "\n", m->exit_value);
	fprintf(f, "exits: %" PRIu64 "\n", m->exits);
	fprintf(f, "events: %" PRIu64 "\n", m->events);
	fprintf(f, "state-hash: 0x%016" PRIx64 "\n", m->state_hash);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		vmm_error_set(err, "%s: %s", tmp, strerror(errno));
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		vmm_error_set(err, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 0);
	return errno || end == v || *end ? -1 : 0;
}

static void copy_str(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v);
}

int replay_manifest_read(const char *dir, struct replay_manifest *m, struct vmm_error *err)
{
	char path[4096], line[4096];
	FILE *f;
	unsigned lineno = 0;
	bool have_magic = false, have_sha = false, have_mem = false;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	f = fopen(path, "r");
	if (!f) {
		int e = errno;
		vmm_error_set(err, "%s: %s%s", path, strerror(e),
			      e == ENOENT ? " (is this an rrvm recording directory?)" : "");
		return -e;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon, *val;
		size_t n = strlen(line);

		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (!*line)
			continue;
		colon = strchr(line, ':');
		if (!colon) {
			vmm_error_set(err, "%s:%u: not a 'key: value' line", path, lineno);
			goto bad;
		}
		*colon = '\0';
		val = colon + 1;
		while (*val == ' ')
			val++;
		if (lineno == 1 && strcmp(line, MAGIC_KEY) != 0) {
			vmm_error_set(err, "%s: not an rrvm manifest (first key '%s')", path, line);
			goto bad;
		}
		if (strcmp(line, MAGIC_KEY) == 0) {
			have_magic = true;
			if (parse_u64(val, &v) || v != REPLAY_FORMAT_VERSION) {
				vmm_error_set(err, "%s: recording format version '%s' is not supported "
					      "(this rrvm reads version %d)", path, val, REPLAY_FORMAT_VERSION);
				goto bad;
			}
			m->format_version = (int)v;
		} else if (strcmp(line, "event-log-version") == 0) {
			if (parse_u64(val, &v) || v != REPLAY_LOG_VERSION) {
				vmm_error_set(err, "%s: event log version '%s' is not supported (this rrvm "
					      "reads version %d)", path, val, REPLAY_LOG_VERSION);
				goto bad;
			}
			m->log_version = (int)v;
		} else if (strcmp(line, "rrvm-version") == 0) {
			copy_str(m->rrvm_version, sizeof(m->rrvm_version), val);
		} else if (strcmp(line, "kernel") == 0) {
			copy_str(m->kernel, sizeof(m->kernel), val);
		} else if (strcmp(line, "kernel-sha256") == 0) {
			if (strlen(val) != 64 || strspn(val, "0123456789abcdef") != 64) {
				vmm_error_set(err, "%s:%u: kernel-sha256 '%s' is not a SHA-256 digest",
					      path, lineno, val);
				goto bad;
			}
			copy_str(m->kernel_sha256, sizeof(m->kernel_sha256), val);
			have_sha = true;
		} else if (strcmp(line, "cmdline") == 0) {
			copy_str(m->cmdline, sizeof(m->cmdline), val);
		} else if (strcmp(line, "mem") == 0) {
			if (parse_u64(val, &m->mem_size)) {
				vmm_error_set(err, "%s:%u: mem '%s' is not a number", path, lineno, val);
				goto bad;
			}
			have_mem = true;
		} else if (strcmp(line, "cpuid-policy") == 0) {
			copy_str(m->cpuid_policy, sizeof(m->cpuid_policy), val);
		} else if (strcmp(line, "chaos-seed") == 0) {
			m->chaos = strcmp(val, "none") != 0;
			if (m->chaos && parse_u64(val, &m->chaos_seed)) {
				vmm_error_set(err, "%s:%u: chaos-seed '%s' is not a number", path, lineno, val);
				goto bad;
			}
		} else if (strcmp(line, "poll-latency-ns") == 0) {
			(void)parse_u64(val, &m->poll_latency_ns);
		} else if (strcmp(line, "result") == 0) {
			copy_str(m->result, sizeof(m->result), val);
		} else if (strcmp(line, "exit-status") == 0) {
			if (!parse_u64(val, &v))
				m->exit_status = (int)v;
		} else if (strcmp(line, "exit-value") == 0) {
			if (!parse_u64(val, &v))
				m->exit_value = (uint32_t)v;
		} else if (strcmp(line, "exits") == 0) {
			(void)parse_u64(val, &m->exits);
		} else if (strcmp(line, "events") == 0) {
			(void)parse_u64(val, &m->events);
		} else if (strcmp(line, "state-hash") == 0) {
			(void)parse_u64(val, &m->state_hash);
		}
		/* Unknown keys are for newer readers; ignore them. */
	}
	fclose(f);
	if (!have_magic || !have_sha || !have_mem || !m->log_version) {
		vmm_error_set(err, "%s: incomplete manifest (missing %s)", path,
			      !have_magic ? MAGIC_KEY : !have_sha ? "kernel-sha256"
			      : !have_mem ? "mem" : "event-log-version");
		return -EINVAL;
	}
	return 0;
bad:
	fclose(f);
	return -EINVAL;
}
