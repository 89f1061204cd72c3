/*
 * lookahead.c — the replayer's queue of events read ahead of the one it is
 * consuming.
 *
 * The replayer must sometimes see past the next event: an INJECT followed
 * by a POLL_ASYNC at the same exit count means the recorder was kicked
 * right after injecting, and the search for that point has to be armed
 * before the entry that injects. The reader reuses its storage for the
 * variable-length parts of an event, so each queued event owns a copy.
 *
 * POLL_REGS events (log version 2) are folded into the POLL_ASYNC they
 * precede (struct replay_lookahead's gpr), so the rest of the replayer
 * sees the same stream of events as from a version 1 log.
 *
 * The queue is only a cache of the log: each entry remembers the log
 * position where its event starts, so the replayer's saved state names
 * the first unconsumed event's position and a restore simply empties the
 * queue and seeks the reader there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay/internal.h"

int replay_q_init(struct replay *r)
{
	for (unsigned i = 0; i < REPLAY_LOOKAHEAD; i++) {
		r->q[i].pages = calloc(REPLAY_PAGES_MAX, sizeof(uint64_t));
		if (!r->q[i].pages)
			return -ENOMEM;
	}
	return 0;
}

void replay_q_free(struct replay *r)
{
	for (unsigned i = 0; i < REPLAY_LOOKAHEAD; i++) {
		free(r->q[i].pages);
		r->q[i].pages = NULL;
	}
}

static struct replay_lookahead *slot_at(struct replay *r, unsigned i)
{
	return &r->q[(r->qhead + i) % REPLAY_LOOKAHEAD];
}

/* Make the i-th next event valid (reading the log as needed); a final
 * status repeats. */
static struct replay_lookahead *fill(struct replay *r, unsigned i)
{
	while (r->qn <= i) {
		struct replay_lookahead *slot = slot_at(r, r->qn);
		struct replay_event *ev = &slot->ev;

		if (r->qn > 0 && slot_at(r, r->qn - 1)->status != REPLAY_LOG_EVENT) {
			slot->status = slot_at(r, r->qn - 1)->status;
			slot->pos = slot_at(r, r->qn - 1)->pos;
			r->qn++;
			continue;
		}
		replay_log_reader_tell(r->log, &slot->pos);
		slot->status = replay_log_next(r->log, ev);
		/* POLL_REGS is a hint for the POLL_ASYNC after it, never an
		 * event of its own to the replayer: keep its registers with
		 * that event. A stray one (not followed by POLL_ASYNC) is
		 * dropped: a hint decides nothing. */
		slot->has_regs = false;
		slot->extra = 0;
		while (slot->status == REPLAY_LOG_EVENT && ev->type == REPLAY_EV_POLL_REGS) {
			memcpy(slot->gpr, ev->poll_regs.gpr, sizeof(slot->gpr));
			slot->status = replay_log_next(r->log, ev);
			slot->has_regs = slot->status == REPLAY_LOG_EVENT &&
					 ev->type == REPLAY_EV_POLL_ASYNC;
			slot->extra++;
		}
		/* Own the variable-length parts: the reader reuses them. */
		if (slot->status == REPLAY_LOG_EVENT && ev->type == REPLAY_EV_SERIAL_IN) {
			memcpy(slot->bytes, ev->serial_in.data, ev->serial_in.len);
			ev->serial_in.data = slot->bytes;
		} else if (slot->status == REPLAY_LOG_EVENT && ev->type == REPLAY_EV_POLL_ASYNC) {
			if (ev->poll_async.npages)
				memcpy(slot->pages, ev->poll_async.pages,
				       ev->poll_async.npages * sizeof(uint64_t));
			ev->poll_async.pages = slot->pages;
		}
		r->qn++;
	}
	return slot_at(r, i);
}

const struct replay_event *replay_q_peek_at(struct replay *r, unsigned i)
{
	struct replay_lookahead *slot;

	/* Further would wrap the ring onto the events before it (a peek 4
	 * ahead made a race.elf replay diverge at exit 146). */
	REPLAY_CHECK(r, i < REPLAY_LOOKAHEAD, "a peek %u events ahead, past the queue's %d", i,
		     REPLAY_LOOKAHEAD);
	slot = fill(r, i);

	if (i == 0)
		r->next_status = slot->status;
	return slot->status == REPLAY_LOG_EVENT ? &slot->ev : NULL;
}

const struct replay_event *replay_q_peek(struct replay *r)
{
	return replay_q_peek_at(r, 0);
}

const uint64_t *replay_q_regs(struct replay *r)
{
	struct replay_lookahead *slot = fill(r, 0);

	return slot->status == REPLAY_LOG_EVENT && slot->has_regs ? slot->gpr : NULL;
}

void replay_q_consume(struct replay *r)
{
	struct replay_lookahead *first = fill(r, 0);

	if (r->observer.on_log && first->status == REPLAY_LOG_EVENT && first->has_regs) {
		/* The observer (the trace database) sees every logged event,
		 * the folded POLL_REGS too, in log order. */
		struct replay_event hint = { .type = REPLAY_EV_POLL_REGS };

		memcpy(hint.poll_regs.gpr, first->gpr, sizeof(first->gpr));
		r->observer.on_log(r->observer.ctx, &hint, r->mops->exits(r->mctx));
	}
	if (r->observer.on_log && first->status == REPLAY_LOG_EVENT)
		r->observer.on_log(r->observer.ctx, &first->ev, r->mops->exits(r->mctx));
	r->qhead = (r->qhead + 1) % REPLAY_LOOKAHEAD;
	r->qn--;
	r->events += 1 + first->extra;
}

void replay_q_describe_next(struct replay *r, char *buf, size_t len)
{
	const struct replay_event *e = replay_q_peek(r);

	if (e)
		replay_event_format(buf, len, e);
	else
		snprintf(buf, len, "%s", replay_log_status_name(r->next_status));
}

void replay_q_position(struct replay *r, struct replay_log_pos *pos)
{
	if (r->qn > 0)
		*pos = slot_at(r, 0)->pos;
	else
		replay_log_reader_tell(r->log, pos);
}

int replay_q_seek(struct replay *r, const struct replay_log_pos *pos)
{
	r->qhead = r->qn = 0;
	return replay_log_reader_seek(r->log, pos);
}
