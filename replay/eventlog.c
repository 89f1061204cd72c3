/*
 * eventlog.c — the event types and their byte encoding.
 *
 * One table row per event type lists its fields; the validator, encoder and
 * decoder below (and the text form in eventtext.c) walk that table, so a new
 * type needs no new code here unless it brings a new kind of field. The
 * decoder works on a buffer that may end anywhere: it says MORE when the
 * buffer ends inside an event and commits nothing until the event is whole,
 * which is what lets the reader stream the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "replay/eventlog_codec.h"

#define FLD(k, n, member) { REPLAY_F_##k, n, offsetof(struct replay_event, member), 0 }
#define FLD2(k, n, member, aux) \
	{ REPLAY_F_##k, n, offsetof(struct replay_event, member), offsetof(struct replay_event, aux) }

static const struct replay_event_desc event_descs[] = {
	[REPLAY_EV_CLOCK] = { "clock", {
		FLD(CLOCK_KIND, "kind", clock.kind),
		FLD2(CLOCK_VALUE, "value", clock.value, clock.kind) } },
	[REPLAY_EV_SERIAL_IN] = { "serial_in", {
		FLD2(BYTES, "data", serial_in.data, serial_in.len) } },
	[REPLAY_EV_POLL_SYNC] = { "poll_sync", {
		FLD(EXITS, "exits", poll_sync.exits) } },
	[REPLAY_EV_POLL_ASYNC] = { "poll_async", {
		FLD(EXITS, "exits", poll_async.exits),
		FLD(HEX, "rip", poll_async.rip),
		FLD(HEX, "regs", poll_async.regs_hash),
		FLD(HEX, "mem", poll_async.mem_hash),
		FLD2(PAGES, "pages", poll_async.pages, poll_async.npages) } },
	[REPLAY_EV_INJECT] = { "inject", {
		FLD(EXITS, "exits", inject.exits),
		FLD(U8, "vector", inject.vector) } },
	[REPLAY_EV_CHECKSUM] = { "checksum", {
		FLD(EXITS, "exits", checksum.exits),
		FLD(HEX, "sum", checksum.sum) } },
	[REPLAY_EV_END] = { "end", {
		FLD(EXITS, "exits", end.exits),
		FLD(U8, "reason", end.reason),
		FLD(U32, "status", end.status),
		FLD(HEX, "state", end.state_hash) } },
	[REPLAY_EV_POLL_REGS] = { "poll_regs", {
		FLD(HEX, "rax", poll_regs.gpr[0]),
		FLD(HEX, "rbx", poll_regs.gpr[1]),
		FLD(HEX, "rcx", poll_regs.gpr[2]),
		FLD(HEX, "rdx", poll_regs.gpr[3]),
		FLD(HEX, "rsi", poll_regs.gpr[4]),
		FLD(HEX, "rdi", poll_regs.gpr[5]),
		FLD(HEX, "rbp", poll_regs.gpr[6]),
		FLD(HEX, "rsp", poll_regs.gpr[7]),
		FLD(HEX, "r8", poll_regs.gpr[8]),
		FLD(HEX, "r9", poll_regs.gpr[9]),
		FLD(HEX, "r10", poll_regs.gpr[10]),
		FLD(HEX, "r11", poll_regs.gpr[11]),
		FLD(HEX, "r12", poll_regs.gpr[12]),
		FLD(HEX, "r13", poll_regs.gpr[13]),
		FLD(HEX, "r14", poll_regs.gpr[14]),
		FLD(HEX, "r15", poll_regs.gpr[15]) } },
};

#define N_DESCS (sizeof(event_descs) / sizeof(event_descs[0]))

/* The header's names and the table's must agree; the X-macro is the source. */
#define CHECK_NAME_(name, code, text) \
	_Static_assert(code > 0 && code < N_DESCS, "event type " text " has no table row");
REPLAY_EVENT_TYPES(CHECK_NAME_)
#undef CHECK_NAME_

const struct replay_event_desc *replay_event_desc(unsigned type)
{
	if (type >= N_DESCS || !event_descs[type].name)
		return NULL;
	return &event_descs[type];
}

const char *replay_event_type_name(unsigned type)
{
	switch (type) {
#define NAME_(name, code, text) case code: return text;
	REPLAY_EVENT_TYPES(NAME_)
#undef NAME_
	}
	return NULL;
}

