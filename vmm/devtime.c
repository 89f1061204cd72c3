/*
 * devtime.c — time for the timer devices (PIT, RTC, and any device that
 * counts a clock): the clock read at most once per access, and exact
 * conversions between nanoseconds and ticks of a device's input clock.
 *
 * The conversions use 128-bit products, so they are exact for any 64-bit
 * interval; a tick count is always rounded down (ticks elapsed) and a time
 * always up (the first nanosecond by which they have), so that a deadline
 * computed from a tick and the tick computed back from it agree.
 */
#include "vmm/devices.h"

uint64_t vmm_dev_clock_now(struct vmm_dev_clock *clk)
{
	if (!clk->have) {
		clk->ns = clk->bus->clock_ns(clk->bus->ctx, VMM_CLOCK_MONOTONIC);
		clk->have = 1;
	}
	return clk->ns;
}

uint64_t vmm_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / VMM_NS_PER_S);
}

uint64_t vmm_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	unsigned __int128 ns = ((unsigned __int128)ticks * VMM_NS_PER_S + hz - 1) / hz;

	return ns >= UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

int64_t vmm_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
