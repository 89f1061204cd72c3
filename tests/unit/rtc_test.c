/*
 * rtc_test.c — unit tests of the MC146818 RTC (vmm/dev_rtc.c): a known
 * epoch time decoded in BCD, binary and 12-hour modes, civil-time
 * conversion against libc's gmtime_r over many instants, leap years,
 * the UIP window, writes to the time registers and the SET bit, the
 * periodic, update-ended and alarm interrupts with register C, CMOS RAM,
 * clock-read discipline and a random-input run.
 */
#define _GNU_SOURCE
#include <time.h>
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define NS 1000000000ull
#define EPOCH 1795282205ull     /* 2026-11-21 17:30:05 UTC, a Saturday */
#define MONO0 (5 * NS)

static struct fake_bus fb;
static struct fake_dev rtc;

/* Host clock: EPOCH + 0.5 s at monotonic MONO0. No access yet. */
static void fresh_raw(void)
{
	if (rtc.state)
		fake_dev_free(&rtc);
	fake_bus_init(&fb);
	fake_dev_init(&rtc, &vmm_dev_rtc);
	fb.mono = MONO0;
	fb.real = EPOCH * NS + NS / 2;
}

static uint8_t rd(uint8_t index)
{
	fake_outb(&rtc, &fb, 0x70, index);
	return fake_inb(&rtc, &fb, 0x71);
}

/* The first time access ties the RTC to the host clock: make it at MONO0
 * so that second boundaries fall at MONO0 + 0.5 s + k. */
static void fresh(void)
{
	fresh_raw();
	rd(0x0a);
}

static void wr(uint8_t index, uint8_t v)
{
	fake_outb(&rtc, &fb, 0x70, index);
	fake_outb(&rtc, &fb, 0x71, v);
}

/* Monotonic time of the guest's next second boundary + k seconds. */
static uint64_t boundary(unsigned k)
{
	return MONO0 + NS / 2 + k * NS;
}

static uint64_t deadline(void)
{
	return vmm_dev_rtc.next_deadline(rtc.state);
}

static void poll_at(uint64_t ns)
{
	fb.mono = ns;
	vmm_dev_rtc.poll(rtc.state, &fb.bus, ns);
}

/* Set the guest time with SET held, the way an OS does. BCD, 24 h. */
static void set_time(unsigned cent, unsigned yr, unsigned mon, unsigned day, unsigned h,
		     unsigned m, unsigned s)
{
	wr(0x0b, 0x82);
	wr(0x00, (uint8_t)s);
	wr(0x02, (uint8_t)m);
	wr(0x04, (uint8_t)h);
	wr(0x07, (uint8_t)day);
	wr(0x08, (uint8_t)mon);
	wr(0x09, (uint8_t)yr);
	wr(0x32, (uint8_t)cent);
	wr(0x0b, 0x02);
}

