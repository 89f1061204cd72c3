/*
 * pic_test.c — unit tests of the 8259A pair (vmm/dev_pic.c): the ICW
 * sequence, masking, priority and nesting, EOI variants, rotation, special
 * mask mode, cascade delivery from the slave, spurious IRQ7/IRQ15,
 * auto-EOI, edge versus level (ELCR), OCW3 reads and the poll command, and
 * a random-input run that must never deliver a vector ICW2 does not allow.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

static struct fake_bus fb;
static struct fake_dev pic;

static void pulse(unsigned irq)
{
	vmm_pic_set_irq(pic.state, irq, 1);
	vmm_pic_set_irq(pic.state, irq, 0);
}

static uint8_t irr(uint16_t base)
{
	fake_outb(&pic, &fb, base, 0x0a);
	return fake_inb(&pic, &fb, base);
}

static uint8_t isr(uint16_t base)
{
	fake_outb(&pic, &fb, base, 0x0b);
	return fake_inb(&pic, &fb, base);
}

static void eoi(uint16_t base)
{
	fake_outb(&pic, &fb, base, 0x20);
}

/* The usual PC programming: master 0x20, slave 0x28, cascade on IRQ2. */
static void init_pair(uint8_t icw4_master, uint8_t icw4_slave)
{
	fake_outb(&pic, &fb, 0x20, 0x11);
	fake_outb(&pic, &fb, 0x21, 0x20);
	fake_outb(&pic, &fb, 0x21, 0x04);
	fake_outb(&pic, &fb, 0x21, icw4_master);
	fake_outb(&pic, &fb, 0xa0, 0x11);
	fake_outb(&pic, &fb, 0xa1, 0x28);
	fake_outb(&pic, &fb, 0xa1, 0x02);
	fake_outb(&pic, &fb, 0xa1, icw4_slave);
}

static void fresh(void)
{
	if (pic.state)
		fake_dev_free(&pic);
	fake_bus_init(&fb);
	fake_dev_init(&pic, &vmm_dev_pic);
}

static void test_reset_and_icw(void)
{
	fresh();
	is_int(fake_inb(&pic, &fb, 0x21), 0xfb, "reset: master IMR masks all but the cascade");
	is_int(fake_inb(&pic, &fb, 0xa1), 0xff, "reset: slave IMR masks all");
	pulse(0);
	is_int(vmm_pic_pending(pic.state), -1, "reset: masked IRQ0 is not delivered");
	is_int(irr(0x20) & 1, 1, "reset: masked IRQ0 is still requested in IRR");

	init_pair(0x01, 0x01);
	is_int(fake_inb(&pic, &fb, 0x21), 0x00, "ICW1 clears the master IMR");
	is_int(fake_inb(&pic, &fb, 0xa1), 0x00, "ICW1 clears the slave IMR");
	is_int(irr(0x20), 0, "ICW1 clears the edge-latched IRR");
	is_int(vmm_pic_pending(pic.state), -1, "nothing pending after init");
	pulse(0);
	is_int(vmm_pic_pending(pic.state), 0x20, "IRQ0 -> ICW2 base 0x20");
	pulse(12);
	fake_outb(&pic, &fb, 0x21, 0x01);
	is_int(vmm_pic_pending(pic.state), 0x2c, "IRQ12 -> slave base 0x28 + 4");
	fake_outb(&pic, &fb, 0x21, 0xaa);
	is_int(fake_inb(&pic, &fb, 0x21), 0xaa, "OCW1 sets IMR and reads back");

	/* Without IC4 the sequence ends after ICW3 and ICW4 functions are off. */
	fresh();
	fake_outb(&pic, &fb, 0x20, 0x10);
	fake_outb(&pic, &fb, 0x21, 0x40);
	fake_outb(&pic, &fb, 0x21, 0x04);
	fake_outb(&pic, &fb, 0x21, 0xfe);
	is_int(fake_inb(&pic, &fb, 0x21), 0xfe, "no ICW4: the write after ICW3 is OCW1");
	pulse(0);
	is_int(vmm_pic_ack(pic.state), 0x40, "no ICW4: vector from ICW2 0x40");
	is_int(isr(0x20), 1, "no ICW4: normal EOI mode, ISR set");

	/* Single mode skips ICW3. */
	fresh();
	fake_outb(&pic, &fb, 0x20, 0x13);
	fake_outb(&pic, &fb, 0x21, 0x50);
	fake_outb(&pic, &fb, 0x21, 0x01);
	fake_outb(&pic, &fb, 0x21, 0xf7);
	is_int(fake_inb(&pic, &fb, 0x21), 0xf7, "single mode: ICW2, ICW4, then OCW1");
	/* ICW2's low three bits are not part of the vector in 8086 mode. */
	fresh();
	fake_outb(&pic, &fb, 0x20, 0x11);
	fake_outb(&pic, &fb, 0x21, 0x37);
	fake_outb(&pic, &fb, 0x21, 0x04);
	fake_outb(&pic, &fb, 0x21, 0x01);
	pulse(1);
	is_int(vmm_pic_ack(pic.state), 0x31, "ICW2 0x37 gives base 0x30");
}

