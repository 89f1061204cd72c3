/*
 * dispatch.c — from a received packet to a handler and back to a reply.
 *
 * Packets are looked up in tables of {name, schema, handler} rows (one table
 * per cmd_*.c file); adding a packet is adding a row. The schema describes
 * the parameters after the name, and the dispatcher parses them before the
 * handler runs, so handlers never see malformed input and every parse
 * failure gets the same E22 reply. Schema characters:
 *
 *   x   a hex number (1-16 digits)
 *   s   a string running to the next literal of the schema (or the end)
 *   h   hex-encoded bytes running to the next literal (or the end),
 *       decoded in place
 *   b   binary (escaped) bytes to the end, unescaped in place; must be last,
 *       since the data may contain any literal
 *   ?   the rest of the schema is optional: input may end here
 *   any other character must appear literally (',', ':', ';', '=')
 *
 * Names: a one-letter name matches any packet starting with that letter
 * (g, m1000,4); a longer name must be followed by the end of the packet or
 * a non-alphanumeric character, so "qC" does not match "qCRC:...".
 * Handlers return -errno, which becomes a uniform error reply (see
 * gdbstub.h); unknown packets get the empty reply.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

void gdb_buf_reset(struct gdb_buf *b)
{
	b->len = 0;
	b->overflow = false;
}

void gdb_buf_add(struct gdb_buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void gdb_buf_puts(struct gdb_buf *b, const char *s)
{
	gdb_buf_add(b, s, strlen(s));
}

void gdb_buf_printf(struct gdb_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->overflow = true;
		return;
	}
	gdb_buf_add(b, tmp, (size_t)n);
}

void gdb_buf_hex(struct gdb_buf *b, const uint8_t *data, size_t n)
{
	if (n > (b->cap - b->len) / 2) {
		b->overflow = true;
		return;
	}
	gdb_hex_encode(data, n, b->data + b->len);
	b->len += 2 * n;
}

int gdb_errno_to_code(int err)
{
	switch (err) {
	case -EINVAL:
	case -ERANGE:
	case -E2BIG:
		return 22;
	case -EFAULT:
		return 14;
	case -ENOSPC:
		return 28;
	case -EOPNOTSUPP:
		return 95;
	default:
		return 5;
	}
}

static int parse_tid(const char *s, size_t len, int64_t *tid)
{
	uint64_t v;

	if (len == 2 && s[0] == '-' && s[1] == '1') {
		*tid = -1;
		return 0;
	}
	if (gdb_hex_u64(s, len, &v) || v > INT64_MAX)
		return -EINVAL;
	*tid = (int64_t)v;
	return 0;
}

int gdb_parse_thread(const char *s, size_t len, int64_t *tid)
{
	if (len > 0 && s[0] == 'p') {
		const char *dot = memchr(s, '.', len);
		size_t pid_len = dot ? (size_t)(dot - s) - 1 : len - 1;
		int64_t pid;

		if (parse_tid(s + 1, pid_len, &pid))
			return -EINVAL;
		if (!dot) {
			*tid = -1;
			return 0;
		}
		len -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	return parse_tid(s, len, tid);
}

int gdb_send_reply(struct gdb_session *s)
{
	if (s->reply.overflow) {
		/* A handler sized its reply wrong: a bug, but not the client's. */
		gdb_logf(&s->srv->log, GDB_LOG_ERROR, "gdb: reply exceeded %zu bytes; sent E05",
			 s->reply.cap);
		gdb_buf_reset(&s->reply);
		gdb_buf_puts(&s->reply, "E05");
	}
	return gdb_io_send(&s->io, s->reply.data, s->reply.len);
}

static bool is_literal(char c)
{
	return c != 'x' && c != 's' && c != 'h' && c != 'b' && c != '?';
}

/* Where a field ends: at the schema's next literal, or the end of input. */
static char *field_end(char *p, char *end, char next)
{
	if (!next || !is_literal(next))
		return end;
	while (p < end && *p != next)
		p++;
	return p;
}

