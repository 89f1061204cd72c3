/*
 * cmd_query.c — query and setup packets: qSupported, QStartNoAckMode, the
 * target description (qXfer:features:read), the single-thread queries
 * (qfThreadInfo qsThreadInfo qC qAttached H T), monitor commands (qRcmd)
 * and vMustReplyEmpty. qOffsets and other unlisted queries get the empty
 * "unsupported" reply from the dispatcher.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gdbstub/internal.h"

static bool has_feature(const char *list, size_t len, const char *feature)
{
	size_t n = strlen(feature);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t item = semi ? (size_t)(semi - p) : (size_t)(end - p);

		if (item == n && memcmp(p, feature, n) == 0)
			return true;
		p += item + 1;
	}
	return false;
}

static int h_supported(struct gdb_session *s, struct gdb_args *a)
{
	const struct gdb_arg *f = &a->v[0];

	s->gdb_swbreak = f->present && has_feature(f->str, f->len, "swbreak+");
	s->gdb_hwbreak = f->present && has_feature(f->str, f->len, "hwbreak+");
	gdb_buf_printf(&s->reply, "PacketSize=%zx;qXfer:features:read+;QStartNoAckMode+;"
		       "vContSupported+;swbreak+;hwbreak+", s->srv->packet_size);
	if (s->srv->target.exec_file)
		gdb_buf_puts(&s->reply, ";qXfer:exec-file:read+");
	if (s->srv->target.flags & GDB_TARGET_CAN_REVERSE)
		gdb_buf_puts(&s->reply, ";ReverseStep+;ReverseContinue+");
	return GDB_H_REPLY;
}

static int h_start_noack(struct gdb_session *s, struct gdb_args *a)
{
	int r;

	/* The OK still travels in ack mode; gdb switches once it has acked it. */
	gdb_buf_puts(&s->reply, "OK");
	r = gdb_send_reply(s);
	if (r)
		return r;
	s->io.noack = true;
	return GDB_H_DONE;
}

static int h_features_read(struct gdb_session *s, struct gdb_args *a)
{
	const struct gdb_server *srv = s->srv;
	struct gdb_buf *b = &s->reply;
	uint64_t off = a->v[1].num, want = a->v[2].num;
	size_t avail, used, taken;

	if (a->v[0].len != strlen("target.xml") || memcmp(a->v[0].str, "target.xml", a->v[0].len))
		return -EINVAL;
	if (want == 0)
		return -EINVAL;
	if (off >= srv->xml_len) {
		gdb_buf_puts(b, "l");
		return GDB_H_REPLY;
	}
	avail = srv->xml_len - (size_t)off;
	if (want < avail)
		avail = (size_t)want;
	/* Escaping may double the size; take what fits in one reply. */
	taken = gdb_bin_escape((const uint8_t *)srv->xml + off, avail, b->data + 1, b->cap - 1, &used);
	b->data[0] = off + taken < srv->xml_len ? 'm' : 'l';
	b->len = used + 1;
	return GDB_H_REPLY;
}

static int h_attached(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "1");	/* we attached to an existing machine */
	return GDB_H_REPLY;
}

static int h_first_thread(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "m1");
	return GDB_H_REPLY;
}

static int h_next_thread(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "l");
	return GDB_H_REPLY;
}

static int h_current_thread(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "QC1");
	return GDB_H_REPLY;
}

