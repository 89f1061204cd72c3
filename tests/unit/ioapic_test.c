/*
 * ioapic_test.c — unit tests of the I/O APIC (vmm/dev_ioapic.c), no KVM:
 * the ID, version and redirection registers, masking (an edge kept while
 * masked), edge and level triggering with remote IRR and EOI, polarity,
 * a redirection to a vector below 16, garbage registers, and that it
 * never reads the clock.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define BASE 0xfec00000ull

static struct fake_bus fb;
static struct fake_dev io;
static struct vmm_apic_msg msgs[64];
static unsigned nmsgs;

static void on_msg(void *ctx, const struct vmm_apic_msg *m)
{
	(void)ctx;
	if (nmsgs < 64)
		msgs[nmsgs] = *m;
	nmsgs++;
}

static void fresh(void)
{
	if (io.state)
		fake_dev_free(&io);
	fake_bus_init(&fb);
	fb.bus.apic_message = on_msg;
	nmsgs = 0;
	fake_dev_init(&io, &vmm_dev_ioapic);
}

static uint32_t reg_rd(unsigned r)
{
	fake_mmio_write(&io, &fb, BASE, r);
	return fake_mmio_read(&io, &fb, BASE + 0x10);
}

static void reg_wr(unsigned r, uint32_t v)
{
	fake_mmio_write(&io, &fb, BASE, r);
	fake_mmio_write(&io, &fb, BASE + 0x10, v);
}

static void pin(unsigned p, int level)
{
	vmm_ioapic_set_pin(io.state, &fb.bus, p, level);
}

int main(void)
{
	fresh();
	is_int(reg_rd(1), 0x00170020, "version 0x20, 24 entries");
	is_int(reg_rd(0), 0, "ID 0");
	reg_wr(0, 0x0a000000);
	is_int(reg_rd(0), 0x0a000000, "ID writable (4 bits)");
	is_int(reg_rd(2), 0x0a000000, "arbitration ID follows");
	is_int(reg_rd(0x10), 0x10000, "entries reset masked");
	is_int(reg_rd(0x3f), 0, "entry 23 high word");
	is_int(reg_rd(0x40), 0xffffffffu, "no register 0x40: all ones");
	reg_wr(1, 0x1234);
	is_int(reg_rd(1), 0x00170020, "version is read-only");
	fake_mmio_write(&io, &fb, BASE, 0x10);
	is_int(fake_mmio_read(&io, &fb, BASE), 0x10, "IOREGSEL reads back");

	/* Edge, pin 4 -> vector 0x34. Masked first. */
	pin(4, 1), pin(4, 0);
	is_int(nmsgs, 0, "masked: no message");
	reg_wr(0x10 + 8, 0x34);
	is_int(nmsgs, 1, "unmasking sends the edge kept while masked");
	ok(msgs[0].vector == 0x34 && msgs[0].src == VMM_IRQ_SRC_IOAPIC && msgs[0].detail == 4 &&
	   !msgs[0].level, "message: vector, source pin 4, edge");
	pin(4, 1);
	is_int(nmsgs, 2, "rising edge: one message");
	pin(4, 1);
	is_int(nmsgs, 2, "held high: no more");
	pin(4, 0), pin(4, 1), pin(4, 0);
	is_int(nmsgs, 3, "the next edge");
	reg_wr(0x11 + 8, 0x03000000);
	pin(4, 1), pin(4, 0);
	is_int(msgs[3].dest, 3, "destination from the high word");

	/* Level, pin 9 -> vector 0x39. */
	reg_wr(0x10 + 18, 0x39 | (1u << 15));
	pin(9, 1);
	is_int(nmsgs, 5, "level asserted: one message");
	ok(msgs[4].level && msgs[4].vector == 0x39, "level trigger in the message");
	is_int(reg_rd(0x10 + 18) & (1u << 14), 1u << 14, "remote IRR set");
	pin(9, 1);
	is_int(nmsgs, 5, "no repeat while remote IRR");
	vmm_ioapic_eoi(io.state, &fb.bus, 0x39);
	is_int(nmsgs, 6, "EOI with the line still high: again");
	pin(9, 0);
	vmm_ioapic_eoi(io.state, &fb.bus, 0x39);
	is_int(nmsgs, 6, "line low at EOI: nothing");
	is_int(reg_rd(0x10 + 18) & (1u << 14), 0, "remote IRR cleared");
	fake_mmio_write(&io, &fb, BASE + 0x40, 0x39);
	is_int(nmsgs, 6, "EOI register with nothing pending: harmless");
	reg_wr(0x10 + 18, 0x39 | (1u << 15) | (1u << 14));
	is_int(reg_rd(0x10 + 18) & (1u << 14), 0, "remote IRR is read-only");

	/* Active low level, pin 10. */
	reg_wr(0x10 + 20, 0x3a | (1u << 15) | (1u << 13));
	is_int(nmsgs, 7, "active low, line low: asserted at once");

	/* Vector below 16: sent as programmed (the local APIC refuses it). */
	reg_wr(0x10 + 6, 0x05);
	pin(3, 1);
	ok(nmsgs == 8 && msgs[7].vector == 5, "vector 5 goes out (the LAPIC says no)");

	pin(30, 1);
	is_int(nmsgs, 8, "pins above 23 ignored");
	fake_mmio_write(&io, &fb, BASE + 0x20, 1);
	is_int(fake_mmio_read(&io, &fb, BASE + 0x20), 0, "other offsets read 0");
	is_int(fb.clock_reads, 0, "the I/O APIC never reads the clock");
	fake_dev_free(&io);
	return tap_done();
}
