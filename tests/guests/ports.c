/*
 * ports.c - reads and writes every I/O port: a byte in and a byte out at
 * each of the 65536 ports, then 16- and 32-bit accesses over the legacy
 * range 0-0x3ff. Writes to isa-debug-exit (0xf4-0xf7, iosize 4 as in QEMU)
 * end the run, so they are left out until the final one. Whatever the devices answer is ignored; what matters is
 * that rrvm survives every access and replays them exactly. Interrupts
 * stay off, so the PIT and RTC programming a stray write does is harmless.
 */
#include "hostile.h"

/* Would an access of size bytes at port touch isa-debug-exit? */
static int hits_exit(uint32_t port, uint32_t size)
{
	return port < DEBUG_EXIT_PORT + 4 && port + size > DEBUG_EXIT_PORT;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t n = 0, sum = 0;

	kernel_init();
	for (uint32_t p = 0; p < 0x10000; p++) {
		sum += inb((uint16_t)p);
		if (hits_exit(p, 1))
			continue;
		outb((uint16_t)p, (uint8_t)(p * 7));
		n += 2;
	}
	for (uint32_t p = 0; p < 0x400; p += 2) {
		sum += inw((uint16_t)p) + inl((uint16_t)p);
		if (hits_exit(p, 4))
			continue;
		outw((uint16_t)p, (uint16_t)p);
		outl((uint16_t)p, p * 0x01010101u);
		n += 4;
	}
	kernel_init();  /* the writes above reprogrammed COM1 and the PIC */
	kprintf("ports: read sum %lx\n", (unsigned long)sum);
	kprintf("ports: done, %lu accesses\n", (unsigned long)n);
	outb(DEBUG_EXIT_PORT, 0);       /* the last port: ends the run */
	for (;;)
		cpu_hlt();
}
