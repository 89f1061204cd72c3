/*
 * lapic_test.c — unit tests of the local APIC (vmm/dev_lapic.c), no KVM:
 * power-on state, the ICR (self-IPI, never busy, illegal vectors, reserved
 * modes, NMI), priorities against TPR/PPR and ISR, EOI with the I/O APIC's
 * EOI for level vectors, read-only and reserved registers, software
 * disable, the timer (one-shot, periodic with coalescing, divide changes,
 * masked), IA32_APIC_BASE (relocation, disable, #GP cases), x2APIC through
 * MSRs, and a random-input run.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define BASE 0xfee00000ull

static struct fake_bus fb;
static struct fake_dev apic;
static unsigned eois, last_eoi;

static void on_eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	eois++;
	last_eoi = vector;
}

static void fresh(void)
{
	if (apic.state)
		fake_dev_free(&apic);
	fake_bus_init(&fb);
	fb.bus.apic_eoi = on_eoi;
	eois = last_eoi = 0;
	fake_dev_init(&apic, &vmm_dev_lapic);
}

static uint32_t rd(unsigned reg)
{
	return fake_mmio_read(&apic, &fb, BASE + reg);
}

static void wr(unsigned reg, uint32_t v)
{
	fake_mmio_write(&apic, &fb, BASE + reg, v);
}

static uint64_t msr_rd(uint32_t msr, bool *fault)
{
	struct vmm_io io = { .space = VMM_SPACE_MSR, .size = 8, .addr = msr };

	apic.dev->access(apic.state, &fb.bus, &io);
	*fault = io.fault;
	return io.value;
}

static bool msr_wr(uint32_t msr, uint64_t v)
{
	struct vmm_io io = { .space = VMM_SPACE_MSR, .write = true, .size = 8, .addr = msr, .value = v };

	apic.dev->access(apic.state, &fb.bus, &io);
	return !io.fault;
}

static void enable(void)
{
	wr(0xf0, 0x1ff);        /* SVR: software enable, spurious vector 0xff */
}

static int pending(void)
{
	return vmm_lapic_pending(apic.state);
}

static void test_reset(void)
{
	fresh();
	is_int(rd(0x20), 0, "ID 0");
	is_int(rd(0x30), 0x50014, "version 0x14, 6 LVT entries");
	is_int(rd(0xf0), 0xff, "SVR: software disabled, vector 0xff");
	is_int(rd(0x320), 0x10000, "LVT timer masked");
	is_int(rd(0x350), 0x700, "LINT0: ExtINT, unmasked (virtual wire)");
	is_int(rd(0x360), 0x10000, "LINT1 masked");
	is_int(rd(0xe0), 0xffffffffu, "DFR flat");
	ok(vmm_lapic_accepts_pic(apic.state), "the 8259 reaches the CPU through LINT0");
	is_int(pending(), -1, "nothing pending");
	is_int(vmm_dev_lapic.range_base(apic.state, 0), BASE, "page at 0xfee00000");
	is_int(fb.clock_reads, 0, "reset and register reads read no clock");
}

static void test_icr(void)
{
	fresh();
	enable();
	wr(0x300, 0x40 | (1u << 18));           /* fixed, shorthand self */
	is_int(rd(0x300) & (1u << 12), 0, "ICR delivery status never busy");
	is_int(pending(), 0x40, "self-IPI pending as 0x40");
	is_int(vmm_lapic_ack(apic.state), 0x40, "acknowledged");
	{
		unsigned detail;
		is_int(vmm_lapic_last_source(apic.state, &detail), VMM_IRQ_SRC_SELF_IPI,
		       "source: self-IPI");
	}
	is_int(rd(0x100 + 0x20) & 1, 1, "ISR bit 0x40 set");
	is_int(rd(0xa0), 0x40, "PPR follows the in-service class");
	wr(0xb0, 0);
	is_int(rd(0x100 + 0x20), 0, "EOI clears ISR");
	is_int(eois, 0, "edge vector: no EOI to the I/O APIC");

	wr(0x310, 0u << 24);
	wr(0x300, 0x41);                        /* physical destination 0 = me */
	is_int(pending(), 0x41, "physical destination 0 is this CPU");
	vmm_lapic_ack(apic.state), wr(0xb0, 0);
	wr(0x310, 5u << 24);
	wr(0x300, 0x42);
	is_int(pending(), -1, "destination 5: nobody");
	wr(0x300, 0x43 | (3u << 18));
	is_int(pending(), -1, "all-excluding-self: nobody");

	wr(0x280, 0);
	wr(0x300, 0x05 | (1u << 18));
	is_int(pending(), -1, "vector 5 is not delivered");
	wr(0x280, 0);
	is_int(rd(0x280), 0x20, "ESR: send illegal vector");
	wr(0x280, 0);
	is_int(rd(0x280), 0, "ESR cleared by the next write");

	wr(0x300, 0x44 | (3u << 8) | (1u << 18));
	is_int(pending(), -1, "reserved delivery mode 3: dropped");
	wr(0x300, (5u << 8) | (1u << 14) | (1u << 18));
	is_int(pending(), -1, "INIT to self: nothing injected");
	wr(0x300, (4u << 8) | (1u << 18));
	is_int(pending(), VMM_LAPIC_NMI, "NMI to self");
	is_int(vmm_lapic_ack(apic.state), VMM_LAPIC_NMI, "NMI taken");
	is_int(pending(), -1, "once");
}

