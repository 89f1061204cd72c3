/*
 * dev_ioapic.c — the I/O APIC at 0xfec00000 (82093AA, version 0x20 as
 * QEMU's): IOREGSEL at +0x00, IOWIN at +0x10 and the EOI register at
 * +0x40; ID, version, arbitration ID and 24 redirection entries.
 *
 * The machine drives its pins with vmm_ioapic_set_pin() (ISA IRQ n on pin
 * n, except the PIT's IRQ0 on pin 2, as the MADT's override says). An
 * unmasked edge-triggered pin sends one message per rising edge; a
 * level-triggered pin sends one while asserted and then waits for the
 * local APIC's EOI (remote IRR). An edge that arrives while its pin is
 * masked is kept and sent on unmasking, as QEMU does. Messages go to the
 * local APIC through bus->apic_message; nothing here reads the clock.
 *
 * A redirection to a vector below 16 is sent as programmed; the local APIC
 * refuses it (ESR), as hardware does. Both sides say so with --trace-io.
 */
#include "vmm/devices.h"

#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_PINS 24
#define IOAPIC_VERSION (((IOAPIC_PINS - 1) << 16) | 0x20)

#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_ACTIVE_LOW (1ull << 13)
#define RTE_DELIVS (1ull << 12)
#define RTE_LOGICAL (1ull << 11)
#define RTE_WRITABLE (~(RTE_REMOTE_IRR | RTE_DELIVS) & 0xff0000000001ffffull)

struct ioapic_state {
	uint32_t id;                    /* bits 24-27 of register 0 */
	uint32_t regsel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t irr;                   /* requests waiting to be sent */
	uint32_t lines;                 /* pin levels as driven (before polarity) */
};

static void ioapic_reset(void *state)
{
	struct ioapic_state *s = state;

	*s = (struct ioapic_state){ 0 };
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		s->rte[i] = RTE_MASKED;
}

static int pin_asserted(const struct ioapic_state *s, unsigned pin)
{
	int level = (s->lines >> pin) & 1;

	return (s->rte[pin] & RTE_ACTIVE_LOW) ? !level : level;
}

/* Send every request that may go now. */
static void ioapic_service(struct ioapic_state *s, const struct vmm_bus *bus)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t rte = s->rte[pin];
		struct vmm_apic_msg m;

		if (!(s->irr & (1u << pin)) || (rte & RTE_MASKED))
			continue;
		if (rte & RTE_LEVEL) {
			if (rte & RTE_REMOTE_IRR)
				continue;
			s->rte[pin] |= RTE_REMOTE_IRR;
		} else {
			s->irr &= ~(1u << pin);
		}
		m = (struct vmm_apic_msg){
			.vector = (uint8_t)rte, .mode = (uint8_t)((rte >> 8) & 7),
			.level = (rte & RTE_LEVEL) != 0, .logical = (rte & RTE_LOGICAL) != 0,
			.dest = (uint32_t)(rte >> 56), .src = VMM_IRQ_SRC_IOAPIC, .detail = (uint8_t)pin,
		};
		if (bus->apic_message)
			bus->apic_message(bus->ctx, &m);
	}
}

void vmm_ioapic_set_pin(void *ioapic_state, const struct vmm_bus *bus, unsigned pin, int level)
{
	struct ioapic_state *s = ioapic_state;
	int before;

	if (pin >= IOAPIC_PINS)
		return;
	before = pin_asserted(s, pin);
	if (level)
		s->lines |= 1u << pin;
	else
		s->lines &= ~(1u << pin);
	if (s->rte[pin] & RTE_LEVEL) {
		if (pin_asserted(s, pin))
			s->irr |= 1u << pin;
		else
			s->irr &= ~(1u << pin);
	} else if (!before && pin_asserted(s, pin)) {
		s->irr |= 1u << pin;
	}
	ioapic_service(s, bus);
}

