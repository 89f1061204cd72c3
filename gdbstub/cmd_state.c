/*
 * cmd_state.c — packets that read or change the stopped machine: the stop
 * reason (?), registers (g G p P), memory (m M X) and breakpoints (Z z).
 *
 * Memory is asked of the target one 4 KiB page at a time, so the target's
 * read_mem can be all-or-nothing and a read that runs into unmapped memory
 * still returns its readable prefix, as gdb expects of 'm'.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

static const struct gdb_target_ops *ops(struct gdb_session *s)
{
	return s->srv->target.ops;
}

static void *tctx(struct gdb_session *s)
{
	return s->srv->target.ctx;
}

static int h_stop_reason(struct gdb_session *s, struct gdb_args *a)
{
	gdb_stop_reply(s, &s->srv->last_stop, &s->reply);
	return GDB_H_REPLY;
}

static int h_read_regs(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_x86_regs regs;
	uint8_t raw[sizeof(struct gdb_x86_regs)];
	int r;

	memset(&regs, 0, sizeof(regs));
	r = ops(s)->read_regs(tctx(s), &regs);
	if (r)
		return r;
	gdb_regs_pack(&regs, raw);
	gdb_buf_hex(&s->reply, raw, gdb_regs_size());
	return GDB_H_REPLY;
}

static int h_write_regs(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_x86_regs regs;
	int r;

	if (a->v[0].len > gdb_regs_size() || a->v[0].len == 0)
		return -EINVAL;
	if (!ops(s)->write_regs)
		return -EOPNOTSUPP;
	memset(&regs, 0, sizeof(regs));
	r = ops(s)->read_regs(tctx(s), &regs);
	if (r)
		return r;
	gdb_regs_unpack(&regs, (const uint8_t *)a->v[0].str, a->v[0].len);
	r = ops(s)->write_regs(tctx(s), &regs);
	if (r)
		return r;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

static int h_read_reg(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_x86_regs regs;
	uint8_t *p;
	size_t len;
	int r;

	memset(&regs, 0, sizeof(regs));
	if (a->v[0].num >= GDB_X86_NREGS)
		return -EINVAL;
	r = ops(s)->read_regs(tctx(s), &regs);
	if (r)
		return r;
	p = gdb_reg_ptr(&regs, (unsigned)a->v[0].num, &len);
	gdb_buf_hex(&s->reply, p, len);
	return GDB_H_REPLY;
}

static int h_write_reg(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_x86_regs regs;
	uint8_t *p;
	size_t len;
	int r;

	memset(&regs, 0, sizeof(regs));
	if (a->v[0].num >= GDB_X86_NREGS)
		return -EINVAL;
	if (!ops(s)->write_regs)
		return -EOPNOTSUPP;
	r = ops(s)->read_regs(tctx(s), &regs);
	if (r)
		return r;
	p = gdb_reg_ptr(&regs, (unsigned)a->v[0].num, &len);
	if (a->v[1].len != len)
		return -EINVAL;
	memcpy(p, a->v[1].str, len);
	r = ops(s)->write_regs(tctx(s), &regs);
	if (r)
		return r;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

/* Bytes from addr to the next page boundary (never 0). */
static size_t page_room(uint64_t addr)
{
	return GDB_PAGE_SIZE - (size_t)(addr & (GDB_PAGE_SIZE - 1));
}

/* Read up to len bytes; returns how many leading bytes are valid. */
static size_t read_prefix(struct gdb_session *s, uint64_t addr, uint8_t *buf, size_t len, int *err)
{
	size_t done = 0;

	*err = 0;
	while (done < len) {
		uint64_t at = addr + done;
		size_t chunk = page_room(at);
		int r;

		if (at < addr) {	/* wrapped past 2^64 */
			*err = -EFAULT;
			break;
		}
		if (chunk > len - done)
			chunk = len - done;
		r = ops(s)->read_mem(tctx(s), at, buf + done, chunk);
		if (r) {
			*err = r;
			break;
		}
		done += chunk;
	}
	return done;
}

