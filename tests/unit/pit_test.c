/*
 * pit_test.c — unit tests of the 8254 PIT and port 0x61 (vmm/dev_pit.c):
 * counts of modes 0, 2 and 3 at chosen clock values, access modes, the
 * counter latch and read-back commands, status bytes, deferred reloads,
 * gates, modes 1 and 4, IRQ0 deadlines and edges over time (coalescing
 * included), port 0x61, clock-read discipline and a random-input run.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define HZ 1193182ull
#define T0 1000000000ull        /* when the tests load their counts */

static struct fake_bus fb;
static struct fake_dev pit;

/* The first nanosecond at which k input ticks have elapsed since T0. */
static uint64_t at(uint64_t k)
{
	return T0 + (k * 1000000000ull + HZ - 1) / HZ;
}

/* The first nanosecond at which k ticks have elapsed since start. */
static uint64_t since(uint64_t start, uint64_t k)
{
	return start + (k * 1000000000ull + HZ - 1) / HZ;
}

static void fresh(void)
{
	if (pit.state)
		fake_dev_free(&pit);
	fake_bus_init(&fb);
	fake_dev_init(&pit, &vmm_dev_pit);
	fb.mono = T0;
}

static void load(unsigned ch, uint8_t control, unsigned count)
{
	fake_outb(&pit, &fb, 0x43, control);
	fake_outb(&pit, &fb, (uint16_t)(0x40 + ch), count & 0xff);
	fake_outb(&pit, &fb, (uint16_t)(0x40 + ch), (count >> 8) & 0xff);
}

/* Read a lo/hi counter at a fixed clock value. */
static unsigned read16(unsigned ch)
{
	unsigned lo = fake_inb(&pit, &fb, (uint16_t)(0x40 + ch));

	return lo | (unsigned)fake_inb(&pit, &fb, (uint16_t)(0x40 + ch)) << 8;
}

static unsigned count_at(unsigned ch, uint64_t ns)
{
	fb.mono = ns;
	return read16(ch);
}

static uint8_t status_at(unsigned ch, uint64_t ns)
{
	fb.mono = ns;
	fake_outb(&pit, &fb, 0x43, (uint8_t)(0xe0 | 2u << ch));
	return fake_inb(&pit, &fb, (uint16_t)(0x40 + ch));
}

static int out_at(unsigned ch, uint64_t ns)
{
	return status_at(ch, ns) >> 7;
}

static uint64_t deadline(void)
{
	return vmm_dev_pit.next_deadline(pit.state);
}

static void poll_at(uint64_t ns)
{
	fb.mono = ns;
	vmm_dev_pit.poll(pit.state, &fb.bus, ns);
}

static void test_mode0(void)
{
	unsigned reads;

	fresh();
	is_int(deadline(), UINT64_MAX, "reset: no IRQ0 deadline");
	is_int(fb.clock_reads, 0, "reset reads no clock");
	load(0, 0x30, 1000);
	is_int(fb.clock_reads, 1, "loading a running count reads the clock once");
	is_int(status_at(0, T0), 0x30, "mode 0 status: OUT low, count loaded, lo/hi, mode 0");
	is_int(count_at(0, T0), 1000, "mode 0: counter reads N at load");
	is_int(count_at(0, at(100)), 900, "mode 0: N - 100 after 100 ticks");
	is_int(count_at(0, at(100) - 1), 901, "mode 0: one ns earlier is still tick 99");
	is_int(count_at(0, at(999)), 1, "mode 0: 1 at tick 999");
	is_int(out_at(0, at(1000) - 1), 0, "mode 0: OUT low before terminal count");
	is_int(out_at(0, at(1000)), 1, "mode 0: OUT high at terminal count");
	is_int(count_at(0, at(1001)), 0xffff, "mode 0: counter wraps after 0");
	is_int(out_at(0, at(5000)), 1, "mode 0: OUT stays high");

	fb.mono = T0 + 5;
	reads = fb.clock_reads;
	fake_inb(&pit, &fb, 0x40);
	is_int(fb.clock_reads - reads, 1, "a counter read reads the clock once");
	fake_inb(&pit, &fb, 0x40);

	/* IRQ0: one edge at terminal count, then never again. */
	fresh();
	load(0, 0x30, 1000);
	is_int(deadline(), at(1000), "mode 0: deadline is the terminal count");
	poll_at(at(1000) - 1);
	is_int(fb.nedges, 0, "poll before the deadline: no edge");
	poll_at(at(1000));
	is_int(fake_rises(&fb, 0), 1, "poll at the deadline: one IRQ0 pulse");
	is_int(fb.nedges, 2, "the pulse is raise then lower");
	ok(fb.nedges == 2 && fb.edges[0].level == 1 && fb.edges[1].level == 0 && fb.edges[0].irq == 0,
	   "IRQ0 raised then lowered");
	is_int(deadline(), UINT64_MAX, "mode 0 is one-shot: no further deadline");
	poll_at(at(70000));
	is_int(fake_rises(&fb, 0), 1, "no edge when the counter wraps");

	/* Writing the first byte of a lo/hi count stops mode 0. */
	fresh();
	load(0, 0x30, 1000);
	fb.mono = at(10);
	fake_outb(&pit, &fb, 0x40, 0x20);
	is_int(deadline(), UINT64_MAX, "mode 0: first byte of a new count stops counting");
	is_int(out_at(0, at(2000)), 0, "mode 0: OUT low while the count is incomplete");
	fb.mono = at(3000);
	fake_outb(&pit, &fb, 0x40, 0x00);
	is_int(deadline(), since(at(3000), 32), "mode 0: second byte restarts with 0x20");
	is_int(count_at(0, since(at(3000), 10)), 22, "mode 0: counting from the new count");
}

