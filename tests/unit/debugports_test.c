/*
 * debugports_test.c — unit tests of isa-debug-exit (0xf4) and the debug
 * console (0xe9), of the device table (vmm/devices.c), and two properties
 * every device must have: random port/size/value sequences never crash or
 * return more bits than the access size, and a state copied with memcpy
 * (a checkpoint) behaves exactly like the original from then on.
 */
#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

static void test_debugexit(void)
{
	struct fake_bus fb;
	struct fake_dev d;

	fake_bus_init(&fb);
	fake_dev_init(&d, &vmm_dev_debugexit);
	fake_out(&d, &fb, 0xf4, 1, 0x12345603);
	ok(fb.nexits == 1 && fb.exits[0] == 0x03, "byte write: guest_exit(low byte)");
	fake_out(&d, &fb, 0xf4, 2, 0xabcd1234);
	ok(fb.nexits == 2 && fb.exits[1] == 0x1234, "word write: guest_exit(16 bits)");
	fake_out(&d, &fb, 0xf4, 4, 0xdeadbeef);
	ok(fb.nexits == 3 && fb.exits[2] == 0xdeadbeef, "dword write: guest_exit(32 bits)");
	fake_out(&d, &fb, 0xf7, 1, 0);
	ok(fb.nexits == 4 && fb.exits[3] == 0, "any port of 0xf4-0xf7, value 0 too");
	fake_out(&d, &fb, 0xf8, 1, 1);
	is_int(fb.nexits, 4, "0xf8 is not the device");
	is_int(fake_in(&d, &fb, 0xf4, 1), 0xff, "byte read: 0xff");
	is_int(fake_in(&d, &fb, 0xf5, 2), 0xffff, "word read: 0xffff");
	is_int(fake_in(&d, &fb, 0xf4, 4), 0xffffffff, "dword read: all ones");
	is_int(fb.nexits, 4, "reads do not exit");
	is_int(vmm_dev_debugexit.ranges[0].base, 0xf4, "range starts at 0xf4");
	is_int(vmm_dev_debugexit.ranges[0].len, 4, "iosize 4");
	fake_dev_free(&d);
}

static void test_debugcon(void)
{
	struct fake_bus fb;
	struct fake_dev d;

	fake_bus_init(&fb);
	fake_dev_init(&d, &vmm_dev_debugcon);
	fake_out(&d, &fb, 0xe9, 1, 'o');
	fake_out(&d, &fb, 0xe9, 2, 0x4b4b);
	fake_out(&d, &fb, 0xe9, 4, 0x0a0a0a0a);
	ok(fb.nout[1] == 3 && memcmp(fb.out[1], "oK\n", 3) == 0, "bytes to the debug console, low byte of wide writes");
	is_int(fb.nout[0], 0, "nothing on the serial stream");
	is_int(fake_in(&d, &fb, 0xe9, 1), 0xe9, "read returns 0xe9 (bochs detection)");
	is_int(fake_in(&d, &fb, 0xe9, 4), 0xe9, "wide read: 0xe9 zero-extended");
	is_int(fb.clock_reads + fb.nedges + fb.nexits, 0, "no clock, irq or exit");
	fake_dev_free(&d);
}

static void test_rrvmport(void)
{
	struct fake_bus fb;
	struct fake_dev d;
	const char *a = "lock taken\nx";

	fake_bus_init(&fb);
	fake_dev_init(&d, &vmm_dev_rrvmport);
	for (const char *p = a; *p; p++)
		fake_out(&d, &fb, 0xe8, 1, (uint8_t)*p);
	is_int(fb.annotations, 1, "one finished annotation");
	ok(fb.nout[2] == 10 && memcmp(fb.out[2], "lock taken", 10) == 0, "its text, without the newline");
	fake_out(&d, &fb, 0xe8, 4, 0x100);      /* low byte 0: NUL ends it too */
	is_int(fb.annotations, 2, "NUL ends the second one");
	ok(fb.nout[2] == 11 && fb.out[2][10] == 'x', "second annotation is \"x\"");
	fake_out(&d, &fb, 0xe8, 1, '\n');
	is_int(fb.annotations, 2, "an empty annotation is not sent");
	for (int i = 0; i < 1000; i++)
		fake_out(&d, &fb, 0xe8, 1, 'y');
	fake_out(&d, &fb, 0xe8, 1, '\n');
	is_int(fb.annotations, 3, "an overlong annotation is sent once");
	is_int(fb.nout[2], 11 + 240, "cut at 240 bytes");
	is_int(fake_in(&d, &fb, 0xe8, 1), 'R', "reads 'R': running under rrvm");
	is_int(fb.nout[0] + fb.nout[1] + fb.clock_reads + fb.nedges + fb.nexits, 0,
	       "no console output, clock, irq or exit");
	fake_dev_free(&d);
}