static void test_priority(void)
{
	struct vmm_apic_msg m = { .vector = 0x45, .src = VMM_IRQ_SRC_IOAPIC, .detail = 4 };

	fresh();
	vmm_lapic_message(apic.state, &fb.bus, &m);
	is_int(pending(), -1, "software-disabled: IRR held");
	enable();
	is_int(pending(), 0x45, "enabled: delivered");
	wr(0x80, 0x50);
	is_int(pending(), -1, "TPR 0x50 blocks class 4");
	is_int(rd(0xa0), 0x50, "PPR = TPR");
	wr(0x80, 0x45);
	is_int(pending(), -1, "TPR 0x45 blocks class 4 too");
	wr(0x80, 0x30);
	m.vector = 0x61;
	vmm_lapic_message(apic.state, &fb.bus, &m);
	is_int(pending(), 0x61, "higher class first");
	vmm_lapic_ack(apic.state);
	is_int(pending(), -1, "0x45 waits while 0x61 is in service");
	wr(0xb0, 0);
	is_int(pending(), 0x45, "after EOI");
	{
		unsigned detail;
		vmm_lapic_ack(apic.state);
		is_int(vmm_lapic_last_source(apic.state, &detail), VMM_IRQ_SRC_IOAPIC, "source: I/O APIC");
		is_int(detail, 4, "pin 4");
	}
	wr(0xb0, 0);
	m.vector = 0x70, m.level = 1;
	vmm_lapic_message(apic.state, &fb.bus, &m);
	is_int((rd(0x1b0) >> 16) & 1, 1, "level message sets TMR");
	vmm_lapic_ack(apic.state);
	wr(0xb0, 0);
	ok(eois == 1 && last_eoi == 0x70, "EOI of a level vector goes to the I/O APIC");
	m.vector = 0x08, m.level = 0;
	wr(0x280, 0);
	vmm_lapic_message(apic.state, &fb.bus, &m);
	is_int(pending(), -1, "received vector 8 refused");
	wr(0x280, 0);
	is_int(rd(0x280), 0x40, "ESR: receive illegal vector");
	m.vector = 0x50, m.dest = 3;
	vmm_lapic_message(apic.state, &fb.bus, &m);
	is_int(pending(), -1, "a message for APIC 3 is not ours");
}

static void test_registers(void)
{
	fresh();
	wr(0x30, 0x12345678);
	is_int(rd(0x30), 0x50014, "version is read-only");
	wr(0x390, 77);
	is_int(rd(0x390), 0, "current count is read-only");
	wr(0x20, 0x03000000);
	is_int(rd(0x20), 0x03000000, "xAPIC ID is writable");
	wr(0x20, 0);
	wr(0xd0, 0x01000000);
	is_int(rd(0xd0), 0x01000000, "LDR");
	wr(0x360, 0x400);
	is_int(rd(0x360), 0x10400, "software-disabled: LVT mask stays set");
	enable();
	wr(0x360, 0x400);
	is_int(rd(0x360), 0x400, "enabled: LINT1 NMI unmasked");
	wr(0xf0, 0xff);
	is_int(rd(0x350) & 0x10000, 0x10000, "software disable masks every LVT");
	ok(!vmm_lapic_accepts_pic(apic.state), "masked LINT0 stops the 8259");
	is_int(fake_access(&apic, &fb, VMM_SPACE_MMIO, false, BASE + 0x31, 1, 0), 0x00,
	       "byte read inside a register");
	is_int(fake_access(&apic, &fb, VMM_SPACE_MMIO, false, BASE + 0x30, 2, 0), 0x14,
	       "word read of the version");
	fake_access(&apic, &fb, VMM_SPACE_MMIO, true, BASE + 0x82, 1, 0xff);
	is_int(rd(0x80), 0, "misaligned write dropped");
	wr(0x3c0, 1);
	wr(0x280, 0);
	is_int(rd(0x280), 0x80, "reserved register: ESR illegal register address");
	wr(0x480, 0x70);
	is_int(rd(0x80), 0, "offset 0x480 is nothing, not an alias of TPR");
	is_int(rd(0x490), 0, "and reads 0");
}

