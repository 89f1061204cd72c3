/*
 * cmd_exec.c — packets that make the target run or end the session:
 * c s C S (with an optional resume address), vCont? and vCont, bc bs
 * (reverse, only for targets that can), k and D; extended mode (!, vRun,
 * vKill) for targets that can start again.
 *
 * There is one thread (id 1), so a vCont action applies if it names no
 * thread, thread 1, or all threads. A signal given with C/S/vCont;C is
 * dropped: a guest kernel has no use for a host signal, and gdb sends
 * one only if the user asks ("signal SIGINT"); we log it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gdbstub/internal.h"

static int set_pc(struct gdb_session *s, const struct gdb_arg *addr)
{
	const struct gdb_target_ops *ops = s->srv->target.ops;
	struct gdb_x86_regs regs;
	int r;

	if (!addr->present)
		return 0;
	if (!ops->write_regs)
		return -EOPNOTSUPP;
	memset(&regs, 0, sizeof(regs));
	r = ops->read_regs(s->srv->target.ctx, &regs);
	if (r)
		return r;
	regs.rip = addr->num;
	return ops->write_regs(s->srv->target.ctx, &regs);
}

static void drop_signal(struct gdb_session *s, uint64_t sig)
{
	if (sig != 0)
		gdb_logf(&s->srv->log, GDB_LOG_INFO,
			 "gdb: signal %llu with resume ignored (no signals for a guest kernel)",
			 (unsigned long long)sig);
}

static int resume_at(struct gdb_session *s, const struct gdb_arg *addr, enum gdb_resume how)
{
	int r = set_pc(s, addr);

	return r ? r : gdb_session_resume(s, how);
}

static int h_continue(struct gdb_session *s, struct gdb_args *a)
{
	return resume_at(s, &a->v[0], GDB_RESUME_CONTINUE);
}

static int h_step(struct gdb_session *s, struct gdb_args *a)
{
	return resume_at(s, &a->v[0], GDB_RESUME_STEP);
}

static int h_continue_sig(struct gdb_session *s, struct gdb_args *a)
{
	drop_signal(s, a->v[0].num);
	return resume_at(s, &a->v[1], GDB_RESUME_CONTINUE);
}

static int h_step_sig(struct gdb_session *s, struct gdb_args *a)
{
	drop_signal(s, a->v[0].num);
	return resume_at(s, &a->v[1], GDB_RESUME_STEP);
}

static int h_reverse(struct gdb_session *s, enum gdb_resume how)
{
	if (!(s->srv->target.flags & GDB_TARGET_CAN_REVERSE))
		return -EOPNOTSUPP;
	return gdb_session_resume(s, how);
}

static int h_reverse_continue(struct gdb_session *s, struct gdb_args *a)
{
	return h_reverse(s, GDB_RESUME_REVERSE_CONTINUE);
}

static int h_reverse_step(struct gdb_session *s, struct gdb_args *a)
{
	return h_reverse(s, GDB_RESUME_REVERSE_STEP);
}

static int h_vcont_query(struct gdb_session *s, struct gdb_args *a)
{
	gdb_buf_puts(&s->reply, "vCont;c;C;s;S;t");
	return GDB_H_REPLY;
}

/*
 * Parse one vCont action ("c", "C05", "s:1", "t:p1.-1"); *applies is set
 * when it concerns thread 1.
 */
static int parse_action(struct gdb_session *s, const char *p, size_t len, char *op, bool *applies)
{
	const char *colon = memchr(p, ':', len);
	size_t head = colon ? (size_t)(colon - p) : len;
	int64_t tid = -1;
	uint64_t sig;

	if (head == 0)
		return -EINVAL;
	*op = p[0];
	switch (p[0]) {
	case 'c':
	case 's':
	case 't':
		if (head != 1)
			return -EINVAL;
		break;
	case 'C':
	case 'S':
		if (head != 3 || gdb_hex_u64(p + 1, 2, &sig))
			return -EINVAL;
		drop_signal(s, sig);
		break;
	default:
		return -EINVAL;	/* includes 'r' (range step): not advertised */
	}
	if (colon && gdb_parse_thread(colon + 1, len - head - 1, &tid))
		return -EINVAL;
	*applies = tid == -1 || tid == 0 || tid == 1;
	return 0;
}

