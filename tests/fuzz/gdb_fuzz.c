/*
 * gdb_fuzz.c — libFuzzer target for the gdb stub's packet and dispatch
 * layers, driven as a client drives them: over a socket.
 *
 * The input is the byte stream a client sends (packets with any framing,
 * checksums, RLE, escapes, 0x03 interrupts, acks). It is written whole into
 * one end of a socketpair, whose write side is then shut, and the other end
 * is served by gdb_server_serve_fd; the server's target is the fake machine
 * of the unit tests (tests/unit/gdb_fake.h, 64 KiB of memory, breakpoints
 * and watchpoints in four slots), whose continue stops after a few steps.
 * The session must end (client gone, detach, kill or exit) without a crash,
 * a hang or a sanitizer report. The server is created once (as rrvm keeps
 * one across clients); the fake is reset per input.
 *
 * No client thread reads the replies: one that did woke for every reply,
 * and those context switches (and a thread per input) were most of the
 * cost of an input. The server's send buffer is made large enough for the
 * replies of any input instead (64 MiB with SO_SNDBUFFORCE, as root; else
 * what SO_SNDBUF allows), and a send timeout ends a session whose replies
 * would not fit, as a client that stopped reading would. Built by
 * `make fuzz`.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/unit/gdb_fake.h"

#define REPLY_BUFFER (64 << 20)

/* A socketpair: sv[1] holds the whole input, sv[0] is the server's. */
static void make_pair(int sv[2], const uint8_t *data, size_t size)
{
	struct timeval tv = { .tv_sec = 1 };
	int big = REPLY_BUFFER, in = (int)size + 65536;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0 &&
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) < 0)
		abort();
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &in, sizeof(in)) < 0 &&
	     setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &in, sizeof(in)) < 0))
		abort();
	if (size && send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)size)
		abort();        /* a -max_len beyond what a socket buffer holds */
	shutdown(sv[1], SHUT_WR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_fake *fake;
	static struct gdb_server *srv;
	struct gdb_server_options so = { .packet_size = 4096 };
	int sv[2], r;

	if (!fake) {
		struct gdb_target t;

		fake = calloc(1, sizeof(*fake));
		if (!fake)
			abort();
		fake_init(fake);
		t = fake_target(fake);
		t.flags = GDB_TARGET_CAN_REVERSE;
		srv = gdb_server_create(&t, &so);
		if (!srv)
			abort();
	}
	fake_init(fake);
	fake->can_reverse = true;
	fake->step_limit = 32;
	make_pair(sv, data, size);
	r = gdb_server_serve_fd(srv, sv[0]);
	if (r != GDB_SERVE_DISCONNECTED && r != GDB_SERVE_DETACHED && r != GDB_SERVE_KILLED &&
	    r != GDB_SERVE_EXITED)
		abort();
	close(sv[0]);
	close(sv[1]);
	return 0;
}