static void test_timer(void)
{
	fresh();
	enable();
	fb.mono = 1000000;
	wr(0x3e0, 0xb);                         /* divide by 1 */
	wr(0x320, 0x30);                        /* one-shot, vector 0x30 */
	fb.clock_reads = 0;
	wr(0x380, 1000);
	is_int(fb.clock_reads, 1, "loading the count reads the clock once");
	is_int(vmm_dev_lapic.next_deadline(apic.state), 1001000, "one-shot deadline after 1000 ns");
	fb.mono += 300;
	fb.clock_reads = 0;
	is_int(rd(0x390), 700, "current count 700 after 300 ns");
	is_int(fb.clock_reads, 1, "a count read reads the clock once");
	fb.clock_reads = 0;
	vmm_dev_lapic.poll(apic.state, &fb.bus, 1000999);
	is_int(pending(), -1, "nothing before the deadline");
	vmm_dev_lapic.poll(apic.state, &fb.bus, 1001000);
	is_int(pending(), 0x30, "timer vector at the deadline");
	is_int(fb.clock_reads, 0, "poll reads no clock");
	ok(vmm_dev_lapic.next_deadline(apic.state) == UINT64_MAX, "one-shot: no further deadline");
	fb.mono = 1002000;
	is_int(rd(0x390), 0, "one-shot count stays 0");
	{
		unsigned detail;
		vmm_lapic_ack(apic.state);
		is_int(vmm_lapic_last_source(apic.state, &detail), VMM_IRQ_SRC_LAPIC_TIMER,
		       "source: LAPIC timer");
		wr(0xb0, 0);
	}

	wr(0x3e0, 0x3);                         /* divide by 16 */
	wr(0x320, 0x31 | (1u << 17));           /* periodic */
	wr(0x380, 100);                         /* 1600 ns */
	is_int(vmm_dev_lapic.next_deadline(apic.state), 1003600, "periodic: first after 1600 ns");
	fb.mono += 800;
	is_int(rd(0x390), 50, "half way: 50");
	vmm_dev_lapic.poll(apic.state, &fb.bus, 1003600 + 3 * 1600 + 5);
	is_int(pending(), 0x31, "late poll: one interrupt");
	is_int(vmm_dev_lapic.next_deadline(apic.state), 1003600 + 4 * 1600,
	       "missed periods coalesced; next on the period grid");
	vmm_lapic_ack(apic.state), wr(0xb0, 0);
	fb.mono = 1003600 + 4 * 1600 + 400;
	wr(0x3e0, 0xb);                         /* divide by 1 mid-count */
	is_int(rd(0x390), 75, "divide change keeps the count (75)");
	is_int(vmm_dev_lapic.next_deadline(apic.state), fb.mono + 75,
	       "and counts on at the new rate");
	wr(0x320, 0x10031 | (1u << 17));        /* masked */
	vmm_dev_lapic.poll(apic.state, &fb.bus, fb.mono + 75);
	is_int(pending(), -1, "masked: no interrupt");
	ok(vmm_dev_lapic.next_deadline(apic.state) != UINT64_MAX, "masked: still counting");
	wr(0x380, 0);
	ok(vmm_dev_lapic.next_deadline(apic.state) == UINT64_MAX, "count 0 stops the timer");
	wr(0x320, 0x32 | (2u << 17));
	is_int(rd(0x320), 0x32, "TSC-deadline mode refused: one-shot");
}