static void test_registers(void)
{
	unsigned reads;

	fresh_raw();
	is_int(rd(0x0b), 0x02, "reset: B = 24 h, BCD");
	is_int(rd(0x0d), 0x80, "reset: D = valid RAM and time");
	is_int(fb.clock_reads, 0, "B and D read no clock");
	is_int(fake_inb(&rtc, &fb, 0x70), 0xff, "index port is write-only");
	is_int(rd(0x0a), 0x26, "reset: A = 32 kHz base, 1024 Hz, not updating");
	is_int(fb.real_reads, 1, "first time access reads the realtime clock once");
	is_int(fb.mono_reads, 1, "and the monotonic clock once");
	reads = fb.clock_reads;
	is_int(rd(0x00), 0x05, "BCD seconds 05");
	is_int(fb.clock_reads - reads, 1, "later time accesses read one clock");
	is_int(fb.real_reads, 1, "the realtime clock is read only once");
	is_int(rd(0x02), 0x30, "BCD minutes 30");
	is_int(rd(0x04), 0x17, "BCD hours 17");
	is_int(rd(0x06), 7, "day of week: Saturday is 7");
	is_int(rd(0x07), 0x21, "BCD day 21");
	is_int(rd(0x08), 0x11, "BCD month 11");
	is_int(rd(0x09), 0x26, "BCD year 26");
	is_int(rd(0x32), 0x20, "BCD century 20");

	wr(0x0b, 0x06);
	is_int(rd(0x00), 5, "binary seconds");
	is_int(rd(0x02), 30, "binary minutes");
	is_int(rd(0x04), 17, "binary hours");
	is_int(rd(0x07), 21, "binary day");
	is_int(rd(0x08), 11, "binary month");
	is_int(rd(0x09), 26, "binary year");
	is_int(rd(0x32), 20, "binary century");
	wr(0x0b, 0x04);
	is_int(rd(0x04), 0x85, "binary 12 h: 5 PM = 0x85");
	wr(0x0b, 0x00);
	is_int(rd(0x04), 0x85, "BCD 12 h: 5 PM = 0x85");
	wr(0x04, 0x12);                         /* 12 AM */
	wr(0x0b, 0x02);
	is_int(rd(0x04), 0x00, "12 AM written in 12 h mode is hour 0");
	wr(0x0b, 0x00);
	wr(0x04, 0x92);                         /* 12 PM */
	wr(0x0b, 0x02);
	is_int(rd(0x04), 0x12, "12 PM written in 12 h mode is hour 12");
	wr(0x04, 0x09);
	wr(0x0b, 0x00);
	is_int(rd(0x04), 0x09, "9 AM reads 0x09 in 12 h mode");
	wr(0x04, 0x00);
	wr(0x0b, 0x00);
	is_int(rd(0x04), 0x12, "midnight reads 12 AM (0x12)");

	fresh();
	fb.mono = MONO0 + 2 * NS;
	is_int(rd(0x00), 0x07, "two seconds later: 07");
	fb.mono = MONO0 + 55 * NS;
	is_int(rd(0x00), 0x00, "55 s later: seconds wrap");
	is_int(rd(0x02), 0x31, "and minutes carry");
	fb.mono = MONO0 + (uint64_t)(6 * 3600 + 30 * 60) * NS;
	is_int(rd(0x07), 0x22, "6.5 hours later: next day");
	is_int(rd(0x06), 1, "Sunday is 1");
	is_int(rd(0x04), 0x00, "midnight");

	/* CMOS RAM and the NMI bit. */
	fresh_raw();
	wr(0x40, 0x5a);
	fake_outb(&rtc, &fb, 0x70, 0xc0);       /* NMI disabled, index 0x40 */
	is_int(fake_inb(&rtc, &fb, 0x71), 0x5a, "RAM reads back through an NMI-off index");
	wr(0x7f, 0xa5);
	is_int(rd(0x7f), 0xa5, "last RAM byte");
	is_int(rd(0x0e), 0x00, "RAM starts zeroed");
	is_int(fb.clock_reads, 0, "RAM accesses read no clock");
	wr(0x0d, 0x00);
	is_int(rd(0x0d), 0x80, "D is read-only");
	wr(0x0a, 0xa3);
	is_int(rd(0x0a), 0x23, "A: UIP is read-only");
	is_int(fake_in(&rtc, &fb, 0x71, 2) & 0xff00, 0, "word read: upper byte zero");
	is_int(fake_in(&rtc, &fb, 0x70, 4), 0xffffffff, "index port dword read: nothing there");
}

/* Civil time against libc's gmtime_r for many instants, 1970-2500. */
static void test_civil(void)
{
	uint64_t seed = 146818;
	unsigned bad = 0;

	for (int i = 0; i < 3000; i++) {
		uint64_t t = fake_rand(&seed) % 16725225600ull;  /* up to 2500-01-01 */
		time_t tt = (time_t)t;
		struct tm tm;

		if (i == 0)
			t = 951782400, tt = (time_t)t;          /* 2000-02-29 */
		if (i == 1)
			t = 4107456000ull, tt = (time_t)t;      /* 2100-02-28 */
		fresh_raw();
		fb.real = t * NS;
		wr(0x0b, 0x06);
		gmtime_r(&tt, &tm);
		if (rd(0x00) != tm.tm_sec || rd(0x02) != tm.tm_min || rd(0x04) != tm.tm_hour ||
		    rd(0x07) != tm.tm_mday || rd(0x08) != tm.tm_mon + 1 ||
		    rd(0x09) + 100 * rd(0x32) != tm.tm_year + 1900 || rd(0x06) != tm.tm_wday + 1) {
			if (bad++ < 3)
				diag("mismatch at %llu", (unsigned long long)t);
		}
	}
	is_int(bad, 0, "civil time matches gmtime_r at 3000 instants");
}

