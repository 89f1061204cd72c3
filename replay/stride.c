/*
 * stride.c — how many more hits of the searched rip until the recorded
 * point: the estimator behind the replayer's fast search (fastsearch.c).
 *
 * A loop that runs through the searched rip usually keeps a counter or a
 * pointer in a register that moves by the same step on every pass (i++,
 * p += 8). Seen at consecutive hits of the rip, such a register names its
 * step d (the replayer watches three hits: with two, registers that only
 * seemed to count, and said the point was behind, left race.elf with a
 * third of the estimates); with the value the recording logged at the point
 * (POLL_REGS), (target - now) / d is the number of passes still to go,
 * exactly, for as long as the register really is such a counter. Nothing
 * here decides anything: a wrong estimate costs a rollback, and the full
 * fingerprint still decides every injection. A guest whose registers do
 * not count (a hash or LFSR loop, samples/lfsr.c) simply has no estimate,
 * and the search is the plain one.
 *
 * Pure functions of register arrays, unit-tested in
 * tests/unit/replayer_test.c.
 */
#include <string.h>

#include "replay/internal.h"

void replay_stride_regs(const struct vmm_regs *r, uint64_t gpr[REPLAY_GPRS])
{
	const uint64_t v[REPLAY_GPRS] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp,
					  r->rsp, r->r8, r->r9, r->r10, r->r11, r->r12, r->r13,
					  r->r14, r->r15 };

	memcpy(gpr, v, sizeof(v));
}

bool replay_stride_remaining(const uint64_t now[REPLAY_GPRS], const uint64_t target[REPLAY_GPRS],
			     unsigned reg, int64_t step, int64_t *left)
{
	int64_t diff;

	/* reg comes from replay_stride_learn or the loop cache, never from
	 * the log: a register of the array. */
	VMM_CHECK(NULL, reg < REPLAY_GPRS, "register index %u of %d", reg, REPLAY_GPRS);
	diff = (int64_t)(target[reg] - now[reg]);
	/* A step of -1 and a difference of INT64_MIN would overflow. */
	if (step == 0 || (step == -1 && diff == INT64_MIN) || diff % step != 0)
		return false;
	*left = diff / step;
	return true;
}

bool replay_stride_learn(const uint64_t (*obs)[REPLAY_GPRS], unsigned nobs,
			 const uint64_t target[REPLAY_GPRS], int64_t max, unsigned *reg,
			 int64_t *step, int64_t *left)
{
	const uint64_t *last;
	bool found = false;

	if (nobs < 2)
		return false;
	last = obs[nobs - 1];
	for (unsigned j = 0; j < REPLAY_GPRS; j++) {
		int64_t d = (int64_t)(obs[1][j] - obs[0][j]), n;
		unsigned k;

		if (d == 0)
			continue;
		for (k = 2; k < nobs && (int64_t)(obs[k][j] - obs[k - 1][j]) == d; k++)
			;
		if (k < nobs)
			continue;       /* not a constant step */
		if (!replay_stride_remaining(last, target, j, d, &n) || n > max)
			continue;
		/* A counter that says the point is behind: either the point
		 * is not in this pass of the loop or the register does not
		 * count it. Either way no shortcut is safe to aim. */
		if (n < 0)
			return false;
		/* The nearest estimate is the safe one: aiming short of the
		 * point costs hits, aiming past it a rollback. */
		if (!found || n < *left) {
			*reg = j;
			*step = d;
			*left = n;
			found = true;
		}
	}
	return found;
}
