/*
 * server.c — the server API and the per-client session loop, including the
 * one place where the stub runs the target: gdb_session_resume().
 *
 * While the target runs, the serving thread is blocked inside
 * target->resume(), and the server's watcher thread (watch.c) keeps an eye
 * on the socket for Ctrl-C and hang-ups; the serving thread owns the
 * connection again once the watcher is disarmed.
 *
 * A client that disconnects leaves the target stopped and the server waits
 * for the next one; only detach, kill and the target's exit end serve().
 * Clients that come while one is served are refused at once (refuse.c).
 *
 * A process ended by a signal runs no destructor, so the servers listening
 * on a Unix socket are also kept in a small table that
 * gdb_server_signal_unlink() walks from a signal handler.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub/internal.h"

#define SIGNAL_SLOTS 8

/* Servers with a Unix socket path, for gdb_server_signal_unlink(). */
static struct gdb_server *_Atomic signal_table[SIGNAL_SLOTS];

static void signal_table_add(struct gdb_server *srv)
{
	for (int i = 0; i < SIGNAL_SLOTS; i++) {
		struct gdb_server *none = NULL;

		if (atomic_compare_exchange_strong(&signal_table[i], &none, srv))
			return;
	}
	/* Table full: that socket file is only removed by destroy. */
}

static void signal_table_remove(struct gdb_server *srv)
{
	for (int i = 0; i < SIGNAL_SLOTS; i++) {
		struct gdb_server *me = srv;

		atomic_compare_exchange_strong(&signal_table[i], &me, NULL);
	}
}

void gdb_server_signal_unlink(void)
{
	for (int i = 0; i < SIGNAL_SLOTS; i++) {
		struct gdb_server *srv = atomic_load(&signal_table[i]);

		if (srv && srv->unix_path && !atomic_load(&srv->resuming))
			unlink(srv->unix_path);
	}
}

struct gdb_server *gdb_server_create(const struct gdb_target *target,
				     const struct gdb_server_options *opts)
{
	struct gdb_server *srv;

	if (!target || !target->ops || !target->ops->read_regs || !target->ops->read_mem ||
	    !target->ops->resume) {
		errno = EINVAL;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->target = *target;
	srv->listen_fd = -1;
	gdb_watcher_init(&srv->watcher);
	srv->packet_size = GDB_DEFAULT_PACKET_SIZE;
	if (opts) {
		srv->log.fn = opts->log;
		srv->log.ctx = opts->log_ctx;
		if (opts->packet_size)
			srv->packet_size = opts->packet_size;
	}
	/* The g reply (1216 hex chars) and target.xml chunks must fit. */
	if (srv->packet_size < GDB_MIN_PACKET_SIZE)
		srv->packet_size = GDB_MIN_PACKET_SIZE;
	if (srv->packet_size > (1u << 20))
		srv->packet_size = 1u << 20;
	srv->last_stop.kind = GDB_STOP_SIGNAL;
	srv->last_stop.signal = GDB_SIGTRAP;
	srv->xml = gdb_target_xml(&srv->xml_len);
	if (target->exec_file) {
		srv->target.exec_file = srv->exec_file = strdup(target->exec_file);
		if (!srv->exec_file)
			goto nomem;
	}
	if (!srv->xml)
		goto nomem;
	return srv;

nomem:
	gdb_watcher_fini(&srv->watcher);
	free(srv->xml);
	free(srv->exec_file);
	free(srv);
	errno = ENOMEM;
	return NULL;
}

void gdb_server_destroy(struct gdb_server *srv)
{
	if (!srv)
		return;
	signal_table_remove(srv);
	gdb_watcher_fini(&srv->watcher);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->unix_path)
		unlink(srv->unix_path);
	free(srv->unix_path);
	free(srv->xml);
	free(srv->exec_file);
	free(srv);
}

int gdb_server_listen(struct gdb_server *srv, const char *addr)
{
	struct gdb_listen_addr a;
	int fd;

	if (srv->listen_fd >= 0)
		return -EBUSY;
	if (gdb_parse_listen_addr(addr, &a)) {
		gdb_logf(&srv->log, GDB_LOG_ERROR,
			 "gdb: bad listen address '%s' (want HOST:PORT, :PORT, PORT or unix:PATH)",
			 addr);
		return -EINVAL;
	}
	if (a.family == AF_UNIX) {
		srv->unix_path = strdup(a.path);
		if (!srv->unix_path)
			return -ENOMEM;
	}
	fd = gdb_conn_listen(&a, &srv->log);
	if (fd < 0) {
		free(srv->unix_path);
		srv->unix_path = NULL;
		return fd;
	}
	srv->listen_fd = fd;
	srv->listen_family = a.family;
	if (srv->unix_path)
		signal_table_add(srv);
	return 0;
}

int gdb_server_port(const struct gdb_server *srv)
{
	return gdb_conn_port(srv->listen_fd);
}

