/*
 * replaystate.c — the replayer's saved state on a real recording and KVM.
 *
 *   replaystate DIR EXITS...
 *
 * For each exit count N: two replays of DIR run to N and save their
 * replayer state (replay_state_save); the states must be byte for byte
 * equal. Then the first one runs on to the end, and the second one is
 * given the first one's state (replay_state_restore: the log reader seeks
 * to the saved position, the lookahead is read again) and runs on to the
 * end too: both must end as the recording did, with the same final state
 * hash and the same number of events. The machine is not snapshotted here
 * (vmm's snapshots do that): both machines are at N because both replays
 * got there the same way, which is what a checkpoint restore reproduces.
 *
 * Prints one line per exit count; exit status 0 when all agree, 1 when
 * one does not, 2 for a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/replay.h"

static void discard(void *ctx, enum vmm_output_stream s, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)s, (void)buf, (void)len;
}

/* A replay of dir stopped at exit n, and its state. */
static struct replay *replay_to(const char *dir, uint64_t n, uint8_t **state, size_t *len)
{
	struct replay_options o = { .output = { discard, NULL } };
	struct vmm_error err = { "" };
	struct replay_result res;
	struct replay *r;

	if (replay_open(dir, &o, &r, &err)) {
		fprintf(stderr, "replaystate: %s\n", err.msg);
		return NULL;
	}
	replay_stop_at(r, n);
	if (replay_run(r, &res) || res.stop != REPLAY_STOP_POSITION) {
		fprintf(stderr, "replaystate: %s: did not stop at exit %" PRIu64 ": %s\n", dir, n,
			res.msg);
		goto fail;
	}
	*len = replay_state_size(r);
	*state = malloc(*len);
	if (!*state || replay_state_save(r, *state, *len, &err)) {
		fprintf(stderr, "replaystate: save: %s\n", err.msg);
		free(*state);
		goto fail;
	}
	return r;
fail:
	replay_close(r);
	return NULL;
}

static int check_at(const char *dir, uint64_t n)
{
	uint8_t *sa = NULL, *sb = NULL;
	size_t la = 0, lb = 0;
	struct replay *a = replay_to(dir, n, &sa, &la), *b = a ? replay_to(dir, n, &sb, &lb) : NULL;
	struct replay_result ra, rb;
	struct vmm_error err = { "" };
	int good = 0;

	if (!a || !b)
		goto out;
	if (la != lb || memcmp(sa, sb, la) != 0) {
		printf("exit %" PRIu64 ": the two saved states differ (%zu / %zu bytes)\n", n, la, lb);
		goto out;
	}
	if (replay_run(a, &ra) || replay_state_restore(b, sa, la, &err) || replay_run(b, &rb)) {
		printf("exit %" PRIu64 ": %s\n", n, err.msg[0] ? err.msg : "replay failed");
		goto out;
	}
	good = ra.stop == REPLAY_STOP_END && rb.stop == REPLAY_STOP_END &&
	       ra.state_hash == rb.state_hash && ra.events == rb.events && ra.exits == rb.exits;
	printf("exit %" PRIu64 ": saved states equal (%zu bytes); on from the restored state: %s, "
	       "%" PRIu64 " events, state 0x%016" PRIx64 "; uninterrupted: %s, %" PRIu64 " events, "
	       "state 0x%016" PRIx64 "%s\n", n, la, replay_stop_name(rb.stop), rb.events,
	       rb.state_hash, replay_stop_name(ra.stop), ra.events, ra.state_hash,
	       good ? "" : " MISMATCH");
out:
	replay_close(a);
	replay_close(b);
	free(sa);
	free(sb);
	return good;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: replaystate DIR EXITS...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		bad += !check_at(argv[1], strtoull(argv[i], NULL, 0));
	return bad ? 1 : 0;
}
