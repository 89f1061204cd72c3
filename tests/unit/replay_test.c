/*
 * replay_test.c — the parts of record/replay that need no guest: SHA-256
 * against the FIPS test vectors, the manifest's round trip and its refusal
 * of foreign or damaged files, and the running checksum's sensitivity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/replay.h"
#include "tests/unit/tap.h"

static void test_sha256(void)
{
	char hex[65];
	static char million[1000000];

	replay_sha256("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256('')");
	replay_sha256("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256('abc')");
	replay_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "sha256 of the 56-byte vector (two padding blocks)");
	memset(million, 'a', sizeof(million));
	replay_sha256(million, sizeof(million), hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a'");
	{
		/* Fed in pieces of every size from 1 to 130 bytes: the same
		 * digest (pieces cross block and padding boundaries). */
		struct replay_sha256_ctx c;
		char piece_hex[65];
		int same = 0;

		for (size_t step = 1; step <= 130; step++) {
			replay_sha256_init(&c);
			for (size_t at = 0; at < 1000; at += step)
				replay_sha256_update(&c, million + at, at + step > 1000 ? 1000 - at : step);
			replay_sha256_final(&c, piece_hex);
			replay_sha256(million, 1000, hex);
			same += strcmp(hex, piece_hex) == 0;
		}
		is_int(same, 130, "sha256 fed in pieces of 1..130 bytes equals the one-shot digest");
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_manifest(void)
{
	char dir[] = "/tmp/replay_test.XXXXXX", path[256];
	struct replay_manifest m = { 0 }, back;
	struct vmm_error err = { "" };

	ok(mkdtemp(dir) != NULL, "temporary directory");
	m.format_version = REPLAY_FORMAT_VERSION;
	m.log_version = REPLAY_LOG_VERSION;
	strcpy(m.rrvm_version, "0.1.0");
	strcpy(m.kernel, "samples/race.elf");
	memset(m.kernel_sha256, 'a', 64);
	strcpy(m.cmdline, "samples/race.elf seed=3");
	m.mem_size = 64 << 20;
	strcpy(m.cpuid_policy, "hide rdrand");
	m.chaos = true;
	m.chaos_seed = 42;
	strcpy(m.result, "guest-exit");
	m.exit_status = 7;
	m.exit_value = 3;
	m.exits = 1234;
	m.events = 99;
	m.state_hash = 0xfeedfacecafebeefull;
	is_int(replay_manifest_write(dir, &m, &err), 0, "manifest written: %s", err.msg);
	is_int(replay_manifest_read(dir, &back, &err), 0, "and read back: %s", err.msg);
	ok(strcmp(back.kernel, m.kernel) == 0 && strcmp(back.cmdline, m.cmdline) == 0 &&
	   back.mem_size == m.mem_size && back.chaos && back.chaos_seed == 42 &&
	   back.exit_status == 7 && back.exits == 1234 && back.state_hash == m.state_hash &&
	   strcmp(back.kernel_sha256, m.kernel_sha256) == 0, "every field survives");
	snprintf(path, sizeof(path), "%s/.manifest.tmp", dir);
	ok(access(path, F_OK) != 0, "no temporary file left behind");

	snprintf(path, sizeof(path), "%s/manifest", dir);
	write_file(path, "rrvm-recording: 9\nevent-log-version: 1\n");
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "version '9'"),
	   "a newer format is refused by version: %s", err.msg);
	write_file(path, "rrvm-recording: 1\nevent-log-version: 9\n");
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "event log version '9'"),
	   "a newer event log is refused: %s", err.msg);
	write_file(path, "hello: world\n");
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "not an rrvm manifest"),
	   "a foreign file is refused: %s", err.msg);
	write_file(path, "rrvm-recording: 1\nevent-log-version: 1\nkernel-sha256: xyz\n");
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "kernel-sha256"),
	   "a damaged digest is refused: %s", err.msg);
	write_file(path, "rrvm-recording: 1\nevent-log-version: 1\n");
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "incomplete"),
	   "a manifest missing fields is refused: %s", err.msg);
	unlink(path);
	ok(replay_manifest_read(dir, &back, &err) < 0 && strstr(err.msg, "recording directory"),
	   "no manifest: says this is not a recording: %s", err.msg);
	rmdir(dir);
}

static void test_checksum(void)
{
	struct vmm_event a = { .kind = VMM_EV_IO, .exits = 5, .rip = 0x1000 }, b;
	uint64_t base;

	a.u.io.addr = 0x3f8;
	a.u.io.size = 1;
	a.u.io.write = true;
	a.u.io.value = 'x';
	base = replay_checksum_add(0, &a);
	b = a;
	b.rip++;
	ok(replay_checksum_add(0, &b) != base, "rip changes the checksum");
	b = a;
	b.u.io.value = 'y';
	ok(replay_checksum_add(0, &b) != base, "the value changes it");
	b = a;
	b.u.io.addr = 0x3f9;
	ok(replay_checksum_add(0, &b) != base, "the port changes it");
	b = a;
	b.u.io.write = false;
	ok(replay_checksum_add(0, &b) != base, "the direction changes it");
	ok(replay_checksum_add(replay_checksum_add(0, &a), &b) !=
	   replay_checksum_add(replay_checksum_add(0, &b), &a), "order matters");
	b = (struct vmm_event){ .kind = VMM_EV_KICK };
	ok(!replay_event_is_sync(&b), "kicks are not positions");
	b.kind = VMM_EV_IRQ_WINDOW;
	ok(!replay_event_is_sync(&b), "interrupt-window exits are not positions");
	b.kind = VMM_EV_HLT;
	b.exits = 10;
	b.injected = 0x20;
	ok(replay_event_is_sync(&b) && replay_inject_exits(&b) == 9,
	   "an injection on the entry before exit 10 happened after exit 9");
}

int main(void)
{
	test_sha256();
	test_manifest();
	test_checksum();
	return tap_done();
}