static void test_priority_and_eoi(void)
{
	fresh();
	init_pair(0x01, 0x01);
	pulse(3);
	pulse(1);
	is_int(irr(0x20), 0x0a, "IRR shows IRQ1 and IRQ3");
	is_int(vmm_pic_ack(pic.state), 0x21, "IRQ1 has priority over IRQ3");
	is_int(isr(0x20), 0x02, "ISR shows IRQ1 in service");
	is_int(irr(0x20), 0x08, "IRR keeps IRQ3");
	is_int(vmm_pic_pending(pic.state), -1, "IRQ3 blocked while IRQ1 in service");
	pulse(0);
	is_int(vmm_pic_pending(pic.state), 0x20, "IRQ0 nests inside IRQ1");
	is_int(vmm_pic_ack(pic.state), 0x20, "ack IRQ0");
	is_int(isr(0x20), 0x03, "ISR holds IRQ0 and IRQ1");
	eoi(0x20);
	is_int(isr(0x20), 0x02, "non-specific EOI clears the highest (IRQ0)");
	eoi(0x20);
	is_int(isr(0x20), 0x00, "second EOI clears IRQ1");
	is_int(vmm_pic_ack(pic.state), 0x23, "IRQ3 delivered after the EOIs");
	fake_outb(&pic, &fb, 0x20, 0x62);
	is_int(isr(0x20), 0x08, "specific EOI for IRQ2 leaves IRQ3 in service");
	fake_outb(&pic, &fb, 0x20, 0x63);
	is_int(isr(0x20), 0x00, "specific EOI for IRQ3 clears it");
	eoi(0x20);
	is_int(isr(0x20), 0x00, "EOI with nothing in service is harmless");

	/* Masking. */
	fake_outb(&pic, &fb, 0x21, 0x10);
	pulse(4);
	is_int(vmm_pic_pending(pic.state), -1, "masked IRQ4 not delivered");
	fake_outb(&pic, &fb, 0x21, 0x00);
	is_int(vmm_pic_ack(pic.state), 0x24, "unmasking delivers the latched IRQ4");
	eoi(0x20);

	/* Edge mode: a line held high does not re-request. */
	vmm_pic_set_irq(pic.state, 5, 1);
	is_int(vmm_pic_ack(pic.state), 0x25, "rising edge on IRQ5");
	eoi(0x20);
	vmm_pic_set_irq(pic.state, 5, 1);
	is_int(vmm_pic_pending(pic.state), -1, "IRQ5 held high: no new request");
	vmm_pic_set_irq(pic.state, 5, 0);
	vmm_pic_set_irq(pic.state, 5, 1);
	is_int(vmm_pic_pending(pic.state), 0x25, "falling then rising: new request");
	vmm_pic_ack(pic.state);
	eoi(0x20);
	vmm_pic_set_irq(pic.state, 5, 0);

	/* ISA IRQ2 is wired to IRQ9 on an AT. */
	pulse(2);
	is_int(vmm_pic_pending(pic.state), 0x29, "bus IRQ2 arrives as IRQ9");
	vmm_pic_ack(pic.state);
	eoi(0xa0);
	eoi(0x20);
	vmm_pic_set_irq(pic.state, 16, 1);
	vmm_pic_set_irq(pic.state, 1000, 1);
	is_int(vmm_pic_pending(pic.state), -1, "lines above 15 are ignored");
}

