/*
 * dev_fwcfg.c — QEMU's firmware configuration device (fw_cfg) on ports
 * 0x510 (16-bit selector) and 0x511 (data, read byte by byte), the way
 * kernels written for `qemu -kernel` ask it for the CPU count, the RAM
 * size and the command line.
 *
 * Items, as QEMU numbers and encodes them (docs/specs/fw_cfg.rst):
 * signature "QEMU" (0x0000), ID 1: traditional interface only, no DMA
 * (0x0001), RAM size (0x0003, 64-bit), number of CPUs (0x0005) and maximum
 * CPUs (0x000f), 16-bit, both 1; the kernel command line's size and bytes
 * (0x0014, 0x0015: the arguments after the kernel's path, NUL-terminated,
 * QEMU's -append) for a kernel booted by the Linux boot protocol only: for
 * a Multiboot kernel QEMU 7.2 has no command-line items (its command line
 * is in the Multiboot information; measured with samples/apic.elf), and
 * neither has rrvm; IRQ0 override (0x8002, 1); the file directory (0x0019)
 * with the files "etc/boot-fail-wait" (QEMU's default reboot timeout, -1
 * as 32-bit little-endian) and "etc/e820" (the memory map, 20-byte
 * entries as QEMU's). Everything a read can return is computed from the
 * state block, which holds the configuration (RAM size, command line) as
 * plain bytes so that a saved machine restores exactly.
 *
 * A selector with no item reads as zeros, as QEMU's does; writes to the
 * data port are ignored (QEMU since 2.4). Both leave a --trace-io line.
 */
#include <string.h>

#include "vmm/devices.h"

#define FWCFG_PORT_SEL 0x510
#define FWCFG_PORT_DATA 0x511
#define FWCFG_CMDLINE_MAX 4096
#define FWCFG_FILE_FIRST 0x20

enum {
	FW_SIGNATURE = 0x0000, FW_ID = 0x0001, FW_RAM_SIZE = 0x0003, FW_NB_CPUS = 0x0005,
	FW_MAX_CPUS = 0x000f, FW_CMDLINE_SIZE = 0x0014, FW_CMDLINE_DATA = 0x0015,
	FW_FILE_DIR = 0x0019, FW_IRQ0_OVERRIDE = 0x8002,
};

enum { FILE_BOOT_FAIL_WAIT, FILE_E820, FILE_COUNT };

static const char *const file_names[FILE_COUNT] = { "etc/boot-fail-wait", "etc/e820" };

struct fwcfg_state {
	uint16_t selector;
	uint32_t offset;                /* next byte of the selected item */
	uint64_t ram_size;
	uint8_t linux_boot;             /* serve the command-line items */
	uint32_t cmdline_len;           /* bytes in cmdline, without the NUL */
	char cmdline[FWCFG_CMDLINE_MAX];
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* The memory map, as vmm/multiboot.c gives it: low RAM, the legacy hole
 * (reserved), RAM from 1 MiB. */
static unsigned e820(const struct fwcfg_state *s, uint8_t *out)
{
	const uint64_t ent[3][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x100000 - 0x9fc00, 2 },
		{ 0x100000, s->ram_size - 0x100000, 1 },
	};

	for (unsigned i = 0; i < 3 && out; i++) {
		put_le(out + 20 * i, ent[i][0], 8);
		put_le(out + 20 * i + 8, ent[i][1], 8);
		put_le(out + 20 * i + 16, ent[i][2], 4);
	}
	return 3 * 20;
}

static unsigned file_size(const struct fwcfg_state *s, unsigned f)
{
	return f == FILE_BOOT_FAIL_WAIT ? 4 : e820(s, NULL);
}