void vmm_ioapic_eoi(void *ioapic_state, const struct vmm_bus *bus, uint8_t vector)
{
	struct ioapic_state *s = ioapic_state;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		if ((uint8_t)s->rte[pin] == vector && (s->rte[pin] & RTE_REMOTE_IRR))
			s->rte[pin] &= ~RTE_REMOTE_IRR;
	ioapic_service(s, bus);
}

static uint32_t read_reg(const struct ioapic_state *s)
{
	unsigned r = s->regsel & 0xff;

	if (r == 0)
		return s->id << 24;
	if (r == 1)
		return IOAPIC_VERSION;
	if (r == 2)
		return s->id << 24;     /* arbitration ID */
	if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS)
		return (uint32_t)(s->rte[(r - 0x10) / 2] >> (r & 1 ? 32 : 0));
	return 0xffffffffu;             /* QEMU: unknown registers read all ones */
}

static void write_rte(struct ioapic_state *s, const struct vmm_bus *bus, unsigned pin, bool high,
		      uint32_t v)
{
	uint64_t old = s->rte[pin], rte;

	if (high)
		rte = (old & 0xffffffffull) | ((uint64_t)v << 32);
	else
		rte = (old & ~0xffffffffull) | v;
	rte = (rte & RTE_WRITABLE) | (old & (RTE_REMOTE_IRR | RTE_DELIVS));
	if (!(rte & RTE_LEVEL))
		rte &= ~RTE_REMOTE_IRR;
	s->rte[pin] = rte;
	if (!high && !(rte & RTE_MASKED)) {
		unsigned dm = (rte >> 8) & 7;

		if ((rte & 0xff) < 16 && (dm == VMM_APIC_DM_FIXED || dm == VMM_APIC_DM_LOWEST))
			vmm_dev_trace(bus, "ioapic", "pin %u redirected to vector 0x%x, below 16: the "
				      "local APIC will refuse it", pin, (unsigned)(rte & 0xff));
		if (dm == 3 || dm == 6)
			vmm_dev_trace(bus, "ioapic", "pin %u: reserved delivery mode %u", pin, dm);
	}
	/* A level pin still asserted re-requests; the new entry may unmask. */
	if ((rte & RTE_LEVEL) && pin_asserted(s, pin))
		s->irr |= 1u << pin;
	ioapic_service(s, bus);
}

static void ioapic_access(void *state, const struct vmm_bus *bus, struct vmm_io *io)
{
	struct ioapic_state *s = state;
	unsigned off = (unsigned)(io->addr - IOAPIC_BASE);
	unsigned r = s->regsel & 0xff;

	if (!io->write) {
		if (off == 0x00)
			io->value = s->regsel;
		else if (off == 0x10)
			io->value = read_reg(s);
		else
			io->value = 0;
		if (io->size < 8)
			io->value &= (1ull << (8 * io->size)) - 1;
		return;
	}
	if (off == 0x00) {
		s->regsel = (uint32_t)io->value & 0xff;
	} else if (off == 0x40) {
		vmm_ioapic_eoi(s, bus, (uint8_t)io->value);
	} else if (off == 0x10) {
		if (r == 0)
			s->id = ((uint32_t)io->value >> 24) & 0xf;
		else if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS)
			write_rte(s, bus, (r - 0x10) / 2, r & 1, (uint32_t)io->value);
		else
			vmm_dev_trace(bus, "ioapic", "write 0x%x to read-only register 0x%x ignored",
				      (unsigned)io->value, r);
	} else {
		vmm_dev_trace(bus, "ioapic", "write 0x%x at offset 0x%x ignored", (unsigned)io->value,
			      off);
	}
}

const struct vmm_device vmm_dev_ioapic = {
	.name = "ioapic",
	.ranges = { { VMM_SPACE_MMIO, IOAPIC_BASE, 0x1000 } },
	.state_size = sizeof(struct ioapic_state),
	.reset = ioapic_reset,
	.access = ioapic_access,
};
