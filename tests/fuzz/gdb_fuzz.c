/*
 * gdb_fuzz.c — libFuzzer target for the gdb stub's packet and dispatch
 * layers, driven as a client drives them: over a socket.
 *
 * The input is the byte stream a client sends (packets with any framing,
 * checksums, RLE, escapes, 0x03 interrupts, acks). It is fed to
 * gdb_server_serve_fd over a socketpair by a helper thread that also reads
 * every reply until the server closes, and the server's target is the fake
 * machine of the unit tests (tests/unit/gdb_fake.h, 64 KiB of memory,
 * breakpoints and watchpoints in four slots), whose continue stops after a
 * few steps. The session must end (client gone, detach, kill or exit)
 * without a crash, a hang or a sanitizer report. The server is created once
 * (as rrvm keeps one across clients); the fake is reset per input.
 * Built by `make fuzz`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/gdb_fake.h"

struct feeder {
	int fd;
	const uint8_t *data;
	size_t size, sent;
};

/* Send the input (then shut the write side) and read replies until EOF. */
static void *feed(void *arg)
{
	struct feeder *fe = arg;
	char buf[65536];

	if (fe->size == 0)
		shutdown(fe->fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { fe->fd, POLLIN | (fe->sent < fe->size ? POLLOUT : 0), 0 };
		ssize_t n;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		if (p.revents & POLLOUT) {
			n = send(fe->fd, fe->data + fe->sent, fe->size - fe->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				fe->sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				fe->sent = fe->size;    /* the server closed */
			if (fe->sent == fe->size)
				shutdown(fe->fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fe->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_fake *fake;
	static struct gdb_server *srv;
	struct feeder fe = { .data = data, .size = size };
	struct gdb_server_options so = { .packet_size = 4096 };
	pthread_t tid;
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
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fe.fd = sv[1];
	if (pthread_create(&tid, NULL, feed, &fe))
		abort();
	r = gdb_server_serve_fd(srv, sv[0]);
	if (r != GDB_SERVE_DISCONNECTED && r != GDB_SERVE_DETACHED && r != GDB_SERVE_KILLED &&
	    r != GDB_SERVE_EXITED)
		abort();
	close(sv[0]);
	pthread_join(tid, NULL);
	close(sv[1]);
	return 0;
}