static int write_all(struct gdb_session *s, uint64_t addr, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	if (!ops(s)->write_mem)
		return -EOPNOTSUPP;
	if (len > 0 && addr + len - 1 < addr)
		return -EFAULT;
	while (done < len) {
		size_t chunk = page_room(addr + done);
		int r;

		if (chunk > len - done)
			chunk = len - done;
		r = ops(s)->write_mem(tctx(s), addr + done, buf + done, chunk);
		if (r)
			return r;
		done += chunk;
	}
	return 0;
}

static int h_read_mem(struct gdb_session *s, struct gdb_args *a)
{
	struct gdb_buf *b = &s->reply;
	size_t len = a->v[1].num < b->cap / 2 ? (size_t)a->v[1].num : b->cap / 2;
	uint8_t *raw = (uint8_t *)b->data;
	size_t got;
	int err;

	if (len == 0)
		return -EINVAL;
	/* Read into the reply buffer and hex-encode in place (backwards-safe). */
	got = read_prefix(s, a->v[0].num, raw, len, &err);
	if (got == 0)
		return err ? err : -EFAULT;
	gdb_hex_encode(raw, got, b->data);
	b->len = 2 * got;
	return GDB_H_REPLY;
}

static int h_write_mem_hex(struct gdb_session *s, struct gdb_args *a)
{
	int r;

	if (a->v[1].num != a->v[2].len)
		return -EINVAL;
	r = write_all(s, a->v[0].num, (const uint8_t *)a->v[2].str, a->v[2].len);
	if (r)
		return r;
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

static int bp_common(struct gdb_session *s, struct gdb_args *a, bool insert)
{
	int (*fn)(void *, enum gdb_bp_type, uint64_t, uint64_t, char *, size_t);
	char msg[256] = "";
	uint64_t type = a->v[0].num;
	int r;

	if (type > GDB_WATCH_ACCESS)
		return GDB_H_REPLY;	/* empty: this Z type is not supported */
	fn = insert ? ops(s)->insert_bp : ops(s)->remove_bp;
	if (!fn)
		return -EOPNOTSUPP;
	r = fn(tctx(s), (enum gdb_bp_type)type, a->v[1].num, a->v[2].num, msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	if (r) {
		gdb_logf(&s->srv->log, GDB_LOG_WARN, "gdb: %s %s type %u at 0x%llx failed: %s",
			 insert ? "inserting" : "removing", type < 2 ? "breakpoint" : "watchpoint",
			 (unsigned)type, (unsigned long long)a->v[1].num,
			 msg[0] ? msg : "(no reason given)");
		/* gdb shows the text after "E.<word>." for Z packets. */
		if (msg[0])
			snprintf(s->why, sizeof(s->why), "Z%u.%s", (unsigned)type, msg);
		return r;
	}
	gdb_buf_puts(&s->reply, "OK");
	return GDB_H_REPLY;
}

static int h_insert_bp(struct gdb_session *s, struct gdb_args *a)
{
	return bp_common(s, a, true);
}

static int h_remove_bp(struct gdb_session *s, struct gdb_args *a)
{
	return bp_common(s, a, false);
}

const struct gdb_packet_def gdb_state_packets[] = {
	{ "?", "", h_stop_reason },
	{ "g", "", h_read_regs },
	{ "G", "h", h_write_regs },
	{ "p", "x", h_read_reg },
	{ "P", "x=h", h_write_reg },
	{ "m", "x,x", h_read_mem },
	{ "M", "x,x:h", h_write_mem_hex },
	{ "X", "x,x:b", h_write_mem_hex },
	{ "Z", "x,x,x?;s", h_insert_bp },
	{ "z", "x,x,x?;s", h_remove_bp },
	{ NULL, NULL, NULL },
};
