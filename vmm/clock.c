/*
 * clock.c — the host's clocks, read in exactly one place.
 *
 * Devices get time through the machine's struct vmm_clock; by default it is
 * this function. The recorder wraps it (logging each value) and the
 * replayer replaces it (returning the logged values), so no other code in
 * rrvm may read host time on the guest's behalf.
 */
#include <time.h>

#include "vmm/vmm.h"

uint64_t vmm_clock_host(void *ctx, enum vmm_clock_kind kind)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(kind == VMM_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
