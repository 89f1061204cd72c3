/*
 * manifest_test.c — DIR/manifest round-trips every value exactly and
 * refuses what it cannot hold: every byte value in the text fields, edge
 * spaces, the longest command line, format 1 manifests (raw values) still
 * read, bad escapes, repeated keys, over-long values, a NUL byte, and a
 * FIFO in place of the file (refused at once, not blocked on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/replay.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/manifest_test.XXXXXX";
static char path[256];

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	fwrite(text, 1, len, f);
	fclose(f);
}

static void fill(struct replay_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->format_version = REPLAY_FORMAT_VERSION;
	m->log_version = REPLAY_LOG_VERSION;
	strcpy(m->rrvm_version, "0.1.0");
	strcpy(m->kernel, "k.elf");
	memset(m->kernel_sha256, 'a', 64);
	strcpy(m->cmdline, "k.elf");
	m->mem_size = 64 << 20;
	strcpy(m->cpuid_policy, "hide rdrand");
	strcpy(m->result, "running");
}

/* Write m, read it back: 0 when every text field came back equal. */
static int round_trip(const struct replay_manifest *m, struct replay_manifest *back)
{
	struct vmm_error err = { "" };

	if (replay_manifest_write(dir, m, &err) || replay_manifest_read(dir, back, &err)) {
		diag("%s", err.msg);
		return -1;
	}
	return strcmp(back->kernel, m->kernel) || strcmp(back->cmdline, m->cmdline) ||
	       strcmp(back->rrvm_version, m->rrvm_version) ||
	       strcmp(back->cpuid_policy, m->cpuid_policy) || strcmp(back->result, m->result);
}

static int count_lines(void)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_round_trip(void)
{
	struct replay_manifest m, *back = malloc(sizeof(*back));
	int lines;

	fill(&m);
	ok(round_trip(&m, back) == 0, "a plain manifest round-trips");
	lines = count_lines();

	/* Every byte but NUL, in the command line and the kernel path. */
	for (int i = 1; i < 256; i++) {
		m.cmdline[i - 1] = (char)i;
		m.kernel[i - 1] = (char)(256 - i);
	}
	m.cmdline[255] = m.kernel[255] = '\0';
	ok(round_trip(&m, back) == 0, "bytes 0x01-0xff in cmdline and kernel round-trip");
	is_int(count_lines(), lines, "and add no lines to the file");

	strcpy(m.cmdline, "  two leading, two trailing  ");
	strcpy(m.kernel, " k ");
	ok(round_trip(&m, back) == 0, "spaces at either end round-trip");
	strcpy(m.cmdline, "\\x41\\n\\\\ \\");
	ok(round_trip(&m, back) == 0, "text that looks like escapes round-trips");
	m.cmdline[0] = '\0';
	ok(round_trip(&m, back) == 0, "an empty command line round-trips");

	memset(m.cmdline, '\n', REPLAY_CMDLINE_MAX);
	m.cmdline[REPLAY_CMDLINE_MAX] = '\0';
	ok(round_trip(&m, back) == 0, "the longest command line (%d newlines) round-trips",
	   REPLAY_CMDLINE_MAX);
	free(back);
}

static void refused(const char *text, size_t len, const char *want, const char *what)
{
	struct replay_manifest *m = malloc(sizeof(*m));
	struct vmm_error err = { "" };

	write_file(text, len);
	ok(replay_manifest_read(dir, m, &err) < 0 && strstr(err.msg, want), "%s: %s", what, err.msg);
	free(m);
}

#define HEAD2 "rrvm-recording: 2\nevent-log-version: 1\nmem: 1\nkernel-sha256: " \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"