int gdb_parse_args(const char *schema, char *p, size_t len, struct gdb_args *a)
{
	char *end = p + len;
	bool optional = false;

	memset(a, 0, sizeof(*a));
	for (const char *sc = schema; *sc; sc++) {
		struct gdb_arg *arg;
		char *q;

		if (*sc == '?') {
			optional = true;
			continue;
		}
		if (p == end && optional)
			break;
		if (is_literal(*sc)) {
			if (p == end || *p != *sc)
				return -EINVAL;
			p++;
			continue;
		}
		if (a->n == GDB_MAX_ARGS)
			return -EINVAL;
		arg = &a->v[a->n++];
		arg->present = true;
		switch (*sc) {
		case 'x':
			for (q = p; q < end && gdb_hex_digit((unsigned char)*q) >= 0; q++)
				;
			if (gdb_hex_u64(p, (size_t)(q - p), &arg->num))
				return -EINVAL;
			p = q;
			break;
		case 's':
			q = field_end(p, end, sc[1]);
			arg->str = p;
			arg->len = (size_t)(q - p);
			p = q;
			break;
		case 'h':
			q = field_end(p, end, sc[1]);
			if ((q - p) % 2 || gdb_hex_decode(p, (size_t)(q - p) / 2, (uint8_t *)p))
				return -EINVAL;
			arg->str = p;
			arg->len = (size_t)(q - p) / 2;
			p = q;
			break;
		case 'b':
			if (gdb_bin_unescape(p, (size_t)(end - p), (uint8_t *)p, &arg->len))
				return -EINVAL;
			arg->str = p;
			p = end;
			break;
		}
	}
	return p == end ? 0 : -EINVAL;
}

static const struct gdb_packet_def *const tables[] = {
	gdb_state_packets,
	gdb_exec_packets,
	gdb_query_packets,
	gdb_file_packets,
};

static const struct gdb_packet_def *lookup(const char *pkt, size_t len, size_t *name_len)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct gdb_packet_def *d = tables[t]; d->name; d++) {
			size_t n = strlen(d->name);

			if (n > len || memcmp(pkt, d->name, n) != 0)
				continue;
			if (n > 1 && n < len && isalnum((unsigned char)pkt[n]))
				continue;
			*name_len = n;
			return d;
		}
	}
	return NULL;
}

/* Enn, or E.text when the handler or the target said why. The text may
 * not hold the protocol's special characters; they become '?'. */
static void error_reply(struct gdb_session *s, int r)
{
	const struct gdb_target *t = &s->srv->target;
	const char *why = s->why[0] ? s->why : NULL;

	if (!why && t->ops->last_error)
		why = t->ops->last_error(t->ctx);
	if (!why || !*why) {
		gdb_buf_printf(&s->reply, "E%02d", gdb_errno_to_code(r));
		return;
	}
	gdb_buf_puts(&s->reply, "E.");
	for (size_t i = 0; why[i] && i < 400; i++) {
		char c = why[i];

		if (c == '$' || c == '#' || c == '*' || c == '}' || c < 0x20 || c > 0x7e)
			c = '?';
		gdb_buf_add(&s->reply, &c, 1);
	}
}

int gdb_dispatch(struct gdb_session *s, char *pkt, size_t len)
{
	const struct gdb_packet_def *d;
	struct gdb_args args;
	size_t name_len = 0;
	int r;

	gdb_buf_reset(&s->reply);
	s->why[0] = '\0';
	d = lookup(pkt, len, &name_len);
	if (!d)
		return gdb_send_reply(s);	/* empty: not supported */
	r = gdb_parse_args(d->schema, pkt + name_len, len - name_len, &args);
	if (r == 0)
		r = d->fn(s, &args);
	else
		gdb_logf(&s->srv->log, GDB_LOG_WARN, "gdb: malformed '%s' packet (%zu bytes)",
			 d->name, len);
	if (r == GDB_H_DONE)
		return s->hangup ? -ECONNRESET : 0;
	if (r < 0) {
		gdb_buf_reset(&s->reply);
		error_reply(s, r);
	}
	return gdb_send_reply(s);
}
