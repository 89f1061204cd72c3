/*
 * fwcfg_test.c — unit tests of fw_cfg (vmm/dev_fwcfg.c), no KVM: the
 * items QEMU's kernels read (signature, ID, CPU count, RAM size, command
 * line for the Linux boot protocol only), the file directory and a file found through it, garbage
 * selectors, reads past an item's end, data-port writes, and a saved
 * state block that restores the configuration.
 */
#include <stdlib.h>

#include "tests/unit/tap.h"
#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

static struct fake_bus fb;
static struct fake_dev d;

static void sel(uint16_t s)
{
	fake_out(&d, &fb, 0x510, 2, s);
}

static uint8_t byte(void)
{
	return fake_inb(&d, &fb, 0x511);
}

static uint64_t le(unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)byte() << (8 * i);
	return v;
}

static uint64_t be(unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | byte();
	return v;
}

int main(void)
{
	char buf[128];
	unsigned n;

	fake_bus_init(&fb);
	fake_dev_init(&d, &vmm_dev_fwcfg);
	vmm_fwcfg_configure(d.state, 64u << 20, "samples/fwcfg.elf alpha beta", true);

	sel(0);
	for (n = 0; n < 4; n++)
		buf[n] = (char)byte();
	buf[4] = 0;
	is_str(buf, "QEMU", "signature");
	is_int(byte(), 0, "past the signature: zeros");
	sel(1);
	is_int(le(4), 1, "ID: traditional interface, no DMA");
	sel(5);
	is_int(le(2), 1, "one CPU");
	sel(0xf);
	is_int(le(2), 1, "max CPUs 1");
	sel(3);
	is_int(le(8), 64u << 20, "RAM size");
	sel(0x14);
	is_int(le(4), 11, "command line size: 'alpha beta' and its NUL");
	sel(0x15);
	for (n = 0; n < 11; n++)
		buf[n] = (char)byte();
	is_str(buf, "alpha beta", "command line: what follows the kernel path (QEMU's -append)");
	sel(0x8002);
	is_int(le(4), 1, "IRQ0 override");

	sel(0x19);
	is_int(be(4), 2, "file directory: two files");
	{
		unsigned found = 0, size = 0;
		uint16_t select = 0;

		for (unsigned f = 0; f < 2; f++) {
			uint32_t sz = (uint32_t)be(4);
			uint16_t s = (uint16_t)be(2);
			be(2);
			for (n = 0; n < 56; n++)
				buf[n] = (char)byte();
			if (!strcmp(buf, "etc/boot-fail-wait"))
				found++, size = sz, select = s;
		}
		ok(found == 1 && size == 4 && select >= 0x20, "etc/boot-fail-wait listed (0x%x)", select);
		sel(select);
		is_int(le(4), 0xffffffffu, "its contents: -1, QEMU's default");
	}
	sel(0x21);
	is_int(le(8), 0, "etc/e820: first entry at 0");
	is_int(le(8), 0x9fc00, "640K less the EBDA");

	fb.bus.trace_io = false;
	sel(0x4242);
	is_int(le(4), 0, "a garbage selector reads zeros");
	fake_outb(&d, &fb, 0x511, 0x55);
	sel(0);
	is_int(byte(), 'Q', "data-port writes change nothing");
	is_int(fake_in(&d, &fb, 0x510, 2), 0, "the selector port reads nothing");
	{
		void *copy = malloc(vmm_dev_fwcfg.state_size);
		memcpy(copy, d.state, vmm_dev_fwcfg.state_size);
		vmm_dev_fwcfg.reset(d.state);
		memcpy(d.state, copy, vmm_dev_fwcfg.state_size);
		free(copy);
		sel(0x15);
		is_int(byte(), 'a', "a copied state block keeps the configuration");
	}
	vmm_fwcfg_configure(d.state, 64u << 20, "k.elf", true);
	sel(0x14);
	is_int(le(4), 1, "no arguments: size 1 (the NUL), as QEMU without -append");
	vmm_fwcfg_configure(d.state, 64u << 20, "k.elf a b", false);
	sel(0x14);
	is_int(le(4), 0, "Multiboot: no command-line items (QEMU 7.2 has none)");
	sel(0x15);
	is_int(byte(), 0, "its data reads nothing");
	is_int(fb.clock_reads, 0, "fw_cfg never reads the clock");
	fake_dev_free(&d);
	return tap_done();
}
