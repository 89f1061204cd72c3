/*
 * manifest_fuzz.c — libFuzzer target for the manifest reader.
 *
 * The input is written as DIR/manifest and read back with
 * replay_manifest_read. Whatever the bytes, the reader must return 0 or an
 * error with a message, never crash. A manifest it accepts must round-trip:
 * written again with replay_manifest_write and read back, it gives the
 * same struct (a manifest field the writer cannot reproduce would make a
 * recording that replays differently from how it was recorded).
 * Built by `make fuzz` (tests/fuzz/local.mk).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/replay.h"

/* tmpfs where there is one: the writer fsyncs, which a disk makes slow. */
static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "%s/manifest_fuzz.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	return 0;
}

/* Field by field (not the format version: a manifest of an older format is
 * written back in the current one): bytes after a string's NUL are not part of it, and the
 * seed means nothing without chaos (a manifest that says "chaos-seed: 1"
 * and later "chaos-seed: none" keeps the stale number). */
static bool same(const struct replay_manifest *a, const struct replay_manifest *b)
{
	return a->log_version == b->log_version &&
	       !strcmp(a->rrvm_version, b->rrvm_version) && !strcmp(a->kernel, b->kernel) &&
	       !strcmp(a->kernel_sha256, b->kernel_sha256) && !strcmp(a->cmdline, b->cmdline) &&
	       a->mem_size == b->mem_size && !strcmp(a->cpuid_policy, b->cpuid_policy) &&
	       a->chaos == b->chaos && (!a->chaos || a->chaos_seed == b->chaos_seed) &&
	       a->poll_latency_ns == b->poll_latency_ns && !strcmp(a->result, b->result) &&
	       a->exit_status == b->exit_status && a->exit_value == b->exit_value &&
	       a->exits == b->exits && a->events == b->events && a->state_hash == b->state_hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replay_manifest *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct vmm_error err = { 0 };
	char path[64];
	int fd;

	if (!a || !b)
		abort();
	snprintf(path, sizeof(path), "%s/manifest", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	if (replay_manifest_read(dir, a, &err) == 0) {
		if (replay_manifest_write(dir, a, &err) != 0)
			abort();        /* what was read must be writable */
		if (replay_manifest_read(dir, b, &err) != 0 || !same(a, b))
			abort();        /* and read back the same */
	} else if (!err.msg[0]) {
		abort();                /* an error always says why */
	}
	free(a);
	free(b);
	return 0;
}