static void test_table(void)
{
	static const char *const names[] = { "pic", "pit", "rtc", "uart", "debugexit", "debugcon",
					     "rrvm-port", "lapic", "ioapic", "fw_cfg", "acpi-pm" };
	static uint8_t owner[65536];
	unsigned overlap = 0, ranges = 0;

	is_int(vmm_device_count, 11, "eleven devices");
	for (unsigned i = 0; i < vmm_device_count && i < 11; i++)
		is_str(vmm_devices[i]->name, names[i], "device %u is %s", i, names[i]);
	ok(vmm_devices[0] == &vmm_dev_pic && vmm_devices[3] == &vmm_dev_uart, "table points at the devices");
	memset(owner, 0xff, sizeof(owner));
	for (unsigned i = 0; i < vmm_device_count; i++) {
		const struct vmm_device *d = vmm_devices[i];

		ok(d->state_size > 0 && d->reset && d->access, "%s: complete", d->name);
		ok((d->next_deadline == NULL) == (d->poll == NULL), "%s: deadline and poll together", d->name);
		for (unsigned r = 0; r < VMM_DEVICE_MAX_RANGES && d->ranges[r].space; r++) {
			if (d->ranges[r].space != VMM_SPACE_PIO)
				continue;
			ranges++;
			for (uint64_t p = d->ranges[r].base; p < d->ranges[r].base + d->ranges[r].len; p++) {
				if (p > 0xffff || owner[p] != 0xff)
					overlap++;
				else
					owner[p] = (uint8_t)i;
			}
		}
	}
	is_int(overlap, 0, "no port claimed twice");
	is_int(ranges, 12, "twelve port ranges in all");
	ok(owner[0x20] == 0 && owner[0xa1] == 0 && owner[0x4d1] == 0, "PIC ports");
	ok(owner[0x40] == 1 && owner[0x43] == 1 && owner[0x61] == 1, "PIT ports");
	ok(owner[0x70] == 2 && owner[0x71] == 2, "RTC ports");
	ok(owner[0x3f8] == 3 && owner[0x3ff] == 3 && owner[0x400] == 0xff, "COM1 ports");
	ok(owner[0xf4] == 4 && owner[0xf7] == 4 && owner[0xe9] == 5, "debug ports");
	ok(owner[0x510] == 9 && owner[0x511] == 9 && owner[0x512] == 0xff, "fw_cfg ports");
	ok(owner[0x600] == 10 && owner[0x63f] == 10, "ACPI PM ports");
}

#define TOO_WIDE 0xbad0bad0bad0bad0ull

/* One random step on device d. Returns a value that sums up what it did,
 * so that two runs can be compared, or TOO_WIDE. */
static uint64_t step(struct fake_dev *d, struct fake_bus *fb, uint64_t r)
{
	const struct vmm_device *dev = d->dev;
	unsigned nr = 0, size = 1u << ((r >> 8) % 3), rg, space;
	uint64_t port, v;

	while (nr < VMM_DEVICE_MAX_RANGES && dev->ranges[nr].space)
		nr++;
	rg = (unsigned)(r >> 12) % nr;
	port = dev->ranges[rg].base + (r >> 16) % (dev->ranges[rg].len + 1u);
	space = dev->ranges[rg].space;
	if (space == VMM_SPACE_MSR)
		size = 8;               /* rdmsr/wrmsr move 64 bits */
	fb->mono += (r >> 40) % 3000000;
	fb->real += (r >> 40) % 3000000;
	switch (r % 4) {
	case 0:
		v = fake_access(d, fb, space, false, port, size, 0);
		if (size < 8 && v >> (8 * size))
			return TOO_WIDE;
		return v;
	case 1:
		if (dev->poll && dev->next_deadline(d->state) <= fb->mono)
			dev->poll(d->state, &fb->bus, fb->mono);
		return dev->next_deadline ? dev->next_deadline(d->state) : 0;
	default:
		fake_access(d, fb, space, true, port, size, (uint32_t)(r >> 24));
		return fb->nedges * 7 + fb->nout[0] * 3 + fb->nout[1] + fb->nexits;
	}
}

static void test_all_devices(void)
{
	for (unsigned i = 0; i < vmm_device_count; i++) {
		const struct vmm_device *dev = vmm_devices[i];
		struct fake_bus fb1, fb2;
		struct fake_dev a, b;
		uint64_t seed = 0xdead0000 + i, seed2;
		unsigned wide = 0, diverged = 0;

		fake_bus_init(&fb1);
		fake_dev_init(&a, dev);
		fb1.mono = 1000000000;
		fb1.real = 1795282205000000000ull;
		for (int k = 0; k < 50000; k++)
			if (step(&a, &fb1, fake_rand(&seed)) == TOO_WIDE)
				wide++;
		is_int(wide, 0, "%s: random accesses never return more bits than asked", dev->name);

		/* Checkpoint by copy, then both run the same inputs. */
		fake_dev_init(&b, dev);
		memcpy(b.state, a.state, dev->state_size);
		fb2 = fb1;
		fb2.bus.ctx = &fb2;
		seed2 = seed;
		for (int k = 0; k < 20000; k++)
			if (step(&a, &fb1, fake_rand(&seed)) != step(&b, &fb2, fake_rand(&seed2)))
				diverged++;
		is_int(diverged, 0, "%s: a memcpy'd state behaves like the original", dev->name);
		ok(fb1.nedges == fb2.nedges && fb1.nout[0] == fb2.nout[0] && fb1.clock_reads == fb2.clock_reads,
		   "%s: same edges, output and clock reads", dev->name);
		fake_dev_free(&a);
		fake_dev_free(&b);
	}
}

int main(void)
{
	test_debugexit();
	test_debugcon();
	test_rrvmport();
	test_table();
	test_all_devices();
	return tap_done();
}
