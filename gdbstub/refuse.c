/*
 * refuse.c — what the server does with a second gdb while it serves one:
 * refuse it at once, clearly, instead of leaving it queued on the listener
 * with no answer until the first one leaves.
 *
 * A thread runs for as long as a session does. It accepts each further
 * connection and answers each packet of it (gdb sends qSupported as soon
 * as it connects; a reply sent before that would be taken for a stale
 * packet and skipped) with an ack and an "E." error whose text gdb prints
 * ("Remote failure reply: E.rrvm: ..."), until the client hangs up or
 * REFUSE_MS pass, then closes. The session's client, the target and its state are never
 * touched: the refuser shares only the listening socket with the server.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub/internal.h"

#define REFUSE_MS 2000

static const char refusal[] =
	"E.rrvm: another gdb is already connected to this guest; one client at a time";

/*
 * Answer every packet the client sends with the refusal until it hangs up
 * (gdb does after an error reply to a packet it needs), for at most
 * REFUSE_MS in all: gdb acks each reply, and closing before that makes its
 * ack fail with EPIPE, which gdb reports instead of our message.
 */
static void answer_until_gone(int fd, int wake, const char *frame, size_t len)
{
	char buf[1024];
	int after_hash = -1;		/* bytes seen after a '#', -1 outside */
	int waited = 0;

	while (waited < REFUSE_MS) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { wake, POLLIN, 0 } };
		ssize_t n;
		int r = poll(p, 2, 100);

		if (r < 0 && errno != EINTR)
			return;
		if (r <= 0) {
			waited += 100;
			continue;
		}
		if (p[1].revents)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return;
		for (ssize_t i = 0; i < n; i++) {
			if (after_hash >= 0 && ++after_hash == 2) {
				after_hash = -1;
				if (send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
					return;
			} else if (buf[i] == '#' && after_hash < 0) {
				after_hash = 0;
			}
		}
	}
}

static void refuse(struct gdb_refuser *r, int fd)
{
	char frame[sizeof(refusal) + 8];
	unsigned sum = 0;
	int len;

	for (const char *p = refusal; *p; p++)
		sum += (unsigned char)*p;
	len = snprintf(frame, sizeof(frame), "+$%s#%02x", refusal, sum & 0xff);
	gdb_logf(&r->srv->log, GDB_LOG_WARN,
		 "gdb: refused another client: one gdb is already connected");
	answer_until_gone(fd, r->wake[0], frame, (size_t)len);
	close(fd);
}

static void *refuse_loop(void *arg)
{
	struct gdb_refuser *r = arg;

	for (;;) {
		struct pollfd p[2] = { { r->srv->listen_fd, POLLIN, 0 }, { r->wake[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(r->srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			refuse(r, fd);
	}
	return NULL;
}

int gdb_refuser_start(struct gdb_refuser *r, struct gdb_server *srv)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->srv = srv;
	if (srv->listen_fd < 0)
		return -EINVAL;
	if (pipe2(r->wake, O_CLOEXEC) < 0)
		return -errno;
	e = pthread_create(&r->tid, NULL, refuse_loop, r);
	if (e) {
		close(r->wake[0]);
		close(r->wake[1]);
		return -e;
	}
	r->started = true;
	return 0;
}

void gdb_refuser_stop(struct gdb_refuser *r)
{
	if (!r->started)
		return;
	while (write(r->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(r->tid, NULL);
	close(r->wake[0]);
	close(r->wake[1]);
	r->started = false;
}