static void test_leap_and_writes(void)
{
	fresh();
	set_time(0x20, 0x24, 0x02, 0x28, 0x23, 0x59, 0x59);
	is_int(rd(0x07), 0x28, "set 2024-02-28 23:59:59");
	fb.mono = boundary(0);
	is_int(rd(0x07), 0x29, "2024 is a leap year: Feb 29");
	is_int(rd(0x08), 0x02, "still February");
	is_int(rd(0x06), 5, "2024-02-29 is a Thursday");
	is_int(rd(0x04), 0x00, "00 hours");
	set_time(0x21, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59);
	fb.mono = boundary(1);
	is_int(rd(0x08), 0x03, "2100 is not a leap year: March");
	is_int(rd(0x07), 0x01, "March 1");
	set_time(0x20, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59);
	fb.mono = boundary(2);
	is_int(rd(0x07), 0x29, "2000 is a leap year (divisible by 400)");
	is_int(rd(0x06), 3, "2000-02-29 is a Tuesday");
	set_time(0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59);
	fb.mono = boundary(3);
	is_int(rd(0x09), 0x00, "1999 rolls over to year 00");
	is_int(rd(0x32), 0x20, "and century 20");
	is_int(rd(0x08), 0x01, "January");

	/* Single-field writes while running keep the other fields. */
	fresh();
	wr(0x00, 0x45);
	is_int(rd(0x00), 0x45, "seconds written");
	is_int(rd(0x02), 0x30, "minutes kept");
	fb.mono = boundary(0);
	is_int(rd(0x00), 0x46, "time runs on from the written value");
	wr(0x09, 0x27);
	is_int(rd(0x09), 0x27, "year written");
	is_int(rd(0x06), 1, "2027-11-21 is a Sunday");
	wr(0x06, 0x03);
	is_int(rd(0x06), 3, "day of week written");
	fb.mono = boundary(0) + 86400 * NS;
	is_int(rd(0x06), 4, "and advances at midnight");
	wr(0x08, 0x13);
	is_int(rd(0x08), 0x13, "month 13 reads as written until the next update");
	fb.mono += NS;
	ok(rd(0x08) >= 1 && rd(0x08) <= 0x12, "the update folds month 13 into a valid month");
	wr(0x00, 0xff);
	fb.mono += NS;
	ok((rd(0x00) >> 4) < 6 && (rd(0x00) & 15) < 10, "garbage seconds give valid BCD seconds");

	/* SET freezes the clock; clearing it resumes from the frozen time. */
	fresh();
	wr(0x0b, 0x82);
	fb.mono = MONO0 + 10 * NS;
	is_int(rd(0x00), 0x05, "SET: time frozen");
	wr(0x00, 0x20);
	is_int(rd(0x00), 0x20, "SET: writes change the frozen time");
	wr(0x0b, 0x02);
	is_int(rd(0x00), 0x20, "SET cleared: resumes from the written time");
	fb.mono = MONO0 + 11 * NS;
	is_int(rd(0x00), 0x21, "and runs");
	wr(0x0b, 0x12);
	wr(0x0b, 0x92);
	is_int(rd(0x0b), 0x82, "setting SET clears UIE");
	wr(0x0b, 0x02);
}