static void test_rotation_and_special_mask(void)
{
	fresh();
	init_pair(0x01, 0x01);
	pulse(0);
	vmm_pic_ack(pic.state);
	fake_outb(&pic, &fb, 0x20, 0xa0);       /* rotate on non-specific EOI */
	is_int(isr(0x20), 0, "rotate-on-EOI clears ISR");
	pulse(0);
	pulse(5);
	is_int(vmm_pic_ack(pic.state), 0x25, "after rotation IRQ0 is lowest: IRQ5 first");
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x20, "then IRQ0");
	fake_outb(&pic, &fb, 0x20, 0xe0);       /* rotate on specific EOI, IRQ0 */
	is_int(isr(0x20), 0, "rotate on specific EOI clears IRQ0");
	fake_outb(&pic, &fb, 0x20, 0xc3);       /* set priority: IRQ3 lowest */
	pulse(3);
	pulse(7);
	pulse(4);
	is_int(vmm_pic_ack(pic.state), 0x24, "IRQ3 lowest: IRQ4 is now highest");
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x27, "then IRQ7");
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x23, "then IRQ3");
	eoi(0x20);
	fake_outb(&pic, &fb, 0x20, 0xc7);       /* back to IRQ0 highest */

	/* Special mask mode: the handler masks its own level and lets lower
	 * priority levels in. */
	pulse(3);
	is_int(vmm_pic_ack(pic.state), 0x23, "IRQ3 in service");
	pulse(5);
	is_int(vmm_pic_pending(pic.state), -1, "IRQ5 blocked by IRQ3 in service");
	fake_outb(&pic, &fb, 0x21, 0x08);
	fake_outb(&pic, &fb, 0x20, 0x68);       /* OCW3: set special mask mode */
	is_int(vmm_pic_pending(pic.state), 0x25, "special mask mode lets IRQ5 in");
	fake_outb(&pic, &fb, 0x20, 0x48);       /* OCW3: reset special mask mode */
	is_int(vmm_pic_pending(pic.state), -1, "reset special mask mode: blocked again");
}

static void test_cascade(void)
{
	fresh();
	init_pair(0x01, 0x01);
	pulse(10);
	is_int(irr(0x20) & 0x04, 0x04, "slave request shows as master IRR bit 2");
	is_int(vmm_pic_pending(pic.state), 0x2a, "IRQ10 pending as slave vector 0x2a");
	is_int(vmm_pic_ack(pic.state), 0x2a, "ack delivers the slave vector");
	is_int(isr(0x20), 0x04, "master ISR bit 2 (cascade) set");
	is_int(isr(0xa0), 0x04, "slave ISR bit 2 (IRQ10) set");
	pulse(9);
	is_int(vmm_pic_pending(pic.state), -1, "IRQ9 blocked by the cascade in service");
	pulse(1);
	is_int(vmm_pic_pending(pic.state), 0x21, "IRQ1 beats the cascade");
	vmm_pic_ack(pic.state);
	eoi(0x20);
	eoi(0xa0);
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x29, "after both EOIs IRQ9 is delivered");
	eoi(0xa0);
	eoi(0x20);
	pulse(3);
	pulse(8);
	is_int(vmm_pic_ack(pic.state), 0x28, "slave (via IRQ2) beats master IRQ3");
	eoi(0xa0);
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x23, "then IRQ3");
	eoi(0x20);
	fake_outb(&pic, &fb, 0x21, 0x04);
	pulse(11);
	is_int(vmm_pic_pending(pic.state), -1, "master IMR bit 2 blocks the slave");
	fake_outb(&pic, &fb, 0x21, 0x00);
	is_int(vmm_pic_ack(pic.state), 0x2b, "unmasked: IRQ11 arrives");
	eoi(0xa0);
	eoi(0x20);
	fake_outb(&pic, &fb, 0xa1, 0x10);
	pulse(12);
	is_int(vmm_pic_pending(pic.state), -1, "slave IMR bit 4 blocks IRQ12");
	is_int(irr(0x20) & 0x04, 0, "a masked slave line raises no cascade request");

	/* Slave in auto-EOI with two requests: the second one must reach the
	 * master after the master's EOI, although the slave's INT never
	 * dropped in between. */
	fresh();
	init_pair(0x01, 0x03);
	pulse(10);
	pulse(11);
	is_int(vmm_pic_ack(pic.state), 0x2a, "slave AEOI: first IRQ10");
	is_int(isr(0xa0), 0, "slave AEOI: no slave ISR bit");
	is_int(vmm_pic_pending(pic.state), -1, "master cascade in service blocks");
	eoi(0x20);
	is_int(vmm_pic_ack(pic.state), 0x2b, "slave AEOI: IRQ11 follows after the master EOI");
}

