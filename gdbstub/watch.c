/*
 * watch.c — the Ctrl-C watcher: while the target runs, the serving thread
 * is blocked inside target->resume(), so another thread keeps an eye on
 * the client's socket. A 0x03 byte (Ctrl-C) or the client going away
 * makes it call target->interrupt(). It only consumes what the session
 * loop would skip anyway (0x03, acks and noise between packets: gdb sends
 * a '-' each time it waits 2 s for a monitor command's reply); a '$'
 * means gdb sent a real packet, which it leaves in place for the session
 * loop, after which it only watches for hang-ups.
 *
 * A monitor command that runs the target (gdb_monitor_watch) arms it too,
 * in monitor mode: there a packet also interrupts, because gdb answers a
 * Ctrl-C during a monitor command by giving up on it and sending its next
 * command. What the watcher saw is kept for gdb_monitor_interrupted.
 *
 * One watcher thread serves a server for its whole life: it is made at
 * the first resume and ended by gdb_server_destroy(). Each resume arms it
 * (a condition variable) and disarms it afterwards (a byte on a pipe
 * breaks its poll); the serving thread owns the connection again once the
 * watcher says it is idle. A thread made and joined per resume cost more
 * than a short resume itself (stack mapping, and under ASan its allocator
 * caches); arming costs a wake-up, and nothing when the resume is over
 * before the watcher even looked (the bytes then wait in the socket, and
 * a late 0x03 is read as such by the session loop).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub/internal.h"

static void request_stop(struct gdb_watcher *w)
{
	const struct gdb_target *t = &w->srv->target;

	if (t->ops->interrupt)
		t->ops->interrupt(t->ctx);
}

/* Consume the bytes already buffered up to a '$'; false if a '$' waits. */
static bool drain_buffered(struct gdb_watcher *w, struct gdb_io *io)
{
	while (io->in_pos < io->in_len) {
		uint8_t c = io->in[io->in_pos];

		if (c == '$')
			return false;
		io->in_pos++;
		if (c == 0x03) {
			w->ctrlc = true;
			request_stop(w);
		}
	}
	return true;
}

/* A packet from the client: in monitor mode, it gave up on the command. */
static void packet_seen(struct gdb_watcher *w)
{
	if (w->monitor) {
		w->packet = true;
		request_stop(w);
	}
}

/* Watch one resume of session s until the pipe says it is over. */
static void watch_resume(struct gdb_watcher *w, struct gdb_session *s)
{
	int fd = s->io.fd;
	bool watch_input = drain_buffered(w, &s->io);

	if (!watch_input)
		packet_seen(w);

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = w->wake[0], .events = POLLIN },
			{ .fd = w->hangup ? -1 : fd, .events = watch_input ? POLLIN : POLLRDHUP },
		};
		uint8_t c;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[0].revents)
			return;
		if (!p[1].revents)
			continue;
		if (!watch_input || !(p[1].revents & POLLIN)) {
			n = 0;		/* hang-up or error */
		} else {
			n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
		}
		if (n <= 0) {
			w->hangup = true;
			request_stop(w);
			continue;
		}
		if (c != '$') {
			if (recv(fd, &c, 1, MSG_DONTWAIT) == 1 && c == 0x03) {
				w->ctrlc = true;
				request_stop(w);
			}
		} else {
			watch_input = false;	/* a packet for the session loop */
			packet_seen(w);
		}
	}
}

static void *watcher_main(void *arg)
{
	struct gdb_watcher *w = arg;
	unsigned long served = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct gdb_session *s;
		uint8_t junk[16];

		while (!w->quit && (!w->session || served == w->arming))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		served = w->arming;
		s = w->session;
		w->busy = true;
		pthread_mutex_unlock(&w->lock);
		watch_resume(w, s);
		pthread_mutex_lock(&w->lock);
		/* The disarming byte, if any, was written before we got the
		 * lock back: empty the pipe so the next resume starts clean. */
		while (read(w->wake[0], junk, sizeof(junk)) > 0)
			;
		w->busy = false;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int gdb_watcher_arm(struct gdb_watcher *w, struct gdb_server *srv, struct gdb_session *s,
		    bool monitor)
{
	int r;

	if (!w->started) {
		if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0)
			return -errno;
		w->srv = srv;
		r = pthread_create(&w->tid, NULL, watcher_main, w);
		if (r) {
			close(w->wake[0]);
			close(w->wake[1]);
			return -r;
		}
		w->started = true;
	}
	pthread_mutex_lock(&w->lock);
	w->session = s;
	w->monitor = monitor;
	w->hangup = w->ctrlc = w->packet = false;
	w->arming++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void gdb_watcher_disarm(struct gdb_watcher *w, struct gdb_watch_seen *seen)
{
	pthread_mutex_lock(&w->lock);
	w->session = NULL;
	if (w->busy) {
		while (write(w->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		while (w->busy)
			pthread_cond_wait(&w->cond, &w->lock);
	}
	seen->hangup = w->hangup;
	seen->ctrlc = w->ctrlc;
	seen->packet = w->packet;
	pthread_mutex_unlock(&w->lock);
}

void gdb_watcher_peek(struct gdb_watcher *w, struct gdb_watch_seen *seen)
{
	pthread_mutex_lock(&w->lock);
	seen->hangup = w->hangup;
	seen->ctrlc = w->ctrlc;
	seen->packet = w->packet;
	pthread_mutex_unlock(&w->lock);
}

void gdb_watcher_init(struct gdb_watcher *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->wake[0] = w->wake[1] = -1;
}

void gdb_watcher_fini(struct gdb_watcher *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->tid, NULL);
		close(w->wake[0]);
		close(w->wake[1]);
		w->started = false;
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}
