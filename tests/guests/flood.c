/*
 * flood.c - floods the output ports: 10000 bytes to COM1 without waiting
 * for the transmitter, 5000 to the debug console (0xe9), string I/O
 * (rep outsb, 4 KiB per instruction) to both, an annotation of 20000 bytes
 * with no newline until the end, 500 short annotations, and NUL and
 * control bytes everywhere. rrvm must pass everything on, record it, replay
 * it exactly and index it with bounded memory.
 */
#include "hostile.h"

static uint8_t block[4096];

static void rep_outsb(uint16_t port, const void *buf, uint64_t n)
{
	__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t n = 0, seed = 42;

	kernel_init();
	for (unsigned i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i % 7 == 6 ? '\n' : hostile_rand(&seed));
	for (unsigned i = 0; i < 10000; i++, n++)
		outb(COM1_BASE, (uint8_t)("flood\n\0\r\x1b"[i % 9]));
	for (unsigned i = 0; i < 5000; i++, n++)
		outb(DEBUG_CONSOLE_PORT, (uint8_t)(i % 3 ? 'x' : '\n'));
	rep_outsb(COM1_BASE, block, sizeof(block));
	rep_outsb(DEBUG_CONSOLE_PORT, block, sizeof(block));
	n += 2 * sizeof(block);
	for (unsigned i = 0; i < 20000; i++, n++)
		outb(RRVM_PORT, (uint8_t)('a' + i % 26));
	outb(RRVM_PORT, '\n');
	for (unsigned i = 0; i < 500; i++, n += 3)
		hostile_annotate(i % 2 ? "x" : "\x01\x7f");
	rep_outsb(RRVM_PORT, block, sizeof(block));
	n += sizeof(block);
	kprintf("\n");
	hostile_done("flood", n);
}
