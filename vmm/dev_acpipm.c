/*
 * dev_acpipm.c — the ACPI power-management registers the FADT names
 * (vmm/acpi.c), at ports 0x600-0x63f as on QEMU's PIIX4: PM1a status and
 * enable (0x600, 0x602), PM1a control (0x604) and the PM timer (0x608).
 *
 * The PM timer is a free-running 24-bit counter at 3.579545 MHz. Like the
 * PIT it is never stepped: each read derives the count from the one clock
 * (one clock read per read, which the recorder logs and the replayer feeds
 * back). The machine is always in ACPI mode (the FADT's SMI_CMD is 0), so
 * PM1 control reads with SCI_EN set. The timer-overflow status and its
 * SCI, and sleep states, are not provided (the DSDT declares none): status
 * bits read 0.
 */
#include "vmm/devices.h"

#define PM_BASE 0x600
#define PM_LEN 0x40
#define PM_TIMER_HZ 3579545u
#define PM1_CNT_SCI_EN 1u

struct acpipm_state {
	uint16_t pm1_en;
	uint16_t pm1_cnt;
};

static void acpipm_reset(void *state)
{
	struct acpipm_state *s = state;

	*s = (struct acpipm_state){ .pm1_cnt = PM1_CNT_SCI_EN };
}

static uint32_t pm_timer(const struct vmm_bus *bus)
{
	uint64_t ns = bus->clock_ns(bus->ctx, VMM_CLOCK_MONOTONIC);

	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u) & 0xffffffu;
}

/* Registers are read as bytes, words or dwords at any offset: assemble
 * the value from a little-endian view of the 12-byte block. */
static uint8_t reg_byte(const struct acpipm_state *s, unsigned off, uint32_t timer)
{
	switch (off) {
	case 0x2: return (uint8_t)s->pm1_en;
	case 0x3: return (uint8_t)(s->pm1_en >> 8);
	case 0x4: return (uint8_t)s->pm1_cnt;
	case 0x5: return (uint8_t)(s->pm1_cnt >> 8);
	case 0x8: case 0x9: case 0xa: case 0xb: return (uint8_t)(timer >> (8 * (off - 8)));
	default: return 0;      /* PM1 status: nothing ever set */
	}
}

static void acpipm_access(void *state, const struct vmm_bus *bus, struct vmm_io *io)
{
	struct acpipm_state *s = state;
	unsigned off = (unsigned)(io->addr - PM_BASE);

	if (!io->write) {
		uint32_t timer = 0;
		uint64_t v = 0;

		if (off + io->size > 8 && off < 12)
			timer = pm_timer(bus);
		for (unsigned i = 0; i < io->size; i++)
			v |= (uint64_t)reg_byte(s, off + i, timer) << (8 * i);
		io->value = v;
		return;
	}
	for (unsigned i = 0; i < io->size; i++) {
		uint8_t b = (uint8_t)(io->value >> (8 * i));

		switch (off + i) {
		case 0x2: s->pm1_en = (uint16_t)((s->pm1_en & 0xff00) | b); break;
		case 0x3: s->pm1_en = (uint16_t)((s->pm1_en & 0x00ff) | b << 8); break;
		case 0x4: s->pm1_cnt = (uint16_t)((s->pm1_cnt & 0xff00) | b | PM1_CNT_SCI_EN); break;
		case 0x5:
			/* SLP_EN with a sleep type: no sleep states here. */
			if (b & 0x20)
				vmm_dev_trace(bus, "acpi", "PM1 control sleep request 0x%x ignored: "
					      "the DSDT offers no sleep states", (unsigned)b);
			s->pm1_cnt = (uint16_t)((s->pm1_cnt & 0x00ff) | (b & 0x1c) << 8);
			break;
		default:
			break;  /* status is write-1-to-clear and always clear; the timer is read-only */
		}
	}
}

const struct vmm_device vmm_dev_acpipm = {
	.name = "acpi-pm",
	.ranges = { { VMM_SPACE_PIO, PM_BASE, PM_LEN } },
	.state_size = sizeof(struct acpipm_state),
	.reset = acpipm_reset,
	.access = acpipm_access,
};