static void test_uip(void)
{
	fresh();
	fb.mono = MONO0 + NS / 2 - 244000;
	is_int(rd(0x0a), 0xa6, "UIP set 244 us before the second");
	fb.mono = MONO0 + NS / 2 - 244001;
	is_int(rd(0x0a), 0x26, "UIP clear just before the window");
	fb.mono = MONO0 + NS / 2 - 1;
	is_int(rd(0x0a), 0xa6, "UIP set 1 ns before the second");
	is_int(rd(0x00), 0x05, "seconds not yet updated");
	fb.mono = MONO0 + NS / 2;
	is_int(rd(0x0a), 0x26, "UIP clear at the second");
	is_int(rd(0x00), 0x06, "seconds updated");
	wr(0x0b, 0x82);
	fb.mono = MONO0 + NS + NS / 2 - 1000;
	is_int(rd(0x0a), 0x26, "no UIP while SET holds updates");
}

static void test_interrupts(void)
{
	uint64_t d, start;

	/* Periodic, 1024 Hz. */
	fresh();
	wr(0x0b, 0x42);
	start = fb.mono;
	d = deadline();
	ok(d > start && d - start <= 976563, "PIE: deadline within one 1024 Hz period");
	poll_at(d - 1);
	is_int(fb.nedges, 0, "PIE: nothing before the deadline");
	poll_at(d);
	is_int(fb.level[8], 1, "PIE: IRQ8 raised at the periodic edge");
	is_int(deadline(), UINT64_MAX, "no deadline while IRQ8 waits for a C read");
	is_int(rd(0x0c), 0xc0, "C: IRQF and PF");
	is_int(fb.level[8], 0, "reading C drops IRQ8");
	is_int(rd(0x0c), 0x00, "C read clears the flags");
	ok(deadline() - d >= 976562 && deadline() - d <= 976563, "next period 976.5625 us later");
	poll_at(deadline());
	poll_at(fb.mono + 5 * NS / 1000);
	is_int(fake_rises(&fb, 8), 2, "no new edge until C is read");
	rd(0x0c);
	wr(0x0a, 0x2f);                         /* 2 Hz */
	d = deadline();
	ok(d - fb.mono <= NS / 2 && d > fb.mono, "rate 15: period 500 ms");
	wr(0x0a, 0x20);
	wr(0x0b, 0x42);
	is_int(deadline(), UINT64_MAX, "rate 0: no periodic interrupt");
	is_int(fb.redundant_irq + fb.bad_irq, 0, "IRQ8 driven only on changes");

	/* PF is set without PIE too, and raises nothing. */
	fresh();
	rd(0x0c);
	fb.mono += 2 * NS / 1000;
	is_int(rd(0x0c), 0x40, "PF set after 2 ms without PIE, no IRQF");
	is_int(fb.nedges, 0, "no IRQ8 without PIE");
	wr(0x0a, 0x20);
	rd(0x0c);
	fb.mono += 2 * NS / 1000;
	is_int(rd(0x0c), 0x00, "rate 0: no PF");

	/* Update-ended. */
	fresh();
	wr(0x0a, 0x20);
	wr(0x0b, 0x12);
	is_int(deadline(), boundary(0), "UIE: deadline at the next second");
	poll_at(boundary(0));
	is_int(fb.level[8], 1, "UIE: IRQ8 at the update");
	is_int(rd(0x0c), 0x90, "C: IRQF and UF");
	is_int(rd(0x00), 0x06, "the update brought second 06");
	is_int(deadline(), boundary(1), "UIE: next second");

	/* Enabling PIE with PF already set interrupts at once. */
	fresh();
	rd(0x0c);
	fb.mono += NS / 100;
	wr(0x0b, 0x42);
	is_int(fb.level[8], 1, "PIE enabled with PF pending: IRQ8 at once");

	/* Alarm at 17:30:10. */
	fresh();
	wr(0x0a, 0x20);
	wr(0x01, 0x10);
	wr(0x03, 0x30);
	wr(0x05, 0x17);
	wr(0x0b, 0x22);
	is_int(deadline(), boundary(4), "AIE: deadline at 17:30:10");
	poll_at(boundary(4) - 1);
	is_int(fb.level[8], 0, "AIE: not before");
	poll_at(boundary(4));
	is_int(fb.level[8], 1, "AIE: IRQ8 at the alarm time");
	is_int(rd(0x0c) & 0xa0, 0xa0, "C: IRQF and AF");
	ok(deadline() > boundary(4) + 86000 * NS, "AIE: next alarm a day later");
	wr(0x01, 0xc0);
	wr(0x03, 0xc0);
	wr(0x05, 0xc0);
	is_int(deadline(), boundary(5), "don't-care alarm: every second");
	wr(0x01, 0x00);
	wr(0x03, 0xc0);
	wr(0x05, 0xc0);
	is_int(deadline(), boundary(54), "alarm xx:xx:00: the next full minute");
	wr(0x05, 0x25);
	is_int(deadline(), UINT64_MAX, "an impossible alarm hour never fires");
	wr(0x05, 0xc0);
	ok(deadline() != UINT64_MAX, "don't-care alarm hour: fires again");
	wr(0x0b, 0xa2);
	is_int(deadline(), UINT64_MAX, "no alarm interrupts while SET");
}

