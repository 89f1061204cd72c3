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
 * REFUSE_MS pass, then closes; up to MAX_PENDING such clients at once
 * (more are told without waiting for their packet). A client that comes
 * when the served one has already hung up is not refused but handed to
 * the server as the next one (a quick reconnect must not lose the race
 * with the server noticing the disconnect). The session itself, the target
 * and its state are never touched: the refuser only polls the session's
 * socket for a hang-up and shares the listening socket with the server.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub/internal.h"

#define REFUSE_MS 2000		/* longest a refused client is kept */
#define TICK_MS 100
#define MAX_PENDING 16

static const char refusal[] =
	"E.rrvm: another gdb is already connected to this guest; one client at a time";

/* A refused client: answered until it hangs up or its time is up. */
struct pending {
	int fd;				/* -1: free slot */
	int after_hash;			/* bytes seen after a '#', -1 outside */
	uint64_t deadline_ms;		/* CLOCK_MONOTONIC */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pending_close(struct pending *p)
{
	close(p->fd);
	p->fd = -1;
}

/*
 * Answer every packet the client sends with the refusal until it hangs up
 * (gdb does after an error reply to a packet it needs). Closing earlier
 * would make gdb's ack of the reply fail with EPIPE, which gdb reports
 * instead of our message. False when the client is done with.
 */
static bool pending_read(struct pending *p, const char *frame, size_t len)
{
	char buf[1024];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++) {
		if (p->after_hash >= 0 && ++p->after_hash == 2) {
			p->after_hash = -1;
			if (send(p->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				return false;
		} else if (buf[i] == '#' && p->after_hash < 0) {
			p->after_hash = 0;
		}
	}
	return true;
}

/* Has the client being served hung up (its session is about to end)? */
static bool session_gone(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void *refuse_loop(void *arg)
{
	struct gdb_refuser *r = arg;
	struct pending pend[MAX_PENDING];
	char frame[sizeof(refusal) + 8];
	unsigned sum = 0;
	size_t len;

	for (const char *p = refusal; *p; p++)
		sum += (unsigned char)*p;
	len = (size_t)snprintf(frame, sizeof(frame), "+$%s#%02x", refusal, sum & 0xff);
	for (int i = 0; i < MAX_PENDING; i++)
		pend[i].fd = -1;
	for (;;) {
		struct pollfd p[2 + MAX_PENDING];
		int n, fd, free_slot = -1;

		p[0] = (struct pollfd){ r->wake[0], POLLIN, 0 };
		p[1] = (struct pollfd){ r->handoff_fd < 0 ? r->srv->listen_fd : -1, POLLIN, 0 };
		for (int i = 0; i < MAX_PENDING; i++)
			p[2 + i] = (struct pollfd){ pend[i].fd, POLLIN, 0 };
		n = poll(p, 2 + MAX_PENDING, TICK_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && p[0].revents)
			break;
		for (int i = 0; i < MAX_PENDING; i++) {
			if (pend[i].fd < 0)
				continue;
			if (n > 0 && p[2 + i].revents && !pending_read(&pend[i], frame, len))
				pending_close(&pend[i]);
			else if (now_ms() >= pend[i].deadline_ms)
				pending_close(&pend[i]);
		}
		if (n <= 0 || !(p[1].revents & POLLIN))
			continue;
		fd = accept4(r->srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		if (session_gone(r->session_fd)) {
			/* Not a second client: the next one, come while the
			 * server has yet to see the last one leave. */
			r->handoff_fd = fd;
			continue;
		}
		gdb_logf(&r->srv->log, GDB_LOG_WARN,
			 "gdb: refused another client: one gdb is already connected");
		for (int i = 0; i < MAX_PENDING && free_slot < 0; i++)
			if (pend[i].fd < 0)
				free_slot = i;
		if (free_slot < 0) {
			/* Too many at once: say it without waiting for a packet. */
			if (send(fd, frame + 1, len - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0;	/* gone already */
			close(fd);
			continue;
		}
		pend[free_slot] = (struct pending){ .fd = fd, .after_hash = -1,
						    .deadline_ms = now_ms() + REFUSE_MS };
	}
	for (int i = 0; i < MAX_PENDING; i++)
		if (pend[i].fd >= 0)
			pending_close(&pend[i]);
	return NULL;
}

int gdb_refuser_start(struct gdb_refuser *r, struct gdb_server *srv, int session_fd)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->srv = srv;
	r->session_fd = session_fd;
	r->handoff_fd = -1;
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
