/*
 * dev_debugexit.c — QEMU's isa-debug-exit device at 0xf4 (iosize 4, ports
 * 0xf4-0xf7): a guest ends the run by writing a value V of any size to any
 * of its ports. The machine turns V into the exit status, (V << 1) | 1 as
 * QEMU does; here we only pass V on, masked to the access size.
 *
 * Reads find nothing there and return all ones, like an unclaimed port.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define DEBUGEXIT_BASE 0xf4
#define DEBUGEXIT_SIZE 4

/* No state of its own; one byte because a device needs some. */
struct debugexit_state {
	uint8_t unused;
};

static uint32_t debugexit_mask(unsigned size)
{
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}

static uint32_t debugexit_pio_in(void *state, const struct vmm_bus *bus, uint16_t port,
				 unsigned size)
{
	return debugexit_mask(size);
}

static void debugexit_pio_out(void *state, const struct vmm_bus *bus, uint16_t port,
			      unsigned size, uint32_t value)
{
	if (port < DEBUGEXIT_BASE || port >= DEBUGEXIT_BASE + DEBUGEXIT_SIZE)
		return;
	bus->guest_exit(bus->ctx, value & debugexit_mask(size));
}

static void debugexit_reset(void *state)
{
	struct debugexit_state *s = state;

	s->unused = 0;
}

VMM_PIO_ACCESS(debugexit_access, debugexit_pio_in, debugexit_pio_out)

const struct vmm_device vmm_dev_debugexit = {
	.name = "debugexit",
	.ranges = {
		{ VMM_SPACE_PIO, DEBUGEXIT_BASE, DEBUGEXIT_SIZE },
	},
	.state_size = sizeof(struct debugexit_state),
	.reset = debugexit_reset,
	.access = debugexit_access,
	.next_deadline = NULL,
	.poll = NULL,
};
