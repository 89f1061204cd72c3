/*
 * acpi.c — the ACPI tables a PC's firmware leaves in memory, built into
 * guest RAM at boot: where an operating system looks for them, what it
 * needs to find the interrupt controllers and the PM timer, and nothing a
 * table interpreter would have to run.
 *
 * Layout, all in the firmware area 0xe0000-0xfffff (reserved in the memory
 * map, as a BIOS's): the RSDP (ACPI 2.0, 36 bytes) at 0xf0000 on a 16-byte
 * boundary in the range the specification says to scan; at 0xe0000 the
 * RSDT and XSDT (both listing FADT and MADT), the FADT (revision 3, 244
 * bytes) naming the PM1a event and control blocks and the PM timer at
 * ports 0x600/0x604/0x608 (dev_acpipm.c) with SCI on IRQ 9, the FACS, an
 * empty DSDT (no AML: no sleep states, no devices to enumerate), and the
 * MADT: the one local APIC (ID 0), the I/O APIC (ID 0, 0xfec00000, GSI
 * base 0), the ISA overrides IRQ0 -> GSI 2 (the PIT, as QEMU) and IRQ9
 * (SCI: level, active high), and LINT1 as NMI.
 */
#include <errno.h>
#include <string.h>

#include "vmm/internal.h"

#define TABLES 0xe0000ull

static void le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

/* The common 36-byte header; the checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, "RRVM  ", 6);            /* OEM ID */
	memcpy(t + 16, "RRVMPC  ", 8);          /* OEM table ID */
	le(t + 24, 1, 4);                       /* OEM revision */
	memcpy(t + 28, "RRVM", 4);              /* creator ID */
	le(t + 32, 1, 4);                       /* creator revision */
}

static void finish(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
		       (uint32_t)t[7] << 24;

	t[9] = 0;
	t[9] = checksum(t, len);
}

/* A Generic Address Structure for a port. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	g[0] = 1;               /* system I/O */
	g[1] = bits;
	g[2] = 0;
	g[3] = bits == 32 ? 3 : bits == 16 ? 2 : 1;     /* access size */
	le(g + 4, port, 8);
}

static uint32_t build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
	const uint16_t pm = VMM_ACPI_PM_BASE;

	header(t, "FACP", 244, 3);
	le(t + 36, facs, 4);
	le(t + 40, dsdt, 4);
	t[45] = 0;                              /* preferred PM profile: unspecified */
	le(t + 46, VMM_ACPI_SCI_IRQ, 2);
	le(t + 48, 0, 4);                       /* SMI_CMD 0: always in ACPI mode */
	le(t + 56, pm, 4);                      /* PM1a_EVT_BLK */
	le(t + 64, pm + 4, 4);                  /* PM1a_CNT_BLK */
	le(t + 76, pm + 8, 4);                  /* PM_TMR_BLK */
	t[88] = 4;                              /* PM1_EVT_LEN */
	t[89] = 2;                              /* PM1_CNT_LEN */
	t[91] = 4;                              /* PM_TMR_LEN */
	le(t + 96, 0xfff, 2);                   /* no C2 */
	le(t + 98, 0x3e9, 2);                   /* no C3 */
	t[108] = 0x32;                          /* CMOS century register */
	le(t + 109, 1, 2);                      /* IAPC_BOOT_ARCH: legacy devices */
	/* WBINVD, PROC_C1, SLP_BUTTON (none); TMR_VAL_EXT clear: 24 bits. */
	le(t + 112, (1u << 0) | (1u << 2) | (1u << 5), 4);
	le(t + 132, facs, 8);                   /* X_FIRMWARE_CTRL */
	le(t + 140, dsdt, 8);                   /* X_DSDT */
	gas_io(t + 148, pm, 32);                /* X_PM1a_EVT_BLK */
	gas_io(t + 172, pm + 4, 16);            /* X_PM1a_CNT_BLK */
	gas_io(t + 208, pm + 8, 32);            /* X_PM_TMR_BLK */
	finish(t);
	return 244;
}

static uint32_t build_madt(uint8_t *t)
{
	uint8_t *e = t + 44;

	le(t + 36, 0xfee00000u, 4);             /* local APIC address */
	le(t + 40, 1, 4);                       /* PCAT_COMPAT: there are 8259s */
	/* Processor local APIC: UID 0, APIC ID 0, enabled. */
	e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0;
	le(e + 4, 1, 4);
	e += 8;
	/* I/O APIC: ID 0, address, GSI base 0. */
	e[0] = 1, e[1] = 12, e[2] = 0, e[3] = 0;
	le(e + 4, 0xfec00000u, 4);
	le(e + 8, 0, 4);
	e += 12;
	/* Interrupt source overrides: ISA bus 0. */
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0;
	le(e + 4, 2, 4);
	le(e + 8, 0, 2);                        /* conforms to the bus: edge, high */
	e += 10;
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = VMM_ACPI_SCI_IRQ;
	le(e + 4, VMM_ACPI_SCI_IRQ, 4);
	le(e + 8, 0xd, 2);                      /* level, active high */
	e += 10;
	/* Local APIC NMI: all processors, LINT1. */
	e[0] = 4, e[1] = 6, e[2] = 0xff;
	le(e + 3, 0, 2);
	e[5] = 1;
	e += 6;
	header(t, "APIC", (uint32_t)(e - t), 1);
	finish(t);
	return (uint32_t)(e - t);
}

int vmm_acpi_build(uint8_t *ram, uint64_t ram_size, struct vmm_error *err)
{
	uint64_t at = TABLES, rsdt, xsdt, fadt, facs, dsdt, madt;
	uint8_t *r;

	if (ram_size < VMM_FW_AREA_END) {
		vmm_error_set(err, "guest RAM of %llu bytes has no room for the ACPI tables",
			      (unsigned long long)ram_size);
		return -EINVAL;
	}
	memset(ram + VMM_FW_AREA_BASE, 0, VMM_FW_AREA_END - VMM_FW_AREA_BASE);
	rsdt = at, at += 36 + 2 * 4;
	xsdt = at = (at + 7) & ~7ull, at += 36 + 2 * 8;
	fadt = at = (at + 15) & ~15ull, at += build_fadt(ram + at, 0, 0);
	facs = at = (at + 63) & ~63ull, at += 64;
	dsdt = at, at += 36;
	madt = at = (at + 15) & ~15ull, at += build_madt(ram + at);

	/* The FADT again, now that the FACS and DSDT have addresses. */
	build_fadt(ram + fadt, (uint32_t)facs, (uint32_t)dsdt);
	memcpy(ram + facs, "FACS", 4);
	le(ram + facs + 4, 64, 4);
	ram[facs + 32] = 1;                     /* version */
	header(ram + dsdt, "DSDT", 36, 2);
	finish(ram + dsdt);

	header(ram + rsdt, "RSDT", 36 + 2 * 4, 1);
	le(ram + rsdt + 36, fadt, 4);
	le(ram + rsdt + 40, madt, 4);
	finish(ram + rsdt);
	header(ram + xsdt, "XSDT", 36 + 2 * 8, 1);
	le(ram + xsdt + 36, fadt, 8);
	le(ram + xsdt + 44, madt, 8);
	finish(ram + xsdt);

	r = ram + VMM_ACPI_RSDP;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "RRVM  ", 6);
	r[15] = 2;                              /* ACPI 2.0+ */
	le(r + 16, rsdt, 4);
	le(r + 20, 36, 4);
	le(r + 24, xsdt, 8);
	r[8] = checksum(r, 20);                 /* ACPI 1.0 part */
	r[32] = checksum(r, 36);                /* extended checksum */
	return 0;
}