static void test_spurious_aeoi_level(void)
{
	fresh();
	init_pair(0x01, 0x01);
	is_int(vmm_pic_ack(pic.state), 0x27, "ack with nothing pending: spurious IRQ7");
	is_int(isr(0x20), 0, "spurious IRQ7 sets no ISR bit");

	fake_outb(&pic, &fb, 0x4d0, 0x20);      /* IRQ5 level triggered */
	is_int(fake_inb(&pic, &fb, 0x4d0), 0x20, "ELCR reads back");
	vmm_pic_set_irq(pic.state, 5, 1);
	is_int(vmm_pic_pending(pic.state), 0x25, "level IRQ5 pending");
	vmm_pic_set_irq(pic.state, 5, 0);
	is_int(vmm_pic_pending(pic.state), -1, "level request gone when the line drops");
	is_int(vmm_pic_ack(pic.state), 0x27, "ack after it went away: spurious IRQ7");
	vmm_pic_set_irq(pic.state, 5, 1);
	is_int(vmm_pic_ack(pic.state), 0x25, "level IRQ5 acked");
	eoi(0x20);
	is_int(vmm_pic_pending(pic.state), 0x25, "level line still high: requests again after EOI");
	vmm_pic_set_irq(pic.state, 5, 0);
	is_int(vmm_pic_pending(pic.state), -1, "and stops when it drops");

	/* Spurious IRQ15: master latched the cascade edge, slave lost its
	 * level request before the acknowledge. */
	fake_outb(&pic, &fb, 0x4d1, 0x04);      /* IRQ10 level */
	vmm_pic_set_irq(pic.state, 10, 1);
	vmm_pic_set_irq(pic.state, 10, 0);
	is_int(vmm_pic_pending(pic.state), 0x2f, "slave request gone: spurious IRQ15 vector");
	is_int(vmm_pic_ack(pic.state), 0x2f, "ack delivers spurious IRQ15");
	is_int(isr(0x20), 0x04, "master still has the cascade in service");
	is_int(isr(0xa0), 0x00, "slave has nothing in service");
	eoi(0x20);

	fake_outb(&pic, &fb, 0x4d0, 0xff);
	fake_outb(&pic, &fb, 0x4d1, 0xff);
	is_int(fake_inb(&pic, &fb, 0x4d0), 0xf8, "ELCR: IRQ0-2 are edge only");
	is_int(fake_inb(&pic, &fb, 0x4d1), 0xde, "ELCR: IRQ8 and IRQ13 are edge only");
	fake_outb(&pic, &fb, 0x4d0, 0x00);
	fake_outb(&pic, &fb, 0x4d1, 0x00);

	/* Masking between pending and ack: spurious too. */
	pulse(6);
	is_int(vmm_pic_pending(pic.state), 0x26, "IRQ6 pending");
	fake_outb(&pic, &fb, 0x21, 0x40);
	is_int(vmm_pic_ack(pic.state), 0x27, "masked before ack: spurious IRQ7");
	fake_outb(&pic, &fb, 0x21, 0x00);
	is_int(vmm_pic_ack(pic.state), 0x26, "unmasked: the latched IRQ6 is delivered");
	eoi(0x20);

	/* Auto-EOI on the master. */
	fresh();
	init_pair(0x03, 0x01);
	pulse(4);
	is_int(vmm_pic_ack(pic.state), 0x24, "AEOI: IRQ4 delivered");
	is_int(isr(0x20), 0, "AEOI: ISR stays clear");
	pulse(6);
	is_int(vmm_pic_pending(pic.state), 0x26, "AEOI: lower priority not blocked");
	fake_outb(&pic, &fb, 0x20, 0x80);       /* rotate in AEOI mode: set */
	is_int(vmm_pic_ack(pic.state), 0x26, "AEOI rotate: IRQ6 delivered");
	pulse(4);
	pulse(7);
	is_int(vmm_pic_ack(pic.state), 0x27, "AEOI rotate: IRQ6 became lowest, IRQ7 highest");
}