static void test_mode2_mode3(void)
{
	fresh();
	load(0, 0x34, 100);
	is_int(count_at(0, T0), 100, "mode 2: N at load");
	is_int(count_at(0, at(30)), 70, "mode 2: N - 30");
	is_int(count_at(0, at(99)), 1, "mode 2: reaches 1");
	is_int(count_at(0, at(100)), 100, "mode 2: reloads N instead of 0");
	is_int(count_at(0, at(250)), 50, "mode 2: periodic");
	is_int(out_at(0, at(98)), 1, "mode 2: OUT high while counting");
	is_int(out_at(0, at(99)), 0, "mode 2: OUT low for the tick at count 1");
	is_int(out_at(0, at(100)), 1, "mode 2: OUT high again after reload");

	fresh();
	load(0, 0x34, 100);
	is_int(deadline(), at(100), "mode 2: first IRQ0 after N ticks");
	poll_at(at(100));
	is_int(fake_rises(&fb, 0), 1, "mode 2: first edge");
	is_int(deadline(), at(200), "mode 2: next deadline one period later");
	poll_at(at(200) + 3);
	is_int(fake_rises(&fb, 0), 2, "mode 2: second edge");
	poll_at(at(200) + 5);
	is_int(fake_rises(&fb, 0), 2, "mode 2: no double delivery in the same period");
	poll_at(at(550));
	is_int(fake_rises(&fb, 0), 3, "mode 2: three missed periods coalesce into one edge");
	is_int(deadline(), at(600), "mode 2: next deadline after the coalesced ones");
	is_int(fb.redundant_irq, 0, "set_irq only on changes");

	/* Count 0 means 65536. */
	fresh();
	load(0, 0x34, 0);
	is_int(deadline(), at(65536), "count 0 is 65536");
	is_int(count_at(0, at(1)), 65535, "count 0: 65535 after one tick");

	/* Mode 3, even count: half high, half low, counting down by two. */
	fresh();
	load(0, 0x36, 10);
	is_int(count_at(0, T0), 10, "mode 3 even: 10");
	is_int(count_at(0, at(1)), 8, "mode 3 even: decrements by 2");
	is_int(count_at(0, at(4)), 2, "mode 3 even: 2 at the end of the high half");
	is_int(count_at(0, at(5)), 10, "mode 3 even: reload for the low half");
	is_int(out_at(0, at(4)), 1, "mode 3 even: high for ticks 0-4");
	is_int(out_at(0, at(5)), 0, "mode 3 even: low from tick 5");
	is_int(out_at(0, at(9)), 0, "mode 3 even: low until tick 9");
	is_int(out_at(0, at(10)), 1, "mode 3 even: high again at tick 10");
	is_int(deadline(), at(10), "mode 3: IRQ0 on each rising edge");
	poll_at(at(10));
	is_int(deadline(), at(20), "mode 3: period N");

	/* Mode 3, odd count: high (N+1)/2 ticks, low (N-1)/2. */
	fresh();
	load(0, 0x36, 11);
	is_int(out_at(0, at(5)), 1, "mode 3 odd: high at tick 5");
	is_int(out_at(0, at(6)), 0, "mode 3 odd: low from tick 6");
	is_int(out_at(0, at(10)), 0, "mode 3 odd: low at tick 10");
	is_int(out_at(0, at(11)), 1, "mode 3 odd: high at tick 11");
	is_int(count_at(0, T0), 10, "mode 3 odd: counts from N - 1");

	/* Mode 6 and 7 are aliases of 2 and 3. */
	fresh();
	load(0, 0x3c, 100);
	is_int(count_at(0, at(150)), 50, "mode 6 behaves as mode 2");
	is_int(status_at(0, at(150)) & 0x0e, 0x0c, "status shows the mode bits as written");
}

