/*
 * dev_debugcon.c — the bochs/QEMU debug console on port 0xe9: each byte
 * the guest writes goes to bus->output(VMM_OUT_DEBUGCON). Reading the port
 * returns 0xe9, which is how a guest detects that the console is there.
 *
 * An 8-bit port: a 2- or 4-byte write sends only its low byte, and a wider
 * read returns 0xe9 zero-extended.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define DEBUGCON_PORT 0xe9

/* No state of its own; one byte because a device needs some. */
struct debugcon_state {
	uint8_t unused;
};

static uint32_t debugcon_pio_in(void *state, const struct vmm_bus *bus, uint16_t port,
				unsigned size)
{
	if (port != DEBUGCON_PORT)
		return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
	return DEBUGCON_PORT;
}

static void debugcon_pio_out(void *state, const struct vmm_bus *bus, uint16_t port,
			     unsigned size, uint32_t value)
{
	uint8_t b = (uint8_t)value;

	if (port == DEBUGCON_PORT)
		bus->output(bus->ctx, VMM_OUT_DEBUGCON, &b, 1);
}

static void debugcon_reset(void *state)
{
	struct debugcon_state *s = state;

	s->unused = 0;
}

VMM_PIO_ACCESS(debugcon_access, debugcon_pio_in, debugcon_pio_out)

const struct vmm_device vmm_dev_debugcon = {
	.name = "debugcon",
	.ranges = {
		{ VMM_SPACE_PIO, DEBUGCON_PORT, 1 },
	},
	.state_size = sizeof(struct debugcon_state),
	.reset = debugcon_reset,
	.access = debugcon_access,
	.next_deadline = NULL,
	.poll = NULL,
};