unsigned replay_event_type_from_name(const char *name, size_t len)
{
#define FROM_(nm, code, text) \
	if (len == sizeof(text) - 1 && memcmp(name, text, len) == 0) return code;
	REPLAY_EVENT_TYPES(FROM_)
#undef FROM_
	return 0;
}

const char *replay_log_status_name(enum replay_log_status st)
{
	switch (st) {
#define NAME_(name, text) case REPLAY_LOG_##name: return text;
	REPLAY_LOG_STATUSES(NAME_)
#undef NAME_
	}
	return "unknown status";
}

#define AT(ev, off, T) ((T *)((char *)(ev) + (off)))
#define CAT(ev, off, T) ((T const *)((const char *)(ev) + (off)))

uint64_t replay_field_get(const struct replay_event *ev, const struct replay_field *f)
{
	switch (f->kind) {
	case REPLAY_F_U8:
	case REPLAY_F_CLOCK_KIND:
		return *CAT(ev, f->off, uint8_t);
	case REPLAY_F_U32:
		return *CAT(ev, f->off, uint32_t);
	case REPLAY_F_EXITS:
	case REPLAY_F_U64:
	case REPLAY_F_HEX:
	case REPLAY_F_CLOCK_VALUE:
		return *CAT(ev, f->off, uint64_t);
	default:
		return 0;
	}
}

void replay_field_set(struct replay_event *ev, const struct replay_field *f, uint64_t v)
{
	switch (f->kind) {
	case REPLAY_F_U8:
	case REPLAY_F_CLOCK_KIND:
		*AT(ev, f->off, uint8_t) = (uint8_t)v;
		break;
	case REPLAY_F_U32:
		*AT(ev, f->off, uint32_t) = (uint32_t)v;
		break;
	case REPLAY_F_EXITS:
	case REPLAY_F_U64:
	case REPLAY_F_HEX:
	case REPLAY_F_CLOCK_VALUE:
		*AT(ev, f->off, uint64_t) = v;
		break;
	default:
		break;
	}
}

uint64_t replay_field_max(const struct replay_field *f)
{
	switch (f->kind) {
	case REPLAY_F_U8:
		return UINT8_MAX;
	case REPLAY_F_CLOCK_KIND:
		return REPLAY_CLOCK_REALTIME;
	case REPLAY_F_U32:
		return UINT32_MAX;
	default:
		return UINT64_MAX;
	}
}