/* Random accesses. Invariants: one clock read per access (two only on the
 * first time access), poll reads no clock, IRQ8 driven only on changes,
 * and after forcing a mode the time registers hold valid values. */
static void test_fuzz(void)
{
	uint64_t seed = 0x146818;
	unsigned too_many = 0, poll_reads = 0, invalid = 0;

	fresh();
	for (int i = 0; i < 100000; i++) {
		uint64_t r = fake_rand(&seed);
		unsigned before = fb.clock_reads, size = 1u << ((r >> 16) % 3);
		unsigned allowed = fb.real_reads == 0 ? 2 : 1;  /* first time access */
		uint16_t port = (r >> 8) & 1 ? 0x71 : 0x70;

		fb.mono += (r >> 40) % 8 == 0 ? (r >> 20) % (3600 * NS) : (r >> 20) % 3000000;
		switch (r % 5) {
		case 0:
			fake_out(&rtc, &fb, 0x70, size, (uint32_t)(r >> 24) & 0xbf);
			break;
		case 1:
			fake_out(&rtc, &fb, port, size, (uint32_t)(r >> 24));
			break;
		case 2:
			fake_in(&rtc, &fb, port, size);
			break;
		case 3:
			if (vmm_dev_rtc.next_deadline(rtc.state) <= fb.mono) {
				vmm_dev_rtc.poll(rtc.state, &fb.bus, fb.mono);
				if (fb.clock_reads != before)
					poll_reads++;
			}
			break;
		default:
			if ((r >> 24) % 50 == 0) {
				uint8_t b = (r >> 32) & 1 ? 0x06 : 0x02, v;

				wr(0x0b, b);
				fb.mono += NS;  /* an update normalises what was written */
				before = fb.clock_reads;
				v = rd(0x00);
				invalid += b == 0x02 ? ((v >> 4) > 5 || (v & 15) > 9) : v > 59;
				v = rd(0x04);
				invalid += b == 0x02 ? ((v >> 4) > 2 || (v & 15) > 9) : v > 23;
				v = rd(0x08);
				invalid += b == 0x02 ? (v == 0 || v > 0x12) : (v == 0 || v > 12);
				v = rd(0x07);
				invalid += v == 0;
				v = rd(0x06);
				invalid += v == 0 || v > 7;
				if (fb.clock_reads - before > 5)
					too_many++;
				continue;
			}
			break;
		}
		if (fb.clock_reads - before > allowed)
			too_many++;
	}
	is_int(too_many, 0, "fuzz: one clock read per access");
	is_int(poll_reads, 0, "fuzz: poll reads no clock");
	is_int(invalid, 0, "fuzz: time registers always valid in BCD and binary");
	is_int(fb.real_reads, 1, "fuzz: realtime read once in the whole run");
	is_int(fb.redundant_irq + fb.bad_irq, 0, "fuzz: IRQ8 driven only on changes");
}

int main(void)
{
	test_registers();
	test_civil();
	test_leap_and_writes();
	test_uip();
	test_interrupts();
	test_fuzz();
	fake_dev_free(&rtc);
	return tap_done();
}
