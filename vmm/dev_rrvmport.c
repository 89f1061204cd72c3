/*
 * dev_rrvmport.c — the rrvm paravirtual port (0xe8): a guest writes the
 * bytes of an annotation ("lock taken", "test 17 started"), one byte per
 * `outb`, and a newline or NUL ends it. Each finished annotation goes to
 * the output stream VMM_OUT_ANNOTATION, which the trace database records
 * with its position. Reading the port gives 'R', so a guest can tell it
 * runs under rrvm; elsewhere (QEMU) the port floats high and writes vanish,
 * so annotated kernels run unchanged on other VMMs.
 */
#include <string.h>

#include "vmm/devices.h"

#define RRVMPORT 0xe8
#define RRVMPORT_MAX 240        /* longer annotations are cut, not split */

struct rrvmport_state {
	uint8_t buf[RRVMPORT_MAX];
	uint32_t len;
	uint32_t truncated;
};

static void rrvmport_reset(void *state)
{
	memset(state, 0, sizeof(struct rrvmport_state));
}

static uint32_t rrvmport_in(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size)
{
	return 'R';
}

static void rrvmport_out(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			 uint32_t value)
{
	struct rrvmport_state *s = state;
	uint8_t b = (uint8_t)value;     /* wider writes: the low byte */

	if (b == '\n' || b == '\0') {
		if (s->len > 0)
			bus->output(bus->ctx, VMM_OUT_ANNOTATION, s->buf, s->len);
		s->len = 0;
		return;
	}
	if (s->len < RRVMPORT_MAX)
		s->buf[s->len++] = b;
	else
		s->truncated++;
}

VMM_PIO_ACCESS(rrvmport_access, rrvmport_in, rrvmport_out)

const struct vmm_device vmm_dev_rrvmport = {
	.name = "rrvm-port",
	.ranges = { { VMM_SPACE_PIO, RRVMPORT, 1 } },
	.state_size = sizeof(struct rrvmport_state),
	.reset = rrvmport_reset,
	.access = rrvmport_access,
};