static int h_vcont(struct gdb_session *s, struct gdb_args *a)
{
	char *p = a->v[0].str, *end = p + a->v[0].len;
	char chosen = 0;

	/* Validate every action, act on the first one that concerns us. */
	for (;;) {
		char *semi = memchr(p, ';', (size_t)(end - p));
		char *stop = semi ? semi : end;
		bool applies = false;
		char op;
		int r = parse_action(s, p, (size_t)(stop - p), &op, &applies);

		if (r)
			return r;
		if (applies && !chosen)
			chosen = op;
		if (!semi)
			break;
		p = semi + 1;
	}
	switch (chosen) {
	case 'c':
	case 'C':
		return gdb_session_resume(s, GDB_RESUME_CONTINUE);
	case 's':
	case 'S':
		return gdb_session_resume(s, GDB_RESUME_STEP);
	case 't':
		/* Already stopped: report it, signal 0 as gdb expects for 't'. */
		gdb_buf_puts(&s->reply, "T00thread:1;");
		return GDB_H_REPLY;
	default:
		return -EINVAL;	/* no action for thread 1 */
	}
}

static int h_kill(struct gdb_session *s, struct gdb_args *a)
{
	if (s->srv->target.ops->kill)
		s->srv->target.ops->kill(s->srv->target.ctx);
	if (s->extended)
		s->end_on_close = GDB_SERVE_KILLED;	/* gdb may run it again */
	else
		s->end = GDB_SERVE_KILLED;
	return GDB_H_DONE;	/* gdb expects no reply to 'k' */
}

/* vKill;pid (extended mode): as k, with a reply. */
static int h_vkill(struct gdb_session *s, struct gdb_args *a)
{
	if (!s->extended)
		return GDB_H_REPLY;	/* empty: gdb falls back to k */
	h_kill(s, a);
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

/* '!': extended mode, for targets that can start again. */
static int h_extended(struct gdb_session *s, struct gdb_args *a)
{
	if (!s->srv->target.ops->restart)
		return GDB_H_REPLY;	/* empty: not supported */
	s->extended = true;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

/* vRun;filename;args: the same machine from the beginning (the file name
 * and arguments gdb sends are not used: the target boots what it booted). */
static int h_run(struct gdb_session *s, struct gdb_args *a)
{
	const struct gdb_target *t = &s->srv->target;
	struct gdb_stop stop = { .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
	int r;

	if (!s->extended || !t->ops->restart)
		return -EOPNOTSUPP;
	r = t->ops->restart(t->ctx, &stop);
	if (r < 0)
		return r;
	s->end_on_close = 0;
	s->srv->last_stop = stop;
	gdb_stop_reply(s, &stop, &s->reply);
	return GDB_H_REPLY;
}

static int h_detach(struct gdb_session *s, struct gdb_args *a)
{
	/* Reply first: once detached, the guest runs and we are gone. */
	gdb_buf_puts(&s->reply, "OK");
	if (gdb_send_reply(s))
		gdb_logf(&s->srv->log, GDB_LOG_WARN, "gdb: could not acknowledge detach");
	if (s->srv->target.ops->detach)
		s->srv->target.ops->detach(s->srv->target.ctx);
	s->end = GDB_SERVE_DETACHED;
	return GDB_H_DONE;
}

const struct gdb_packet_def gdb_exec_packets[] = {
	{ "c", "?x", h_continue },
	{ "s", "?x", h_step },
	{ "C", "x?;x", h_continue_sig },
	{ "S", "x?;x", h_step_sig },
	{ "vCont?", "", h_vcont_query },
	{ "vCont", ";s", h_vcont },
	{ "bc", "", h_reverse_continue },
	{ "bs", "", h_reverse_step },
	{ "k", "", h_kill },
	{ "vKill", "?;s", h_vkill },
	{ "!", "", h_extended },
	{ "vRun", "?;s", h_run },
	{ "D", "?;s", h_detach },
	{ NULL, NULL, NULL },
};
