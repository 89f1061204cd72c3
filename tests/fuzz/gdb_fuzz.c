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
 * One client thread, made once, reads the replies of one input after
 * another (a thread per input cost more than the input); the stub's own
 * Ctrl-C watcher thread is made once too, by the server (watch.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/gdb_fake.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int drain_fd = -1;      /* the socket to read to its end, or -1 */

/* The client thread: reads each socket it is given until the server
 * closes its end, then hands it back (drain_fd = -1). */
static void *client(void *arg)
{
	static char buf[65536];

	(void)arg;
	for (;;) {
		int fd;

		pthread_mutex_lock(&lock);
		while (drain_fd < 0)
			pthread_cond_wait(&cond, &lock);
		fd = drain_fd;
		pthread_mutex_unlock(&lock);
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n == 0 || (n < 0 && errno != EINTR))
				break;
		}
		pthread_mutex_lock(&lock);
		drain_fd = -1;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* A socketpair: sv[1] holds the whole input, sv[0] is the server's. */
static void make_pair(int sv[2], const uint8_t *data, size_t size)
{
	int in = (int)size + 65536;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &in, sizeof(in)) < 0 &&
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &in, sizeof(in)) < 0)
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
		pthread_t tid;

		if (pthread_create(&tid, NULL, client, NULL))
			abort();

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
	pthread_mutex_lock(&lock);
	drain_fd = sv[1];
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	r = gdb_server_serve_fd(srv, sv[0]);
	if (r != GDB_SERVE_DISCONNECTED && r != GDB_SERVE_DETACHED && r != GDB_SERVE_KILLED &&
	    r != GDB_SERVE_EXITED)
		abort();
	close(sv[0]);
	pthread_mutex_lock(&lock);
	while (drain_fd >= 0)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	close(sv[1]);
	return 0;
}