static void test_apic_base(void)
{
	bool fault;

	fresh();
	is_int(msr_rd(0x1b, &fault), 0xfee00900, "IA32_APIC_BASE: 0xfee00000, EN, BSP");
	ok(msr_wr(0x1b, 0xfed00900), "relocation accepted");
	is_int(vmm_dev_lapic.range_base(apic.state, 0), 0xfed00000, "the page moved");
	enable();
	ok(!msr_wr(0x1b, 0xfed00900 | (1ull << 63)), "reserved bit: #GP");
	ok(!msr_wr(0x1b, 0xfee00000 | (1u << 10) | 0x100), "x2APIC without EN: #GP");
	is_int(msr_rd(0x1b, &fault), 0xfed00900, "unchanged after the #GP");
	ok(msr_wr(0x1b, 0xfee00100), "global disable");
	ok(vmm_dev_lapic.range_base(apic.state, 0) >= (1ull << 63), "disabled: no page");
	ok(vmm_lapic_accepts_pic(apic.state), "disabled: INTR passes straight through");
	msr_rd(0x802, &fault);
	ok(fault, "x2APIC MSR in xAPIC mode: #GP");
	ok(msr_wr(0x1b, 0xfee00900), "re-enabled");
	is_int(vmm_dev_lapic.range_base(apic.state, 0), BASE, "back at 0xfee00000");
	is_int(fake_mmio_read(&apic, &fb, BASE + 0xf0), 0xff, "registers reset by the disable");
}

static void test_x2apic(void)
{
	bool fault;

	fresh();
	ok(msr_wr(0x1b, 0xfee00d00), "x2APIC on");
	ok(vmm_dev_lapic.range_base(apic.state, 0) >= (1ull << 63), "no MMIO page in x2APIC mode");
	is_int(msr_rd(0x802, &fault), 0, "ID 0");
	is_int(msr_rd(0x803, &fault), 0x50014, "version");
	is_int(msr_rd(0x80d, &fault), 0x1, "LDR derived from the ID");
	ok(!msr_wr(0x803, 1), "write to version: #GP");
	ok(!msr_wr(0x80d, 1), "LDR read-only: #GP");
	msr_rd(0x80e, &fault);
	ok(fault, "no DFR in x2APIC mode");
	msr_rd(0x80b, &fault);
	ok(fault, "EOI is write-only");
	ok(msr_wr(0x80f, 0x1ff), "SVR");
	ok(msr_wr(0x830, 0x50 | (1u << 18)), "ICR self-IPI, one 64-bit write");
	is_int(pending(), 0x50, "delivered");
	ok(msr_wr(0x830, 0x56 | (4u << 8) | (1u << 18)), "ICR NMI to self");
	is_int(pending(), VMM_LAPIC_NMI, "the NMI (delivery mode bit 10 kept in x2APIC mode)");
	vmm_lapic_ack(apic.state);
	ok(!msr_wr(0x80b, 1), "EOI with a nonzero value: #GP");
	vmm_lapic_ack(apic.state);
	ok(msr_wr(0x80b, 0), "EOI");
	ok(msr_wr(0x83f, 0x51), "SELF_IPI");
	is_int(pending(), 0x51, "delivered");
	ok(!msr_wr(0x1b, 0xfee00900), "x2APIC to xAPIC directly: #GP");
	ok(msr_wr(0x1b, 0xfee00100) && msr_wr(0x1b, 0xfee00900), "through disabled: allowed");
}

static void test_fuzz(void)
{
	uint64_t seed = 12345;
	unsigned bad = 0, delivered = 0, reads = 0;

	fresh();
	enable();
	for (int i = 0; i < 200000; i++) {
		uint64_t r = fake_rand(&seed);
		unsigned reg = (unsigned)(r >> 8) & 0xff0;
		int p;

		fb.mono += (r >> 40) % 5000;
		if (r % 5 == 0) {
			unsigned before = fb.clock_reads;
			rd(reg);
			if (fb.clock_reads - before > 1)
				reads++;
		} else if (r % 5 == 1 && reg != 0xf0) {
			wr(reg, (uint32_t)(r >> 32));
		} else if (r % 5 == 2) {
			if (vmm_dev_lapic.next_deadline(apic.state) <= fb.mono)
				vmm_dev_lapic.poll(apic.state, &fb.bus, fb.mono);
		} else if (r % 5 == 3 && (p = pending()) >= 0) {
			if (p != VMM_LAPIC_NMI && p < 16)
				bad++;
			if (vmm_lapic_ack(apic.state) != p)
				bad++;
			delivered++;
		} else {
			wr(0xb0, 0);
		}
	}
	is_int(bad, 0, "fuzz: every vector delivered is legal and what pending announced");
	is_int(reads, 0, "fuzz: at most one clock read per access");
	ok(delivered > 100, "fuzz: interrupts were delivered (%u)", delivered);
}

int main(void)
{
	test_reset();
	test_icr();
	test_priority();
	test_registers();
	test_timer();
	test_apic_base();
	test_x2apic();
	test_fuzz();
	fake_dev_free(&apic);
	return tap_done();
}
