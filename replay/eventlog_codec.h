/*
 * eventlog_codec.h — private to the event log: the table that describes each
 * event type's fields, and the byte-level encoder and decoder of the
 * decompressed stream (replay/FORMAT.md). eventlog.c implements it; the
 * writer, the reader and the text form (logwriter.c, logreader.c,
 * eventtext.c) are its only users.
 */
#ifndef RRVM_REPLAY_EVENTLOG_CODEC_H
#define RRVM_REPLAY_EVENTLOG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "replay/eventlog.h"

enum replay_field_kind {
	REPLAY_F_NONE,          /* ends a field list */
	REPLAY_F_EXITS,         /* u64, delta against the previous exits      */
	REPLAY_F_U64,           /* u64, printed in decimal                    */
	REPLAY_F_HEX,           /* u64, printed in hex                        */
	REPLAY_F_U32,
	REPLAY_F_U8,
	REPLAY_F_CLOCK_KIND,    /* u8, 0 or 1                                 */
	REPLAY_F_CLOCK_VALUE,   /* u64, zigzag delta against the same kind's previous value;
	                           aux_off is the clock kind field */
	REPLAY_F_BYTES,         /* const uint8_t *; aux_off is the uint32_t length */
	REPLAY_F_PAGES,         /* const uint64_t *; aux_off is the uint32_t count */
};

struct replay_field {
	enum replay_field_kind kind;
	const char *name;       /* in the text form */
	size_t off;             /* offsetof(struct replay_event, ...) */
	size_t aux_off;
};

#define REPLAY_FIELDS_MAX 17     /* POLL_REGS: 16 and the end of the list */

struct replay_event_desc {
	const char *name;       /* NULL: no such type */
	struct replay_field fields[REPLAY_FIELDS_MAX];
};

/* The description of type, or NULL if there is no such type. */
const struct replay_event_desc *replay_event_desc(unsigned type);

/* Scalar fields (not BYTES/PAGES), read and written at their own width. */
uint64_t replay_field_get(const struct replay_event *ev, const struct replay_field *f);
void replay_field_set(struct replay_event *ev, const struct replay_field *f, uint64_t v);
/* The largest value a scalar field can hold. */
uint64_t replay_field_max(const struct replay_field *f);

/* What the encoder and decoder carry from one event to the next. Zero it at
 * the start of a stream. */
struct replay_codec {
	uint64_t exits;
	uint64_t clock[2];
	int ended;              /* END seen: nothing may follow */
};

/* Upper bound of any header or encoded event. */
#define REPLAY_HEADER_MAX (REPLAY_LOG_MAGIC_LEN + 10)
#define REPLAY_EVENT_MAX_ENCODED \
	(1 + 5 * 10 + 10 + (size_t)REPLAY_PAGES_MAX * 10)

size_t replay_codec_header(uint8_t *out);

/* replay_event_validate plus the stream rules: exits not below the previous
 * exits, nothing after END. 0 or -EINVAL with msg. */
int replay_codec_check(const struct replay_codec *c, const struct replay_event *ev,
		       char *msg, size_t msglen) REPLAY_WUR;

/* Bytes replay_codec_encode may write for ev. */
size_t replay_codec_encoded_max(const struct replay_event *ev);

/* Encode a checked event into out, update c, return the length. */
size_t replay_codec_encode(struct replay_codec *c, const struct replay_event *ev, uint8_t *out);

enum replay_codec_rc {
	REPLAY_DEC_OK,
	REPLAY_DEC_MORE,        /* the buffer ends inside the header or event */
	REPLAY_DEC_BAD,         /* msg says what and at which offset */
	REPLAY_DEC_NOMEM,
};

/* Pages of the last decoded POLL_ASYNC; owned by the decoder's user. */
struct replay_decode_scratch {
	uint64_t *pages;
	size_t cap;
};

/*
 * Decode the stream header from p[0..n). base is the decompressed offset of
 * p[0] for messages. On OK, *used is its length.
 */
enum replay_codec_rc replay_codec_decode_header(const uint8_t *p, size_t n, uint64_t base,
						size_t *used, char *msg, size_t msglen);

/*
 * Decode one event from p[0..n) (n > 0). On OK, *ev is filled (bytes point
 * into p, pages into s), *used is its length and c is updated; otherwise c is
 * unchanged.
 */
enum replay_codec_rc replay_codec_decode(struct replay_codec *c, const uint8_t *p, size_t n,
					 uint64_t base, struct replay_event *ev,
					 struct replay_decode_scratch *s, size_t *used,
					 char *msg, size_t msglen);

#endif