static void test_ocw3_poll(void)
{
	fresh();
	init_pair(0x01, 0x01);
	fake_outb(&pic, &fb, 0x20, 0x0c);       /* poll */
	is_int(fake_inb(&pic, &fb, 0x20), 0x00, "poll with nothing pending reads 0");
	pulse(5);
	fake_outb(&pic, &fb, 0x20, 0x0c);
	is_int(fake_inb(&pic, &fb, 0x20), 0x85, "poll returns 0x80 | 5");
	is_int(isr(0x20), 0x20, "poll acknowledged IRQ5");
	is_int(vmm_pic_pending(pic.state), -1, "nothing left after poll");
	eoi(0x20);
	fake_outb(&pic, &fb, 0x20, 0x0b);
	pulse(1);
	is_int(fake_inb(&pic, &fb, 0x20), 0x00, "ISR selected stays selected");
	fake_outb(&pic, &fb, 0x20, 0x08);       /* OCW3 without RR: no change */
	is_int(fake_inb(&pic, &fb, 0x20), 0x00, "OCW3 without RR keeps ISR selected");
	fake_outb(&pic, &fb, 0x20, 0x0a);
	is_int(fake_inb(&pic, &fb, 0x20), 0x02, "IRR selected shows IRQ1");
	is_int(fake_in(&pic, &fb, 0x21, 2), 0x00, "word read of IMR: low byte, upper zero");
	fake_out(&pic, &fb, 0x21, 4, 0xffffff10);
	is_int(fake_inb(&pic, &fb, 0x21), 0x10, "dword write of IMR uses the low byte");
}

/* Random writes, line changes and acks. A shadow of the ICW sequence tells
 * which vector bases are legal; every delivered vector must come from one
 * of them, and ack must deliver what pending announced. */
static void test_fuzz(void)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22 };
	uint64_t seed = 0x8259a;
	int base[2] = { 0x08, 0x70 }, stage[2] = { 0, 0 }, ic4[2] = { 0, 0 }, single[2] = { 0, 0 };
	unsigned bad_vector = 0, mismatch = 0, delivered = 0;

	fresh();
	for (int i = 0; i < 200000; i++) {
		uint64_t r = fake_rand(&seed);
		unsigned op = r % 8;

		if (op < 3) {
			uint16_t port = ports[(r >> 8) % 7];
			unsigned size = 1u << ((r >> 16) % 3);
			uint32_t v = (uint32_t)(r >> 24);
			unsigned c = port == 0xa0 || port == 0xa1;

			/* Keep ICW1 rare so that the pair spends time initialised. */
			if ((port & ~0x80) == 0x20 && (v & 0x10) && (r >> 60) != 0)
				v &= ~0x10u;
			fake_out(&pic, &fb, port, size, v);
			if (port == 0x20 || port == 0xa0) {
				if (v & 0x10) {
					stage[c] = 1;
					ic4[c] = v & 1;
					single[c] = (v >> 1) & 1;
				}
			} else if (port == 0x21 || port == 0xa1) {
				if (stage[c] == 1) {
					base[c] = v & 0xf8;
					stage[c] = single[c] ? (ic4[c] ? 3 : 0) : 2;
				} else if (stage[c] == 2) {
					stage[c] = ic4[c] ? 3 : 0;
				} else if (stage[c] == 3) {
					stage[c] = 0;
				}
			}
		} else if (op < 4) {
			fake_in(&pic, &fb, ports[(r >> 8) % 7], 1u << ((r >> 16) % 3));
		} else if (op < 6) {
			vmm_pic_set_irq(pic.state, (r >> 8) % 20, (r >> 16) & 1);
		} else {
			int p = vmm_pic_pending(pic.state);
			int v = op == 6 ? vmm_pic_ack(pic.state) : p;

			if (op == 6 && p >= 0 && v != p)
				mismatch++;
			if (v >= 0) {
				delivered++;
				if (!((v >= base[0] && v < base[0] + 8) || (v >= base[1] && v < base[1] + 8)))
					bad_vector++;
			}
		}
	}
	is_int(bad_vector, 0, "fuzz: every vector lies in an ICW2-programmed range");
	is_int(mismatch, 0, "fuzz: ack always delivers what pending announced");
	ok(delivered > 1000, "fuzz: interrupts were delivered (%u)", delivered);
	is_int(fb.clock_reads, 0, "the PIC never reads the clock");
}

int main(void)
{
	test_reset_and_icw();
	test_priority_and_eoi();
	test_rotation_and_special_mask();
	test_cascade();
	test_spurious_aeoi_level();
	test_ocw3_poll();
	test_fuzz();
	is_int(vmm_dev_pic.next_deadline == NULL && vmm_dev_pic.poll == NULL, 1,
	       "the PIC has no timer");
	fake_dev_free(&pic);
	return tap_done();
}
