/*
 * replaystate.c — saving and restoring the replayer's state, the replay's
 * half of a checkpoint (the machine's snapshot is the other half).
 *
 * What is saved is what decides the replayer's future: where the next
 * unconsumed event starts in the log (the lookahead queue is a cache of
 * the log and is simply read again), the decoder's running values there,
 * the running checksum, the last clock values, the state of a fingerprint
 * search, whether the next entry may inject, the vector KVM may still hold,
 * and the bitmap of pages written since the last poll (the memory part of
 * the next fingerprint). The layout is a fixed header and the bitmap,
 * copied as bytes: the state is only meaningful to the same rrvm build
 * replaying the same recording, and the header's magic and sizes catch
 * bytes that are not such a state.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "replay/internal.h"

#define STATE_MAGIC "RRVMRST1"

struct saved_state {
	char magic[8];
	uint64_t size;                  /* of the whole state, bitmap included */
	uint64_t dirty_words;
	struct replay_log_pos log;
	uint64_t events, checksum, last_clock[2];
	uint64_t search_rip, search_hits;
	int32_t queued_vector;
	uint8_t searching, stepping_over, may_inject;
};

size_t replay_state_size(const struct replay *r)
{
	return sizeof(struct saved_state) + r->dirty_words * sizeof(uint64_t);
}

int replay_state_save(struct replay *r, void *buf, size_t len, struct vmm_error *err)
{
	struct saved_state s;
	int rc;

	if (len < replay_state_size(r)) {
		vmm_error_set(err, "replay state: %zu bytes given, %zu needed", len,
			      replay_state_size(r));
		return -ENOSPC;
	}
	/* The bitmap must hold every page written so far, not only those
	 * the last collection saw. */
	rc = r->mops->dirty_collect(r->mctx, r->dirty);
	if (rc) {
		vmm_error_set(err, "replay state: reading the dirty log: %s", strerror(-rc));
		return rc;
	}
	memset(&s, 0, sizeof(s));
	memcpy(s.magic, STATE_MAGIC, sizeof(s.magic));
	s.size = replay_state_size(r);
	s.dirty_words = r->dirty_words;
	replay_q_position(r, &s.log);
	s.events = r->events;
	s.checksum = r->checksum;
	s.last_clock[0] = r->last_clock[0];
	s.last_clock[1] = r->last_clock[1];
	s.search_rip = r->search_rip;
	s.search_hits = r->search_hits;
	s.queued_vector = r->queued_vector;
	s.searching = r->searching;
	s.stepping_over = r->stepping_over;
	s.may_inject = r->may_inject;
	memcpy(buf, &s, sizeof(s));
	memcpy((uint8_t *)buf + sizeof(s), r->dirty, r->dirty_words * sizeof(uint64_t));
	return 0;
}

int replay_state_restore(struct replay *r, const void *buf, size_t len, struct vmm_error *err)
{
	struct saved_state s;
	int rc;

	if (len < sizeof(s)) {
		vmm_error_set(err, "replay state: %zu bytes, too short to be one", len);
		return -EINVAL;
	}
	memcpy(&s, buf, sizeof(s));
	if (memcmp(s.magic, STATE_MAGIC, sizeof(s.magic)) != 0 || s.size != len ||
	    s.dirty_words != r->dirty_words || len != replay_state_size(r)) {
		vmm_error_set(err, "replay state: not a state of this replay (%zu bytes, magic "
			      "'%.8s', %llu bitmap words; this replay has %zu)", len, s.magic,
			      (unsigned long long)s.dirty_words, r->dirty_words);
		return -EINVAL;
	}
	rc = replay_q_seek(r, &s.log);
	if (rc) {
		vmm_error_set(err, "replay state: the log has no event %llu at offset %llu: %s",
			      (unsigned long long)s.log.events, (unsigned long long)s.log.d_off,
			      replay_log_reader_error(r->log)[0] ? replay_log_reader_error(r->log)
								 : strerror(-rc));
		return rc;
	}
	/* What the machine wrote after the state was saved is not written in
	 * the restored timeline: drain the dirty log, then take the saved bits. */
	(void)r->mops->dirty_collect(r->mctx, r->dirty);
	memcpy(r->dirty, (const uint8_t *)buf + sizeof(s), r->dirty_words * sizeof(uint64_t));
	r->events = s.events;
	r->checksum = s.checksum;
	r->last_clock[0] = s.last_clock[0];
	r->last_clock[1] = s.last_clock[1];
	r->search_rip = s.search_rip;
	r->search_hits = s.search_hits;
	r->queued_vector = s.queued_vector;
	r->searching = s.searching;
	r->stepping_over = s.stepping_over;
	r->may_inject = s.may_inject;
	/* The machine's debug registers are whatever its snapshot holds. */
	r->applied_valid = false;
	r->stopped = false;
	return 0;
}
