/*
 * eventtext.c — the one-line text form of an event, for logtool's dump and
 * build, for tests, and for messages that show an event to a person.
 *
 * The form is "TYPE field=value ..." with the field names of the table in
 * eventlog.c, so it follows new event types without changes here. Printing
 * then parsing gives back the same event; that is what lets a test dump a
 * log, edit one value with sed and rebuild a consistent log.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay/eventlog_codec.h"

#define CAT(ev, off, T) ((T const *)((const char *)(ev) + (off)))
#define AT(ev, off, T) ((T *)((char *)(ev) + (off)))

static const char *const clock_names[] = { "monotonic", "realtime" };

/* Output to a FILE or, snprintf-like, to a buffer. */
struct sink {
	FILE *f;
	char *buf;
	size_t size, len;
	int err;
};

static void out(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct sink *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (s->f) {
		if (vfprintf(s->f, fmt, ap) < 0)
			s->err = 1;
	} else {
		size_t room = s->len < s->size ? s->size - s->len : 0;

		n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
		if (n > 0)
			s->len += (size_t)n;
	}
	va_end(ap);
}

static void emit(struct sink *s, const struct replay_event *ev)
{
	const struct replay_event_desc *d = replay_event_desc(ev->type);

	if (!d) {
		out(s, "unknown_type_%u", (unsigned)ev->type);
		return;
	}
	out(s, "%s", d->name);
	for (const struct replay_field *f = d->fields; f->kind != REPLAY_F_NONE; f++) {
		uint64_t v = replay_field_get(ev, f);
		uint32_t n;

		out(s, " %s=", f->name);
		switch (f->kind) {
		case REPLAY_F_HEX:
			out(s, "0x%llx", (unsigned long long)v);
			break;
		case REPLAY_F_CLOCK_KIND:
			if (v < 2)
				out(s, "%s", clock_names[v]);
			else
				out(s, "%llu", (unsigned long long)v);
			break;
		case REPLAY_F_BYTES: {
			const uint8_t *b = *CAT(ev, f->off, const uint8_t *);

			n = *CAT(ev, f->aux_off, uint32_t);
			out(s, "\"");
			for (uint32_t i = 0; b && i < n; i++) {
				if (b[i] == '"' || b[i] == '\\')
					out(s, "\\%c", b[i]);
				else if (b[i] == '\n')
					out(s, "\\n");
				else if (b[i] == '\r')
					out(s, "\\r");
				else if (b[i] == '\t')
					out(s, "\\t");
				else if (b[i] >= 0x20 && b[i] < 0x7f)
					out(s, "%c", b[i]);
				else
					out(s, "\\x%02x", b[i]);
			}
			out(s, "\"");
			break;
		}
		case REPLAY_F_PAGES: {
			const uint64_t *pg = *CAT(ev, f->off, const uint64_t *);

			n = *CAT(ev, f->aux_off, uint32_t);
			for (uint32_t i = 0; pg && i < n; i++)
				out(s, "%s%llu", i ? "," : "", (unsigned long long)pg[i]);
			break;
		}
		default:
			out(s, "%llu", (unsigned long long)v);
			break;
		}
	}
}

int replay_event_print(FILE *f, const struct replay_event *ev)
{
	struct sink s = { .f = f };

	emit(&s, ev);
	return s.err ? -EIO : 0;
}

size_t replay_event_format(char *buf, size_t size, const struct replay_event *ev)
{
	struct sink s = { .buf = buf, .size = size };

	if (size)
		buf[0] = 0;
	emit(&s, ev);
	return s.len;
}