static int h_set_thread(struct gdb_session *s, struct gdb_args *a)
{
	int64_t tid;

	if (a->v[0].len < 2 || gdb_parse_thread(a->v[0].str + 1, a->v[0].len - 1, &tid))
		return -EINVAL;
	if (tid != -1 && tid != 0 && tid != 1)
		return -EINVAL;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

static int h_thread_alive(struct gdb_session *s, struct gdb_args *a)
{
	int64_t tid;

	if (gdb_parse_thread(a->v[0].str, a->v[0].len, &tid) || tid != 1)
		return -EINVAL;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

/*
 * A monitor command's output goes out as it comes, and the command may ask
 * gdb_monitor_interrupted whether it is still wanted. gdb's Ctrl-C during
 * a monitor command sends nothing: gdb just stops reading (and prints
 * "Quit"). Our sends then block once the socket buffer is full, which
 * pauses the command, and the packet of gdb's next command tells it to
 * stop. The socket buffer is kept small while a command runs so that
 * little stale output is left for gdb to show with its next command.
 * A command that runs the target for long (a replay's goto) produces no
 * output meanwhile: it turns gdb_monitor_watch on, and the watcher thread
 * (watch.c) interrupts the target on gdb's next packet, a 0x03 or a
 * hang-up; output pauses the watch while it is sent.
 */
#define MONITOR_SNDBUF 2048

enum monitor_state {
	MON_RUNNING,
	MON_INTERRUPTED,	/* 0x03: the client still waits for the reply */
	MON_ABANDONED,		/* a new packet: the client no longer waits */
};

struct monitor_out {
	struct gdb_session *s;
	int err;
	enum monitor_state state;
	bool watch;		/* gdb_monitor_watch on: the watcher has the socket */
};

/* Take what the watcher saw into the command's state. */
static void monitor_seen(struct monitor_out *mo, const struct gdb_watch_seen *seen)
{
	if (seen->hangup && !mo->err)
		mo->err = -ECONNRESET;
	if (mo->state == MON_RUNNING && seen->packet)
		mo->state = MON_ABANDONED;
	else if (mo->state == MON_RUNNING && seen->ctrlc)
		mo->state = MON_INTERRUPTED;
}

/* The serving thread needs the socket (to send, or to poll) for a moment. */
static void monitor_pause(struct monitor_out *mo)
{
	struct gdb_watch_seen seen;

	if (mo->watch) {
		gdb_watcher_disarm(&mo->s->srv->watcher, &seen);
		monitor_seen(mo, &seen);
	}
}

static void monitor_unpause(struct monitor_out *mo)
{
	struct gdb_server *srv = mo->s->srv;

	/* Nothing to watch for once the client gave up or went away. */
	if (mo->watch && mo->state == MON_RUNNING && !mo->err &&
	    gdb_watcher_arm(&srv->watcher, srv, mo->s, true))
		mo->watch = false;	/* no thread: Ctrl-C is seen between pieces only */
}

void gdb_monitor_watch(void *out_ctx, bool on)
{
	struct monitor_out *mo = out_ctx;

	if (on == mo->watch)
		return;
	if (on) {
		mo->watch = true;
		monitor_unpause(mo);
	} else {
		monitor_pause(mo);
		mo->watch = false;
	}
}

bool gdb_monitor_interrupted(void *out_ctx)
{
	struct monitor_out *mo = out_ctx;

	if (mo->state == MON_RUNNING && !mo->err && mo->watch) {
		struct gdb_watch_seen seen;

		gdb_watcher_peek(&mo->s->srv->watcher, &seen);
		monitor_seen(mo, &seen);
	} else if (mo->state == MON_RUNNING && !mo->err) {
		int r = gdb_io_poll(&mo->s->io);

		if (r == GDB_IO_INTERRUPT)
			mo->state = MON_INTERRUPTED;
		else if (r == GDB_IO_PACKET)
			mo->state = MON_ABANDONED;
		else if (r < 0)
			mo->err = r;
	}
	return mo->state != MON_RUNNING || mo->err;
}

/* Forward monitor output as O packets while the command runs. */
static void monitor_output(void *ctx, const char *text, size_t len)
{
	struct monitor_out *mo = ctx;
	char pkt[1 + 2 * 256];

	monitor_pause(mo);
	while (len > 0 && mo->err == 0) {
		size_t n = len < 256 ? len : 256;

		pkt[0] = 'O';
		gdb_hex_encode((const uint8_t *)text, n, pkt + 1);
		mo->err = gdb_io_send(&mo->s->io, pkt, 1 + 2 * n);
		text += n;
		len -= n;
	}
	monitor_unpause(mo);
}

static int h_monitor(struct gdb_session *s, struct gdb_args *a)
{
	const struct gdb_target *t = &s->srv->target;
	struct monitor_out mo = { s, 0, MON_RUNNING, false };
	char *cmd = a->v[0].str;
	int r, sndbuf = 0, small = MONITOR_SNDBUF;
	socklen_t sl = sizeof(sndbuf);

	if (!t->ops->monitor)
		return GDB_H_REPLY;	/* empty: "target does not support this command" */
	if (memchr(cmd, '\0', a->v[0].len))
		return -EINVAL;
	cmd[a->v[0].len] = '\0';	/* room: hex decoding shrank it in place */
	/* Not a socket (a test's pipe) or refused: output just queues more. */
	if (getsockopt(s->io.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0)
		(void)setsockopt(s->io.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	r = t->ops->monitor(t->ctx, cmd, monitor_output, &mo);
	gdb_monitor_watch(&mo, false);		/* a command that left it on */
	/* Linux reports twice the size it was given; give back what it had. */
	if (sndbuf > 0 && (sndbuf /= 2) > 0)
		(void)setsockopt(s->io.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (mo.err)
		return mo.err;
	if (mo.state == MON_ABANDONED)
		return GDB_H_DONE;	/* no reply: it would answer gdb's new packet */
	if (r < 0)
		return r;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

static int h_empty(struct gdb_session *s, struct gdb_args *a)
{
	return GDB_H_REPLY;
}

const struct gdb_packet_def gdb_query_packets[] = {
	{ "qSupported", "?:s", h_supported },
	{ "QStartNoAckMode", "", h_start_noack },
	{ "qXfer:features:read", ":s:x,x", h_features_read },
	{ "qAttached", "?:s", h_attached },
	{ "qfThreadInfo", "", h_first_thread },
	{ "qsThreadInfo", "", h_next_thread },
	{ "qC", "", h_current_thread },
	{ "H", "s", h_set_thread },
	{ "T", "s", h_thread_alive },
	{ "qRcmd", ",h", h_monitor },
	{ "vMustReplyEmpty", "", h_empty },
	{ NULL, NULL, NULL },
};
