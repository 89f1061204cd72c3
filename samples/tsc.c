/*
 * tsc.c - a guest that does what replay cannot follow: it reads the time
 * stamp counter (RDTSC cannot be intercepted under KVM) and lets the value
 * steer it, spinning until the TSC has advanced by a fixed amount and
 * printing how many spins that took. Recording works; replaying it must
 * stop with a divergence (status 3), never succeed silently. Tests use it
 * to prove that.
 */
#include "kernel.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t t0;
	unsigned spins = 0, i;

	(void)magic, (void)info;
	kernel_init();
	for (i = 0; i < 4; i++) {
		t0 = rdtsc();
		while (rdtsc() - t0 < 200000)
			spins++;
		kprintf("tsc: round %u, %u spins so far\n", i, spins);
	}
	kexit(spins & 0x7f);
}