/* Byte off of the selected item; false past its end or for no item. */
static bool item_byte(const struct fwcfg_state *s, uint16_t sel, uint32_t off, uint8_t *b)
{
	uint8_t buf[64];
	unsigned len;

	switch (sel) {
	case FW_SIGNATURE: memcpy(buf, "QEMU", 4); len = 4; break;
	case FW_ID: put_le(buf, 1, 4); len = 4; break;
	case FW_RAM_SIZE: put_le(buf, s->ram_size, 8); len = 8; break;
	case FW_NB_CPUS: case FW_MAX_CPUS: put_le(buf, 1, 2); len = 2; break;
	case FW_CMDLINE_SIZE:
		if (!s->linux_boot)
			return false;
		put_le(buf, s->cmdline_len + 1, 4);
		len = 4;
		break;
	case FW_IRQ0_OVERRIDE: put_le(buf, 1, 4); len = 4; break;
	case FW_CMDLINE_DATA:
		if (!s->linux_boot || off > s->cmdline_len)
			return false;
		*b = off < s->cmdline_len ? (uint8_t)s->cmdline[off] : 0;
		return true;
	case FW_FILE_DIR: {
		/* A 32-bit big-endian count, then 64 bytes per file: size
		 * (BE32), selector (BE16), reserved, name (56 bytes). */
		uint32_t entry = off < 4 ? 0 : (off - 4) / 64, eo = off < 4 ? off : (off - 4) % 64;

		if (off < 4) {
			put_be(buf, FILE_COUNT, 4);
			*b = buf[off];
			return true;
		}
		if (entry >= FILE_COUNT)
			return false;
		memset(buf, 0, 64);
		put_be(buf, file_size(s, entry), 4);
		put_be(buf + 4, FWCFG_FILE_FIRST + entry, 2);
		memcpy(buf + 8, file_names[entry], strlen(file_names[entry]));
		*b = buf[eo];
		return true;
	}
	case FWCFG_FILE_FIRST + FILE_BOOT_FAIL_WAIT: put_le(buf, 0xffffffffu, 4); len = 4; break;
	case FWCFG_FILE_FIRST + FILE_E820: len = e820(s, buf); break;
	default:
		return false;
	}
	if (off >= len)
		return false;
	*b = buf[off];
	return true;
}

static bool item_exists(const struct fwcfg_state *s, uint16_t sel)
{
	uint8_t b;

	return item_byte(s, sel, 0, &b);
}

static void fwcfg_reset(void *state)
{
	memset(state, 0, sizeof(struct fwcfg_state));
}

static void fwcfg_access(void *state, const struct vmm_bus *bus, struct vmm_io *io)
{
	struct fwcfg_state *s = state;

	if (io->addr == FWCFG_PORT_SEL) {
		if (!io->write) {
			io->value = 0;  /* the selector port is write-only */
			return;
		}
		s->selector = (uint16_t)io->value;
		s->offset = 0;
		if (!item_exists(s, s->selector))
			vmm_dev_trace(bus, "fw_cfg", "selector 0x%04x names no item: its data reads "
				      "as zeros", s->selector);
		return;
	}
	if (io->write) {
		vmm_dev_trace(bus, "fw_cfg", "write 0x%x to the data port ignored (item 0x%04x)",
			      (unsigned)io->value, s->selector);
		return;
	}
	/* The data port is 8 bits wide: wider reads see one byte, as QEMU's
	 * io port (it advances the offset once per access). */
	{
		uint8_t b = 0;

		if (item_byte(s, s->selector, s->offset, &b))
			s->offset++;
		io->value = b;
	}
}

void vmm_fwcfg_configure(void *fwcfg_state, uint64_t ram_size, const char *cmdline, bool linux_boot)
{
	struct fwcfg_state *s = fwcfg_state;
	const char *args = cmdline ? strchr(cmdline, ' ') : NULL;
	size_t n;

	/* The Multiboot command line starts with the kernel's path; QEMU's
	 * fw_cfg command line is only what follows it (-append). */
	args = args ? args + 1 : "";
	n = strlen(args);
	if (n > FWCFG_CMDLINE_MAX - 1)
		n = FWCFG_CMDLINE_MAX - 1;
	s->ram_size = ram_size;
	s->linux_boot = linux_boot;
	s->cmdline_len = (uint32_t)n;
	memcpy(s->cmdline, args, n);
	s->cmdline[n] = 0;
}

const struct vmm_device vmm_dev_fwcfg = {
	.name = "fw_cfg",
	.ranges = { { VMM_SPACE_PIO, FWCFG_PORT_SEL, 2 } },
	.state_size = sizeof(struct fwcfg_state),
	.reset = fwcfg_reset,
	.access = fwcfg_access,
};