static void test_versions_and_damage(void)
{
	struct replay_manifest *m = malloc(sizeof(*m));
	struct vmm_error err = { "" };
	static const char v1[] = "rrvm-recording: 1\nevent-log-version: 1\nmem: 1\nkernel-sha256: "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"cmdline: a\\nb \\x41\\\n";
	char *big;
	size_t n;

	write_file(v1, sizeof(v1) - 1);
	ok(replay_manifest_read(dir, m, &err) == 0 && m->format_version == 1 &&
	   strcmp(m->cmdline, "a\\nb \\x41\\") == 0, "format 1 is read, values raw: '%s' %s",
	   m->cmdline, err.msg);
	write_file(HEAD2 "cmdline: a\\nb \\x41\\\\\n", sizeof(HEAD2 "cmdline: a\\nb \\x41\\\\\n") - 1);
	ok(replay_manifest_read(dir, m, &err) == 0 && m->format_version == 2 &&
	   strcmp(m->cmdline, "a\nb A\\") == 0, "format 2 is decoded: %s", err.msg);

	refused(HEAD2 "cmdline: a\\qb\n", sizeof(HEAD2 "cmdline: a\\qb\n") - 1, "bad escape",
		"an unknown escape is refused");
	refused(HEAD2 "cmdline: a\\x4\n", sizeof(HEAD2 "cmdline: a\\x4\n") - 1, "bad escape",
		"a short \\x escape is refused");
	refused(HEAD2 "cmdline: a\\x00\n", sizeof(HEAD2 "cmdline: a\\x00\n") - 1, "bad escape",
		"an escaped NUL is refused");
	refused(HEAD2 "cmdline: a\\\n", sizeof(HEAD2 "cmdline: a\\\n") - 1, "bad escape",
		"a trailing backslash is refused");
	refused(HEAD2 "cmdline: a\tb\n", sizeof(HEAD2 "cmdline: a\tb\n") - 1, "control byte",
		"a raw control byte in format 2 is refused");
	refused(HEAD2 "cmdline: a\0b\n", sizeof(HEAD2 "cmdline: a\0b\n") - 1, "NUL byte",
		"a NUL byte is refused");
	refused(HEAD2 "mem: 2\n", sizeof(HEAD2 "mem: 2\n") - 1, "second 'mem'",
		"a repeated key is refused");
	refused(HEAD2 "exit-status: 256\n", sizeof(HEAD2 "exit-status: 256\n") - 1, "out of range",
		"an out-of-range number is refused");
	refused("rrvm-recording: 3\n", 18, "version '3'", "a newer format is refused");
	refused("", 0, "empty", "an empty file is refused");

	/* A value longer than its field: refused, not cut. */
	n = strlen(HEAD2) + strlen("cmdline: ") + REPLAY_CMDLINE_MAX + 2;
	big = malloc(n + 1);
	snprintf(big, n + 1, "%scmdline: ", HEAD2);
	memset(big + strlen(big), 'x', REPLAY_CMDLINE_MAX + 1);
	big[n - 1] = '\n';
	big[n] = '\0';
	refused(big, n, "longer than rrvm allows", "a command line longer than the field is refused");
	big[n - 2] = '\n';
	big[n - 1] = '\0';
	write_file(big, n - 1);
	ok(replay_manifest_read(dir, m, &err) == 0 && strlen(m->cmdline) == REPLAY_CMDLINE_MAX,
	   "one that just fits is read whole: %s", err.msg);
	free(big);
	free(m);
}

static void test_fifo(void)
{
	struct replay_manifest *m = malloc(sizeof(*m));
	struct vmm_error err = { "" };

	unlink(path);
	ok(mkfifo(path, 0600) == 0, "a FIFO named manifest");
	/* Without O_NONBLOCK this would block forever (no writer): the test
	 * would hang, and the harness's timeout would fail it. */
	ok(replay_manifest_read(dir, m, &err) == -EINVAL && strstr(err.msg, "is a FIFO"),
	   "is refused at once: %s", err.msg);
	unlink(path);
	free(m);
}

int main(void)
{
	char tmp[300];

	if (!mkdtemp(dir)) {
		ok(0, "temporary directory");
		return tap_done();
	}
	snprintf(path, sizeof(path), "%s/manifest", dir);
	test_round_trip();
	test_versions_and_damage();
	test_fifo();
	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s/.manifest.tmp", dir);
	unlink(tmp);
	rmdir(dir);
	return tap_done();
}