void gdb_stop_reply(const struct gdb_session *s, const struct gdb_stop *st, struct gdb_buf *b)
{
	static const char *const watch[] = { "watch", "rwatch", "awatch" };

	switch (st->kind) {
	case GDB_STOP_SIGNAL:
		gdb_buf_printf(b, "T%02xthread:1;", st->signal & 0xff);
		break;
	case GDB_STOP_SWBREAK:
		/* Only gdbs that asked for swbreak/hwbreak may see them. */
		gdb_buf_puts(b, s->gdb_swbreak ? "T05swbreak:;thread:1;" : "T05thread:1;");
		break;
	case GDB_STOP_HWBREAK:
		gdb_buf_puts(b, s->gdb_hwbreak ? "T05hwbreak:;thread:1;" : "T05thread:1;");
		break;
	case GDB_STOP_WATCH:
	case GDB_STOP_RWATCH:
	case GDB_STOP_AWATCH:
		gdb_buf_printf(b, "T05%s:%llx;thread:1;", watch[st->kind - GDB_STOP_WATCH],
			       (unsigned long long)st->addr);
		break;
	case GDB_STOP_EXITED:
		gdb_buf_printf(b, "W%02x", st->status & 0xff);
		break;
	case GDB_STOP_KILLED:
		gdb_buf_printf(b, "X%02x", st->signal & 0xff);
		break;
	case GDB_STOP_REPLAY_BEGIN:
		gdb_buf_puts(b, "T05replaylog:begin;thread:1;");
		break;
	case GDB_STOP_REPLAY_END:
		gdb_buf_puts(b, "T05replaylog:end;thread:1;");
		break;
	default:
		gdb_buf_puts(b, "T05thread:1;");
		break;
	}
}

int gdb_session_resume(struct gdb_session *s, enum gdb_resume how)
{
	const struct gdb_target *t = &s->srv->target;
	struct gdb_stop stop = { .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	struct gdb_watch_seen seen;
	int r;

	r = gdb_watcher_arm(&s->srv->watcher, s->srv, s, false);
	if (r)
		return r;
	atomic_store(&s->srv->resuming, true);
	r = t->ops->resume(t->ctx, how, &stop);
	atomic_store(&s->srv->resuming, false);
	gdb_watcher_disarm(&s->srv->watcher, &seen);
	if (r < 0)
		return r;

	s->srv->last_stop = stop;
	if ((stop.kind == GDB_STOP_EXITED || stop.kind == GDB_STOP_KILLED) && s->extended)
		s->end_on_close = GDB_SERVE_EXITED;	/* gdb may run it again */
	else if (stop.kind == GDB_STOP_EXITED || stop.kind == GDB_STOP_KILLED)
		s->end = GDB_SERVE_EXITED;
	if (seen.hangup) {
		s->hangup = true;
		return GDB_H_DONE;
	}
	gdb_stop_reply(s, &stop, &s->reply);
	return GDB_H_REPLY;
}

int gdb_server_serve_fd(struct gdb_server *srv, int fd)
{
	struct gdb_session s = { .srv = srv };
	int r;

	for (int i = 0; i < GDB_MAX_FILES; i++)
		s.files[i] = -1;
	r = gdb_io_init(&s.io, fd, srv->packet_size, &srv->log);
	if (r)
		return r;
	s.reply.cap = srv->packet_size;
	s.reply.data = malloc(s.reply.cap);
	if (!s.reply.data) {
		gdb_io_fini(&s.io);
		return -ENOMEM;
	}
	for (;;) {
		r = gdb_io_read(&s.io);
		if (r == GDB_IO_PACKET) {
			r = gdb_dispatch(&s, s.io.pkt, s.io.pkt_len);
		} else if (r == GDB_IO_BADPACKET) {
			gdb_buf_reset(&s.reply);
			gdb_buf_puts(&s.reply, "E22");
			r = gdb_send_reply(&s);
		} else if (r == GDB_IO_INTERRUPT) {
			r = 0;		/* already stopped: a late Ctrl-C */
		}
		if (s.end) {
			r = s.end;
			break;
		}
		if (r < 0) {
			if (r != -ECONNRESET)
				gdb_logf(&srv->log, GDB_LOG_WARN, "gdb: connection error: %s",
					 strerror(-r));
			r = s.end_on_close ? s.end_on_close : GDB_SERVE_DISCONNECTED;
			break;
		}
	}
	gdb_session_close_files(&s);
	free(s.reply.data);
	gdb_io_fini(&s.io);
	return r;
}

int gdb_server_serve(struct gdb_server *srv)
{
	int fd = -1, r;

	if (srv->listen_fd < 0)
		return -EINVAL;
	for (;;) {
		struct gdb_refuser refuser;

		if (fd < 0)
			fd = gdb_conn_accept(srv->listen_fd, &srv->log);
		if (fd < 0)
			return fd;
		if (gdb_refuser_start(&refuser, srv, fd))
			gdb_logf(&srv->log, GDB_LOG_WARN,
				 "gdb: cannot start refusing further clients; they will wait");
		r = gdb_server_serve_fd(srv, fd);
		gdb_refuser_stop(&refuser);
		close(fd);
		fd = refuser.handoff_fd;
		if (r != GDB_SERVE_DISCONNECTED) {
			if (fd >= 0)
				close(fd);
			return r;
		}
		gdb_logf(&srv->log, GDB_LOG_INFO,
			 "gdb: client disconnected; target stays stopped, waiting for the next one");
		if (fd >= 0)
			gdb_conn_accepted(fd, &srv->log);
	}
}
