/*
 * tlpolicy.c — which checkpoint the timeline gives up when it holds more
 * than --checkpoint-memory (timeline.c), after rr's ReplayTimeline: keep
 * them dense near where the user is and thinner with distance, so that a
 * recording of length L keeps O(log L) of them for a given spacing ratio.
 *
 * Checkpoint i covers the gap between its neighbours (prev, next); giving
 * it up makes the replay from prev to anything in that gap longer by at
 * most the gap. What that costs the user is relative to how far away the
 * user is: a gap of 1000 exits 100000 exits from here is as cheap as a gap
 * of 10 next to here. So the victim is the checkpoint with the smallest
 * gap / (distance + 1). Evicting by that ratio keeps the ratio about equal
 * for every checkpoint that is left: gaps grow in proportion to distance
 * (a geometric spacing), hence the logarithm. Ties go to the oldest. A
 * duplicate (two checkpoints at one exit count) has a gap of the other one
 * and goes first. No KVM here: tests/unit/tlpolicy_test.c.
 */
#include "debug/internal.h"

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

long debug_tl_victim(const uint64_t *exits, const bool *keep, size_t n, uint64_t here)
{
	long best = -1;
	uint64_t bgap = 0, bdist = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t prev, next, gap, d;

		if (keep[i])
			continue;
		prev = i ? exits[i - 1] : 0;
		next = i + 1 < n ? exits[i + 1] : (here > exits[i] ? here : exits[i]);
		gap = next - prev;
		d = dist(exits[i], here) + 1;
		/* gap / d < bgap / bdist, without division */
		if (best < 0 || (unsigned __int128)gap * bdist < (unsigned __int128)bgap * d) {
			best = (long)i;
			bgap = gap;
			bdist = d;
		}
	}
	return best;
}