static int fail(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int replay_event_validate(const struct replay_event *ev, char *msg, size_t msglen)
{
	const struct replay_event_desc *d = replay_event_desc(ev->type);
	const struct replay_field *f;

	if (!d)
		return fail(msg, msglen, "unknown event type %u", (unsigned)ev->type);
	for (f = d->fields; f->kind != REPLAY_F_NONE; f++) {
		if (f->kind == REPLAY_F_CLOCK_KIND && replay_field_get(ev, f) > REPLAY_CLOCK_REALTIME)
			return fail(msg, msglen, "%s: bad clock kind %u (0 or 1)", d->name,
				    (unsigned)replay_field_get(ev, f));
		if (f->kind == REPLAY_F_BYTES) {
			uint32_t len = *CAT(ev, f->aux_off, uint32_t);

			if (len < 1 || len > REPLAY_SERIAL_IN_MAX)
				return fail(msg, msglen, "%s: %s length %u not in 1..%u", d->name,
					    f->name, len, REPLAY_SERIAL_IN_MAX);
			if (!*CAT(ev, f->off, const uint8_t *))
				return fail(msg, msglen, "%s: %s is NULL", d->name, f->name);
		}
		if (f->kind == REPLAY_F_PAGES) {
			uint32_t n = *CAT(ev, f->aux_off, uint32_t);
			const uint64_t *pg = *CAT(ev, f->off, const uint64_t *);

			if (n > REPLAY_PAGES_MAX)
				return fail(msg, msglen, "%s: %u %s, more than %u", d->name, n,
					    f->name, REPLAY_PAGES_MAX);
			if (n && !pg)
				return fail(msg, msglen, "%s: %s is NULL", d->name, f->name);
			for (uint32_t i = 1; i < n; i++)
				if (pg[i] <= pg[i - 1])
					return fail(msg, msglen,
						    "%s: %s not strictly ascending at index %u (%llu after %llu)",
						    d->name, f->name, i, (unsigned long long)pg[i],
						    (unsigned long long)pg[i - 1]);
		}
	}
	return 0;
}

int replay_codec_check(const struct replay_codec *c, const struct replay_event *ev,
		       char *msg, size_t msglen)
{
	const struct replay_event_desc *d;
	int err = replay_event_validate(ev, msg, msglen);

	if (err)
		return err;
	if (c->ended)
		return fail(msg, msglen, "%s after END: nothing may follow END",
			    replay_event_type_name(ev->type));
	d = replay_event_desc(ev->type);
	for (const struct replay_field *f = d->fields; f->kind != REPLAY_F_NONE; f++)
		if (f->kind == REPLAY_F_EXITS && replay_field_get(ev, f) < c->exits)
			return fail(msg, msglen, "%s: exits %llu is below the previous exits %llu",
				    d->name, (unsigned long long)replay_field_get(ev, f),
				    (unsigned long long)c->exits);
	return 0;
}

int replay_event_equal(const struct replay_event *a, const struct replay_event *b)
{
	const struct replay_event_desc *d = replay_event_desc(a->type);

	if (a->type != b->type || !d)
		return 0;
	for (const struct replay_field *f = d->fields; f->kind != REPLAY_F_NONE; f++) {
		if (f->kind == REPLAY_F_BYTES || f->kind == REPLAY_F_PAGES) {
			uint32_t n = *CAT(a, f->aux_off, uint32_t);
			size_t elem = f->kind == REPLAY_F_BYTES ? 1 : sizeof(uint64_t);
			const void *pa = *CAT(a, f->off, const void *);
			const void *pb = *CAT(b, f->off, const void *);

			if (n != *CAT(b, f->aux_off, uint32_t))
				return 0;
			if (n && (!pa || !pb || memcmp(pa, pb, n * elem) != 0))
				return 0;
		} else if (replay_field_get(a, f) != replay_field_get(b, f)) {
			return 0;
		}
	}
	return 1;
}

/* ---- encoding ----------------------------------------------------------- */

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Clock deltas are signed: a realtime clock may be set back. Subtraction
 * wraps modulo 2^64, so every pair of values has a delta and a round trip. */
static uint64_t zigzag(uint64_t delta)
{
	return (delta << 1) ^ (uint64_t)((int64_t)delta >> 63);
}

static uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

size_t replay_codec_header(uint8_t *out)
{
	memcpy(out, REPLAY_LOG_MAGIC, REPLAY_LOG_MAGIC_LEN);
	return (size_t)(put_varint(out + REPLAY_LOG_MAGIC_LEN, REPLAY_LOG_VERSION) - out);
}

size_t replay_codec_encoded_max(const struct replay_event *ev)
{
	const struct replay_event_desc *d = replay_event_desc(ev->type);
	size_t n = 1;

	if (!d)
		return n;
	for (const struct replay_field *f = d->fields; f->kind != REPLAY_F_NONE; f++) {
		n += 10;
		if (f->kind == REPLAY_F_BYTES)
			n += *CAT(ev, f->aux_off, uint32_t);
		if (f->kind == REPLAY_F_PAGES)
			n += 10 * (size_t)*CAT(ev, f->aux_off, uint32_t);
	}
	return n;
}

size_t replay_codec_encode(struct replay_codec *c, const struct replay_event *ev, uint8_t *out)
{
	const struct replay_event_desc *d = replay_event_desc(ev->type);
	uint8_t *p = out;

	*p++ = (uint8_t)ev->type;
	for (const struct replay_field *f = d->fields; f->kind != REPLAY_F_NONE; f++) {
		uint64_t v = replay_field_get(ev, f);
		uint32_t n;

		switch (f->kind) {
		case REPLAY_F_EXITS:
			p = put_varint(p, v - c->exits);
			c->exits = v;
			break;
		case REPLAY_F_CLOCK_VALUE: {
			uint8_t kind = *CAT(ev, f->aux_off, uint8_t);

			p = put_varint(p, zigzag(v - c->clock[kind]));
			c->clock[kind] = v;
			break;
		}
		case REPLAY_F_BYTES:
			n = *CAT(ev, f->aux_off, uint32_t);
			p = put_varint(p, n);
			memcpy(p, *CAT(ev, f->off, const uint8_t *), n);
			p += n;
			break;
		case REPLAY_F_PAGES: {
			const uint64_t *pg = *CAT(ev, f->off, const uint64_t *);

			n = *CAT(ev, f->aux_off, uint32_t);
			p = put_varint(p, n);
			for (uint32_t i = 0; i < n; i++)
				p = put_varint(p, i ? pg[i] - pg[i - 1] : pg[0]);
			break;
		}
		default:
			p = put_varint(p, v);
			break;
		}
	}
	if (ev->type == REPLAY_EV_END)
		c->ended = 1;
	return (size_t)(p - out);
}

/* ---- decoding ----------------------------------------------------------- */

struct dec {
	const uint8_t *start, *p, *end;
	uint64_t base;          /* decompressed offset of start */
	char *msg;
	size_t msglen;
};

static enum replay_codec_rc bad(struct dec *d, const uint8_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum replay_codec_rc bad(struct dec *d, const uint8_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->msg && d->msglen) {
		n = snprintf(d->msg, d->msglen, "offset %llu: ",
			     (unsigned long long)(d->base + (uint64_t)(at - d->start)));
		if (n >= 0 && (size_t)n < d->msglen) {
			va_start(ap, fmt);
			vsnprintf(d->msg + n, d->msglen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return REPLAY_DEC_BAD;
}

static enum replay_codec_rc get_varint(struct dec *d, const char *what, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned i = 0;; i++) {
		uint8_t b;

		if (d->p + i >= d->end)
			return REPLAY_DEC_MORE;
		b = d->p[i];
		if (i == 9 && (b & 0x80))
			return bad(d, d->p, "%s: varint longer than 10 bytes", what);
		if (i == 9 && b > 1)
			return bad(d, d->p, "%s: varint overflows 64 bits", what);
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			/* One encoding per value: a trailing zero group is damage. */
			if (b == 0 && i > 0)
				return bad(d, d->p, "%s: non-minimal varint", what);
			d->p += i + 1;
			*v = x;
			return REPLAY_DEC_OK;
		}
	}
}

enum replay_codec_rc replay_codec_decode_header(const uint8_t *p, size_t n, uint64_t base,
						size_t *used, char *msg, size_t msglen)
{
	struct dec d = { p, p, p + n, base, msg, msglen };
	size_t have = n < REPLAY_LOG_MAGIC_LEN ? n : REPLAY_LOG_MAGIC_LEN;
	enum replay_codec_rc rc;
	uint64_t version;

	if (memcmp(p, REPLAY_LOG_MAGIC, have) != 0) {
		char shown[4 * REPLAY_LOG_MAGIC_LEN + 1], *s = shown;

		for (size_t i = 0; i < have; i++)
			s += snprintf(s, 5, (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') ?
				      "%c" : "\\x%02x", p[i]);
		*s = 0;
		return bad(&d, p, "bad magic \"%s\", expected \"RRVMEVT\\n\": not an rrvm event log",
			   shown);
	}
	if (n < REPLAY_LOG_MAGIC_LEN)
		return REPLAY_DEC_MORE;
	d.p += REPLAY_LOG_MAGIC_LEN;
	rc = get_varint(&d, "format version", &version);
	if (rc != REPLAY_DEC_OK)
		return rc;
	if (version < REPLAY_LOG_VERSION_MIN || version > REPLAY_LOG_VERSION)
		return bad(&d, p + REPLAY_LOG_MAGIC_LEN,
			   "event log format version %llu; this rrvm reads versions %u to %u",
			   (unsigned long long)version, REPLAY_LOG_VERSION_MIN, REPLAY_LOG_VERSION);
	*used = (size_t)(d.p - p);
	return REPLAY_DEC_OK;
}

static enum replay_codec_rc decode_pages(struct dec *d, const struct replay_field *f,
					 struct replay_event *ev, struct replay_decode_scratch *s)
{
	const uint8_t *at = d->p;
	enum replay_codec_rc rc;
	uint64_t n, v, prev = 0;

	if ((rc = get_varint(d, f->name, &n)) != REPLAY_DEC_OK)
		return rc;
	if (n > REPLAY_PAGES_MAX)
		return bad(d, at, "%llu %s, more than %u", (unsigned long long)n, f->name,
			   REPLAY_PAGES_MAX);
	if (n > s->cap) {
		uint64_t *np = realloc(s->pages, n * sizeof(*np));

		if (!np)
			return REPLAY_DEC_NOMEM;
		s->pages = np;
		s->cap = n;
	}
	for (uint64_t i = 0; i < n; i++) {
		at = d->p;
		if ((rc = get_varint(d, f->name, &v)) != REPLAY_DEC_OK)
			return rc;
		if (i > 0) {
			if (v == 0)
				return bad(d, at, "%s not strictly ascending: delta 0 at index %llu",
					   f->name, (unsigned long long)i);
			if (v > UINT64_MAX - prev)
				return bad(d, at, "%s overflow 64 bits at index %llu", f->name,
					   (unsigned long long)i);
			v += prev;
		}
		s->pages[i] = prev = v;
	}
	*AT(ev, f->aux_off, uint32_t) = (uint32_t)n;
	*AT(ev, f->off, const uint64_t *) = n ? s->pages : NULL;
	return REPLAY_DEC_OK;
}

enum replay_codec_rc replay_codec_decode(struct replay_codec *c, const uint8_t *p, size_t n,
					 uint64_t base, struct replay_event *ev,
					 struct replay_decode_scratch *s, size_t *used,
					 char *msg, size_t msglen)
{
	struct dec d = { p, p, p + n, base, msg, msglen };
	struct replay_codec next = *c;
	const struct replay_event_desc *desc;
	enum replay_codec_rc rc;
	uint64_t v;

	if (c->ended)
		return bad(&d, p, "data after the END event (type byte 0x%02x)", p[0]);
	desc = replay_event_desc(p[0]);
	if (!desc)
		return bad(&d, p, "unknown event type 0x%02x", p[0]);
	memset(ev, 0, sizeof(*ev));
	ev->type = p[0];
	d.p++;
	for (const struct replay_field *f = desc->fields; f->kind != REPLAY_F_NONE; f++) {
		const uint8_t *at = d.p;

		if (f->kind == REPLAY_F_PAGES) {
			if ((rc = decode_pages(&d, f, ev, s)) != REPLAY_DEC_OK)
				return rc;
			continue;
		}
		if ((rc = get_varint(&d, f->name, &v)) != REPLAY_DEC_OK)
			return rc;
		switch (f->kind) {
		case REPLAY_F_EXITS:
			if (v > UINT64_MAX - next.exits)
				return bad(&d, at, "%s: exits decrease (delta %llu wraps past "
					   "2^64 from %llu)", desc->name, (unsigned long long)v,
					   (unsigned long long)next.exits);
			next.exits += v;
			replay_field_set(ev, f, next.exits);
			break;
		case REPLAY_F_CLOCK_VALUE: {
			uint8_t kind = *CAT(ev, f->aux_off, uint8_t);

			next.clock[kind] += unzigzag(v);
			replay_field_set(ev, f, next.clock[kind]);
			break;
		}
		case REPLAY_F_BYTES:
			if (v < 1 || v > REPLAY_SERIAL_IN_MAX)
				return bad(&d, at, "%s: %s length %llu not in 1..%u", desc->name,
					   f->name, (unsigned long long)v, REPLAY_SERIAL_IN_MAX);
			if ((size_t)(d.end - d.p) < v)
				return REPLAY_DEC_MORE;
			*AT(ev, f->aux_off, uint32_t) = (uint32_t)v;
			*AT(ev, f->off, const uint8_t *) = d.p;
			d.p += v;
			break;
		default:
			if (v > replay_field_max(f))
				return bad(&d, at, "%s: %s %llu out of range (max %llu)", desc->name,
					   f->name, (unsigned long long)v,
					   (unsigned long long)replay_field_max(f));
			replay_field_set(ev, f, v);
			break;
		}
	}
	if (ev->type == REPLAY_EV_END)
		next.ended = 1;
	*c = next;
	*used = (size_t)(d.p - p);
	return REPLAY_DEC_OK;
}