void replay_event_storage_free(struct replay_event_storage *s)
{
	free(s->bytes);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

/* ---- parsing ------------------------------------------------------------ */

struct parse {
	const char *line, *p;
	char *msg;
	size_t msglen;
};

static int perr(struct parse *ps, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct parse *ps, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->msg && ps->msglen) {
		n = snprintf(ps->msg, ps->msglen, "column %zu: ", (size_t)(at - ps->line) + 1);
		if (n >= 0 && (size_t)n < ps->msglen) {
			va_start(ap, fmt);
			vsnprintf(ps->msg + n, ps->msglen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static int at_sep(char c)
{
	return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal or 0x-hex number, no sign. */
static int parse_num(struct parse *ps, const char *what, uint64_t max, uint64_t *v)
{
	const char *start = ps->p;
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*start))
		return perr(ps, start, "%s: expected a number", what);
	errno = 0;
	x = strtoull(start, &end, 0);
	if (errno == ERANGE || x > max)
		return perr(ps, start, "%s: %.*s out of range (max %llu)", what,
			    (int)strcspn(start, " \t\r\n,"), start, (unsigned long long)max);
	if (end == start)
		return perr(ps, start, "%s: expected a number", what);
	ps->p = end;
	*v = x;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_bytes(struct parse *ps, const struct replay_field *f, uint8_t *buf, uint32_t *len)
{
	const char *start = ps->p;
	uint32_t n = 0;

	if (*ps->p != '"')
		return perr(ps, ps->p, "%s: expected a quoted string", f->name);
	ps->p++;
	for (;;) {
		const char *at = ps->p;
		int c = (unsigned char)*ps->p++;

		if (c == 0 || c == '\n')
			return perr(ps, start, "%s: unterminated string", f->name);
		if (c == '"')
			break;
		if (c == '\\') {
			c = *ps->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '\\': case '"': break;
			case 'x':
				if (hexval(ps->p[0]) < 0 || hexval(ps->p[1]) < 0)
					return perr(ps, at, "%s: bad \\x escape", f->name);
				c = hexval(ps->p[0]) * 16 + hexval(ps->p[1]);
				ps->p += 2;
				break;
			default:
				return perr(ps, at, "%s: unknown escape", f->name);
			}
		}
		if (n == REPLAY_SERIAL_IN_MAX)
			return perr(ps, at, "%s: more than %u bytes", f->name, REPLAY_SERIAL_IN_MAX);
		buf[n++] = (uint8_t)c;
	}
	*len = n;
	return 0;
}

static int parse_pages(struct parse *ps, const struct replay_field *f,
		       struct replay_event_storage *s, uint32_t *count)
{
	uint32_t n = 0;
	uint64_t v;
	int err;

	while (!at_sep(*ps->p)) {
		if (n && *ps->p++ != ',')
			return perr(ps, ps->p - 1, "%s: expected ','", f->name);
		if (n == REPLAY_PAGES_MAX)
			return perr(ps, ps->p, "%s: more than %u pages", f->name, REPLAY_PAGES_MAX);
		if ((err = parse_num(ps, f->name, UINT64_MAX, &v)))
			return err;
		if (n == s->pages_cap) {
			size_t cap = s->pages_cap ? s->pages_cap * 2 : 64;
			uint64_t *np = realloc(s->pages, cap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			s->pages = np;
			s->pages_cap = cap;
		}
		s->pages[n++] = v;
	}
	*count = n;
	return 0;
}

static int parse_field(struct parse *ps, const struct replay_field *f, struct replay_event *ev,
		       struct replay_event_storage *s)
{
	uint64_t v;
	int err;

	switch (f->kind) {
	case REPLAY_F_BYTES:
		if (!s->bytes && !(s->bytes = malloc(REPLAY_SERIAL_IN_MAX)))
			return -ENOMEM;
		*AT(ev, f->off, const uint8_t *) = s->bytes;
		return parse_bytes(ps, f, s->bytes, AT(ev, f->aux_off, uint32_t));
	case REPLAY_F_PAGES:
		err = parse_pages(ps, f, s, AT(ev, f->aux_off, uint32_t));
		*AT(ev, f->off, const uint64_t *) = s->pages;
		return err;
	case REPLAY_F_CLOCK_KIND:
		for (v = 0; v < 2; v++) {
			size_t len = strlen(clock_names[v]);

			if (strncmp(ps->p, clock_names[v], len) == 0 && at_sep(ps->p[len])) {
				ps->p += len;
				replay_field_set(ev, f, v);
				return 0;
			}
		}
		/* neither name: a number */
		__attribute__((fallthrough));
	default:
		if ((err = parse_num(ps, f->name, replay_field_max(f), &v)))
			return err;
		replay_field_set(ev, f, v);
		return 0;
	}
}

int replay_event_parse(const char *line, struct replay_event *ev,
		       struct replay_event_storage *s, char *msg, size_t msglen)
{
	struct parse ps = { line, line, msg, msglen };
	const struct replay_event_desc *d;
	const char *word;
	unsigned seen = 0, type;
	size_t len;
	int err;

	while (*ps.p == ' ' || *ps.p == '\t')
		ps.p++;
	if (at_sep(*ps.p) || *ps.p == '#')
		return 1;
	word = ps.p;
	len = strcspn(word, " \t\r\n");
	type = replay_event_type_from_name(word, len);
	d = replay_event_desc(type);
	if (!d)
		return perr(&ps, word, "unknown event type \"%.*s\"", (int)len, word);
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ps.p += len;
	for (;;) {
		const struct replay_field *f;
		unsigned i;

		while (*ps.p == ' ' || *ps.p == '\t' || *ps.p == '\r' || *ps.p == '\n')
			ps.p++;
		if (!*ps.p)
			break;
		word = ps.p;
		len = strcspn(word, "= \t\r\n");
		if (word[len] != '=')
			return perr(&ps, word, "expected field=value");
		for (i = 0, f = d->fields; f->kind != REPLAY_F_NONE; f++, i++)
			if (strlen(f->name) == len && memcmp(f->name, word, len) == 0)
				break;
		if (f->kind == REPLAY_F_NONE)
			return perr(&ps, word, "%s has no field \"%.*s\"", d->name, (int)len, word);
		if (seen & (1u << i))
			return perr(&ps, word, "field %s given twice", f->name);
		seen |= 1u << i;
		ps.p += len + 1;
		if ((err = parse_field(&ps, f, ev, s)))
			return err;
		if (!at_sep(*ps.p))
			return perr(&ps, ps.p, "%s: unexpected \"%c\" after the value", f->name, *ps.p);
	}
	for (unsigned i = 0; d->fields[i].kind != REPLAY_F_NONE; i++)
		if (!(seen & (1u << i)))
			return perr(&ps, ps.p, "%s: missing field %s", d->name, d->fields[i].name);
	if ((err = replay_event_validate(ev, msg, msglen)))
		return err;
	return 0;
}
