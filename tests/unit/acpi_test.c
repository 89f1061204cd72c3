/*
 * acpi_test.c — the ACPI tables (vmm/acpi.c) built into a RAM buffer and
 * read back the way an operating system finds them (scan for the RSDP,
 * follow RSDT and XSDT, check every checksum), the MADT's entries, the
 * FADT's PM timer block; and the PM registers (vmm/dev_acpipm.c): the
 * timer's rate and width from the one clock, one clock read per read.
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/internal.h"

#define RAM (4u << 20)

static uint32_t r32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int sum_ok(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static void test_tables(void)
{
	uint8_t *ram = calloc(1, RAM);
	struct vmm_error err;
	uint64_t rsdp = 0;
	const uint8_t *rsdt, *xsdt, *madt = NULL, *fadt = NULL;

	is_int(vmm_acpi_build(ram, RAM, &err), 0, "tables built");
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8)) {
			rsdp = a;
			break;
		}
	ok(rsdp != 0, "RSDP found by scanning 0xe0000-0xfffff (0x%llx)", (unsigned long long)rsdp);
	ok(sum_ok(ram + rsdp, 20) && sum_ok(ram + rsdp, 36), "RSDP checksums (1.0 and extended)");
	is_int(ram[rsdp + 15], 2, "ACPI 2.0 RSDP");
	rsdt = ram + r32(ram + rsdp + 16);
	xsdt = ram + r32(ram + rsdp + 24);
	ok(!memcmp(rsdt, "RSDT", 4) && sum_ok(rsdt, r32(rsdt + 4)), "RSDT");
	ok(!memcmp(xsdt, "XSDT", 4) && sum_ok(xsdt, r32(xsdt + 4)), "XSDT");
	is_int((r32(rsdt + 4) - 36) / 4, 2, "two tables listed");
	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *t = ram + r32(rsdt + 36 + 4 * i);
		ok(sum_ok(t, r32(t + 4)), "%.4s checksum", (const char *)t);
		is_int(r32(xsdt + 36 + 8 * i), r32(rsdt + 36 + 4 * i), "XSDT lists it too");
		if (!memcmp(t, "APIC", 4))
			madt = t;
		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	ok(madt && fadt, "MADT and FADT present");
	if (madt) {
		unsigned lapics = 0, ioapics = 0, irq0 = 0, sci = 0;
		is_int(r32(madt + 36), 0xfee00000u, "MADT: local APIC address");
		for (const uint8_t *e = madt + 44; e < madt + r32(madt + 4); e += e[1]) {
			if (e[0] == 0 && (r32(e + 4) & 1))
				lapics++;
			if (e[0] == 1 && r32(e + 4) == 0xfec00000u && r32(e + 8) == 0)
				ioapics++;
			if (e[0] == 2 && e[3] == 0 && r32(e + 4) == 2)
				irq0++;
			if (e[0] == 2 && e[3] == 9 && r32(e + 4) == 9 && e[8] == 0xd)
				sci++;
			if (e[1] == 0)
				break;
		}
		ok(lapics == 1 && ioapics == 1, "one local APIC, the I/O APIC at 0xfec00000");
		ok(irq0 == 1 && sci == 1, "overrides: IRQ0 -> GSI 2, IRQ9 level");
	}
	if (fadt) {
		const uint8_t *facs = ram + r32(fadt + 36), *dsdt = ram + r32(fadt + 40);
		is_int(r32(fadt + 76), 0x608, "FADT: PM timer at port 0x608");
		is_int(fadt[91], 4, "PM_TMR_LEN 4");
		is_int(fadt[46], 9, "SCI on IRQ 9");
		ok(!memcmp(facs, "FACS", 4) && ((uintptr_t)(facs - ram) & 63) == 0, "FACS, 64-byte aligned");
		ok(!memcmp(dsdt, "DSDT", 4) && sum_ok(dsdt, r32(dsdt + 4)), "DSDT");
	}
	is_int(vmm_acpi_build(ram, 0xf0000, &err), -EINVAL, "RAM below 1 MiB: refused");
	free(ram);
}

static void test_pm(void)
{
	struct fake_bus fb;
	struct fake_dev d;
	uint32_t t0, t1;

	fake_bus_init(&fb);
	fake_dev_init(&d, &vmm_dev_acpipm);
	fb.mono = 1000000000;
	t0 = fake_in(&d, &fb, 0x608, 4);
	is_int(fb.clock_reads, 1, "a timer read reads the clock once");
	fb.mono += 1000000;
	t1 = fake_in(&d, &fb, 0x608, 4);
	is_int((t1 - t0) & 0xffffff, 3579, "1 ms is 3579 ticks at 3.579545 MHz");
	ok(t0 < (1u << 24) && t1 < (1u << 24), "24 bits");
	fb.mono += 5ull * 1000000000;
	ok(fake_in(&d, &fb, 0x608, 4) < (1u << 24), "wraps at 24 bits");
	fb.clock_reads = 0;
	is_int(fake_in(&d, &fb, 0x604, 2) & 1, 1, "PM1 control: SCI_EN (always ACPI mode)");
	fake_out(&d, &fb, 0x602, 2, 0x0121);
	is_int(fake_in(&d, &fb, 0x602, 2), 0x0121, "PM1 enable reads back");
	fake_out(&d, &fb, 0x604, 2, 0x3c00);
	is_int(fake_in(&d, &fb, 0x604, 2), 0x1c01, "sleep request dropped, SLP_TYP kept");
	is_int(fake_in(&d, &fb, 0x600, 2), 0, "PM1 status clear");
	is_int(fb.clock_reads, 0, "other registers read no clock");
	fake_dev_free(&d);
}

int main(void)
{
	test_tables();
	test_pm();
	return tap_done();
}
