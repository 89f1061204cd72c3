/*
 * position.c — positions in a recording, written and read one way
 * everywhere (replay.h, "positions"): the debugger's monitor commands,
 * `rrvm replay --goto`, pt-diff, the replay's divergence messages, and
 * the trace database's `pos` column (its numeric `position` is the E).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

const char *replay_pos_format(struct replay_pos p, char buf[REPLAY_POS_STRLEN])
{
	if (p.steps)
		snprintf(buf, REPLAY_POS_STRLEN, "%" PRIu64 "+%" PRIu64, p.exits, p.steps);
	else
		snprintf(buf, REPLAY_POS_STRLEN, "%" PRIu64, p.exits);
	return buf;
}

/* A decimal number of at most 20 digits that fits 64 bits. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	char tmp[24], *end;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	errno = 0;
	*out = strtoull(tmp, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int replay_pos_parse(const char *s, struct replay_pos *p)
{
	const char *plus = strchr(s, '+');
	size_t elen = plus ? (size_t)(plus - s) : strlen(s);

	p->steps = 0;
	if (parse_u64(s, elen, &p->exits))
		return -EINVAL;
	if (plus && parse_u64(plus + 1, strlen(plus + 1), &p->steps))
		return -EINVAL;
	return 0;
}

int replay_pos_cmp(struct replay_pos a, struct replay_pos b)
{
	if (a.exits != b.exits)
		return a.exits < b.exits ? -1 : 1;
	if (a.steps != b.steps)
		return a.steps < b.steps ? -1 : 1;
	return 0;
}