static void test_reload_while_counting(void)
{
	/* Mode 2: a count written while counting loads at the period end. */
	fresh();
	load(0, 0x34, 100);
	fb.mono = at(30);
	fake_outb(&pit, &fb, 0x40, 50);
	fake_outb(&pit, &fb, 0x40, 0);
	is_int(status_at(0, at(31)) & 0x40, 0x40, "mode 2: new count waits (null count)");
	is_int(count_at(0, at(60)), 40, "mode 2: old count continues");
	is_int(count_at(0, at(100)), 50, "mode 2: new count loaded at the period end");
	is_int(count_at(0, at(120)), 30, "mode 2: counting the new count");
	is_int(status_at(0, at(121)) & 0x40, 0, "mode 2: null count clear once loaded");
	is_int(deadline(), at(100), "mode 2 reload: IRQ0 still at the old period end");
	poll_at(at(100));
	is_int(deadline(), at(150), "mode 2 reload: then every 50 ticks");

	/* Mode 3: loads at the end of the current half-cycle. */
	fresh();
	load(0, 0x36, 100);
	fb.mono = at(10);
	fake_outb(&pit, &fb, 0x40, 20);
	fake_outb(&pit, &fb, 0x40, 0);
	is_int(out_at(0, at(49)), 1, "mode 3 reload: still the old high half");
	is_int(out_at(0, at(50)), 0, "mode 3 reload: old half ends at 50, low half begins");
	is_int(count_at(0, at(50)), 20, "mode 3 reload: new count in the low half");
	is_int(out_at(0, at(59)), 0, "mode 3 reload: low half lasts 10 ticks");
	is_int(out_at(0, at(60)), 1, "mode 3 reload: high at 60");
	is_int(deadline(), at(60), "mode 3 reload: IRQ0 at the first new rising edge");
	poll_at(at(60));
	is_int(deadline(), at(80), "mode 3 reload: then every 20 ticks");

	/* Mode 4: software strobe, edge after the one-tick low pulse. */
	fresh();
	load(0, 0x38, 10);
	is_int(out_at(0, at(9)), 1, "mode 4: OUT high while counting");
	is_int(out_at(0, at(10)), 0, "mode 4: low strobe at terminal count");
	is_int(out_at(0, at(11)), 1, "mode 4: high again");
	is_int(deadline(), at(11), "mode 4: IRQ0 edge at the end of the strobe");
	poll_at(at(11));
	is_int(deadline(), UINT64_MAX, "mode 4: one strobe only");
}

static void test_access_latch_readback(void)
{
	unsigned reads;

	fresh();
	fake_outb(&pit, &fb, 0x43, 0x14);       /* ch0, lobyte only, mode 2 */
	fake_outb(&pit, &fb, 0x40, 0x50);
	is_int(fake_inb(&pit, &fb, 0x40), 0x50, "lobyte access: count 0x50");
	fb.mono = at(0x10);
	is_int(fake_inb(&pit, &fb, 0x40), 0x40, "lobyte access: every read is the low byte");
	is_int(fake_inb(&pit, &fb, 0x40), 0x40, "lobyte access: no toggling");
	fresh();
	fake_outb(&pit, &fb, 0x43, 0x60);       /* ch1, hibyte only, mode 0 */
	fake_outb(&pit, &fb, 0x41, 0x12);
	is_int(fake_inb(&pit, &fb, 0x41), 0x12, "hibyte access: count 0x1200");
	fb.mono = at(0x201);
	is_int(fake_inb(&pit, &fb, 0x41), 0x0f, "hibyte access: high byte of 0x0fff");

	/* Counter latch. */
	fresh();
	load(0, 0x34, 1000);
	fb.mono = at(100);
	fake_outb(&pit, &fb, 0x43, 0x00);
	fb.mono = at(500);
	fake_outb(&pit, &fb, 0x43, 0x00);       /* ignored: first latch not read */
	reads = fb.clock_reads;
	is_int(read16(0), 900, "latch holds the count at latch time");
	is_int(fb.clock_reads, reads, "reading a latch reads no clock");
	is_int(read16(0), 500, "after the latch is read, reads are live");
	fb.mono = at(600);
	fake_outb(&pit, &fb, 0x43, 0x00);
	is_int(fake_inb(&pit, &fb, 0x40), 400 & 0xff, "latch: low byte");
	fake_outb(&pit, &fb, 0x43, 0x34);
	is_int(fake_inb(&pit, &fb, 0x40), 1000 & 0xff, "control word drops a half-read latch");

	/* Read-back. */
	fresh();
	load(0, 0x34, 1000);
	load(2, 0xb6, 300);
	fb.mono = at(200);
	reads = fb.clock_reads;
	fake_outb(&pit, &fb, 0x43, 0xc2);       /* count and status of ch0 */
	is_int(fb.clock_reads - reads, 1, "read-back reads the clock once");
	fb.mono = at(400);
	is_int(fake_inb(&pit, &fb, 0x40), 0xb4, "read-back: status first (OUT high, lo/hi, mode 2)");
	is_int(read16(0), 800, "read-back: then the latched count");
	is_int(read16(0), 600, "read-back: then live counts");
	fake_outb(&pit, &fb, 0x43, 0xd2);       /* count only */
	fb.mono = at(500);
	is_int(read16(0), 600, "read-back count only");
	fake_outb(&pit, &fb, 0x43, 0xe2);       /* status only */
	is_int(fake_inb(&pit, &fb, 0x40), 0xb4, "read-back status only");
	is_int(read16(0), 500, "status only: count stays live");
	fake_outb(&pit, &fb, 0x43, 0xca);       /* count and status of ch0 and ch2 */
	is_int(fake_inb(&pit, &fb, 0x42), 0xb6, "read-back ch2 status: gate low, mode 3 OUT high");
	is_int(read16(2), 300, "read-back ch2 count (gate low: not counting)");
	is_int(fake_inb(&pit, &fb, 0x40), 0xb4, "read-back ch0 status");
	is_int(read16(0), 500, "read-back ch0 count");

	fake_outb(&pit, &fb, 0x43, 0x31);       /* ch0, BCD requested */
	is_int(status_at(0, at(500)), 0x71, "BCD bit kept; status shows null count before a count");
	load(0, 0x31, 0x100);
	is_int(count_at(0, at(500)) , 0x100, "BCD mode counts in binary");
	is_int(fake_inb(&pit, &fb, 0x43), 0xff, "the control port reads as nothing");
	is_int(fake_in(&pit, &fb, 0x43, 2), 0xffff, "the control port reads as nothing, word");
}

static void test_port61_gate(void)
{
	unsigned reads;

	fresh();
	fb.mono = 0;
	is_int(fake_inb(&pit, &fb, 0x61) & 0x10, 0x00, "refresh bit 0 at t=0");
	fb.mono = 15085;
	is_int(fake_inb(&pit, &fb, 0x61) & 0x10, 0x10, "refresh bit toggles after 15.085 us");
	fb.mono = 2 * 15085;
	is_int(fake_inb(&pit, &fb, 0x61) & 0x10, 0x00, "and back after 30.17 us");
	fb.mono = T0;
	fake_outb(&pit, &fb, 0x61, 0xfe);
	is_int(fake_inb(&pit, &fb, 0x61) & 0xcf, 0x0e, "bits 0-3 as written, 6-7 read 0");

	/* Channel 2 mode 0 gated by bit 0; bit 5 shows OUT. */
	fake_outb(&pit, &fb, 0x61, 0x00);
	load(2, 0xb0, 100);
	is_int(count_at(2, at(50)), 100, "gate low: channel 2 does not count");
	fb.mono = at(50);
	fake_outb(&pit, &fb, 0x61, 0x01);
	is_int(count_at(2, since(at(50), 40)), 60, "gate high: counting starts");
	fb.mono = since(at(50), 40);
	reads = fb.clock_reads;
	fake_outb(&pit, &fb, 0x61, 0x00);
	is_int(fb.clock_reads - reads, 1, "gate change reads the clock once");
	is_int(count_at(2, at(500)), 60, "gate low pauses mode 0");
	fb.mono = at(500);
	is_int(fake_inb(&pit, &fb, 0x61) & 0x20, 0, "bit 5: OUT2 low before terminal count");
	fake_outb(&pit, &fb, 0x61, 0x01);
	is_int(count_at(2, since(at(500), 30)), 30, "gate high resumes where it paused");
	fb.mono = since(at(500), 60);
	is_int(fake_inb(&pit, &fb, 0x61) & 0x20, 0x20, "bit 5: OUT2 high after terminal count");
	reads = fb.clock_reads;
	fake_outb(&pit, &fb, 0x61, 0x03);
	is_int(fb.clock_reads, reads, "writing 0x61 without a gate change reads no clock");

	/* Mode 2 on channel 2: gate low forces OUT high, rising reloads. */
	fresh();
	fake_outb(&pit, &fb, 0x61, 0x01);
	load(2, 0xb4, 100);
	is_int(count_at(2, at(40)), 60, "ch2 mode 2 counting");
	fb.mono = at(40);
	fake_outb(&pit, &fb, 0x61, 0x00);
	fb.mono = at(70);
	fake_outb(&pit, &fb, 0x61, 0x01);
	is_int(count_at(2, at(70)), 100, "mode 2: gate rising reloads");
	is_int(count_at(2, since(at(70), 10)), 90, "mode 2: and counts from there");

	/* Mode 1: hardware one-shot triggered by the gate. */
	fresh();
	load(2, 0xb2, 50);
	is_int(out_at(2, at(10)), 1, "mode 1: OUT high before trigger");
	is_int(status_at(2, at(10)) & 0x40, 0x40, "mode 1: null count until triggered");
	fb.mono = at(20);
	fake_outb(&pit, &fb, 0x61, 0x01);
	is_int(out_at(2, at(21)), 0, "mode 1: OUT low after trigger");
	is_int(count_at(2, since(at(20), 10)), 40, "mode 1: counts from the trigger");
	is_int(out_at(2, since(at(20), 50) - 1), 0, "mode 1: OUT low until terminal count");
	is_int(out_at(2, since(at(20), 50)), 1, "mode 1: OUT high at terminal count");
	fb.mono = at(80);
	fake_outb(&pit, &fb, 0x61, 0x00);
	fb.mono = at(90);
	fake_outb(&pit, &fb, 0x61, 0x01);
	is_int(out_at(2, at(91)), 0, "mode 1: retriggered");
	is_int(fake_rises(&fb, 0), 0, "channel 2 never touches IRQ0");
	is_int(deadline(), UINT64_MAX, "channel 2 sets no deadline");
}

/* Random accesses and clock steps. Invariants: at most one clock read per
 * access, none in poll, IRQ0 pulses are well-formed, the deadline is
 * always in the future after a poll, and 8-bit reads fit in 8 bits. */
static void test_fuzz(void)
{
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x44 };
	uint64_t seed = 0x8254;
	unsigned too_many_reads = 0, past_deadline = 0, wide = 0, poll_reads = 0;

	fresh();
	fb.mono = 12345;
	for (int i = 0; i < 300000; i++) {
		uint64_t r = fake_rand(&seed);
		uint16_t port = ports[(r >> 8) % 6];
		unsigned size = 1u << ((r >> 16) % 3), before = fb.clock_reads;
		uint64_t d;

		fb.mono += (r >> 40) % 4 == 0 ? (r >> 20) % 100000000 : (r >> 20) % 5000;
		switch (r % 4) {
		case 0:
		case 1:
			fake_out(&pit, &fb, port, size, (uint32_t)(r >> 24));
			break;
		case 2: {
			uint32_t v = fake_in(&pit, &fb, port, size);

			if (port != 0x43 && port != 0x44 && v > 0xff)
				wide++;
			break;
		}
		default:
			d = deadline();
			if (d <= fb.mono) {
				poll_at(fb.mono);
				if (fb.clock_reads != before)
					poll_reads++;
				if (deadline() <= fb.mono)
					past_deadline++;
			}
			break;
		}
		if (fb.clock_reads - before > 1)
			too_many_reads++;
	}
	is_int(too_many_reads, 0, "fuzz: never more than one clock read per access");
	is_int(poll_reads, 0, "fuzz: poll reads no clock");
	is_int(past_deadline, 0, "fuzz: after a poll the deadline is in the future");
	is_int(wide, 0, "fuzz: 8-bit registers read as 8 bits");
	is_int(fb.redundant_irq + fb.bad_irq, 0, "fuzz: IRQ0 pulses are clean");
	ok(fake_rises(&fb, 0) > 10, "fuzz: IRQ0 fired (%u)", fake_rises(&fb, 0));
}

int main(void)
{
	test_mode0();
	test_mode2_mode3();
	test_reload_while_counting();
	test_access_latch_readback();
	test_port61_gate();
	test_fuzz();
	fake_dev_free(&pit);
	return tap_done();
}
